/**
 * The one plan validator (`checkPlan`): what `sample()`, `planFromJSON` and the CLIs refuse, each a
 * ConfigError naming the field — including the tampered plans `sample()` used to accept (an unknown
 * method, equal times, a 1000-wide row) — and `deis-plan/1` plans, which are upgraded and sample
 * exactly like the plan they came from.
 */
import assert from "node:assert/strict";
import { checkPlan, ConfigError, makePlan, type Plan, planFromJSON, planToJSON, sampleFunction } from "../mod.ts";

const eps = (x: Float64Array) => x.map((v) => 0.5 * v);
const base = () => JSON.parse(planToJSON(makePlan({ method: "tab", order: 2, steps: 6 })));
const field = (f: string | RegExp) => (e: unknown) => {
  assert.ok(e instanceof ConfigError, String(e));
  assert.ok(typeof f === "string" ? e.field === f : f.test(e.field), `field ${e.field}, wanted ${f}`);
  return true;
};

/** A v1 plan: what an earlier version wrote (rows and no program). */
function asV1(p: Record<string, unknown>): Record<string, unknown> {
  const { program: _program, ...rest } = p;
  return { ...rest, format: "deis-plan/1" };
}

Deno.test("tampered plans are refused by sample() and planFromJSON alike, naming the field", async () => {
  const cases: [string, (p: Record<string, unknown>) => void, string | RegExp][] = [
    ["unknown method", (p) => (p.method = "magic"), "plan.method"],
    ["equal times", (p) => ((p.timesteps as number[])[3] = (p.timesteps as number[])[2]), "plan.timesteps[3]"],
    ["increasing times", (p) => (p.timesteps as number[]).reverse(), /^plan\.timesteps\[/],
    ["a 1000-wide row", (p) => ((p.rows as number[][])[0] = new Array(1000).fill(0.1)), "plan.rows[0]"],
    ["a non-finite coefficient", (p) => ((p.program as Plan["program"]).ops[2] as { a: number }).a = NaN, /program/],
    ["negative noise", (p) => (p.noise = new Array(6).fill(-1)), /^plan\.noise\[0\]$/],
    ["wrong nfe", (p) => (p.nfe = 5), "plan.nfe"],
    ["unknown format", (p) => (p.format = "deis-plan/9"), "plan.format"],
    ["ᾱ above 1", (p) => ((p.alphaBar as number[])[0] = 1.5), "plan.alphaBar[0]"],
    ["too many registers", (p) => ((p.program as Plan["program"]).registers.v = 1000), "plan.program.registers.v"],
  ];
  for (const [what, tamper, want] of cases) {
    const p = base();
    tamper(p);
    assert.throws(() => planFromJSON(JSON.stringify(p)), field(want), what);
    await assert.rejects(sampleFunction({ plan: p as Plan, eps, sampleShape: [2], n: 2 }), field(want), what);
  }
});

Deno.test("programs: registers read before written, too many operations, eval count ≠ nfe, a bad op", () => {
  const dpm = () => JSON.parse(planToJSON(makePlan({ method: "dpmpp", order: 2, steps: 6 })));
  const p1 = dpm();
  p1.program.ops[2].terms.push(["v1", 0.5]); // v1 is first written by the second evaluation
  assert.throws(() => checkPlan(p1), field("plan.program.ops[2].terms[1][0]"));
  const p2 = dpm();
  p2.program.ops = [p2.program.ops[0], ...new Array(200).fill(p2.program.ops[1])];
  assert.throws(() => checkPlan(p2), field("plan.program.ops"));
  const p3 = dpm();
  p3.program.ops.splice(1, 0, { ...p3.program.ops[1] });
  assert.throws(() => checkPlan(p3), field("plan.program.ops"));
  const p4 = dpm();
  p4.program.ops[1].op = "exec";
  assert.throws(() => checkPlan(p4), field("plan.program.ops[1].op"));
  const p5 = dpm();
  p5.program.ops[1].src = "x9";
  assert.throws(() => checkPlan(p5), field("plan.program.ops[1].src"));
  const p6 = dpm();
  p6.program.ops.shift();
  assert.throws(() => checkPlan(p6), field("plan.program.ops[0]"));
});

Deno.test("a program that disagrees with the plan's rows is refused (an edited row is never ignored)", () => {
  const p = base();
  (p.rows as number[][])[1][1] *= 2;
  assert.throws(() => checkPlan(p), field("plan.program"));
  // The same edit as a deis-plan/1 plan is a valid plan whose program follows the edited rows.
  const v1 = checkPlan(asV1(p));
  const combine = v1.program.ops.filter((o) => o.op === "combine")[1] as { terms: [string, number][] };
  assert.equal(combine.terms[0][1], (p.rows as number[][])[1][1]);
});

Deno.test("deis-plan/1 plans load and sample bit for bit like the plan they were made from", async () => {
  for (const cfg of [{ method: "tab", order: 3 }, { method: "rhork", rk: "kutta3" }, { method: "ddim", lambda: 1 }]) {
    const plan = makePlan({ ...cfg, steps: 7 } as never);
    const v1 = planFromJSON(JSON.stringify(asV1(JSON.parse(planToJSON(plan)))));
    assert.equal(v1.format, "deis-plan/2");
    assert.deepEqual(v1.program, plan.program);
    const run = (p: Plan) => sampleFunction({ plan: p, eps, sampleShape: [3], n: 4, seed: 9, denoiseFinal: true });
    assert.deepEqual((await run(v1)).data, (await run(plan)).data);
  }
});
