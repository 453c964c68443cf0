/**
 * The plan configuration: its type, defaults and validation. Every rejection is a
 * {@link ConfigError} naming the field and its allowed range.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import type { GridName, MethodName, RkName, SdeName, VariantName } from "./types.ts";
import { METHOD_NAMES, methodInfo, RK_NAMES } from "./registry.ts";
import { diffusersGrid, TIMESTEP_SPACINGS, type TimestepSpacing } from "./diffusers_grid.ts";

export { METHOD_NAMES, RK_NAMES };

/** What a user asks for. Every key is optional; see {@link normalizeConfig} for the defaults. */
export interface PlanConfig {
  /** SDE family (default `"vp-linear"`). */
  sde?: SdeName;
  /** vp-linear β₀ (default 0.1). */
  betaMin?: number;
  /** vp-linear β₁ (default 20). */
  betaMax?: number;
  /** ve σ_min (default 0.01). */
  sigmaMin?: number;
  /** ve σ_max (default 50). */
  sigmaMax?: number;
  /** vp-discrete ᾱ table, strictly decreasing in (0, 1). */
  alphasCumprod?: ArrayLike<number>;
  /** T, the time sampling starts at (default 1; 0.9946 for vp-cosine). */
  tStart?: number;
  /** ε, the time sampling ends at (default 1e-3; 1/N for vp-discrete). */
  tEnd?: number;
  /** Time grid (default `"time-quadratic"`). */
  grid?: GridName | "custom";
  /** Exponent of `time-power` (default 2) and `karras` (default 7). */
  kappa?: number;
  /** diffusers' `timestep_spacing` of grid `diffusers` (default `"leading"`, DDIMScheduler's default). */
  timestepSpacing?: TimestepSpacing;
  /** diffusers' `steps_offset` of grid `diffusers` (default 0; applied to `leading` spacing only, as diffusers does). */
  stepsOffset?: number;
  /** A custom strictly decreasing grid (replaces `grid`; `steps` = length − 1). */
  timesteps?: ArrayLike<number>;
  /** Sampling method (default `"tab"`). */
  method?: MethodName;
  /** Multistep order r (default 3 for tab/rhoab/logrho/ipndm, 2 for dpmpp/unipc, 0 otherwise). */
  order?: number;
  /** UniPC variant (default `"bh2"`; unipc only). */
  variant?: VariantName;
  /** ρRK tableau (default `"rk4"`; rhork only). */
  rk?: RkName;
  /** Stochasticity λ ≥ 0 (default 0; λ > 0 needs method ddim). */
  lambda?: number;
  /** Number of steps (default 10). */
  steps?: number;
}

/** A configuration with every field checked and every default filled in. */
export interface NormalizedConfig {
  /** SDE family. */
  sde: SdeName;
  /** vp-linear β₀ (the default 0.1 for other SDEs, where it is unused). */
  betaMin: number;
  /** vp-linear β₁ (the default 20 for other SDEs, where it is unused). */
  betaMax: number;
  /** ve σ_min (the default 0.01 for other SDEs, where it is unused). */
  sigmaMin: number;
  /** ve σ_max (the default 50 for other SDEs, where it is unused). */
  sigmaMax: number;
  /** vp-discrete ᾱ table; null for the other SDEs. */
  alphasCumprod: Float64Array | null;
  /** T, the first timestep. */
  tStart: number;
  /** ε, the last timestep. */
  tEnd: number;
  /** Time grid (`"custom"` when `timesteps` was given). */
  grid: GridName | "custom";
  /** Grid exponent κ (1 for time-uniform, 2 for time-quadratic; NaN for logrho and custom). */
  kappa: number;
  /** The custom grid; null for built-in grids. */
  timesteps: Float64Array | null;
  /** Sampling method. */
  method: MethodName;
  /** Multistep order r (0 for single-step methods). */
  order: number;
  /** UniPC variant (`"bh2"` unless given; used by unipc only). */
  variant: VariantName;
  /** ρRK tableau (`"rk4"` unless given; used by rhork only). */
  rk: RkName;
  /** Stochasticity λ ≥ 0. */
  lambda: number;
  /** Number of steps. */
  steps: number;
  /** Grid `diffusers` only: diffusers' `timestep_spacing` and `steps_offset` (the grid is in `timesteps`). */
  diffusers?: { spacing: TimestepSpacing; stepsOffset: number; inferenceSteps: number };
}

/** Names accepted for each enumerated field. */
export const SDE_NAMES: readonly SdeName[] = [
  "vp-linear",
  "vp-cosine",
  "vp-discrete",
  "ve",
];
/** Built-in grids. */
export const GRID_NAMES: readonly GridName[] = [
  "time-uniform",
  "time-quadratic",
  "time-power",
  "logrho",
  "karras",
  "diffusers",
];
/** Largest number of steps a plan may have. */
export const MAX_STEPS = 10_000;
/** Longest vp-discrete table accepted. */
export const MAX_TABLE = 100_000;

