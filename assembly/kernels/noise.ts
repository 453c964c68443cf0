// Counter-based Gaussian noise (src/backends/noise.ts documents the stream): Philox4x32-10 words,
// Box–Muller pairs, and ln, cos and sin evaluated here by fixed float64 polynomials, so that every
// runtime produces the same bits (the runtimes' Math.log/sin/cos differ in the last bit between
// engines) and a Gaussian costs about a third of what it costs with the runtime's functions.
//
// For an integer k in [1, 2²⁴] and j in [0, 2²⁴):
//   ln(k·2⁻²⁴):  k = m·2^e with m in [√½, √2], s = (m − 1)/(m + 1), ln m = 2(s + s³/3 + … + s²¹/21),
//                then (e − 24)·ln 2 with ln 2 split in a 32-bit head and a tail (the product with the
//                head is exact); truncation error below 1e-17 relative, since s² ≤ 0.0295.
//   cos, sin(2π·j·2⁻²⁴):  the nearest quarter turn q is taken off exactly in integers, leaving
//                θ in [−π/4, π/4] (one rounding); Taylor series to θ¹⁶ (cos) and θ¹⁷ (sin), whose
//                truncation error is below 3e-17; the quarter turn swaps and negates.
// Every operation is a single IEEE float64 operation in a fixed order (WebAssembly has no implicit
// fused multiply-add), which testing/noise_reference.ts reproduces in TypeScript bit for bit.

const M0: u64 = 0xd2511f53;
const M1: u64 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;
const LN2_HI: f64 = 0.6931471803691238; // ln 2 to 32 fractional bits
const LN2_LO: f64 = 1.9082149292705877e-10; // ln 2 − LN2_HI
const TURN_24: f64 = 3.7450702829239286e-7; // 2π·2⁻²⁴
const SQRT2: f64 = 1.4142135623730951;

function sp(v: f64): v128 {
  return f64x2.splat(v);
}

/** a·b + c, two roundings. */
function mad(a: v128, b: v128, c: v128): v128 {
  return f64x2.add(f64x2.mul(a, b), c);
}

/** Philox4x32-10 of the counter (c0, c1, c2, 0) under the key (k0, k1): the four words as i32x4. */
function philox(c0: u32, c1: u32, c2: u32, k0: u32, k1: u32): v128 {
  let x0 = c0, x1 = c1, x2 = c2, x3: u32 = 0;
  for (let r = 0; r < 10; r++) {
    const p0 = M0 * <u64> x0, p1 = M1 * <u64> x2;
    x0 = <u32> (p1 >>> 32) ^ x1 ^ k0;
    x1 = <u32> p1;
    x2 = <u32> (p0 >>> 32) ^ x3 ^ k1;
    x3 = <u32> p0;
    k0 += W0;
    k1 += W1;
  }
  return i32x4(x0, x1, x2, x3);
}

/** m = k·2⁻ᵉ in [√½, √2] for an integer k ≥ 1 (exact). */
function mantissa(k: u32): f64 {
  const e = <i32> (31 - clz<u32>(k));
  const m = <f64> k * reinterpret<f64>(<u64> (1023 - e) << 52);
  return m > SQRT2 ? m * 0.5 : m;
}

/** The e of {@link mantissa}, minus 24: the power of two of k·2⁻²⁴. */
function exponent24(k: u32): f64 {
  const e = <i32> (31 - clz<u32>(k));
  const m = <f64> k * reinterpret<f64>(<u64> (1023 - e) << 52);
  return <f64> (e - 24 + (m > SQRT2 ? 1 : 0));
}

/** ln(k·2⁻²⁴) in both lanes, from the reduced m and the exponent d = e − 24 of each lane. */
function lnUniform(m: v128, d: v128): v128 {
  const one = sp(1.0);
  const s = f64x2.div(f64x2.sub(m, one), f64x2.add(m, one));
  const z = f64x2.mul(s, s);
  let p = mad(z, sp(1.0 / 21.0), sp(1.0 / 19.0));
  p = mad(z, p, sp(1.0 / 17.0));
  p = mad(z, p, sp(1.0 / 15.0));
  p = mad(z, p, sp(1.0 / 13.0));
  p = mad(z, p, sp(1.0 / 11.0));
  p = mad(z, p, sp(1.0 / 9.0));
  p = mad(z, p, sp(1.0 / 7.0));
  p = mad(z, p, sp(1.0 / 5.0));
  p = mad(z, p, sp(1.0 / 3.0));
  const lnm = f64x2.mul(sp(2.0), f64x2.add(s, f64x2.mul(s, f64x2.mul(z, p))));
  return f64x2.add(f64x2.mul(d, sp(LN2_HI)), f64x2.add(f64x2.mul(d, sp(LN2_LO)), lnm));
}

/** sin θ for θ in [−π/4, π/4] (both lanes). */
function sinReduced(t: v128): v128 {
  const x = f64x2.mul(t, t);
  let s = mad(x, sp(1.0 / 355687428096000.0), sp(-1.0 / 1307674368000.0));
  s = mad(x, s, sp(1.0 / 6227020800.0));
  s = mad(x, s, sp(-1.0 / 39916800.0));
  s = mad(x, s, sp(1.0 / 362880.0));
  s = mad(x, s, sp(-1.0 / 5040.0));
  s = mad(x, s, sp(1.0 / 120.0));
  s = mad(x, s, sp(-1.0 / 6.0));
  return f64x2.add(t, f64x2.mul(t, f64x2.mul(x, s)));
}

