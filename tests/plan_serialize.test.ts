// Plans round-trip through JSON exactly and malformed plans are rejected with the field named.

import assert from "node:assert/strict";
import { ConfigError, makePlan, planFromJSON, planToJSON } from "../mod.ts";

Deno.test("plans round-trip through JSON bit for bit", () => {
  for (
    const config of [
      { method: "tab", order: 3, steps: 17 },
      { method: "rhork", rk: "rk4", steps: 5 },
      { method: "ddim", lambda: 0.7, steps: 9 },
      { sde: "ve", method: "logrho", grid: "logrho", steps: 8 },
    ] as const
  ) {
    const plan = makePlan(config);
    const back = planFromJSON(planToJSON(plan));
    assert.deepEqual(back, plan);
  }
});

Deno.test("malformed plans name the field", () => {
  const good = JSON.parse(planToJSON(makePlan({ steps: 4 })));
  const cases: [(p: Record<string, unknown>) => void, string][] = [
    [(p) => (p.format = "x"), "plan.format"],
    [
      (p) => ((p.rows as number[][])[2][1] = null as unknown as number),
      "plan.rows[2][1]",
    ],
    [(p) => (p.rows as number[][]).pop(), "plan.rows"],
    [(p) => ((p.timesteps as number[])[2] = 5), "plan.timesteps[2]"],
    [(p) => (p.nfe = 3), "plan.nfe"],
    [(p) => (p.method = "x"), "plan.method"],
  ];
  for (const [mutate, field] of cases) {
    const p = structuredClone(good);
    mutate(p);
    assert.throws(
      () => planFromJSON(p),
      (e: unknown) => e instanceof ConfigError && e.field === field,
    );
  }
  assert.throws(
    () => planFromJSON("{"),
    (e: unknown) => e instanceof ConfigError && e.field === "plan",
  );
});
