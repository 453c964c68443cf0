/**
 * Manifest validation (typed errors naming the key), loading from a path, a URL and bytes, the
 * time and prediction-type conversions, guidance feeds, and session disposal.
 */
import assert from "node:assert/strict";
import { ConfigError, ModelError } from "../src/errors.ts";
import {
  epsMap,
  loadModel,
  type ModelManifest,
  predictionToEps,
  timeInput,
  validateManifest,
} from "../src/model/mod.ts";
import { gaussianModel } from "../testing/synthetic.ts";
import { Model, TIME_TENSORS_KEPT } from "../src/model/model.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const GMM2D = new URL("../models/gmm-2d/", import.meta.url);

const base = (): Record<string, unknown> => ({
  format: "deis-model/1",
  name: "m",
  onnx: "model.onnx",
  sde: { name: "vp-linear", betaMin: 0.1, betaMax: 20 },
  tStart: 1,
  tEnd: 0.001,
  time: { kind: "continuous", scale: 999 },
  prediction: "eps",
  sampleShape: [1, 28, 28],
  dtype: "float32",
  inputs: { x: "x", t: "t" },
  output: "eps",
  extraInputs: [{ name: "label", dtype: "int64", shape: [], null: 10 }],
  dataRange: [-1, 1],
});

function rejectsField(raw: unknown, field: string): void {
  assert.throws(() => validateManifest(raw), (e: unknown) => {
    assert.ok(e instanceof ModelError, `${field}: ${e}`);
    assert.equal(e.field, field, e.message);
    return true;
  });
}

Deno.test("manifest: the documented example validates; defaults are filled; unknown keys are kept", () => {
  const m = validateManifest({ ...base(), gmm: { weights: [1] } });
  assert.equal(m.name, "m");
  assert.deepEqual(m.time, { kind: "continuous", scale: 999, dtype: "float32" }); // time dtype defaults to the network dtype
  assert.deepEqual(m.extraInputs, [{
    name: "label",
    dtype: "int64",
    shape: [],
    null: 10,
  }]);
  assert.deepEqual(m.extra, { gmm: { weights: [1] } });
  const minimal = validateManifest({ sde: { name: "ve" }, sampleShape: [3] });
  assert.equal(minimal.onnx, "model.onnx");
  assert.equal(minimal.dtype, "float32");
  assert.equal(minimal.prediction, "eps");
  assert.deepEqual(minimal.inputs, { x: "x", t: "t" });
  assert.equal(minimal.output, "eps");
  assert.deepEqual(minimal.sde, { name: "ve", sigmaMin: 0.01, sigmaMax: 50 });
  assert.deepEqual(minimal.time, { kind: "continuous", scale: 1, dtype: "float32" });
});

