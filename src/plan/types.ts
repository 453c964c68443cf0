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
  | "karras"
  | "diffusers";

/** Names of the sampling methods. */
export type MethodName =
  | "ddim"
  | "tab"
  | "rhoab"
  | "logrho"
  | "ipndm"
  | "rhork"
  | "euler"
  | "ei-score"
  | "dpmpp"
  | "unipc";

/** UniPC's B(h) variants (`bh1`: B(h) = −h, `bh2`: B(h) = e^{−h} − 1, with h the step in λ = −log ρ). */
export type VariantName = "bh1" | "bh2";

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

/** A register: `x<i>` holds a state the network can be evaluated on, `v<i>` a network value (ε or x̂₀). */
export type RegisterName = `x${number}` | `v${number}`;

/** `init`: the starting state x_T — the caller's `init`, or prior noise `scale·z` (stream 0). */
export interface InitOp {
  /** The operation. */
  op: "init";
  /** The x register written. */
  dst: `x${number}`;
  /** Standard deviation of the prior (1 for VP, σ(T) for VE). */
  scale: number;
}

/** `eval`: the network on x register `src` at one point; its output as ε or as x̂₀ into `dst`. */
export interface EvalOp {
  /** The operation. */
  op: "eval";
  /** The value register written. */
  dst: `v${number}`;
  /** The x register fed to the network. */
  src: `x${number}`;
  /** Model time. */
  t: number;
  /** ᾱ(t). */
  alphaBar: number;
  /** ρ(t) = σ/α. */
  rho: number;
  /** The step this evaluation belongs to (for messages). */
  step: number;
  /** What is stored: ε, or the data prediction x̂₀ = (x − σ ε)/α. */
  out: "eps" | "x0";
}

/** `combine`: `dst ← a·dst + c·src + Σ c_j·v_j (+ s·z)`, the one update every method is made of. */
export interface CombineOp {
  /** The operation. */
  op: "combine";
  /** The x register written. */
  dst: `x${number}`;
  /** Coefficient of dst's current value (0: overwrite, dst is not read). */
  a: number;
  /** Another x register and its coefficient. */
  src?: [`x${number}`, number];
  /** Value registers and their coefficients, in summation order. */
  terms: [`v${number}`, number][];
  /** Gaussian noise `scale·z(stream, step)` (see docs/CONVENTIONS.md, "Noise"). */
  noise?: { scale: number; stream: number; step: number };
  /** Set on the op that completes a step: the number of steps done (progress is reported after it). */
  end?: number;
}

/** One program operation. */
export type Op = InitOp | EvalOp | CombineOp;

/** A plan's program: what every backend runs, through one interpreter (docs/CONVENTIONS.md, "Programs"). */
export interface Program {
  /** Number of x registers (`x0` is the state returned) and of value registers. */
  registers: { x: number; v: number };
  /** The sampling loop. */
  ops: Op[];
  /** Final denoising at t = ε, appended when asked for: one evaluation and `x ← x/α − ρ ε`. */
  final: Op[];
}

/** A complete, validated plan. All arrays are finite numbers. */
export interface Plan {
  /** Format tag of the JSON form (`deis-plan/1` plans are read and upgraded). */
  format: "deis-plan/2";
  /** The SDE the plan was computed for, with its parameters. */
  sde: SdeSpec;
  /** The sampling method. */
  method: MethodName;
  /** Multistep order r (0 for single-step methods). */
  order: number;
  /** UniPC's variant (unipc only). */
  variant?: VariantName;
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
   * For rhork: `[x_coef, c_0, …, c_{s−1}]` over the step's stage ε in stage order. Absent for
   * methods that are not x-space ε rows (dpmpp, unipc: see `program`).
   */
  rows?: number[][];
  /** Per step noise scale s_k (x_{k+1} += s_k·z); present when lambda > 0. */
  noise?: number[];
  /** rhork only: per step, its stages. */
  stages?: RkStage[][];
  /** The program every backend runs. */
  program: Program;
  /** Times at which the network is evaluated, in call order. */
  evalTimes: number[];
  /** Number of network evaluations (the program's eval ops, without final denoising). */
  nfe: number;
}
