/**
 * Counter-based noise: Philox4x32-10 known answers, Gaussian statistics, independence from the
 * batch size, and the same noise on the GPU (WGSL), on the WASM backend and in float64 on the CPU.
 */
import assert from "node:assert/strict";
import {
  fillGaussian,
  gaussian,
  gpuBufferStats,
  NOISE_STREAM,
  philox4x32,
  probeAdapter,
  seedWords,
} from "../src/backends/mod.ts";
import { loadModel } from "../src/model/mod.ts";
import { gaussianModel } from "../testing/synthetic.ts";
import { sample, sampleFunction } from "../src/sampling/mod.ts";
import { makePlan } from "../src/plan/make_plan.ts";
import type { Plan } from "../src/plan/types.ts";

const hasGpu = (await probeAdapter()) !== null;

Deno.test("philox4x32-10 known-answer vectors (Random123)", () => {
  const o = new Uint32Array(4);
  philox4x32(0, 0, 0, 0, 0, 0, o);
  assert.deepEqual([...o], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
  const f = 0xffffffff;
  philox4x32(f, f, f, f, f, f, o);
  assert.deepEqual([...o], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
});

Deno.test("seed words split a 53-bit seed", () => {
  assert.deepEqual(seedWords(0), [0, 0]);
  assert.deepEqual(seedWords(2 ** 32 + 5), [5, 1]);
  assert.deepEqual(seedWords(Number.MAX_SAFE_INTEGER), [0xffffffff, 0x1fffff]);
  assert.throws(() => seedWords(-1), RangeError);
  assert.throws(() => seedWords(1.5), RangeError);
});

Deno.test("gaussian noise: moments, streams differ, offsets and batch size do not change it", () => {
  const n = 200_000;
  const z = gaussian(123, n);
  let m1 = 0, m2 = 0, m4 = 0;
  for (const v of z) {
    m1 += v;
    m2 += v * v;
    m4 += v ** 4;
  }
  m1 /= n;
  m2 /= n;
  m4 /= n;
  assert.ok(Math.abs(m1) < 5 / Math.sqrt(n), `mean ${m1}`);
  assert.ok(Math.abs(m2 - 1) < 5 * Math.sqrt(2 / n), `variance ${m2}`);
  assert.ok(Math.abs(m4 - 3) < 0.1, `fourth moment ${m4}`);
  // lag-1 correlation
  let c = 0;
  for (let i = 1; i < n; i++) c += z[i] * z[i - 1];
  assert.ok(Math.abs(c / n) < 5 / Math.sqrt(n), `lag-1 ${c / n}`);

  const a = gaussian(123, 10, NOISE_STREAM.step, 0);
  const b = gaussian(123, 10, NOISE_STREAM.step, 1);
  assert.notDeepEqual([...a], [...b]);
  assert.notDeepEqual([...a], [...z.slice(0, 10)]);
  // element e is the same whatever the offset of the request
  const part = new Float64Array(7);
  fillGaussian(part, 123, NOISE_STREAM.prior, 0, 1, 5);
  assert.deepEqual([...part], [...z.slice(5, 12)]);
});

/**
 * A 1-step plan whose update keeps x_T (row [1, 0]) or replaces it by step noise (row [0, 0], noise 1):
 * edited rows, so a `deis-plan/1` plan (its program is laid out from the rows).
 */
function identityPlan(kind: "prior" | "step"): Plan {
  const p = { ...makePlan({ method: "ddim", steps: 1 }), format: "deis-plan/1", program: undefined };
  return (kind === "prior"
    ? { ...p, rows: [[1, 0]] }
    : { ...p, rows: [[0, 0]], lambda: 1, noise: [1] }) as unknown as Plan;
}

Deno.test({
  name: "same seed ⇒ same noise on webgpu, wasm, native and the float64 CPU loop (prior and step streams)",
  ignore: !hasGpu,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const syn = gaussianModel({ name: "noise", sampleShape: [3, 5, 7] });
    const model = await loadModel(syn.bytes, { manifest: syn.manifest });
    try {
      for (const kind of ["prior", "step"] as const) {
        const plan = identityPlan(kind);
        for (const seed of [0, 77, 2 ** 40 + 3]) {
          const n = 40; // 4200 values
          const gpu = await sample({ model, plan, n, seed, backend: "webgpu" });
          const wasm = await sample({ model, plan, n, seed, backend: "wasm" });
          const native = await sample({ model, plan, n, seed, backend: "native" });
          assert.deepEqual(native.data, wasm.data, "native and wasm share the CPU noise and update bit for bit");
          const cpu = await sampleFunction({
            plan,
            n,
            seed,
            sampleShape: [3, 5, 7],
            eps: syn.eps,
          });
          const exact = gaussian(
            seed,
            n * 105,
            kind === "prior" ? NOISE_STREAM.prior : NOISE_STREAM.step,
            0,
          );
          let dGpu = 0, dWasm = 0, dCpu = 0;
          for (let i = 0; i < exact.length; i++) {
            dGpu = Math.max(dGpu, Math.abs(gpu.data[i] - exact[i]));
            dWasm = Math.max(dWasm, Math.abs(wasm.data[i] - exact[i]));
            dCpu = Math.max(dCpu, Math.abs(cpu.data[i] - exact[i]));
          }
          assert.equal(dCpu, 0, "the float64 loop returns the noise itself");
          assert.ok(
            dWasm <= 6e-7 * 6,
            `wasm: float32 rounding only (${dWasm})`,
          );
          assert.ok(
            dGpu <= 1e-6,
            `${kind} seed ${seed}: GPU noise differs by ${dGpu}`,
          );
        }
      }
      // sample i's noise does not depend on the batch size
      const plan = identityPlan("prior");
      const a = await sample({ model, plan, n: 3, seed: 9, backend: "webgpu" });
      const b = await sample({ model, plan, n: 5, seed: 9, backend: "webgpu" });
      assert.deepEqual([...a.data], [...b.data.slice(0, a.data.length)]);
    } finally {
      await model.dispose();
    }
    assert.equal(gpuBufferStats().live, 0);
  },
});
