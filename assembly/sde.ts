// The SDE families: log ᾱ(t), the ρ clock and its inverse, each written to avoid cancellation
// (differences between nearby times are computed from the difference of their arguments, never by
// subtracting two rounded values). Conventions: docs/CONVENTIONS.md.

import { getF, setF } from "./memory";

export const VP_LINEAR: i32 = 0;
export const VP_COSINE: i32 = 1;
export const VP_DISCRETE: i32 = 2;
export const VE: i32 = 3;

let kind: i32 = VP_LINEAR;
let beta0: f64 = 0.1;
let dBeta: f64 = 19.9;
let logSigmaMin: f64 = 0;
let logSigmaRatio: f64 = 0;
// vp-cosine: ᾱ(t) = sin²((1 − t)K)/sin²(K) with K = π/(2(1 + s)); cos θ = sin(π/2 − θ) keeps
// full relative precision near t = 1 where ᾱ is tiny.
const COSINE_S: f64 = 0.008;
const COSINE_K: f64 = Math.PI / (2.0 * (1.0 + COSINE_S));
// vp-discrete: N knots at t_n = (n + 1)/N holding log ᾱ and log ρ.
let knotCount: i32 = 0;
let knotLogAlphaBar: usize = 0;
let knotLogRho: usize = 0;
/** log ᾱ_{n+1} − log ᾱ_n = log1p((ᾱ_{n+1} − ᾱ_n)/ᾱ_n), exact to rounding (unlike a difference of logs). */
let knotStep: usize = 0;

export function sdeKind(): i32 {
  return kind;
}

export function setVpLinear(betaMin: f64, betaMax: f64): void {
  kind = VP_LINEAR;
  beta0 = betaMin;
  dBeta = betaMax - betaMin;
}

export function setVpCosine(): void {
  kind = VP_COSINE;
}

export function setVe(sigmaMin: f64, sigmaMax: f64): void {
  kind = VE;
  logSigmaMin = Math.log(sigmaMin);
  logSigmaRatio = Math.log(sigmaMax / sigmaMin);
}

/**
 * `ptr` holds ᾱ[0..n) followed by room for 2n more doubles; ᾱ is overwritten with log ᾱ, followed by
 * log ρ at the knots in ptr[n..2n) and the knot-to-knot steps of log ᾱ in ptr[2n..3n−1).
 */
export function setVpDiscrete(ptr: usize, n: i32): void {
  kind = VP_DISCRETE;
  knotCount = n;
  knotLogAlphaBar = ptr;
  knotLogRho = ptr + ((<usize> n) << 3);
  knotStep = ptr + ((<usize> (2 * n)) << 3);
  for (let i = 0; i < n - 1; i++) {
    const a = getF(ptr, i);
    setF(knotStep, i, Math.log1p((getF(ptr, i + 1) - a) / a));
  }
  for (let i = 0; i < n; i++) {
    const ab = getF(ptr, i);
    setF(ptr, i, Math.log(ab));
    // ρ² = (1 − ᾱ)/ᾱ computed from ᾱ directly: exact-ish for ᾱ close to 1.
    setF(knotLogRho, i, 0.5 * Math.log((1.0 - ab) / ab));
  }
}

/** Lowest and highest admissible time of the current SDE. */
export function timeMin(): f64 {
  return kind == VP_DISCRETE ? 1.0 / <f64> knotCount : 0.0;
}

export function timeMax(): f64 {
  return 1.0;
}

// ---- vp-discrete helpers -------------------------------------------------------------------------

function knotL(i: i32): f64 {
  return getF(knotLogAlphaBar, i);
}

function knotDl(i: i32): f64 {
  return getF(knotStep, i);
}

/**
 * Segment index n (0..N−2) such that t lies in [t_n, t_{n+1}], and the fraction within it. The
 * product t·N is formed exactly (Dekker's two-product) so the fraction keeps full precision.
 */
let segFrac: f64 = 0;
let productErr: f64 = 0;

/** t·N rounded, with the rounding error left in `productErr` (Dekker's two-product). */
function timesN(t: f64): f64 {
  const N = <f64> knotCount;
  const p = t * N;
  const SPLIT: f64 = 134217729.0; // 2^27 + 1
  const ta = SPLIT * t;
  const th = ta - (ta - t);
  const tl = t - th;
  const na = SPLIT * N;
  const nh = na - (na - N);
  const nl = N - nh;
  productErr = ((th * nh - p) + th * nl + tl * nh) + tl * nl;
  return p;
}

/** The segment n with t_n < t ≤ t_{n+1}: the one a step towards smaller t moves into at a knot. */
function segmentBelow(t: f64): i32 {
  const p = timesN(t);
  const whole = Math.floor(p);
  const c = whole == p && productErr <= 0.0 ? p : Math.ceil(p); // ceil(t·N) computed exactly
  let n = <i32> c - 2;
  if (n < 0) n = 0;
  if (n > knotCount - 2) n = knotCount - 2;
  return n;
}

