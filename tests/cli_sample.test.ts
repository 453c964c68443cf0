// The sampling CLI: clean stdout with --out-json -, progress on stderr, --init replaces x_T,
// shape mismatches and bad flags exit 2 with one line naming the flag.

import assert from "node:assert/strict";
import { runTask } from "./helpers.ts";

const root = new URL("../", import.meta.url);

const run = (args: string[]) => runTask("sample", args);

Deno.test("--out-json - keeps stdout to the JSON samples; progress goes to stderr", async () => {
  const r = await run([
    "--model",
    "models/gmm-2d",
    "--method",
    "tab",
    "--order",
    "2",
    "--steps",
    "6",
    "--n",
    "5",
    "--seed",
    "3",
    "--backend",
    "wasm",
    "--out-json",
    "-",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.deepEqual(json.shape, [5, 2]);
  assert.equal(json.data.length, 10);
  assert.ok(json.data.every(Number.isFinite));
  assert.match(r.stderr, /step 6\/6/);
  assert.match(r.stderr, /6 NFE on wasm/);
});

Deno.test("--init replaces x_T; the same init gives the same samples whatever the seed", async () => {
  const dir = await Deno.makeTempDir();
  const init = { shape: [3, 2], data: [0.1, -0.5, 1.2, 0.3, -1.1, 0.7] };
  await Deno.writeTextFile(`${dir}/init.json`, JSON.stringify(init));
  const a = await run([
    "--model",
    "models/gmm-2d",
    "--steps",
    "5",
    "--n",
    "3",
    "--seed",
    "1",
    "--backend",
    "wasm",
    "--init",
    `${dir}/init.json`,
    "--out-json",
    `${dir}/a.json`,
  ]);
  const b = await run([
    "--model",
    "models/gmm-2d",
    "--steps",
    "5",
    "--n",
    "3",
    "--seed",
    "99",
    "--backend",
    "wasm",
    "--init",
    `${dir}/init.json`,
    "--out-json",
    `${dir}/b.json`,
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(
    JSON.parse(await Deno.readTextFile(`${dir}/a.json`)),
    JSON.parse(await Deno.readTextFile(`${dir}/b.json`)),
  );
  const c = await run([
    "--model",
    "models/gmm-2d",
    "--steps",
    "5",
    "--n",
    "3",
    "--seed",
    "1",
    "--backend",
    "wasm",
    "--out-json",
    `${dir}/c.json`,
  ]);
  assert.equal(c.code, 0, c.stderr);
  assert.notDeepEqual(
    JSON.parse(await Deno.readTextFile(`${dir}/c.json`)),
    JSON.parse(await Deno.readTextFile(`${dir}/a.json`)),
  );
});

Deno.test("PNG output for image-shaped models", async () => {
  const dir = await Deno.makeTempDir();
  const r = await run([
    "--model",
    "models/gmm-image",
    "--steps",
    "4",
    "--n",
    "4",
    "--backend",
    "wasm",
    "--out",
    `${dir}/s.png`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const png = await Deno.readFile(`${dir}/s.png`);
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
});

Deno.test("usage errors: exit 2 and one stderr line naming the flag", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify({ shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }));
  const cases: [string[], RegExp][] = [
    [
      ["--model", "models/gmm-2d", "--n", "2", "--init", `${dir}/bad.json`, "--out-json", "-"],
      /^error: --init: shape must be \[2,2\]/,
    ],
    [
      ["--model", "models/gmm-2d", "--steps", "0", "--out-json", "-"],
      /^error: --steps: must be an integer in \[1, 10000\]/,
    ],
    [["--model", "models/gmm-2d", "--method", "dpm", "--out-json", "-"], /^error: --method: must be one of/],
    [["--model", "models/gmm-2d", "--backend", "cuda", "--out-json", "-"], /^error: --backend:/],
    [["--model", "models/gmm-2d", "--out", `${dir}/x.png`], /^error: --out: a PNG needs image-shaped samples/],
    [["--model", "models/does-not-exist", "--out-json", "-"], /^error: --model:/],
    [["--steps", "5", "--out-json", "-"], /^error: --model: required/],
    [["--model", "models/gmm-2d", "--n", "0", "--out-json", "-"], /^error: --n:/],
    [["--model", "models/gmm-2d"], /^error: --out:/],
  ];
  for (const [args, pattern] of cases) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "", args.join(" "));
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, pattern);
  }
});

Deno.test("--plan samples a stored plan (checked by the plan validator) exactly like the method flags", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const flags = ["--method", "unipc", "--order", "3", "--steps", "6"];
    const tables = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "tables", ...flags],
      cwd: root,
      stdout: "piped",
    }).output();
    await Deno.writeFile(`${dir}/plan.json`, tables.stdout);
    const common = ["--model", "models/gmm-2d", "--n", "3", "--seed", "4", "--backend", "wasm", "--out-json", "-"];
    const a = await run([...common, "--plan", `${dir}/plan.json`]);
    const b = await run([...common, ...flags]);
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(JSON.parse(a.stdout), JSON.parse(b.stdout));
    const clash = await run([...common, "--plan", `${dir}/plan.json`, "--steps", "4"]);
    assert.equal(clash.code, 2);
    assert.match(clash.stderr, /^error: --steps: not allowed with --plan/);
    const plan = JSON.parse(new TextDecoder().decode(tables.stdout));
    plan.program.ops[2].terms[0][0] = "v7";
    await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify(plan));
    const bad = await run([...common, "--plan", `${dir}/bad.json`]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--plan: .*plan\.program\.ops\[2\]\.terms\[0\]\[0\]/);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
