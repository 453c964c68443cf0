/**
 * Manifest `deis-model/2` at work: float16 networks (registers stay float32; WebGPU converts in its
 * kernels, with `shader-f16` and with the packed fallback), integer time inputs (rounded ties to
 * even), and EDM preconditioning. Every sampler result is compared with the float64 loop over the
 * exact ε of the same data (closed forms in testing/synthetic.ts), never with our own earlier output.
 */
import assert from "node:assert/strict";
import { scaledDiff } from "./helpers.ts";
import { ModelError } from "../src/errors.ts";
import { createWebGpuBackend, probeAdapter } from "../src/backends/mod.ts";
import { loadModel, type Model, validateManifest } from "../src/model/mod.ts";
import { roundHalfEven } from "../src/model/convert.ts";
import { edmGaussianModel, gaussianModel, type GaussianModelOptions } from "../testing/synthetic.ts";
import { sample, sampleFunction } from "../src/sampling/mod.ts";
import { makePlan } from "../src/plan/make_plan.ts";
import type { Plan } from "../src/plan/types.ts";

const hasGpu = (await probeAdapter()) !== null;
const gpuOpts = { ignore: !hasGpu, sanitizeOps: false, sanitizeResources: false };

async function synthetic(o: GaussianModelOptions): Promise<{ model: Model; g: ReturnType<typeof gaussianModel> }> {
  const g = gaussianModel(o);
  return { model: await loadModel(g.bytes, { manifest: g.manifest }), g };
}

async function exact(
  eps: (x: Float64Array, t: number[]) => Float64Array,
  plan: Plan,
  n: number,
  D: number,
  seed: number,
) {
  return (await sampleFunction({ plan, eps, sampleShape: [D], n, seed })).data;
}

Deno.test("roundHalfEven: ties go to the even integer, everything else to the nearest", () => {
  const cases: [number, number][] = [
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [-0.5, -0],
    [-1.5, -2],
    [-2.5, -2],
    [2.4999, 2],
    [
      2.5001,
      3,
    ],
    [999.0000000001, 999],
    [-3.7, -4],
  ];
  for (const [v, want] of cases) assert.equal(roundHalfEven(v), want, `round(${v})`);
});

Deno.test("manifest v2: float16, time dtypes and preconditioning are v2 keys with named errors", () => {
  const base = { sde: { name: "vp-linear" }, sampleShape: [2] };
  const field = (raw: unknown) => {
    try {
      validateManifest(raw);
    } catch (e) {
      assert.ok(e instanceof ModelError, String(e));
      return e.field;
    }
    assert.fail("accepted");
  };
  assert.equal(field({ ...base, dtype: "float16" }), "dtype");
  assert.equal(field({ ...base, time: { kind: "continuous", dtype: "int64" } }), "time.dtype");
  assert.equal(field({ ...base, format: "deis-model/2", time: { kind: "continuous", dtype: "uint8" } }), "time.dtype");
  assert.equal(
    field({ ...base, format: "deis-model/2", precondition: { kind: "edm" }, prediction: "eps" }),
    "prediction",
  );
  assert.equal(field({ ...base, format: "deis-model/2", precondition: { kind: "vp" } }), "precondition.kind");
  assert.equal(
    field({ ...base, format: "deis-model/2", precondition: { kind: "edm", sigmaData: 0 } }),
    "precondition.sigmaData",
  );
  assert.equal(field({ ...base, format: "deis-model/2", time: { kind: "edm" } }), "time.kind");
  assert.equal(
    field({ ...base, format: "deis-model/2", precondition: { kind: "edm" }, time: { kind: "sigma" } }),
    "time.kind",
  );
  assert.equal(field({ ...base, format: "deis-model/3" }), "format");

  const m = validateManifest({ ...base, format: "deis-model/2", dtype: "float16" });
  assert.equal(m.time.dtype, "float16", "time dtype defaults to the network's");
  const e = validateManifest({ ...base, format: "deis-model/2", precondition: { kind: "edm" } });
  assert.deepEqual(e.precondition, { kind: "edm", sigmaData: 0.5 });
  assert.equal(e.prediction, "x0");
  assert.deepEqual(e.time, { kind: "edm", dtype: "float32" });
  // v1 manifests are unchanged
  const v1 = validateManifest(base);
  assert.equal(v1.format, "deis-model/1");
  assert.deepEqual(v1.time, { kind: "continuous", scale: 1, dtype: "float32" });
});

