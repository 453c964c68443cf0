/**
 * The host (typed array) side of the pipeline operations: inpainting's blend and the decoder's
 * input. The CPU backends use them directly; the WebGPU backend has its own kernels (`wgsl_pipes.ts`)
 * computing the same expressions.
 *
 * @module
 */

import type { Decoder } from "../model/decoder.ts";
import type { SessionKind } from "../model/model.ts";
import type { BlendSpec } from "./types.ts";

/**
 * `dst = m·(alpha·known + sigma·z) + (1 − m)·dst` in float64, rounded once on the store. With
 * m = 1, alpha = 1 and sigma = 0 the result is `known` exactly (no noise is drawn then).
 *
 * @param noise `sigma·z` of the spec's draw, dst's length (read only when sigma ≠ 0)
 */
export function blendHost(
  dst: Float32Array | Float64Array,
  known: Float64Array,
  mask: Float64Array,
  spec: BlendSpec,
  noise: Float64Array,
): void {
  const { alpha, sigma } = spec;
  for (let i = 0; i < dst.length; i++) {
    const m = mask[i];
    const target = sigma !== 0 ? alpha * known[i] + noise[i] : alpha * known[i];
    dst[i] = m * target + (1 - m) * dst[i];
  }
}

/** Runs the decoder on host latents (its input is latents / scalingFactor, see `Decoder.hostInput`). */
export async function decodeHost(
  decoder: Decoder,
  kind: SessionKind,
  latents: Float32Array | Float64Array,
  n: number,
): Promise<Float32Array> {
  return await decoder.run(kind, decoder.hostInput(kind, latents, n), n);
}
