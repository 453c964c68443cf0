/**
 * The method registry is the one list of methods: the engine's ids agree with it, every method's
 * plan costs the evaluations per step it declares, and every method is reachable from a config.
 */
import assert from "node:assert/strict";
import { engine } from "../src/coefficients/engine.ts";
import { evalsPerStep, METHODS, RK_NAMES } from "../src/plan/registry.ts";
import { makePlan } from "../src/plan/make_plan.ts";

Deno.test("engine method ids (M_* exported by the WASM module) equal the registry's", () => {
  const e = engine() as unknown as Record<string, WebAssembly.Global | undefined>;
  const exported = Object.keys(e).filter((k) => k.startsWith("M_")).sort();
  const expected = METHODS.filter((m) => m.engineId !== null).map((m) => `M_${m.name.toUpperCase().replace(/-/g, "_")}`)
    .sort();
  assert.deepEqual(exported, expected, "every engine id has a registry row and vice versa");
  for (const m of METHODS) {
    if (m.engineId === null) continue;
    const g = e[`M_${m.name.toUpperCase().replace(/-/g, "_")}`]!;
    assert.equal(g.value, m.engineId, `${m.name}`);
  }
});

Deno.test("every method × order × variant builds a plan with evalsPerStep × steps evaluations", () => {
  for (const m of METHODS) {
    for (let order = m.orders[0]; order <= m.orders[1]; order++) {
      for (const variant of m.variants.length ? m.variants : [undefined]) {
        for (const rk of m.name === "rhork" ? RK_NAMES : [undefined]) {
          const steps = 7;
          const plan = makePlan({
            method: m.name,
            ...(m.orders[1] > 0 ? { order } : {}),
            ...(variant ? { variant } : {}),
            ...(rk ? { rk } : {}),
            steps,
          });
          assert.equal(plan.nfe, evalsPerStep(m.name, rk) * steps, `${m.name} r=${order} ${variant ?? rk ?? ""}`);
          assert.equal(plan.rows !== undefined, m.rows, `${m.name} rows`);
        }
      }
    }
  }
});
