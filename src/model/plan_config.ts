/**
 * The plan configuration a model implies: its SDE and default T and ε, so that a plan made for a
 * model always matches the schedule the network was trained on.
 *
 * @module
 */

import type { PlanConfig } from "../plan/config.ts";
import type { Model } from "./model.ts";

/**
 * `config` (method, steps, grid, …) merged over the model's SDE and default T and ε.
 *
 * @example
 * ```ts
 * import { loadModel, makePlan, modelPlanConfig } from "@seed/deis";
 * const model = await loadModel("models/mnist/");
 * const plan = makePlan(modelPlanConfig(model, { method: "tab", order: 3, steps: 10 }));
 * ```
 */
export function modelPlanConfig(model: Model, config: PlanConfig = {}): PlanConfig {
  const m = model.manifest;
  const base: Record<string, unknown> = { sde: m.sde.name, tStart: m.tStart, tEnd: m.tEnd };
  if (m.sde.name === "vp-linear") Object.assign(base, { betaMin: m.sde.betaMin, betaMax: m.sde.betaMax });
  if (m.sde.name === "ve") Object.assign(base, { sigmaMin: m.sde.sigmaMin, sigmaMax: m.sde.sigmaMax });
  if (m.sde.name === "vp-discrete") base.alphasCumprod = m.sde.alphasCumprod;
  // A manifest that names a diffusers scheduler config: its grid, unless the config picks another.
  if (m.scheduler && config.grid === undefined && config.timesteps === undefined) {
    Object.assign(base, {
      grid: "diffusers",
      timestepSpacing: m.scheduler.timestepSpacing,
      stepsOffset: m.scheduler.stepsOffset,
    });
    delete base.tStart;
  }
  return { ...base, ...config } as PlanConfig;
}
