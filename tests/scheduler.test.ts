/**
 * The step-wise scheduler reproduces `sample()` bit for bit (ε rows, ρRK, DPM-Solver++, UniPC,
 * stochastic DDIM, final denoising), on the CPU and on WebGPU; a network answered through it, or an
 * async function or your own session wrapping the ONNX model, reproduces the model on wasm; misuse is
 * a typed error.
 */
import assert from "node:assert/strict";
import {
  ConfigError,
  createScheduler,
  loadModel,
  makePlan,
  type Model,
  ModelError,
  type NetworkFunction,
  type PlanConfig,
  sample,
  StateError,
} from "../mod.ts";
import { ortFor, ortWebGpu, probeAdapter } from "../src/runtime/ort.ts";
import { ortDevice } from "../src/backends/webgpu.ts";
import { gpuBufferStats } from "../src/backends/gpu_memory.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const GMM2D = new URL("../models/gmm-2d/", import.meta.url);
const hasGpu = (await probeAdapter()) !== null;

const CONFIGS: [PlanConfig, boolean][] = [
  [{ method: "tab", order: 3, steps: 8 }, false],
  [{ method: "rhork", rk: "rk4", steps: 3 }, false],
  [{ method: "dpmpp", order: 2, steps: 6, grid: "logrho" }, false],
  [{ method: "unipc", order: 3, steps: 7 }, true],
  [{ method: "ddim", lambda: 1, steps: 6 }, false],
  [{ method: "tab", order: 2, steps: 5 }, true],
];

/** The model's network on wasm, run by hand (as a user would): raw output for input x at time t. */
function wasmNetwork(model: Model): (x: Float32Array, t: number) => Promise<Float32Array> {
  const ort = ortFor("wasm");
  return async (x, t) => {
    const n = x.length / 2;
    const out = await model.run("wasm", {
      x: new ort.Tensor("float32", x, [n, 2]),
      t: new ort.Tensor("float32", new Float32Array(n).fill(t), [n]),
    });
    const data = (out.data as Float32Array).slice();
    out.dispose();
    return data;
  };
}

Deno.test({
  name: "scheduler: stepping the ONNX model by hand reproduces sample() on wasm bit for bit",
  ...opts,
  async fn() {
    const model = await loadModel(GMM2D);
    const net = wasmNetwork(model);
    try {
      for (const [cfg, denoiseFinal] of CONFIGS) {
        const plan = makePlan(cfg);
        const s = await createScheduler({ plan, manifest: model.manifest, n: 5, seed: 3, denoiseFinal });
        assert.equal(s.evaluations.length, plan.nfe + (denoiseFinal ? 1 : 0));
        assert.deepEqual(s.shape, [5, 2]);
        let calls = 0;
        for (const ev of s.evaluations) {
          assert.equal(s.current, ev);
          assert.equal(ev.modelTime, ev.t); // gmm-2d takes t itself
          await s.step(await net(s.x, ev.modelTime), ev);
          calls++;
        }
        assert.ok(s.done);
        const mine = s.result();
        const ref = await sample({ model, plan, n: 5, seed: 3, denoiseFinal, backend: "wasm" });
        assert.equal(calls, ref.nfe);
        assert.equal(mine.nfe, ref.nfe);
        assert.equal(mine.seed, 3);
        assert.deepEqual(mine.data, ref.data, JSON.stringify(cfg));
        s.dispose();
      }
    } finally {
      await model.dispose();
    }
  },
});

Deno.test({
  name: "scheduler: matches sample({ model: fn }) for an x̂₀-predicting function, with the evaluations it was called at",
  ...opts,
  async fn() {
    // data N(0, s²I): x̂₀(x) = α s² x/(α² s² + σ²)
    const s2 = 0.3;
    const x0 = (x: Float32Array, p: { alphaBar: number; rho: number }) => {
      const a = Math.sqrt(p.alphaBar), sg = a * p.rho;
      return x.map((v) => a * s2 * v / (a * a * s2 + sg * sg));
    };
    for (const [cfg, denoiseFinal] of CONFIGS) {
      const plan = makePlan(cfg);
      const seen: string[] = [];
      const fn: NetworkFunction = (x, p) => {
        seen.push(JSON.stringify([p.index, p.step, p.t, p.alphaBar, p.rho, p.output]));
        return x0(x, p);
      };
      const ref = await sample({ model: fn, sampleShape: [3], prediction: "x0", plan, n: 4, seed: 11, denoiseFinal });
      const s = await createScheduler({ plan, sampleShape: [3], prediction: "x0", n: 4, seed: 11, denoiseFinal });
      const asked: string[] = [];
      for (const ev of s.evaluations) {
        asked.push(JSON.stringify([ev.index, ev.step, ev.t, ev.alphaBar, ev.rho, ev.output]));
        await s.step(x0(s.x, ev));
      }
      assert.deepEqual(asked, seen, JSON.stringify(cfg));
      assert.deepEqual(s.result().data, ref.data, JSON.stringify(cfg));
    }
  },
});

