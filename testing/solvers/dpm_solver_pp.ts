/**
 * Reference transcription (float64) of multistep DPM-Solver++ as coded in
 * `dpm_solver_pytorch.py` (LuChengTHU/dpm-solver), class `DPM_Solver`, with
 *   algorithm_type="dpmsolver++", method="multistep", solver_type="dpmsolver",
 *   lower_order_final=True, denoise_to_zero=False, correcting_x0_fn=None, correcting_xt_fn=None.
 *
 * Independent TypeScript code following the reference *code* (not its docstrings); it is
 * meant as ground truth for tests of our own engine, so it deliberately has no
 * optimisations and no dependency on `src/`.
 *
 * Rules found in the reference (`DPM_Solver.sample`, multistep branch):
 *  - the model is evaluated once at timesteps[0]; warm-up steps 1..order−1 use
 *    `multistep_dpm_solver_update` with order = step (1, then 2), each followed by one
 *    evaluation at the new point;
 *  - main steps `order..steps` use `step_order = min(order, steps + 1 − step)` ONLY when
 *    `lower_order_final and steps < 10`; with steps ≥ 10 every main step has the full order;
 *  - history lists have length `order`, shifted left after every step; the model is not
 *    evaluated after the final step, so NFE = steps.
 */
import type { VpSchedule } from "./vp_schedule.ts";

/** ε-prediction for the whole batch at one time; must not modify `x`. */
export type EpsFn = (x: Float64Array, t: number) => Float64Array;

export interface DpmSolverPlusPlusOptions {
  eps: EpsFn;
  /** State at timesteps[0] (not modified). */
  x: Float64Array;
  /** steps + 1 decreasing times, timesteps[0] = T … timesteps[steps] = t_end. */
  timesteps: number[];
  order: 1 | 2 | 3;
  schedule: VpSchedule;
}

