/**
 * The sampling engine: `sample` runs an ONNX ε-network along a coefficient plan on a backend
 * (webgpu, wasm or auto); `sampleFunction` runs a JS ε function in float64 on the CPU.
 *
 * @example
 * ```ts
 * import { loadModel, makePlan, sample } from "@seed/deis";
 * const model = await loadModel("models/gmm-2d");
 * const plan = makePlan({ method: "tab", order: 3, steps: 10 });
 * const r = await sample({ model, plan, n: 8, seed: 7 });
 * await model.dispose();
 * ```
 *
 * @module
 */

export {
  checkPlanMatchesModel,
  type CommonSampleOptions,
  sample,
  sampleFunction,
  type SampleFunctionOptions,
  type SampleOptions,
  type SampleResult,
} from "./sample.ts";
export { interpret, type Progress, type RunContext } from "./interpreter.ts";
export { type PipelineOptions, type Preview, type PreviewOptions } from "./pipeline.ts";
