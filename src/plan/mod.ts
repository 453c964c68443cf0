/**
 * Plans only: configs, the method registry, coefficient tables, programs and their JSON form,
 * without onnxruntime. For users who precompute tables (an edge function that hands plans to
 * clients, a build step, another language reading the JSON) and should not load the sampling
 * runtime. Everything here is also exported by the package root.
 *
 * @example
 * ```ts
 * import { makePlan, planToJSON } from "@seed/deis/plan";
 * const plan = makePlan({ method: "tab", order: 3, steps: 10 });
 * console.log(planToJSON(plan).length);
 * ```
 *
 * @module
 */

export * from "../errors.ts";
export type {
  CombineOp,
  EvalOp,
  GridName,
  InitOp,
  MethodName,
  Op,
  Plan,
  Program,
  RegisterName,
  RkName,
  RkStage,
  SdeName,
  SdeSpec,
  VariantName,
} from "./types.ts";
export {
  CONFIG_KEYS,
  GRID_NAMES,
  MAX_STEPS,
  normalizeConfig,
  type NormalizedConfig,
  type PlanConfig,
  SDE_NAMES,
} from "./config.ts";
export { evalsPerStep, METHOD_NAMES, type MethodInfo, methodInfo, METHODS, RK_NAMES } from "./registry.ts";
export { makePlan } from "./make_plan.ts";
export {
  BETA_SCHEDULES,
  type BetaSchedule,
  diffusersAlphasCumprod,
  diffusersPlanConfig,
  type DiffusersScheduleOptions,
  type DiffusersSettings,
  diffusersTimesteps,
  fromDiffusersScheduler,
  parseSchedulerJson,
  PREDICTION_TYPES,
  TIMESTEP_SPACINGS,
  type TimestepSpacing,
} from "./diffusers.ts";
export { planFromJSON, planToJSON } from "./serialize.ts";
export { checkPlan, MAX_OPS_PER_STEP, MAX_V_REGISTERS, MAX_X_REGISTERS } from "./validate.ts";
export { keptSteps, truncatePlan } from "./img2img.ts";
