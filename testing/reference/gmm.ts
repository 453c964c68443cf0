/**
 * Exact float64 quantities of a diagonal Gaussian mixture `x₀ ~ Σ_k π_k N(μ_k, diag(s_k²))` under a
 * linear SDE: the noised marginal is `Σ_k π_k N(α μ_k, diag(α² s_k² + σ²))`, so its score and the
 * ε-prediction `ε = −σ ∇log p_t(x)` are closed form (computed with log-sum-exp). Also the data
 * moments, for statistical tests of samplers.
 *
 * @module
 */

import type { Rng } from "./random.ts";
import { asReferenceSde, type ReferenceSde, type ReferenceSdeSpec } from "./sde.ts";

/** A mixture as written in JSON: K weights (need not sum to 1), K×D means, K×D standard deviations. */
export interface GmmSpec {
  /** K positive weights π_k (normalised on use). */
  weights: number[];
  /** K rows of D means μ_k. */
  means: number[][];
  /** K rows of D positive standard deviations s_k. */
  stds: number[][];
  /** Sample shape, product D; defaults to `[D]`. */
  shape?: number[];
}

/** A validated mixture with normalised weights. */
export interface Gmm {
  /** Number of components K. */
  readonly k: number;
  /** Dimension D. */
  readonly d: number;
  /** Sample shape (product D). */
  readonly shape: readonly number[];
  /** Normalised weights π_k. */
  readonly weights: Float64Array;
  /** log π_k. */
  readonly logWeights: Float64Array;
  /** Means, K×D row-major. */
  readonly means: Float64Array;
  /** Variances s², K×D row-major. */
  readonly variances: Float64Array;
}

function fail(msg: string): never {
  throw new RangeError(`gmm spec: ${msg}`);
}

/** Validates a spec and returns the mixture. Throws a `RangeError` describing the first problem. */
export function gmmFromSpec(spec: GmmSpec): Gmm {
  if (spec === null || typeof spec !== "object") fail("not an object");
  const { weights, means, stds } = spec;
  if (!Array.isArray(weights) || weights.length === 0) {
    fail("'weights' must be a non-empty array");
  }
  const k = weights.length;
  if (!Array.isArray(means) || means.length !== k) {
    fail(`'means' must have ${k} rows`);
  }
  if (!Array.isArray(stds) || stds.length !== k) {
    fail(`'stds' must have ${k} rows`);
  }
  if (!Array.isArray(means[0]) || means[0].length === 0) {
    fail("'means' rows must be non-empty arrays");
  }
  const d = means[0].length;
  let total = 0;
  for (let i = 0; i < k; i++) {
    const w = weights[i];
    if (typeof w !== "number" || !Number.isFinite(w) || !(w > 0)) {
      fail(`weights[${i}] must be a finite positive number`);
    }
    total += w;
    if (!Array.isArray(means[i]) || means[i].length !== d) {
      fail(`means[${i}] must have ${d} entries`);
    }
    if (!Array.isArray(stds[i]) || stds[i].length !== d) {
      fail(`stds[${i}] must have ${d} entries`);
    }
    for (let j = 0; j < d; j++) {
      const m = means[i][j];
      const s = stds[i][j];
      if (typeof m !== "number" || !Number.isFinite(m)) {
        fail(`means[${i}][${j}] must be a finite number`);
      }
      if (typeof s !== "number" || !Number.isFinite(s) || !(s > 0)) {
        fail(`stds[${i}][${j}] must be a finite positive number`);
      }
    }
  }
  const shape = spec.shape ?? [d];
  if (
    !Array.isArray(shape) || shape.length === 0 ||
    shape.some((n) => !Number.isSafeInteger(n) || n < 1)
  ) {
    fail("'shape' must be a non-empty array of positive integers");
  }
  if (shape.reduce((a, b) => a * b, 1) !== d) {
    fail(`'shape' [${shape.join(", ")}] does not have ${d} elements`);
  }
  const pi = Float64Array.from(weights, (w) => w / total);
  return {
    k,
    d,
    shape: [...shape],
    weights: pi,
    logWeights: Float64Array.from(
      weights,
      (w) => Math.log(w) - Math.log(total),
    ),
    means: Float64Array.from(means.flat()),
    variances: Float64Array.from(stds.flat(), (s) => s * s),
  };
}

/**
 * Per-component log-weights of the noised mixture at x (`log π_k + log N(x; αμ_k, α²s_k² + σ²)`
 * without the common `−D/2 log 2π`), written into `logits`.
 */
function componentLogits(
  g: Gmm,
  alpha: number,
  sigma: number,
  x: ArrayLike<number>,
  xOff: number,
  logits: Float64Array,
) {
  const a2 = alpha * alpha;
  const s2 = sigma * sigma;
  for (let c = 0; c < g.k; c++) {
    let acc = 0;
    const row = c * g.d;
    for (let j = 0; j < g.d; j++) {
      const v = a2 * g.variances[row + j] + s2;
      const diff = x[xOff + j] - alpha * g.means[row + j];
      acc += Math.log(v) + (diff * diff) / v;
    }
    logits[c] = g.logWeights[c] - 0.5 * acc;
  }
}

/** Softmax in place, returning log Σ exp (the log-sum-exp of the inputs). */
function softmaxInPlace(z: Float64Array): number {
  let m = -Infinity;
  for (const v of z) if (v > m) m = v;
  let sum = 0;
  for (let i = 0; i < z.length; i++) {
    z[i] = Math.exp(z[i] - m);
    sum += z[i];
  }
  for (let i = 0; i < z.length; i++) z[i] /= sum;
  return m + Math.log(sum);
}