function segmentOf(t: f64): i32 {
  const p = timesN(t);
  const err = productErr;
  let n = <i32> Math.floor(p - 1.0);
  if (n < 0) n = 0;
  if (n > knotCount - 2) n = knotCount - 2;
  segFrac = (p - <f64> (n + 1)) + err;
  return n;
}

function discreteLogAlphaBar(t: f64): f64 {
  const n = segmentOf(t);
  return knotL(n) + segFrac * knotDl(n);
}

/** log ᾱ(ta) − log ᾱ(tb) summed from knot steps, so no large logs are subtracted. */
function discreteLogAlphaBarDiff(ta: f64, tb: f64): f64 {
  const na = segmentOf(ta);
  const fa = segFrac;
  const nb = segmentOf(tb);
  const fb = segFrac;
  if (na == nb) return (ta - tb) * <f64> knotCount * knotDl(na);
  let sum: f64 = 0;
  const lo = na < nb ? na : nb;
  const hi = na < nb ? nb : na;
  for (let i = lo; i < hi; i++) sum += knotDl(i);
  // l(t) = l_n + f·dl_n, so l(ta) − l(tb) = fa·dl_na − fb·dl_nb − (l_nb − l_na).
  return fa * knotDl(na) - fb * knotDl(nb) - (na < nb ? sum : -sum);
}

/** Number of knots of the discrete table (0 for continuous SDEs). */
export function knots(): i32 {
  return kind == VP_DISCRETE ? knotCount : 0;
}

/** log ρ at knot n. */
export function knotLogRhoAt(n: i32): f64 {
  return getF(knotLogRho, n);
}

// ---- the schedule --------------------------------------------------------------------------------

export function logAlphaBar(t: f64): f64 {
  if (kind == VP_LINEAR) return -(0.5 * dBeta * t + beta0) * t;
  if (kind == VP_COSINE) {
    // ᾱ = (sin((1 − t)K)/sin K)²; near t = 0 the ratio is 1 − 2cos((1 − t/2)K) sin(tK/2)/sin K.
    if (t > 0.5) return 2.0 * Math.log(Math.sin((1.0 - t) * COSINE_K) / Math.sin(COSINE_K));
    return 2.0 *
      Math.log1p((-2.0 * Math.cos((1.0 - 0.5 * t) * COSINE_K) * Math.sin(0.5 * t * COSINE_K)) / Math.sin(COSINE_K));
  }
  if (kind == VP_DISCRETE) return discreteLogAlphaBar(t);
  return 0.0;
}

/** ρ(t)². */
export function rho2(t: f64): f64 {
  if (kind == VP_LINEAR) return Math.expm1((0.5 * dBeta * t + beta0) * t);
  if (kind == VP_COSINE) {
    // ρ² = (cos²θ0 − cos²θ)/cos²θ = sin(θ − θ0) sin(θ + θ0)/cos²θ.
    const c = Math.sin((1.0 - t) * COSINE_K);
    return (Math.sin(t * COSINE_K) * Math.sin((t + 2.0 * COSINE_S) * COSINE_K)) / (c * c);
  }
  if (kind == VP_DISCRETE) return Math.expm1(-discreteLogAlphaBar(t));
  const s = Math.exp(logSigmaMin + t * logSigmaRatio);
  return s * s;
}

export function logRho(t: f64): f64 {
  if (kind == VE) return logSigmaMin + t * logSigmaRatio;
  return 0.5 * Math.log(rho2(t));
}

/** log ᾱ(ta) − log ᾱ(tb), accurate when ta ≈ tb. */
export function logAlphaBarDiff(ta: f64, tb: f64): f64 {
  if (kind == VP_LINEAR) return -(ta - tb) * (0.5 * dBeta * (ta + tb) + beta0);
  if (kind == VP_COSINE) {
    const a = (1.0 - ta) * COSINE_K;
    const b = (1.0 - tb) * COSINE_K;
    const half = 0.5 * (tb - ta) * COSINE_K; // (a − b)/2
    return 2.0 * Math.log1p((2.0 * Math.cos(0.5 * (a + b)) * Math.sin(half)) / Math.sin(b));
  }
  if (kind == VP_DISCRETE) return discreteLogAlphaBarDiff(ta, tb);
  return 0.0;
}

/** ρ(ta)² − ρ(tb)², accurate when ta ≈ tb. */
export function rho2Diff(ta: f64, tb: f64): f64 {
  if (kind == VE) return rho2(tb) * Math.expm1(2.0 * (ta - tb) * logSigmaRatio);
  // ρ² = e^{−log ᾱ} − 1, so ρa² − ρb² = (1 + ρb²)(e^{−(log ᾱa − log ᾱb)} − 1).
  return (1.0 + rho2(tb)) * Math.expm1(-logAlphaBarDiff(ta, tb));
}