export function dpmSolverPlusPlus(opts: DpmSolverPlusPlusOptions): { x: Float64Array; nfe: number } {
  const { eps, timesteps, order, schedule: ns } = opts;
  const steps = timesteps.length - 1;
  if (order !== 1 && order !== 2 && order !== 3) throw new Error(`order must be 1, 2 or 3, got ${order}`);
  // sample(): `assert steps >= order`
  if (steps < order) throw new Error(`need steps >= order (steps=${steps}, order=${order})`);
  const n = opts.x.length;
  let nfe = 0;

  // data_prediction_fn: x0 = (x − σ_t ε) / α_t (no correcting_x0_fn).
  const dataPrediction = (x: Float64Array, t: number): Float64Array => {
    nfe++;
    const e = eps(x, t);
    const a = Math.exp(ns.logAlpha(t));
    const s = ns.sigma(t);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = (x[i] - s * e[i]) / a;
    return out;
  };

  // dpm_solver_first_update (dpmsolver++ branch), with model_s given:
  //   x_t = (σ_t/σ_s) x − α_t expm1(−h) m_s
  const firstUpdate = (x: Float64Array, m0: Float64Array, s: number, t: number): Float64Array => {
    const h = ns.lambda(t) - ns.lambda(s);
    const ratio = ns.sigma(t) / ns.sigma(s);
    const alphaT = Math.exp(ns.logAlpha(t));
    const phi1 = Math.expm1(-h);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = ratio * x[i] - alphaT * phi1 * m0[i];
    return out;
  };

  // multistep_dpm_solver_second_update (dpmsolver++, solver_type='dpmsolver'):
  //   r0 = h_0/h, D1_0 = (m_0 − m_1)/r0,
  //   x_t = (σ_t/σ_0) x − α_t φ1 m_0 − ½ α_t φ1 D1_0,   φ1 = expm1(−h)
  const secondUpdate = (x: Float64Array, ms: Float64Array[], ts: number[], t: number): Float64Array => {
    const m1 = ms[ms.length - 2], m0 = ms[ms.length - 1];
    const t1 = ts[ts.length - 2], t0 = ts[ts.length - 1];
    const l1 = ns.lambda(t1), l0 = ns.lambda(t0), lt = ns.lambda(t);
    const ratio = ns.sigma(t) / ns.sigma(t0);
    const alphaT = Math.exp(ns.logAlpha(t));
    const h0 = l0 - l1;
    const h = lt - l0;
    const r0 = h0 / h;
    const phi1 = Math.expm1(-h);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const d1 = (1 / r0) * (m0[i] - m1[i]);
      out[i] = ratio * x[i] - alphaT * phi1 * m0[i] - 0.5 * (alphaT * phi1) * d1;
    }
    return out;
  };

  // multistep_dpm_solver_third_update (dpmsolver++): uses the three history entries,
  //   D1 = D1_0 + r0/(r0+r1) (D1_0 − D1_1), D2 = (D1_0 − D1_1)/(r0+r1),
  //   φ1 = expm1(−h), φ2 = φ1/h + 1, φ3 = φ2/h − ½,
  //   x_t = (σ_t/σ_0) x − α_t φ1 m_0 + α_t φ2 D1 − α_t φ3 D2
  // Kept exactly as coded: D2 ≈ h² x̂₀''/2 whereas the exact second-order Taylor term is −α_t φ3 h² x̂₀'',
  // so this "third-order" update converges at second order (see tests/reference_solvers.test.ts). Do not fix.
  const thirdUpdate = (x: Float64Array, ms: Float64Array[], ts: number[], t: number): Float64Array => {
    // The reference unpacks the list directly (`m2, m1, m0 = model_prev_list`): it is
    // always exactly 3 long when order 3 is used.
    const [m2, m1, m0] = ms;
    const [t2, t1, t0] = ts;
    const l2 = ns.lambda(t2), l1 = ns.lambda(t1), l0 = ns.lambda(t0), lt = ns.lambda(t);
    const ratio = ns.sigma(t) / ns.sigma(t0);
    const alphaT = Math.exp(ns.logAlpha(t));
    const h1 = l1 - l2;
    const h0 = l0 - l1;
    const h = lt - l0;
    const r0 = h0 / h, r1 = h1 / h;
    const phi1 = Math.expm1(-h);
    const phi2 = phi1 / h + 1;
    const phi3 = phi2 / h - 0.5;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const d10 = (1 / r0) * (m0[i] - m1[i]);
      const d11 = (1 / r1) * (m1[i] - m2[i]);
      const d1 = d10 + (r0 / (r0 + r1)) * (d10 - d11);
      const d2 = (1 / (r0 + r1)) * (d10 - d11);
      out[i] = ratio * x[i] - (alphaT * phi1) * m0[i] + (alphaT * phi2) * d1 - (alphaT * phi3) * d2;
    }
    return out;
  };

  // multistep_dpm_solver_update: dispatch on the order of this step.
  const update = (x: Float64Array, ms: Float64Array[], ts: number[], t: number, k: number): Float64Array => {
    if (k === 1) return firstUpdate(x, ms[ms.length - 1], ts[ts.length - 1], t);
    if (k === 2) return secondUpdate(x, ms, ts, t);
    return thirdUpdate(x, ms, ts, t);
  };

  // sample(), method == 'multistep'.
  let x: Float64Array = Float64Array.from(opts.x);
  const tPrev: number[] = [timesteps[0]];
  const mPrev: Float64Array[] = [dataPrediction(x, timesteps[0])];
  // Warm-up: "Init the first `order` values by lower order multistep DPM-Solver."
  for (let step = 1; step < order; step++) {
    const t = timesteps[step];
    x = update(x, mPrev, tPrev, t, step);
    tPrev.push(t);
    mPrev.push(dataPrediction(x, t));
  }
  for (let step = order; step <= steps; step++) {
    const t = timesteps[step];
    // "We only use lower order for steps < 10" (lower_order_final=True).
    const stepOrder = steps < 10 ? Math.min(order, steps + 1 - step) : order;
    x = update(x, mPrev, tPrev, t, stepOrder);
    for (let i = 0; i < order - 1; i++) {
      tPrev[i] = tPrev[i + 1];
      mPrev[i] = mPrev[i + 1];
    }
    tPrev[order - 1] = t;
    // "We do not need to evaluate the final model value."
    if (step < steps) mPrev[order - 1] = dataPrediction(x, t);
  }
  return { x, nfe };
}
