/**
 * diffusers interop: a `scheduler_config.json` object → plan settings (a vp-discrete ᾱ table, the
 * `diffusers` grid and the network's prediction type).
 *
 * The ᾱ table reproduces diffusers' float32 construction (`DDIMScheduler.__init__`,
 * `betas_for_alpha_bar` and `rescale_zero_terminal_snr` in diffusers
 * `src/diffusers/schedulers/scheduling_ddim.py`) operation by operation with `Math.fround`; see
 * docs/CONVENTIONS.md, "diffusers schedulers", for the formulas and where torch's result depends on
 * the machine.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { MAX_TABLE, type PlanConfig } from "./config.ts";
import { TIMESTEP_SPACINGS, type TimestepSpacing } from "./diffusers_grid.ts";

export { diffusersGrid, diffusersTimesteps, roundHalfEven, TIMESTEP_SPACINGS } from "./diffusers_grid.ts";
export type { TimestepSpacing } from "./diffusers_grid.ts";

/** diffusers' `beta_schedule` values that are supported. */
export type BetaSchedule = "linear" | "scaled_linear" | "squaredcos_cap_v2";

/** The supported `beta_schedule` values. */
export const BETA_SCHEDULES: readonly BetaSchedule[] = ["linear", "scaled_linear", "squaredcos_cap_v2"];

/** diffusers' `prediction_type` → the manifest's `prediction`. */
export const PREDICTION_TYPES: Readonly<Record<string, "eps" | "v" | "x0">> = {
  epsilon: "eps",
  v_prediction: "v",
  sample: "x0",
};

/** ᾱ at the last index under zero terminal SNR: diffusers' EulerDiscreteScheduler's 2⁻²⁴. */
export const ZERO_SNR_LAST_ALPHA_BAR = 2 ** -24;

/** What a diffusers scheduler config maps to. */
export interface DiffusersSettings {
  /** Plan settings: `sde: "vp-discrete"`, `alphasCumprod`, `grid: "diffusers"`, `timestepSpacing`, `stepsOffset`. */
  plan: PlanConfig;
  /** What the network predicts (`prediction_type`: epsilon → eps, v_prediction → v, sample → x0). */
  prediction: "eps" | "v" | "x0";
  /** `timestep_spacing`. */
  spacing: TimestepSpacing;
  /** `steps_offset` (diffusers applies it to `leading` spacing only). */
  stepsOffset: number;
  /** `num_train_timesteps` N: the table length. */
  trainSteps: number;
  /** Where the betas came from. */
  betaSchedule: BetaSchedule | "trained_betas";
  /** `rescale_betas_zero_snr`: the table was rescaled and its last ᾱ set to 2⁻²⁴. */
  zeroTerminalSnr: boolean;
  /** `_class_name`, when given. */
  className?: string;
  /** Keys that were read and have no effect on a plan (bookkeeping, or diffusers' own solver settings). */
  ignored: string[];
  /** Keys this version does not know; they were ignored. Callers should show them as warnings. */
  unknown: string[];
}

/** Keys mapped to plan settings. */
const MAPPED = [
  "num_train_timesteps",
  "beta_start",
  "beta_end",
  "beta_schedule",
  "trained_betas",
  "prediction_type",
  "timestep_spacing",
  "steps_offset",
  "rescale_betas_zero_snr",
];

/**
 * Keys accepted without effect: bookkeeping, or settings of diffusers' own solver that a plan's
 * `method` replaces (the solver family, its order, its final-step handling).
 */
const IGNORED = new Set([
  "_class_name",
  "_diffusers_version",
  "set_alpha_to_one",
  "skip_prk_steps",
  "final_sigmas_type",
  "solver_order",
  "solver_type",
  "algorithm_type",
  "lower_order_final",
  "euler_at_final",
  "use_lu_lambdas",
  "deis_order",
  "predictor_order",
  "corrector_order",
  "disable_corrector",
  "solver_p",
  "variance_type",
  "lambda_min_clipped",
  "interpolation_type",
  "timestep_type",
  "use_karras_sigmas",
  "use_exponential_sigmas",
  "use_beta_sigmas",
  "use_flow_sigmas",
  "sigma_min",
  "sigma_max",
  "clip_sample",
  "clip_sample_range",
  "thresholding",
  "dynamic_thresholding_ratio",
  "sample_max_value",
]);

