/**
 * Endpoint error against the reference ODE solution on the exact Gaussian-mixture models, and the
 * observed order (log–log slope between 20 and 100 steps) of every sampler. Shared by the
 * convergence tests and `deno task bench:sampling`.
 *
 * @module
 */

import { evalsPerStep, makePlan, type PlanConfig } from "../mod.ts";
import { sampleFunction } from "../src/sampling/mod.ts";
import { gmmEpsBatch, gmmFromSpec, type GmmSpec } from "../testing/reference/gmm.ts";
import { solveProbabilityFlow } from "../testing/reference/probability_flow.ts";
import { referenceSde } from "../testing/reference/sde.ts";
import { seededRng } from "../testing/reference/random.ts";

/** An exact test problem: the mixture, its SDE, a batch of x_T and their reference endpoints. */
export interface Problem {
  name: string;
  dim: number;
  n: number;
  eps: (x: Float64Array, t: number[]) => Float64Array;
  xT: Float64Array;
  reference: Float64Array;
  /** The reference ODE solution from t0 to t1. */
  solve: (x: Float64Array, t0: number, t1: number) => Float64Array;
}

/** Loads a shipped GMM model's spec and solves the probability-flow ODE to 1e-12 for `n` draws of x_T. */
export async function loadProblem(model: string, n: number, seed = 1): Promise<Problem> {
  const manifest = JSON.parse(await Deno.readTextFile(new URL(`../models/${model}/model.json`, import.meta.url)));
  const spec = manifest.gmm as GmmSpec;
  const g = gmmFromSpec(spec);
  const sde = referenceSde({ ...manifest.sde, tStart: manifest.tStart, tEnd: manifest.tEnd });
  const dim = g.d;
  const eps = (x: Float64Array, t: number[]) => gmmEpsBatch(g, sde, x, t);
  const rng = seededRng(seed);
  // x_T from the prior N(0, σ_T² + α_T² s²…) is just N(0, 1) scaled: use the exact marginal at T.
  const xT = new Float64Array(n * dim);
  const scale = Math.sqrt(1 + sde.rho(manifest.tStart) ** 2) * sde.alpha(manifest.tStart); // = 1 for VP
  for (let i = 0; i < xT.length; i++) xT[i] = rng.normal() * scale;
  const reference = new Float64Array(n * dim);
  for (let b = 0; b < n; b++) {
    const row = xT.subarray(b * dim, (b + 1) * dim);
    const epsOne = (x: Float64Array, t: number) => gmmEpsBatch(g, sde, x, t);
    const r = solveProbabilityFlow(epsOne, sde, row, { rtol: 1e-12, atol: 1e-12 });
    reference.set(r.x, b * dim);
  }
  const solve = (x: Float64Array, t0: number, t1: number) =>
    Float64Array.from(
      solveProbabilityFlow((y: Float64Array, t: number) => gmmEpsBatch(g, sde, y, t), sde, x, {
        tStart: t0,
        tEnd: t1,
        rtol: 1e-12,
        atol: 1e-12,
      }).x,
    );
  return { name: model, dim, n, eps, xT, reference, solve };
}

/** RMS over the batch of the per-sample Euclidean endpoint error. */
export async function endpointError(p: Problem, config: PlanConfig): Promise<number> {
  const plan = makePlan({ sde: "vp-linear", ...config });
  const r = await sampleFunction({ eps: p.eps, sampleShape: [p.dim], plan, n: p.n, init: p.xT, seed: 0 });
  let sum = 0;
  for (let b = 0; b < p.n; b++) {
    let e = 0;
    for (let d = 0; d < p.dim; d++) e += (r.data[b * p.dim + d] - p.reference[b * p.dim + d]) ** 2;
    sum += e;
  }
  return Math.sqrt(sum / p.n);
}

/**
 * An independent float64 multistep loop whose first r states are exact (reference ODE solution),
 * so only the full-order rows act: isolates the scheme's order from its warm start.
 */
export function exactStartError(
  p: Problem,
  config: PlanConfig,
  solve: (x: Float64Array, t0: number, t1: number) => Float64Array,
): number {
  const plan = makePlan({ sde: "vp-linear", ...config });
  const r = plan.order;
  let sum = 0;
  for (let b = 0; b < p.n; b++) {
    const xT: Float64Array = p.xT.slice(b * p.dim, (b + 1) * p.dim);
    const history: Float64Array[] = [];
    let x: Float64Array = xT;
    for (let k = 0; k < r; k++) {
      history.unshift(p.eps(x, [plan.timesteps[k]]));
      x = solve(x, plan.timesteps[k], plan.timesteps[k + 1]);
    }
    for (let k = r; k < plan.steps; k++) {
      history.unshift(p.eps(x, [plan.timesteps[k]]));
      history.length = Math.min(history.length, r + 1);
      const row = plan.rows![k];
      const next = new Float64Array(p.dim);
      for (let d = 0; d < p.dim; d++) {
        let v = row[0] * x[d];
        for (let j = 0; j <= r; j++) v += row[j + 1] * history[j][d];
        next[d] = v;
      }
      x = next;
    }
    let e = 0;
    for (let d = 0; d < p.dim; d++) e += (x[d] - p.reference[b * p.dim + d]) ** 2;
    sum += e;
  }
  return Math.sqrt(sum / p.n);
}

