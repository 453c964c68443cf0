/**
 * Reference transcription (float64) of multistep UniPC as coded in `uni_pc.py`
 * (wl-zhao/UniPC), class `UniPC`, with
 *   algorithm_type="data_prediction" (predict_x0=True), variant "bh1" | "bh2",
 *   method="multistep", lower_order_final=True, denoise_to_zero=False, no correcting functions.
 *
 * Independent TypeScript code following the reference *code* (not its docstrings); it is
 * meant as ground truth for tests of our own engine and has no dependency on `src/`.
 *
 * Rules found in the reference:
 *  - `sample()` (multistep): one evaluation at timesteps[0]; warm-up steps 1..order−1 call the
 *    update with order = step and the corrector ON;
 *  - main steps use `step_order = min(order, steps + 1 − step)` whenever lower_order_final is
 *    set (unlike DPM-Solver++ there is NO `steps < 10` condition), so the final step is always
 *    order 1, and the corrector is skipped at the final step (`step == steps`): the last step is
 *    a plain DDIM step whatever the order;
 *  - the corrector evaluates the model at the *predicted* point x_t^p; that value (not one at the
 *    corrected point) becomes the history entry, so no extra evaluation is made: NFE = steps;
 *  - `multistep_uni_pc_bh_update`: predictor coefficients for order 2 are the fixed ρ = [½]
 *    (not the solution of R ρ = b), and corrector coefficients for order 1 are the fixed ρ = [½];
 *    other orders solve the Vandermonde-like systems `R[:-1,:-1] ρ_p = b[:-1]` / `R ρ_c = b`.
 */
import type { VpSchedule } from "./vp_schedule.ts";
import type { EpsFn } from "./dpm_solver_pp.ts";

export type { EpsFn };

export interface UniPcOptions {
  eps: EpsFn;
  /** State at timesteps[0] (not modified). */
  x: Float64Array;
  /** steps + 1 decreasing times, timesteps[0] = T … timesteps[steps] = t_end. */
  timesteps: number[];
  order: 1 | 2 | 3;
  variant: "bh1" | "bh2";
  schedule: VpSchedule;
}

/** Dense solve by Gaussian elimination with partial pivoting (torch.linalg.solve, LU). */
function solve(a: number[][], b: number[]): number[] {
  const k = b.length;
  const m = a.map((row, i) => [...row.slice(0, k), b[i]]);
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = c + 1; r < k; r++) {
      const f = m[r][c] / m[c][c];
      for (let j = c; j <= k; j++) m[r][j] -= f * m[c][j];
    }
  }
  const out = new Array<number>(k).fill(0);
  for (let r = k - 1; r >= 0; r--) {
    let s = m[r][k];
    for (let j = r + 1; j < k; j++) s -= m[r][j] * out[j];
    out[r] = s / m[r][r];
  }
  return out;
}

