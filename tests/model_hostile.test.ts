// Issue 13 case 2 (and the model half of case 5): loadModel confines the files a manifest names,
// reads regular files only up to a cap, and checks the manifest against the graph before anything
// large is allocated. Plus a seeded fuzz of manifests (paths, dtypes, shapes, names).
//
// Larger fuzz runs: DEIS_FUZZ_SCALE=10 deno test -A tests/model_hostile.test.ts

import assert from "node:assert/strict";
import { ConfigError, DeisError, loadModel, ModelError } from "../mod.ts";
import { checkBatchSize, checkFloatRange, MAX_BATCH_ELEMENTS } from "../src/limits.ts";
import { checkRelativeName } from "../src/model/fetch_bytes.ts";

const GMM2D = new URL("../models/gmm-2d/", import.meta.url).pathname;
const SCALE = Math.max(1, Number(Deno.env.get("DEIS_FUZZ_SCALE") ?? "1") || 1);
const opts = { sanitizeResources: false, sanitizeOps: false };

async function modelDir(manifest: Record<string, unknown>, onnx = true): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "deis-hostile-" });
  await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(manifest));
  if (onnx) await Deno.copyFile(`${GMM2D}model.onnx`, `${dir}/model.onnx`);
  return dir;
}

const BASE = JSON.parse(await Deno.readTextFile(`${GMM2D}model.json`));