/**
 * Exact ε-prediction `ε(x, t) = −σ_t ∇log p_t(x)` for a batch.
 * @param g the mixture
 * @param sde schedule or spec
 * @param x flat batch, B×D row-major (B = x.length / D)
 * @param t one time per sample (length B), or a single time for all
 * @returns ε, B×D row-major
 */
export function gmmEpsBatch(
  g: Gmm,
  sde: ReferenceSde | ReferenceSdeSpec,
  x: ArrayLike<number>,
  t: number | ArrayLike<number>,
): Float64Array {
  const s = asReferenceSde(sde);
  if (x.length % g.d !== 0) {
    throw new RangeError(
      `gmmEps: x has ${x.length} values, not a multiple of D = ${g.d}`,
    );
  }
  const b = x.length / g.d;
  if (typeof t !== "number" && t.length !== b) {
    throw new RangeError(`gmmEps: ${t.length} times for ${b} samples`);
  }
  const out = new Float64Array(x.length);
  const r = new Float64Array(g.k);
  for (let i = 0; i < b; i++) {
    const ti = typeof t === "number" ? t : t[i];
    const alpha = s.alpha(ti);
    const sigma = s.sigma(ti);
    const off = i * g.d;
    componentLogits(g, alpha, sigma, x, off, r);
    softmaxInPlace(r);
    const a2 = alpha * alpha;
    const s2 = sigma * sigma;
    for (let c = 0; c < g.k; c++) {
      const rc = r[c];
      if (rc === 0) continue;
      const row = c * g.d;
      for (let j = 0; j < g.d; j++) {
        const v = a2 * g.variances[row + j] + s2;
        out[off + j] += (rc * (x[off + j] - alpha * g.means[row + j])) / v;
      }
    }
    for (let j = 0; j < g.d; j++) out[off + j] *= sigma;
  }
  return out;
}

/** Exact ε-prediction for one sample x (length D) at time t. */
export function gmmEps(
  g: Gmm,
  sde: ReferenceSde | ReferenceSdeSpec,
  x: ArrayLike<number>,
  t: number,
): Float64Array {
  if (x.length !== g.d) {
    throw new RangeError(
      `gmmEps: x has ${x.length} values, expected D = ${g.d}`,
    );
  }
  return gmmEpsBatch(g, sde, x, t);
}

/** log p_t(x) of the noised marginal at one sample x (length D). */
export function gmmLogDensity(
  g: Gmm,
  sde: ReferenceSde | ReferenceSdeSpec,
  x: ArrayLike<number>,
  t: number,
): number {
  const s = asReferenceSde(sde);
  const r = new Float64Array(g.k);
  componentLogits(g, s.alpha(t), s.sigma(t), x, 0, r);
  return softmaxInPlace(r) - 0.5 * g.d * Math.log(2 * Math.PI);
}

/** Posterior component probabilities (responsibilities) at one sample x and time t. */
export function gmmResponsibilities(
  g: Gmm,
  sde: ReferenceSde | ReferenceSdeSpec,
  x: ArrayLike<number>,
  t: number,
): Float64Array {
  const s = asReferenceSde(sde);
  const r = new Float64Array(g.k);
  componentLogits(g, s.alpha(t), s.sigma(t), x, 0, r);
  softmaxInPlace(r);
  return r;
}

/** Mean and covariance of a distribution; `cov` is D×D row-major. */
export interface Moments {
  /** Mean, length D. */
  mean: Float64Array;
  /** Covariance, D×D row-major. */
  cov: Float64Array;
}

/** Mean `Σ π_k μ_k` and covariance `Σ π_k (diag(s_k²) + μ_k μ_kᵀ) − mean meanᵀ` of the data x₀. */
export function gmmMoments(g: Gmm): Moments {
  const d = g.d;
  const mean = new Float64Array(d);
  for (let c = 0; c < g.k; c++) {
    for (let j = 0; j < d; j++) mean[j] += g.weights[c] * g.means[c * d + j];
  }
  // Centred form Σ π_k (diag(s_k²) + (μ_k − m)(μ_k − m)ᵀ) avoids cancellation; exactly symmetric.
  const cov = new Float64Array(d * d);
  for (let c = 0; c < g.k; c++) {
    const w = g.weights[c];
    for (let i = 0; i < d; i++) {
      const di = g.means[c * d + i] - mean[i];
      cov[i * d + i] += w * g.variances[c * d + i];
      for (let j = i; j < d; j++) {
        cov[i * d + j] += w * (di * (g.means[c * d + j] - mean[j]));
      }
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) cov[i * d + j] = cov[j * d + i];
  }
  return { mean, cov };
}

/** Mean `α m` and covariance `α² C + σ² I` of the noised marginal at time t. */
export function gmmMarginalMoments(
  g: Gmm,
  sde: ReferenceSde | ReferenceSdeSpec,
  t: number,
): Moments {
  const s = asReferenceSde(sde);
  const a = s.alpha(t);
  const sig = s.sigma(t);
  const { mean, cov } = gmmMoments(g);
  for (let i = 0; i < mean.length; i++) mean[i] *= a;
  for (let i = 0; i < cov.length; i++) cov[i] *= a * a;
  for (let i = 0; i < g.d; i++) cov[i * g.d + i] += sig * sig;
  return { mean, cov };
}

/** Draws n samples of x₀ (n×D row-major). */
export function sampleGmm(g: Gmm, n: number, rng: Rng): Float64Array {
  const out = new Float64Array(n * g.d);
  for (let i = 0; i < n; i++) {
    let u = rng.uniform();
    let c = 0;
    while (c < g.k - 1 && u >= g.weights[c]) {
      u -= g.weights[c];
      c++;
    }
    for (let j = 0; j < g.d; j++) {
      out[i * g.d + j] = g.means[c * g.d + j] +
        Math.sqrt(g.variances[c * g.d + j]) * rng.normal();
    }
  }
  return out;
}