export function uniPc(opts: UniPcOptions): { x: Float64Array; nfe: number } {
  const { eps, timesteps, order, variant, schedule: ns } = opts;
  const steps = timesteps.length - 1;
  if (order !== 1 && order !== 2 && order !== 3) throw new Error(`order must be 1, 2 or 3, got ${order}`);
  if (variant !== "bh1" && variant !== "bh2") throw new Error(`variant must be bh1 or bh2, got ${variant}`);
  // sample(): `assert steps >= order`
  if (steps < order) throw new Error(`need steps >= order (steps=${steps}, order=${order})`);
  const n = opts.x.length;
  let nfe = 0;

  // data_prediction_fn: x0 = (x − σ_t ε) / α_t.
  const dataPrediction = (x: Float64Array, t: number): Float64Array => {
    nfe++;
    const e = eps(x, t);
    const a = Math.exp(ns.logAlpha(t));
    const s = ns.sigma(t);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = (x[i] - s * e[i]) / a;
    return out;
  };

  // multistep_uni_pc_bh_update, predict_x0 branch. Returns the new x and, when the corrector
  // ran, the model value at the predicted point (model_t), else null.
  const bhUpdate = (
    x: Float64Array,
    ms: Float64Array[],
    ts: number[],
    t: number,
    k: number,
    useCorrector: boolean,
  ): { x: Float64Array; modelT: Float64Array | null } => {
    if (k > ms.length) throw new Error("order exceeds history"); // `assert order <= len(model_prev_list)`
    const t0 = ts[ts.length - 1];
    const m0 = ms[ms.length - 1];
    const l0 = ns.lambda(t0);
    const lt = ns.lambda(t);
    const ratio = ns.sigma(t) / ns.sigma(t0);
    const alphaT = Math.exp(ns.logAlpha(t));
    const h = lt - l0;

    // rks and D1s from the k−1 older history entries, then rks.append(1).
    const rks: number[] = [];
    const d1s: Float64Array[] = [];
    for (let i = 1; i < k; i++) {
      const ti = ts[ts.length - 1 - i];
      const mi = ms[ms.length - 1 - i];
      const rk = (ns.lambda(ti) - l0) / h;
      rks.push(rk);
      const d = new Float64Array(n);
      for (let j = 0; j < n; j++) d[j] = (mi[j] - m0[j]) / rk;
      d1s.push(d);
    }
    rks.push(1);

    // hh = −h (predict_x0); h_phi_1 = expm1(hh); h_phi_k = h_phi_1/hh − 1;
    // B(h) = hh (bh1) or expm1(hh) (bh2).
    const hh = -h;
    const hPhi1 = Math.expm1(hh);
    let hPhiK = hPhi1 / hh - 1;
    let factorial = 1;
    const bH = variant === "bh1" ? hh : Math.expm1(hh);
    const R: number[][] = [];
    const b: number[] = [];
    for (let i = 1; i <= k; i++) {
      R.push(rks.map((r) => Math.pow(r, i - 1)));
      b.push(hPhiK * factorial / bH);
      factorial *= i + 1;
      hPhiK = hPhiK / hh - 1 / factorial;
    }

    // Predictor coefficients: only when there are D1s; order 2 uses the simplified ρ = [½].
    let rhosP: number[] = [];
    if (d1s.length > 0) {
      rhosP = k === 2 ? [0.5] : solve(R.slice(0, -1).map((row) => row.slice(0, -1)), b.slice(0, -1));
    }
    // Corrector coefficients: order 1 uses the simplified ρ = [½].
    const rhosC = useCorrector ? (k === 1 ? [0.5] : solve(R, b)) : [];

    // x_t_ = (σ_t/σ_0) x − α_t h_phi_1 m_0; predictor x_t = x_t_ − α_t B(h) Σ ρ_p D1.
    const xBase = new Float64Array(n);
    const xt = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      xBase[j] = ratio * x[j] - alphaT * hPhi1 * m0[j];
      let pred = 0;
      for (let q = 0; q < d1s.length; q++) pred += rhosP[q] * d1s[q][j];
      xt[j] = xBase[j] - alphaT * bH * pred;
    }
    if (!useCorrector) return { x: xt, modelT: null };

    // Corrector: model at the predicted point, then
    // x_t = x_t_ − α_t B(h) (Σ ρ_c[:-1] D1 + ρ_c[-1] (m_t − m_0)).
    const modelT = dataPrediction(xt, t);
    const out = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let corr = 0;
      for (let q = 0; q < d1s.length; q++) corr += rhosC[q] * d1s[q][j];
      out[j] = xBase[j] - alphaT * bH * (corr + rhosC[k - 1] * (modelT[j] - m0[j]));
    }
    return { x: out, modelT };
  };

  // sample(), method == 'multistep'.
  let x: Float64Array = Float64Array.from(opts.x);
  const tPrev: number[] = [timesteps[0]];
  const mPrev: Float64Array[] = [dataPrediction(x, timesteps[0])];
  // Warm-up: "Init the first `order` values by lower order multistep UniPC" (corrector on).
  for (let step = 1; step < order; step++) {
    const t = timesteps[step];
    const r = bhUpdate(x, mPrev, tPrev, t, step, true);
    x = r.x;
    tPrev.push(t);
    mPrev.push(r.modelT ?? dataPrediction(x, t));
  }
  for (let step = order; step <= steps; step++) {
    const t = timesteps[step];
    const stepOrder = Math.min(order, steps + 1 - step); // lower_order_final, no `steps < 10` test
    const useCorrector = step !== steps; // "do not run corrector at the last step"
    const r = bhUpdate(x, mPrev, tPrev, t, stepOrder, useCorrector);
    x = r.x;
    for (let i = 0; i < order - 1; i++) {
      tPrev[i] = tPrev[i + 1];
      mPrev[i] = mPrev[i + 1];
    }
    tPrev[order - 1] = t;
    // "We do not need to evaluate the final model value."
    if (step < steps) mPrev[order - 1] = r.modelT ?? dataPrediction(x, t);
  }
  return { x, nfe };
}
