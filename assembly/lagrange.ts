// Weights ∫_{ρ_k}^{ρ_{k+1}} ℓ_j(φ) dρ of the Lagrange basis in φ ∈ {t, ρ, log ρ} through the
// current and the q previous grid points. Integrated in w = log ρ − log ρ_k (dρ = ρ_k e^w dw),
// where the integrands are smooth across the wide ρ range of the first steps; node positions are
// kept as offsets from the current node so that short steps lose no digits.

import { getF, setF } from "./memory";
import { ensureQuadrature, GL_N, glNode, glWeight } from "./quadrature";
import { gLogRho, gRho, gridTimes, sLogRho, sRho } from "./schedule";
import { knotLogRhoAt, knots, timeOffset } from "./sde";

export const PHI_T: i32 = 0;
export const PHI_RHO: i32 = 1;
export const PHI_LOGRHO: i32 = 2;

const MAX_PIECE: f64 = 0.5;
const offsets = memory.data(8 * 8);
const invDenoms = memory.data(8 * 8);
const acc = memory.data(8 * 8);

// @ts-ignore: decorator
function off(m: i32): f64 {
  return load<f64>(offsets + ((<usize> m) << 3));
}

function nodeOffsets(phi: i32, k: i32, q: i32): void {
  let d: f64 = 0;
  store<f64>(offsets, 0.0);
  const tk = getF(gridTimes, k);
  for (let m = 1; m <= q; m++) {
    if (phi == PHI_T) d = getF(gridTimes, k - m) - tk;
    else if (phi == PHI_RHO) d -= getF(sRho, k - m);
    else d -= getF(sLogRho, k - m);
    store<f64>(offsets + ((<usize> m) << 3), d);
  }
  for (let j = 0; j <= q; j++) {
    let p: f64 = 1;
    for (let m = 0; m <= q; m++) if (m != j) p *= off(j) - off(m);
    store<f64>(invDenoms + ((<usize> j) << 3), 1.0 / p);
  }
}

/** Adds ∫_a^b ℓ_j(φ(w)) ρ_k e^w dw over one smooth piece, subdivided to length ≤ MAX_PIECE. */
function integratePiece(phi: i32, k: i32, q: i32, a: f64, b: f64): void {
  // A non-finite or absurd interval yields a non-finite weight, which the host reports.
  const count = Math.ceil(Math.abs(b - a) / MAX_PIECE);
  const pieces = count >= 1.0 && count <= 1e6 ? <i32> count : 1;
  const len = (b - a) / <f64> pieces;
  const tk = getF(gridTimes, k);
  const rk = getF(gRho, k);
  const rk2 = rk * rk;
  for (let p = 0; p < pieces; p++) {
    const start = a + <f64> p * len;
    for (let i = 0; i < GL_N; i++) {
      const w = start + len * glNode(i);
      let s: f64;
      if (phi == PHI_T) s = timeOffset(tk, rk2, w);
      else if (phi == PHI_RHO) s = rk * Math.expm1(w);
      else s = w;
      const f = glWeight(i) * len * rk * Math.exp(w);
      for (let j = 0; j <= q; j++) {
        let l = load<f64>(invDenoms + ((<usize> j) << 3));
        for (let m = 0; m <= q; m++) if (m != j) l *= s - off(m);
        const at = acc + ((<usize> j) << 3);
        store<f64>(at, load<f64>(at) + f * l);
      }
    }
  }
}

/** Writes the q + 1 weights of step k into out[0..q]. */
export function lagrangeWeights(phi: i32, k: i32, q: i32, out: usize): void {
  ensureQuadrature();
  nodeOffsets(phi, k, q);
  for (let j = 0; j <= q; j++) store<f64>(acc + ((<usize> j) << 3), 0.0);
  const total = getF(sLogRho, k);
  let a: f64 = 0;
  const n = knots();
  if (n > 0) {
    // The piecewise-linear discrete schedule is only smooth between knots: split there.
    const uk = getF(gLogRho, k);
    const uNext = uk + total;
    for (let m = n - 1; m >= 0; m--) {
      const um = knotLogRhoAt(m);
      if (um >= uk) continue;
      if (um <= uNext) break;
      const b = um - uk;
      integratePiece(phi, k, q, a, b);
      a = b;
    }
  }
  integratePiece(phi, k, q, a, total);
  for (let j = 0; j <= q; j++) setF(out, j, load<f64>(acc + ((<usize> j) << 3)));
}

/** ρAB weights in closed form: exact integrals of the Lagrange basis polynomials in ρ. */
export function rhoabClosedForm(k: i32, q: i32, out: usize): void {
  nodeOffsets(PHI_RHO, k, q);
  const h = getF(sRho, k);
  const coef = memory.data(8 * 8);
  for (let j = 0; j <= q; j++) {
    // Expand Π_{m≠j} (s − d_m) into coefficients of s^0..s^q.
    store<f64>(coef, 1.0);
    let deg = 0;
    for (let m = 0; m <= q; m++) {
      if (m == j) continue;
      const d = off(m);
      store<f64>(coef + ((<usize> (deg + 1)) << 3), 0.0);
      for (let p = deg + 1; p >= 1; p--) {
        const at = coef + ((<usize> p) << 3);
        store<f64>(at, load<f64>(at - 8) - d * load<f64>(at));
      }
      store<f64>(coef, -d * load<f64>(coef));
      deg++;
    }
    let integral: f64 = 0;
    let hp = h;
    for (let p = 0; p <= deg; p++) {
      integral += (load<f64>(coef + ((<usize> p) << 3)) * hp) / <f64> (p + 1);
      hp *= h;
    }
    setF(out, j, integral * load<f64>(invDenoms + ((<usize> j) << 3)));
  }
}
