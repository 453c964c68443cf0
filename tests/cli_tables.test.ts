// The tables CLI: one JSON document on stdout, exit code 2 with one stderr line on bad input.

import assert from "node:assert/strict";
import { makePlan } from "../mod.ts";
import { planFromJSON } from "../src/plan/serialize.ts";

const root = new URL("../", import.meta.url);

async function run(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "tables", ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test("prints exactly one JSON plan and nothing on stderr", async () => {
  const r = await run([
    "--method",
    "tab",
    "--order",
    "3",
    "--steps",
    "10",
    "--grid",
    "time-quadratic",
  ]);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, "");
  const plan = planFromJSON(r.stdout);
  assert.equal(plan.timesteps.length, 11);
  assert.equal(plan.alphaBar.length, 11);
  assert.equal(plan.rho.length, 11);
  assert.equal(plan.rows!.length, 10);
  assert.equal(plan.rows![0].length, 5);
  assert.deepEqual(plan.rows![0].slice(2), [0, 0, 0]); // warm start, zero padded
  assert.equal(plan.nfe, 10);
  assert.deepEqual(
    plan,
    JSON.parse(
      JSON.stringify(makePlan({ method: "tab", order: 3, steps: 10 })),
    ),
  );
  assert.equal(r.stdout.trim().split("\n").length, 1);
});

Deno.test("every flag reaches the plan", async () => {
  const dir = await Deno.makeTempDir();
  const table = Array.from(
    { length: 100 },
    (_, i) => Math.exp(-0.05 * (i + 1)),
  );
  await Deno.writeTextFile(`${dir}/ac.json`, JSON.stringify(table));
  await Deno.writeTextFile(
    `${dir}/ts.json`,
    JSON.stringify([0.9, 0.5, 0.2, 0.05]),
  );
  const cases: [string[], (p: ReturnType<typeof planFromJSON>) => void][] = [
    [[
      "--sde",
      "ve",
      "--sigma-min",
      "0.02",
      "--sigma-max",
      "80",
      "--grid",
      "logrho",
    ], (p) => {
      assert.equal(p.sde.sigmaMax, 80);
      assert.ok(Math.abs(p.rho[0] / 80 - 1) < 1e-15);
    }],
    [[
      "--beta-min",
      "0.2",
      "--beta-max",
      "10",
      "--t-start",
      "0.8",
      "--t-end",
      "0.01",
      "--steps",
      "4",
    ], (p) => {
      assert.equal(p.sde.betaMin, 0.2);
      assert.deepEqual([p.timesteps[0], p.timesteps[4]], [0.8, 0.01]);
    }],
    [[
      "--sde",
      "vp-discrete",
      "--alphas-cumprod",
      `${dir}/ac.json`,
      "--steps",
      "5",
    ], (p) => {
      assert.equal(p.sde.alphasCumprod!.length, 100);
      assert.equal(p.timesteps[5], 0.01);
    }],
    [
      ["--timesteps", `${dir}/ts.json`, "--method", "ddim"],
      (p) => assert.deepEqual(p.timesteps, [0.9, 0.5, 0.2, 0.05]),
    ],
    [["--grid", "karras", "--kappa", "5"], (p) => assert.equal(p.kappa, 5)],
    [["--method", "rhork", "--rk", "heun2", "--steps", "3"], (p) => {
      assert.equal(p.stages!.length, 3);
      assert.equal(p.nfe, 6);
    }],
    [
      ["--method", "ddim", "--lambda", "1", "--steps", "3"],
      (p) => assert.equal(p.noise!.length, 3),
    ],
    [
      ["--sde", "vp-cosine", "--method", "logrho", "--order", "2"],
      (p) => assert.equal(p.rows![0].length, 4),
    ],
  ];
  for (const [args, check] of cases) {
    const r = await run(args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    check(planFromJSON(r.stdout));
  }
});

Deno.test("csv format", async () => {
  const r = await run(["--method", "ddim", "--steps", "4", "--format", "csv"]);
  assert.equal(r.code, 0);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines[0], "step,t,alpha_bar,rho,x_coef,c0");
  assert.equal(lines.length, 6);
  const plan = makePlan({ method: "ddim", steps: 4 });
  assert.deepEqual(lines[1].split(",").map(Number), [
    0,
    plan.timesteps[0],
    plan.alphaBar[0],
    plan.rho[0],
    ...plan.rows![0],
  ]);
});

Deno.test("batch: an array of configs gives an array of plans in one process", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/ts.json`, JSON.stringify([1, 0.5, 0.1]));
  const batch = [{ method: "tab", steps: 5 }, {
    sde: "ve",
    method: "ddim",
    steps: 3,
  }, { timesteps: `${dir}/ts.json` }];
  await Deno.writeTextFile(`${dir}/batch.json`, JSON.stringify(batch));
  const r = await run(["--batch", `${dir}/batch.json`]);
  assert.equal(r.code, 0, r.stderr);
  const plans = JSON.parse(r.stdout);
  assert.equal(plans.length, 3);
  assert.equal(plans[1].sde.name, "ve");
  assert.deepEqual(plans[2].timesteps, [1, 0.5, 0.1]);
  await Deno.writeTextFile(
    `${dir}/bad.json`,
    JSON.stringify([{ steps: 5 }, { steps: -1 }]),
  );
  const bad = await run(["--batch", `${dir}/bad.json`]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /entry 1: steps/);
  assert.equal(bad.stdout, "");
});

Deno.test("bad flags and values: exit 2, one stderr line naming the flag", async () => {
  const cases: [string[], RegExp][] = [
    [["--steps", "0"], /^error: --steps: must be an integer in \[1, 10000\]/],
    [["--steps", "ten"], /^error: --steps: .*"ten"/],
    [["--order", "5"], /^error: --order: .*\[0, 3\]/],
    [["--sde", "vpx"], /^error: --sde: must be one of vp-linear/],
    [["--grid", "x"], /^error: --grid: must be one of time-uniform/],
    [["--method", "dpm"], /^error: --method:/],
    [["--rk", "heun2"], /^error: --rk: applies only to method rhork/],
    [["--t-end", "2"], /^error: --t-end:/],
    [
      ["--t-start", "0.001", "--t-end", "0.01"],
      /^error: --t-end: .*below tStart/,
    ],
    [["--format", "xml"], /^error: --format: must be json or csv/],
    [["--wat", "1"], /^error: Unknown option '--wat'/],
    [
      ["--alphas-cumprod", "/nonexistent.json", "--sde", "vp-discrete"],
      /^error: --alphas-cumprod: cannot read/,
    ],
    [["--kappa=-1", "--grid", "karras"], /^error: --kappa:/],
    [["--lambda", "0.5"], /^error: --lambda: .*ddim/],
  ];
  for (const [args, pattern] of cases) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stdout, "", args.join(" "));
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, pattern);
  }
});
