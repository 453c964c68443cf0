/**
 * Checks models/mnist-features/model.onnx with onnxruntime-web (wasm): compares it with the PyTorch
 * reference outputs written by train_classifier.py and recomputes the held-out accuracy from the
 * digits returned by `mnist_data.ts` (so the TS data path and the Python one agree).
 *
 *   deno run --allow-read --allow-env tools/train/verify_classifier_onnx.ts
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- tools/ script; the version is pinned here on purpose
import * as ort from "npm:onnxruntime-web@1.30.0";
import { loadMnistHeldOut } from "./mnist_data.ts";

const dir = Deno.args[0] ?? "models/mnist-features";
const checkPath = Deno.args[1] ??
  "tools/train/checkpoints/classifier_check.json";
ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(
  await Deno.readFile(`${dir}/model.onnx`),
  {
    executionProviders: ["wasm"],
  },
);
console.log(
  `inputs ${session.inputNames.join(",")}  outputs ${session.outputNames.join(",")}`,
);

let maxDiff = 0;
try {
  const check = JSON.parse(await Deno.readTextFile(checkPath));
  const out = await session.run({
    x: new ort.Tensor("float32", Float32Array.from(check.x), check.shape),
  });
  for (const name of ["logits", "features"]) {
    const got = out[name].data as Float32Array;
    let d = 0;
    for (let i = 0; i < got.length; i++) {
      d = Math.max(d, Math.abs(got[i] - check[name][i]));
    }
    console.log(
      `${name} ${out[name].dims.join("x")}: max |onnx - torch| = ${d.toExponential(3)}`,
    );
    maxDiff = Math.max(maxDiff, d);
  }
} catch (e) {
  console.log(`(no reference outputs: ${(e as Error).message})`);
}

const held = loadMnistHeldOut();
const per = 28 * 28;
const batch = 250;
let correct = 0;
let featDim = 0;
for (let s = 0; s < held.count; s += batch) {
  const n = Math.min(batch, held.count - s);
  const out = await session.run({
    x: new ort.Tensor("float32", held.images.slice(s * per, (s + n) * per), [
      n,
      1,
      28,
      28,
    ]),
  });
  const logits = out.logits.data as Float32Array;
  featDim = out.features.dims[1];
  for (let k = 0; k < n; k++) {
    let best = 0;
    for (let c = 1; c < 10; c++) {
      if (logits[k * 10 + c] > logits[k * 10 + best]) best = c;
    }
    if (best === held.labels[s + k]) correct++;
  }
}
console.log(
  `held-out accuracy (TS data + ONNX): ${(100 * correct / held.count).toFixed(2)}% ` +
    `(${correct}/${held.count}); features dim ${featDim}`,
);
if (!(maxDiff <= 1e-4)) {
  console.error("FAIL");
  Deno.exit(1);
}
console.log("OK");