/**
 * Settings that change the sampler itself: refused (by name, with the reason) when switched on,
 * accepted when off. `check` returns the reason to refuse, or null.
 */
const SAMPLER_OPTIONS: { key: string; check: (v: unknown, all: Record<string, unknown>) => string | null }[] = [
  {
    key: "thresholding",
    check: (v) =>
      v === true
        ? "dynamic thresholding clips x̂₀ per sample at every step, which a DEIS plan does not do; set it to false"
        : null,
  },
  {
    key: "clip_sample",
    check: (v) =>
      v === true
        ? "clips x̂₀ to ±clip_sample_range at every step, which a DEIS plan does not do; set it to false " +
          "(latent-diffusion configs already have it false)"
        : null,
  },
  {
    key: "use_karras_sigmas",
    check: (v) =>
      v === true
        ? 'changes the time grid; ask for grid "karras" (ρ = σ/α with κ = 7) in the plan config instead'
        : null,
  },
  {
    key: "use_exponential_sigmas",
    check: (v) => (v === true ? 'changes the time grid; ask for grid "logrho" in the plan config instead' : null),
  },
  {
    key: "use_beta_sigmas",
    check: (v) => (v === true ? "changes the time grid to a beta-distribution grid, which is not supported" : null),
  },
  {
    key: "use_flow_sigmas",
    check: (v) => (v === true ? "a flow-matching schedule is not a VP schedule; not supported" : null),
  },
  {
    key: "timestep_type",
    check: (v) =>
      v !== undefined && v !== null && v !== "discrete"
        ? 'only "discrete" timesteps (integer indices) are supported'
        : null,
  },
  {
    key: "interpolation_type",
    check: (v) =>
      v !== undefined && v !== null && v !== "linear"
        ? 'only "linear" interpolation (exact at integer timesteps) is supported'
        : null,
  },
  {
    key: "variance_type",
    check: (v) =>
      typeof v === "string" && v.startsWith("learned")
        ? "a learned variance means the network outputs extra channels, which a plan does not read; not supported"
        : null,
  },
];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * torch's `linspace(start, end, n, dtype=float32)` on CPU with the portable (non-SIMD) kernel,
 * `ATEN_CPU_CAPABILITY=default`: `step = f32((end − start)/(n − 1))`; entries in blocks of 8 lanes
 * (two vectors per loop turn) as `f32(base + f32(j·step))` with `base` the scalar formula at the
 * block's first index; the tail, and the scalar formula, `f32(start + f32(step·i))` below the
 * halfway index `n/2` and `f32(end − f32(step·(n − 1 − i)))` from it on.
 */
export function torchLinspaceF32(start: number, end: number, n: number): Float32Array {
  const f = Math.fround;
  const a = f(start), b = f(end);
  const out = new Float32Array(n);
  if (n === 1) {
    out[0] = a;
    return out;
  }
  const step = f(f(b - a) / (n - 1));
  const half = Math.floor(n / 2);
  const scalar = (i: number) => (i < half ? f(a + f(step * i)) : f(b - f(step * (n - i - 1))));
  const V = 8;
  let i = 0;
  for (; i <= n - 2 * V; i += 2 * V) {
    for (const i0 of [i, i + V]) {
      const base = scalar(i0);
      for (let j = 0; j < V; j++) out[i0 + j] = f(base + f(j * step));
    }
  }
  for (; i < n; i++) out[i] = scalar(i);
  return out;
}