Deno.test({
  name: "an async function and your own session wrapping the ONNX model reproduce loadModel + sample on wasm",
  ...opts,
  async fn() {
    const model = await loadModel(GMM2D);
    const ort = ortFor("wasm");
    const bytes = await Deno.readFile(new URL("model.onnx", GMM2D));
    const session = await ort.InferenceSession.create(bytes);
    const manifest = JSON.parse(await Deno.readTextFile(new URL("model.json", GMM2D)));
    const net = wasmNetwork(model);
    try {
      for (const [cfg, denoiseFinal] of CONFIGS) {
        const plan = makePlan(cfg);
        const common = { plan, n: 6, seed: 9, denoiseFinal };
        const ref = await sample({ ...common, model, backend: "wasm" });
        const fn = await sample({ ...common, model: async (x, p) => await net(x, p.t), sampleShape: [2] });
        assert.deepEqual(fn.data, ref.data, `function ${JSON.stringify(cfg)}`);
        const own = await sample({ ...common, model: { session, manifest } });
        assert.equal(own.backend, "cpu");
        assert.deepEqual(own.data, ref.data, `session ${JSON.stringify(cfg)}`);
      }
      // a loaded model's manifest works as well, and the plan's SDE is checked against it
      const plan = makePlan({ method: "tab", order: 2, steps: 4 });
      await sample({ model: { session, manifest: model.manifest }, plan, n: 2, seed: 1 });
      await assert.rejects(
        sample({ model: { session, manifest }, plan: makePlan({ sde: "ve", steps: 4 }) }),
        (e: unknown) => e instanceof ConfigError && e.field === "plan.sde",
      );
      await assert.rejects(
        sample({ model: { session, manifest: { ...manifest, inputs: { x: "x", t: "time" } } }, plan }),
        (e: unknown) => e instanceof ModelError && e.field === "inputs.t" && /no input 'time'/.test(e.message),
      );
      await assert.rejects(
        sample({ model: { session, manifest }, plan, sampleShape: [2] }),
        (e: unknown) => e instanceof ConfigError && e.field === "sampleShape",
      );
    } finally {
      await session.release();
      await model.dispose();
    }
  },
});

Deno.test("scheduler: modelTime follows the time spec; typed errors for bad options", async () => {
  const plan = makePlan({ method: "tab", order: 2, steps: 3 });
  const s = await createScheduler({ plan, sampleShape: [2], time: { kind: "continuous", scale: 1000 } });
  for (const ev of s.evaluations) assert.equal(ev.modelTime, 1000 * ev.t);
  s.dispose();
  const r = await createScheduler({ plan, sampleShape: [2], time: { kind: "sigma" } });
  for (const ev of r.evaluations) assert.equal(ev.modelTime, Math.sqrt(ev.alphaBar) * ev.rho);
  r.dispose();
  const field = (f: string) => (e: unknown) => e instanceof ConfigError && e.field === f;
  await assert.rejects(createScheduler({ plan, sampleShape: [0] }), field("sampleShape"));
  await assert.rejects(createScheduler({ plan, sampleShape: [2], n: 0 }), field("n"));
  await assert.rejects(createScheduler({ plan, sampleShape: [2], seed: -1 }), field("seed"));
  await assert.rejects(createScheduler({ plan, sampleShape: [2], prediction: "noise" as never }), field("prediction"));
  await assert.rejects(createScheduler({ plan, sampleShape: [2], time: { kind: "index" } }), field("time.kind"));
  await assert.rejects(createScheduler({ plan, sampleShape: [2], backend: "wasm" as never }), field("backend"));
  await assert.rejects(
    createScheduler({ plan, sampleShape: [2], backend: "webgpu", device: {} as GPUDevice }),
    field("device"),
  );
  await assert.rejects(createScheduler({ plan, sampleShape: [2], init: [1, 2, 3] }), field("init"));
});

