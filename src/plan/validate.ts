/**
 * The one plan validator. `sample()`, `planFromJSON` and the CLIs all call {@link checkPlan}: it
 * reads `deis-plan/1` plans too (their program is laid out from their rows), and rejects anything a
 * backend should not run — with a {@link ConfigError} naming the field (`plan.timesteps[3]`,
 * `plan.program.ops[12].terms[0]`, …).
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { GRID_NAMES, MAX_STEPS, SDE_NAMES } from "./config.ts";
import { rowsProgram, stagesProgram } from "./program.ts";
import { METHOD_NAMES, methodInfo, RK_NAMES } from "./registry.ts";
import type { Op, Plan, Program } from "./types.ts";

/** Most x registers a program may use. */
export const MAX_X_REGISTERS = 4;
/** Most value registers a program may use (also the most terms of one combine). */
export const MAX_V_REGISTERS = 16;
/** Most operations per step (ρRK with 4 stages needs 8). */
export const MAX_OPS_PER_STEP = 16;
/**
 * Largest magnitude of a program coefficient. Real plans stay far below (VE with σ_max = 1e6 gives
 * ~1e6); beyond this a float32 update could overflow to Infinity without any network at fault.
 */
export const MAX_COEFFICIENT = 1e30;

const coefficient = (c: number) => Math.abs(c) <= MAX_COEFFICIENT;
const COEFFICIENT = `a finite number of magnitude at most ${MAX_COEFFICIENT}`;

function fail(field: string, allowed: string, value: unknown): never {
  throw new ConfigError(`plan${field ? "." + field : ""}`, allowed, value);
}

function finite(field: string, value: unknown, check?: (v: number) => boolean, allowed = "a finite number"): number {
  if (typeof value !== "number" || !Number.isFinite(value) || (check && !check(value))) fail(field, allowed, value);
  return value as number;
}

function finiteArray(field: string, value: unknown, length?: number, check?: (v: number) => boolean, allowed?: string) {
  if (!Array.isArray(value)) fail(field, "an array of finite numbers", value);
  if (length !== undefined && value.length !== length) fail(field, `an array of length ${length}`, value);
  value.forEach((v, i) => finite(`${field}[${i}]`, v, check, allowed));
  return value as number[];
}

function integer(field: string, value: unknown, lo: number, hi: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < lo || value > hi) {
    fail(field, `an integer in [${lo}, ${hi}]`, value);
  }
  return value as number;
}

/** Register name → index, checked against the declared count. */
function register(field: string, value: unknown, kind: "x" | "v", count: number): number {
  const m = typeof value === "string" ? /^([xv])(\d{1,2})$/.exec(value) : null;
  const i = m && m[1] === kind ? Number(m[2]) : -1;
  if (i < 0 || i >= count) fail(field, `a register ${kind}0..${kind}${count - 1}`, value);
  return i;
}

/** Structural equality of two JSON values (−0 and 0 alike, as JSON has it). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b || (typeof a === "number" && typeof b === "number" && a === b)) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object" || Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length &&
    ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Checks a program's operations, tracking which registers hold a value (`written`). */
