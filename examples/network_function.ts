// Your own network as a function: sample() calls it at every evaluation with a Float32Array batch
// and the point (t, ᾱ, ρ), and takes its raw output (here ε). Here the "network" is onnxruntime-web
// run by hand on the shipped 2-D Gaussian-mixture model; any async function works the same way.
// Run: deno run -A examples/network_function.ts

import * as ort from "onnxruntime-web";
import { makePlan, type NetworkFunction, sample } from "../mod.ts";

const session = await ort.InferenceSession.create(await Deno.readFile("models/gmm-2d/model.onnx"));

const network: NetworkFunction = async (x, point) => {
  const n = x.length / 2;
  const out = await session.run({
    x: new ort.Tensor("float32", x, [n, 2]),
    t: new ort.Tensor("float32", new Float32Array(n).fill(point.t), [n]), // this model takes t itself
  });
  return out.eps.data as Float32Array;
};

const plan = makePlan({ method: "unipc", order: 3, steps: 10 });
const r = await sample({ model: network, sampleShape: [2], prediction: "eps", plan, n: 4, seed: 1 });
console.log(r.backend, r.nfe, Array.from(r.data, (v) => v.toFixed(3)).join(" "));
await session.release();
