/**
 * The real-GPU benchmark body (`bench/gpu/run.sh` sets up the machine and calls this): the MNIST
 * network and a synthetic latent-sized network (`latent_model.ts`, 4×64×64) sampled with tAB-DEIS
 * r = 3, 10 steps, time-quadratic, on webgpu, native and wasm at batch 1, 16 and 256:
 *
 * - samples/s (median of timed runs after a warm-up), network / update / readback split, and the
 *   update's share of the run time (on WebGPU the update is the time to enqueue its kernels);
 * - on webgpu, the GPU-resident loop against one that downloads ε and updates on the CPU every step
 *   (`bench/download_loop.ts`, as bench/sampling.ts), interleaved, as a ratio.
 *
 * Repeats are bounded by time: a total budget (`--budget-s`, default 420) shared by the cells, a
 * cell skipped (with a note) when one run would not fit. The results are rewritten after every cell,
 * so a run stopped from outside still leaves them.
 *
 *     deno run -A bench/gpu/bench.ts [--allow-fallback] [--budget-s 420] [--batches 1,16,256]
 *         [--backends webgpu,native,wasm] [--models mnist,latent] [--out-dir bench/results/gpu]
 *         [--max-repeats 5] [--latent-channels 32]
 *
 * Exits 3 without a hardware (non-fallback) WebGPU adapter unless `--allow-fallback` (a smoke test
 * on llvmpipe, say).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { loadModel, makePlan, modelPlanConfig, sample } from "../../mod.ts";
import { describeAdapter, ortWebGpu, probeAdapter } from "../../src/runtime/ort.ts";
import { downloadLoop } from "../download_loop.ts";
import { latentModel, writeLatentModel } from "./latent_model.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    "allow-fallback": { type: "boolean", default: false },
    "budget-s": { type: "string", default: "420" },
    batches: { type: "string", default: "1,16,256" },
    backends: { type: "string", default: "webgpu,native,wasm" },
    models: { type: "string", default: "mnist,latent" },
    "out-dir": { type: "string", default: new URL("../results/gpu/", import.meta.url).pathname },
    "max-repeats": { type: "string", default: "5" },
    "latent-channels": { type: "string", default: "32" },
  },
});
const budgetMs = Number(flags["budget-s"]) * 1000;
const batches = flags.batches!.split(",").map(Number);
const backends = flags.backends!.split(",") as ("webgpu" | "native" | "wasm")[];
const models = flags.models!.split(",");
const maxRepeats = Number(flags["max-repeats"]);
const started = performance.now();
const left = () => budgetMs - (performance.now() - started);

const adapter = await probeAdapter();
const adapterText = adapter ? describeAdapter(adapter) : "none";
if (!adapter || (adapterText.endsWith("(fallback)") && !flags["allow-fallback"])) {
  console.error(`no hardware WebGPU adapter (adapter: ${adapterText}); --allow-fallback benchmarks a software one`);
  Deno.exit(3);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Cell {
  model: string;
  backend: string;
  batch: number;
  status: "ok" | "skipped" | "failed";
  note?: string;
  runs?: number;
  medianTotalMs?: number;
  samplesPerS?: number;
  msPerSampleEval?: number;
  networkMs?: number;
  updateMs?: number;
  readbackMs?: number;
  /** update / total (WebGPU: enqueue time of the update kernels). */
  updateShare?: number;
  nonNetworkShare?: number;
  /** webgpu only: the download-every-step loop, interleaved with the resident runs. */
  downloadMs?: number;
  downloadOverResident?: number;
  downloadUpdateShare?: number;
}

const cells: Cell[] = [];
const meta = {
  date: new Date().toISOString(),
  adapter: adapterText,
  allowFallback: flags["allow-fallback"],
  cores: navigator.hardwareConcurrency,
  load: "",
  gpu: Deno.env.get("GPU_BENCH_NVIDIA_SMI") ?? "",
  plan: "tab r=3, 10 steps, time-quadratic",
  budgetS: budgetMs / 1000,
  latent: latentModel({ channels: Number(flags["latent-channels"]) }).macsPerSample,
};

