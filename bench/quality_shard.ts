/**
 * One worker process of the quality benchmark (started by `runJobs` in `bench/quality_jobs.ts`):
 *
 *     deno run -A bench/quality_shard.ts SPEC.json WORKER_INDEX
 *
 * Runs its share of every job's chunks and writes each chunk's samples (raw float32) and cost (JSON)
 * next to the spec.
 *
 * @module
 */

import { loadModel, makePlan, modelPlanConfig, sample } from "../mod.ts";
import { ortWasm } from "../src/runtime/ort.ts";
import { gaussian } from "../src/backends/noise.ts";
import { chunkFile, chunkRange, chunksOf, type ShardSpec } from "./quality_jobs.ts";

const [specPath, index] = Deno.args;
const spec: ShardSpec = JSON.parse(await Deno.readTextFile(specPath));
const w = Number(index);
ortWasm.env.wasm.numThreads = spec.threads;

const model = await loadModel(spec.modelDir);
const sde = modelPlanConfig(model);
const D = model.sampleSize;
const nMax = Math.max(...spec.jobs.map((j) => j.n));
// The same x_T for every job: sample i always starts from the i-th slice of one Gaussian stream.
const xT = Float32Array.from(gaussian(spec.seed, nMax * D));

// This worker's own share (chunks are dealt round-robin, so shares differ by up to a chunk per job).
const plans = spec.jobs.map((job) => makePlan({ ...sde, ...job.config }));
const share = spec.jobs.reduce(
  (s, job, j) =>
    s + chunksOf(w, spec.workers, spec.chunk, job.n).reduce((t, c) => {
      const [lo, hi] = chunkRange(c, spec.chunk, job.n);
      return t + (hi - lo) * plans[j].nfe;
    }, 0),
  0,
);
const T0 = performance.now();
let done = 0; // sample-evaluations done by this worker
let lastReport = T0;
const report = (what: string) => {
  const s = (performance.now() - T0) / 1000;
  const left = Math.max(0, share - done) * (s / Math.max(done, 1));
  console.error(
    `[worker ${w}] ${what}: ${s.toFixed(0)} s, ` +
      `${(100 * done / share).toFixed(0)} % of its evaluations, about ${(left / 60).toFixed(0)} min left`,
  );
  lastReport = performance.now();
};
try {
  for (const [j, job] of spec.jobs.entries()) {
    const plan = plans[j];
    const chunks = chunksOf(w, spec.workers, spec.chunk, job.n);
    for (const [k, c] of chunks.entries()) {
      const [lo, hi] = chunkRange(c, spec.chunk, job.n);
      const t0 = performance.now();
      const r = await sample({
        model,
        plan,
        n: hi - lo,
        seed: spec.seed + 1 + lo, // stochastic methods: noise fixed per chunk, whatever the worker count
        init: xT.subarray(lo * D, hi * D),
        backend: spec.backend,
      });
      const ms = performance.now() - t0;
      const file = chunkFile(spec.outDir, job.key, c);
      const data = r.data as Float32Array;
      await Deno.writeFile(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      await Deno.writeTextFile(`${file}.json`, JSON.stringify({ ms, nfe: r.nfe }));
      done += (hi - lo) * r.nfe;
      // Long jobs (the 1000-step rows take half an hour) also report between chunks.
      if (k < chunks.length - 1 && performance.now() - lastReport > 60_000) {
        report(`${j + 1}/${spec.jobs.length} ${job.key}, chunk ${k + 1}/${chunks.length}`);
      }
    }
    report(`${j + 1}/${spec.jobs.length} ${job.key}`);
  }
} finally {
  await model.dispose();
}