/** log ρ(ta) − log ρ(tb). */
export function logRhoDiff(ta: f64, tb: f64): f64 {
  if (kind == VE) return (ta - tb) * logSigmaRatio;
  const rb2 = rho2(tb);
  if (rb2 > 1e30) {
    // ρ² = e^L − 1 overflows its differences here; log ρ² = L + log1p(−e^{−L}) does not.
    const la = -logAlphaBar(ta);
    const lb = -logAlphaBar(tb);
    return 0.5 * (-logAlphaBarDiff(ta, tb) + Math.log1p(-Math.exp(-la)) - Math.log1p(-Math.exp(-lb)));
  }
  const x = rho2Diff(ta, tb) / rb2;
  // log1p(x) keeps the digits of a small relative change; a large one is better as a plain ratio.
  if (x > -0.5 && x < 1.0) return 0.5 * Math.log1p(x);
  return 0.5 * Math.log(rho2(ta) / rb2);
}

/** t(ρ) with ρ = e^u. */
export function timeOfLogRho(u: f64): f64 {
  if (kind == VE) return (u - logSigmaMin) / logSigmaRatio;
  if (kind == VP_COSINE) {
    // tan(θ − θ0) from ρ without cancellation; θ − θ0 = tK.
    const r2 = Math.exp(2.0 * u);
    const s0 = Math.sin(COSINE_S * COSINE_K);
    const c0 = Math.cos(COSINE_S * COSINE_K);
    const q = Math.sqrt(s0 * s0 + r2);
    return Math.atan2((r2 / (q + s0)) * c0, c0 * c0 + q * s0) / COSINE_K;
  }
  // −log ᾱ = log(1 + ρ²), overflow-safe for large ρ.
  const big = u > 0;
  const L = big ? 2.0 * u + Math.log1p(Math.exp(-2.0 * u)) : Math.log1p(Math.exp(2.0 * u));
  if (kind == VP_LINEAR) return (2.0 * L) / (beta0 + Math.sqrt(beta0 * beta0 + 2.0 * dBeta * L));
  // vp-discrete: binary search on the increasing knot log ρ, then invert the linear segment.
  let lo = 0;
  let hi = knotCount - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (getF(knotLogRho, mid) <= u) lo = mid;
    else hi = mid;
  }
  const l0 = knotL(lo);
  const f = (-L - l0) / (knotL(lo + 1) - l0);
  return (<f64> (lo + 1) + f) / <f64> knotCount;
}

/**
 * t(u_k + w) − t_k for a grid point t_k with ρ_k² = `rk2`, computed from the offset w itself: the
 * absolute rounding of u_k + w (≈ 1e-15 for |u| ≈ 5) would otherwise cost short steps digits.
 */
export function timeOffset(tk: f64, rk2: f64, w: f64): f64 {
  if (kind == VE) return w / logSigmaRatio;
  const dr2 = rk2 * Math.expm1(2.0 * w); // ρ² − ρ_k²
  if (kind == VP_COSINE) {
    const s0 = Math.sin(COSINE_S * COSINE_K);
    const c0 = Math.cos(COSINE_S * COSINE_K);
    const qk = Math.sqrt(s0 * s0 + rk2);
    const q = Math.sqrt(s0 * s0 + rk2 + dr2);
    return Math.atan2((dr2 * c0) / (q + qk), c0 * c0 + q * qk) / COSINE_K;
  }
  // −(log ᾱ − log ᾱ_k) = log((1 + ρ²)/(1 + ρ_k²)).
  const dL = Math.log1p(dr2 / (1.0 + rk2));
  if (kind == VP_LINEAR) {
    // Δβ/2 x² + β(t_k) x − dL = 0 for x = t − t_k, in the form that does not cancel.
    const b = beta0 + dBeta * tk;
    return (2.0 * dL) / (b + Math.sqrt(b * b + 2.0 * dBeta * dL));
  }
  // vp-discrete: log ᾱ is linear in t on each segment.
  const lk = discreteLogAlphaBar(tk);
  const l = lk - dL;
  const below = segmentBelow(tk);
  if (l <= knotL(below)) return -dL / (knotDl(below) * <f64> knotCount);
  let lo = 0;
  let hi = knotCount - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (knotL(mid) >= l) lo = mid;
    else hi = mid;
  }
  const l0 = knotL(lo);
  return (<f64> (lo + 1) - tk * <f64> knotCount) / <f64> knotCount +
    (l - l0) / ((knotL(lo + 1) - l0) * <f64> knotCount);
}

/** d log ᾱ/dt; for vp-discrete, the slope of the segment below t (the side a step moves into). */
export function dLogAlphaBar(t: f64): f64 {
  if (kind == VP_LINEAR) return -(beta0 + dBeta * t);
  if (kind == VP_COSINE) return (-2.0 * COSINE_K) / Math.tan((1.0 - t) * COSINE_K);
  if (kind == VP_DISCRETE) {
    return knotDl(segmentBelow(t)) * <f64> knotCount;
  }
  return 0.0;
}

/** dρ/dt. */
export function dRho(t: f64): f64 {
  const r2 = rho2(t);
  const r = Math.sqrt(r2);
  if (kind == VE) return r * logSigmaRatio;
  return (-dLogAlphaBar(t) * (1.0 + r2)) / (2.0 * r);
}
