/**
 * `deno task bench:tables`: how fast the WASM engine builds tab r = 3 tables, with instantiation
 * timed separately, and how far every table is from the 30-digit reference.
 * Writes bench/results/tables.json and bench/results/tables.md.
 *
 * @module
 */

import { instantiateEngine } from "../src/coefficients/engine.ts";
import { decodeBase64 } from "../src/util/base64.ts";
import { ENGINE_WASM_BASE64 } from "../src/coefficients/wasm_bytes.ts";
import { makePlan } from "../src/plan/make_plan.ts";
import { compareFixture, FIXTURE_SDES, loadFixture } from "../tools/reference/compare.ts";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Times `fn` repeatedly for about `budgetMs`; returns per-call milliseconds (median, min). */
function time(fn: () => void, budgetMs = 400, minRuns = 5): { median: number; min: number; runs: number } {
  for (let i = 0; i < 3; i++) fn(); // warm up the JIT and the engine
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < minRuns || performance.now() - start < budgetMs) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
    if (samples.length > 100_000) break;
  }
  return { median: median(samples), min: Math.min(...samples), runs: samples.length };
}

const bytes = decodeBase64(ENGINE_WASM_BASE64);
const compile = time(() => new WebAssembly.Module(bytes as BufferSource), 300);
const instantiate = time(() => instantiateEngine(), 300);

const builds = [10, 50, 1000].map((steps) => {
  const t = time(() => makePlan({ method: "tab", order: 3, steps, grid: "time-quadratic" }));
  return { steps, ...t };
});
// The engine alone (no validation, no JS array assembly), for the 1000-step case.
const e = instantiateEngine();
e.resetAll();
e.setVpLinear(0.1, 20);
e.markPersistent();
const rawBuilds = [10, 50, 1000].map((steps) => {
  const t = time(() => {
    e.resetScratch();
    const tp = e.alloc((steps + 1) * 8);
    e.buildGrid(0, steps, 1, 1e-3, 2, tp);
    e.prepareGrid(steps, tp);
    e.buildRows(1, 3, steps, e.alloc(steps * 5 * 8), 0);
  });
  return { steps, ...t };
});

const accuracy: Record<string, Record<string, { maxRel: number; failures: number; count: number }>> = {};
for (const sde of FIXTURE_SDES) {
  let fixture;
  try {
    fixture = await loadFixture(sde);
  } catch {
    continue;
  }
  accuracy[sde] = {};
  for (const [key, w] of compareFixture(fixture)) {
    accuracy[sde][key] = { maxRel: w.rel, failures: w.failures, count: w.count };
  }
}

const result = {
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  v8: Deno.version.v8,
  wasmBytes: bytes.length,
  compileMs: compile,
  instantiateMs: instantiate,
  makePlanMs: builds,
  engineOnlyMs: rawBuilds,
  accuracy,
};
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(new URL("./results/tables.json", import.meta.url), JSON.stringify(result, null, 2) + "\n");

const f = (x: number) => x < 0.1 ? x.toFixed(4) : x.toFixed(3);
const lines = [
  `# Coefficient engine benchmark`,
  ``,
  `${result.date}, Deno ${result.deno}. Median of repeated runs (min in brackets); WASM module ${bytes.length} bytes.`,
  ``,
  `| what | time (ms) |`,
  `|---|---|`,
  `| compile module | ${f(compile.median)} (${f(compile.min)}) |`,
  `| instantiate | ${f(instantiate.median)} (${f(instantiate.min)}) |`,
  ...builds.map((b, i) =>
    `| tab r=3, ${b.steps} steps: makePlan (validate + WASM + JS arrays) / engine only | ${f(b.median)} (${
      f(b.min)
    }) / ${f(rawBuilds[i].median)} (${f(rawBuilds[i].min)}) |`
  ),
  ``,
  `Worst relative error against the 30-digit reference (entries below 1e-2 may pass on ≤ 1e-15 absolute; "off" counts entries outside tolerance):`,
  ``,
  `| sde | ${
    ["timesteps", "alphaBar", "rho", "ddim", "tab", "rhoab", "logrho", "ipndm", "euler", "ei-score", "sddim", "rhork"]
      .join(" | ")
  } |`,
  `|---|${"---|".repeat(12)}`,
  ...Object.entries(accuracy).map(([sde, acc]) =>
    `| ${sde} | ${
      ["timesteps", "alphaBar", "rho", "ddim", "tab", "rhoab", "logrho", "ipndm", "euler", "ei-score", "sddim", "rhork"]
        .map((k) =>
          acc[k] ? `${acc[k].maxRel.toExponential(1)}${acc[k].failures ? ` (${acc[k].failures} off)` : ""}` : "–"
        )
        .join(" | ")
    } |`
  ),
  ``,
];
await Deno.writeTextFile(new URL("./results/tables.md", import.meta.url), lines.join("\n"));
console.log(lines.join("\n"));
