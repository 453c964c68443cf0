/**
 * A tiny linear decoder ONNX for tests and examples: `image = latent·W + b` from `[batch, 2]` latents
 * to `[batch, ...outputShape]` images (4 elements), so decoded values are checkable in closed form.
 *
 * @module
 */

import { encodeModel, GraphBuilder } from "./onnx/mod.ts";

/** W (2 × 4, row-major) and b of the test decoder. */
export const DECODER_W = [1, -2, 0.5, 3, 0.25, 1, -1, 2];
/** Bias of the test decoder. */
export const DECODER_B = [0.1, 0, -0.2, 0.3];

/** Options of {@link linearDecoder}. */
export interface LinearDecoderOptions {
  /** Input name (default "latent"). */
  input?: string;
  /** Output name (default "image"). */
  output?: string;
  /** Output shape without the batch (default [1, 2, 2]; 4 elements). */
  outputShape?: number[];
  /** Element type of the input and output (default float32; float16 casts around the float32 body). */
  dtype?: "float32" | "float16";
}

/** The decoder's ONNX bytes. */
export function linearDecoder(options: LinearDecoderOptions = {}): Uint8Array {
  const shape = options.outputShape ?? [1, 2, 2];
  const g = new GraphBuilder("linear-decoder");
  const half = options.dtype === "float16";
  const io = half ? "float16" : "float";
  const input = g.input(options.input ?? "latent", io, ["batch", 2]);
  const x = half ? g.op("Cast", [input], { to: 1 }) : input;
  const w = g.constant("float", [2, 4], DECODER_W);
  const b = g.constant("float", [4], DECODER_B);
  const flat = g.op("Add", [g.op("MatMul", [x, w]), b]);
  const dims = g.constant("int64", [shape.length + 1], [-1n, ...shape.map(BigInt)]);
  const shaped = g.op("Reshape", [flat, dims]);
  g.op(half ? "Cast" : "Identity", [shaped], half ? { to: 10 } : {}, options.output ?? "image");
  g.output(options.output ?? "image", io, ["batch", ...shape]);
  return encodeModel({ irVersion: 8, opsets: [{ domain: "", version: 17 }], graph: g.build() });
}

/** The decoded values in float64: `(latent / scalingFactor)·W + b` per sample. */
export function decodeReference(latents: ArrayLike<number>, scalingFactor: number): Float64Array {
  const n = latents.length / 2;
  const out = new Float64Array(n * 4);
  for (let i = 0; i < n; i++) {
    const a = latents[2 * i] / scalingFactor, c = latents[2 * i + 1] / scalingFactor;
    for (let j = 0; j < 4; j++) out[4 * i + j] = a * DECODER_W[j] + c * DECODER_W[4 + j] + DECODER_B[j];
  }
  return out;
}
