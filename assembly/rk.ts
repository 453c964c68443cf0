// ρRK-DEIS: explicit Runge–Kutta tableaus on dv/dρ = ε, turned into x-space stage coefficients.

import { getF, setF } from "./memory";
import { gAlpha, gRho, gridTimes, psi, sRho } from "./schedule";
import { sdeKind, timeOfLogRho, VE } from "./sde";

// Per tableau: stage count, then c[S], a[S×S] (row-major, strictly lower), b[S].
const RK_EULER = memory.data<f64>([1, 0, 0, 1]);
const RK_MIDPOINT2 = memory.data<f64>([2, 0, 0.5, 0, 0, 0.5, 0, 0, 1]);
const RK_HEUN2 = memory.data<f64>([2, 0, 1, 0, 0, 1, 0, 0.5, 0.5]);
const RK_RALSTON3 = memory.data<f64>([
  3,
  0,
  0.5,
  0.75,
  0,
  0,
  0,
  0.5,
  0,
  0,
  0,
  0.75,
  0,
  2.0 / 9.0,
  1.0 / 3.0,
  4.0 / 9.0,
]);
const RK_KUTTA3 = memory.data<f64>([
  3,
  0,
  0.5,
  1,
  0,
  0,
  0,
  0.5,
  0,
  0,
  -1,
  2,
  0,
  1.0 / 6.0,
  2.0 / 3.0,
  1.0 / 6.0,
]);
const RK_RK4 = memory.data<f64>([
  4,
  0,
  0.5,
  0.5,
  1,
  0,
  0,
  0,
  0,
  0.5,
  0,
  0,
  0,
  0,
  0.5,
  0,
  0,
  0,
  0,
  1,
  0,
  1.0 / 6.0,
  1.0 / 3.0,
  1.0 / 3.0,
  1.0 / 6.0,
]);

function tableau(id: i32): usize {
  if (id == 0) return RK_EULER;
  if (id == 1) return RK_MIDPOINT2;
  if (id == 2) return RK_HEUN2;
  if (id == 3) return RK_RALSTON3;
  if (id == 4) return RK_KUTTA3;
  return RK_RK4;
}

export function rkStages(id: i32): i32 {
  return <i32> getF(tableau(id), 0);
}

/**
 * Per step and stage: [t, ᾱ, ρ, x_coef, a-coefs × (S − 1)] (stride S + 3) into `stages`, and per step
 * the row [Ψ_k, α_{k+1} h b_0, …] (stride S + 1) into `rows`.
 */
export function buildRk(id: i32, steps: i32, stages: usize, rows: usize): void {
  const tab = tableau(id);
  const S = rkStages(id);
  const cAt = tab + 8;
  const aAt = cAt + ((<usize> S) << 3);
  const bAt = aAt + ((<usize> (S * S)) << 3);
  const stride = S + 3;
  const ve = sdeKind() == VE;
  for (let k = 0; k < steps; k++) {
    const h = getF(sRho, k);
    const rk = getF(gRho, k);
    const ak = getF(gAlpha, k);
    for (let m = 0; m < S; m++) {
      const c = getF(cAt, m);
      const rec = stages + ((<usize> ((k * S + m) * stride)) << 3);
      let t: f64;
      let r: f64;
      if (c == 0.0) {
        t = getF(gridTimes, k);
        r = rk;
      } else if (c == 1.0) {
        t = getF(gridTimes, k + 1);
        r = getF(gRho, k + 1);
      } else {
        r = rk + c * h;
        t = timeOfLogRho(Math.log(r));
      }
      const alphaBar = ve ? 1.0 : 1.0 / (1.0 + r * r);
      const alpha = ve ? 1.0 : Math.sqrt(alphaBar);
      setF(rec, 0, t);
      setF(rec, 1, alphaBar);
      setF(rec, 2, r);
      setF(rec, 3, ve ? 1.0 : c == 0.0 ? 1.0 : alpha / ak);
      for (let l = 0; l < S - 1; l++) setF(rec, 4 + l, l < m ? alpha * h * getF(aAt, m * S + l) : 0.0);
    }
    const row = rows + ((<usize> (k * (S + 1))) << 3);
    const aNext = getF(gAlpha, k + 1);
    setF(row, 0, psi(k));
    for (let m = 0; m < S; m++) setF(row, 1 + m, aNext * h * getF(bAt, m));
  }
}
