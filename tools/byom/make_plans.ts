/**
 * Makes the deterministic plans (no noise) the byom fixtures are sampled with, through the public
 * plan API (`@seed/deis/plan`): for each case `plan.<name>.json` beside its manifest. The
 * diffusers-unet plans use the scheduler config's `diffusers` grid (trailing spacing: integer
 * timesteps 999, 899, …, 99, then ε = 1/N); the EDM plans a karras grid; the latent plans the
 * default grid. `dpmpp` plans evaluate into x̂₀ registers (`out: "x0"`), the others into ε.
 *
 * Run: deno run --allow-read --allow-write tools/byom/make_plans.ts
 */

import {
  fromDiffusersScheduler,
  makePlan,
  parseSchedulerJson,
  type PlanConfig,
  planToJSON,
} from "../../src/plan/mod.ts";

const ROOT = new URL("../../tests/fixtures/byom/", import.meta.url);

/** The plans of every case: file name → method settings. */
export const METHODS: Record<string, PlanConfig> = {
  "tab3-10": { method: "tab", order: 3, steps: 10 },
  "ddim-10": { method: "ddim", steps: 10 },
  "dpmpp2-10": { method: "dpmpp", order: 2, steps: 10 },
};

const scheduler = fromDiffusersScheduler(
  parseSchedulerJson(await Deno.readTextFile(new URL("diffusers-unet/scheduler_config.json", ROOT))),
);
const BASES: Record<string, PlanConfig> = {
  "diffusers-unet": scheduler.plan,
  "edm-denoiser": { sde: "ve", sigmaMin: 0.002, sigmaMax: 80, grid: "karras" },
  "latent": { sde: "vp-linear", betaMin: 0.1, betaMax: 20 },
};

for (const [dir, base] of Object.entries(BASES)) {
  for (const [name, method] of Object.entries(METHODS)) {
    const plan = makePlan({ ...base, ...method });
    const file = new URL(`${dir}/plan.${name}.json`, ROOT);
    await Deno.writeTextFile(file, planToJSON(plan) + "\n");
    console.log(`${dir}/plan.${name}.json: ${plan.method}, ${plan.steps} steps, nfe ${plan.nfe}`);
  }
}