function checkOps(
  field: string,
  ops: unknown,
  regs: { x: number; v: number },
  written: { x: boolean[]; v: boolean[] },
  maxOps: number,
): { evals: number[]; lastEnd: number } {
  if (!Array.isArray(ops) || ops.length > maxOps) fail(field, `an array of at most ${maxOps} operations`, ops);
  const evals: number[] = [];
  let lastEnd = 0;
  const read = (f: string, kind: "x" | "v", name: unknown) => {
    const i = register(f, name, kind, regs[kind]);
    if (!written[kind][i]) fail(f, `a register written before it is read`, name);
  };
  (ops as unknown[]).forEach((raw, n) => {
    const f = `${field}[${n}]`;
    if (raw === null || typeof raw !== "object") fail(f, "an operation object", raw);
    const op = raw as Record<string, unknown>;
    if (op.op === "init") {
      if (n !== 0 || field !== "program.ops") fail(`${f}.op`, "init only as the program's first operation", op.op);
      written.x[register(`${f}.dst`, op.dst, "x", regs.x)] = true;
      finite(`${f}.scale`, op.scale, (s) => s > 0 && s <= MAX_COEFFICIENT, `a number in (0, ${MAX_COEFFICIENT}]`);
    } else if (op.op === "eval") {
      read(`${f}.src`, "x", op.src);
      finite(`${f}.t`, op.t);
      finite(`${f}.alphaBar`, op.alphaBar, (a) => a > 0 && a <= 1, "a number in (0, 1]");
      finite(`${f}.rho`, op.rho, (r) => r > 0, "a finite number > 0");
      integer(`${f}.step`, op.step, 0, MAX_STEPS);
      if (op.out !== "eps" && op.out !== "x0") fail(`${f}.out`, `"eps" or "x0"`, op.out);
      written.v[register(`${f}.dst`, op.dst, "v", regs.v)] = true;
      evals.push(op.t as number);
    } else if (op.op === "combine") {
      const dst = register(`${f}.dst`, op.dst, "x", regs.x);
      if (finite(`${f}.a`, op.a, coefficient, COEFFICIENT) !== 0) read(`${f}.dst`, "x", op.dst);
      if (op.src !== undefined) {
        if (!Array.isArray(op.src) || op.src.length !== 2) fail(`${f}.src`, "[register, coefficient]", op.src);
        read(`${f}.src[0]`, "x", op.src[0]);
        finite(`${f}.src[1]`, op.src[1], coefficient, COEFFICIENT);
      }
      if (!Array.isArray(op.terms) || op.terms.length > MAX_V_REGISTERS) {
        fail(`${f}.terms`, `an array of at most ${MAX_V_REGISTERS} [register, coefficient] pairs`, op.terms);
      }
      (op.terms as unknown[]).forEach((t, j) => {
        if (!Array.isArray(t) || t.length !== 2) fail(`${f}.terms[${j}]`, "[register, coefficient]", t);
        read(`${f}.terms[${j}][0]`, "v", t[0]);
        finite(`${f}.terms[${j}][1]`, t[1], coefficient, COEFFICIENT);
      });
      if (op.noise !== undefined) {
        const z = op.noise as Record<string, unknown>;
        if (z === null || typeof z !== "object") fail(`${f}.noise`, "{scale, stream, step}", z);
        finite(
          `${f}.noise.scale`,
          z.scale,
          (s) => s >= 0 && s <= MAX_COEFFICIENT,
          `a number in [0, ${MAX_COEFFICIENT}]`,
        );
        integer(`${f}.noise.stream`, z.stream, 0, 1);
        integer(`${f}.noise.step`, z.step, 0, MAX_STEPS);
      }
      if (op.end !== undefined) {
        lastEnd = integer(`${f}.end`, op.end, lastEnd + 1, MAX_STEPS + 1);
      }
      written.x[dst] = true;
    } else {
      fail(`${f}.op`, `"init", "eval" or "combine"`, op.op);
    }
  });
  return { evals, lastEnd };
}

/** Checks `plan.program` against the plan's steps and evaluation times. */
function checkProgram(program: unknown, steps: number, evalTimes: number[]): void {
  if (program === null || typeof program !== "object") fail("program", "a program object", program);
  const p = program as Record<string, unknown>;
  const regs = p.registers as Record<string, unknown> | undefined;
  if (regs === null || typeof regs !== "object") fail("program.registers", "{x, v}", regs);
  const count = {
    x: integer("program.registers.x", regs.x, 1, MAX_X_REGISTERS),
    v: integer("program.registers.v", regs.v, 1, MAX_V_REGISTERS),
  };
  const written = { x: new Array(count.x).fill(false), v: new Array(count.v).fill(false) };
  const maxOps = MAX_OPS_PER_STEP * steps + 2;
  if (!Array.isArray(p.ops) || (p.ops[0] as Op | undefined)?.op !== "init") {
    fail("program.ops[0]", "an init operation first", Array.isArray(p.ops) ? p.ops[0] : p.ops);
  }
  const main = checkOps("program.ops", p.ops, count, written, maxOps);
  if (main.evals.length !== evalTimes.length || main.evals.some((t, i) => t !== evalTimes[i])) {
    fail(
      "program.ops",
      `evaluations at exactly evalTimes (${evalTimes.length} of them)`,
      `${main.evals.length} evaluations`,
    );
  }
  if (main.lastEnd !== steps) fail("program.ops", `operations that complete all ${steps} steps`, main.lastEnd);
  if (!written.x[0]) fail("program.ops", "a program that writes x0", p.ops);
  checkOps("program.final", p.final, count, written, 8);
}

/**
 * Checks a plan (an object from `makePlan`, or parsed JSON of format `deis-plan/1` or `/2`) and
 * returns it as a `deis-plan/2` plan. The input is not modified.
 *
 * @example
 * ```ts
 * import { checkPlan, makePlan } from "@seed/deis/plan";
 * const plan = checkPlan(JSON.parse(JSON.stringify(makePlan({ steps: 10 }))));
 * console.log(plan.nfe); // 10
 * ```
 */
