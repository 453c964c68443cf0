/**
 * `deno task bench:quality`: sample quality of every sampler on the shipped MNIST network.
 *
 * - Fréchet distance (FD, features of models/mnist-features) against the 2,000 held-out digits, for
 *   each method × NFE ∈ {5, 10, 15, 20, 50}, the same x_T for every method; plus the floor (held-out
 *   vs training digits) and a 1000-step DDIM row;
 * - endpoint RMSE of each deterministic method against a 1000-step tab3 solution from the same x_T
 *   (on the first 200 noises);
 * - tab3 on the time-quadratic, time-uniform and logrho grids;
 * - pictures: the same 8 noises decoded by each method at 5 and 10 NFE, and FD against NFE;
 * - the peers: DPM-Solver++ and UniPC (orders 2, 3) beside tab3 on the time-quadratic and logrho grids
 *   at NFE ∈ {5, 10, 15, 20}.
 *
 *     deno task bench:quality --only peers   # just the peers (and the RMSE reference), merged into the JSON
 *
 *     deno task bench:quality            # the full run (1,000 samples per cell)
 *     deno task bench:quality --quick    # a reduced run for CI
 *
 * Options: --samples N, --reference-steps S, --reference-samples R, --workers W (processes, default:
 * the core count), --threads T (onnxruntime threads per worker, default 1), --chunk C (samples per
 * network call), --model DIR, --out DIR (default bench/results), --backend wasm|webgpu|auto.
 *
 * Writes quality[-quick].{json,md}, quality_grid[-quick].{png,svg} and quality_fd[-quick].svg; the
 * markdown and the plot come from the JSON alone (`bench/quality_report.ts` re-renders them).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { encodePng, loadModel, makePlan, modelPlanConfig, type PlanConfig, tileSamples } from "../mod.ts";
import { ortWasm } from "../src/runtime/ort.ts";
import { encodeBase64 } from "../src/util/base64.ts";
import { loadMnist } from "../tools/train/mnist_data.ts";
import { stepsForNfe } from "./convergence.ts";
import { frechetFromMoments, moments } from "./frechet.ts";
import { type Job, runJobs } from "./quality_jobs.ts";
import { type QualityCell, qualityFdSvg, qualityMarkdown, type QualityResult } from "./quality_report.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    samples: { type: "string" },
    backend: { type: "string", default: "wasm" },
    "reference-steps": { type: "string" },
    "reference-samples": { type: "string" },
    model: { type: "string" },
    workers: { type: "string" },
    threads: { type: "string", default: "1" },
    chunk: { type: "string" },
    out: { type: "string" },
    only: { type: "string" },
  },
});
if (flags.only !== undefined && flags.only !== "peers") throw new RangeError(`--only must be "peers"`);
const onlyPeers = flags.only === "peers";
const quick = flags.quick!;
const N = positive("samples", flags.samples ?? (quick ? "32" : "1000"));
const REF_STEPS = positive("reference-steps", flags["reference-steps"] ?? (quick ? "50" : "1000"));
// The endpoint RMSE converges much faster in the sample count than FD does, so the 1000-step tab3
// reference (as expensive as all the 20-NFE cells together) is solved for the first 200 noises only.
const REF_N = Math.min(N, positive("reference-samples", flags["reference-samples"] ?? "200"));
const WORKERS = positive("workers", flags.workers ?? String(navigator.hardwareConcurrency));
const THREADS = positive("threads", flags.threads!);
const CHUNK = positive("chunk", flags.chunk ?? (quick ? "16" : "125"));
const NFES = quick ? [5, 10] : [5, 10, 15, 20, 50];
const backend = flags.backend as "wasm" | "webgpu" | "auto";
const SEED = 2026;
const suffix = quick ? "-quick" : "";
const resultsDir = flags.out
  ? new URL(`file://${await Deno.realPath(flags.out)}/`)
  : new URL("./results/", import.meta.url);
await Deno.mkdir(resultsDir, { recursive: true });
const modelDir = flags.model ?? new URL("../models/mnist/", import.meta.url).pathname;
const log = (s: string) => console.error(`[${((performance.now() - T0) / 1000).toFixed(0)} s] ${s}`);
const T0 = performance.now();

function positive(name: string, v: string): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1) throw new RangeError(`--${name} must be a positive integer, got ${v}`);
  return x;
}

interface Method {
  label: string;
  config: PlanConfig;
  stochastic?: boolean;
}
const METHODS: Method[] = [
  { label: "ddim", config: { method: "ddim" } },
  { label: "tab1", config: { method: "tab", order: 1 } },
  { label: "tab2", config: { method: "tab", order: 2 } },
  { label: "tab3", config: { method: "tab", order: 3 } },
  { label: "rhoab3", config: { method: "rhoab", order: 3 } },
  { label: "logrho3", config: { method: "logrho", order: 3 } },
  { label: "rhork-heun2", config: { method: "rhork", rk: "heun2" } },
  { label: "rhork-kutta3", config: { method: "rhork", rk: "kutta3" } },
  { label: "ipndm", config: { method: "ipndm", order: 3 } },
  { label: "euler", config: { method: "euler" } },
  { label: "ei-score", config: { method: "ei-score" } },
  { label: "sddim-1", config: { method: "ddim", lambda: 1 }, stochastic: true },
];
const GRIDS = ["time-quadratic", "time-uniform", "logrho"] as const;
/** Samplers people compare DEIS with, beside tab3 (and ddim from the main table). */
const PEERS: Method[] = [
  { label: "tab3", config: { method: "tab", order: 3 } },
  { label: "dpmpp2", config: { method: "dpmpp", order: 2 } },
  { label: "dpmpp3", config: { method: "dpmpp", order: 3 } },
  { label: "unipc2", config: { method: "unipc", order: 2 } },
  { label: "unipc3", config: { method: "unipc", order: 3 } },
];
const PEER_GRIDS = ["time-quadratic", "logrho"] as const;
const PEER_NFES = quick ? [5, 10] : [5, 10, 15, 20];