/**
 * The step count whose NFE is closest to `nfe` (ρRK spends one evaluation per stage), read off a
 * one-step plan rather than kept beside each method by hand.
 */
export function stepsForNfe(config: PlanConfig, nfe: number): number {
  const perStep = evalsPerStep(config.method ?? "tab", config.rk);
  return Math.max(1, Math.round(nfe / perStep));
}

/** Least-squares slope of −log(error) against log(NFE-equivalent steps). */
export function observedOrder(steps: number[], errors: number[]): number {
  const xs = steps.map(Math.log), ys = errors.map((e) => -Math.log(e));
  const mx = xs.reduce((a, b) => a + b) / xs.length, my = ys.reduce((a, b) => a + b) / ys.length;
  let num = 0, den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * (ys[i] - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

/** The samplers with the order each should reach (see the README's convergence notes). */
export const SAMPLERS: { label: string; config: PlanConfig; expected: number }[] = [
  { label: "ddim", config: { method: "ddim" }, expected: 1 },
  { label: "euler", config: { method: "euler" }, expected: 1 },
  { label: "ei-score", config: { method: "ei-score" }, expected: 1 },
  { label: "tab1", config: { method: "tab", order: 1 }, expected: 2 },
  { label: "tab2", config: { method: "tab", order: 2 }, expected: 3 },
  { label: "tab3", config: { method: "tab", order: 3 }, expected: 4 },
  { label: "rhoab1", config: { method: "rhoab", order: 1 }, expected: 2 },
  { label: "rhoab2", config: { method: "rhoab", order: 2 }, expected: 3 },
  { label: "rhoab3", config: { method: "rhoab", order: 3 }, expected: 4 },
  { label: "logrho1", config: { method: "logrho", order: 1 }, expected: 2 },
  { label: "logrho2", config: { method: "logrho", order: 2 }, expected: 3 },
  { label: "logrho3", config: { method: "logrho", order: 3 }, expected: 4 },
  { label: "ipndm", config: { method: "ipndm", order: 3 }, expected: 4 },
  { label: "rk-euler", config: { method: "rhork", rk: "euler" }, expected: 1 },
  { label: "rk-midpoint2", config: { method: "rhork", rk: "midpoint2" }, expected: 2 },
  { label: "rk-heun2", config: { method: "rhork", rk: "heun2" }, expected: 2 },
  { label: "rk-ralston3", config: { method: "rhork", rk: "ralston3" }, expected: 3 },
  { label: "rk-kutta3", config: { method: "rhork", rk: "kutta3" }, expected: 3 },
  { label: "rk-rk4", config: { method: "rhork", rk: "rk4" }, expected: 4 },
];

if (import.meta.main && Deno.args[0] === "--exact-start") {
  // The warm start, isolated: the same tab/rhoab/logrho weights with an exact startup, and the
  // warm-started scheme at larger step counts.
  const p = await loadProblem(Deno.args[1] ?? "gmm-64d", 8);
  const steps = [20, 30, 40, 60, 80, 100];
  for (const method of ["tab", "rhoab", "logrho"] as const) {
    for (const order of [1, 2, 3]) {
      const exact = [], warm = [], warmLong = [];
      for (const n of steps) {
        exact.push(exactStartError(p, { method, order, steps: n }, p.solve));
        warm.push(await endpointError(p, { method, order, steps: n }));
      }
      const long = [200, 400, 800];
      for (const n of long) warmLong.push(await endpointError(p, { method, order, steps: n }));
      console.log(
        `${method}${order}: warm start ${observedOrder(steps, warm).toFixed(2)} (20–100), ` +
          `${observedOrder(long, warmLong).toFixed(2)} (200–800); exact start ${
            observedOrder(steps, exact).toFixed(2)
          } (20–100)`,
      );
    }
  }
} else if (import.meta.main) {
  const model = Deno.args[0] ?? "gmm-2d";
  const grid = (Deno.args[1] ?? "time-quadratic") as PlanConfig["grid"];
  const p = await loadProblem(model, 16);
  const steps = [20, 30, 40, 60, 80, 100];
  for (const s of SAMPLERS) {
    const errs = [];
    for (const n of steps) errs.push(await endpointError(p, { ...s.config, grid, steps: n }));
    const e10 = await endpointError(p, { ...s.config, grid, steps: 10 });
    console.log(
      `${s.label.padEnd(14)} order ${observedOrder(steps, errs).toFixed(2)} (expect ${s.expected})  err@10 ${
        e10.toExponential(2)
      }  err@20 ${errs[0].toExponential(2)} err@100 ${errs[5].toExponential(2)}`,
    );
  }
}
