// A diffusers-layout latent model with class conditioning, guidance and a decoder (manifest deis-model/2):
// one of each digit 0–9, decoded on the same backend, written to a PNG.
//
//   deno run --allow-read --allow-env --allow-ffi examples/latent_mnist.ts [--write] (--write also needs --allow-write=digits_0_9.png)
import { encodePng, loadModel, makePlan, modelPlanConfig, sample, tileSamples } from "../mod.ts";

const model = await loadModel(new URL("../models/latent-mnist/model.json", import.meta.url));
try {
  // the scheduler config beside the manifest gives the ᾱ table, v-prediction and the diffusers grid
  const plan = makePlan(modelPlanConfig(model, { method: "tab", order: 3, steps: 10 }));
  const r = await sample({
    model,
    plan,
    n: 10,
    seed: 1,
    conditioning: { class_labels: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }, // one value per sample
    guidance: model.manifest.defaultGuidance, // 1.25: the model's recommended scale
  });
  console.log(
    `${r.backend}: latents ${r.shape}, decoded ${r.decodedShape}, ${r.nfe} NFE, ${r.timings.total.toFixed(0)} ms`,
  );
  const range = model.manifest.decoder!.dataRange ?? [-1, 1];
  const png = encodePng(tileSamples(r.decoded!, r.decodedShape!, { cols: 10, scale: 2, range }));
  if (Deno.args.includes("--write")) await Deno.writeFile("digits_0_9.png", png);
  console.log(`a ${png.length}-byte PNG (pass --write to save it as digits_0_9.png)`);
} finally {
  await model.dispose();
}
