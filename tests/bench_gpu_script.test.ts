// The real-GPU benchmark (bench/gpu/): its synthetic latent-sized model builds, loads and samples
// on wasm with the expected shape, and `bash bench/gpu/run.sh` on a machine without a hardware
// WebGPU adapter (here: none, or Mesa's llvmpipe, a fallback adapter) stops quickly, non-zero, with
// a clear message instead of benchmarking a software device.

import assert from "node:assert/strict";
import { loadModel, makePlan, modelPlanConfig, sample } from "../mod.ts";
import { latentModel, writeLatentModel } from "../bench/gpu/latent_model.ts";
import { describeAdapter, probeAdapter } from "../src/runtime/ort.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("bench/gpu latent model: the ONNX loads and samples on wasm with shape [n, 4, 64, 64]", async () => {
  const dir = await writeLatentModel();
  try {
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
    assert.deepEqual(manifest.sampleShape, [4, 64, 64]);
    assert.ok(latentModel().macsPerSample > 50e6, "larger than the MNIST network");
    const model = await loadModel(dir);
    try {
      const plan = makePlan(modelPlanConfig(model, { method: "tab", order: 3, steps: 3 }));
      const r = await sample({ model, plan, n: 2, seed: 1, backend: "wasm" });
      assert.deepEqual(r.shape, [2, 4, 64, 64]);
      assert.equal(r.data.length, 2 * 4 * 64 * 64);
      assert.ok(r.data.every(Number.isFinite));
      assert.equal(r.nfe, 3);
    } finally {
      await model.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function hasBash(): Promise<boolean> {
  try {
    return (await new Deno.Command("bash", { args: ["-c", "true"], stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

const adapter = await probeAdapter();
const hardware = adapter !== null && !describeAdapter(adapter).endsWith("(fallback)");

Deno.test({
  name: "bench/gpu/run.sh without a hardware WebGPU adapter: exits 3 within 60 s with a clear message",
  // On a machine with a real GPU the script would run the whole benchmark (minutes): not a test.
  ignore: hardware || !(await hasBash()),
  fn: async () => {
    const t0 = performance.now();
    const out = await new Deno.Command("bash", {
      args: ["bench/gpu/run.sh"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", GPU_BENCH_NO_INSTALL: "1" },
      signal: AbortSignal.timeout(60_000),
    }).output();
    const seconds = (performance.now() - t0) / 1000;
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.notEqual(out.code, 0, text);
    assert.equal(out.code, 3, text);
    assert.ok(seconds < 60, `took ${seconds} s`);
    assert.match(text, /no hardware \(non-fallback\) WebGPU adapter/);
    assert.doesNotMatch(text, /running bench\/gpu\/bench\.ts/);
  },
});
