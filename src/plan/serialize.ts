/**
 * Plans to and from JSON, so a plan computed offline loads where the WASM engine never runs.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { GRID_NAMES, METHOD_NAMES, RK_NAMES, SDE_NAMES } from "./config.ts";
import type { Plan } from "./types.ts";

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

function fail(field: string, allowed: string, value: unknown): never {
  throw new ConfigError(`plan.${field}`, allowed, value);
}

function finiteArray(field: string, value: unknown, length?: number): number[] {
  if (!Array.isArray(value)) fail(field, "an array of finite numbers", value);
  if (length !== undefined && value.length !== length) {
    fail(field, `an array of length ${length}`, value);
  }
  value.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      fail(`${field}[${i}]`, "a finite number", v);
    }
  });
  return value as number[];
}

/**
 * Parses and checks a plan (text or an already parsed object). Raises {@link ConfigError} naming
 * the first malformed field (`plan.rows[3][1]`, ...).
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
      throw new ConfigError(
        "plan",
        "valid JSON",
        input,
        `is not valid JSON (${(e as Error).message})`,
      );
    }
  }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    fail("", "an object", obj);
  }
  const p = obj as Record<string, unknown>;
  if (p.format !== "deis-plan/1") fail("format", `"deis-plan/1"`, p.format);
  const sde = p.sde as Record<string, unknown> | undefined;
  if (
    !sde || typeof sde !== "object" || !SDE_NAMES.includes(sde.name as never)
  ) {
    fail("sde.name", `one of ${SDE_NAMES.join(", ")}`, sde?.name);
  }
  if (!METHOD_NAMES.includes(p.method as never)) {
    fail("method", `one of ${METHOD_NAMES.join(", ")}`, p.method);
  }
  if (p.grid !== "custom" && !GRID_NAMES.includes(p.grid as never)) {
    fail("grid", "a grid name or custom", p.grid);
  }
  if (
    typeof p.steps !== "number" || !Number.isInteger(p.steps) || p.steps < 1
  ) {
    fail("steps", "a positive integer", p.steps);
  }
  const steps = p.steps as number;
  if (
    typeof p.order !== "number" || !Number.isInteger(p.order) || p.order < 0 ||
    p.order > 3
  ) {
    fail("order", "an integer in [0, 3]", p.order);
  }
  if (
    typeof p.lambda !== "number" || !(p.lambda >= 0) ||
    !Number.isFinite(p.lambda)
  ) {
    fail("lambda", "a finite number ≥ 0", p.lambda);
  }
  const times = finiteArray("timesteps", p.timesteps, steps + 1);
  for (let i = 1; i < times.length; i++) {
    if (!(times[i] < times[i - 1])) {
      fail(`timesteps[${i}]`, "strictly decreasing times", times[i]);
    }
  }
  finiteArray("alphaBar", p.alphaBar, steps + 1);
  finiteArray("rho", p.rho, steps + 1);
  if (!Array.isArray(p.rows) || p.rows.length !== steps) {
    fail("rows", `an array of ${steps} rows`, p.rows);
  }
  let stride = (p.order as number) + 2;
  if (p.method === "rhork") {
    if (!RK_NAMES.includes(p.rk as never)) {
      fail("rk", `one of ${RK_NAMES.join(", ")}`, p.rk);
    }
    if (!Array.isArray(p.stages) || p.stages.length !== steps) {
      fail("stages", `an array of ${steps} steps`, p.stages);
    }
    const S = (p.stages as unknown[][])[0]?.length;
    stride = S + 1;
    (p.stages as unknown[][]).forEach((step, k) => {
      if (!Array.isArray(step) || step.length !== S) {
        fail(`stages[${k}]`, `an array of ${S} stages`, step);
      }
      step.forEach((st, m) => {
        const s = st as Record<string, unknown>;
        for (const key of ["t", "alphaBar", "rho", "xCoef"]) {
          if (typeof s?.[key] !== "number" || !Number.isFinite(s[key])) {
            fail(`stages[${k}][${m}].${key}`, "a finite number", s?.[key]);
          }
        }
        finiteArray(`stages[${k}][${m}].coefs`, s.coefs, m);
      });
    });
  }
  (p.rows as unknown[]).forEach((row, k) => finiteArray(`rows[${k}]`, row, stride));
  if (p.noise !== undefined) finiteArray("noise", p.noise, steps);
  if ((p.lambda as number) > 0 && p.noise === undefined) {
    fail("noise", "present when lambda > 0", p.noise);
  }
  const evalTimes = finiteArray("evalTimes", p.evalTimes);
  if (p.nfe !== evalTimes.length) {
    fail("nfe", `evalTimes.length = ${evalTimes.length}`, p.nfe);
  }
  return p as unknown as Plan;
}
