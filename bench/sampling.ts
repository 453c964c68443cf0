/**
 * `deno task bench:sampling`:
 * 1. endpoint error against the reference ODE solution for each method × NFE ∈ {5, 10, 20, 50} on
 *    the exact gmm-2d and gmm-64d models (float64 loop, so only discretisation error is measured);
 * 2. time per step split into network and update, on the wasm and webgpu backends;
 * 3. side by side in one run: the GPU-resident loop against a loop that downloads ε and updates on
 *    the CPU every step (the design of existing JavaScript ports), at batch sizes 1, 16 and 256;
 * 4. the peers: tab3 (and ddim) beside DPM-Solver++ and UniPC (orders 2, 3) on the time-quadratic and
 *    logrho grids at NFE ∈ {5, 10, 15, 20}, endpoint error as in 1.
 * 5. MNIST throughput: tab3, 10 steps, batch 1 / 16 / 64 / 256 on the shipped MNIST network: native,
 *    wasm (1 and 2 threads), webgpu (hardware adapters only) and PyTorch on the CPU, each in its own
 *    kept-warm child process, interleaved (bench/mnist_throughput_worker.ts, bench/torch_loop.py);
 *    ms per sample-evaluation, samples/s, ratios, and the share of run time outside network calls.
 * Writes bench/results/sampling.json and bench/results/sampling.md. `--only peers` runs part 4 alone
 * and `--only mnist` part 5 alone; each merges its part into the committed results.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { loadModel, makePlan, modelPlanConfig, type PlanConfig, sample } from "../mod.ts";
import { ortWebGpu } from "../src/runtime/ort.ts";
import { downloadLoop } from "./download_loop.ts";
import { endpointError, loadProblem, stepsForNfe } from "./convergence.ts";
import { type MnistThroughput, mnistThroughput, mnistThroughputMarkdown } from "./mnist_throughput_worker.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    model: { type: "string", default: "gmm-image" },
    only: { type: "string" },
  },
});
const quick = flags.quick!;
if (flags.only !== undefined && flags.only !== "peers" && flags.only !== "mnist") {
  throw new RangeError(`--only must be "peers" or "mnist"`);
}

const METHODS: { label: string; config: PlanConfig }[] = [
  { label: "ddim", config: { method: "ddim" } },
  { label: "euler", config: { method: "euler" } },
  { label: "ei-score", config: { method: "ei-score" } },
  { label: "tab1", config: { method: "tab", order: 1 } },
  { label: "tab2", config: { method: "tab", order: 2 } },
  { label: "tab3", config: { method: "tab", order: 3 } },
  { label: "rhoab3", config: { method: "rhoab", order: 3 } },
  { label: "logrho3", config: { method: "logrho", order: 3 } },
  { label: "ipndm", config: { method: "ipndm", order: 3 } },
  { label: "rhork-heun2", config: { method: "rhork", rk: "heun2" } },
  { label: "rhork-kutta3", config: { method: "rhork", rk: "kutta3" } },
  { label: "rhork-rk4", config: { method: "rhork", rk: "rk4" } },
];
const NFES = [5, 10, 20, 50];
const PEERS: { label: string; config: PlanConfig }[] = [
  { label: "ddim", config: { method: "ddim" } },
  { label: "tab2", config: { method: "tab", order: 2 } },
  { label: "tab3", config: { method: "tab", order: 3 } },
  { label: "dpmpp2", config: { method: "dpmpp", order: 2 } },
  { label: "dpmpp3", config: { method: "dpmpp", order: 3 } },
  { label: "unipc2", config: { method: "unipc", order: 2 } },
  { label: "unipc3", config: { method: "unipc", order: 3 } },
];
const PEER_NFES = [5, 10, 15, 20];
const PEER_GRIDS = ["time-quadratic", "logrho"] as const;

// 5. MNIST throughput (`--only mnist` runs it alone and stops here; the full run does it after part 3).
const MNIST_OPTIONS = quick ? { batches: [1, 16], minRepeats: 1, maxRepeats: 2, secondsPerBatch: 10 } : {};
/** `md` with the MNIST throughput section replaced by (or inserted as) `section`, before the peers. */
function spliceMnist(md: string, section: string[]): string {
  const marker = "\nMNIST throughput:";
  const [head, peersPart] = md.includes("\nPeers:") ? [md.split("\nPeers:")[0], md.slice(md.indexOf("\nPeers:"))] : [
    md,
    "",
  ];
  const before = head.includes(marker) ? head.slice(0, head.indexOf(marker)) : head;
  return [before.trimEnd(), ``, ...section].join("\n") + peersPart;
}
if (flags.only === "mnist") {
  const jsonFile = new URL(`./results/sampling${quick ? "-quick" : ""}.json`, import.meta.url);
  const mdFile = new URL(`./results/sampling${quick ? "-quick" : ""}.md`, import.meta.url);
  const mnist = await mnistThroughput(MNIST_OPTIONS);
  const section = mnistThroughputMarkdown(mnist);
  let old: Record<string, unknown> = {}, md = `# Sampling benchmark\n`;
  try {
    old = JSON.parse(await Deno.readTextFile(jsonFile));
    md = await Deno.readTextFile(mdFile);
  } catch { /* no committed results yet */ }
  await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(
    jsonFile,
    JSON.stringify({ ...old, mnistThroughput: mnist, mnistThroughputDate: mnist.date }, null, 2) + "\n",
  );
  await Deno.writeTextFile(mdFile, spliceMnist(md, section));
  console.log(section.join("\n"));
  Deno.exit(0);
}

