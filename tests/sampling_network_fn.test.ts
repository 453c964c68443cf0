/**
 * Your own network as a function in `sample()`: a function wrapping the ONNX model's own session
 * reproduces `sample()` on that model bit for bit (ε and x̂₀ programs, stochastic DDIM, final
 * denoising); prediction types convert like a manifest's; bad outputs and options are typed errors.
 */
import assert from "node:assert/strict";
import { ConfigError, loadModel, makePlan, ModelError, type NetworkFunction, type PlanConfig, sample } from "../mod.ts";
import { ortFor } from "../src/runtime/ort.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const GMM2D = new URL("../models/gmm-2d/", import.meta.url);

Deno.test({
  name: "a function wrapping the model's session reproduces sample() on the model bit for bit",
  ...opts,
  async fn() {
    const model = await loadModel(GMM2D);
    const ort = ortFor("wasm");
    let calls = 0;
    const network: NetworkFunction = async (x, point) => {
      calls++;
      const n = x.length / 2;
      const out = await model.run("wasm", {
        x: new ort.Tensor("float32", x, [n, 2]),
        t: new ort.Tensor("float32", new Float32Array(n).fill(model.timeInput(point)), [n]),
      });
      const data = (out.data as Float32Array).slice();
      out.dispose();
      return data;
    };
    try {
      const configs: [PlanConfig, boolean][] = [
        [{ method: "tab", order: 3, steps: 8 }, false],
        [{ method: "unipc", order: 3, steps: 8 }, true],
        [{ method: "dpmpp", order: 2, steps: 6, grid: "logrho" }, false],
        [{ method: "ddim", lambda: 1, steps: 6 }, true],
        [{ method: "rhork", rk: "heun2", steps: 4 }, false],
      ];
      for (const [cfg, denoiseFinal] of configs) {
        const plan = makePlan(cfg);
        calls = 0;
        const mine = await sample({ model: network, sampleShape: [2], plan, n: 5, seed: 3, denoiseFinal });
        assert.equal(mine.backend, "cpu");
        assert.equal(calls, mine.nfe);
        const ref = await sample({ model, plan, n: 5, seed: 3, denoiseFinal, backend: "wasm" });
        assert.deepEqual(mine.data, ref.data, JSON.stringify(cfg));
      }
    } finally {
      await model.dispose();
    }
  },
});

Deno.test("prediction types: an x̂₀- or v-predicting function gives the ε function's samples", async () => {
  // Data N(0, s²I) under vp-linear: ε(x, t) = σ x/(α² s² + σ²) exactly.
  const s2 = 0.25;
  const eps = (x: Float32Array, p: { alphaBar: number; rho: number }) => {
    const a = Math.sqrt(p.alphaBar), sg = a * p.rho;
    return x.map((v) => (sg * v) / (a * a * s2 + sg * sg));
  };
  const x0: NetworkFunction = (x, p) => {
    const a = Math.sqrt(p.alphaBar), sg = a * p.rho, e = eps(x, p);
    return x.map((v, i) => (v - sg * e[i]) / a);
  };
  const v: NetworkFunction = (x, p) => {
    const a = Math.sqrt(p.alphaBar), sg = a * p.rho, e = eps(x, p);
    return x.map((xv, i) => a * e[i] - sg * (xv - sg * e[i]) / a);
  };
  const plan = makePlan({ method: "tab", order: 2, steps: 12 });
  const common = { sampleShape: [3], plan, n: 4, seed: 8 };
  const ref = await sample({ ...common, model: eps });
  for (const [prediction, fn] of [["x0", x0], ["v", v]] as const) {
    const r = await sample({ ...common, model: fn, prediction });
    let d = 0;
    for (let i = 0; i < r.data.length; i++) d = Math.max(d, Math.abs(r.data[i] - ref.data[i]));
    assert.ok(d < 1e-4, `${prediction}: ${d}`);
  }
});

Deno.test("network functions: wrong length, NaN, a rejection and bad options are typed errors", async () => {
  const plan = makePlan({ method: "tab", order: 2, steps: 4 });
  const base = { plan, sampleShape: [2], n: 2, seed: 1 };
  await assert.rejects(
    sample({ ...base, model: () => new Float32Array(3) }),
    (e: unknown) => e instanceof ModelError && /returned 3 values/.test(e.message),
  );
  await assert.rejects(
    sample({ ...base, model: (x) => x.map(() => NaN) }),
    (e: unknown) => e instanceof ModelError && /non-finite/.test(e.message),
  );
  await assert.rejects(sample({ ...base, model: () => Promise.reject(new Error("GPU lost")) }), /GPU lost/);
  const field = (f: string) => (e: unknown) => e instanceof ConfigError && e.field === f;
  await assert.rejects(sample({ ...base, sampleShape: undefined, model: (x) => x }), field("sampleShape"));
  await assert.rejects(sample({ ...base, model: (x) => x, guidance: 2 }), field("guidance"));
  await assert.rejects(sample({ ...base, model: (x) => x, backend: "wasm" }), field("backend"));
  await assert.rejects(sample({ ...base, model: (x) => x, prediction: "noise" as never }), field("prediction"));
});
