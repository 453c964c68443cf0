/**
 * The cases of the bit-exactness regression: every method (and order, ρRK tableau) × λ ∈ {0, 1}
 * (λ > 0 exists for ddim only) × final denoising × backend (wasm and webgpu on the gmm-2d ONNX
 * model, cpu on its exact float64 ε).
 *
 * @module
 */

import { loadModel } from "../../src/model/mod.ts";
import { makePlan } from "../../src/plan/make_plan.ts";
import { sample, sampleFunction } from "../../src/sampling/mod.ts";
import { probeAdapter } from "../../src/backends/mod.ts";
import { gmmEpsBatch, gmmFromSpec, type GmmSpec, referenceSde } from "../../testing/reference/mod.ts";
import { encodeBase64 } from "../../src/util/base64.ts";

/** One case. */
export interface RegressionCase {
  id: string;
  backend: "wasm" | "webgpu" | "cpu";
  config: Record<string, unknown>;
  denoiseFinal: boolean;
}

const METHODS: Record<string, unknown>[] = [
  { method: "ddim" },
  { method: "ddim", lambda: 1 },
  ...["tab", "rhoab", "logrho", "ipndm"].flatMap((method) => [0, 1, 2, 3].map((order) => ({ method, order }))),
  ...["euler", "midpoint2", "heun2", "ralston3", "kutta3", "rk4"].map((rk) => ({ method: "rhork", rk })),
  { method: "euler" },
  { method: "ei-score" },
];

/** Every case, in a fixed order. */
export function regressionCases(): RegressionCase[] {
  const out: RegressionCase[] = [];
  for (const backend of ["cpu", "wasm", "webgpu"] as const) {
    for (const m of METHODS) {
      for (const denoiseFinal of [false, true]) {
        const config = { ...m, steps: 6, grid: "time-quadratic" };
        const id = `${backend}:${Object.entries(m).map(([k, v]) => `${k}=${v}`).join(",")}:denoise=${denoiseFinal}`;
        out.push({ id, backend, config, denoiseFinal });
      }
    }
  }
  return out;
}

const MODEL = new URL("../../models/gmm-2d/", import.meta.url);
let modelPromise: ReturnType<typeof loadModel> | undefined;
let gpu: boolean | undefined;

/** Runs one case; the base64 of its sample bytes, or undefined when the backend is unavailable. */
export async function runRegressionCase(c: RegressionCase): Promise<string | undefined> {
  modelPromise ??= loadModel(MODEL);
  const model = await modelPromise;
  const plan = makePlan(c.config as Parameters<typeof makePlan>[0]);
  const common = { plan, n: 4, seed: 5, denoiseFinal: c.denoiseFinal };
  let data: Float32Array | Float64Array;
  if (c.backend === "cpu") {
    const g = gmmFromSpec(model.manifest.extra.gmm as GmmSpec);
    const sde = referenceSde({ name: "vp-linear", betaMin: 0.1, betaMax: 20 });
    data = (await sampleFunction({
      ...common,
      sampleShape: model.sampleShape,
      eps: (x, t) => gmmEpsBatch(g, sde, x, t),
    })).data;
  } else {
    if (c.backend === "webgpu") {
      gpu ??= (await probeAdapter()) !== null;
      if (!gpu) return undefined;
    }
    data = (await sample({ ...common, model, backend: c.backend })).data;
  }
  return encodeBase64(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}