Deno.test("scheduler: wrong outputs are ModelErrors and leave it waiting; misuse is a StateError", async () => {
  const plan = makePlan({ method: "tab", order: 2, steps: 2 });
  const s = await createScheduler({ plan, sampleShape: [2], n: 2, seed: 1, name: "my-net" });
  const [e0, e1] = s.evaluations;
  const model = (e: unknown, re: RegExp) => e instanceof ModelError && e.model === "my-net" && re.test(e.message);
  await assert.rejects(s.step(new Float32Array(3)), (e) => model(e, /got 3 values for evaluation 0.*expected 4/));
  await assert.rejects(s.step([0, NaN, 0, 0]), (e) => model(e, /non-finite value \(NaN\) at element 1/));
  assert.equal(s.current, e0); // still waiting for the first evaluation
  const state = (op: string, re: RegExp) => (e: unknown) =>
    e instanceof StateError && e.operation === op && re.test(e.message);
  await assert.rejects(s.step(new Float32Array(4), e1), state("step", /waits for evaluation 0.*not for evaluation 1/));
  assert.throws(() => s.result(), state("result", /2 evaluation\(s\) are still due/));
  const pending = s.step(new Float32Array(4), 0);
  assert.equal(s.current, undefined);
  assert.throws(() => s.x, state("x", /has not settled/));
  await assert.rejects(s.step(new Float32Array(4)), state("step", /has not settled/));
  await pending;
  await s.step(new Float32Array(4), e1);
  assert.ok(s.done);
  assert.equal(s.result().data.length, 4);
  await assert.rejects(s.step(new Float32Array(4)), state("step", /all 2 evaluations are done/));
  s.dispose();
  assert.throws(() => s.result(), state("result", /disposed/));

  // disposed midway: the run stops, and stepping is refused
  const d = await createScheduler({ plan, sampleShape: [2] });
  d.dispose();
  d.dispose();
  await assert.rejects(d.step(new Float32Array(2)), state("step", /disposed/));
});

Deno.test({
  name: "scheduler on WebGPU: GPU buffers and onnxruntime GPU tensors reproduce sample() on webgpu, one readback",
  ignore: !hasGpu,
  ...opts,
  async fn() {
    const model = await loadModel(GMM2D);
    try {
      await model.session("webgpu");
      const device = await ortDevice();
      const n = 5, dims = [n, 2];
      const net = async (x: GPUBuffer, t: number) => {
        const out = await model.run("webgpu", {
          x: ortWebGpu.Tensor.fromGpuBuffer(x, { dataType: "float32", dims }),
          t: new ortWebGpu.Tensor("float32", new Float32Array(n).fill(t), [n]),
        });
        return out;
      };
      for (const [cfg, denoiseFinal] of CONFIGS) {
        const plan = makePlan(cfg);
        const ref = await sample({ model, plan, n, seed: 4, denoiseFinal, backend: "webgpu" });
        const s = await createScheduler({
          backend: "webgpu",
          device,
          plan,
          manifest: model.manifest,
          n,
          seed: 4,
          denoiseFinal,
        });
        for (const ev of s.evaluations) await s.step(await net(s.x, ev.modelTime), ev);
        const r = s.result();
        assert.equal(r.backend, "webgpu");
        assert.equal(r.gpu?.readbacks, 1);
        assert.deepEqual(r.data, ref.data, JSON.stringify(cfg));
      }
      // a bare GPUBuffer (yours: copied out of the tensor) works the same
      const plan = makePlan({ method: "tab", order: 3, steps: 5 });
      const ref = await sample({ model, plan, n, seed: 2, backend: "webgpu" });
      const s = await createScheduler({ backend: "webgpu", device, plan, sampleShape: [2], n, seed: 2 });
      const mine = device.createBuffer({ size: n * 8, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      for (const ev of s.evaluations) {
        const out = await net(s.x, ev.modelTime);
        const enc = device.createCommandEncoder();
        enc.copyBufferToBuffer(out.gpuBuffer as GPUBuffer, 0, mine, 0, n * 8);
        device.queue.submit([enc.finish()]);
        out.dispose();
        await s.step(mine, ev);
      }
      assert.deepEqual(s.result().data, ref.data);
      // wrong shape and wrong buffers are ModelErrors; it still waits
      const w = await createScheduler({ backend: "webgpu", device, plan, sampleShape: [2], n, seed: 2 });
      const small = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
      await assert.rejects(
        w.step(small),
        (e: unknown) => e instanceof ModelError && /16 bytes; expected at least 40/.test(e.message),
      );
      const tensor = ortWebGpu.Tensor.fromGpuBuffer(mine, { dataType: "float32", dims: [n * 2] });
      await assert.rejects(
        w.step(tensor),
        (e: unknown) => e instanceof ModelError && /shape \[10\]; expected \[5, 2\]/.test(e.message),
      );
      assert.equal(w.current?.index, 0);
      w.dispose();
      small.destroy();
      mine.destroy();
      // NaN from the network: detected on the GPU, reported after the last evaluation
      const nan = device.createBuffer({ size: n * 8, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(nan, 0, new Float32Array(n * 2).fill(NaN));
      const f = await createScheduler({
        backend: "webgpu",
        device,
        plan,
        sampleShape: [2],
        n,
        seed: 2,
        name: "nan-net",
      });
      const last = f.evaluations.length - 1;
      for (const ev of f.evaluations.slice(0, last)) await f.step(nan, ev);
      await assert.rejects(
        f.step(nan),
        (e: unknown) => e instanceof ModelError && e.model === "nan-net" && /non-finite.*evaluation 0/.test(e.message),
      );
      assert.throws(() => f.result(), (e: unknown) => e instanceof StateError && /run failed/.test(e.message));
      nan.destroy();
      assert.equal(gpuBufferStats().live, 0);
    } finally {
      await model.dispose();
    }
  },
});
