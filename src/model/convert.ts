/**
 * The model-side conversions of one network evaluation, all in closed form from the plan's
 * `(t, ᾱ, ρ)` at that evaluation (so no SDE code is needed here):
 *
 * - the time input, per the manifest's `time` (`continuous`: scale·t; `index`: t·N − 1; `sigma`: σ;
 *   `rho`: ρ; `edm`: c_noise = ¼·ln ρ), rounded for an integer time dtype;
 * - EDM preconditioning (Karras et al. 2022, table 1): with σ = ρ and the VE-scaled x/α, the network
 *   sees c_in·x/α and D = c_skip·x/α + c_out·F is x̂₀, so the input is scaled by c_in/α and the
 *   output map stays linear in (x, F);
 * - the prediction type as one linear map to ε (MATH §9), `ε = p·x + q·out`, with α = sqrt(ᾱ) and
 *   σ = α·ρ (true for VP and VE alike);
 * - classifier-free guidance `ε = ε_u + w(ε_c − ε_u)`, which keeps the map linear:
 *   `ε = p·x + q·w·out_c + q·(1 − w)·out_u`.
 *
 * @module
 */

import type { ModelManifest, Precondition, PredictionType, TimeSpec } from "./manifest.ts";

/** Where the network is evaluated: the plan's time and schedule values there. */
export interface EvalPoint {
  /** Model time t. */
  t: number;
  /** ᾱ(t). */
  alphaBar: number;
  /** ρ(t) = σ/α. */
  rho: number;
}

/**
 * `v` rounded to the nearest integer, ties to even (IEEE 754's default rounding, the rule integer
 * time inputs follow: diffusers' timesteps are integers, so on its grid nothing is rounded).
 */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The value fed to the network's time input at `p` (rounded when the time input is an integer). */
export function timeInput(
  time: TimeSpec,
  discreteN: number,
  p: EvalPoint,
): number {
  const v = rawTimeInput(time, discreteN, p);
  return time.dtype === "int32" || time.dtype === "int64" ? roundHalfEven(v) : v;
}

function rawTimeInput(time: TimeSpec, discreteN: number, p: EvalPoint): number {
  switch (time.kind) {
    case "continuous":
      return time.scale * p.t;
    case "index":
      return p.t * discreteN - 1;
    case "sigma":
      return Math.sqrt(p.alphaBar) * p.rho;
    case "rho":
      return p.rho;
    case "edm":
      return 0.25 * Math.log(p.rho);
  }
}

/** EDM's c_skip, c_out, c_in at σ (Karras et al. 2022, table 1). */
export function edmCoefficients(pc: Precondition, sigma: number): { cSkip: number; cOut: number; cIn: number } {
  const sd2 = pc.sigmaData * pc.sigmaData, s2 = sigma * sigma;
  return { cSkip: sd2 / (s2 + sd2), cOut: sigma * pc.sigmaData / Math.sqrt(s2 + sd2), cIn: 1 / Math.sqrt(s2 + sd2) };
}

/** The factor applied to x before it is fed to the network at `p` (c_in/α with EDM preconditioning, else 1). */
export function inputScale(manifest: Pick<ModelManifest, "precondition">, p: EvalPoint): number {
  if (!manifest.precondition) return 1;
  return edmCoefficients(manifest.precondition, p.rho).cIn / Math.sqrt(p.alphaBar);
}

/** Coefficients of `ε = p·x + q·out` for a prediction type at `(ᾱ, ρ)`. */
export function predictionToEps(
  prediction: PredictionType,
  p: EvalPoint,
): { p: number; q: number } {
  const alpha = Math.sqrt(p.alphaBar);
  const sigma = alpha * p.rho;
  switch (prediction) {
    case "eps":
      return { p: 0, q: 1 };
    case "x0": // ε = (x − α x̂₀)/σ
      return { p: 1 / sigma, q: -alpha / sigma };
    case "v": { // v = α ε − σ x₀, x = α x₀ + σ ε  ⇒  ε = (σ x + α v)/(α² + σ²)
      const norm = alpha * alpha + sigma * sigma;
      return { p: sigma / norm, q: alpha / norm };
    }
    case "score": // ε = −σ ∇log p
      return { p: 0, q: -sigma };
  }
}

/**
 * `ε = p·x + q·F` for a preconditioned denoiser: x̂₀ = (c_skip/α)·x + c_out·F and ε = (x − α·x̂₀)/(α·ρ)
 * give p = (1 − c_skip)/(α·ρ), q = −c_out/ρ.
 */
export function preconditionedToEps(pc: Precondition, point: EvalPoint): { p: number; q: number } {
  const { cSkip, cOut } = edmCoefficients(pc, point.rho);
  return { p: (1 - cSkip) / (Math.sqrt(point.alphaBar) * point.rho), q: -cOut / point.rho };
}

/** The full linear map of one evaluation: `ε = p·x + qc·out_cond + qu·out_uncond` (qu = 0 unguided). */
export interface EpsMap {
  /** Coefficient of the network input x. */
  p: number;
  /** Coefficient of the (conditional) network output. */
  qc: number;
  /** Coefficient of the unconditional output (0 without guidance). */
  qu: number;
}

/** The map for `manifest` at `point`, with guidance scale `w` (undefined: no guidance). */
export function epsMap(
  manifest: Pick<ModelManifest, "prediction" | "precondition">,
  point: EvalPoint,
  w?: number,
): EpsMap {
  const { p, q } = manifest.precondition
    ? preconditionedToEps(manifest.precondition, point)
    : predictionToEps(manifest.prediction, point);
  if (w === undefined) return { p, qc: q, qu: 0 };
  return { p, qc: q * w, qu: q * (1 - w) };
}

/**
 * The map of the data prediction x̂₀ = (x − σ ε)/α = x/α − ρ ε, from the ε map `m` at `point`: still
 * linear in (x, out), so backends store x̂₀ with the same kernel that stores ε.
 */
export function dataMap(m: EpsMap, point: EvalPoint): EpsMap {
  const rho = point.rho;
  return { p: 1 / Math.sqrt(point.alphaBar) - rho * m.p, qc: -rho * m.qc, qu: -rho * m.qu };
}