/** cos θ for θ in [−π/4, π/4] (both lanes). */
function cosReduced(t: v128): v128 {
  const x = f64x2.mul(t, t);
  let c = mad(x, sp(1.0 / 20922789888000.0), sp(-1.0 / 87178291200.0));
  c = mad(x, c, sp(1.0 / 479001600.0));
  c = mad(x, c, sp(-1.0 / 3628800.0));
  c = mad(x, c, sp(1.0 / 40320.0));
  c = mad(x, c, sp(-1.0 / 720.0));
  c = mad(x, c, sp(1.0 / 24.0));
  c = mad(x, c, sp(-0.5));
  return mad(x, c, sp(1.0));
}

/** The nearest quarter turn q of the angle j·2⁻²⁴ turns. */
function quarter(j: u32): u32 {
  return (j + 0x200000) >>> 22;
}

/** The angle j·2⁻²⁴ turns less q quarter turns, in radians: θ in [−π/4, π/4]. */
function reduced(j: u32): f64 {
  return <f64> (<i32> j - <i32> (quarter(j) << 22)) * TURN_24;
}

/** cos(q·π/2 + θ) from r·cos θ and r·sin θ (the turn swaps and negates, exactly). */
function turnCos(q: u32, c: f64, s: f64): f64 {
  const a = select<f64>(-s, c, (q & 1) != 0);
  return select<f64>(-a, a, (q & 2) != 0);
}

/** sin(q·π/2 + θ) from r·cos θ and r·sin θ. */
function turnSin(q: u32, c: f64, s: f64): f64 {
  const b = select<f64>(c, s, (q & 1) != 0);
  return select<f64>(-b, b, (q & 2) != 0);
}

/** Stores v at p as float64, or rounded once to float32 (`narrow`). */
function put(p: usize, v: f64, narrow: bool): void {
  if (narrow) store<f32>(p, <f32> v);
  else store<f64>(p, v);
}

/**
 * The four Gaussians of the Philox words `w`, times `scale`, stored at `p` (lanes `from`..3 of the
 * block, one after the other, float64 or float32 when `narrow`); `count` caps how many are stored.
 */
function storeBlock(p: usize, w: v128, scale: f64, from: u32, count: u32, narrow: bool): void {
  const ka = (<u32> i32x4.extract_lane(w, 0) >>> 8) + 1, kb = (<u32> i32x4.extract_lane(w, 2) >>> 8) + 1;
  const ja = <u32> i32x4.extract_lane(w, 1) >>> 8, jb = <u32> i32x4.extract_lane(w, 3) >>> 8;
  const ln = lnUniform(f64x2(mantissa(ka), mantissa(kb)), f64x2(exponent24(ka), exponent24(kb)));
  const r = f64x2.sqrt(f64x2.mul(sp(-2.0), ln));
  const t = f64x2(reduced(ja), reduced(jb));
  const cs = f64x2.mul(r, cosReduced(t)), sn = f64x2.mul(r, sinReduced(t));
  const qa = quarter(ja), qb = quarter(jb);
  const ca = f64x2.extract_lane(cs, 0), sa = f64x2.extract_lane(sn, 0);
  const cb = f64x2.extract_lane(cs, 1), sb = f64x2.extract_lane(sn, 1);
  const size: usize = narrow ? 4 : 8;
  if (from == 0 && count >= 4) {
    put(p, scale * turnCos(qa, ca, sa), narrow);
    put(p + size, scale * turnSin(qa, ca, sa), narrow);
    put(p + 2 * size, scale * turnCos(qb, cb, sb), narrow);
    put(p + 3 * size, scale * turnSin(qb, cb, sb), narrow);
    return;
  }
  let q = p;
  for (let lane = from; lane < 4 && lane < from + count; lane++) {
    const z = lane == 0
      ? turnCos(qa, ca, sa)
      : lane == 1
      ? turnSin(qa, ca, sa)
      : lane == 2
      ? turnCos(qb, cb, sb)
      : turnSin(qb, cb, sb);
    put(q, scale * z, narrow);
    q += size;
  }
}

/**
 * Writes `scale·z(offset + i)` of draw (stream, step) to the array at `out`, i = 0..count−1: float64,
 * or rounded once to float32 when `f32out` ≠ 0 (a float32 register drawn directly).
 * The key is (k0, k1), the seed's low and high 32 bits.
 */
export function gaussian(
  out: usize,
  count: i32,
  offset: u32,
  k0: u32,
  k1: u32,
  stream: u32,
  step: u32,
  scale: f64,
  f32out: i32,
): void {
  const narrow = f32out != 0, shift: usize = narrow ? 2 : 3;
  let e = offset;
  const end = offset + <u32> count;
  let p = out;
  // a partial first block
  if ((e & 3) != 0 && e != end) {
    const n = min<u32>(4 - (e & 3), end - e);
    storeBlock(p, philox(e >>> 2, step, stream, k0, k1), scale, e & 3, n, narrow);
    p += <usize> n << shift;
    e += n;
  }
  // two whole blocks at a time: their independent chains overlap in the pipeline
  while (end - e >= 8) {
    const b = e >>> 2;
    const wa = philox(b, step, stream, k0, k1), wb = philox(b + 1, step, stream, k0, k1);
    storeBlock(p, wa, scale, 0, 4, narrow);
    storeBlock(p + (4 << shift), wb, scale, 0, 4, narrow);
    p += 8 << shift;
    e += 8;
  }
  while (e != end) {
    const n = min<u32>(4, end - e);
    storeBlock(p, philox(e >>> 2, step, stream, k0, k1), scale, 0, n, narrow);
    p += <usize> n << shift;
    e += n;
  }
}
