// configureRuntime: typed errors naming the setting, the settings reach onnxruntime, and a call
// after the first session is refused (onnxruntime would silently ignore it).

import assert from "node:assert/strict";
import { ConfigError, configureRuntime, DeisError, loadModel, makePlan, sample } from "../mod.ts";
import { ortWasm, ortWebGpu } from "../src/runtime/ort.ts";
import { intraOpThreads } from "../src/runtime/settings.ts";

Deno.test("configureRuntime: bad settings name the setting and what it allows", () => {
  const bad: [unknown, string][] = [
    [{ numThreads: 0 }, "numThreads"],
    [{ numThreads: 1.5 }, "numThreads"],
    [{ numThreads: 65 }, "numThreads"],
    [{ numThreads: NaN }, "numThreads"],
    [{ wasmPaths: 3 }, "wasmPaths"],
    [{ wasmPaths: { "ort.wasm": 1 } }, "wasmPaths"],
    [{ wasmBinary: "ort.wasm" }, "wasmBinary"],
    [{ threads: 2 }, "threads"],
    [null, "settings"],
  ];
  for (const [settings, field] of bad) {
    assert.throws(
      () => configureRuntime(settings as never),
      (e) => e instanceof ConfigError && e.field === field && e.allowed.length > 0,
      JSON.stringify(settings),
    );
  }
});

Deno.test("configureRuntime: applies before the first session, refuses after it", async () => {
  configureRuntime({ numThreads: 1, wasmPaths: ortWasm.env.wasm.wasmPaths as string | undefined });
  assert.equal(ortWasm.env.wasm.numThreads, 1);
  assert.equal(intraOpThreads(), 1, "native sessions use the same count");
  assert.notEqual(ortWebGpu.env.wasm.numThreads, 2, "the WebGPU build keeps its own (single) thread");
  const model = await loadModel(new URL("../models/gmm-2d/", import.meta.url));
  try {
    const r = await sample({ model, plan: makePlan({ steps: 5 }), n: 4, seed: 1, backend: "wasm" });
    assert.ok(r.data.every(Number.isFinite));
    assert.throws(
      () => configureRuntime({ numThreads: 2 }),
      (e) => e instanceof DeisError && /already started/.test(e.message),
    );
    assert.equal(ortWasm.env.wasm.numThreads, 1);
  } finally {
    await model.dispose();
  }
});
