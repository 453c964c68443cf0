/**
 * `deno task bench:quality:pipeline`: the class-conditional latent MNIST pipeline
 * (models/latent-mnist: a diffusers-layout network with classifier-free guidance and a decoder).
 *
 * For each sampler × NFE ∈ {5, 10, 20} × guidance w ∈ {1, 1.25, 1.5, 2, 4}, N digits (N/10 of each class,
 * the same x_T for every cell) are drawn, decoded on the same backend, and measured with the
 * classifier of models/mnist-features: the Fréchet distance of its 128-d features against the 2,000
 * held-out digits (the same FD as bench:quality), and the share of digits it assigns to the
 * requested class. The floor row is the FD of N real training digits.
 *
 *     deno task bench:quality:pipeline [--samples 2000] [--backend native|wasm|webgpu|auto]
 *                                      [--model models/latent-mnist/model.json] [--quick]
 *
 * Writes bench/results/quality_pipeline[-quick].{json,md} and a picture of the chosen cell
 * (tab3, 10 NFE, the model's `defaultGuidance`): quality_pipeline_grid[-quick].png.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { encodePng, loadModel, makePlan, modelPlanConfig, type PlanConfig, sample, tileSamples } from "../mod.ts";
import { classifyDigits, FEATURES } from "../testing/mnist_classifier.ts";
import { loadMnist } from "../tools/train/mnist_data.ts";
import { stepsForNfe } from "./convergence.ts";
import { frechetFromMoments, moments } from "./frechet.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    samples: { type: "string" },
    backend: { type: "string", default: "auto" },
    model: { type: "string" },
    chunk: { type: "string", default: "250" },
    out: { type: "string" },
  },
});
const quick = flags.quick!;
// 2,000 per cell, as many as the held-out digits FD compares with (FD is biased upwards at small N)
const N = Number(flags.samples ?? (quick ? "40" : "2000"));
if (!Number.isInteger(N) || N < 10 || N % 10 !== 0) {
  throw new RangeError(`--samples must be a multiple of 10 (got ${N})`);
}
const CHUNK = Number(flags.chunk);
const NFES = quick ? [5, 10] : [5, 10, 20];
const GUIDANCE = quick ? [1, 2] : [1, 1.25, 1.5, 2, 4];
const SEED = 2026;
const backend = flags.backend as "auto" | "native" | "wasm" | "webgpu";
const modelPath = flags.model ?? new URL("../models/latent-mnist/model.json", import.meta.url).pathname;
const resultsDir = flags.out ? `${flags.out}/` : new URL("./results/", import.meta.url).pathname;
await Deno.mkdir(resultsDir, { recursive: true });
const suffix = quick ? "-quick" : "";
const T0 = performance.now();
const log = (s: string) => console.error(`[${((performance.now() - T0) / 1000).toFixed(0)} s] ${s}`);

const SAMPLERS: { label: string; config: PlanConfig }[] = [
  { label: "tab3", config: { method: "tab", order: 3 } },
  { label: "ddim", config: { method: "ddim" } },
  { label: "dpmpp2", config: { method: "dpmpp", order: 2 } },
  { label: "unipc3", config: { method: "unipc", order: 3 } },
];

const F = FEATURES, D = 784;

const data = loadMnist();
const heldOut = moments((await classifyDigits(data.heldOut.images, data.heldOut.count)).features, F);
const floorCount = Math.min(N, data.train.count);
const floor = frechetFromMoments(
  moments((await classifyDigits(data.train.images, floorCount)).features, F),
  heldOut,
  F,
);
log(`floor FD (${floorCount} training digits vs the held-out digits): ${floor.toFixed(3)}`);

const model = await loadModel(modelPath);
const DEFAULT_GUIDANCE = model.manifest.defaultGuidance ?? 2;
// the picture shows the measured guidance nearest to the model's default (the default itself in the full run)
const PICTURE_W = GUIDANCE.reduce((a, b) => Math.abs(b - DEFAULT_GUIDANCE) < Math.abs(a - DEFAULT_GUIDANCE) ? b : a);
if (!model.manifest.decoder || model.manifest.extraInputs[0]?.name !== "class_labels") {
  throw new Error(`${modelPath}: expected a class-conditional model with a decoder`);
}
// digit i of the batch asks for class i mod 10: every chunk and every cell is class-balanced
const labels = Array.from({ length: N }, (_, i) => i % 10);

interface Cell {
  sampler: string;
  nfe: number;
  guidance: number;
  steps: number;
  fd: number;
  accuracy: number;
  seconds: number;
}
const cells: Cell[] = [];
let picture: Float32Array | undefined;
let backendName = "";
for (const s of SAMPLERS) {
  for (const nfe of NFES) {
    const steps = stepsForNfe(s.config, nfe);
    const plan = makePlan(modelPlanConfig(model, { ...s.config, steps }));
    for (const w of GUIDANCE) {
      const t0 = performance.now();
      const images = new Float32Array(N * D);
      for (let i = 0; i < N; i += CHUNK) {
        const n = Math.min(CHUNK, N - i);
        // one seed per chunk: cell (sampler, nfe, w) sees the same x_T for the same digits
        const r = await sample({
          model,
          plan,
          n,
          seed: SEED + i,
          backend,
          conditioning: { class_labels: labels.slice(i, i + n) },
          guidance: w,
        });
        backendName = r.backend;
        images.set(r.decoded!, i * D);
      }
      const seconds = (performance.now() - t0) / 1000;
      const { features, labels: got } = await classifyDigits(images, N);
      let right = 0;
      for (let i = 0; i < N; i++) if (got[i] === labels[i]) right++;
      const cell = {
        sampler: s.label,
        nfe: plan.nfe,
        guidance: w,
        steps,
        fd: frechetFromMoments(moments(features, F), heldOut, F),
        accuracy: right / N,
        seconds,
      };
      cells.push(cell);
      log(
        `${s.label} nfe ${plan.nfe} w ${w}: FD ${cell.fd.toFixed(2)}, class accuracy ${
          (100 * cell.accuracy).toFixed(1)
        } % ` +
          `(${seconds.toFixed(1)} s on ${backendName})`,
      );
      if (s.label === "tab3" && nfe === 10 && w === PICTURE_W) picture = images;
    }
  }
}
await model.dispose();

const load = await Deno.readTextFile("/proc/loadavg").then((t) => t.split(" ").slice(0, 3).join(" ")).catch(() => "?");
const result = {
  date: new Date().toISOString(),
  model: modelPath.replace(/^.*\/models\//, "models/"),
  samples: N,
  backend: backendName,
  loadAverage: load,
  floor,
  defaultGuidance: DEFAULT_GUIDANCE,
  command: `deno task bench:quality:pipeline${quick ? " --quick" : ""}`,
  cells,
};
await Deno.writeTextFile(`${resultsDir}quality_pipeline${suffix}.json`, JSON.stringify(result, null, 1) + "\n");

const md = [
  `# Latent MNIST pipeline: FD and class accuracy`,
  "",
  `\`${result.command}\` — ${N} digits per cell (${N / 10} of each class, the same x_T in every cell), backend ` +
  `${backendName}, load average ${load}, ${
    result.date.slice(0, 10)
  }. FD: classifier features (models/mnist-features) ` +
  `against the 2,000 held-out digits; floor (${floorCount} real training digits): **${
    floor.toFixed(2)
  }**. Accuracy: share ` +
  `of digits the classifier assigns to the requested class.`,
  "",
  `| sampler | NFE | ${GUIDANCE.map((w) => `FD (w = ${w})`).join(" | ")} | ${
    GUIDANCE.map((w) => `accuracy (w = ${w})`).join(" | ")
  } |`,
  `| --- | --: | ${GUIDANCE.map(() => "--:").join(" | ")} | ${GUIDANCE.map(() => "--:").join(" | ")} |`,
];
for (const s of SAMPLERS) {
  for (const nfe of NFES) {
    const row = cells.filter((c) => c.sampler === s.label && c.steps === stepsForNfe(s.config, nfe));
    if (row.length === 0) continue;
    md.push(
      `| ${s.label} | ${row[0].nfe} | ${row.map((c) => c.fd.toFixed(2)).join(" | ")} | ${
        row.map((c) => `${(100 * c.accuracy).toFixed(1)} %`).join(" | ")
      } |`,
    );
  }
}
await Deno.writeTextFile(`${resultsDir}quality_pipeline${suffix}.md`, md.join("\n") + "\n");
if (picture) {
  // the first 80 digits: 8 per row would mix classes, so 10 columns give one class per column
  const count = Math.min(80, N);
  const image = tileSamples(picture.subarray(0, count * D), [count, 1, 28, 28], { cols: 10, scale: 2, range: [-1, 1] });
  await Deno.writeFile(`${resultsDir}quality_pipeline_grid${suffix}.png`, encodePng(image));
}
log(`wrote ${resultsDir}quality_pipeline${suffix}.{json,md}`);
