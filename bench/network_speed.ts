/**
 * How long one network evaluation of a model takes on onnxruntime-web's WASM backend, per sample:
 * the number that sets the cost of every sampling run and of the quality benchmark.
 *
 *     deno run -A bench/network_speed.ts [--model models/mnist] [--threads 1] [--batch 125]
 *         [--seconds 10] [--processes 1]
 *
 * `--model` is a model directory (model.json + its ONNX file). With `--processes P > 1` it runs P
 * copies of itself side by side and reports each one and their combined throughput, which is how
 * `bench/quality.ts` spends the cores (one process per core, one thread each).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ortWasm } from "../src/runtime/ort.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string", default: "models/mnist" },
    threads: { type: "string", default: "1" },
    batch: { type: "string", default: "125" },
    seconds: { type: "string", default: "10" },
    processes: { type: "string", default: "1" },
  },
});

function positive(name: string, v: string, integer = true): number {
  const x = Number(v);
  if (!(x > 0) || !Number.isFinite(x) || (integer && !Number.isInteger(x))) {
    throw new RangeError(`--${name} must be a positive ${integer ? "integer" : "number"}, got ${v}`);
  }
  return x;
}
const threads = positive("threads", flags.threads!);
const batch = positive("batch", flags.batch!);
const seconds = positive("seconds", flags.seconds!, false);
const processes = positive("processes", flags.processes!);

/** Milliseconds per sample-evaluation, measured in this process. */
async function measure(): Promise<number> {
  const dir = flags.model!.replace(/\/$/, "");
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
  ortWasm.env.wasm.numThreads = threads;
  const session = await ortWasm.InferenceSession.create(await Deno.readFile(`${dir}/${manifest.onnx}`), {
    executionProviders: ["wasm"],
  });
  try {
    const size = manifest.sampleShape.reduce((a: number, b: number) => a * b, 1);
    const x = new Float32Array(batch * size);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin(i) * 1.5; // any data: the cost does not depend on it
    const feeds = {
      [manifest.inputs.x]: new ortWasm.Tensor("float32", x, [batch, ...manifest.sampleShape]),
      [manifest.inputs.t]: new ortWasm.Tensor("float32", new Float32Array(batch).fill(500), [batch]),
    };
    await session.run(feeds); // warm-up
    let runs = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      await session.run(feeds);
      runs++;
    }
    return (performance.now() - t0) / (runs * batch);
  } finally {
    await session.release();
  }
}

if (processes === 1) {
  const ms = await measure();
  console.log(JSON.stringify({ model: flags.model, threads, batch, msPerSampleEval: ms }));
} else {
  const args = ["run", "-A", new URL(import.meta.url).pathname, "--model", flags.model!, "--threads", String(threads)];
  args.push("--batch", String(batch), "--seconds", String(seconds));
  const children = Array.from(
    { length: processes },
    () => new Deno.Command(Deno.execPath(), { args, stdout: "piped" }).output(),
  );
  const outs = await Promise.all(children);
  const each = outs.map((o, i) => {
    if (!o.success) throw new Error(`process ${i} failed with code ${o.code}`);
    return JSON.parse(new TextDecoder().decode(o.stdout)).msPerSampleEval as number;
  });
  const combined = 1 / each.reduce((s, ms) => s + 1 / ms, 0);
  console.log(JSON.stringify({ model: flags.model, threads, batch, processes, msPerSampleEval: each, combined }));
}
