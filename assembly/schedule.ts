// Per-grid quantities shared by every table builder: ᾱ, ρ, α at the grid points and the accurate
// per-step differences of log ᾱ, ρ and log ρ.

import { alloc, getF, setF } from "./memory";
import { logAlphaBar, logAlphaBarDiff, logRho, logRhoDiff, rho2, rho2Diff, sdeKind, VE } from "./sde";

export let gridSteps: i32 = 0;
export let gridTimes: usize = 0;
/** log ᾱ_i, ρ_i, α_i, log ρ_i for i = 0..steps. */
export let gLogAlphaBar: usize = 0;
export let gRho: usize = 0;
export let gAlpha: usize = 0;
export let gLogRho: usize = 0;
/** Per step k: log ᾱ_{k+1} − log ᾱ_k, ρ_{k+1} − ρ_k, log ρ_{k+1} − log ρ_k. */
export let sLogAlphaBar: usize = 0;
export let sRho: usize = 0;
export let sLogRho: usize = 0;

export function prepareGrid(steps: i32, times: usize): void {
  gridSteps = steps;
  gridTimes = times;
  const n = steps + 1;
  gLogAlphaBar = alloc(n << 3);
  gRho = alloc(n << 3);
  gAlpha = alloc(n << 3);
  gLogRho = alloc(n << 3);
  sLogAlphaBar = alloc(steps << 3);
  sRho = alloc(steps << 3);
  sLogRho = alloc(steps << 3);
  const ve = sdeKind() == VE;
  for (let i = 0; i < n; i++) {
    const t = getF(times, i);
    const la = logAlphaBar(t);
    setF(gLogAlphaBar, i, la);
    setF(gRho, i, Math.sqrt(rho2(t)));
    setF(gAlpha, i, ve ? 1.0 : Math.exp(0.5 * la));
    setF(gLogRho, i, logRho(t));
  }
  for (let k = 0; k < steps; k++) {
    const ta = getF(times, k + 1);
    const tb = getF(times, k);
    setF(sLogAlphaBar, k, logAlphaBarDiff(ta, tb));
    setF(sRho, k, rho2Diff(ta, tb) / (getF(gRho, k + 1) + getF(gRho, k)));
    setF(sLogRho, k, logRhoDiff(ta, tb));
  }
}

/** Writes ᾱ and ρ at `n` times. */
export function evalSchedule(times: usize, n: i32, outAlphaBar: usize, outRho: usize): void {
  const ve = sdeKind() == VE;
  for (let i = 0; i < n; i++) {
    const t = getF(times, i);
    setF(outAlphaBar, i, ve ? 1.0 : Math.exp(logAlphaBar(t)));
    setF(outRho, i, Math.sqrt(rho2(t)));
  }
}

/** Ψ_k = α_{k+1}/α_k. */
export function psi(k: i32): f64 {
  return sdeKind() == VE ? 1.0 : Math.exp(0.5 * getF(sLogAlphaBar, k));
}
