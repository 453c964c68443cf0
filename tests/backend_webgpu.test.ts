/**
 * The WebGPU backend (software WebGPU works: llvmpipe): one readback per run, agreement with the
 * WASM backend, buffer accounting on success, error and abort, typed errors for bad networks,
 * and classifier-free guidance as one batched call. Skipped when the runtime has no adapter.
 */
import assert from "node:assert/strict";
import { scaledDiff } from "./helpers.ts";
import { AbortError, ConfigError, ModelError } from "../src/errors.ts";
import { gpuBufferStats, probeAdapter } from "../src/backends/mod.ts";
import { ortWebGpu as ort } from "../src/runtime/ort.ts";
import { loadModel, type Model } from "../src/model/mod.ts";
import { gaussianModel, type GaussianModelOptions } from "../testing/synthetic.ts";
import { sample, sampleFunction } from "../src/sampling/mod.ts";
import { makePlan } from "../src/plan/make_plan.ts";
import type { PlanConfig } from "../src/plan/config.ts";

const hasGpu = (await probeAdapter()) !== null;
const opts = { ignore: !hasGpu, sanitizeOps: false, sanitizeResources: false };
const MODELS = new URL("../models/", import.meta.url);

/** Largest elementwise relative error, with |b| below `floor` compared absolutely against floor. */
function relDiff(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  floor = 1e-2,
): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
  }
  return m;
}

async function synthetic(o: GaussianModelOptions): Promise<Model> {
  const m = gaussianModel(o);
  return await loadModel(m.bytes, { manifest: m.manifest });
}

function assertNoLiveBuffers(what: string): void {
  const s = gpuBufferStats();
  assert.equal(
    s.live,
    0,
    `${what}: ${s.live} live buffers (${s.liveBytes} bytes)`,
  );
  assert.equal(s.liveBytes, 0, what);
}

Deno.test({
  name: "webgpu: exactly one readback per run, after the last step; no CPU copy inside the loop",
  ...opts,
  async fn() {
    const model = await loadModel(new URL("gmm-2d/", MODELS));
    try {
      const configs: PlanConfig[] = [
        { method: "tab", order: 3, steps: 8 },
        { method: "rhork", rk: "heun2", steps: 4 },
        { method: "ddim", lambda: 1, steps: 6 },
      ];
      // warm up: session creation may read back on its own
      await sample({
        model,
        plan: makePlan(configs[0]),
        n: 4,
        seed: 1,
        backend: "webgpu",
      });

      const events: string[] = [];
      const proto = GPUBuffer.prototype as unknown as {
        mapAsync: (...a: unknown[]) => Promise<void>;
      };
      const tensorProto = ort.Tensor.prototype as unknown as {
        getData: (...a: unknown[]) => Promise<unknown>;
      };
      const origMap = proto.mapAsync, origGetData = tensorProto.getData;
      proto.mapAsync = function (this: GPUBuffer, ...a: unknown[]) {
        events.push("mapAsync");
        return origMap.apply(this, a);
      };
      tensorProto.getData = function (this: unknown, ...a: unknown[]) {
        events.push("getData");
        return origGetData.apply(this, a);
      };
      try {
        for (const cfg of configs) {
          events.length = 0;
          const plan = makePlan(cfg);
          const r = await sample({
            model,
            plan,
            n: 8,
            seed: 3,
            backend: "webgpu",
            denoiseFinal: true,
            onProgress: (p) => events.push(`step ${p.step}`),
          });
          const maps = events.filter((e) => e === "mapAsync").length;
          assert.equal(maps, 1, `${cfg.method}: ${events.join(", ")}`);
          assert.equal(
            events.filter((e) => e === "getData").length,
            0,
            "no Tensor.getData",
          );
          assert.equal(
            events.at(-1),
            "mapAsync",
            `${cfg.method}: the readback comes last: ${events.join(", ")}`,
          );
          assert.equal(
            events.filter((e) => e.startsWith("step")).length,
            plan.steps + 1,
          );
          assert.equal(r.gpu?.readbacks, 1);
          assert.equal(r.nfe, plan.nfe + 1);
        }
      } finally {
        proto.mapAsync = origMap;
        tensorProto.getData = origGetData;
      }
    } finally {
      await model.dispose();
    }
    assertNoLiveBuffers("after the runs");
  },
});

