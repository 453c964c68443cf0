/**
 * Sample a 2-D Gaussian-mixture model with DEIS and draw the samples as text.
 *
 *     XDG_RUNTIME_DIR=/tmp deno run -A examples/sampling_basic.ts [backend] [method] [steps] [n]
 *
 * e.g. `deno run -A examples/sampling_basic.ts webgpu tab 10 500`. backend: auto (default), webgpu,
 * wasm; method: any plan method (default tab, order 3).
 *
 * @module
 */

import { loadModel } from "../src/model/mod.ts";
import { sample } from "../src/sampling/mod.ts";
import { makePlan } from "../src/plan/make_plan.ts";
import type { MethodName } from "../src/plan/types.ts";

const [backend = "auto", method = "tab", stepsArg = "10", nArg = "500"] = Deno.args;
const steps = Number(stepsArg), n = Number(nArg);

const model = await loadModel(new URL("../models/gmm-2d/", import.meta.url));
try {
  const plan = makePlan({
    method: method as MethodName,
    steps,
    ...(method === "rhork" ? { rk: "heun2" } : {}),
  });
  const result = await sample({
    model,
    plan,
    n,
    seed: 2024,
    backend: backend as "auto" | "webgpu" | "wasm",
    onProgress: (p) =>
      Deno.stdout.writeSync(
        new TextEncoder().encode(
          `\rstep ${p.step}/${p.steps}  t = ${p.t.toFixed(4)}`,
        ),
      ),
  });
  console.log(
    `\n${n} samples of ${model.name} with ${plan.method} (${plan.nfe} NFE) on ${result.backend}`,
  );
  if (result.backendReason) console.log(`  backend: ${result.backendReason}`);
  const t = result.timings;
  console.log(
    `  ${t.total.toFixed(0)} ms total: network ${t.network.toFixed(0)}, update ${t.update.toFixed(0)}, readback ${
      t.readback.toFixed(0)
    }` +
      (result.gpu ? `; GPU peak ${result.gpu.peakBytes} bytes, ${result.gpu.readbacks} readback` : ""),
  );

  // text scatter plot over the model's data range
  const [lo, hi] = model.manifest.dataRange ?? [-2, 2];
  const W = 60, H = 24;
  const grid = Array.from({ length: H }, () => new Array(W).fill(0));
  for (let i = 0; i < n; i++) {
    const cx = Math.floor(((result.data[2 * i] - lo) / (hi - lo)) * W);
    const cy = Math.floor(((hi - result.data[2 * i + 1]) / (hi - lo)) * H);
    if (cx >= 0 && cx < W && cy >= 0 && cy < H) grid[cy][cx]++;
  }
  const shade = " .:-=+*#%@";
  for (const row of grid) {
    console.log("  |" + row.map((c) => shade[Math.min(9, c)]).join("") + "|");
  }

  // compare with the mixture's weights: nearest component of each sample
  const gmm = model.manifest.extra.gmm as {
    weights: number[];
    means: number[][];
  };
  const counts = new Array(gmm.weights.length).fill(0);
  for (let i = 0; i < n; i++) {
    let best = 0, bd = Infinity;
    gmm.means.forEach((m, k) => {
      const d = (result.data[2 * i] - m[0]) ** 2 +
        (result.data[2 * i + 1] - m[1]) ** 2;
      if (d < bd) [bd, best] = [d, k];
    });
    counts[best]++;
  }
  const total = gmm.weights.reduce((a, b) => a + b, 0);
  console.log("  component   weight   sampled");
  gmm.weights.forEach((w, k) =>
    console.log(
      `  ${k}           ${(w / total).toFixed(3)}    ${(counts[k] / n).toFixed(3)}`,
    )
  );
} finally {
  await model.dispose();
}
