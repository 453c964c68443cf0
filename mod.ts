/**
 * DEIS, the Diffusion Exponential Integrator Sampler, for JavaScript runtimes.
 *
 * - Plans: a validated config becomes a JSON-serialisable {@link Plan} whose coefficients come from
 *   a WebAssembly engine (float64): DDIM, tAB-, ρAB- and log-ρ DEIS, ρRK-DEIS, iPNDM, stochastic
 *   DDIM, DPM-Solver++ and UniPC, and the Euler / score-EI baselines. A plan is a small program
 *   every backend runs unchanged.
 * - Sampling: {@link sample} runs an ONNX network (see {@link loadModel}) along a plan on WebGPU
 *   (state stays on the GPU, one readback) or WASM; {@link sampleFunction} runs a JS ε in float64.
 * - Your own loop: {@link createScheduler} hands you each network evaluation (on Float32Arrays, or
 *   on GPU buffers on WebGPU) and takes the raw output back, with the same samples as `sample()`.
 *
 * Backend authors find the run contract under `@seed/deis/backend`; table-only users can import
 * `@seed/deis/plan`, which loads no onnxruntime.
 *
 * @example
 * ```ts
 * import { makePlan } from "@seed/deis";
 * const plan = makePlan({ method: "tab", order: 3, steps: 10 });
 * console.log(plan.timesteps, plan.rows);
 * ```
 *
 * @module
 */

export * from "./src/errors.ts";
export * from "./src/plan/mod.ts";
export {
  type CommonSampleOptions,
  type PipelineOptions,
  type Preview,
  type PreviewOptions,
  type Progress,
  sample,
  sampleFunction,
  type SampleFunctionOptions,
  type SampleOptions,
  type SampleResult,
} from "./src/sampling/mod.ts";
export {
  type CpuSchedulerOptions,
  createScheduler,
  type GpuSchedulerOptions,
  type Scheduler,
  type SchedulerEvaluation,
  type SchedulerOptions,
} from "./src/sampling/scheduler.ts";
export {
  type InferenceSessionLike,
  type SessionModel,
  type SessionTensor,
  type TensorFactory,
} from "./src/sampling/session_model.ts";
export {
  type ConditioningValue,
  Decoder,
  type DecoderSpec,
  type ExtraInput,
  type ExtraInputDtype,
  type GuidanceOptions,
  loadModel,
  type LoadModelOptions,
  Model,
  type ModelManifest,
  type ModelSessionOptions,
  type NetworkDtype,
  type Precondition,
  type PredictionType,
  type SessionKind,
  type TimeDtype,
  type TimeSpec,
  validateManifest,
} from "./src/model/mod.ts";
export { modelPlanConfig } from "./src/model/plan_config.ts";
export {
  type Backend,
  type BackendChoice,
  type BackendName,
  configureRuntime,
  createBackend,
  type EpsFunction,
  type GpuBufferStats,
  gpuBufferStats,
  type GpuNetworkFunction,
  type GpuNetworkOutput,
  type GpuRunStats,
  type NetworkFunction,
  type RuntimeSettings,
  type RunTimings,
  type WebGpuBackendOptions,
} from "./src/backends/mod.ts";
export { encodePng, type Image, type TileOptions, tileSamples } from "./src/image/grid.ts";
export { ortWasmBinary, ortWasmBinaryPath, ortWasmBinaryUrl, ortWebGpuBinaryPath } from "./src/runtime/wasm_binary.ts";