// 4. The peers (first: it is cheap, and `--only peers` stops after it).
type PeerTable = Record<string, Record<string, Record<string, Record<number, number>>>>;
const peers: PeerTable = {};
for (const name of ["gmm-2d", "gmm-64d"]) {
  const p = await loadProblem(name, quick ? 4 : 32);
  peers[name] = {};
  for (const m of PEERS) {
    peers[name][m.label] = {};
    for (const grid of PEER_GRIDS) {
      peers[name][m.label][grid] = {};
      for (const nfe of PEER_NFES) {
        peers[name][m.label][grid][nfe] = await endpointError(p, { ...m.config, grid, steps: nfe });
      }
    }
  }
  console.error(`peers on ${name} done`);
}
function peersMarkdown(t: PeerTable): string[] {
  const out = [
    `Peers: endpoint error (as above) at NFE ${PEER_NFES.join(", ")}, on two grids (best of each column in bold):`,
    ``,
  ];
  for (const [name, rows] of Object.entries(t)) {
    out.push(`**${name}**`, ``, `| method | grid | ${PEER_NFES.map((n) => `NFE ${n}`).join(" | ")} |`);
    out.push(`|---|---|${"---|".repeat(PEER_NFES.length)}`);
    const best = PEER_NFES.map((n) =>
      Math.min(...Object.values(rows).flatMap((g) => Object.values(g).map((c) => c[n])))
    );
    for (const [label, grids] of Object.entries(rows)) {
      for (const [grid, c] of Object.entries(grids)) {
        const cells = PEER_NFES.map((n, i) => {
          const v = c[n].toExponential(1);
          return c[n] === best[i] ? `**${v}**` : v;
        });
        out.push(`| ${label} | ${grid} | ${cells.join(" | ")} |`);
      }
    }
    out.push(``);
  }
  return out;
}
if (flags.only === "peers") {
  const jsonFile = new URL(`./results/sampling${quick ? "-quick" : ""}.json`, import.meta.url);
  const mdFile = new URL(`./results/sampling${quick ? "-quick" : ""}.md`, import.meta.url);
  const old = JSON.parse(await Deno.readTextFile(jsonFile));
  await Deno.writeTextFile(
    jsonFile,
    JSON.stringify({ ...old, peers, peersDate: new Date().toISOString() }, null, 2) + "\n",
  );
  const md = (await Deno.readTextFile(mdFile)).split("\nPeers:")[0].trimEnd();
  const text = [md, ``, ...peersMarkdown(peers)].join("\n");
  await Deno.writeTextFile(mdFile, text);
  console.log(peersMarkdown(peers).join("\n"));
  Deno.exit(0);
}

// 1. Accuracy on exact models.
const accuracy: Record<string, Record<string, Record<number, { nfe: number; error: number }>>> = {};
for (const name of ["gmm-2d", "gmm-64d"]) {
  const p = await loadProblem(name, quick ? 4 : 32);
  accuracy[name] = {};
  for (const m of METHODS) {
    accuracy[name][m.label] = {};
    for (const nfe of NFES) {
      const steps = stepsForNfe(m.config, nfe);
      accuracy[name][m.label][nfe] = {
        nfe: makePlan({ ...m.config, steps }).nfe,
        error: await endpointError(p, { ...m.config, grid: "time-quadratic", steps }),
      };
    }
  }
  console.error(`accuracy on ${name} done`);
}

// 2 + 3. Timings on an ONNX model.
const modelDir = new URL(`../models/${flags.model}/`, import.meta.url);
const model = await loadModel(modelDir.pathname);
const manifest = model.manifest;
const sdeConfig = modelPlanConfig(model);
const plan = makePlan({ ...sdeConfig, method: "tab", order: 3, steps: 10 });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const repeats = quick ? 2 : 5;
const perStep: Record<string, { network: number; update: number; total: number }> = {};
for (const backend of ["wasm", "webgpu"] as const) {
  const runs = [];
  for (let r = 0; r < repeats + 1; r++) runs.push(await sample({ model, plan, n: 16, seed: r, backend }));
  runs.shift(); // the first run compiles shaders / warms up
  perStep[backend] = {
    network: median(runs.map((r) => r.timings.network)) / plan.steps,
    update: median(runs.map((r) => r.timings.update)) / plan.steps,
    total: median(runs.map((r) => r.timings.total)),
  };
  console.error(`timings on ${backend} done`);
}

