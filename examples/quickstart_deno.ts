// Quick start (Deno): 16 MNIST digits from tAB-DEIS (r = 3) in 10 network evaluations.
//
//     deno run --allow-read --allow-write --allow-env examples/quickstart_deno.ts

import { encodePng, loadModel, makePlan, sample, tileSamples } from "../mod.ts";

const model = await loadModel(new URL("../models/mnist/", import.meta.url));
try {
  const plan = makePlan({ sde: "vp-linear", method: "tab", order: 3, steps: 10, grid: "time-quadratic" });
  const result = await sample({
    model,
    plan,
    n: 16,
    seed: 42,
    backend: "auto", // WebGPU when an adapter exists, else WASM
    onProgress: (p) => console.error(`step ${p.step}/${p.steps} (t = ${p.t.toFixed(3)})`),
  });
  const png = encodePng(tileSamples(result.data, result.shape, { cols: 4, scale: 3 }));
  const out = await Deno.makeTempFile({ suffix: ".png" });
  await Deno.writeFile(out, png);
  console.log(`${result.nfe} NFE on ${result.backend} in ${result.timings.total.toFixed(0)} ms → ${out}`);
} finally {
  await model.dispose();
}
