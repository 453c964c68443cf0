// What an x̂₀ preview costs on WebGPU: the same MNIST run with previews every step and without,
// best of 3 after a warm-up; the difference per preview is one combine kernel and one readback.
// Run: deno run -A bench/preview_cost.ts [n]

import { createBackend, loadModel, makePlan, sample } from "../mod.ts";

const n = Number(Deno.args[0] ?? 16);
const model = await loadModel(new URL("../models/mnist/", import.meta.url));
const backend = await createBackend("webgpu");
const plan = makePlan({ method: "unipc", order: 2, steps: 20 });
const time = async (every?: number) => {
  let best = Infinity, previews = 0;
  for (let i = 0; i < 4; i++) {
    previews = 0;
    const t0 = performance.now();
    await sample({
      model,
      plan,
      n,
      seed: i,
      backend,
      ...(every ? { preview: { every, onPreview: () => previews++ } } : {}),
    });
    if (i > 0) best = Math.min(best, performance.now() - t0);
  }
  return { best, previews };
};
const plain = await time();
const withPreview = await time(1);
console.log(`device: ${backend.description}; n = ${n}, 20 steps`);
console.log(`no previews: ${plain.best.toFixed(1)} ms; every step: ${withPreview.best.toFixed(1)} ms`);
console.log(`per preview: ${((withPreview.best - plain.best) / withPreview.previews).toFixed(2)} ms`);
await model.dispose();