Deno.test({
  name: "webgpu and wasm agree to 1e-4 for every method (gmm-2d, gmm-image)",
  ...opts,
  async fn() {
    const cases: [string, PlanConfig, boolean?][] = [
      ["gmm-2d", { method: "ddim", steps: 10 }],
      ["gmm-2d", { method: "tab", order: 3, steps: 10 }],
      ["gmm-2d", { method: "rhoab", order: 2, steps: 10 }],
      ["gmm-2d", { method: "logrho", order: 2, steps: 10, grid: "logrho" }],
      ["gmm-2d", { method: "ipndm", order: 3, steps: 10 }],
      ["gmm-2d", { method: "euler", steps: 20 }],
      ["gmm-2d", { method: "ei-score", steps: 20 }],
      ["gmm-2d", { method: "rhork", rk: "heun2", steps: 8 }],
      ["gmm-2d", { method: "rhork", rk: "rk4", steps: 5 }],
      ["gmm-2d", { method: "ddim", lambda: 1, steps: 10 }],
      ["gmm-2d", { method: "ddim", lambda: 0.5, steps: 10 }, true],
      ["gmm-2d", { method: "dpmpp", order: 2, steps: 10 }],
      ["gmm-2d", { method: "dpmpp", order: 3, steps: 10, grid: "logrho" }, true],
      ["gmm-2d", { method: "unipc", order: 2, steps: 10 }],
      ["gmm-2d", { method: "unipc", order: 3, variant: "bh1", steps: 8, grid: "logrho" }, true],
      ["gmm-image", { method: "tab", order: 2, steps: 6 }, true],
    ];
    const models = new Map<string, Model>();
    try {
      for (const [name, cfg, denoise] of cases) {
        if (!models.has(name)) {
          models.set(name, await loadModel(new URL(`${name}/`, MODELS)));
        }
        const model = models.get(name)!;
        const plan = makePlan(cfg);
        const common = { model, plan, n: 16, seed: 11, denoiseFinal: denoise };
        const gpu = await sample({ ...common, backend: "webgpu" });
        const cpu = await sample({ ...common, backend: "wasm" });
        assert.equal(gpu.backend, "webgpu");
        assert.equal(cpu.backend, "wasm");
        assert.deepEqual(gpu.shape, cpu.shape);
        const d = scaledDiff(gpu.data, cpu.data);
        assert.ok(
          d <= 1e-4,
          `${name} ${JSON.stringify(cfg)}: scaled difference ${d.toExponential(2)}`,
        );
        const r = relDiff(gpu.data, cpu.data);
        assert.ok(
          r <= 1e-3,
          `${name} ${JSON.stringify(cfg)}: elementwise relative difference ${r.toExponential(2)}`,
        );
      }
    } finally {
      for (const m of models.values()) await m.dispose();
    }
    assertNoLiveBuffers("after the comparisons");
  },
});

Deno.test({
  name: "webgpu: abort stops the loop, raises AbortError and frees every buffer",
  ...opts,
  async fn() {
    const model = await loadModel(new URL("gmm-2d/", MODELS));
    try {
      const plan = makePlan({ method: "tab", order: 2, steps: 10 });
      const ac = new AbortController();
      let steps = 0;
      await assert.rejects(
        sample({
          model,
          plan,
          n: 4,
          seed: 1,
          backend: "webgpu",
          signal: ac.signal,
          onProgress: (p) => {
            steps = p.step;
            if (p.step === 3) ac.abort("enough");
          },
        }),
        (e: unknown) => e instanceof AbortError && /enough/.test((e as Error).message),
      );
      assert.equal(steps, 3);
      assertNoLiveBuffers("after abort mid-loop");
      // already aborted: nothing is allocated
      await assert.rejects(
        sample({
          model,
          plan,
          n: 4,
          seed: 1,
          backend: "webgpu",
          signal: AbortSignal.abort(),
        }),
        AbortError,
      );
      assertNoLiveBuffers("after abort before start");
      // a run after an abort works
      const r = await sample({ model, plan, n: 4, seed: 1, backend: "webgpu" });
      assert.equal(r.data.length, 8);
    } finally {
      await model.dispose();
    }
    assertNoLiveBuffers("at the end");
  },
});

