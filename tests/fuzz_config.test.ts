// Property test of config validation: thousands of random and hostile configs never crash, hang or
// yield NaN: each gives a typed error or a valid, finite plan.

import { mulberry32 as rng } from "../testing/reference/random.ts";
import assert from "node:assert/strict";
import {
  CONFIG_KEYS,
  ConfigError,
  DeisError,
  GRID_NAMES,
  makePlan,
  METHOD_NAMES,
  methodInfo,
  NumericalError,
  planFromJSON,
  planToJSON,
  RK_NAMES,
  SDE_NAMES,
} from "../mod.ts";

const HOSTILE: unknown[] = [
  NaN,
  Infinity,
  -Infinity,
  -0,
  0,
  1,
  -1,
  1e-320,
  5e-324,
  1e308,
  -1e308,
  0.5,
  2,
  3,
  4,
  7,
  10,
  10000,
  10001,
  1e-3,
  0.9946,
  0.99999999,
  1 + 1e-16,
  "",
  "10",
  "tab",
  "vp-linear",
  null,
  undefined,
  true,
  [],
  [1],
  {},
  [1, 0.5],
  [0.9, 0.5, 0.1],
  { length: 3 },
  "__proto__",
  Symbol.iterator,
];
const KEYS = [...CONFIG_KEYS, "bogus", "__proto__", "constructor"];
const NAMES: Record<string, unknown[]> = {
  sde: [...SDE_NAMES],
  grid: [...GRID_NAMES, "custom"],
  method: [...METHOD_NAMES],
  rk: [...RK_NAMES],
  variant: ["bh1", "bh2", "bh3"],
  timestepSpacing: ["leading", "trailing", "linspace", "uniform"],
};

function randomArray(r: () => number, decreasing: boolean): number[] {
  const n = 1 + Math.floor(r() * 40);
  let v = r() < 0.5 ? 1 : r();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (r() < 0.02) out.push(HOSTILE[Math.floor(r() * HOSTILE.length)] as number);
    else out.push(v);
    v = decreasing ? v * (r() < 0.05 ? 1 : r() * 0.999) : r();
  }
  return out;
}

function randomValue(r: () => number, key: string): unknown {
  const u = r();
  if (u < 0.25) return HOSTILE[Math.floor(r() * HOSTILE.length)];
  if (NAMES[key]) return NAMES[key][Math.floor(r() * NAMES[key].length)];
  if (key === "alphasCumprod" || key === "timesteps") return randomArray(r, u < 0.9);
  if (key === "steps") return Math.floor(r() * (u < 0.6 ? 60 : 12000));
  if (key === "stepsOffset") return Math.floor(r() * (u < 0.8 ? 3 : 2000)) - (u < 0.3 ? 1 : 0);
  if (key === "order") return Math.floor(r() * 5) - (u < 0.3 ? 1 : 0);
  if (key.startsWith("beta")) return r() * (u < 0.7 ? 30 : 200);
  if (key.startsWith("sigma")) return Math.exp((r() - 0.5) * 40);
  if (key === "kappa") return u < 0.5 ? r() * 10 : Math.exp((r() - 0.5) * 20);
  if (key === "lambda") return r() * 3;
  return r();
}

function checkPlanFinite(plan: ReturnType<typeof makePlan>, what: string): void {
  const arrays = [plan.timesteps, plan.alphaBar, plan.rho, plan.evalTimes, ...(plan.rows ?? []), plan.noise ?? []];
  for (const step of plan.stages ?? []) {
    for (const s of step) arrays.push([s.t, s.alphaBar, s.rho, s.xCoef, ...s.coefs]);
  }
  for (const arr of arrays) for (const v of arr) assert.ok(Number.isFinite(v), `non-finite value in plan for ${what}`);
  for (let i = 1; i < plan.timesteps.length; i++) assert.ok(plan.timesteps[i] < plan.timesteps[i - 1], what);
  if (plan.rows) assert.equal(plan.rows.length, plan.steps);
  for (const op of plan.program.ops) {
    const nums = op.op === "combine" ? [op.a, ...(op.src ? [op.src[1]] : []), ...op.terms.map((t) => t[1])] : [];
    for (const v of nums) assert.ok(Number.isFinite(v), `non-finite program coefficient for ${what}`);
  }
  // Every plan survives its own serialisation check.
  planFromJSON(planToJSON(plan));
}