/** torch's CPU `cumprod` of a float32 tensor: the running product kept in float64, each output rounded to float32. */
export function torchCumprodF32(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) {
    acc *= values[i];
    out[i] = acc;
  }
  return out;
}

/** `betas_for_alpha_bar(N)` (cosine, max_beta 0.999): float64 in Python, then a float32 tensor. */
export function cosineBetas(n: number): Float32Array {
  const alphaBar = (t: number) => Math.cos((t + 0.008) / 1.008 * Math.PI / 2) ** 2;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t1 = i / n, t2 = (i + 1) / n;
    out[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), 0.999);
  }
  return out;
}

/** `rescale_zero_terminal_snr(betas)` in float32 (Lin et al. 2023, Algorithm 1, as diffusers codes it). */
export function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const f = Math.fround;
  const n = betas.length;
  const alphas = betas.map((b) => f(1 - b));
  const sq = torchCumprodF32(alphas).map((v) => f(Math.sqrt(v)));
  const s0 = sq[0], sT = sq[n - 1];
  const scale = f(s0 / f(s0 - sT));
  const ab = sq.map((v) => {
    const s = f(f(v - sT) * scale);
    return f(s * s);
  });
  const out = new Float32Array(n);
  out[0] = f(1 - ab[0]);
  for (let i = 1; i < n; i++) out[i] = f(1 - f(ab[i] / ab[i - 1]));
  return out;
}

/** Options of {@link diffusersAlphasCumprod} (diffusers' names, diffusers' defaults). */
export interface DiffusersScheduleOptions {
  /** `num_train_timesteps` (default 1000). */
  num_train_timesteps?: number;
  /** `beta_start` (default 0.0001). */
  beta_start?: number;
  /** `beta_end` (default 0.02). */
  beta_end?: number;
  /** `beta_schedule` (default `"linear"`). */
  beta_schedule?: BetaSchedule;
  /** `trained_betas` (replaces the schedule). */
  trained_betas?: ArrayLike<number> | null;
  /** `rescale_betas_zero_snr` (default false). */
  rescale_betas_zero_snr?: boolean;
}

/**
 * diffusers' float32 `alphas_cumprod` as float64 numbers (unchecked). With zero terminal SNR the
 * last entry is 2⁻²⁴, as EulerDiscreteScheduler sets it (DDIMScheduler leaves it 0).
 */
export function diffusersAlphasCumprod(o: DiffusersScheduleOptions = {}): Float64Array {
  const N = o.num_train_timesteps ?? 1000;
  const start = o.beta_start ?? 0.0001, end = o.beta_end ?? 0.02;
  let betas: Float32Array;
  if (o.trained_betas) betas = Float32Array.from(o.trained_betas);
  else if ((o.beta_schedule ?? "linear") === "linear") betas = torchLinspaceF32(start, end, N);
  else if (o.beta_schedule === "scaled_linear") {
    betas = torchLinspaceF32(Math.sqrt(start), Math.sqrt(end), N).map((x) => Math.fround(x * x));
  } else betas = cosineBetas(N);
  if (o.rescale_betas_zero_snr) betas = rescaleZeroTerminalSnr(betas);
  const ac = torchCumprodF32(betas.map((b) => Math.fround(1 - b)));
  if (o.rescale_betas_zero_snr) ac[ac.length - 1] = ZERO_SNR_LAST_ALPHA_BAR;
  return Float64Array.from(ac);
}

/**
 * Maps a diffusers `scheduler_config.json` object to plan settings. Every key is checked; a
 * rejection is a {@link ConfigError} whose field is `scheduler.<key>`. Settings that change the
 * sampler (`thresholding`, `clip_sample`, `use_karras_sigmas`, … when switched on) are refused by
 * name; bookkeeping keys and diffusers' own solver settings are listed in `ignored`; keys this
 * version does not know are listed in `unknown` (and otherwise ignored). Missing keys take
 * DDIMScheduler's defaults, except that a missing `clip_sample`/`thresholding` counts as off.
 *
 * @example
 * ```ts
 * import { fromDiffusersScheduler, makePlan } from "@seed/deis";
 * const s = fromDiffusersScheduler({
 *   beta_schedule: "scaled_linear", beta_start: 0.00085, beta_end: 0.012,
 *   steps_offset: 1, clip_sample: false, prediction_type: "epsilon",
 * });
 * const plan = makePlan({ ...s.plan, method: "tab", order: 2, steps: 20 });
 * console.log(s.prediction, plan.timesteps.length); // "eps" 21
 * ```
 */
