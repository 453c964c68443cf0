/**
 * Checks an exported ONNX model against PyTorch reference outputs with onnxruntime-web (wasm).
 *
 *   deno run --allow-read --allow-env tools/train/verify_onnx.ts models/mnist [check.json]
 *
 * The check file (default `tools/train/checkpoints/onnx_check.json`, written by export_onnx.py)
 * holds `x`, `t` (already scaled as the manifest says) and the PyTorch `eps`. Also runs batch 1
 * and batch 9 to exercise the dynamic batch axis. Exits 1 when the max abs diff exceeds 1e-4.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- tools/ script; the version is pinned here on purpose
import * as ort from "npm:onnxruntime-web@1.30.0";

const dir = Deno.args[0] ?? "models/mnist";
const checkPath = Deno.args[1] ?? "tools/train/checkpoints/onnx_check.json";
const manifest = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
const check = JSON.parse(await Deno.readTextFile(checkPath));
ort.env.wasm.numThreads = 1;
const bytes = await Deno.readFile(`${dir}/${manifest.onnx}`);
const session = await ort.InferenceSession.create(bytes, {
  executionProviders: ["wasm"],
});
console.log(
  `inputs ${session.inputNames.join(",")}  outputs ${session.outputNames.join(",")}`,
);

const [b, ...rest] = check.shape as number[];
const per = rest.reduce((a, c) => a * c, 1);
const x = Float32Array.from(check.x as number[]);
const t = Float32Array.from(check.t as number[]);
const out = await session.run({
  [manifest.inputs.x]: new ort.Tensor("float32", x, [b, ...rest]),
  [manifest.inputs.t]: new ort.Tensor("float32", t, [b]),
});
const eps = out[manifest.output].data as Float32Array;
let maxDiff = 0;
let maxRef = 0;
for (let i = 0; i < eps.length; i++) {
  maxDiff = Math.max(maxDiff, Math.abs(eps[i] - check.eps[i]));
  maxRef = Math.max(maxRef, Math.abs(check.eps[i]));
}
console.log(
  `batch ${b}: max |onnx - torch| = ${maxDiff.toExponential(3)} (max |eps| ${maxRef.toFixed(3)})`,
);

// dynamic batch: batch 1 (first sample) and batch 9 (the samples repeated) must agree with batch b
for (const nb of [1, 9]) {
  const xs = new Float32Array(nb * per);
  const ts = new Float32Array(nb);
  for (let k = 0; k < nb; k++) {
    xs.set(x.subarray((k % b) * per, (k % b + 1) * per), k * per);
    ts[k] = t[k % b];
  }
  const o = await session.run({
    [manifest.inputs.x]: new ort.Tensor("float32", xs, [nb, ...rest]),
    [manifest.inputs.t]: new ort.Tensor("float32", ts, [nb]),
  });
  const e = o[manifest.output].data as Float32Array;
  let d = 0;
  for (let i = 0; i < e.length; i++) {
    const k = Math.floor(i / per);
    d = Math.max(d, Math.abs(e[i] - check.eps[(k % b) * per + (i % per)]));
  }
  console.log(`batch ${nb}: max |onnx - torch| = ${d.toExponential(3)}`);
  maxDiff = Math.max(maxDiff, d);
}
if (!(maxDiff <= 1e-4)) {
  console.error("FAIL: ONNX output differs from PyTorch");
  Deno.exit(1);
}
console.log("OK");
