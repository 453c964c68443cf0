// Time grids: steps + 1 decreasing times from T to ε (docs/CONVENTIONS.md).

import { setF } from "./memory";
import { logRho, timeOfLogRho } from "./sde";

export const G_TIME_POWER: i32 = 0;
export const G_LOGRHO: i32 = 1;
export const G_KARRAS: i32 = 2;

export function buildGrid(kind: i32, steps: i32, tStart: f64, tEnd: f64, kappa: f64, out: usize): void {
  const n = <f64> steps;
  if (kind == G_TIME_POWER) {
    const a = kappa == 1.0 ? tStart : kappa == 2.0 ? Math.sqrt(tStart) : Math.pow(tStart, 1.0 / kappa);
    const b = kappa == 1.0 ? tEnd : kappa == 2.0 ? Math.sqrt(tEnd) : Math.pow(tEnd, 1.0 / kappa);
    for (let i = 1; i < steps; i++) {
      const x = a + (<f64> i / n) * (b - a);
      setF(out, i, kappa == 1.0 ? x : kappa == 2.0 ? x * x : Math.pow(x, kappa));
    }
  } else if (kind == G_LOGRHO) {
    const a = logRho(tStart);
    const b = logRho(tEnd);
    for (let i = 1; i < steps; i++) setF(out, i, timeOfLogRho(a + (<f64> i / n) * (b - a)));
  } else {
    const a = Math.exp(logRho(tStart) / kappa);
    const b = Math.exp(logRho(tEnd) / kappa);
    for (let i = 1; i < steps; i++) {
      const r = a + (<f64> i / n) * (b - a);
      setF(out, i, timeOfLogRho(kappa * Math.log(r)));
    }
  }
  setF(out, 0, tStart);
  setF(out, steps, tEnd);
}
