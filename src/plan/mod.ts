/**
 * Plans only: configs, coefficient tables and their JSON form, without onnxruntime. For users who
 * precompute tables (an edge function that hands plans to clients, a build step, another language
 * reading the JSON) and should not load the sampling runtime. Everything here is also exported by
 * the package root.
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
export type { GridName, MethodName, Plan, RkName, RkStage, SdeName, SdeSpec } from "./types.ts";
export {
  GRID_NAMES,
  MAX_STEPS,
  METHOD_NAMES,
  normalizeConfig,
  type NormalizedConfig,
  type PlanConfig,
  RK_NAMES,
  SDE_NAMES,
} from "./config.ts";
export { makePlan } from "./make_plan.ts";
export { planFromJSON, planToJSON } from "./serialize.ts";