Deno.test({
  name: "webgpu and wasm: wrong output shape, NaN output, missing inputs are typed errors and leak nothing",
  ...opts,
  async fn() {
    const plan = makePlan({ method: "tab", order: 2, steps: 6 });
    for (const backend of ["webgpu", "wasm"] as const) {
      // wrong shape
      const shapeModel = await synthetic({ name: "bad-shape", fault: "shape" });
      await assert.rejects(
        sample({ model: shapeModel, plan, n: 3, seed: 1, backend }),
        (e: unknown) => {
          assert.ok(e instanceof ModelError, String(e));
          assert.equal(e.model, "bad-shape");
          assert.equal(e.field, "eps");
          assert.match(e.message, /shape \[3, 4\].*expected \[3, 2\]/);
          return true;
        },
      );
      await shapeModel.dispose();
      assertNoLiveBuffers(`${backend}: wrong shape`);

      // NaN from the 3rd evaluation on (t < 0.5)
      const nanModel = await synthetic({
        name: "bad-nan",
        fault: "nan",
        nanBelow: 0.5,
      });
      const firstBad = plan.timesteps.findIndex((t) => t < 0.5);
      await assert.rejects(
        sample({ model: nanModel, plan, n: 3, seed: 1, backend }),
        (e: unknown) => {
          assert.ok(e instanceof ModelError, String(e));
          assert.equal(e.model, "bad-nan");
          assert.equal(e.field, "eps");
          assert.match(e.message, /non-finite/);
          assert.match(e.message, new RegExp(`at evaluation ${firstBad} `));
          return true;
        },
      );
      await nanModel.dispose();
      assertNoLiveBuffers(`${backend}: NaN`);

      // the manifest names an input the graph lacks: refused when loaded (issue 13: the manifest is
      // checked against the graph before anything is allocated), with the same typed error
      const m1 = gaussianModel({ name: "no-label" });
      await assert.rejects(
        loadModel(m1.bytes, {
          manifest: {
            ...m1.manifest,
            extraInputs: [{ name: "label", dtype: "int64", shape: [], null: 0 }],
          },
        }),
        (e: unknown) => {
          assert.ok(e instanceof ModelError, String(e));
          assert.equal(e.field, "extraInputs[0].name");
          assert.match(e.message, /no input 'label'/);
          return true;
        },
      );

      // the graph has an input the manifest does not declare
      const m2 = gaussianModel({ name: "undeclared", label: { shift: 1 } });
      const undeclared = await loadModel(m2.bytes, {
        manifest: { ...m2.manifest, extraInputs: [] },
      });
      await assert.rejects(
        sample({ model: undeclared, plan, n: 2, backend }),
        (e: unknown) => {
          assert.ok(e instanceof ModelError, String(e));
          assert.equal(e.field, "extraInputs");
          assert.match(e.message, /'label' is not declared/);
          return true;
        },
      );
      await undeclared.dispose();

      // conditioning missing and no null value
      const noNull = await loadModel(m2.bytes, {
        manifest: {
          ...m2.manifest,
          extraInputs: [{ name: "label", dtype: "int64", shape: [] }],
        },
      });
      await assert.rejects(
        sample({ model: noNull, plan, n: 2, backend }),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, String(e));
          assert.equal(e.field, "conditioning.label");
          return true;
        },
      );
      await assert.rejects(
        sample({
          model: noNull,
          plan,
          n: 2,
          backend,
          conditioning: { label: [1, 2, 3] },
        }),
        (e: unknown) => e instanceof ConfigError && e.field === "conditioning.label",
      );
      await noNull.dispose();
      assertNoLiveBuffers(`${backend}: missing inputs`);
    }
  },
});