export function fromDiffusersScheduler(config: unknown): DiffusersSettings {
  if (!isObject(config)) throw new ConfigError("scheduler", "a JSON object (scheduler_config.json)", config);
  const c = config;
  const bad = (key: string, allowed: string, detail?: string): never => {
    throw new ConfigError(`scheduler.${key}`, allowed, c[key], detail);
  };
  const has = (k: string) => c[k] !== undefined && c[k] !== null;
  const bool = (key: string, dflt: boolean): boolean => {
    if (!has(key)) return dflt;
    return typeof c[key] === "boolean" ? c[key] as boolean : bad(key, "true or false");
  };
  const num = (key: string, dflt: number, lo: number, hi: number): number => {
    if (!has(key)) return dflt;
    const v = c[key];
    return typeof v === "number" && Number.isFinite(v) && v > lo && v < hi ? v : bad(key, `a number in (${lo}, ${hi})`);
  };
  const int = (key: string, dflt: number, lo: number, hi: number): number => {
    if (!has(key)) return dflt;
    const v = c[key];
    return typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi
      ? v
      : bad(key, `an integer in [${lo}, ${hi}]`);
  };
  const choice = <T extends string>(key: string, dflt: T, names: readonly T[]): T => {
    if (!has(key)) return dflt;
    return names.includes(c[key] as T) ? c[key] as T : bad(key, `one of ${names.join(", ")}`);
  };

  for (const { key, check } of SAMPLER_OPTIONS) {
    const reason = check(c[key], c);
    if (reason) bad(key, "off", `${JSON.stringify(c[key])} is not supported: ${reason}`);
  }
  bool("thresholding", false);
  bool("clip_sample", false);
  bool("set_alpha_to_one", true);

  const N = int("num_train_timesteps", 1000, 2, MAX_TABLE);
  const betaSchedule = choice("beta_schedule", "linear" as BetaSchedule, BETA_SCHEDULES);
  const betaStart = num("beta_start", 0.0001, 0, 1);
  const betaEnd = num("beta_end", 0.02, 0, 1);
  let trained: number[] | null = null;
  if (has("trained_betas")) {
    const tb = c.trained_betas;
    if (!Array.isArray(tb) || tb.length !== N) {
      bad("trained_betas", `null or an array of num_train_timesteps = ${N} numbers in (0, 1)`);
    }
    trained = (tb as unknown[]).map((v, i) =>
      typeof v === "number" && v > 0 && v < 1 ? v : (() => {
        throw new ConfigError(`scheduler.trained_betas[${i}]`, "a number in (0, 1)", v);
      })()
    );
  } else if (betaSchedule !== "squaredcos_cap_v2" && !(betaEnd >= betaStart)) {
    bad("beta_end", `a number in [beta_start = ${betaStart}, 1)`);
  }
  const predictionType = has("prediction_type") ? c.prediction_type : "epsilon";
  const prediction = typeof predictionType === "string" && Object.hasOwn(PREDICTION_TYPES, predictionType)
    ? PREDICTION_TYPES[predictionType]
    : bad("prediction_type", `one of ${Object.keys(PREDICTION_TYPES).join(", ")}`);
  const spacing = choice("timestep_spacing", "leading" as TimestepSpacing, TIMESTEP_SPACINGS);
  const stepsOffset = int("steps_offset", 0, 0, N - 1);
  const zeroTerminalSnr = bool("rescale_betas_zero_snr", false);

  const alphasCumprod = diffusersAlphasCumprod({
    num_train_timesteps: N,
    beta_start: betaStart,
    beta_end: betaEnd,
    beta_schedule: betaSchedule,
    trained_betas: trained,
    rescale_betas_zero_snr: zeroTerminalSnr,
  });
  const source = trained ? "trained_betas" : betaSchedule === "squaredcos_cap_v2" ? "beta_schedule" : "beta_start";
  for (let i = 0; i < N; i++) {
    const v = alphasCumprod[i];
    if (!(v > 0 && v < 1) || (i > 0 && !(v < alphasCumprod[i - 1]))) {
      if (zeroTerminalSnr && i === N - 1) {
        bad(
          "rescale_betas_zero_snr",
          "false, or a schedule whose rescaled alphas_cumprod[N − 2] exceeds 2⁻²⁴",
          `rescales alphas_cumprod[${N - 2}] to ${alphasCumprod[N - 2]}, below the 2⁻²⁴ that replaces the ` +
            `terminal 0 (as in EulerDiscreteScheduler), so the table would not decrease; set it to false or use ` +
            "a schedule with a larger terminal ᾱ (scaled_linear and squaredcos_cap_v2 at N = 1000 are fine)",
        );
      }
      const field = zeroTerminalSnr && i >= N - 2 ? "rescale_betas_zero_snr" : source;
      bad(
        field,
        "a schedule whose float32 alphas_cumprod is strictly decreasing in (0, 1)",
        `gives alphas_cumprod[${i}] = ${v}` + (i > 0 ? ` after ${alphasCumprod[i - 1]}` : "") +
          " in float32, which a vp-discrete table cannot hold",
      );
    }
  }

  const ignored: string[] = [];
  const unknown: string[] = [];
  for (const key of Object.keys(c)) {
    if (MAPPED.includes(key)) continue;
    if (IGNORED.has(key)) ignored.push(key);
    else unknown.push(key);
  }
  const settings: DiffusersSettings = {
    plan: {
      sde: "vp-discrete",
      alphasCumprod: Array.from(alphasCumprod),
      grid: "diffusers",
      timestepSpacing: spacing,
      stepsOffset,
    },
    prediction,
    spacing,
    stepsOffset,
    trainSteps: N,
    betaSchedule: trained ? "trained_betas" : betaSchedule,
    zeroTerminalSnr,
    ignored,
    unknown,
  };
  if (typeof c._class_name === "string") settings.className = c._class_name;
  return settings;
}

