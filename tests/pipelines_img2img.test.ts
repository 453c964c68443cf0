// img2img: the plan truncated to ⌊strength·N⌋ steps with coefficients recomputed on the kept times,
// and the start α(t₀)·image + σ(t₀)·z with z from the seed's img2img stream on every backend.

import assert from "node:assert/strict";
import { ConfigError, loadModel, makePlan, sample, sampleFunction, truncatePlan } from "../mod.ts";
import { gaussian } from "../src/backends/noise.ts";
import { NOISE_STREAM } from "../src/plan/noise_streams.ts";
import { probeAdapter } from "../src/backends/mod.ts";
import { gaussianModel } from "../testing/synthetic.ts";
import { maxRelErr } from "./helpers.ts";

const hasGpu = (await probeAdapter()) !== null;
const S2 = 0.25; // data variance of the exact model
// vp-linear with β₀ = 0.1, β₁ = 20, written out independently of the engine
const logAb = (t: number) => -(20 - 0.1) * t * t / 2 - 0.1 * t;
const alphaOf = (t: number) => Math.exp(logAb(t) / 2);
const sigmaOf = (t: number) => Math.sqrt(-Math.expm1(logAb(t)));
const epsExact = (x: Float64Array, t: number[]) =>
  x.map((v, i) => {
    const ti = t[Math.floor(i / 2)];
    return sigmaOf(ti) * v / (alphaOf(ti) ** 2 * S2 + sigmaOf(ti) ** 2);
  });

Deno.test("truncatePlan keeps the last ⌊strength·N⌋ steps and recomputes them on the kept grid", () => {
  const full = makePlan({ method: "tab", order: 2, steps: 10 });
  const p = truncatePlan(full, 0.6);
  assert.equal(p.steps, 6);
  assert.deepEqual(p.timesteps, full.timesteps.slice(4));
  const direct = makePlan({ method: "tab", order: 2, timesteps: full.timesteps.slice(4) });
  assert.deepEqual(p.rows, direct.rows);
  // the warm-up restarts: the first kept step is first order, unlike step 4 of the full plan
  assert.equal(p.rows![0][2], 0);
  assert.notEqual(full.rows![4][2], 0);
  assert.equal(truncatePlan(full, 1), full);
  // diffusers' int(N·strength): 0.29·100 = 28.999… keeps 28
  assert.equal(truncatePlan(makePlan({ method: "ddim", steps: 100 }), 0.29).steps, 28);
  for (const bad of [0, -0.1, 1.01, NaN, "0.5", 0.09]) {
    assert.throws(() => truncatePlan(full, bad as number), (e) => e instanceof ConfigError && e.field === "strength");
  }
});

Deno.test("img2img start: α(t₀)·image + σ(t₀)·z with z the img2img stream of the seed (float64, exact)", async () => {
  const plan = makePlan({ method: "ddim", steps: 10 });
  const image = [0.3, -0.7];
  let first: Float64Array | undefined;
  let firstT = NaN;
  await sampleFunction({
    plan,
    n: 3,
    seed: 42,
    image,
    strength: 0.5,
    sampleShape: [2],
    eps: (x, t) => {
      if (!first) [first, firstT] = [x.slice(), t[0]];
      return epsExact(x, t);
    },
  });
  const kept = truncatePlan(plan, 0.5);
  assert.equal(firstT, plan.timesteps[5]);
  const a = Math.sqrt(kept.alphaBar[0]), s = a * kept.rho[0];
  const z = gaussian(42, 6, NOISE_STREAM.img2img, 0);
  for (let i = 0; i < 6; i++) assert.equal(first![i], s * z[i] + a * image[i % 2], `element ${i}`);
});

Deno.test("img2img with DDIM on Gaussian data matches the closed form", async () => {
  // ε is linear in x, so each DDIM step x ← α' x̂₀ + σ' ε multiplies x by a known factor
  const plan = makePlan({ method: "ddim", steps: 20, grid: "time-uniform" });
  const image = [1.5, -0.25];
  const seed = 7, strength = 0.35;
  const r = await sampleFunction({ plan, n: 2, seed, image, strength, sampleShape: [2], eps: epsExact });
  const ts = plan.timesteps.slice(20 - Math.floor(strength * 20));
  let c = 1;
  for (let k = 0; k + 1 < ts.length; k++) {
    const [t, u] = [ts[k], ts[k + 1]];
    const e = sigmaOf(t) / (alphaOf(t) ** 2 * S2 + sigmaOf(t) ** 2);
    c *= alphaOf(u) * (1 - sigmaOf(t) * e) / alphaOf(t) + sigmaOf(u) * e;
  }
  const z = gaussian(seed, 4, NOISE_STREAM.img2img, 0);
  const want = z.map((zi, i) => c * (alphaOf(ts[0]) * image[i % 2] + sigmaOf(ts[0]) * zi));
  assert.ok(maxRelErr(r.data, want) < 1e-12, `rel ${maxRelErr(r.data, want)}`);
});

Deno.test("img2img: a plan truncated beforehand equals strength given to sample", async () => {
  const plan = makePlan({ method: "unipc", order: 2, steps: 12 });
  const o = { n: 2, seed: 3, image: [0.1, 0.2, 0.3, 0.4], sampleShape: [2], eps: epsExact };
  const a = await sampleFunction({ ...o, plan, strength: 0.5 });
  const b = await sampleFunction({ ...o, plan: truncatePlan(plan, 0.5) });
  assert.deepEqual(a.data, b.data);
  assert.equal(a.nfe, b.nfe);
});

Deno.test("img2img bad inputs are ConfigErrors naming the option", async () => {
  const plan = makePlan({ method: "ddim", steps: 10 });
  const base = { plan, n: 2, sampleShape: [2], eps: epsExact };
  const cases: [Record<string, unknown>, string][] = [
    [{ image: [1, 2, 3] }, "image"],
    [{ image: [1, NaN] }, "image[1]"],
    [{ image: [1, 2], strength: 0 }, "strength"],
    [{ image: [1, 2], strength: 2 }, "strength"],
    [{ strength: 0.5 }, "strength"],
    [{ image: [1, 2], init: [0, 0, 0, 0] }, "init"],
  ];
  for (const [opts, field] of cases) {
    await assert.rejects(
      sampleFunction({ ...base, ...opts }),
      (e) => e instanceof ConfigError && e.field === field,
      JSON.stringify(opts),
    );
  }
});

Deno.test({
  name: "img2img: wasm and webgpu start from the same noise and agree with the float64 loop",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const g = gaussianModel({ std: 0.5 });
    const model = await loadModel(g.bytes, { manifest: g.manifest });
    try {
      const plan = makePlan({ method: "tab", order: 2, steps: 10 });
      const o = { plan, n: 4, seed: 11, image: [0.8, -0.4], strength: 0.6 };
      const ref = await sampleFunction({ ...o, sampleShape: [2], eps: g.eps });
      const wasm = await sample({ ...o, model, backend: "wasm" });
      assert.ok(maxRelErr(wasm.data, ref.data) < 1e-4, `wasm rel ${maxRelErr(wasm.data, ref.data)}`);
      assert.equal(wasm.nfe, 6);
      if (hasGpu) {
        const gpu = await sample({ ...o, model, backend: "webgpu" });
        assert.ok(maxRelErr(gpu.data, ref.data) < 1e-4, `webgpu rel ${maxRelErr(gpu.data, ref.data)}`);
        assert.equal(gpu.gpu!.readbacks, 1);
      }
    } finally {
      await model.dispose();
    }
  },
});