Deno.test({
  name: "webgpu: the live-buffer count returns to zero after many runs; peak bytes as allocated",
  ...opts,
  async fn() {
    const model = await loadModel(new URL("gmm-2d/", MODELS));
    const before = gpuBufferStats();
    try {
      const plans = [
        makePlan({ method: "tab", order: 3, steps: 4 }),
        makePlan({ method: "rhork", rk: "rk4", steps: 2 }),
        makePlan({ method: "ddim", lambda: 1, steps: 4 }),
      ];
      for (let i = 0; i < 24; i++) {
        const plan = plans[i % plans.length];
        const n = 1 + (i % 5);
        const r = await sample({ model, plan, n, seed: i, backend: "webgpu" });
        assert.equal(gpuBufferStats().live, 0, `run ${i}`);
        // x registers + ε arena + flag + 2 uniform blocks + dummy + staging, 16-byte padded
        const pad = (b: number) => Math.max(16, Math.ceil(b / 16) * 16);
        const L = n * 2;
        const xs = plan.method === "rhork" ? 2 : 1;
        const eps = plan.method === "rhork" ? plan.stages![0].length : plan.rows![0].length - 1;
        const expected = xs * pad(4 * L) + pad(4 * L * eps) + 16 + 32 + 176 +
          16 + pad(4 * L + 16);
        assert.equal(r.gpu?.peakBytes, expected, `run ${i}`);
        assert.equal(r.gpu?.buffers, xs + 6);
      }
    } finally {
      await model.dispose();
    }
    const after = gpuBufferStats();
    assert.equal(after.live, 0);
    assert.equal(
      after.created - before.created,
      after.destroyed - before.destroyed,
    );
  },
});

Deno.test({
  name: "webgpu: classifier-free guidance is one batched call of size 2n and matches the exact guided ε",
  ...opts,
  async fn() {
    const shift = 0.3, w = 2.5;
    const syn = gaussianModel({ name: "guided", label: { shift } });
    const model = await loadModel(syn.bytes, { manifest: syn.manifest });
    const plan = makePlan({ method: "tab", order: 2, steps: 8 });
    const n = 3;
    const labels = [1, 2, 3];
    const batches: number[] = [];
    const origRun = model.runInto.bind(model);
    model.runInto = (kind, feeds, into) => {
      batches.push(feeds.x.dims[0]);
      assert.deepEqual(Array.from(feeds.label.data as BigInt64Array, Number), [
        ...labels,
        0,
        0,
        0,
      ]);
      return origRun(kind, feeds, into);
    };
    try {
      const common = {
        model,
        plan,
        n,
        seed: 5,
        conditioning: { label: labels },
        guidance: w,
      };
      const gpu = await sample({ ...common, backend: "webgpu" });
      assert.deepEqual(batches, new Array(plan.nfe).fill(2 * n));
      const cpu = await sample({ ...common, backend: "wasm" });
      // exact: ε = ε_u + w(ε_c − ε_u) = ε_data + shift·w·label (null = 0)
      const exact = await sampleFunction({
        plan,
        n,
        seed: 5,
        sampleShape: [2],
        eps: (x, t) => {
          const e = syn.eps(x, t);
          for (let i = 0; i < e.length; i++) {
            e[i] += shift * w * labels[Math.floor(i / 2)];
          }
          return e;
        },
      });
      assert.ok(
        scaledDiff(gpu.data, cpu.data) <= 1e-4,
        `gpu vs wasm ${scaledDiff(gpu.data, cpu.data)}`,
      );
      assert.ok(
        scaledDiff(gpu.data, exact.data) <= 1e-4,
        `gpu vs exact ${scaledDiff(gpu.data, exact.data)}`,
      );
    } finally {
      await model.dispose();
    }
    assertNoLiveBuffers("after guidance");
  },
});

Deno.test({
  name: "webgpu: x0-, v- and score-prediction networks give the ε-network's samples",
  ...opts,
  async fn() {
    const plan = makePlan({ method: "tab", order: 2, steps: 8 });
    const ref = await synthetic({
      name: "eps",
      prediction: "eps",
      sampleShape: [4],
    });
    const base = await sample({
      model: ref,
      plan,
      n: 4,
      seed: 9,
      backend: "webgpu",
      denoiseFinal: true,
    });
    await ref.dispose();
    for (const prediction of ["x0", "v", "score"] as const) {
      const model = await synthetic({
        name: prediction,
        prediction,
        sampleShape: [4],
      });
      for (const backend of ["webgpu", "wasm"] as const) {
        const r = await sample({
          model,
          plan,
          n: 4,
          seed: 9,
          backend,
          denoiseFinal: true,
        });
        const d = scaledDiff(r.data, base.data);
        assert.ok(
          d <= 1e-4,
          `${prediction} on ${backend}: ${d.toExponential(2)}`,
        );
      }
      await model.dispose();
    }
    assertNoLiveBuffers("after prediction types");
  },
});
