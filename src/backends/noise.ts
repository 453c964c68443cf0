/**
 * Counter-based Gaussian noise, defined once and generated identically on the CPU (here) and on the
 * GPU (the WGSL in `wgsl.ts`).
 *
 * The stream is Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011)
 * keyed by the 64-bit seed. Element `e` of the noise of draw `(stream, step)` takes lane `e mod 4` of
 * the block at counter `(⌊e/4⌋, step, stream, 0)`. Lanes (0,1) and (2,3) are Box–Muller pairs:
 *
 *     u₁ = ((w₀ >> 8) + 1)·2⁻²⁴ ∈ (0, 1],  u₂ = (w₁ >> 8)·2⁻²⁴ ∈ [0, 1)
 *     z₀ = sqrt(−2 ln u₁)·cos(2π u₂),      z₁ = sqrt(−2 ln u₁)·sin(2π u₂)
 *
 * On the CPU, ln, cos and sin are the fixed float64 polynomials of `assembly/kernels/noise.ts`
 * (within 2 ulp of 40-digit mpmath values; `testing/noise_reference.ts` restates them in TypeScript
 * and a test holds the two to the bit), so CPU noise is the same bits in every JavaScript engine —
 * the engines' own `Math.log/sin/cos` differ in the last bit between engines — and costs about a
 * third of what drawing it with those costs. The integer stream and the uniforms are bit-identical
 * on the GPU; its Gaussians differ only by float32 rounding (|Δz| ≲ 1e-6), its ln, sin and cos
 * being float32 polynomials. Noise depends only on the flat element index, so sample i of a batch
 * gets the same noise whatever the batch size.
 *
 * @module
 */

import { NOISE_STREAM } from "../plan/noise_streams.ts";
import { acquireInstance, releaseInstance } from "./kernels.ts";

export { NOISE_STREAM };

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/**
 * High 32 bits of the 64-bit product a·b (a, b unsigned 32-bit), exactly, from 16-bit limbs (the
 * same arithmetic as the WGSL `mulhi32`; every partial product stays below 2³², so no rounding).
 */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const lh = al * bh, hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * Philox4x32-10 of one counter block; writes 4 unsigned 32-bit words into `out`.
 * @param c counter words c0..c3
 * @param k0 key word 0 (seed, low 32 bits)
 * @param k1 key word 1 (seed, high bits)
 */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
): void {
  let x0 = c0 >>> 0, x1 = c1 >>> 0, x2 = c2 >>> 0, x3 = c3 >>> 0;
  let key0 = k0 >>> 0, key1 = k1 >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, x0), lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2), lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}

/** Splits a seed (a safe non-negative integer) into two 32-bit key words. */
export function seedWords(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be a safe non-negative integer: ${seed}`);
  }
  return [seed % 4294967296 >>> 0, Math.floor(seed / 4294967296) >>> 0];
}

/** Elements drawn per kernel call when filling a caller's array (2 MiB of float64). */
const CHUNK = 1 << 18;

/**
 * Fills `out[i]` (i = 0..out.length−1) with `scale · z(offset + i)` of draw `(stream, step)`.
 * `offset + out.length` must not exceed 2³² (the block counter is 32 bits).
 */
export function fillGaussian(
  out: Float64Array | Float32Array,
  seed: number,
  stream: number,
  step: number,
  scale = 1,
  offset = 0,
): void {
  const [k0, k1] = seedWords(seed);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + out.length > 2 ** 32) {
    throw new RangeError(`offset + length must lie in [0, 2^32]: ${offset} + ${out.length}`);
  }
  const { inst, base } = acquireInstance(Math.min(out.length, CHUNK) * 8);
  try {
    for (let i = 0; i < out.length; i += CHUNK) {
      const count = Math.min(CHUNK, out.length - i);
      inst.exports.gaussian(base, count, offset + i, k0, k1, stream, step, scale, 0);
      out.set(new Float64Array(inst.memory.buffer, base, count), i);
    }
  } finally {
    releaseInstance(inst);
  }
}

/** Convenience: `n` standard Gaussians of draw `(stream, step)` in float64. */
export function gaussian(
  seed: number,
  n: number,
  stream: number = NOISE_STREAM.prior,
  step = 0,
): Float64Array {
  const out = new Float64Array(n);
  fillGaussian(out, seed, stream, step);
  return out;
}
