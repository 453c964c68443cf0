/**
 * Set onnxruntime-web's thread count before the first model session, then sample on the `wasm`
 * backend. (Edge runtimes without worker threads want 1; a cross-origin-isolated page may use more.)
 *
 *     deno run -A examples/runtime_settings.ts [threads]
 *
 * @module
 */

import { configureRuntime, loadModel, makePlan, modelPlanConfig, sample } from "../mod.ts";

const threads = Number(Deno.args[0] ?? 1);
configureRuntime({ numThreads: threads }); // before loadModel/sample: onnxruntime fixes it at its first session

const model = await loadModel(new URL("../models/mnist/", import.meta.url));
try {
  const plan = makePlan({ ...modelPlanConfig(model), method: "tab", order: 3, steps: 10 });
  const t0 = performance.now();
  const r = await sample({ model, plan, n: 8, seed: 1, backend: "wasm" });
  console.log(`8 digits, ${r.nfe} evaluations, ${threads} thread(s): ${(performance.now() - t0).toFixed(0)} ms`);
} finally {
  await model.dispose();
}