/**
 * Parses `scheduler_config.json` text. Python's `json` writes non-finite floats as bare `Infinity`,
 * `-Infinity` and `NaN` (DPMSolverMultistepScheduler saves `"lambda_min_clipped": -Infinity`), which
 * JSON does not allow: where plain JSON parsing fails, those values are read as `null`. Throws a
 * `SyntaxError` for anything else that is not JSON.
 */
export function parseSchedulerJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const patched = text.replace(/([:[,]\s*)(-?Infinity|NaN)(?=\s*[,}\]])/g, "$1null");
    if (patched === text) throw e;
    return JSON.parse(patched);
  }
}

/**
 * A diffusers scheduler's plan settings merged with a plan config: the config's keys win, and the
 * scheduler's `timestepSpacing`/`stepsOffset` are dropped when the config asks for another grid or
 * gives custom `timesteps`.
 */
export function diffusersPlanConfig(settings: DiffusersSettings, config: PlanConfig = {}): PlanConfig {
  const out: PlanConfig = { ...settings.plan, ...config };
  if ((config.grid !== undefined && config.grid !== "diffusers") || config.timesteps !== undefined) {
    if (config.grid === undefined) delete out.grid;
    if (config.timestepSpacing === undefined) delete out.timestepSpacing;
    if (config.stepsOffset === undefined) delete out.stepsOffset;
  }
  return out;
}
