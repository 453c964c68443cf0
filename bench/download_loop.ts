/**
 * The baseline of the resident-vs-download comparisons in the benchmarks.
 *
 * @module
 */

import type { Model, Plan } from "../mod.ts";
import { ortWebGpu } from "../src/runtime/ort.ts";
import { gaussian } from "../src/backends/noise.ts";

/**
 * The download-every-step loop that the GPU-resident loop is compared with (the design of existing
 * JavaScript ports): ε comes back to the CPU after each call and the tAB/DDIM row update runs in JS.
 * Used by bench/sampling.ts and bench/gpu/bench.ts.
 */
export async function downloadLoop(
  model: Model,
  session: ortWebGpu.InferenceSession,
  plan: Plan,
  n: number,
): Promise<{ total: number; network: number; update: number }> {
  const m = model.manifest;
  let x = Float32Array.from(gaussian(1, n * model.sampleSize));
  const ring: Float32Array[] = [];
  let network = 0, update = 0;
  const t0 = performance.now();
  for (let k = 0; k < plan.steps; k++) {
    const tIn = new Float32Array(n).fill(
      model.timeInput({ t: plan.timesteps[k], alphaBar: plan.alphaBar[k], rho: plan.rho[k] }),
    );
    const n0 = performance.now();
    const out = await session.run({
      [m.inputs.x]: new ortWebGpu.Tensor("float32", x, [n, ...m.sampleShape]),
      [m.inputs.t]: new ortWebGpu.Tensor("float32", tIn, [n]),
    });
    const eps = (out[m.output].data as Float32Array).slice();
    const u0 = performance.now();
    network += u0 - n0;
    ring.unshift(eps);
    if (ring.length > 4) ring.pop();
    const row = plan.rows![k];
    const next = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      let v = row[0] * x[i];
      for (let j = 0; j + 1 < row.length && j < ring.length; j++) v += row[j + 1] * ring[j][i];
      next[i] = v;
    }
    x = next;
    update += performance.now() - u0;
  }
  return { total: performance.now() - t0, network, update };
}