function rejectsField(p: Promise<unknown>, field: string, re?: RegExp) {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ModelError, `not a ModelError: ${e}`);
    assert.equal(e.field, field, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

Deno.test({
  name: "issue 13 case 2: a manifest cannot make loadModel read outside its directory",
  ...opts,
  async fn() {
    for (const onnx of ["../../../../etc/passwd", "/etc/passwd", "/dev/zero", "file:///etc/passwd", "a/../../x.onnx"]) {
      const dir = await modelDir({ ...BASE, onnx });
      try {
        await rejectsField(loadModel(dir), "onnx", /relative to the manifest/);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
    // a link inside the directory that points outside it
    const dir = await modelDir({ ...BASE, onnx: "link.onnx" });
    try {
      await Deno.symlink("/etc/passwd", `${dir}/link.onnx`);
      await rejectsField(loadModel(dir), "onnx", /outside the model directory/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "issue 13 case 2: devices, FIFOs and oversized files are refused without reading them",
  ...opts,
  async fn() {
    const dir = await modelDir({ ...BASE }, false);
    try {
      // a FIFO would block a reader forever; /dev/zero would never end
      const fifo = await new Deno.Command("mkfifo", { args: [`${dir}/model.onnx`] }).output();
      assert.equal(fifo.code, 0);
      await rejectsField(loadModel(dir), "onnx", /not a regular file/);
      await Deno.remove(`${dir}/model.onnx`);
      await Deno.symlink("/dev/zero", `${dir}/model.onnx`);
      await rejectsField(loadModel(dir), "onnx", /outside the model directory|not a regular file/);
      await Deno.remove(`${dir}/model.onnx`);
      await Deno.copyFile(`${GMM2D}model.onnx`, `${dir}/model.onnx`);
      await rejectsField(loadModel(dir, { maxOnnxBytes: 100 }), "onnx", /the limit is 100/);
      await rejectsField(loadModel(dir, { maxManifestBytes: 10 }), "manifest", /the limit is 10/);
      (await loadModel(dir)).dispose();
      // the .onnx file named directly must be a regular file too
      await Deno.symlink("/dev/zero", `${dir}/direct.onnx`);
      await rejectsField(loadModel(`${dir}/direct.onnx`), "onnx", /not a regular file/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "issue 13 case 2: a remote manifest cannot name file: or another origin; downloads are capped",
  ...opts,
  async fn() {
    const onnx = await Deno.readFile(`${GMM2D}model.onnx`);
    const asked: string[] = [];
    const fakeFetch = (manifest: unknown) => (input: RequestInfo | URL): Promise<Response> => {
      const u = String(input instanceof URL ? input.href : input);
      asked.push(u);
      if (u.endsWith("model.json")) return Promise.resolve(new Response(JSON.stringify(manifest)));
      return Promise.resolve(new Response(onnx));
    };
    for (
      const name of [
        "file:///etc/passwd",
        "https://evil.example/x.onnx",
        "//evil.example/x.onnx",
        "../other/model.onnx",
      ]
    ) {
      asked.length = 0;
      await rejectsField(
        loadModel("https://models.example/gmm-2d/model.json", {
          fetch: fakeFetch({ ...BASE, onnx: name }) as typeof fetch,
        }),
        "onnx",
      );
      assert.deepEqual(asked, ["https://models.example/gmm-2d/model.json"], name);
    }
    await rejectsField(
      loadModel("https://models.example/gmm-2d/", { fetch: fakeFetch(BASE) as typeof fetch, maxOnnxBytes: 64 }),
      "onnx",
      /limit of 64 bytes/,
    );
    const m = await loadModel("https://models.example/gmm-2d/", { fetch: fakeFetch(BASE) as typeof fetch });
    assert.equal(m.name, "gmm-2d");
    await m.dispose();
  },
});

Deno.test({
  name: "issue 13 cases 5, 10: shapes and dtypes are checked against the graph at load; errors quote no file bytes",
  ...opts,
  async fn() {
    for (const sampleShape of [[100000, 100000], [20000, 20000], [3], [2, 1]]) {
      const dir = await modelDir({ ...BASE, sampleShape });
      try {
        const t0 = performance.now();
        await rejectsField(loadModel(dir), "sampleShape", /ONNX graph/);
        assert.ok(performance.now() - t0 < 5000, "fails before allocating anything");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
    const cases: [Record<string, unknown>, string][] = [
      [{ dtype: "float64" }, "dtype"],
      [{ inputs: { x: "x", t: "time" } }, "inputs.t"],
      [{ output: "out" }, "output"],
      [{ extraInputs: [{ name: "label", dtype: "int64", shape: [] }] }, "extraInputs[0].name"],
    ];
    for (const [patch, field] of cases) {
      const dir = await modelDir({ ...BASE, ...patch });
      try {
        await rejectsField(loadModel(dir), field);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
    // a manifest that is not JSON: the error says where, not what the file holds
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/model.json`, "root:x:0:0:SECRET-TOKEN:/root:/bin/bash\n");
      await assert.rejects(loadModel(dir), (e: unknown) => {
        assert.ok(e instanceof ModelError && e.field === "manifest");
        assert.doesNotMatch(e.message, /SECRET|root:x/);
        return true;
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("limits: checkBatchSize names n and the memory; checkFloatRange names the element", () => {
  checkBatchSize(64, [1, 28, 28]);
  assert.throws(() => checkBatchSize(20_000, [1, 28, 28]), (e: unknown) => {
    assert.ok(e instanceof ConfigError && e.field === "n", String(e));
    assert.match(e.message, /15680000 elements would need about 3\.\d+ GiB; at most 10699 samples/);
    return true;
  });
  assert.throws(
    () => checkBatchSize(1, [100000, 100000]),
    (e: unknown) => e instanceof ConfigError && e.field === "sampleShape",
  );
  assert.equal(Math.floor(MAX_BATCH_ELEMENTS / 784), 10699);
  checkFloatRange("init", [1, -3e38], "float32");
  assert.throws(
    () => checkFloatRange("init", [0, 1e308], "float32"),
    (e: unknown) => e instanceof ConfigError && e.field === "init[1]",
  );
  checkFloatRange("init", [1e308], "float64");
  for (const ok of ["model.onnx", "sub/model.onnx", "./model.onnx"]) checkRelativeName("m", ok);
});

Deno.test({
  name: "fuzz: seeded manifests (paths, dtypes, shapes, names) give a model or a DeisError, quickly",
  ...opts,
  async fn() {
    let a = 1313;
    const random = () => {
      a = (a * 1103515245 + 12345) % 2147483648;
      return a / 2147483648;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const mutations: (() => [string, unknown])[] = [
      () => ["onnx", pick(["model.onnx", "../model.onnx", "/proc/self/mem", "model.onnx\0", "%2e%2e/x", "", 7, null])],
      () => ["dtype", pick(["float32", "float64", "int8", "", null, 1])],
      () => ["sampleShape", pick([[2], [0], [-1], [2.5], [1e9, 1e9], [], "2", [2, 2], [Number.MAX_SAFE_INTEGER]])],
      () => ["name", pick(["x", "", "\n", "a".repeat(1000), 5])],
      () => ["inputs", pick([{ x: "x", t: "t" }, { x: "t", t: "t" }, { x: "" }, [], null])],
      () => ["output", pick(["eps", "x", "", "\u0000"])],
      () => [
        "extraInputs",
        pick([[], [{ name: "c", dtype: "int64", shape: [], null: 1.5 }], [{ name: "x" }], [null], "none"]),
      ],
      () => ["tStart", pick([1, 0, -1, 1e308, "1"])],
    ];
    const dir = await modelDir(BASE);
    let loaded = 0, refused = 0;
    try {
      const runs = 60 * SCALE;
      for (let i = 0; i < runs; i++) {
        const m: Record<string, unknown> = structuredClone(BASE);
        for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
          const [key, value] = pick(mutations)();
          m[key] = value;
        }
        await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(m));
        const t0 = performance.now();
        try {
          const model = await loadModel(dir);
          loaded++;
          await model.dispose();
        } catch (e) {
          assert.ok(e instanceof DeisError, `${JSON.stringify(m).slice(0, 300)} → ${e}`);
          refused++;
        }
        assert.ok(performance.now() - t0 < 5000, "bounded time");
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    assert.ok(loaded > 0 && refused > 0, `loaded ${loaded}, refused ${refused}`);
  },
});
