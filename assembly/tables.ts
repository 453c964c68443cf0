// Multistep tables: one row [x_coef, c_0, …, c_r] per step (docs/CONVENTIONS.md).

import { alloc, getF, setF } from "./memory";
import { lagrangeWeights, PHI_LOGRHO, PHI_RHO, PHI_T, rhoabClosedForm } from "./lagrange";
import { gAlpha, gRho, gridTimes, psi, sLogAlphaBar, sLogRho, sRho } from "./schedule";
import { dLogAlphaBar, dRho, rho2Diff, sdeKind, VE } from "./sde";

export const M_DDIM: i32 = 0;
export const M_TAB: i32 = 1;
export const M_RHOAB: i32 = 2;
export const M_LOGRHO: i32 = 3;
export const M_IPNDM: i32 = 4;
export const M_EULER: i32 = 5;
export const M_EI_SCORE: i32 = 6;

// Constant-step Adams–Bashforth weights, newest first, for orders 0..3.
const IPNDM = memory.data<f64>([
  1.0,
  0.0,
  0.0,
  0.0,
  1.5,
  -0.5,
  0.0,
  0.0,
  23.0 / 12.0,
  -16.0 / 12.0,
  5.0 / 12.0,
  0.0,
  55.0 / 24.0,
  -59.0 / 24.0,
  37.0 / 24.0,
  -9.0 / 24.0,
]);

/**
 * Rows for `steps` steps into `out` (stride order + 2). `quadratureRhoab` computes ρAB by
 * quadrature instead of its closed form (for testing one against the other).
 */
export function buildRows(method: i32, order: i32, steps: i32, out: usize, quadratureRhoab: bool): void {
  const stride = order + 2;
  const w = alloc(8 * 8);
  const ve = sdeKind() == VE;
  for (let k = 0; k < steps; k++) {
    const row = out + ((<usize> (k * stride)) << 3);
    for (let j = 0; j < stride; j++) setF(row, j, 0.0);
    const q = k < order ? k : order;
    const aNext = getF(gAlpha, k + 1);
    const tk = getF(gridTimes, k);
    setF(row, 0, psi(k));
    if (method == M_DDIM) {
      setF(row, 1, aNext * getF(sRho, k));
    } else if (method == M_TAB || method == M_LOGRHO || method == M_RHOAB) {
      if (method == M_RHOAB && !quadratureRhoab) rhoabClosedForm(k, q, w);
      else lagrangeWeights(method == M_TAB ? PHI_T : method == M_RHOAB ? PHI_RHO : PHI_LOGRHO, k, q, w);
      for (let j = 0; j <= q; j++) setF(row, j + 1, aNext * getF(w, j));
    } else if (method == M_IPNDM) {
      const scale = aNext * getF(sRho, k);
      for (let j = 0; j <= q; j++) setF(row, j + 1, scale * load<f64>(IPNDM + ((<usize> (q * 4 + j)) << 3)));
    } else if (method == M_EULER) {
      const dt = getF(gridTimes, k + 1) - tk;
      setF(row, 0, 1.0 + dt * 0.5 * dLogAlphaBar(tk));
      setF(row, 1, dt * getF(gAlpha, k) * dRho(tk));
    } else if (method == M_EI_SCORE) {
      if (ve) {
        setF(row, 1, rho2Diff(getF(gridTimes, k + 1), tk) / (2.0 * getF(gRho, k)));
      } else {
        const r = getF(gRho, k);
        const sigma = r / Math.sqrt(1.0 + r * r);
        setF(row, 1, -Math.expm1(0.5 * getF(sLogAlphaBar, k)) / sigma);
      }
    }
  }
}

/** Stochastic DDIM for λ ≥ 0: rows [Ψ_k, c_0] (stride 2) and noise scales s_k. */
export function buildStochastic(lambda: f64, steps: i32, out: usize, noise: usize): void {
  const l2 = lambda * lambda;
  for (let k = 0; k < steps; k++) {
    const du = getF(sLogRho, k);
    const aNext = getF(gAlpha, k + 1);
    setF(out, 2 * k, psi(k));
    setF(out, 2 * k + 1, aNext * getF(gRho, k) * Math.expm1((1.0 + l2) * du));
    setF(noise, k, aNext * getF(gRho, k + 1) * Math.sqrt(-Math.expm1(2.0 * l2 * du)));
  }
}
