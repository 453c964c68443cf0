// The register update of the CPU backends (docs/CONVENTIONS.md, "Programs"): `combine` and the
// conversion of a network output into ε, over registers the host lays out in this module's memory.
// The arithmetic is the documented one — float64 accumulation in the listed order, rounded once on
// the store — so float32 and float64 registers get exactly the values the earlier typed-array loops
// gave; only the speed differs (float32 registers run four lanes at a time).

/** Bytes per entry of a source table: u32 address, 4 bytes padding, f64 coefficient. */
export const SOURCE_BYTES: i32 = 16;
/** Sources summed in one pass over the registers (more take further passes through `acc`). */
export const PER_PASS: i32 = 6;

function sourcePtr(table: usize, k: i32): usize {
  return <usize> load<u32>(table + <usize> (k * SOURCE_BYTES));
}

function sourceCoef(table: usize, k: i32): f64 {
  return load<f64>(table + <usize> (k * SOURCE_BYTES), 8);
}

// Four float32 lanes as two float64x2 halves, and back (one rounding per lane).
function lowF64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

function highF64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}

function joinF32(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

// Sources k..k+m−1 of the table, for one pass.
let p0: usize = 0, p1: usize = 0, p2: usize = 0, p3: usize = 0, p4: usize = 0, p5: usize = 0;
let c0: f64 = 0, c1: f64 = 0, c2: f64 = 0, c3: f64 = 0, c4: f64 = 0, c5: f64 = 0;

function takeSources(table: usize, k: i32): void {
  p0 = sourcePtr(table, k);
  c0 = sourceCoef(table, k);
  p1 = sourcePtr(table, k + 1);
  c1 = sourceCoef(table, k + 1);
  p2 = sourcePtr(table, k + 2);
  c2 = sourceCoef(table, k + 2);
  p3 = sourcePtr(table, k + 3);
  c3 = sourceCoef(table, k + 3);
  p4 = sourcePtr(table, k + 4);
  c4 = sourceCoef(table, k + 4);
  p5 = sourcePtr(table, k + 5);
  c5 = sourceCoef(table, k + 5);
}

/** `c·v[o..o+3]` of float32 v as two float64x2 halves: the low one returned, the high one in `mulHigh`. */
let mulHigh: v128 = f64x2.splat(0);
function mulF32(v: usize, c: v128, o: usize): v128 {
  const x = v128.load(v + o);
  mulHigh = f64x2.mul(c, highF64(x));
  return f64x2.mul(c, lowF64(x));
}

/**
 * One pass over float32 registers summing the `m` taken sources: the sum starts from `acc`
 * (`fromAcc`) or from `c₀·v₀ + 0` (which also turns −0 into +0), and goes to `dst` rounded once
 * (`toDst`) or back to `acc` for a further pass.
 */
function passF32(dst: usize, acc: usize, length: i32, m: i32, fromAcc: bool, toDst: bool): void {
  // Locals, not the module's globals, inside the loop, and the six sources written out, so that their
  // addresses and coefficients stay in registers: a first version reading them from globals was
  // slower than one pass per source; this one takes 0.6× that time (five sources, n = 16 MNIST).
  const q0 = p0, q1 = p1, q2 = p2, q3 = p3, q4 = p4, q5 = p5;
  const k0 = f64x2.splat(c0), k1 = f64x2.splat(c1), k2 = f64x2.splat(c2);
  const k3 = f64x2.splat(c3), k4 = f64x2.splat(c4), k5 = f64x2.splat(c5);
  const zero = f64x2.splat(0.0);
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    const o = <usize> i << 2, a = acc + (<usize> i << 3);
    let lo = mulF32(q0, k0, o);
    let hi = mulHigh;
    if (fromAcc) {
      lo = f64x2.add(v128.load(a), lo);
      hi = f64x2.add(v128.load(a, 16), hi);
    } else {
      lo = f64x2.add(lo, zero);
      hi = f64x2.add(hi, zero);
    }
    if (m > 1) {
      lo = f64x2.add(lo, mulF32(q1, k1, o));
      hi = f64x2.add(hi, mulHigh);
    }
    if (m > 2) {
      lo = f64x2.add(lo, mulF32(q2, k2, o));
      hi = f64x2.add(hi, mulHigh);
    }
    if (m > 3) {
      lo = f64x2.add(lo, mulF32(q3, k3, o));
      hi = f64x2.add(hi, mulHigh);
    }
    if (m > 4) {
      lo = f64x2.add(lo, mulF32(q4, k4, o));
      hi = f64x2.add(hi, mulHigh);
    }
    if (m > 5) {
      lo = f64x2.add(lo, mulF32(q5, k5, o));
      hi = f64x2.add(hi, mulHigh);
    }
    if (toDst) v128.store(dst + o, joinF32(lo, hi));
    else {
      v128.store(a, lo);
      v128.store(a, hi, 16);
    }
  }
  for (; i < length; i++) {
    const o = <usize> i << 2, a = acc + (<usize> i << 3);
    let r = fromAcc ? load<f64>(a) + c0 * <f64> load<f32>(q0 + o) : c0 * <f64> load<f32>(q0 + o) + 0.0;
    if (m > 1) r = r + c1 * <f64> load<f32>(q1 + o);
    if (m > 2) r = r + c2 * <f64> load<f32>(q2 + o);
    if (m > 3) r = r + c3 * <f64> load<f32>(q3 + o);
    if (m > 4) r = r + c4 * <f64> load<f32>(q4 + o);
    if (m > 5) r = r + c5 * <f64> load<f32>(q5 + o);
    if (toDst) store<f32>(dst + o, <f32> r);
    else store<f64>(a, r);
  }
}

