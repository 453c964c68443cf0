/**
 * Plans to and from JSON, so a plan computed offline loads where the WASM engine never runs.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import type { Plan } from "./types.ts";
import { checkPlan } from "./validate.ts";

/**
 * Serialises a plan. Numbers round-trip exactly (JSON uses the shortest exact decimal).
 *
 * @example
 * ```ts
 * import { makePlan, planFromJSON, planToJSON } from "@seed/deis";
 * const text = planToJSON(makePlan({ steps: 10 }));
 * const plan = planFromJSON(text); // identical numbers
 * ```
 */
export function planToJSON(plan: Plan, indent?: number): string {
  return JSON.stringify(plan, null, indent);
}

/**
 * Parses and checks a plan (text or an already parsed object) of format `deis-plan/2`, or
 * `deis-plan/1` (upgraded: its program is laid out from its rows). Raises {@link ConfigError}
 * naming the first malformed field (`plan.rows[3][1]`, `plan.program.ops[4].t`, ...).
 *
 * @example
 * ```ts
 * import { planFromJSON } from "@seed/deis";
 * const plan = planFromJSON(await Deno.readTextFile("plan.json"));
 * ```
 */
export function planFromJSON(input: string | unknown): Plan {
  let obj: unknown = input;
  if (typeof input === "string") {
    try {
      obj = JSON.parse(input);
    } catch (e) {
      throw new ConfigError("plan", "valid JSON", input, `is not valid JSON (${(e as Error).message})`);
    }
  }
  return checkPlan(obj);
}
