/**
 * Runs the quality benchmark's sampling jobs in parallel worker processes.
 *
 * onnxruntime's WASM backend scales poorly with threads on this network (2 threads: 1.25× one thread),
 * while two processes with one thread each reach about 1.7×. So the samples of every job are cut into
 * fixed chunks of `chunk` samples and the chunks are dealt to `workers` processes
 * (`bench/quality_shard.ts`), each with its own onnxruntime instance. A chunk's result depends only on
 * the chunk (its slice of the shared x_T, and for stochastic methods the seed `seed + first index`),
 * never on the number of workers, so any worker count gives the same samples.
 *
 * @module
 */

import type { PlanConfig } from "../mod.ts";

/** One sampling run of the benchmark: `n` samples of `config` (merged over the model's SDE settings). */
export interface Job {
  /** A file-name-safe key. */
  key: string;
  config: PlanConfig;
  n: number;
}

/** The samples of a job and its cost. */
export interface JobResult {
  data: Float32Array;
  /** Network evaluations per sample. */
  nfe: number;
  /** Sampling time summed over the job's chunks (CPU-process milliseconds, not wall time). */
  ms: number;
}

/** What a worker process is told (written as JSON, path passed on the command line). */
export interface ShardSpec {
  jobs: Job[];
  modelDir: string;
  seed: number;
  chunk: number;
  threads: number;
  backend: "wasm" | "webgpu" | "auto";
  outDir: string;
  workers: number;
}

/** Chunk `c` of a job with `n` samples: the half-open sample range `[lo, hi)`. */
export function chunkRange(c: number, chunk: number, n: number): [number, number] {
  return [c * chunk, Math.min(n, (c + 1) * chunk)];
}

/** The chunks of a job with `n` samples that worker `w` of `workers` runs (dealt round-robin). */
export function chunksOf(w: number, workers: number, chunk: number, n: number): number[] {
  const out: number[] = [];
  for (let c = w; c * chunk < n; c += workers) out.push(c);
  return out;
}

/** File holding chunk `c` of job `key`. */
export function chunkFile(outDir: string, key: string, c: number): string {
  return `${outDir}/${key}.${c}.f32`;
}

/**
 * Runs `jobs` in `workers` processes and collects the samples. `sampleSize` is the number of values
 * per sample. Worker progress goes to stderr; a failing worker fails the whole run.
 */
export async function runJobs(
  jobs: Job[],
  options: Omit<ShardSpec, "jobs" | "outDir"> & { sampleSize: number },
): Promise<Map<string, JobResult>> {
  const outDir = await Deno.makeTempDir({ prefix: "deis-quality-" });
  try {
    const spec: ShardSpec = {
      jobs,
      modelDir: options.modelDir,
      seed: options.seed,
      chunk: options.chunk,
      threads: options.threads,
      backend: options.backend,
      outDir,
      workers: options.workers,
    };
    const specPath = `${outDir}/spec.json`;
    await Deno.writeTextFile(specPath, JSON.stringify(spec));
    const shard = new URL("./quality_shard.ts", import.meta.url).pathname;
    const children = Array.from({ length: options.workers }, (_, w) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", shard, specPath, String(w)],
        stdout: "inherit",
        stderr: "inherit",
      }).spawn());
    const statuses = await Promise.all(children.map((c) => c.status));
    const failed = statuses.findIndex((s) => !s.success);
    if (failed >= 0) throw new Error(`quality worker ${failed} exited with code ${statuses[failed].code}`);

    const results = new Map<string, JobResult>();
    const D = options.sampleSize;
    for (const job of jobs) {
      const data = new Float32Array(job.n * D);
      let ms = 0, nfe = -1;
      for (let c = 0; c * options.chunk < job.n; c++) {
        const [lo, hi] = chunkRange(c, options.chunk, job.n);
        const bytes = await Deno.readFile(chunkFile(outDir, job.key, c));
        const part = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
        if (part.length !== (hi - lo) * D) throw new Error(`chunk ${c} of ${job.key}: wrong size`);
        data.set(part, lo * D);
        const meta = JSON.parse(await Deno.readTextFile(`${chunkFile(outDir, job.key, c)}.json`));
        ms += meta.ms;
        nfe = meta.nfe;
      }
      results.set(job.key, { data, nfe, ms });
    }
    return results;
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
}
