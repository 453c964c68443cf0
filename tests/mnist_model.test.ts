// The shipped MNIST network: its ONNX export reproduces the outputs PyTorch recorded for the shipped
// weights (models/mnist/check.json, written by tools/train/export_onnx.py), so a stale or broken export
// fails here; and the manifest loads and samples finite digits.

import assert from "node:assert/strict";
import { loadModel, makePlan, sample } from "../mod.ts";
import { ortWasm } from "../src/runtime/ort.ts";

const dir = new URL("../models/mnist/", import.meta.url);

Deno.test("models/mnist/model.onnx matches the PyTorch outputs recorded at export (≤ 1e-4)", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(new URL("model.json", dir)));
  const check = JSON.parse(await Deno.readTextFile(new URL("check.json", dir)));
  const session = await ortWasm.InferenceSession.create(await Deno.readFile(new URL(manifest.onnx, dir)), {
    executionProviders: ["wasm"],
  });
  try {
    const [b, ...rest] = check.shape as number[];
    const out = await session.run({
      [manifest.inputs.x]: new ortWasm.Tensor("float32", Float32Array.from(check.x), [b, ...rest]),
      [manifest.inputs.t]: new ortWasm.Tensor("float32", Float32Array.from(check.t), [b]),
    });
    const y = out[manifest.output].data as Float32Array;
    const ref: number[] = check.eps ?? check.out;
    assert.equal(y.length, ref.length);
    let maxDiff = 0;
    for (let i = 0; i < y.length; i++) maxDiff = Math.max(maxDiff, Math.abs(y[i] - ref[i]));
    assert.ok(maxDiff <= 1e-4, `max |onnx − torch| = ${maxDiff}`);
  } finally {
    await session.release();
  }
});

Deno.test("the MNIST model samples finite digits in the data range", async () => {
  const model = await loadModel(dir);
  try {
    assert.deepEqual(model.sampleShape, [1, 28, 28]);
    const plan = makePlan({ method: "tab", order: 3, steps: 5 });
    const r = await sample({ model, plan, n: 2, seed: 1, backend: "wasm" });
    assert.deepEqual(r.shape, [2, 1, 28, 28]);
    let lo = Infinity, hi = -Infinity;
    for (const v of r.data) {
      assert.ok(Number.isFinite(v));
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    // Background near −1 and strokes near +1 (with some overshoot at 5 steps).
    assert.ok(lo < -0.5 && lo > -3 && hi > 0 && hi < 3, `range [${lo}, ${hi}]`);
  } finally {
    await model.dispose();
  }
});