const bytes = await Deno.readFile(new URL(manifest.onnx, modelDir));
const downloadSession = await ortWebGpu.InferenceSession.create(bytes, { executionProviders: ["webgpu"] });
const sideBySide = [];
for (const n of [1, 16, 256]) {
  await downloadLoop(model, downloadSession, plan, n);
  await sample({ model, plan, n, seed: 0, backend: "webgpu" });
  const resident: number[] = [], download: number[] = [];
  for (let r = 0; r < repeats; r++) {
    // Interleaved so both see the same machine load.
    resident.push((await sample({ model, plan, n, seed: r, backend: "webgpu" })).timings.total);
    download.push((await downloadLoop(model, downloadSession, plan, n)).total);
  }
  const stats = (await sample({ model, plan, n, seed: 0, backend: "webgpu" })).gpu!;
  sideBySide.push({
    n,
    residentMs: median(resident),
    downloadMs: median(download),
    ratio: median(download) / median(resident),
    gpuPeakBytes: stats.peakBytes,
    gpuBuffers: stats.buffers,
    readbacks: stats.readbacks,
    stateBytes: n * model.sampleSize * 4,
  });
  console.error(`side by side n=${n} done`);
}
await downloadSession.release();
await model.dispose();

// 5. MNIST throughput (its own processes).
const mnist: MnistThroughput = await mnistThroughput(MNIST_OPTIONS);

const result = {
  date: new Date().toISOString(),
  quick,
  device: "software WebGPU (Mesa llvmpipe) unless a GPU is present",
  timingModel: flags.model,
  plan: "tab r=3, 10 steps, time-quadratic",
  accuracy,
  perStepMs: perStep,
  sideBySide,
  mnistThroughput: mnist,
  peers,
};
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL(`./results/sampling${quick ? "-quick" : ""}.json`, import.meta.url),
  JSON.stringify(result, null, 2) + "\n",
);

const e = (v: { nfe: number; error: number }, nfe: number) =>
  `${v.error.toExponential(1)}${v.nfe !== nfe ? ` (${v.nfe})` : ""}`;
const lines = [
  `# Sampling benchmark`,
  ``,
  `${result.date}${
    quick ? " (quick)" : ""
  }. Endpoint error: RMS over samples of ‖x − x_ref‖ at t = ε, x_ref from the adaptive`,
  `reference ODE solver (tolerance 1e-12), float64 loop, time-quadratic grid. ρRK runs round(NFE/stages) steps (actual NFE in brackets where it differs).`,
  ``,
];
for (const [name, rows] of Object.entries(accuracy)) {
  lines.push(
    `**${name}**`,
    ``,
    `| method | ${NFES.map((n) => `NFE ${n}`).join(" | ")} |`,
    `|---|${"---|".repeat(NFES.length)}`,
  );
  for (const [label, errs] of Object.entries(rows)) {
    lines.push(`| ${label} | ${NFES.map((n) => e(errs[n], n)).join(" | ")} |`);
  }
  lines.push(``);
}
lines.push(
  `Time per step on \`${flags.model}\` (batch 16, ${result.plan}; median of ${repeats} runs after a warm-up):`,
  ``,
  `| backend | network (ms/step) | update (ms/step) | whole run (ms) |`,
  `|---|---|---|---|`,
  ...Object.entries(perStep).map(([b, t]) =>
    `| ${b} | ${t.network.toFixed(2)} | ${t.update.toFixed(3)} | ${t.total.toFixed(1)} |`
  ),
  ``,
  `GPU-resident loop vs a loop that downloads ε and updates on the CPU every step (same WebGPU device, interleaved runs):`,
  ``,
  `| batch | resident (ms) | download each step (ms) | download / resident | sampler GPU peak (bytes) = × one x | readbacks |`,
  `|---|---|---|---|---|---|`,
  ...sideBySide.map((s) =>
    `| ${s.n} | ${s.residentMs.toFixed(1)} | ${s.downloadMs.toFixed(1)} | ${
      s.ratio.toFixed(2)
    }× | ${s.gpuPeakBytes} = ${(s.gpuPeakBytes / s.stateBytes).toFixed(2)} | ${s.readbacks} |`
  ),
  ``,
  ...mnistThroughputMarkdown(mnist),
  ...peersMarkdown(peers),
);
await Deno.writeTextFile(new URL(`./results/sampling${quick ? "-quick" : ""}.md`, import.meta.url), lines.join("\n"));
console.log(lines.join("\n"));
