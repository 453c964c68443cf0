/**
 * `deno task demo`: the main job. An 8×8 grid of MNIST digits from tAB-DEIS (r = 3) at 10 network
 * evaluations on the `auto` backend (WebGPU on a hardware adapter, else native onnxruntime-node
 * where it loads, else WASM), written to `samples.png`.
 *
 *     deno task demo [--out samples.png] [--seed 0] [--backend auto|webgpu|wasm|native]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { main as sampleMain } from "./sample.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string", default: "samples.png" },
    seed: { type: "string", default: "0" },
    backend: { type: "string", default: "auto" },
  },
  strict: true,
});
const model = new URL("../../models/mnist", import.meta.url).pathname;
const started = performance.now();
const code = await sampleMain([
  "--model",
  model,
  "--method",
  "tab",
  "--order",
  "3",
  "--steps",
  "10",
  "--grid",
  "time-quadratic",
  "--n",
  "64",
  "--cols",
  "8",
  "--seed",
  values.seed!,
  "--backend",
  values.backend!,
  "--out",
  values.out!,
]);
if (code === 0) {
  const path = await Deno.realPath(values.out!);
  console.log(
    `samples: ${path} (${((performance.now() - started) / 1000).toFixed(1)} s including model load)`,
  );
}
Deno.exit(code);
