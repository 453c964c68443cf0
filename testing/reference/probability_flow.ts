/**
 * Reference solution of the probability-flow ODE in its non-stiff (v, log ρ) form
 * (MATH.md §1): with `v = x/α` and `ρ = σ/α`, `dv/dρ = ε(α v, t(ρ))`, i.e.
 * `dv/d log ρ = ρ · ε(α v, t(ρ))`, solved by an adaptive embedded Runge–Kutta pair in float64.
 *
 * @module
 */

import { DORMAND_PRINCE_54, type EmbeddedTableau, integrateAdaptive } from "./rk.ts";
import { asReferenceSde, type ReferenceSde, type ReferenceSdeSpec } from "./sde.ts";

/** An ε-prediction: `ε(x, t)` for one sample x (flat, length D). Must not modify or keep `x`. */
export type EpsFunction = (x: Float64Array, t: number) => ArrayLike<number>;

/** Options of {@link solveProbabilityFlow}. */
export interface ProbabilityFlowOptions {
  /** Start time T (where `xT` lives). Default: the SDE's default T. */
  tStart?: number;
  /** End time (e.g. ε = 1e-3). Default: the SDE's default ε. */
  tEnd?: number;
  /** Relative tolerance (default 1e-10). */
  rtol?: number;
  /** Absolute tolerance (default 1e-12). */
  atol?: number;
  /**
   * Integration variable: `"logrho"` (default; smooth across the wide ρ range) or `"rho"`.
   * `"rho"` is used automatically when ρ(tStart) or ρ(tEnd) is 0.
   */
  variable?: "logrho" | "rho";
  /** Maximum number of attempted steps (default 1e6). */
  maxSteps?: number;
  /** The embedded pair (default Dormand–Prince 5(4)). */
  tableau?: EmbeddedTableau;
}

/** Result of {@link solveProbabilityFlow}. */
export interface ProbabilityFlowResult {
  /** x at `tEnd`. */
  x: Float64Array;
  /** Accepted steps. */
  steps: number;
  /** Rejected steps. */
  rejected: number;
  /** Evaluations of `eps`. */
  evaluations: number;
}

/**
 * Solves the probability-flow ODE from `xT` at `tStart` to `tEnd` (either direction) in float64.
 * @param eps the ε-prediction (e.g. the exact one of a Gaussian mixture)
 * @param sde the schedule or its spec
 * @param xT the state at `tStart`
 */
export function solveProbabilityFlow(
  eps: EpsFunction,
  sde: ReferenceSde | ReferenceSdeSpec,
  xT: ArrayLike<number>,
  opts: ProbabilityFlowOptions = {},
): ProbabilityFlowResult {
  const s = asReferenceSde(sde);
  const tStart = opts.tStart ?? s.tStart;
  const tEnd = opts.tEnd ?? s.tEnd;
  const rtol = opts.rtol ?? 1e-10;
  const atol = opts.atol ?? 1e-12;
  const n = xT.length;
  const rhoStart = s.rho(tStart);
  const rhoEnd = s.rho(tEnd);
  const alphaStart = s.alpha(tStart);
  if (!(alphaStart > 0)) {
    throw new RangeError(
      `solveProbabilityFlow: α(${tStart}) = ${alphaStart} is not positive`,
    );
  }
  const variable = rhoStart === 0 || rhoEnd === 0 ? "rho" : (opts.variable ?? "logrho");

  const v0 = Float64Array.from(xT, (x) => x / alphaStart);
  const x = new Float64Array(n);
  // The clock's end points map back to the exact given times (avoids a round trip through t(ρ)).
  const timeAt = (
    rho: number,
  ) => (rho === rhoStart ? tStart : rho === rhoEnd ? tEnd : s.tOfRho(rho));
  const epsAt = (rho: number, v: Float64Array) => {
    const t = timeAt(rho);
    const a = s.alpha(t);
    for (let i = 0; i < n; i++) x[i] = a * v[i];
    return eps(x, t);
  };

  let f: (u: number, v: Float64Array) => Float64Array;
  let u0: number;
  let u1: number;
  if (variable === "rho") {
    f = (rho, v) => Float64Array.from(epsAt(rho, v));
    u0 = rhoStart;
    u1 = rhoEnd;
  } else {
    const logStart = Math.log(rhoStart);
    const logEnd = Math.log(rhoEnd);
    f = (l, v) => {
      const rho = l === logStart ? rhoStart : l === logEnd ? rhoEnd : Math.exp(l);
      const e = epsAt(rho, v);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = rho * e[i];
      return out;
    };
    u0 = logStart;
    u1 = logEnd;
  }
  const r = integrateAdaptive(f, v0, u0, u1, {
    rtol,
    atol,
    maxSteps: opts.maxSteps,
  }, opts.tableau ?? DORMAND_PRINCE_54);
  const alphaEnd = s.alpha(tEnd);
  return {
    x: Float64Array.from(r.y, (v) => v * alphaEnd),
    steps: r.steps,
    rejected: r.rejected,
    evaluations: r.evaluations,
  };
}
