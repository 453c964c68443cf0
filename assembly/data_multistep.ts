// Multistep solvers written on the data prediction D_i = x̂₀(x_i, t_i) in λ = log(α/σ) = −log ρ:
// DPM-Solver++ (LuChengTHU/dpm-solver, "dpmsolver++", multistep, solver_type "dpmsolver") and UniPC
// (wl-zhao/UniPC, predict_x0, variants bh1/bh2), both with lower_order_final. Every step length
// h_k = λ_{k+1} − λ_k is taken from the engine's per-step log ρ differences, never from λ values,
// so short steps keep their digits.

import { alloc, getF, setF } from "./memory";
import { gAlpha, psi, sLogRho } from "./schedule";

// Below this |x| the φ-type functions g_n(x) are summed as a series; above it the recurrence from
// expm1 loses at most a few ulps (at x = −2: ≈ 3 ulp for g_4) while the series would start to cancel.
export const PHI_SERIES_BELOW: f64 = 2.0;
// Terms kept: the first omitted one is ≤ 2^25/26! ≈ 1e-19 relative for every n ≥ 1 at |x| < 2.
const PHI_SERIES_TERMS: i32 = 24;

/**
 * g_n(x) = Σ_{m≥0} x^m/(m+n)! = (e^x − Σ_{m<n} x^m/m!)/x^n. The closed form cancels like x^{−n}
 * for small x, which is exactly where short steps put us; both solvers need n ≤ 4.
 */
export function phiG(n: i32, x: f64): f64 {
  if (Math.abs(x) < PHI_SERIES_BELOW) {
    // g_n = (1/n!)·(1 + x/(n+1)·(1 + x/(n+2)·(…))), nested so that no power or factorial overflows.
    let s: f64 = 1.0;
    for (let m = PHI_SERIES_TERMS; m >= 1; m--) s = 1.0 + (x * s) / <f64> (n + m);
    let fact: f64 = 1.0;
    for (let j = 2; j <= n; j++) fact *= <f64> j;
    return s / fact;
  }
  // g_{j+1} = (g_j − 1/j!)/x: for |x| ≥ 2 each subtraction loses less than two bits.
  let g = Math.expm1(x) / x;
  let fact: f64 = 1.0;
  for (let j = 1; j < n; j++) {
    fact *= <f64> j;
    g = (g - 1.0 / fact) / x;
  }
  return g;
}

export const DATA_DPMPP: i32 = 0;
export const DATA_UNIPC: i32 = 1;

/**
 * The order step k uses (`method`: 0 = DPM-Solver++, 1 = UniPC): warm start min(order, k + 1), and
 * lower order at the end, min(·, steps − k), which DPM-Solver++ applies only below 10 steps (as its
 * reference does) and UniPC always.
 */
export function dataStepOrder(method: i32, order: i32, steps: i32, k: i32): i32 {
  let q = k + 1 < order ? k + 1 : order;
  if ((method == DATA_UNIPC || steps < 10) && steps - k < q) q = steps - k;
  return q;
}

// σ_{k+1}/σ_k = Ψ_k·ρ_{k+1}/ρ_k, from the log ρ step rather than from two rounded σ.
function sigmaRatio(k: i32): f64 {
  return psi(k) * Math.exp(getF(sLogRho, k));
}

/**
 * DPM-Solver++ rows [σ_{k+1}/σ_k, c_0, …, c_{order−1}] (stride order + 1): x_{k+1} = ratio·x_k +
 * Σ_j c_j D_{k−j}, newest first, unused entries 0; step orders from `dataStepOrder`. Needs
 * `prepareGrid`.
 */
export function buildDpmpp(order: i32, steps: i32, out: usize): void {
  const stride = order + 1;
  for (let k = 0; k < steps; k++) {
    const row = out + ((<usize> (k * stride)) << 3);
    for (let j = 0; j < stride; j++) setF(row, j, 0.0);
    const q = dataStepOrder(DATA_DPMPP, order, steps, k);
    const h = -getF(sLogRho, k);
    const a = getF(gAlpha, k + 1);
    setF(row, 0, sigmaRatio(k));
    const aPhi1 = a * Math.expm1(-h); // < 0
    if (q == 1) {
      setF(row, 1, -aPhi1);
    } else if (q == 2) {
      const r0 = -getF(sLogRho, k - 1) / h;
      const d = (0.5 * aPhi1) / r0;
      setF(row, 1, -aPhi1 - d);
      setF(row, 2, d);
    } else {
      const r0 = -getF(sLogRho, k - 1) / h;
      const r1 = -getF(sLogRho, k - 2) / h;
      const s = r0 + r1;
      // φ2 = φ1/h + 1 and φ3 = φ2/h − 1/2 as h·g_2(−h) and −h·g_3(−h): same values, no cancellation.
      const phi2 = h * phiG(2, -h); // > 0
      const phi3 = -h * phiG(3, -h); // < 0
      // Weights of D1_0 and D1_1 in αφ2·D1 − αφ3·D2; each is a sum of like-signed terms.
      const w0 = a * (phi2 * (1.0 + r0 / s) - phi3 / s);
      const w1 = (a * (phi3 - phi2 * r0)) / s;
      setF(row, 1, -aPhi1 + w0 / r0);
      setF(row, 2, w1 / r1 - w0 / r0);
      setF(row, 3, -w1 / r1);
    }
  }
}

