// Issue 13, the CLIs: cases 3 (tables --batch work limit), 4 (output paths checked before the
// work), 5 (raw exceptions: --init null, --cond on an int64 input, huge shapes, a closed pipe) and
// 10 (exit codes by error type, no file bytes echoed, negative values, float32 overflow), plus a
// seeded fuzz of the flags of both CLIs (in process: every failure is one line and code 2).
//
// Larger fuzz runs: DEIS_FUZZ_SCALE=10 deno test -A tests/cli_hostile.test.ts

import assert from "node:assert/strict";
import { main as tablesMain } from "../src/cli/tables.ts";
import { parseSampleArgs } from "../src/cli/sample.ts";
import { failure } from "../src/cli/fail.ts";
import { gaussianModel } from "../testing/synthetic.ts";

const root = new URL("../", import.meta.url);
const SCALE = Math.max(1, Number(Deno.env.get("DEIS_FUZZ_SCALE") ?? "1") || 1);

async function task(
  name: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", name, ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { XDG_RUNTIME_DIR: "/tmp", NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr), ms: performance.now() - t0 };
}

/** One stderr line, starting with `error: `, no stack trace. */
function oneErrorLine(stderr: string, re?: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  assert.match(lines[0], /^error: /);
  assert.doesNotMatch(stderr, /\n\s+at |Uncaught|Stack/);
  if (re) assert.match(lines[0], re);
}

