/**
 * Evaluating GMM models with onnxruntime-web's wasm execution provider (single-threaded, which
 * works in Deno without cross-origin isolation), for tests and tools.
 *
 * @module
 */

// The SDK pins onnxruntime-web here; deno.json's import map is shared and not ours to edit.
// deno-lint-ignore no-import-prefix
import * as ort from "npm:onnxruntime-web@1.30.0";
import { GMM_IO, type GmmDtype } from "./graph.ts";

ort.env.wasm.numThreads = 1;

/** The onnxruntime-web module, configured for Deno. */
export { ort };

/** Creates an inference session on the wasm provider from model bytes or a file path. */
export async function createWasmSession(
  model: Uint8Array | string,
): Promise<ort.InferenceSession> {
  const bytes = typeof model === "string" ? await Deno.readFile(model) : model;
  return await ort.InferenceSession.create(bytes, {
    executionProviders: ["wasm"],
  });
}

/**
 * Runs a GMM ε model on a batch.
 * @param session an open session
 * @param dtype the model's tensor type
 * @param shape sample shape
 * @param x flat batch (B × prod(shape)); values are rounded to the model's dtype
 * @param t one time per sample
 * @returns ε as float64 (B × prod(shape))
 */
export async function runGmmModel(
  session: ort.InferenceSession,
  dtype: GmmDtype,
  shape: readonly number[],
  x: ArrayLike<number>,
  t: ArrayLike<number>,
): Promise<Float64Array> {
  const b = t.length;
  const make = (
    v: ArrayLike<number>,
  ) => (dtype === "float32" ? Float32Array.from(v) : Float64Array.from(v));
  const feeds = {
    [GMM_IO.x]: new ort.Tensor(dtype, make(x), [b, ...shape]),
    [GMM_IO.t]: new ort.Tensor(dtype, make(t), [b]),
  };
  const out = await session.run(feeds);
  const eps = out[GMM_IO.output];
  const dims = eps.dims;
  if (
    dims.length !== shape.length + 1 || dims[0] !== b ||
    shape.some((s, i) => dims[i + 1] !== s)
  ) {
    throw new Error(
      `gmm model: output shape [${dims.join(", ")}], expected [${[b, ...shape].join(", ")}]`,
    );
  }
  return Float64Array.from(eps.data as Float32Array | Float64Array);
}