/** Solves the n×n system A y = b (n ≤ 3, A row-major) by partial pivoting; A and b are overwritten. */
function solveSmall(n: i32, A: usize, b: usize, y: usize): void {
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(getF(A, i * n + c)) > Math.abs(getF(A, p * n + c))) p = i;
    if (p != c) {
      for (let j = 0; j < n; j++) {
        const t = getF(A, c * n + j);
        setF(A, c * n + j, getF(A, p * n + j));
        setF(A, p * n + j, t);
      }
      const t = getF(b, c);
      setF(b, c, getF(b, p));
      setF(b, p, t);
    }
    const piv = getF(A, c * n + c);
    for (let i = c + 1; i < n; i++) {
      const f = getF(A, i * n + c) / piv;
      for (let j = c + 1; j < n; j++) setF(A, i * n + j, getF(A, i * n + j) - f * getF(A, c * n + j));
      setF(b, i, getF(b, i) - f * getF(b, c));
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = getF(b, i);
    for (let j = i + 1; j < n; j++) s -= getF(A, i * n + j) * getF(y, j);
    setF(y, i, s / getF(A, i * n + i));
  }
}

export const UNIPC_BH1: i32 = 1;
export const UNIPC_BH2: i32 = 2;

/**
 * UniPC rows. Predictor (stride order + 1): [σ_{k+1}/σ_k, p_0, …, p_{order−1}], x^p_{k+1} = ratio·x_k
 * + Σ_j p_j D_{k−j}. Corrector (stride order + 2): [σ_{k+1}/σ_k, c_new, c_0, …, c_{order−1}],
 * x^c_{k+1} = ratio·x_k + c_new·D^p_{k+1} + Σ_j c_j D_{k−j}, D^p_{k+1} the data prediction at
 * x^p_{k+1}; the last step has no corrector (its row is zero). Step orders from `dataStepOrder`.
 * `variant`: 1 = bh1 (B(h) = −h), 2 = bh2 (B(h) = expm1(−h)). Needs `prepareGrid`.
 */
export function buildUnipc(order: i32, variant: i32, steps: i32, pred: usize, corr: usize): void {
  const ps = order + 1;
  const cs = order + 2;
  const R = alloc(9 * 8);
  const bv = alloc(3 * 8);
  const rks = alloc(3 * 8);
  const rho = alloc(3 * 8);
  const bAll = alloc(3 * 8);
  for (let k = 0; k < steps; k++) {
    const prow = pred + ((<usize> (k * ps)) << 3);
    const crow = corr + ((<usize> (k * cs)) << 3);
    for (let j = 0; j < ps; j++) setF(prow, j, 0.0);
    for (let j = 0; j < cs; j++) setF(crow, j, 0.0);
    const q = dataStepOrder(DATA_UNIPC, order, steps, k);
    const h = -getF(sLogRho, k);
    const hh = -h;
    const a = getF(gAlpha, k + 1);
    const ratio = sigmaRatio(k);
    const hPhi1 = Math.expm1(hh); // < 0
    const bh = variant == UNIPC_BH1 ? hh : hPhi1; // < 0
    // rk_i = (λ_{k−i} − λ_k)/h: sums of positive step lengths, so no cancellation.
    let gap: f64 = 0;
    for (let i = 1; i < q; i++) {
      gap -= getF(sLogRho, k - i);
      setF(rks, i - 1, -gap / h);
    }
    setF(rks, q - 1, 1.0);
    // The reference's h_phi_k before its i-th update is hh·g_{i+1}(hh), so b_{i−1} =
    // i!·hh·g_{i+1}(hh)/B(h); the hh is divided out analytically (bh2: B(h) = hh·g_1(hh)).
    const g1 = variant == UNIPC_BH1 ? 1.0 : phiG(1, hh);
    let fact: f64 = 1.0;
    for (let i = 1; i <= q; i++) {
      fact *= <f64> i;
      setF(bAll, i - 1, (fact * phiG(i + 1, hh)) / g1);
    }

    setF(prow, 0, ratio);
    let sum: f64 = 0;
    if (q >= 2) {
      if (q == 2) {
        setF(rho, 0, 0.5);
      } else {
        // R[:-1, :-1] = [[1, 1], [rk_1, rk_2]], b[:-1].
        setF(R, 0, 1.0);
        setF(R, 1, 1.0);
        setF(R, 2, getF(rks, 0));
        setF(R, 3, getF(rks, 1));
        setF(bv, 0, getF(bAll, 0));
        setF(bv, 1, getF(bAll, 1));
        solveSmall(2, R, bv, rho);
      }
      for (let i = 1; i < q; i++) {
        const p = (-a * bh * getF(rho, i - 1)) / getF(rks, i - 1);
        setF(prow, i + 1, p);
        sum += p;
      }
    }
    // Σ_j p_j = −α h_phi_1 holds by construction (the D1s are differences against D_k).
    setF(prow, 1, -a * hPhi1 - sum);

    if (k == steps - 1) continue;
    if (q == 1) {
      setF(rho, 0, 0.5);
    } else {
      for (let i = 0; i < q; i++) {
        for (let j = 0; j < q; j++) setF(R, i * q + j, Math.pow(getF(rks, j), <f64> i));
        setF(bv, i, getF(bAll, i));
      }
      solveSmall(q, R, bv, rho);
    }
    setF(crow, 0, ratio);
    const cNew = -a * bh * getF(rho, q - 1);
    setF(crow, 1, cNew);
    sum = cNew;
    for (let i = 1; i < q; i++) {
      const c = (-a * bh * getF(rho, i - 1)) / getF(rks, i - 1);
      setF(crow, i + 2, c);
      sum += c;
    }
    setF(crow, 2, -a * hPhi1 - sum);
  }
}
