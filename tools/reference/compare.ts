/**
 * Compares the engine against the 30-digit reference fixtures written by make_fixtures.py.
 * Used by the tests (every entry must pass) and by the tables benchmark (worst errors reported).
 *
 * @module
 */

import { methodInfo } from "../../src/plan/registry.ts";
import { makePlan } from "../../src/plan/make_plan.ts";
import type { PlanConfig } from "../../src/plan/config.ts";
import type { Plan } from "../../src/plan/types.ts";

/** Relative tolerance on every value. */
export const REL_TOL = 1e-13;
/** Absolute tolerance for entries smaller than {@link SMALL} in magnitude. */
export const ABS_TOL = 1e-15;
/** Entries below this magnitude may pass on the absolute tolerance. */
export const SMALL = 1e-2;

/** One fixture file: an SDE and its cases. */
export interface Fixture {
  sde: Record<string, unknown> & { name: string };
  tStart: number;
  tEnd: number;
  cases: FixtureCase[];
}

/** One (grid, steps) case with every table. */
export interface FixtureCase {
  grid: string;
  kappa: number | null;
  steps: number;
  timesteps: number[];
  alphaBar: number[];
  rho: number[];
  tables: Record<string, unknown>;
}

/** Worst error found for one quantity. */
export interface Worst {
  rel: number;
  where: string;
  actual: number;
  expected: number;
  failures: number;
  count: number;
}

/** The fixture files, by SDE name. */
export const FIXTURE_SDES = ["vp-linear", "vp-cosine", "ve", "vp-discrete"] as const;

/** Loads one gzip-compressed fixture. */
export async function loadFixture(sde: string): Promise<Fixture> {
  const url = new URL(`./fixtures/${sde}.json.gz`, import.meta.url);
  const bytes = await Deno.readFile(url);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text());
}

function sdeConfig(f: Fixture): PlanConfig {
  const { name, ...params } = f.sde;
  // vp-cosine's s = 0.008 is fixed by the SDE's definition, not a config key.
  if (name === "vp-cosine" && params.s !== undefined && params.s !== 0.008) {
    throw new Error(`unexpected cosine s ${params.s}`);
  }
  const config: Record<string, unknown> = { sde: name };
  for (const key of ["betaMin", "betaMax", "sigmaMin", "sigmaMax", "alphasCumprod"]) {
    if (params[key] !== undefined) config[key] = params[key];
  }
  return config as PlanConfig;
}

/** Whether `actual` is within tolerance of `expected`. */
export function within(actual: number, expected: number): boolean {
  if (!Number.isFinite(actual)) return false;
  const err = Math.abs(actual - expected);
  if (err <= REL_TOL * Math.abs(expected)) return true;
  return Math.abs(expected) < SMALL && err <= ABS_TOL;
}

class Tally {
  readonly byKey = new Map<string, Worst>();
  add(key: string, actual: number, expected: number, where: string): void {
    let w = this.byKey.get(key);
    if (!w) this.byKey.set(key, w = { rel: 0, where: "", actual: 0, expected: 0, failures: 0, count: 0 });
    w.count++;
    const ok = within(actual, expected);
    if (!ok) w.failures++;
    const rel = expected === 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
    // Rank by how far past tolerance an entry is: absolute-tolerance entries count as passing rel.
    const score = ok ? Math.min(rel, REL_TOL) : rel;
    if (score > w.rel || !Number.isFinite(rel)) Object.assign(w, { rel: score, where, actual, expected });
  }
  arrays(key: string, actual: ArrayLike<number>, expected: ArrayLike<number>, where: string): void {
    if (actual.length !== expected.length) {
      this.add(key, NaN, 0, `${where}: length ${actual.length} vs ${expected.length}`);
      return;
    }
    for (let i = 0; i < expected.length; i++) this.add(key, actual[i], expected[i], `${where}[${i}]`);
  }
}

function tableConfig(name: string): PlanConfig {
  if (name === "ddim" || name === "euler" || name === "ei-score") return { method: name };
  if (name.startsWith("sddim-")) return { method: "ddim", lambda: Number(name.slice(6)) };
  if (name.startsWith("rhork-")) return { method: "rhork", rk: name.slice(6) } as PlanConfig;
  // Multistep tables are named method + order (tab3); the registry says which names and orders exist.
  const m = name.match(/^([a-z]+)(\d)$/);
  const info = methodInfo(m?.[1]);
  if (!m || !info || Number(m[2]) > info.orders[1]) throw new Error(`unknown fixture table ${name}`);
  return { method: info.name, order: Number(m[2]) } as PlanConfig;
}

function compareTable(t: Tally, name: string, plan: Plan, expected: unknown, where: string): void {
  const key = name.replace(/^sddim-.*/, "sddim").replace(/^rhork-.*/, "rhork");
  if (name.startsWith("rhork-")) {
    const e = expected as {
      rows: number[][];
      stages: { t: number; alphaBar: number; rho: number; xCoef: number; coefs: number[] }[][];
    };
    e.rows!.forEach((row, k) => t.arrays(key, plan.rows![k], row, `${where} rows[${k}]`));
    e.stages.forEach((step, k) =>
      step.forEach((s, m) => {
        const a = plan.stages![k][m];
        t.arrays(
          key,
          [a.t, a.alphaBar, a.rho, a.xCoef, ...a.coefs],
          [s.t, s.alphaBar, s.rho, s.xCoef, ...s.coefs],
          `${where} stages[${k}][${m}]`,
        );
      })
    );
  } else if (name.startsWith("sddim-")) {
    const e = expected as { rows: number[][]; noise: number[] };
    e.rows!.forEach((row, k) => t.arrays(key, plan.rows![k], row, `${where} rows[${k}]`));
    t.arrays(key, plan.noise!, e.noise, `${where} noise`);
  } else {
    (expected as number[][]).forEach((row, k) => t.arrays(key, plan.rows![k], row, `${where} rows[${k}]`));
  }
}

/**
 * Compares every grid, schedule value and table of a fixture; returns the worst error per quantity
 * (`timesteps`, `alphaBar`, `rho`, `tab`, `rhoab`, `logrho`, …).
 */
export function compareFixture(f: Fixture): Map<string, Worst> {
  const t = new Tally();
  const base = sdeConfig(f);
  for (const c of f.cases) {
    const where = `${f.sde.name} ${c.grid}${c.kappa ? `(${c.kappa})` : ""} steps=${c.steps}`;
    const grid: PlanConfig = { grid: c.grid as PlanConfig["grid"], steps: c.steps, tStart: f.tStart, tEnd: f.tEnd };
    if (c.kappa !== null) grid.kappa = c.kappa;
    const built = makePlan({ ...base, ...grid, method: "ddim" });
    t.arrays("timesteps", built.timesteps, c.timesteps, `${where} timesteps`);
    // Tables are compared on the reference's own float64 grid, so grid rounding does not mix in.
    for (const [name, expected] of Object.entries(c.tables)) {
      const plan = makePlan({ ...base, timesteps: c.timesteps, ...tableConfig(name) });
      if (name === "ddim") {
        t.arrays("alphaBar", plan.alphaBar, c.alphaBar, `${where} alphaBar`);
        t.arrays("rho", plan.rho, c.rho, `${where} rho`);
      }
      const key = name.replace(/\d$/, "");
      compareTable(t, key === name ? name : key, plan, expected, `${where} ${name}`);
    }
  }
  return t.byKey;
}
