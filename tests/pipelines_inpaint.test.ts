// Inpainting (replacement of the known region after every step, fresh noise per step): an
// independent float64 loop, exactness of the known region, backend agreement, errors, GPU buffers.

import assert from "node:assert/strict";
import { AbortError, ConfigError, loadModel, makePlan, sample, sampleFunction } from "../mod.ts";
import { gaussian } from "../src/backends/noise.ts";
import { NOISE_STREAM } from "../src/plan/noise_streams.ts";
import { gpuBufferStats, probeAdapter } from "../src/backends/mod.ts";
import { gaussianModel } from "../testing/synthetic.ts";
import { maxRelErr } from "./helpers.ts";

const hasGpu = (await probeAdapter()) !== null;
const logAb = (t: number) => -(20 - 0.1) * t * t / 2 - 0.1 * t;
const alphaOf = (t: number) => Math.exp(logAb(t) / 2);
const sigmaOf = (t: number) => Math.sqrt(-Math.expm1(logAb(t)));
const D = 4;
const epsExact = (x: Float64Array, t: number[]) =>
  x.map((v, i) => {
    const ti = t[Math.floor(i / D)];
    return sigmaOf(ti) * v / (alphaOf(ti) ** 2 * 0.25 + sigmaOf(ti) ** 2);
  });

const image = [0.9, -0.6, 0.2, 0.5];
const mask = [1, 0, 1, 0.5];

Deno.test("inpainting with DDIM equals an independent float64 replacement loop", async () => {
  const plan = makePlan({ method: "ddim", steps: 8, grid: "time-uniform" });
  const n = 2, seed = 5, L = n * D;
  for (const denoiseFinal of [false, true]) {
    const r = await sampleFunction({ plan, n, seed, image, mask, sampleShape: [D], eps: epsExact, denoiseFinal });
    const ts = plan.timesteps, N = plan.steps;
    const z0 = gaussian(seed, L, NOISE_STREAM.img2img, 0);
    let x = Array.from({ length: L }, (_, i) => alphaOf(ts[0]) * image[i % D] + sigmaOf(ts[0]) * z0[i]);
    const known = (k: number, clean: boolean) => {
      const z = gaussian(seed, L, NOISE_STREAM.inpaint, k);
      x = x.map((v, i) => {
        const m = mask[i % D];
        const goal = clean ? image[i % D] : alphaOf(ts[k]) * image[i % D] + sigmaOf(ts[k]) * z[i];
        return m * goal + (1 - m) * v;
      });
    };
    for (let k = 0; k < N; k++) {
      const e = epsExact(Float64Array.from(x), new Array(n).fill(ts[k]));
      x = x.map((v, i) => {
        const x0 = (v - sigmaOf(ts[k]) * e[i]) / alphaOf(ts[k]);
        return alphaOf(ts[k + 1]) * x0 + sigmaOf(ts[k + 1]) * e[i];
      });
      known(k + 1, k + 1 === N && !denoiseFinal);
    }
    if (denoiseFinal) {
      const e = epsExact(Float64Array.from(x), new Array(n).fill(ts[N]));
      x = x.map((v, i) => (v - sigmaOf(ts[N]) * e[i]) / alphaOf(ts[N]));
      known(N + 1, true);
    }
    assert.ok(maxRelErr(r.data, x) < 1e-10, `denoiseFinal ${denoiseFinal}: rel ${maxRelErr(r.data, x)}`);
    for (let i = 0; i < L; i++) if (mask[i % D] === 1) assert.equal(r.data[i], image[i % D], `known element ${i}`);
  }
});

Deno.test("inpainting: a zero mask is img2img bit for bit; a one mask returns the image", async () => {
  const plan = makePlan({ method: "tab", order: 3, steps: 10 });
  const o = { plan, n: 3, seed: 9, image, strength: 0.7, sampleShape: [D], eps: epsExact };
  const free = await sampleFunction(o);
  const zero = await sampleFunction({ ...o, mask: [0, 0, 0, 0] });
  assert.deepEqual(zero.data, free.data);
  const all = await sampleFunction({ ...o, mask: [1, 1, 1, 1] });
  assert.deepEqual(Array.from(all.data), [...image, ...image, ...image]);
});

Deno.test("inpainting bad inputs are ConfigErrors naming the option", async () => {
  const plan = makePlan({ method: "ddim", steps: 5 });
  const base = { plan, n: 2, sampleShape: [D], eps: epsExact };
  const cases: [Record<string, unknown>, string][] = [
    [{ mask }, "mask"],
    [{ image, mask: [1, 0] }, "mask"],
    [{ image, mask: [1, 0, 2, 0] }, "mask[2]"],
    [{ image, mask: [1, 0, NaN, 0] }, "mask[2]"],
    [{ image, mask: "1010" }, "mask"],
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
  name: "inpainting on wasm and webgpu: the known region is the (float32) image, the rest agrees",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const g = gaussianModel({ std: 0.5, sampleShape: [D] });
    const model = await loadModel(g.bytes, { manifest: g.manifest });
    try {
      const plan = makePlan({ method: "dpmpp", order: 2, steps: 10 });
      const o = { plan, n: 3, seed: 21, image, mask, strength: 0.8 };
      const ref = await sampleFunction({ ...o, sampleShape: [D], eps: g.eps });
      const runs = [await sample({ ...o, model, backend: "wasm" })];
      if (hasGpu) {
        const before = gpuBufferStats().live;
        runs.push(await sample({ ...o, model, backend: "webgpu" }));
        assert.equal(gpuBufferStats().live, before, "webgpu buffers released");
        assert.equal(runs[1].gpu!.readbacks, 1, "masked pixels stay on the GPU");
        // an abort in the middle of a masked run releases every buffer too
        const ac = new AbortController();
        await assert.rejects(
          sample({ ...o, model, backend: "webgpu", signal: ac.signal, onProgress: (p) => p.step === 3 && ac.abort() }),
          AbortError,
        );
        assert.equal(gpuBufferStats().live, before, "webgpu buffers released after an abort");
      }
      for (const r of runs) {
        assert.ok(maxRelErr(r.data, ref.data) < 1e-4, `${r.backend}: rel ${maxRelErr(r.data, ref.data)}`);
        for (let i = 0; i < r.data.length; i++) {
          if (mask[i % D] === 1) assert.equal(r.data[i], Math.fround(image[i % D]), `${r.backend} element ${i}`);
        }
      }
    } finally {
      await model.dispose();
    }
  },
});