Deno.test("issue 13 case 3: tables --batch stops at its total-work limit, quickly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const batch = `${dir}/batch.json`;
    await Deno.writeTextFile(batch, JSON.stringify(Array(300).fill({ steps: 10000, method: "rhork" })));
    const r = await task("tables", ["--batch", batch]);
    assert.equal(r.code, 2, r.stderr);
    oneErrorLine(r.stderr, /--batch: entry \d+: .*the limit is 200000/);
    assert.ok(r.ms < 30_000, `${r.ms} ms`);
    await Deno.writeTextFile(batch, JSON.stringify(Array(1001).fill({ steps: 1 })));
    const many = await task("tables", ["--batch", batch]);
    assert.equal(many.code, 2);
    oneErrorLine(many.stderr, /1001 entries; the limit is 1000/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("issue 13 case 4: sample checks --out / --out-json before sampling", async () => {
  for (
    const [flag, path, re] of [
      ["--out", "/nonexistent/dir/x.png", /directory does not exist/],
      ["--out", "/tmp", /is a directory/],
      ["--out", "/proc/version", /cannot write|not a regular file/],
      ["--out-json", "/nonexistent/x.json", /directory does not exist/],
    ] as const
  ) {
    // 4096 × 64 steps on gmm-image would take a while: the refusal must come first
    const r = await task("sample", ["--model", "models/gmm-image", "--n", "4096", "--steps", "200", flag, path]);
    assert.equal(r.code, 2, `${flag} ${path}: ${r.stderr}`);
    oneErrorLine(r.stderr, new RegExp(`^error: ${flag}: .*${re.source}`));
    assert.doesNotMatch(r.stderr, /step \d+/, "no sampling before the check");
  }
});

Deno.test("issue 13 cases 5 and 10: bad inputs are typed one-line errors with documented codes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/null.json`, "null");
    await Deno.writeTextFile(`${dir}/big.json`, JSON.stringify({ shape: [1, 2], data: [1e308, 0] }));
    const syn = gaussianModel({ label: { shift: 1 } });
    await Deno.mkdir(`${dir}/cond`);
    await Deno.writeFile(`${dir}/cond/model.onnx`, syn.bytes);
    await Deno.writeTextFile(`${dir}/cond/model.json`, JSON.stringify(syn.manifest));
    await Deno.mkdir(`${dir}/huge`);
    await Deno.copyFile("models/gmm-2d/model.onnx", `${dir}/huge/model.onnx`);
    const gmm = JSON.parse(await Deno.readTextFile("models/gmm-2d/model.json"));
    await Deno.writeTextFile(`${dir}/huge/model.json`, JSON.stringify({ ...gmm, sampleShape: [100000, 100000] }));
    await Deno.mkdir(`${dir}/secret`);
    await Deno.writeTextFile(`${dir}/secret/model.json`, "root:x:0:0:SECRET:/root:/bin/bash\n");
    const M = ["--model", "models/gmm-2d", "--out-json", "-", "--steps", "3"];
    const cases: [string[], number, RegExp][] = [
      [[...M, "--n", "1", "--init", `${dir}/null.json`], 2, /--init: .*JSON object/],
      [[...M, "--n", "1", "--init", `${dir}/big.json`], 2, /--init: init\[0\]: .*float32/],
      [[...M, "--seed", "-1"], 2, /--seed: must be an integer in \[0, /],
      [[...M, "--steps", "-1"], 2, /--steps: must be an integer in \[1, /],
      [[...M, "--guidance", "1e308"], 2, /--guidance: guidance\.scale: /],
      [["--model", `${dir}/cond`, "--out-json", "-", "--steps", "2", "--cond", "label=1.5"], 2, /--cond: .*int64/],
      [["--model", `${dir}/cond`, "--out-json", "-", "--steps", "2", "--cond", "label=1e300"], 2, /--cond: .*int64/],
      [["--model", `${dir}/huge`, "--out-json", "-"], 2, /--model: .*sampleShape/],
      [["--model", "/etc/passwd", "--out-json", "-"], 2, /--model: .*not valid JSON/],
      [["--model", "README.md", "--out-json", "-"], 2, /--model: .*not valid JSON/],
      [["--model", `${dir}/secret`, "--out-json", "-"], 2, /--model: .*not valid JSON/],
      [["--model", "models/mnist", "--out-json", "-", "--n", "20000"], 2, /--n: must be an integer in \[1, 4096\]/],
    ];
    for (const [args, code, re] of cases) {
      const r = await task("sample", args);
      assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
      oneErrorLine(r.stderr, re);
      assert.doesNotMatch(r.stderr, /SECRET|root:x/);
      assert.equal(r.stdout, "");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("issue 13 case 5: a closed stdout is one line and exit code 3, not a BrokenPipe stack trace", async () => {
  const p = new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "tables", "--method", "rhork", "--steps", "3000"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = p.stdout.getReader();
  await reader.read(); // like `head -c 10`: read a little, then close
  await reader.cancel();
  const [status, err] = await Promise.all([p.status, new Response(p.stderr).text()]);
  assert.equal(status.code, 3, err);
  oneErrorLine(err, /broken pipe/);
});

Deno.test("fail.ts: classification of failures", () => {
  assert.equal(failure(new Deno.errors.BrokenPipe("x")).code, 3);
  assert.equal(failure(new RangeError("Array buffer allocation failed")).code, 1);
  const internal = failure(new TypeError("boom\n    at x"));
  assert.equal(internal.code, 70);
  assert.equal(internal.line, "error: internal error (TypeError): boom");
});

Deno.test("fuzz: seeded CLI flags give exit 0 or one line with code 2 (tables in process, sample's parser)", () => {
  let a = 4242;
  const random = () => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return a / 2147483648;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const flags = [
    "--method",
    "--order",
    "--steps",
    "--grid",
    "--kappa",
    "--rk",
    "--lambda",
    "--sde",
    "--t-end",
    "--format",
  ];
  const values = [
    "-1",
    "0",
    "1",
    "3",
    "10",
    "1e999",
    "-1e999",
    "NaN",
    "",
    "tab",
    "rhork",
    "karras",
    "ve",
    "csv",
    "--",
    "-",
  ];
  const runs = 300 * SCALE;
  for (let i = 0; i < runs; i++) {
    const args: string[] = [];
    for (let k = Math.floor(random() * 4); k > 0; k--) {
      const f = pick(flags);
      if (random() < 0.5) args.push(f, pick(values));
      else args.push(`${f}=${pick(values)}`);
    }
    if (random() < 0.05) args.push(pick(["--bogus", "positional", "--steps"]));
    let err = "";
    let out = "";
    const code = tablesMain(args, (s) => (out += s.slice(0, 10)), (s) => (err += s));
    if (code === 0) assert.equal(err, "", args.join(" "));
    else {
      assert.equal(code, 2, `${args.join(" ")}: ${err}`);
      oneErrorLine(err);
    }
  }
  const sampleFlags = ["--n", "--seed", "--steps", "--backend", "--guidance", "--cols", "--cond", "--out", "--order"];
  const sampleValues = ["-1", "0", "5", "1e308", "x", "a=1", "label=1.5", "=", "wasm", "-", "4097"];
  for (let i = 0; i < runs; i++) {
    const args = ["--model", "m", "--out-json", "-"];
    for (let k = Math.floor(random() * 4); k > 0; k--) args.push(pick(sampleFlags), pick(sampleValues));
    try {
      parseSampleArgs(args);
    } catch (e) {
      const f = failure(e);
      assert.equal(f.code, 2, `${args.join(" ")}: ${f.line}`);
      assert.ok(!f.line.includes("\n"));
    }
  }
});