// Every sampling run, as jobs for the worker processes.
const jobs: Job[] = [
  { key: "reference", config: { method: "tab", order: 3, steps: REF_STEPS, grid: "time-quadratic" }, n: REF_N },
  { key: "ddim-long", config: { method: "ddim", steps: REF_STEPS, grid: "time-quadratic" }, n: N },
];
const cellKey = (label: string, nfe: number, grid: string = "time-quadratic") => `${label}.${grid}.${nfe}`;
if (onlyPeers) jobs.pop();
for (const m of onlyPeers ? [] : METHODS) {
  for (const nfe of NFES) {
    jobs.push({
      key: cellKey(m.label, nfe),
      config: { ...m.config, steps: stepsForNfe(m.config, nfe), grid: "time-quadratic" },
      n: N,
    });
  }
}
for (const grid of onlyPeers ? [] : GRIDS.slice(1)) {
  for (const nfe of NFES) {
    jobs.push({ key: cellKey("tab3", nfe, grid), config: { method: "tab", order: 3, steps: nfe, grid }, n: N });
  }
}
for (const m of PEERS) {
  for (const grid of PEER_GRIDS) {
    for (const nfe of PEER_NFES) {
      const key = cellKey(m.label, nfe, grid);
      if (!jobs.some((j) => j.key === key) && !(m.label === "tab3" && !onlyPeers && NFES.includes(nfe))) {
        jobs.push({ key, config: { ...m.config, steps: nfe, grid }, n: N });
      }
    }
  }
}

const model = await loadModel(modelDir);
const D = model.sampleSize;
const sde = modelPlanConfig(model);
const nfeOf = (job: Job) => makePlan({ ...sde, ...job.config }).nfe;
await model.dispose();
const totalEvaluations = jobs.reduce((s, j) => s + j.n * nfeOf(j), 0);
log(
  `${jobs.length} sampling jobs, ${(totalEvaluations / 1e6).toFixed(2)} M sample-evaluations, ` +
    `${WORKERS} worker process(es) × ${THREADS} onnxruntime thread(s), chunks of ${CHUNK}`,
);
const runs = await runJobs(jobs, {
  modelDir,
  seed: SEED,
  chunk: CHUNK,
  threads: THREADS,
  backend,
  workers: WORKERS,
  sampleSize: D,
});
const samplingSeconds = (performance.now() - T0) / 1000;
log(`sampling done in ${(samplingSeconds / 60).toFixed(1)} min`);