async function loadAverage(): Promise<string> {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

async function write(final = false): Promise<void> {
  const dir = flags["out-dir"]!;
  await Deno.mkdir(dir, { recursive: true });
  meta.load = await loadAverage();
  const result = { ...meta, finished: final, elapsedS: (performance.now() - started) / 1000, cells };
  await Deno.writeTextFile(`${dir}/gpu_bench.json`, JSON.stringify(result, null, 2) + "\n");
  const f = (v: number | undefined, d = 1) => v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(d);
  const pct = (v: number | undefined) => v === undefined ? "–" : `${(100 * v).toFixed(1)} %`;
  const lines = [
    `# GPU benchmark`,
    ``,
    `${meta.date}; adapter: ${meta.adapter}${meta.gpu ? `; nvidia-smi: ${meta.gpu}` : ""}; ${meta.cores} CPU cores;`,
    `load average ${meta.load}; ${meta.plan}; budget ${meta.budgetS} s, elapsed ${result.elapsedS.toFixed(0)} s${
      final ? "" : " (unfinished)"
    }.`,
    `Models: \`mnist\` (1×28×28, 12 M MAC/sample) and \`latent\` (synthetic, 4×64×64, ${
      (meta.latent / 1e6).toFixed(0)
    } M MAC/sample). Medians after a warm-up; native and wasm with the SDK's default threads.`,
    `"update share" = update ÷ run time (on WebGPU: the time to enqueue the update kernels). "download ÷ resident" =`,
    `the loop that downloads ε and updates on the CPU every step ÷ the SDK's GPU-resident loop (same device, interleaved).`,
    ``,
    `| model | backend | batch | samples/s | ms/eval | network (ms) | update (ms) | update share | non-network | download ÷ resident | runs | note |`,
    `|---|---|---|---|---|---|---|---|---|---|---|---|`,
  ];
  for (const c of cells) {
    lines.push(
      `| ${c.model} | ${c.backend} | ${c.batch} | ${f(c.samplesPerS)} | ${f(c.msPerSampleEval, 3)} | ${
        f(c.networkMs)
      } | ${f(c.updateMs, 2)} | ${pct(c.updateShare)} | ${pct(c.nonNetworkShare)} | ${
        c.downloadOverResident ? `${c.downloadOverResident.toFixed(2)}×` : "–"
      } | ${c.runs ?? 0} | ${c.status === "ok" ? (c.note ?? "") : `${c.status}: ${c.note}`} |`,
    );
  }
  await Deno.writeTextFile(`${dir}/gpu_bench.md`, lines.join("\n") + "\n");
}

const totalCells = models.length * backends.length * batches.length;
let cellsDone = 0;
const latentDir = models.includes("latent")
  ? await writeLatentModel(undefined, { channels: Number(flags["latent-channels"]) })
  : "";
try {
  for (const name of models) {
    const dir = name === "latent" ? latentDir : new URL(`../../models/${name}/`, import.meta.url).pathname;
    const model = await loadModel(dir);
    const plan = makePlan(modelPlanConfig(model, { method: "tab", order: 3, steps: 10, grid: "time-quadratic" }));
    let downloadSession: ortWebGpu.InferenceSession | undefined;
    try {
      for (const backend of backends) {
        let perSampleEval: number | undefined; // ms, from the previous batch (for the skip estimate)
        for (const batch of batches) {
          const cell: Cell = { model: name, backend, batch, status: "ok" };
          cells.push(cell);
          const share = Math.max(2000, left() / Math.max(1, totalCells - cellsDone));
          cellsDone++;
          const estimate = perSampleEval === undefined ? undefined : perSampleEval * batch * plan.steps;
          if (left() < 2000 || (estimate !== undefined && 2 * estimate > Math.max(share, 0.5 * left()))) {
            cell.status = "skipped";
            cell.note = `one run ≈ ${((estimate ?? 0) / 1000).toFixed(1)} s does not fit the ${
              (Math.max(0, left()) / 1000).toFixed(0)
            } s left`;
            console.error(`${name} ${backend} batch ${batch}: skipped (${cell.note})`);
            await write();
            continue;
          }
          try {
            const cellStart = performance.now();
            await sample({ model, plan, n: batch, seed: 0, backend }); // warm-up: sessions, shaders, tier-up
            if (backend === "webgpu" && !downloadSession) {
              downloadSession = await ortWebGpu.InferenceSession.create(model.bytes, {
                executionProviders: ["webgpu"],
                logSeverityLevel: 3,
              });
            }
            if (downloadSession && backend === "webgpu") await downloadLoop(model, downloadSession, plan, batch);
            const res: { total: number; network: number; update: number; readback: number }[] = [];
            const dl: { total: number; update: number }[] = [];
            for (let r = 0; r < maxRepeats; r++) {
              if (r >= 1 && performance.now() - cellStart > share) break;
              res.push((await sample({ model, plan, n: batch, seed: r + 1, backend })).timings);
              if (downloadSession && backend === "webgpu") {
                dl.push(await downloadLoop(model, downloadSession, plan, batch));
              }
            }
            const tot = median(res.map((r) => r.total));
            Object.assign(cell, {
              runs: res.length,
              medianTotalMs: tot,
              samplesPerS: batch / tot * 1000,
              msPerSampleEval: tot / (batch * plan.steps),
              networkMs: median(res.map((r) => r.network)),
              updateMs: median(res.map((r) => r.update)),
              readbackMs: median(res.map((r) => r.readback)),
              updateShare: median(res.map((r) => r.update / r.total)),
              nonNetworkShare: median(res.map((r) => 1 - r.network / r.total)),
            });
            if (dl.length) {
              cell.downloadMs = median(dl.map((d) => d.total));
              cell.downloadOverResident = cell.downloadMs / tot;
              cell.downloadUpdateShare = median(dl.map((d) => d.update / d.total));
            }
            perSampleEval = cell.msPerSampleEval;
          } catch (e) {
            cell.status = "failed";
            cell.note = String((e as Error).message ?? e).split("\n")[0].slice(0, 200);
          }
          console.error(
            `${name} ${backend} batch ${batch}: ${cell.status}${
              cell.samplesPerS ? ` ${cell.samplesPerS.toFixed(1)} samples/s` : ""
            }${cell.note ? ` (${cell.note})` : ""} [${((performance.now() - started) / 1000).toFixed(0)} s]`,
          );
          await write();
        }
      }
    } finally {
      await downloadSession?.release();
      await model.dispose();
    }
  }
} finally {
  if (latentDir) await Deno.remove(latentDir, { recursive: true }).catch(() => {});
}
await write(true);
console.log(await Deno.readTextFile(`${flags["out-dir"]}/gpu_bench.md`));