/** Every key a {@link PlanConfig} may have. */
export const CONFIG_KEYS: readonly (keyof PlanConfig)[] = [
  "sde",
  "betaMin",
  "betaMax",
  "sigmaMin",
  "sigmaMax",
  "alphasCumprod",
  "tStart",
  "tEnd",
  "grid",
  "kappa",
  "timestepSpacing",
  "stepsOffset",
  "timesteps",
  "method",
  "order",
  "variant",
  "rk",
  "lambda",
  "steps",
];

function oneOf<T extends string>(
  field: string,
  value: unknown,
  names: readonly T[],
): T {
  if (typeof value !== "string" || !names.includes(value as T)) {
    throw new ConfigError(field, `one of ${names.join(", ")}`, value);
  }
  return value as T;
}

function finite(
  field: string,
  value: unknown,
  lo: number,
  hi: number,
  loOpen: boolean,
  hiOpen: boolean,
): number {
  const allowed = `a finite number in ${loOpen ? "(" : "["}${lo}, ${hi}${hiOpen ? ")" : "]"}`;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ConfigError(field, allowed, value);
  }
  if (
    (loOpen ? value <= lo : value < lo) || (hiOpen ? value >= hi : value > hi)
  ) {
    throw new ConfigError(field, allowed, value);
  }
  return value;
}

function integer(
  field: string,
  value: unknown,
  lo: number,
  hi: number,
): number {
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < lo ||
    value > hi
  ) {
    throw new ConfigError(field, `an integer in [${lo}, ${hi}]`, value);
  }
  return value;
}

function numberArray(
  field: string,
  value: unknown,
  minLength: number,
  maxLength: number,
): Float64Array {
  const ok = Array.isArray(value) || value instanceof Float64Array ||
    value instanceof Float32Array;
  const allowed = `an array of ${minLength} to ${maxLength} finite numbers`;
  if (!ok) throw new ConfigError(field, allowed, value);
  const arr = value as ArrayLike<unknown>;
  if (arr.length < minLength || arr.length > maxLength) {
    throw new ConfigError(field, allowed, value);
  }
  const out = new Float64Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new ConfigError(`${field}[${i}]`, "a finite number", v);
    }
    out[i] = v;
  }
  return out;
}

function notFor(field: string, value: unknown, what: string): never {
  throw new ConfigError(field, `absent ${what}`, value, `applies only ${what}`);
}

/** The SDE's admissible time range `[lo, hi]` and whether each end is open. */
export function timeRange(
  sde: SdeName,
  tableLength: number,
): { lo: number; hi: number; loOpen: boolean; hiOpen: boolean } {
  if (sde === "vp-discrete") {
    return { lo: 1 / tableLength, hi: 1, loOpen: false, hiOpen: false };
  }
  if (sde === "vp-cosine") return { lo: 0, hi: 1, loOpen: true, hiOpen: true };
  if (sde === "ve") return { lo: 0, hi: 1, loOpen: false, hiOpen: false };
  return { lo: 0, hi: 1, loOpen: true, hiOpen: false };
}

/**
 * Checks a {@link PlanConfig} and fills in defaults.
 *
 * @example
 * ```ts
 * import { normalizeConfig } from "@seed/deis";
 * const c = normalizeConfig({ method: "tab", steps: 10 });
 * console.log(c.order, c.grid); // 3 "time-quadratic"
 * ```
 */
