/**
 * DEIS, the Diffusion Exponential Integrator Sampler, for JavaScript runtimes.
 *
 * - Coefficient engine (WebAssembly, float64): time grids and per-step weights for DDIM, tAB-,
 *   ρAB- and log-ρ DEIS, ρRK-DEIS, iPNDM, stochastic DDIM and the Euler / score-EI baselines.
 * - Plans: a validated config becomes a JSON-serialisable {@link Plan}.
 * - Sampling: {@link sample} runs an ONNX ε-network (see {@link loadModel}) along a plan on WebGPU
 *   (state stays on the GPU, one readback) or WASM; {@link sampleFunction} runs a JS ε in float64.
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
export type { GridName, MethodName, Plan, RkName, RkStage, SdeName, SdeSpec } from "./src/plan/types.ts";
export {
  GRID_NAMES,
  MAX_STEPS,
  METHOD_NAMES,
  normalizeConfig,
  type NormalizedConfig,
  type PlanConfig,
  RK_NAMES,
  SDE_NAMES,
} from "./src/plan/config.ts";
export { makePlan } from "./src/plan/make_plan.ts";
export { planFromJSON, planToJSON } from "./src/plan/serialize.ts";
export {
  type CommonSampleOptions,
  type Progress,
  sample,
  sampleFunction,
  type SampleFunctionOptions,
  type SampleOptions,
  type SampleResult,
} from "./src/sampling/mod.ts";
export {
  type ConditioningValue,
  type EpsMap,
  type EvalPoint,
  type ExtraInput,
  type ExtraInputDtype,
  type GuidanceOptions,
  loadModel,
  type LoadModelOptions,
  Model,
  type ModelManifest,
  type ModelSessionOptions,
  type PredictionType,
  type SessionKind,
  type TimeSpec,
  validateManifest,
} from "./src/model/mod.ts";
export {
  type Backend,
  type BackendChoice,
  type BackendName,
  BackendUnavailableError,
  type CombineSpec,
  configureRuntime,
  createBackend,
  type EpsFunction,
  type EpsSource,
  type Evaluation,
  type GpuBufferStats,
  gpuBufferStats,
  GpuError,
  type GpuRunStats,
  type Run,
  type RunSpec,
  type RuntimeSettings,
  type RunTimings,
  type WebGpuBackendOptions,
} from "./src/backends/mod.ts";
export type { OrtSession, OrtSessionOptions, OrtTensor } from "./src/backends/ort.ts";
export { modelPlanConfig } from "./src/model/plan_config.ts";
export { encodePng, type Image, type TileOptions, tileSamples } from "./src/image/grid.ts";
