/**
 * The plan: everything a sampling loop needs, computed once by the coefficient engine and
 * serialisable to JSON so that a runtime without the WASM engine can load it.
 *
 * @module
 */

/** Names of the SDE families. */
export type SdeName = "vp-linear" | "vp-cosine" | "vp-discrete" | "ve";

/** Names of the built-in time grids. */
export type GridName =
  | "time-uniform"
  | "time-quadratic"
  | "time-power"
  | "logrho"
  | "karras";

/** Names of the sampling methods. */
export type MethodName =
  | "ddim"
  | "tab"
  | "rhoab"
  | "logrho"
  | "ipndm"
  | "rhork"
  | "euler"
  | "ei-score";

/** Names of the ρRK tableaus. */
export type RkName =
  | "euler"
  | "midpoint2"
  | "heun2"
  | "ralston3"
  | "kutta3"
  | "rk4";

/** The SDE of a plan, with every parameter filled in. */
export interface SdeSpec {
  /** The SDE family. */
  name: SdeName;
  /** vp-linear β₀ (default 0.1). */
  betaMin?: number;
  /** vp-linear β₁ (default 20). */
  betaMax?: number;
  /** ve σ_min (default 0.01). */
  sigmaMin?: number;
  /** ve σ_max (default 50). */
  sigmaMax?: number;
  /** vp-discrete ᾱ table (alphas_cumprod, index n at time t_n = (n + 1)/N), strictly decreasing in (0, 1). */
  alphasCumprod?: number[];
}

/** One stage of a ρRK step (see docs/CONVENTIONS.md). */
export interface RkStage {
  /** Time at which the network is evaluated for this stage. */
  t: number;
  /** ᾱ(t) (alphas_cumprod) at the stage's time. */
  alphaBar: number;
  /** ρ(t) = σ/α at the stage's time. */
  rho: number;
  /** Coefficient of the step's starting state x_k: α(t)/α_k. */
  xCoef: number;
  /** Coefficients of the earlier stages' ε, oldest first. */
  coefs: number[];
}

/** A complete, validated plan. All arrays are finite numbers. */
export interface Plan {
  /** Format tag of the JSON form. */
  format: "deis-plan/1";
  /** The SDE the plan was computed for, with its parameters. */
  sde: SdeSpec;
  /** The sampling method. */
  method: MethodName;
  /** Multistep order r (0 for single-step methods). */
  order: number;
  /** The ρRK tableau (rhork only). */
  rk?: RkName;
  /** Stochasticity λ of stochastic DDIM (0: deterministic). */
  lambda: number;
  /** The time grid (`"custom"` for user-given timesteps). */
  grid: GridName | "custom";
  /** Exponent κ of the grid (time-power and karras only). */
  kappa?: number;
  /** Number of steps N. */
  steps: number;
  /** steps + 1 times, decreasing from T to ε. */
  timesteps: number[];
  /** ᾱ(t) = alphas_cumprod at each timestep (steps + 1 values). */
  alphaBar: number[];
  /** ρ(t) = σ/α at each timestep (steps + 1 values). */
  rho: number[];
  /**
   * Per step `[x_coef, c_0, …, c_r]`: x_{k+1} = x_coef·x_k + Σ_j c_j·ε_{k−j}, newest ε first.
   * For rhork: `[x_coef, c_0, …, c_{s−1}]` over the step's stage ε in stage order.
   */
  rows: number[][];
  /** Per step noise scale s_k (x_{k+1} += s_k·z); present when lambda > 0. */
  noise?: number[];
  /** rhork only: per step, its stages. */
  stages?: RkStage[][];
  /** Times at which the network is evaluated, in call order. */
  evalTimes: number[];
  /** Number of network evaluations (steps, or steps × stages for rhork). */
  nfe: number;
}
