// Every time, ᾱ, ρ and coefficient against the 30-digit mpmath reference (tools/reference/):
// ≤ 1e-13 relative, or ≤ 1e-15 absolute for entries below 1e-2 in magnitude.

import assert from "node:assert/strict";
import { compareFixture, FIXTURE_SDES, loadFixture } from "../tools/reference/compare.ts";

for (const sde of FIXTURE_SDES) {
  Deno.test(`${sde}: every grid, schedule value and table matches the 30-digit reference`, async () => {
    const fixture = await loadFixture(sde);
    assert.ok(fixture.cases.length >= 25, "5 grids × 5 step counts");
    const worst = compareFixture(fixture);
    for (
      const key of [
        "timesteps",
        "alphaBar",
        "rho",
        "ddim",
        "tab",
        "rhoab",
        "logrho",
        "ipndm",
        "euler",
        "ei-score",
        "sddim",
        "rhork",
      ]
    ) {
      assert.ok(worst.has(key), `fixture has ${key}`);
    }
    const bad = [...worst.entries()].filter(([, w]) => w.failures > 0);
    assert.deepEqual(
      bad.map(([k, w]) =>
        `${k}: ${w.failures}/${w.count} off, worst ${
          w.rel.toExponential(2)
        } at ${w.where} (${w.actual} vs ${w.expected})`
      ),
      [],
    );
  });
}