Deno.test("manifest v2: a time dtype or float16 that disagrees with the graph fails at load naming the key", async () => {
  const g = gaussianModel({ intTime: { scale: 1000 } });
  const wrongTime = { ...g.manifest, time: { kind: "continuous", scale: 1000 } }; // graph says int64
  await assert.rejects(() => loadModel(g.bytes, { manifest: wrongTime }), (e: unknown) => {
    assert.ok(e instanceof ModelError);
    assert.equal(e.field, "dtype");
    assert.match(e.message, /'t' is int64, the manifest says float32/);
    return true;
  });
  const h = gaussianModel({ dtype: "float16" });
  await assert.rejects(() => loadModel(h.bytes, { manifest: { ...h.manifest, dtype: "float32" } }), (e: unknown) => {
    assert.ok(e instanceof ModelError);
    assert.equal(e.field, "dtype");
    assert.match(e.message, /float16/);
    return true;
  });
  const f = gaussianModel({ dtype: "float16" });
  const wrongT = { ...f.manifest, time: { kind: "continuous", scale: 1, dtype: "float32" } };
  await assert.rejects(() => loadModel(f.bytes, { manifest: wrongT }), (e: unknown) => {
    assert.ok(e instanceof ModelError);
    assert.equal(e.field, "time.dtype");
    return true;
  });
});

Deno.test("float16 network on wasm: float32 registers, float16 only at the boundary; equals the exact loop to float16 accuracy", async () => {
  const { model, g } = await synthetic({ dtype: "float16", sampleShape: [6] });
  try {
    assert.equal(model.dtype, "float32");
    assert.equal(model.networkDtype, "float16");
    for (const cfg of [{ method: "tab", order: 3, steps: 10 }, { method: "dpmpp", order: 2, steps: 10 }] as const) {
      const plan = makePlan(cfg);
      const r = await sample({ model, plan, n: 8, seed: 3, backend: "wasm" });
      assert.ok(r.data instanceof Float32Array);
      const want = await exact(g.eps, plan, 8, 6, 3);
      const d = scaledDiff(r.data, want);
      // float16 keeps 11 significant bits (2^-11 ≈ 4.9e-4 relative per rounding): a few of them over 10 steps
      assert.ok(d < 5e-3, `${cfg.method}: ${d}`);
      assert.ok(d > 1e-7, `${cfg.method}: the float16 rounding must be visible (${d}); is the network float32?`);
    }
  } finally {
    await model.dispose();
  }
});

Deno.test({
  name: "float16 network on webgpu: shader-f16 and packed kernels agree with wasm and with the exact loop",
  ...gpuOpts,
  async fn() {
    const { model, g } = await synthetic({ dtype: "float16", sampleShape: [5], label: { shift: 0.25 } });
    try {
      const plan = makePlan({ method: "tab", order: 3, steps: 10 });
      const n = 7; // odd batch × odd size: the packed kernels' last word holds one half
      const common = { model, plan, n, seed: 9, conditioning: { label: 1 }, guidance: 2 } as const;
      const wasm = await sample({ ...common, backend: "wasm" });
      const native16 = await sample({ ...common, backend: await createWebGpuBackend() });
      const packed = await sample({ ...common, backend: await createWebGpuBackend({ shaderF16: false }) });
      assert.ok(scaledDiff(native16.data, wasm.data) < 2e-3, `f16 vs wasm ${scaledDiff(native16.data, wasm.data)}`);
      assert.ok(scaledDiff(packed.data, wasm.data) < 2e-3, `packed vs wasm ${scaledDiff(packed.data, wasm.data)}`);
      // guided exact ε: the label adds shift·label to the network output, so ε = ε* + w·shift·1
      const w = 2, shift = 0.25;
      const want = await exact(
        (x, t) => g.eps(x, t).map((v) => v + w * shift * 1 + (1 - w) * shift * 0),
        plan,
        n,
        5,
        9,
      );
      assert.ok(scaledDiff(packed.data, want) < 5e-3, `packed vs exact ${scaledDiff(packed.data, want)}`);
    } finally {
      await model.dispose();
    }
  },
});

