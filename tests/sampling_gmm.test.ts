/**
 * End to end on the exact Gaussian-mixture ONNX models (float32): every backend's samples follow
 * the float64 loop over the exact ε (same seed, same x_T), and land on the exact ODE endpoint
 * within the method's own discretisation error.
 */
import assert from "node:assert/strict";
import { gpuBufferStats, probeAdapter } from "../src/backends/mod.ts";
import { loadModel } from "../src/model/mod.ts";
import { sample, sampleFunction } from "../src/sampling/mod.ts";
import { makePlan } from "../src/plan/make_plan.ts";
import type { Plan } from "../src/plan/types.ts";
import {
  gmmEpsBatch,
  gmmFromSpec,
  type GmmSpec,
  referenceSde,
  solveProbabilityFlow,
} from "../testing/reference/mod.ts";

const hasGpu = (await probeAdapter()) !== null;
const MODELS = new URL("../models/", import.meta.url);

Deno.test({
  name: "gmm-64d and gmm-image (float32 ONNX): backends follow the exact float64 loop and the exact ODE",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const sde = referenceSde({ name: "vp-linear", betaMin: 0.1, betaMax: 20 });
    for (const name of ["gmm-64d", "gmm-image"]) {
      const model = await loadModel(new URL(`${name}/`, MODELS));
      const g = gmmFromSpec(model.manifest.extra.gmm as GmmSpec);
      const exactEps = (x: Float64Array, t: number[]) => gmmEpsBatch(g, sde, x, t);
      const n = 6, seed = 17, D = model.sampleSize;
      try {
        const plan = makePlan({ method: "tab", order: 3, steps: 20 });
        const exactLoop = await sampleFunction({
          plan,
          n,
          seed,
          sampleShape: model.sampleShape,
          eps: exactEps,
        });
        // the exact ODE endpoint from the same x_T
        const x0 = await sampleFunction({
          plan: {
            ...plan,
            format: "deis-plan/1", // edited rows: the program is laid out from them
            program: undefined,
            steps: 1,
            rows: [[1, 0]],
            timesteps: plan.timesteps.slice(0, 2),
            alphaBar: plan.alphaBar.slice(0, 2),
            rho: plan.rho.slice(0, 2),
            evalTimes: plan.timesteps.slice(0, 1),
            nfe: 1,
          } as unknown as Plan,
          n,
          seed,
          sampleShape: model.sampleShape,
          eps: exactEps,
        });
        const ode = new Float64Array(n * D);
        for (let i = 0; i < n; i++) {
          const r = solveProbabilityFlow(
            (x, t) => gmmEpsBatch(g, sde, x, t),
            sde,
            x0.data.subarray(i * D, (i + 1) * D),
            {
              tStart: 1,
              tEnd: 1e-3,
            },
          );
          ode.set(r.x, i * D);
        }
        const rms = (a: ArrayLike<number>, b: ArrayLike<number>) => {
          let s = 0;
          for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
          return Math.sqrt(s / n);
        };
        const discretisation = rms(exactLoop.data, ode);
        assert.ok(
          discretisation < 0.05,
          `${name}: tAB3 float64 endpoint error ${discretisation}`,
        );
        for (
          const backend of hasGpu ? ["wasm", "native", "webgpu"] as const : ["wasm", "native"] as const
        ) {
          const r = await sample({ model, plan, n, seed, backend });
          const vsLoop = rms(r.data, exactLoop.data);
          assert.ok(
            vsLoop < 2e-5,
            `${name} on ${backend}: ${vsLoop} from the float64 loop`,
          );
          assert.ok(
            rms(r.data, ode) < discretisation + 1e-4,
            `${name} on ${backend}: endpoint error`,
          );
        }
      } finally {
        await model.dispose();
      }
    }
    assert.equal(gpuBufferStats().live, 0);
  },
});
