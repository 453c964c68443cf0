// Pipelines on the shipped MNIST model: img2img from a drawn image, inpainting of its right half,
// x̂₀ previews every 4 steps, and a decoder stage (a tiny linear decoder built on the fly with the
// project's ONNX writer, attached to the 2-D Gaussian-mixture model).
// Run: deno run -A examples/pipelines.ts

import { loadModel, makePlan, sample } from "../mod.ts";
import { linearDecoder } from "../testing/decoder.ts";

const mnist = await loadModel(new URL("../models/mnist/", import.meta.url));
// a vertical bar in [-1, 1] (MNIST's dataRange), one sample broadcast over the batch
const image = new Float32Array(28 * 28).map((_, i) => (Math.abs((i % 28) - 14) < 3 ? 1 : -1));
const plan = makePlan({ method: "unipc", order: 2, steps: 20 });

// img2img: the last ⌊0.5·20⌋ = 10 steps, from the bar noised to the 11th grid time
const edit = await sample({ model: mnist, plan, n: 4, seed: 1, image, strength: 0.5, backend: "wasm" });
console.log("img2img", edit.nfe, "evaluations");

// inpainting: keep the left half (mask 1), generate the right half (mask 0), preview every 4 steps
const mask = new Float32Array(28 * 28).map((_, i) => (i % 28 < 14 ? 1 : 0));
const filled = await sample({
  model: mnist,
  plan,
  n: 4,
  seed: 2,
  image,
  mask,
  backend: "wasm",
  preview: {
    every: 4,
    onPreview: (p) => console.log(`preview after step ${p.step}/${p.steps} (t = ${p.t.toFixed(3)})`),
  },
});
const kept = filled.data.every((v, i) => mask[i % 784] === 0 || v === image[i % 784]);
console.log("inpainting: known half unchanged:", kept);
await mnist.dispose();

// a decoder stage: image = (latent / scalingFactor)·W + b, [n, 2] → [n, 1, 2, 2]
const gmmUrl = new URL("../models/gmm-2d/", import.meta.url);
const manifest = JSON.parse(await Deno.readTextFile(new URL("model.json", gmmUrl)));
manifest.format = "deis-model/2";
manifest.decoder = {
  onnx: "decoder.onnx",
  input: "latent",
  output: "image",
  scalingFactor: 0.5,
  outputShape: [1, 2, 2],
};
const gmm = await loadModel(await Deno.readFile(new URL("model.onnx", gmmUrl)), {
  manifest,
  decoderBytes: linearDecoder(),
});
const r = await sample({ model: gmm, plan: makePlan({ steps: 10 }), n: 2, seed: 3, backend: "wasm" });
console.log("decoded", r.decodedShape, Array.from(r.decoded!, (v) => v.toFixed(3)).join(" "));
await gmm.dispose();
if (!kept) Deno.exit(1);