Deno.test("5,000 random and hostile configs: typed error or finite plan, never a crash or hang", () => {
  const r = rng(20261125);
  let plans = 0, errors = 0;
  for (let i = 0; i < 5000; i++) {
    const config: Record<string, unknown> = {};
    const nKeys = Math.floor(r() * 7);
    for (let k = 0; k < nKeys; k++) {
      const key = KEYS[Math.floor(r() * (r() < 0.95 ? KEYS.length - 3 : KEYS.length))];
      Object.defineProperty(config, key, {
        value: randomValue(r, key),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    }
    // Bias towards configs that may be valid: often fill in a coherent SDE + method.
    if (r() < 0.4) delete config.bogus;
    const what = JSON.stringify(config, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v));
    const t0 = performance.now();
    try {
      checkPlanFinite(makePlan(config as never), what);
      plans++;
    } catch (e) {
      assert.ok(e instanceof ConfigError || e instanceof NumericalError, `untyped error ${e} for ${what}`);
      assert.ok(e instanceof DeisError);
      if (e instanceof ConfigError) assert.ok(e.message.startsWith(e.field), e.message);
      errors++;
    }
    // A hang guard, not a speed test: a 10,000-step plan takes milliseconds; 30 s means a loop ran away.
    assert.ok(performance.now() - t0 < 30_000, `hang (${performance.now() - t0} ms) for ${what}`);
  }
  assert.ok(plans > 300, `only ${plans} valid plans: the generator is too hostile to test the builders`);
  assert.ok(errors > 300, `only ${errors} errors`);
});

Deno.test("random valid configs across every SDE, grid and method give finite plans", () => {
  const r = rng(7);
  const ddpm: number[] = [];
  let prod = 1;
  for (let i = 0; i < 1000; i++) ddpm.push(prod *= 1 - (1e-4 + (i * (0.02 - 1e-4)) / 999));
  for (let i = 0; i < 1500; i++) {
    const sde = NAMES.sde[i % 4] as string;
    const method = NAMES.method[Math.floor(r() * NAMES.method.length)] as string;
    const info = methodInfo(method)!;
    const grid = NAMES.grid[Math.floor(r() * 5)] as string;
    const config: Record<string, unknown> = { sde, method, grid, steps: 1 + Math.floor(r() * (r() < 0.9 ? 80 : 3000)) };
    if (sde === "vp-discrete") config.alphasCumprod = ddpm;
    if (sde === "vp-linear") Object.assign(config, { betaMin: r() * 2, betaMax: 2 + r() * 60 });
    if (sde === "ve") Object.assign(config, { sigmaMin: Math.exp(-8 * r()), sigmaMax: 1 + 500 * r() });
    if (info.orders[1] > 0) config.order = info.orders[0] + Math.floor(r() * (info.orders[1] - info.orders[0] + 1));
    if (info.stepsAtLeastOrder) config.steps = Math.max(config.steps as number, config.order as number);
    if (info.variants.length) config.variant = info.variants[Math.floor(r() * info.variants.length)];
    if (method === "rhork") config.rk = NAMES.rk[Math.floor(r() * 6)];
    if (method === "ddim" && r() < 0.5) config.lambda = r() * 2;
    if (grid === "time-power" || grid === "karras") config.kappa = 0.5 + r() * 9;
    checkPlanFinite(makePlan(config as never), JSON.stringify({ ...config, alphasCumprod: undefined }));
  }
});
