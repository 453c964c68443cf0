/**
 * `deno task demo`: the main job. Class-conditional MNIST digits from the latent pipeline
 * (`models/latent-mnist`: a diffusers-layout network with classifier-free guidance and a decoder),
 * tAB-DEIS (r = 3) at 10 network evaluations on the `auto` backend (WebGPU on a hardware adapter,
 * else native onnxruntime-node where it loads, else WASM), written to `samples.png`: one row per
 * digit class 0–9, or 64 of one digit with `--digit`.
 *
 *     deno task demo [--digit 0..9] [--guidance w] [--out samples.png] [--seed 0]
 *                    [--backend auto|webgpu|wasm|native] [--model models/mnist]
 *
 * `--model models/mnist` draws from the unconditional pixel-space network instead (an 8×8 grid).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { main as sampleMain } from "./sample.ts";
import { reportFailure } from "./fail.ts";
import { UsageError } from "./args.ts";

const LATENT = new URL("../../models/latent-mnist/model.json", import.meta.url).pathname;

/** The sample CLI's arguments for a demo invocation (exported for the tests). */
export function demoArgs(args: string[]): string[] {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        out: { type: "string", default: "samples.png" },
        seed: { type: "string", default: "0" },
        backend: { type: "string", default: "auto" },
        digit: { type: "string" },
        guidance: { type: "string" },
        model: { type: "string" },
      },
      strict: true,
    });
  } catch (e) {
    throw new UsageError(
      `${(e as Error).message.split("\n")[0]} (flags: --digit, --guidance, --out, --seed, --backend, --model)`,
    );
  }
  const { values } = parsed;
  const model = values.model ?? LATENT;
  const common = [
    "--method",
    "tab",
    "--order",
    "3",
    "--steps",
    "10",
    "--seed",
    values.seed!,
    "--backend",
    values.backend!,
  ];
  if (values.model !== undefined && values.digit === undefined && values.guidance === undefined) {
    // an unconditional model: the classic 8×8 grid on the time-quadratic grid
    return ["--model", model, ...common, "--grid", "time-quadratic", "--n", "64", "--cols", "8", "--out", values.out!];
  }
  let labels: number[];
  if (values.digit !== undefined) {
    const d = Number(values.digit);
    if (!/^\d$/.test(values.digit)) {
      throw new UsageError(`--digit: must be one digit 0..9 (got ${JSON.stringify(values.digit)})`);
    }
    labels = new Array(64).fill(d);
  } else labels = Array.from({ length: 80 }, (_, i) => Math.floor(i / 8));
  return [
    "--model",
    model,
    ...common,
    "--n",
    String(labels.length),
    "--cols",
    "8",
    "--cond",
    `class_labels=${labels.join(",")}`,
    // without --guidance the sample CLI takes the model's defaultGuidance (chosen with bench:quality:pipeline)
    ...(values.guidance !== undefined ? ["--guidance", values.guidance] : []),
    "--out",
    values.out!,
  ];
}

if (import.meta.main) {
  const started = performance.now();
  let code: number;
  let out = "samples.png";
  try {
    const args = demoArgs(Deno.args);
    out = args[args.indexOf("--out") + 1];
    code = await sampleMain(args);
  } catch (e) {
    code = reportFailure(e, (s) => Deno.stderr.writeSync(new TextEncoder().encode(s)));
  }
  if (code === 0) {
    const path = await Deno.realPath(out);
    console.log(`samples: ${path} (${((performance.now() - started) / 1000).toFixed(1)} s including model load)`);
  }
  Deno.exit(code);
}