// Features of the classifier's penultimate layer.
ortWasm.env.wasm.numThreads = navigator.hardwareConcurrency;
const featureBytes = await Deno.readFile(new URL("../models/mnist-features/model.onnx", import.meta.url));
const featureSession = await ortWasm.InferenceSession.create(featureBytes, { executionProviders: ["wasm"] });
const F = 128;
async function features(images: Float32Array, count: number): Promise<Float32Array> {
  const out = new Float32Array(count * F);
  const B = 250;
  for (let i = 0; i < count; i += B) {
    const b = Math.min(B, count - i);
    const x = new ortWasm.Tensor("float32", images.subarray(i * D, (i + b) * D), [b, 1, 28, 28]);
    const r = await featureSession.run({ x });
    out.set(r.features.data as Float32Array, i * F);
  }
  return out;
}

const data = loadMnist();
const heldOut = moments(await features(data.heldOut.images, data.heldOut.count), F);
// FD is biased upwards at small sample sizes, so the floor uses as many real digits as each cell
// has generated ones: the first N training digits (the split's order is fixed) against the held-out set.
const floorCount = Math.min(N, data.train.count);
const train = moments(await features(data.train.images, floorCount), F);
const floor = frechetFromMoments(train, heldOut, F);
log(`floor FD (${floorCount} training digits vs the held-out digits): ${floor.toFixed(3)}`);

async function fd(images: Float32Array): Promise<number> {
  return frechetFromMoments(moments(await features(images, N), F), heldOut, F);
}

/** Root mean (over the first REF_N samples) of the squared per-sample L2 distance to the reference. */
function rmse(a: Float32Array, ref: Float32Array): number {
  let s = 0;
  for (let i = 0; i < REF_N * D; i++) s += (a[i] - ref[i]) ** 2;
  return Math.sqrt(s / REF_N);
}

const reference = runs.get("reference")!;

function cell(key: string, stochastic = false): Promise<QualityCell> {
  const r = runs.get(key)!;
  return fd(r.data).then((v) => ({
    nfe: r.nfe,
    fd: v,
    rmse: stochastic ? null : rmse(r.data, reference.data),
    ms: r.ms,
  }));
}
// The peers, label → grid → NFE (tab3's time-quadratic and logrho cells come from the grid table when it ran).
const peers: Record<string, Record<string, Record<number, QualityCell>>> = {};
for (const m of PEERS) {
  peers[m.label] = {};
  for (const grid of PEER_GRIDS) {
    peers[m.label][grid] = {};
    for (const nfe of PEER_NFES) {
      const key = runs.has(cellKey(m.label, nfe, grid)) ? cellKey(m.label, nfe, grid) : cellKey(m.label, nfe);
      peers[m.label][grid][nfe] = await cell(key);
    }
  }
  log(
    `${m.label}: FD ${
      PEER_GRIDS.map((g) => PEER_NFES.map((n) => peers[m.label][g][n].fd.toFixed(2)).join(", ")).join(" | ")
    }`,
  );
}
if (onlyPeers) {
  // Merge into the committed full result: every other cell stays as that run measured it.
  const file = new URL(`quality${suffix}.json`, resultsDir);
  const full = JSON.parse(await Deno.readTextFile(file)) as QualityResult;
  const merged: QualityResult = {
    ...full,
    peers,
    peersRun: {
      date: new Date().toISOString(),
      sampleEvaluations: totalEvaluations,
      wallSeconds: (performance.now() - T0) / 1000,
      workers: WORKERS,
    },
  };
  await Deno.writeTextFile(file, JSON.stringify(merged, null, 2) + "\n");
  const md = qualityMarkdown(merged);
  await Deno.writeTextFile(new URL(`quality${suffix}.md`, resultsDir), md);
  await featureSession.release();
  console.log(md);
  Deno.exit(0);
}
const ddimLongFd = await fd(runs.get("ddim-long")!.data);
log(`ddim ${REF_STEPS} steps: FD ${ddimLongFd.toFixed(3)}`);

