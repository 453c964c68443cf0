// x̂₀ previews every k steps: values against the evaluations they come from, the data-prediction
// register of dpmpp, backend agreement, the one extra readback per preview on WebGPU, errors.

import assert from "node:assert/strict";
import { ConfigError, loadModel, makePlan, type Preview, sample, sampleFunction } from "../mod.ts";
import { probeAdapter } from "../src/backends/mod.ts";
import { gaussianModel } from "../testing/synthetic.ts";
import { maxRelErr } from "./helpers.ts";

const hasGpu = (await probeAdapter()) !== null;
const logAb = (t: number) => -(20 - 0.1) * t * t / 2 - 0.1 * t;
const alphaOf = (t: number) => Math.exp(logAb(t) / 2);
const sigmaOf = (t: number) => Math.sqrt(-Math.expm1(logAb(t)));
const den = (t: number) => alphaOf(t) ** 2 * 0.25 + sigmaOf(t) ** 2;
const epsExact = (x: Float64Array, t: number[]) => x.map((v, i) => sigmaOf(t[Math.floor(i / 2)]) * v / den(t[0]));

Deno.test("previews every 3 steps hold x/α − ρε of the most recent evaluation", async () => {
  const plan = makePlan({ method: "tab", order: 2, steps: 10 });
  const calls: { x: Float64Array; t: number }[] = [];
  const previews: Preview[] = [];
  const r = await sampleFunction({
    plan,
    n: 2,
    seed: 1,
    sampleShape: [2],
    eps: (x, t) => {
      calls.push({ x: x.slice(), t: t[0] });
      return epsExact(x, t);
    },
    preview: { every: 3, onPreview: (p) => previews.push(p) },
  });
  assert.deepEqual(previews.map((p) => p.step), [3, 6, 9, 10]);
  for (const p of previews) {
    const { x, t } = calls[p.step - 1];
    assert.equal(p.t, t);
    assert.equal(p.nfe, p.step);
    const e = epsExact(x, [t, t]);
    const want = x.map((v, i) => v / alphaOf(t) - (sigmaOf(t) / alphaOf(t)) * e[i]);
    assert.ok(maxRelErr(p.x0, want) < 1e-12, `step ${p.step}: rel ${maxRelErr(p.x0, want)}`);
  }
  // previews do not change the result
  const plain = await sampleFunction({ plan, n: 2, seed: 1, sampleShape: [2], eps: epsExact });
  assert.deepEqual(r.data, plain.data);
});

Deno.test("previews of a data-prediction program (dpmpp) are the stored x̂₀", async () => {
  const plan = makePlan({ method: "dpmpp", order: 2, steps: 6 });
  const calls: { x: Float64Array; t: number }[] = [];
  const previews: Preview[] = [];
  await sampleFunction({
    plan,
    seed: 2,
    sampleShape: [2],
    eps: (x, t) => {
      calls.push({ x: x.slice(), t: t[0] });
      return epsExact(x, t);
    },
    preview: { every: 2, onPreview: (p) => previews.push(p) },
  });
  assert.deepEqual(previews.map((p) => p.step), [2, 4, 6]);
  for (const p of previews) {
    const { x, t } = calls[p.step - 1];
    const want = x.map((v) => alphaOf(t) * 0.25 * v / den(t)); // x̂₀ = E[x₀ | x] of N(0, 0.25)
    assert.ok(maxRelErr(p.x0, want) < 1e-12, `step ${p.step}: rel ${maxRelErr(p.x0, want)}`);
  }
});

Deno.test("preview option errors name the option", async () => {
  const base = { plan: makePlan({ steps: 4 }), sampleShape: [2], eps: epsExact };
  for (
    const [preview, field] of [
      [{ every: 0, onPreview: () => {} }, "preview.every"],
      [{ every: 1.5, onPreview: () => {} }, "preview.every"],
      [{ every: 1 }, "preview.onPreview"],
      [null, "preview"],
    ] as const
  ) {
    await assert.rejects(
      sampleFunction({ ...base, preview: preview as never }),
      (e) => e instanceof ConfigError && e.field === field,
    );
  }
});

Deno.test({
  name: "previews on wasm and webgpu agree; on webgpu each costs one readback",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const g = gaussianModel({ std: 0.5 });
    const model = await loadModel(g.bytes, { manifest: g.manifest });
    try {
      const plan = makePlan({ method: "unipc", order: 2, steps: 8 });
      const got: Record<string, Preview[]> = {};
      const backends = hasGpu ? ["wasm", "webgpu"] as const : ["wasm"] as const;
      for (const backend of backends) {
        const list: Preview[] = got[backend] = [];
        const r = await sample({
          model,
          plan,
          n: 3,
          seed: 4,
          backend,
          preview: { every: 4, onPreview: (p) => list.push({ ...p, x0: p.x0.slice() }) },
        });
        assert.deepEqual(list.map((p) => p.step), [4, 8]);
        if (backend === "webgpu") assert.equal(r.gpu!.readbacks, 1 + list.length);
        // the last preview is x̂₀ at the last evaluation, close to the result at t = 1e-3
        assert.ok(maxRelErr(list[1].x0, r.data) < 0.05, `${backend}: ${maxRelErr(list[1].x0, r.data)}`);
      }
      if (hasGpu) {
        for (let i = 0; i < 2; i++) {
          const d = maxRelErr(got.webgpu[i].x0, got.wasm[i].x0);
          assert.ok(d < 1e-4, `preview ${i}: rel ${d}`);
        }
      }
    } finally {
      await model.dispose();
    }
  },
});
