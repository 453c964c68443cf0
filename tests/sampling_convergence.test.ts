// Observed convergence orders of every sampler on the exact Gaussian-mixture models (float64 loop,
// endpoint error against the adaptive reference ODE solution to 1e-12), time-quadratic grid.
//
// What each method should reach between 20 and 100 steps (README, "Exact models and convergence"):
// - ddim, euler, ei-score: 1; ρRK: the tableau's order.
// - tab, rhoab, logrho with r = 1, 2, 3: about 1.9, 2.5, 3.0, not r + 1. This is pre-asymptotic, not the
//   warm start: the same weights started from the exact solution give the same slopes, and between
//   200 and 800 steps the slopes are 2.0, 2.9, 3.7–3.8 (`deno run -A bench/convergence.ts
//   --exact-start`). The error comes from the last steps near ε, where ε varies on the scale of the
//   mixture's narrowest component, so the leading error term dominates only at fine grids.
// - ipndm: 2. Its fixed Adams–Bashforth weights are exact only for equal ρ steps; on a smooth
//   non-uniform grid the step ratios differ from 1 by O(h), leaving an O(h³) local error (1.97
//   between 200 and 800 steps).

import assert from "node:assert/strict";
import { endpointError, loadProblem, observedOrder, type Problem, SAMPLERS } from "../bench/convergence.ts";

const STEPS = [20, 30, 40, 60, 80, 100];
const MULTISTEP_EXPECTED: Record<string, number> = {
  tab1: 1.9,
  tab2: 2.5,
  tab3: 3.0,
  rhoab1: 1.9,
  rhoab2: 2.5,
  rhoab3: 3.0,
  logrho1: 1.9,
  logrho2: 2.5,
  logrho3: 3.0,
  ipndm: 2,
};

async function order(p: Problem, label: string): Promise<number> {
  const s = SAMPLERS.find((s) => s.label === label)!;
  const errs = [];
  for (const steps of STEPS) errs.push(await endpointError(p, { ...s.config, grid: "time-quadratic", steps }));
  return observedOrder(STEPS, errs);
}

let gmm2d: Problem, gmm64d: Problem;

Deno.test("single-step samplers reach their order on gmm-2d (±0.4)", async () => {
  gmm2d ??= await loadProblem("gmm-2d", 8);
  for (const s of SAMPLERS.filter((s) => !(s.label in MULTISTEP_EXPECTED))) {
    const o = await order(gmm2d, s.label);
    assert.ok(Math.abs(o - s.expected) <= 0.4, `${s.label}: observed order ${o.toFixed(2)}, expected ${s.expected}`);
  }
});

Deno.test("warm-started multistep samplers reach their order on gmm-64d (±0.4)", async () => {
  gmm64d ??= await loadProblem("gmm-64d", 8);
  for (const [label, expected] of Object.entries(MULTISTEP_EXPECTED)) {
    const o = await order(gmm64d, label);
    assert.ok(Math.abs(o - expected) <= 0.4, `${label}: observed order ${o.toFixed(2)}, expected ${expected}`);
  }
});

Deno.test("at 10 NFE on the time-quadratic grid: tab3 < tab2 < tab1 < ddim", async () => {
  gmm2d ??= await loadProblem("gmm-2d", 8);
  gmm64d ??= await loadProblem("gmm-64d", 8);
  for (const p of [gmm2d, gmm64d]) {
    const e: Record<string, number> = {};
    for (const label of ["tab3", "tab2", "tab1", "ddim"]) {
      const s = SAMPLERS.find((s) => s.label === label)!;
      e[label] = await endpointError(p, { ...s.config, grid: "time-quadratic", steps: 10 });
    }
    const msg = `${p.name}: ${JSON.stringify(e)}`;
    assert.ok(e.tab3 < e.tab2 && e.tab2 < e.tab1 && e.tab1 < e.ddim, msg);
  }
});
