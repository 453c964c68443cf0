/**
 * img2img plans: the last `⌊strength·N⌋` steps of an N-step plan, with every coefficient recomputed
 * on the kept times (multistep methods restart their warm-up there, as they would on any grid).
 * Sampling then starts from the image noised to the first kept time (docs/CONVENTIONS.md,
 * "img2img and inpainting").
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import type { PlanConfig } from "./config.ts";
import { makePlan } from "./make_plan.ts";
import type { Plan } from "./types.ts";

/**
 * Steps kept at `strength` out of `steps`: `⌊strength·steps⌋`, as diffusers' img2img pipelines
 * (`int(num_inference_steps * strength)`). Throws a {@link ConfigError} for a strength outside (0, 1]
 * or one that keeps no step.
 */
export function keptSteps(steps: number, strength: number): number {
  if (typeof strength !== "number" || !(strength > 0 && strength <= 1)) {
    throw new ConfigError("strength", "a number in (0, 1]", strength);
  }
  const kept = Math.min(steps, Math.floor(strength * steps));
  if (kept < 1) {
    throw new ConfigError(
      "strength",
      `at least 1/${steps} (⌊strength·steps⌋ ≥ 1 for this ${steps}-step plan)`,
      strength,
    );
  }
  return kept;
}

/**
 * The plan of an img2img run at `strength`: `plan` itself at strength 1, otherwise the same SDE and
 * method on the grid `timesteps[N − K …  N]` (a `"custom"` grid, K = {@link keptSteps}).
 *
 * @example
 * ```ts
 * import { makePlan, truncatePlan } from "@seed/deis";
 * const full = makePlan({ method: "tab", order: 2, steps: 10 });
 * const plan = truncatePlan(full, 0.6);
 * console.log(plan.steps, plan.timesteps[0] === full.timesteps[4]); // 6 true
 * ```
 */
export function truncatePlan(plan: Plan, strength: number): Plan {
  const N = plan.steps;
  const K = keptSteps(N, strength);
  if (K === N) return plan;
  const { sde } = plan;
  const config: PlanConfig = {
    sde: sde.name,
    method: plan.method,
    lambda: plan.lambda,
    timesteps: plan.timesteps.slice(N - K),
  };
  if (sde.name === "vp-linear") Object.assign(config, { betaMin: sde.betaMin, betaMax: sde.betaMax });
  if (sde.name === "ve") Object.assign(config, { sigmaMin: sde.sigmaMin, sigmaMax: sde.sigmaMax });
  if (sde.name === "vp-discrete") config.alphasCumprod = sde.alphasCumprod;
  if (plan.method === "rhork") config.rk = plan.rk;
  else config.order = plan.order;
  if (plan.method === "unipc") config.variant = plan.variant;
  return makePlan(config);
}
