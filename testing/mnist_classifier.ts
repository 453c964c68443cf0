/**
 * The independent judge of generated digits: the MNIST classifier of models/mnist-features (trained
 * on real digits, 98.9 % on the held-out ones). Tests use its labels to check that a pipeline drew
 * the class asked for; the quality benchmark also uses its 128-d features for Fréchet distances.
 *
 * @module
 */

import { type OrtSession, ortWasm } from "../src/runtime/ort.ts";

/** Features per digit (the penultimate layer, before its ReLU). */
export const FEATURES = 128;
const D = 784;
let session: Promise<OrtSession> | undefined;

/**
 * Labels (argmax of the logits) and features of `count` digits, `[count, 1, 28, 28]` in [-1, 1]
 * (values outside are clipped: a decoder may overshoot a little), in batches of 250.
 */
export async function classifyDigits(
  images: ArrayLike<number>,
  count: number,
): Promise<{ labels: Int32Array; features: Float32Array }> {
  session ??= Deno.readFile(new URL("../models/mnist-features/model.onnx", import.meta.url)).then((bytes) =>
    ortWasm.InferenceSession.create(bytes, { executionProviders: ["wasm"] })
  );
  const s = await session;
  const labels = new Int32Array(count), features = new Float32Array(count * FEATURES);
  for (let i = 0; i < count; i += 250) {
    const b = Math.min(250, count - i);
    const x = new Float32Array(b * D);
    for (let j = 0; j < b * D; j++) x[j] = Math.max(-1, Math.min(1, images[i * D + j]));
    const r = await s.run({ x: new ortWasm.Tensor("float32", x, [b, 1, 28, 28]) });
    features.set(r.features.data as Float32Array, i * FEATURES);
    const logits = r.logits.data as Float32Array;
    for (let k = 0; k < b; k++) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (logits[k * 10 + c] > logits[k * 10 + best]) best = c;
      labels[i + k] = best;
    }
  }
  return { labels, features };
}