const table: Record<string, Record<number, QualityCell>> = {};
const pictures: Record<string, Record<number, Float32Array>> = {};
for (const m of METHODS) {
  table[m.label] = {};
  pictures[m.label] = {};
  for (const nfe of NFES) {
    table[m.label][nfe] = await cell(cellKey(m.label, nfe), m.stochastic);
    if (nfe === 5 || nfe === 10) pictures[m.label][nfe] = runs.get(cellKey(m.label, nfe))!.data.slice(0, 8 * D);
  }
  log(`${m.label}: FD ${NFES.map((n) => table[m.label][n].fd.toFixed(2)).join(", ")}`);
}
const grids: Record<string, Record<number, QualityCell>> = {};
for (const grid of GRIDS) {
  grids[grid] = {};
  for (const nfe of NFES) {
    grids[grid][nfe] = grid === "time-quadratic" ? table.tab3[nfe] : await cell(cellKey("tab3", nfe, grid));
  }
}
await featureSession.release();

const result: QualityResult = {
  date: new Date().toISOString(),
  quick,
  samplesPerCell: N,
  backend,
  seed: SEED,
  referenceSteps: REF_STEPS,
  referenceSamples: REF_N,
  workers: WORKERS,
  threadsPerWorker: THREADS,
  sampleEvaluations: totalEvaluations,
  floorFd: floor,
  floorCount,
  ddimLongFd,
  table,
  grids,
  peers,
  samplingSeconds,
  wallSeconds: (performance.now() - T0) / 1000,
};
await Deno.writeTextFile(new URL(`quality${suffix}.json`, resultsDir), JSON.stringify(result, null, 2) + "\n");

// The picture: one row per method, 8 samples at 5 NFE | 8 samples at 10 NFE.
const rows = METHODS.filter((m) => pictures[m.label][5] && pictures[m.label][10]);
const gridData = new Float32Array(rows.length * 17 * D).fill(1);
rows.forEach((m, r) => {
  for (let j = 0; j < 8; j++) {
    gridData.set(pictures[m.label][5].subarray(j * D, (j + 1) * D), (r * 17 + j) * D);
    gridData.set(pictures[m.label][10].subarray(j * D, (j + 1) * D), (r * 17 + 9 + j) * D);
  }
});
const image = tileSamples(gridData, [rows.length * 17, 1, 28, 28], { cols: 17, scale: 2, gap: 2, background: 255 });
const png = encodePng(image);
await Deno.writeFile(new URL(`quality_grid${suffix}.png`, resultsDir), png);
const label = 110, top = 24;
const svg = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${image.width + label}" height="${
    image.height + top
  }" font-family="sans-serif" font-size="13">`,
  `<rect width="100%" height="100%" fill="white"/>`,
  `<text x="${label + image.width * 4 / 17}" y="16" text-anchor="middle">5 NFE</text>`,
  `<text x="${label + image.width * 13 / 17}" y="16" text-anchor="middle">10 NFE</text>`,
  ...rows.map((m, r) => `<text x="4" y="${top + 2 + r * 58 + 33}">${m.label}</text>`),
  `<image x="${label}" y="${top}" width="${image.width}" height="${image.height}" href="data:image/png;base64,${
    encodeBase64(png)
  }"/>`,
  `</svg>`,
].join("\n");
await Deno.writeTextFile(new URL(`quality_grid${suffix}.svg`, resultsDir), svg);

const markdown = qualityMarkdown(result);
await Deno.writeTextFile(new URL(`quality_fd${suffix}.svg`, resultsDir), qualityFdSvg(result));
await Deno.writeTextFile(new URL(`quality${suffix}.md`, resultsDir), markdown);
console.log(markdown);