Deno.test("int64 time input: the network receives round(scale·t) (ties to even) on wasm, and webgpu agrees", async () => {
  const scale = 20; // coarse on purpose: the rounding moves every time visibly
  const { model, g } = await synthetic({ intTime: { scale }, sampleShape: [3] });
  try {
    const plan = makePlan({ method: "ddim", steps: 8 });
    const r = await sample({ model, plan, n: 4, seed: 5, backend: "wasm" });
    // the exact ε evaluated at the rounded time the network was given (the sampler's own time is unrounded)
    const rounded = await exact(
      (x, t) => g.eps(x, t.map((ti) => roundHalfEven(scale * ti) / scale)),
      plan,
      4,
      3,
      5,
    );
    const unrounded = await exact(g.eps, plan, 4, 3, 5);
    assert.ok(scaledDiff(r.data, rounded) < 2e-5, `vs rounded-time loop: ${scaledDiff(r.data, rounded)}`);
    assert.ok(scaledDiff(r.data, unrounded) > 1e-3, "the rounding must matter at this scale");
    if (hasGpu) {
      const gpu = await sample({ model, plan, n: 4, seed: 5, backend: "webgpu" });
      assert.ok(scaledDiff(gpu.data, r.data) < 2e-5);
    }
  } finally {
    await model.dispose();
  }
});

Deno.test("EDM preconditioning: a raw denoiser sampled on wasm (and webgpu) equals the exact ε loop", async () => {
  for (const sigmaData of [0.5, 1.3]) {
    const g = edmGaussianModel({ sampleShape: [4], std: 0.8, sigmaData });
    const model = await loadModel(g.bytes, { manifest: g.manifest });
    try {
      assert.equal(model.manifest.prediction, "x0");
      // the VE plan's ρ is σ(t) = σmin (σmax/σmin)^t, which the exact ε below assumes
      for (const cfg of [{ method: "tab", order: 3, steps: 12 }, { method: "ddim", steps: 12 }] as const) {
        const plan = makePlan({ ...cfg, sde: "ve", sigmaMin: 0.002, sigmaMax: 80, tEnd: 1e-3 });
        const r = await sample({ model, plan, n: 6, seed: 2, backend: "wasm" });
        const want = await exact(g.eps, plan, 6, 4, 2);
        const d = scaledDiff(r.data, want);
        assert.ok(d < 1e-4, `σd ${sigmaData} ${cfg.method}: ${d}`);
        if (hasGpu) {
          const gpu = await sample({ model, plan, n: 6, seed: 2, backend: "webgpu" });
          assert.ok(scaledDiff(gpu.data, want) < 1e-4, `webgpu σd ${sigmaData}: ${scaledDiff(gpu.data, want)}`);
        }
      }
    } finally {
      await model.dispose();
    }
  }
});

Deno.test("EDM preconditioning under a VP SDE: the denoiser sees c_in·x/α and still equals the exact ε loop", async () => {
  const g = edmGaussianModel({ sampleShape: [3], std: 0.7 });
  const vp = gaussianModel({ std: 0.7, sampleShape: [3] }); // the same data's exact ε under vp-linear
  const model = await loadModel(g.bytes, { manifest: { ...g.manifest, sde: { name: "vp-linear" } } });
  try {
    const plan = makePlan({ method: "tab", order: 2, steps: 10 });
    const r = await sample({ model, plan, n: 5, seed: 4, backend: "wasm" });
    const d = scaledDiff(r.data, await exact(vp.eps, plan, 5, 3, 4));
    assert.ok(d < 1e-4, `vp: ${d}`);
  } finally {
    await model.dispose();
  }
});

Deno.test("your own session with a v2 manifest: float16 reproduces the loaded model bit for bit; EDM equals the exact loop", async () => {
  const { ortWasm } = await import("../src/runtime/ort.ts");
  const f16 = gaussianModel({ dtype: "float16", sampleShape: [4] });
  const plan = makePlan({ method: "tab", order: 3, steps: 8 });
  const session = await ortWasm.InferenceSession.create(f16.bytes);
  const model = await loadModel(f16.bytes, { manifest: f16.manifest });
  try {
    const mine = await sample({ model: { session, manifest: f16.manifest }, plan, n: 3, seed: 8 });
    const theirs = await sample({ model, plan, n: 3, seed: 8, backend: "wasm" });
    assert.deepEqual(Array.from(mine.data), Array.from(theirs.data));
  } finally {
    await session.release();
    await model.dispose();
  }
  const edm = edmGaussianModel({ sampleShape: [4], std: 0.6 });
  const s2 = await ortWasm.InferenceSession.create(edm.bytes);
  try {
    const vePlan = makePlan({
      method: "tab",
      order: 3,
      steps: 12,
      sde: "ve",
      sigmaMin: 0.002,
      sigmaMax: 80,
      tEnd: 1e-3,
    });
    const r = await sample({ model: { session: s2, manifest: edm.manifest }, plan: vePlan, n: 4, seed: 1 });
    const d = scaledDiff(r.data, await exact(edm.eps, vePlan, 4, 4, 1));
    assert.ok(d < 1e-4, `session EDM: ${d}`);
  } finally {
    await s2.release();
  }
});
