// Your own loop: the scheduler hands you every network evaluation of the plan (the input x and where:
// t, ᾱ, ρ, the model's time input) and takes the network's raw output back; the samples are the ones
// sample() gives for the same plan and seed. Here the network is onnxruntime-web run by hand on the
// shipped 2-D Gaussian-mixture model.
// Run: deno run -A examples/scheduler.ts

import * as ort from "onnxruntime-web";
import { createScheduler, makePlan, sample } from "../mod.ts";

const session = await ort.InferenceSession.create(await Deno.readFile("models/gmm-2d/model.onnx"));
const manifest = JSON.parse(await Deno.readTextFile("models/gmm-2d/model.json"));

async function myNet(x: Float32Array, modelTime: number): Promise<Float32Array> {
  const n = x.length / 2;
  const out = await session.run({
    x: new ort.Tensor("float32", x, [n, 2]),
    t: new ort.Tensor("float32", new Float32Array(n).fill(modelTime), [n]),
  });
  return out.eps.data as Float32Array;
}

// UniPC evaluates at its predictor and corrector points: loop over evaluations, not steps.
const s = await createScheduler({ plan: makePlan({ method: "unipc", order: 3, steps: 10 }), manifest, n: 4, seed: 1 });
for (const ev of s.evaluations) await s.step(await myNet(s.x, ev.modelTime), ev);
const r = s.result();
console.log(s.evaluations.length, "evaluations;", Array.from(r.data, (v) => v.toFixed(3)).join(" "));

// The same session handed to sample() directly gives the same samples.
const again = await sample({
  model: { session, manifest },
  plan: makePlan({ method: "unipc", order: 3, steps: 10 }),
  n: 4,
  seed: 1,
});
if (!again.data.every((v, i) => v === r.data[i])) throw new Error("the scheduler and sample() disagree");
s.dispose();
await session.release();