/** The float64-register twin of {@link passF32} (no rounding on the store). */
function passF64(dst: usize, acc: usize, length: i32, m: i32, fromAcc: bool, toDst: bool): void {
  for (let i = 0; i < length; i++) {
    const o = <usize> i << 3;
    let r = fromAcc ? load<f64>(acc + o) + c0 * load<f64>(p0 + o) : c0 * load<f64>(p0 + o) + 0.0;
    if (m > 1) r = r + c1 * load<f64>(p1 + o);
    if (m > 2) r = r + c2 * load<f64>(p2 + o);
    if (m > 3) r = r + c3 * load<f64>(p3 + o);
    if (m > 4) r = r + c4 * load<f64>(p4 + o);
    if (m > 5) r = r + c5 * load<f64>(p5 + o);
    store<f64>(toDst ? dst + o : acc + o, r);
  }
}

/**
 * `dst = (noise or 0) + Σ c_k·v_k` over `length` elements, the sum in float64 in the table's order,
 * rounded once on the store. `noisy` ≠ 0: the accumulator `acc` already holds the noise. `dst` may be
 * one of the sources (each element is read before it is written). The table has room for at least
 * `count` rounded up to a multiple of 6 entries.
 *
 * @param f64regs 1 for float64 registers, 0 for float32
 */
export function combine(dst: usize, length: i32, table: usize, count: i32, acc: usize, noisy: i32, f64regs: i32): void {
  const size: usize = f64regs ? 8 : 4;
  if (count == 0) {
    if (noisy == 0) {
      memory.fill(dst, 0, <usize> length * size);
      return;
    }
    for (let i = 0; i < length; i++) {
      const v = load<f64>(acc + (<usize> i << 3));
      if (f64regs) store<f64>(dst + (<usize> i << 3), v);
      else store<f32>(dst + (<usize> i << 2), <f32> v);
    }
    return;
  }
  let fromAcc = noisy != 0;
  for (let k = 0; k < count; k += PER_PASS) {
    const m = min(PER_PASS, count - k);
    const toDst = k + m == count;
    takeSources(table, k);
    if (f64regs) passF64(dst, acc, length, m, fromAcc, toDst);
    else passF32(dst, acc, length, m, fromAcc, toDst);
    fromAcc = true;
  }
}

/**
 * ε from a network output `out` (`groups` × `length` elements of the registers' type):
 * `dst = p·x + qc·out + qu·out[length + i]` (the last term with guidance only), rounded once on the
 * store. Returns how many output elements are NaN or ±Inf; a non-zero count fails the run, so what
 * was written meanwhile does not matter.
 */
export function epsFromOutput(
  dst: usize,
  x: usize,
  out: usize,
  length: i32,
  p: f64,
  qc: f64,
  qu: f64,
  groups: i32,
  f64regs: i32,
): i32 {
  let bad = 0;
  if (f64regs) {
    const second = out + (<usize> length << 3);
    for (let i = 0; i < length; i++) {
      const o = <usize> i << 3;
      const v = load<f64>(out + o);
      if (v - v != 0) bad++;
      let r = p * load<f64>(x + o) + qc * v;
      if (groups == 2) {
        const u = load<f64>(second + o);
        if (u - u != 0) bad++;
        r = r + qu * u;
      }
      store<f64>(dst + o, r);
    }
    return bad;
  }
  const second = out + (<usize> length << 2);
  const pv = f64x2.splat(p), qcv = f64x2.splat(qc), quv = f64x2.splat(qu), zero32 = f32x4.splat(0);
  let badLanes = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    const o = <usize> i << 2;
    const v = v128.load(out + o), x4 = v128.load(x + o);
    // v − v is 0 exactly for finite v; the lanes that are not count one each (the mask is −1)
    badLanes = i32x4.sub(badLanes, f32x4.ne(f32x4.sub(v, v), zero32));
    let lo = f64x2.add(f64x2.mul(pv, lowF64(x4)), f64x2.mul(qcv, lowF64(v)));
    let hi = f64x2.add(f64x2.mul(pv, highF64(x4)), f64x2.mul(qcv, highF64(v)));
    if (groups == 2) {
      const u = v128.load(second + o);
      badLanes = i32x4.sub(badLanes, f32x4.ne(f32x4.sub(u, u), zero32));
      lo = f64x2.add(lo, f64x2.mul(quv, lowF64(u)));
      hi = f64x2.add(hi, f64x2.mul(quv, highF64(u)));
    }
    v128.store(dst + o, joinF32(lo, hi));
  }
  bad += i32x4.extract_lane(badLanes, 0) + i32x4.extract_lane(badLanes, 1) +
    i32x4.extract_lane(badLanes, 2) + i32x4.extract_lane(badLanes, 3);
  for (; i < length; i++) {
    const o = <usize> i << 2;
    const v = <f64> load<f32>(out + o);
    if (v - v != 0) bad++;
    let r = p * <f64> load<f32>(x + o) + qc * v;
    if (groups == 2) {
      const u = <f64> load<f32>(second + o);
      if (u - u != 0) bad++;
      r = r + qu * u;
    }
    store<f32>(dst + o, <f32> r);
  }
  return bad;
}