export function normalizeConfig(config: PlanConfig): NormalizedConfig {
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new ConfigError("config", "an object", config);
  }
  const raw = config as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(
        key,
        `one of the keys ${CONFIG_KEYS.join(", ")}`,
        raw[key],
        "is not a known key",
      );
    }
  }
  const has = (k: string) => raw[k] !== undefined;

  const sde = has("sde") ? oneOf("sde", raw.sde, SDE_NAMES) : "vp-linear";
  let betaMin = 0.1, betaMax = 20, sigmaMin = 0.01, sigmaMax = 50;
  let alphasCumprod: Float64Array | null = null;
  if (sde === "vp-linear") {
    if (has("betaMin")) {
      betaMin = finite("betaMin", raw.betaMin, 0, 100, false, false);
    }
    if (has("betaMax")) {
      betaMax = finite("betaMax", raw.betaMax, 0, 100, true, false);
    }
    if (betaMax <= betaMin) {
      throw new ConfigError(
        "betaMax",
        `a finite number in (betaMin = ${betaMin}, 100]`,
        betaMax,
      );
    }
  } else {
    if (has("betaMin")) notFor("betaMin", raw.betaMin, "to sde vp-linear");
    if (has("betaMax")) notFor("betaMax", raw.betaMax, "to sde vp-linear");
  }
  if (sde === "ve") {
    if (has("sigmaMin")) {
      sigmaMin = finite("sigmaMin", raw.sigmaMin, 0, 1e6, true, false);
    }
    if (has("sigmaMax")) {
      sigmaMax = finite("sigmaMax", raw.sigmaMax, 0, 1e6, true, false);
    }
    if (sigmaMax <= sigmaMin) {
      throw new ConfigError(
        "sigmaMax",
        `a finite number in (sigmaMin = ${sigmaMin}, 1e6]`,
        sigmaMax,
      );
    }
  } else {
    if (has("sigmaMin")) notFor("sigmaMin", raw.sigmaMin, "to sde ve");
    if (has("sigmaMax")) notFor("sigmaMax", raw.sigmaMax, "to sde ve");
  }
  if (sde === "vp-discrete") {
    if (!has("alphasCumprod")) {
      throw new ConfigError(
        "alphasCumprod",
        "a strictly decreasing array in (0, 1)",
        undefined,
        "is required by sde vp-discrete",
      );
    }
    alphasCumprod = numberArray(
      "alphasCumprod",
      raw.alphasCumprod,
      2,
      MAX_TABLE,
    );
    for (let i = 0; i < alphasCumprod.length; i++) {
      const v = alphasCumprod[i];
      if (!(v > 0 && v < 1)) {
        throw new ConfigError(`alphasCumprod[${i}]`, "a number in (0, 1)", v);
      }
      if (i > 0 && !(v < alphasCumprod[i - 1])) {
        throw new ConfigError(
          `alphasCumprod[${i}]`,
          `less than alphasCumprod[${i - 1}] = ${alphasCumprod[i - 1]} (strictly decreasing)`,
          v,
        );
      }
    }
  } else if (has("alphasCumprod")) {
    notFor("alphasCumprod", raw.alphasCumprod, "to sde vp-discrete");
  }
  const range = timeRange(sde, alphasCumprod?.length ?? 0);
  const rangeText = `${range.loOpen ? "(" : "["}${range.lo}, ${range.hi}${range.hiOpen ? ")" : "]"}`;

  const method = has("method") ? oneOf("method", raw.method, METHOD_NAMES) : "tab";
  const info = methodInfo(method)!;
  let order = info.defaultOrder;
  if (has("order")) {
    if (method === "rhork") {
      notFor("order", raw.order, "to multistep methods (rhork is set by rk)");
    }
    order = integer("order", raw.order, info.orders[0], info.orders[1]);
  }
  let variant: VariantName = "bh2";
  if (has("variant")) {
    if (info.variants.length === 0) {
      notFor(
        "variant",
        raw.variant,
        `to method ${METHOD_NAMES.filter((m) => methodInfo(m)!.variants.length).join(", ")}`,
      );
    }
    variant = oneOf("variant", raw.variant, info.variants);
  } else if (info.variants.length) variant = info.variants[0];
  let rk: RkName = "rk4";
  if (has("rk")) {
    if (method !== "rhork") notFor("rk", raw.rk, "to method rhork");
    rk = oneOf("rk", raw.rk, RK_NAMES);
  }
  let lambda = 0;
  if (has("lambda")) {
    lambda = finite("lambda", raw.lambda, 0, 100, false, false);
    if (lambda > 0 && !info.stochastic) {
      throw new ConfigError(
        "lambda",
        "0 unless method is ddim",
        lambda,
        "> 0 needs method ddim (stochastic DDIM)",
      );
    }
  }

  let timesteps: Float64Array | null = null;
  let diffusers: NormalizedConfig["diffusers"];
  if (raw.grid !== "diffusers") {
    if (has("timestepSpacing")) notFor("timestepSpacing", raw.timestepSpacing, "to grid diffusers");
    if (has("stepsOffset")) notFor("stepsOffset", raw.stepsOffset, "to grid diffusers");
  }
  let grid: GridName | "custom";
  let steps: number;
  let tStart = NaN, tEnd = NaN;
  let kappa = NaN;
  if (has("timesteps")) {
    if (has("grid") && raw.grid !== "custom") {
      throw new ConfigError(
        "grid",
        `absent or "custom" when timesteps is given`,
        raw.grid,
      );
    }
    if (has("kappa")) {
      notFor("kappa", raw.kappa, "to grids time-power and karras");
    }
    if (has("tStart")) {
      notFor("tStart", raw.tStart, "to built-in grids (timesteps[0] is T)");
    }
    if (has("tEnd")) {
      notFor("tEnd", raw.tEnd, "to built-in grids (the last timestep is ε)");
    }
    timesteps = numberArray("timesteps", raw.timesteps, 2, MAX_STEPS + 1);
    for (let i = 0; i < timesteps.length; i++) {
      const v = timesteps[i];
      const below = range.loOpen ? v <= range.lo : v < range.lo;
      const above = range.hiOpen ? v >= range.hi : v > range.hi;
      if (below || above) {
        throw new ConfigError(
          `timesteps[${i}]`,
          `a time in ${rangeText} for sde ${sde}`,
          v,
        );
      }
      if (i > 0 && !(v < timesteps[i - 1])) {
        throw new ConfigError(
          `timesteps[${i}]`,
          `less than timesteps[${i - 1}] = ${timesteps[i - 1]} (strictly decreasing)`,
          v,
        );
      }
    }
    grid = "custom";
    steps = timesteps.length - 1;
    if (has("steps") && raw.steps !== steps) {
      throw new ConfigError(
        "steps",
        `timesteps.length − 1 = ${steps}`,
        raw.steps,
      );
    }
    tStart = timesteps[0];
    tEnd = timesteps[steps];
  } else {
    grid = has("grid") ? oneOf("grid", raw.grid, [...GRID_NAMES, "custom"] as const) : "time-quadratic";
    if (grid === "custom") {
      throw new ConfigError(
        "timesteps",
        "an array when grid is custom",
        undefined,
        "is required by grid custom",
      );
    }
    steps = has("steps") ? integer("steps", raw.steps, 1, MAX_STEPS) : 10;
  }
  if (grid === "diffusers") {
    if (sde !== "vp-discrete") {
      throw new ConfigError(
        "grid",
        `a grid other than diffusers for sde ${sde}`,
        grid,
        "diffusers applies only to sde vp-discrete (it places integer timesteps on the table's indices)",
      );
    }
    if (has("tStart")) notFor("tStart", raw.tStart, "to grids other than diffusers (its first timestep is T)");
    if (has("kappa")) notFor("kappa", raw.kappa, "to grids time-power and karras");
    const N = alphasCumprod!.length;
    const spacing = has("timestepSpacing")
      ? oneOf("timestepSpacing", raw.timestepSpacing, TIMESTEP_SPACINGS)
      : "leading" as TimestepSpacing;
    const stepsOffset = has("stepsOffset") ? integer("stepsOffset", raw.stepsOffset, 0, N - 1) : 0;
    tEnd = has("tEnd") ? finite("tEnd", raw.tEnd, range.lo, range.hi, range.loOpen, range.hiOpen) : range.lo;
    timesteps = diffusersGrid(spacing, steps, N, stepsOffset, tEnd);
    diffusers = { spacing, stepsOffset, inferenceSteps: steps };
    steps = timesteps.length - 1;
    tStart = timesteps[0];
    tEnd = timesteps[steps];
  } else if (grid !== "custom") {
    const defaults = {
      "vp-linear": [1, 1e-3],
      "vp-cosine": [0.9946, 1e-3],
      "vp-discrete": [1, range.lo],
      "ve": [1, 1e-3],
    }[sde];
    tStart = has("tStart")
      ? finite(
        "tStart",
        raw.tStart,
        range.lo,
        range.hi,
        range.loOpen,
        range.hiOpen,
      )
      : defaults[0];
    tEnd = has("tEnd") ? finite("tEnd", raw.tEnd, range.lo, range.hi, range.loOpen, range.hiOpen) : defaults[1];
    if (!(tEnd < tStart)) {
      throw new ConfigError("tEnd", `a time below tStart = ${tStart}`, tEnd);
    }
    if (grid === "time-uniform") kappa = 1;
    else if (grid === "time-quadratic") kappa = 2;
    else if (grid === "time-power" || grid === "karras") {
      kappa = has("kappa") ? finite("kappa", raw.kappa, 0, 100, true, false) : grid === "karras" ? 7 : 2;
    }
    if (has("kappa") && grid !== "time-power" && grid !== "karras") {
      notFor("kappa", raw.kappa, "to grids time-power and karras");
    }
  }

  if (info.stepsAtLeastOrder && steps < order) {
    throw new ConfigError(
      "steps",
      `an integer ≥ order = ${order} for method ${method}`,
      steps,
      `must be at least the order for ${method} (its reference implementation requires steps ≥ order)`,
    );
  }

  return {
    sde,
    betaMin,
    betaMax,
    sigmaMin,
    sigmaMax,
    alphasCumprod,
    tStart,
    tEnd,
    grid,
    kappa,
    timesteps,
    method,
    order,
    variant,
    rk,
    lambda,
    steps,
    ...(diffusers ? { diffusers } : {}),
  };
}