Deno.test("manifest: every bad key is a ModelError naming it", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ format: "other" }, "format"],
    [{ sde: undefined }, "sde"],
    [{ sde: { name: "vp-square" } }, "sde.name"],
    [{ sde: { name: "vp-linear", betaMin: -1 } }, "sde.betaMin"],
    [{ sde: { name: "vp-linear", betaMin: 5, betaMax: 1 } }, "sde.betaMax"],
    [
      { sde: { name: "vp-discrete", alphasCumprod: [0.9, 0.5, 0.6] } },
      "sde.alphasCumprod[2]",
    ],
    [
      { sde: { name: "vp-discrete", alphasCumprod: [0.9, 1.5] } },
      "sde.alphasCumprod[1]",
    ],
    [{ tEnd: 2 }, "tEnd"],
    [{ tStart: "one" }, "tStart"],
    [{ time: { kind: "index" } }, "time.kind"],
    [{ time: { kind: "continuous", scale: 0 } }, "time.scale"],
    [{ time: { kind: "minutes" } }, "time.kind"],
    [{ prediction: "noise" }, "prediction"],
    [{ sampleShape: [] }, "sampleShape"],
    [{ sampleShape: [1, 0, 3] }, "sampleShape[1]"],
    [{ dtype: "float16" }, "dtype"],
    [{ inputs: { x: "x", t: "x" } }, "inputs.t"],
    [{ inputs: { x: "" } }, "inputs.x"],
    [{ output: 3 }, "output"],
    [{ extraInputs: {} }, "extraInputs"],
    [
      { extraInputs: [{ name: "label", dtype: "uint8" }] },
      "extraInputs[0].dtype",
    ],
    [{ extraInputs: [{ name: "t" }] }, "extraInputs[0].name"],
    [
      { extraInputs: [{ name: "a" }, { name: "b", shape: [2, -1] }] },
      "extraInputs[1].shape[1]",
    ],
    [{ extraInputs: [{ name: "a", null: "none" }] }, "extraInputs[0].null"],
    [{ dataRange: [1, -1] }, "dataRange[1]"],
  ];
  for (const [patch, field] of cases) {
    rejectsField({ ...base(), ...patch }, field);
  }
  rejectsField([1, 2], "manifest");
  const err = (() => {
    try {
      validateManifest({
        ...base(),
        name: "mnist",
        sampleShape: [1, 28, "28"],
      });
    } catch (e) {
      return e as ModelError;
    }
  })()!;
  assert.equal(err.model, "mnist");
  assert.match(err.message, /mnist \(sampleShape\[2\]\)/);
});

Deno.test("time input: continuous·scale, index t·N − 1, sigma, rho", () => {
  const p = { t: 0.25, alphaBar: 0.64, rho: 0.75 };
  assert.equal(timeInput({ kind: "continuous", scale: 999 }, 0, p), 249.75);
  assert.equal(timeInput({ kind: "index" }, 1000, p), 249);
  assert.ok(Math.abs(timeInput({ kind: "sigma" }, 0, p) - 0.6) < 1e-15);
  assert.equal(timeInput({ kind: "rho" }, 0, p), 0.75);
});

Deno.test("prediction types convert to ε exactly (x0, v, score), for VP and VE points", () => {
  for (
    const pt of [{ t: 0.3, alphaBar: 0.36, rho: 4 / 3 }, {
      t: 0.5,
      alphaBar: 1,
      rho: 7,
    }]
  ) {
    const alpha = Math.sqrt(pt.alphaBar), sigma = alpha * pt.rho;
    for (const [x0, eps] of [[0.7, -1.3], [-2, 0.25]]) {
      const x = alpha * x0 + sigma * eps;
      const outs = {
        eps,
        x0,
        v: alpha * eps - sigma * x0,
        score: -eps / sigma,
      } as const;
      for (const kind of ["eps", "x0", "v", "score"] as const) {
        const { p, q } = predictionToEps(kind, pt);
        const got = p * x + q * outs[kind];
        assert.ok(
          Math.abs(got - eps) < 1e-12,
          `${kind} at ρ=${pt.rho}: ${got} vs ${eps}`,
        );
      }
    }
  }
  // guidance: ε = ε_u + w(ε_c − ε_u), applied to raw outputs through the same map
  const m = validateManifest({
    sde: { name: "vp-linear" },
    sampleShape: [1],
    prediction: "x0",
  });
  const pt = { t: 0.3, alphaBar: 0.36, rho: 4 / 3 };
  const map = epsMap(m as ModelManifest, pt, 3);
  const { p, q } = predictionToEps("x0", pt);
  const x = 0.4, oc = 0.1, ou = -0.2;
  const eu = p * x + q * ou, ec = p * x + q * oc;
  assert.ok(
    Math.abs(map.p * x + map.qc * oc + map.qu * ou - (eu + 3 * (ec - eu))) <
      1e-12,
  );
});

