/**
 * The CPU noise of `assembly/kernels/noise.ts` restated in TypeScript, operation for operation, so a
 * test can hold the WebAssembly kernel to the bit against an independent implementation (and the
 * Philox words against the known-answer vectors through `philox4x32`).
 *
 * @module
 */

import { philox4x32, seedWords } from "../src/backends/noise.ts";

const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
const TURN_24 = 3.7450702829239286e-7;

/** ln(k·2⁻²⁴) for an integer k in [1, 2²⁴], as the kernel computes it. */
export function lnUniform(k: number): number {
  let e = 31 - Math.clz32(k);
  let m = k * 2 ** -e;
  if (m > Math.SQRT2) {
    m = m * 0.5;
    e = e + 1;
  }
  const s = (m - 1) / (m + 1);
  const z = s * s;
  let p = z * (1 / 21) + 1 / 19;
  for (const c of [1 / 17, 1 / 15, 1 / 13, 1 / 11, 1 / 9, 1 / 7, 1 / 5, 1 / 3]) p = z * p + c;
  const lnm = 2 * (s + s * (z * p));
  const d = e - 24;
  return d * LN2_HI + (d * LN2_LO + lnm);
}

/** [cos, sin] of 2π·j·2⁻²⁴ for an integer j in [0, 2²⁴), as the kernel computes them. */
export function cosSinTurn(j: number): [number, number] {
  const q = (j + 0x200000) >>> 22;
  const t = (j - q * 0x400000) * TURN_24;
  const x = t * t;
  let s = x * (1 / 355687428096000) + -1 / 1307674368000;
  for (const c of [1 / 6227020800, -1 / 39916800, 1 / 362880, -1 / 5040, 1 / 120, -1 / 6]) s = x * s + c;
  const sin = t + t * (x * s);
  let c = x * (1 / 20922789888000) + -1 / 87178291200;
  for (const k of [1 / 479001600, -1 / 3628800, 1 / 40320, -1 / 720, 1 / 24, -0.5]) c = x * c + k;
  const cos = x * c + 1;
  switch (q & 3) {
    case 0:
      return [cos, sin];
    case 1:
      return [-sin, cos];
    case 2:
      return [-cos, -sin];
    default:
      return [sin, -cos];
  }
}

/** `scale·z(offset + i)` of draw (stream, step), i = 0..count−1, as the kernel computes it. */
export function referenceGaussian(
  seed: number,
  count: number,
  stream: number,
  step: number,
  scale = 1,
  offset = 0,
): Float64Array {
  const [k0, k1] = seedWords(seed);
  const out = new Float64Array(count);
  const w = new Uint32Array(4);
  for (let i = 0; i < count; i++) {
    const e = offset + i;
    philox4x32(Math.floor(e / 4) >>> 0, step, stream, 0, k0, k1, w);
    const pair = (e & 3) >> 1;
    const r = Math.sqrt(-2 * lnUniform((w[2 * pair] >>> 8) + 1));
    const [c, s] = cosSinTurn(w[2 * pair + 1] >>> 8);
    // (the kernel multiplies by r before the quarter turn; negation commutes with it exactly)
    out[i] = scale * ((e & 1) === 0 ? r * c : r * s);
  }
  return out;
}