export function checkPlan(input: unknown): Plan {
  if (input === null || typeof input !== "object" || Array.isArray(input)) fail("", "a plan object", input);
  const p = input as Record<string, unknown>;
  if (p.format !== "deis-plan/1" && p.format !== "deis-plan/2") {
    fail("format", `"deis-plan/2" (or "deis-plan/1")`, p.format);
  }
  const sde = p.sde as Record<string, unknown> | undefined;
  if (!sde || typeof sde !== "object" || !SDE_NAMES.includes(sde.name as never)) {
    fail("sde.name", `one of ${SDE_NAMES.join(", ")}`, sde?.name);
  }
  const info = methodInfo(p.method);
  if (!info) fail("method", `one of ${METHOD_NAMES.join(", ")}`, p.method);
  if (p.grid !== "custom" && !GRID_NAMES.includes(p.grid as never)) fail("grid", "a grid name or custom", p.grid);
  const steps = integer("steps", p.steps, 1, MAX_STEPS);
  integer("order", p.order, info.orders[0], info.orders[1]);
  if (info.variants.length && !info.variants.includes(p.variant as never)) {
    fail("variant", `one of ${info.variants.join(", ")}`, p.variant);
  }
  const lambda = finite("lambda", p.lambda, (l) => l >= 0 && (l === 0 || info.stochastic), "0, or ≥ 0 for ddim");
  const times = finiteArray("timesteps", p.timesteps, steps + 1);
  for (let i = 1; i < times.length; i++) {
    if (!(times[i] < times[i - 1])) {
      fail(`timesteps[${i}]`, `less than timesteps[${i - 1}] (strictly decreasing)`, times[i]);
    }
  }
  finiteArray("alphaBar", p.alphaBar, steps + 1, (a) => a > 0 && a <= 1, "a number in (0, 1]");
  finiteArray("rho", p.rho, steps + 1, (r) => r > 0, "a finite number > 0");
  if (p.noise !== undefined) {
    finiteArray("noise", p.noise, steps, (s) => s >= 0 && s <= MAX_COEFFICIENT, `a number in [0, ${MAX_COEFFICIENT}]`);
  }
  if (lambda > 0 && p.noise === undefined) fail("noise", "present when lambda > 0", p.noise);

  let width = 0;
  if (p.rows !== undefined || info.rows) {
    if (!Array.isArray(p.rows) || p.rows.length !== steps) fail("rows", `an array of ${steps} rows`, p.rows);
    width = Array.isArray(p.rows[0]) ? p.rows[0].length : 0;
    if (width < 2 || width > MAX_V_REGISTERS + 1) {
      fail("rows[0]", `[x_coef, c_0, …] with 1 to ${MAX_V_REGISTERS} coefficients`, p.rows[0]);
    }
    (p.rows as unknown[]).forEach((row, k) => finiteArray(`rows[${k}]`, row, width, coefficient, COEFFICIENT));
  }
  if (p.method === "rhork") {
    if (!RK_NAMES.includes(p.rk as never)) fail("rk", `one of ${RK_NAMES.join(", ")}`, p.rk);
    if (!Array.isArray(p.stages) || p.stages.length !== steps) fail("stages", `an array of ${steps} steps`, p.stages);
    (p.stages as unknown[]).forEach((step, k) => {
      if (!Array.isArray(step) || step.length !== width - 1) {
        fail(`stages[${k}]`, `an array of ${width - 1} stages (one per row coefficient)`, step);
      }
      step.forEach((st, m) => {
        const s = st as Record<string, unknown>;
        for (const key of ["t", "alphaBar", "rho", "xCoef"]) finite(`stages[${k}][${m}].${key}`, s?.[key]);
        finiteArray(`stages[${k}][${m}].coefs`, s.coefs, m);
      });
    });
  }
  const evalTimes = finiteArray("evalTimes", p.evalTimes);
  if (p.nfe !== evalTimes.length) fail("nfe", `evalTimes.length = ${evalTimes.length}`, p.nfe);

  let program = p.program as Program | undefined;
  let laidOut: Program | undefined;
  if (info.rows) {
    // Rows are the source of truth where a method has them: a deis-plan/1 plan gets its program laid
    // out from them, and a deis-plan/2 program must be that layout (so an edited row is never ignored).
    const g = { timesteps: times, alphaBar: p.alphaBar as number[], rho: p.rho as number[], sde: sde.name as never };
    const noise = p.noise as number[] | undefined;
    laidOut = p.method === "rhork"
      ? stagesProgram(g, p.stages as never, p.rows as number[][], noise)
      : rowsProgram(g, p.rows as number[][], noise);
    if (p.format === "deis-plan/1") program = laidOut;
  }
  checkProgram(program, steps, evalTimes);
  if (laidOut && !sameJson(program, laidOut)) {
    fail(
      "program",
      "the program laid out from plan.rows (edit rows with format deis-plan/1 and no program)",
      "a program that differs from the rows",
    );
  }
  const plan: Plan = { ...(p as unknown as Plan), format: "deis-plan/2", program: program! };
  programKeys.set(plan, JSON.stringify(plan.program));
  return plan;
}

const programKeys = new WeakMap<Plan, string>();

/**
 * The program's content as text, for a plan that {@link checkPlan} returned (undefined for any other
 * object): the interpreter keeps what it builds from a program under this key, so a plan sampled
 * run after run is prepared once, and an edited one (re-checked by `sample()`) never reuses a stale
 * preparation. @internal
 */
export function programKey(plan: Plan): string | undefined {
  return programKeys.get(plan);
}