Deno.test({
  name: "loadModel: directory, model.json, .onnx file, file: URL, http URL (fetch), bytes + manifest",
  ...opts,
  async fn() {
    const dir = new URL(".", GMM2D).pathname;
    const sources: (string | URL)[] = [
      dir,
      dir + "model.json",
      dir + "model.onnx",
      GMM2D,
      "https://models.example/gmm-2d/",
      "https://models.example/gmm-2d/model.json",
    ];
    const served = new Map<string, Uint8Array<ArrayBuffer>>([
      [
        "https://models.example/gmm-2d/model.json",
        await Deno.readFile(dir + "model.json"),
      ],
      [
        "https://models.example/gmm-2d/model.onnx",
        await Deno.readFile(dir + "model.onnx"),
      ],
    ]);
    const fakeFetch = (input: RequestInfo | URL): Promise<Response> => {
      const body = served.get(
        String(input instanceof URL ? input.href : input),
      );
      return Promise.resolve(
        body ? new Response(body) : new Response("nope", { status: 404 }),
      );
    };
    for (const src of sources) {
      const m = await loadModel(src, { fetch: fakeFetch as typeof fetch });
      assert.equal(m.name, "gmm-2d", String(src));
      assert.deepEqual(m.sampleShape, [2]);
      assert.ok(m.bytes.length > 100);
      assert.ok(m.manifest.extra.gmm, "the mixture spec is kept");
      const s = await m.session("wasm");
      assert.deepEqual([...s.inputNames].sort(), ["t", "x"]);
      await m.dispose();
      assert.ok(m.disposed);
      await assert.rejects(
        m.session("wasm"),
        (e: unknown) => e instanceof ModelError && e.field === "session",
      );
    }
    await assert.rejects(
      loadModel("https://models.example/none/", {
        fetch: fakeFetch as typeof fetch,
      }),
      (e: unknown) =>
        e instanceof ModelError && e.field === "manifest" &&
        /HTTP 404/.test(e.message),
    );
    const syn = gaussianModel();
    const fromBytes = await loadModel(syn.bytes, {
      manifest: JSON.stringify(syn.manifest),
    });
    assert.equal(fromBytes.name, "gaussian");
    assert.equal(fromBytes.source, "bytes");
    await fromBytes.dispose();
    await assert.rejects(
      loadModel(syn.bytes),
      (e: unknown) => e instanceof ConfigError && e.field === "manifest",
    );
  },
});

