/** The `deno task gmm` command line (tools/gmm/build.ts): bad flags exit 2 naming the flag; good runs write the model. */
import assert from "node:assert/strict";
import { buildGmmArtifacts, parseBuildArgs, readSpecFile, UsageError } from "../tools/gmm/build.ts";

const BUILD = new URL("../tools/gmm/build.ts", import.meta.url).pathname;
const SPEC = new URL("../tools/gmm/specs/gmm-2d.json", import.meta.url).pathname;

async function cli(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", BUILD, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("cli: bad flags exit 2 with a one-line message naming the flag", async () => {
  const base = ["--spec", SPEC, "--out", "/nonexistent-never-written"];
  const cases: [string[], string][] = [
    [["--bogus"], "--bogus"],
    [["--spec"], "--spec"],
    [[...base, "--sde", "vp-quadratic"], "--sde"],
    [[...base, "--sde", "ve", "--beta-min", "0.1"], "--beta-min"],
    [[...base, "--sde", "vp-linear", "--sigma-max", "50"], "--sigma-max"],
    [[...base, "--sde", "vp-cosine", "--beta-max", "20"], "--beta-max"],
    [[...base, "--sde", "vp-linear", "--beta-min", "abc"], "--beta-min"],
    [
      [...base, "--sde", "vp-linear", "--beta-min", "5", "--beta-max", "1"],
      "--beta-max",
    ],
    [[...base, "--sde", "ve", "--sigma-min=-1"], "--sigma-min"],
    [[...base, "--sde", "vp-linear", "--dtype", "float16"], "--dtype"],
    [["--spec", SPEC, "--sde", "vp-linear"], "--out"],
    [["--out", "/tmp/x", "--sde", "vp-linear"], "--spec"],
    [["--spec", SPEC, "--out", "/tmp/x"], "--sde"],
    [
      ["--spec", "/nonexistent/spec.json", "--out", "/tmp/x", "--sde", "ve"],
      "--spec",
    ],
    [["--help=yes"], "--help"],
  ];
  await Promise.all(cases.map(async ([args, flag]) => {
    const r = await cli(args);
    assert.equal(
      r.code,
      2,
      `${args.join(" ")}: exit ${r.code}, stderr ${r.stderr}`,
    );
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.ok(
      lines[0].includes(flag),
      `${args.join(" ")}: '${lines[0]}' does not name ${flag}`,
    );
    assert.equal(r.stdout, "");
  }));
});

Deno.test("cli: an invalid spec file exits 2 naming --spec", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (
      const [name, text] of [["bad.json", "{not json"], [
        "bad2.json",
        '{"weights":[1],"means":[[0]],"stds":[[0]]}',
      ], ["bad3.json", '{"weights":[1],"means":[[0]],"stds":[[1]],"colour":1}']]
    ) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
      const r = await cli([
        "--spec",
        `${dir}/${name}`,
        "--sde",
        "vp-linear",
        "--out",
        `${dir}/out`,
      ]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^gmm: --spec: [^\n]*\n$/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: a good run writes model.onnx and model.json equal to the in-process build", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await cli([
      "--spec",
      SPEC,
      "--sde",
      "ve",
      "--sigma-min",
      "0.02",
      "--sigma-max",
      "80",
      "--dtype",
      "float64",
      "--out",
      `${dir}/my-ve`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const parsed = await readSpecFile(SPEC);
    const want = buildGmmArtifacts({
      parsed,
      sde: { name: "ve", sigmaMin: 0.02, sigmaMax: 80 },
      dtype: "float64",
      name: "my-ve",
    });
    assert.deepEqual(await Deno.readFile(`${dir}/my-ve/model.onnx`), want.onnx);
    assert.equal(
      await Deno.readTextFile(`${dir}/my-ve/model.json`),
      want.manifest,
    );
    const man = JSON.parse(want.manifest);
    assert.deepEqual(man.sde, { name: "ve", sigmaMin: 0.02, sigmaMax: 80 });
    assert.equal(man.dtype, "float64");
    assert.deepEqual(man.gmm.shape, [2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: parseBuildArgs defaults (vp-linear β, float32, name from --out)", () => {
  const a = parseBuildArgs([
    "--spec",
    "s.json",
    "--sde",
    "vp-linear",
    "--out",
    "models/foo/",
  ]);
  assert.deepEqual(a, {
    specPath: "s.json",
    sde: { name: "vp-linear", betaMin: 0.1, betaMax: 20 },
    dtype: "float32",
    out: "models/foo/",
    name: "foo",
  });
  assert.equal(parseBuildArgs(["--help"]), null);
  assert.throws(() => parseBuildArgs(["--nope"]), UsageError);
});
