/** The float64 SDE schedules of src/reference against their defining formulas (docs/CONVENTIONS.md). */
import assert from "node:assert/strict";
import { referenceSde } from "../testing/reference/mod.ts";

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const grid = (lo: number, hi: number, n: number) =>
  Array.from(
    { length: n + 1 },
    (_, i) => Math.exp(Math.log(lo) + (i / n) * (Math.log(hi) - Math.log(lo))),
  );

Deno.test("vp-linear: log ᾱ = −(β₁−β₀)t²/2 − β₀t, σ² = 1 − ᾱ, ρ = σ/α", () => {
  const sde = referenceSde({ name: "vp-linear" });
  assert.deepEqual(sde.spec, { name: "vp-linear", betaMin: 0.1, betaMax: 20 });
  assert.equal(sde.tStart, 1);
  assert.equal(sde.tEnd, 1e-3);
  for (const t of grid(1e-9, 1, 200)) {
    const logAb = -(20 - 0.1) * t * t / 2 - 0.1 * t;
    assert.ok(rel(sde.alpha(t) ** 2, Math.exp(logAb)) < 1e-15, `ᾱ at ${t}`);
    assert.ok(
      Math.abs(sde.alpha(t) ** 2 + sde.sigma(t) ** 2 - 1) < 4e-16,
      `α² + σ² at ${t}`,
    );
    assert.ok(rel(sde.sigma(t) ** 2, -Math.expm1(logAb)) < 1e-14, `σ² at ${t}`);
    assert.ok(
      rel(sde.rho(t), sde.sigma(t) / sde.alpha(t)) < 1e-15,
      `ρ at ${t}`,
    );
  }
  // σ² ≈ β₀t for tiny t: no cancellation.
  assert.ok(rel(sde.sigma(1e-12) ** 2, 0.1e-12) < 1e-9);
  // docs: ρ(1) ≈ 152
  assert.ok(Math.abs(sde.rho(1) - 152) < 1);
});

Deno.test("vp-linear: t(ρ) inverts ρ(t) (MATH.md §2 closed form), also for other β", () => {
  for (const [b0, b1] of [[0.1, 20], [0.01, 5], [1, 1]]) {
    const sde = referenceSde({ name: "vp-linear", betaMin: b0, betaMax: b1 });
    for (const t of grid(1e-9, 1, 200)) {
      assert.ok(rel(sde.tOfRho(sde.rho(t)), t) < 1e-14, `β=${b0},${b1} t=${t}`);
      if (b1 > b0) {
        const tmp = 2 * (b1 - b0) * Math.log1p(sde.rho(t) ** 2);
        const math = tmp / ((Math.sqrt(b0 * b0 + tmp) + b0) * (b1 - b0));
        assert.ok(rel(sde.tOfRho(sde.rho(t)), math) < 1e-14);
      }
    }
  }
});

Deno.test("vp-cosine: ᾱ = f(t)/f(0), σ² = 1 − ᾱ, t(ρ) inverts ρ(t)", () => {
  const sde = referenceSde({ name: "vp-cosine" });
  const s = 0.008;
  const f = (t: number) => Math.cos(((t + s) / (1 + s)) * Math.PI / 2) ** 2;
  assert.equal(sde.tStart, 0.9946);
  for (const t of grid(1e-9, 0.9999, 300)) {
    assert.ok(rel(sde.alpha(t) ** 2, f(t) / f(0)) < 1e-11, `ᾱ at ${t}`);
    assert.ok(
      Math.abs(sde.alpha(t) ** 2 + sde.sigma(t) ** 2 - 1) < 4e-16,
      `α² + σ² at ${t}`,
    );
    assert.ok(rel(sde.tOfRho(sde.rho(t)), t) < 1e-13, `t(ρ(t)) at ${t}`);
    if (t > 0.1) {
      assert.ok(rel(sde.sigma(t) ** 2, 1 - f(t) / f(0)) < 1e-12, `σ² at ${t}`);
    }
  }
  // docs: ρ(0.9946) ≈ 118.7 (the closed form gives 118.82)
  assert.ok(Math.abs(sde.rho(0.9946) - 118.7) < 0.2);
  assert.ok(rel(sde.rho(0.9946), Math.sqrt(f(0) / f(0.9946) - 1)) < 1e-12);
});

Deno.test("ve: σ = σ_min (σ_max/σ_min)^t, α ≡ 1, ρ = σ", () => {
  const sde = referenceSde({ name: "ve" });
  assert.deepEqual(sde.spec, { name: "ve", sigmaMin: 0.01, sigmaMax: 50 });
  assert.ok(rel(sde.sigma(0), 0.01) < 1e-15);
  assert.ok(rel(sde.sigma(1), 50) < 1e-14);
  for (const t of grid(1e-6, 1, 100)) {
    assert.equal(sde.alpha(t), 1);
    assert.ok(rel(sde.sigma(t), 0.01 * 5000 ** t) < 1e-13);
    assert.equal(sde.rho(t), sde.sigma(t));
    assert.ok(Math.abs(sde.tOfRho(sde.rho(t)) - t) < 1e-15);
  }
});

Deno.test("referenceSde rejects unknown names and bad parameters", () => {
  assert.throws(
    () => referenceSde({ name: "vp-discrete" as "ve" }),
    RangeError,
  );
  assert.throws(
    () => referenceSde({ name: "vp-linear", betaMin: 2, betaMax: 1 }),
    RangeError,
  );
  assert.throws(() => referenceSde({ name: "ve", sigmaMin: 0 }), RangeError);
});