Deno.test({
  name: "loadModel: unreadable paths, bad JSON, missing ONNX, corrupt ONNX are ModelErrors naming the key",
  ...opts,
  async fn() {
    await assert.rejects(
      loadModel("/nonexistent/model/dir"),
      (e: unknown) => e instanceof ModelError && e.field === "source",
    );
    const tmp = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${tmp}/model.json`, "{ not json");
      await assert.rejects(
        loadModel(tmp),
        (e: unknown) => e instanceof ModelError && e.field === "manifest",
      );
      await Deno.writeTextFile(
        `${tmp}/model.json`,
        JSON.stringify({ ...base(), name: "lost", onnx: "gone.onnx" }),
      );
      await assert.rejects(
        loadModel(tmp),
        (e: unknown) => e instanceof ModelError && e.field === "onnx" && e.model === "lost",
      );
      await Deno.writeTextFile(
        `${tmp}/model.json`,
        JSON.stringify({ ...base(), name: "junk" }),
      );
      await Deno.writeFile(
        `${tmp}/model.onnx`,
        new Uint8Array([1, 2, 3, 4, 5]),
      );
      // checked against the graph when loaded (issue 13), not when the first session is made
      await assert.rejects(
        loadModel(tmp),
        (e: unknown) => e instanceof ModelError && e.field === "onnx" && e.model === "junk",
      );
      await Deno.writeTextFile(
        `${tmp}/model.json`,
        JSON.stringify({ ...base(), sampleShape: "28x28" }),
      );
      await assert.rejects(
        loadModel(tmp),
        (e: unknown) => e instanceof ModelError && e.field === "sampleShape",
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "extra inputs: broadcasting, per-sample values, null fallback, guidance halves, typed errors",
  ...opts,
  async fn() {
    const syn = gaussianModel({ label: { shift: 1 } });
    // extraFeeds alone: a manifest the graph does not have ("emb"), so not through loadModel,
    // which checks the manifest against the graph
    const m = new Model(
      validateManifest({
        ...syn.manifest,
        extraInputs: [
          { name: "label", dtype: "int64", shape: [], null: 10 },
          { name: "emb", dtype: "float32", shape: [2] },
        ],
      }),
      syn.bytes,
      "bytes",
    );
    const f = m.extraFeeds("wasm", 3, { label: [1, 2, 3], emb: [0.5, -0.5] });
    assert.deepEqual(f.label.dims, [3]);
    assert.deepEqual(Array.from(f.label.data as BigInt64Array, Number), [
      1,
      2,
      3,
    ]);
    assert.deepEqual(f.emb.dims, [3, 2]);
    assert.deepEqual([...(f.emb.data as Float32Array)], [
      0.5,
      -0.5,
      0.5,
      -0.5,
      0.5,
      -0.5,
    ]);
    const g = m.extraFeeds("wasm", 2, { label: 4, emb: [1, 2, 3, 4] }, {
      scale: 2,
      unconditional: { emb: 0 },
    });
    assert.deepEqual(Array.from(g.label.data as BigInt64Array, Number), [
      4,
      4,
      10,
      10,
    ]);
    assert.deepEqual([...(g.emb.data as Float32Array)], [
      1,
      2,
      3,
      4,
      0,
      0,
      0,
      0,
    ]);
    assert.throws(
      () => m.extraFeeds("wasm", 2, { label: 1 }),
      (e: unknown) => e instanceof ConfigError && e.field === "conditioning.emb",
    );
    assert.throws(
      () => m.extraFeeds("wasm", 2, { emb: [1, 2, 3] }),
      (e: unknown) => e instanceof ConfigError && e.field === "conditioning.emb",
    );
    assert.throws(
      () => m.extraFeeds("wasm", 2, { emb: 1, color: 3 }),
      (e: unknown) => e instanceof ConfigError && e.field === "conditioning.color",
    );
    assert.throws(
      () => m.extraFeeds("wasm", 2, { emb: 1 }, { scale: 2 }),
      (e: unknown) => e instanceof ConfigError && e.field === "guidance.unconditional.emb",
    );
    assert.throws(
      () => m.extraFeeds("wasm", 2, { emb: 1 }, { scale: NaN }),
      (e: unknown) => e instanceof ConfigError && e.field === "guidance.scale",
    );
    await m.dispose();
    const plain = await loadModel(gaussianModel().bytes, {
      manifest: gaussianModel().manifest,
    });
    assert.throws(
      () => plain.extraFeeds("wasm", 1, {}, { scale: 2 }),
      (e: unknown) => e instanceof ConfigError && e.field === "guidance",
    );
    await plain.dispose();
  },
});

Deno.test("time tensors are kept per execution provider, batch and value, and hold the time input", async () => {
  const model = await loadModel(new URL("../models/mnist/", import.meta.url));
  try {
    const p = { t: 0.25, alphaBar: 0.64, rho: 0.75 };
    const a = model.timeTensor("wasm", p, 3);
    assert.equal(model.timeTensor("wasm", p, 3), a, "the same tensor for the same request");
    assert.deepEqual(Array.from(a.data as Float32Array), [249.75, 249.75, 249.75]);
    assert.deepEqual(a.dims, [3]);
    assert.notEqual(model.timeTensor("wasm", p, 4), a);
    assert.notEqual(model.timeTensor("wasm", { ...p, t: 0.5 }, 3), a);
    // a bounded store: past TIME_TENSORS_KEPT values it starts over, and still answers correctly
    for (let k = 0; k <= TIME_TENSORS_KEPT; k++) model.timeTensor("wasm", { ...p, t: k / 1000 }, 1);
    const b = model.timeTensor("wasm", p, 3);
    assert.deepEqual(Array.from(b.data as Float32Array), [249.75, 249.75, 249.75]);
  } finally {
    await model.dispose();
  }
});
