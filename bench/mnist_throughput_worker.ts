/**
 * The "MNIST throughput" section of `bench/sampling.ts`: tAB-DEIS r = 3, 10 steps, time-quadratic,
 * on the shipped MNIST network, batch 1 / 16 / 64 / 256, for native (default threads), wasm with 1
 * and 2 threads, webgpu (hardware adapters only) and PyTorch on the CPU (`bench/torch_loop.py`).
 *
 * onnxruntime fixes its thread count per process, so every configuration runs in its own child
 * process, started once and kept warm; the parent sends one command per timed run and interleaves
 * the children round by round, so all of them see the same machine load.
 *
 * As a worker (what the parent spawns):
 *
 *     deno run -A bench/mnist_throughput_worker.ts --backend native|wasm|webgpu [--threads T]
 *
 * prints `{"ready": …}`, then reads one JSON command per stdin line, `{"batch": B, "warmup": W,
 * "init"?: [x_T]}`, runs W untimed sampling runs and one timed run, and prints one JSON line
 * `{"batch", "total", "network", "update", "readback"}` (ms; with `init`, also the samples `x`).
 *
 * @module
 */

import { lines } from "../testing/lines.ts";
import { parseArgs } from "node:util";
import { configureRuntime, loadModel, makePlan, modelPlanConfig, type Plan, sample } from "../mod.ts";
import { describeAdapter, probeAdapter } from "../src/runtime/ort.ts";

const MODEL_DIR = new URL("../models/mnist/", import.meta.url).pathname;
const TORCH_SCRIPT = new URL("./torch_loop.py", import.meta.url).pathname;
const PYTHON = "/usr/bin/python3";

/** The plan of this section (tab r = 3, 10 steps, time-quadratic) for a model. */
export function throughputPlan(model: Awaited<ReturnType<typeof loadModel>>): Plan {
  return makePlan({ ...modelPlanConfig(model), method: "tab", order: 3, steps: 10, grid: "time-quadratic" });
}

// ---------------------------------------------------------------------------------------------
// Worker side

async function worker(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { backend: { type: "string" }, threads: { type: "string" } },
  });
  const backend = values.backend as "native" | "wasm" | "webgpu";
  if (!["native", "wasm", "webgpu"].includes(backend)) throw new RangeError(`--backend: native, wasm or webgpu`);
  if (values.threads !== undefined) configureRuntime({ numThreads: Number(values.threads) });
  const model = await loadModel(MODEL_DIR);
  const plan = throughputPlan(model);
  let seed = 0;
  const write = (o: unknown) => Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(o) + "\n"));
  // One run at batch 1 so the session exists before the first command.
  const first = await sample({ model, plan, n: 1, seed: seed++, backend });
  write({ ready: true, backend: first.backend, threads: values.threads ?? "default" });
  for await (const line of lines(Deno.stdin.readable)) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line) as { batch: number; warmup?: number; init?: number[] };
    for (let w = 0; w < (cmd.warmup ?? 0); w++) await sample({ model, plan, n: cmd.batch, seed: seed++, backend });
    const r = await sample({ model, plan, n: cmd.batch, seed: seed++, backend, init: cmd.init });
    write({ batch: cmd.batch, ...r.timings, ...(cmd.init ? { x: Array.from(r.data) } : {}) });
  }
  await model.dispose();
}

// ---------------------------------------------------------------------------------------------
// Parent side

/** One timed run, as a child reports it (ms). */
interface RunTiming {
  total: number;
  network: number;
  update: number;
  x?: number[];
}

/** A kept-warm child process that answers one JSON line per command. */
class Child {
  readonly label: string;
  readonly #proc: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncGenerator<string>;
  readonly #stderr: string[] = [];
  ready: Record<string, unknown> = {};

  constructor(label: string, cmd: string, args: string[]) {
    this.label = label;
    const proc = new Deno.Command(cmd, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#proc = proc;
    this.#writer = proc.stdin.getWriter();
    this.#lines = lines(proc.stdout);
    (async () => {
      for await (const l of lines(proc.stderr)) this.#stderr.push(l);
    })().catch(() => {});
  }

  async #next(): Promise<Record<string, unknown>> {
    for (;;) {
      const r = await this.#lines.next();
      if (r.done) {
        throw new Error(`${this.label}: the child exited early:\n${this.#stderr.slice(-15).join("\n")}`);
      }
      const t = r.value.trim();
      if (t.startsWith("{")) return JSON.parse(t);
    }
  }

  async start(): Promise<void> {
    this.ready = await this.#next();
  }

  async run(cmd: { batch: number; warmup?: number; init?: number[] }): Promise<RunTiming> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(cmd) + "\n"));
    return (await this.#next()) as unknown as RunTiming;
  }

  async close(): Promise<void> {
    try {
      await this.#writer.close();
    } catch { /* gone */ }
    const timer = setTimeout(() => {
      try {
        this.#proc.kill("SIGKILL");
      } catch { /* exited */ }
    }, 10_000);
    await this.#proc.status;
    clearTimeout(timer);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One configuration's numbers at one batch size. */
export interface ThroughputCell {
  runs: number;
  medianTotalMs: number;
  msPerSampleEval: number;
  samplesPerS: number;
  /** Median over runs of 1 − network/total. */
  nonNetworkShare: number;
  medianNetworkMs: number;
  medianUpdateMs: number;
}

/** The section's result. */
export interface MnistThroughput {
  date: string;
  load: string;
  plan: string;
  steps: number;
  batches: number[];
  configs: { label: string; detail: string }[];
  notes: string[];
  cells: Record<string, Record<number, ThroughputCell>>;
  /** Max |x_torch − x_native| after the 10 steps from the same x_T (batch 2): the loops agree. */
  torchAgreement?: number;
  targets: { name: string; met: boolean; detail: string }[];
}

/** Options of {@link mnistThroughput}. */
export interface ThroughputOptions {
  batches?: number[];
  /** Timed runs per configuration and batch: at least `minRepeats`, at most `maxRepeats`. */
  minRepeats?: number;
  maxRepeats?: number;
  /** Stop adding rounds at a batch size once its rounds took this long (after `minRepeats`). */
  secondsPerBatch?: number;
  log?: (s: string) => void;
}

async function loadAverage(): Promise<string> {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

async function torchAvailable(): Promise<string | null> {
  try {
    const o = await new Deno.Command(PYTHON, { args: ["-c", "import torch"], stdout: "null", stderr: "piped" })
      .output();
    return o.success ? null : `\`${PYTHON} -c "import torch"\` failed: ${new TextDecoder().decode(o.stderr).trim()}`;
  } catch (e) {
    return `${PYTHON} not runnable (${(e as Error).message})`;
  }
}

/** Runs the section; all children interleaved in one run. */
export async function mnistThroughput(opts: ThroughputOptions = {}): Promise<MnistThroughput> {
  const batches = opts.batches ?? [1, 16, 64, 256];
  const minRepeats = opts.minRepeats ?? 3, maxRepeats = opts.maxRepeats ?? 7;
  const secondsPerBatch = opts.secondsPerBatch ?? 45;
  const log = opts.log ?? ((s: string) => console.error(s));
  const loadBefore = await loadAverage();
  const notes: string[] = [];
  const cores = navigator.hardwareConcurrency ?? 1;
  const defaultThreads = Math.max(1, Math.min(4, cores)); // the SDK's default (src/runtime/settings.ts)

  const model = await loadModel(MODEL_DIR);
  const plan = throughputPlan(model);
  const timeInputs = plan.timesteps.slice(0, plan.steps).map((t, k) =>
    model.timeInput({ t, alphaBar: plan.alphaBar[k], rho: plan.rho[k] })
  );
  const planFile = await Deno.makeTempFile({ prefix: "mnist_plan_", suffix: ".json" });
  await Deno.writeTextFile(planFile, JSON.stringify({ steps: plan.steps, rows: plan.rows, timeInputs }));
  await model.dispose();

  const self = new URL(import.meta.url).pathname;
  const deno = (backend: string, threads?: number) => [
    "run",
    "-A",
    self,
    "--backend",
    backend,
    ...(threads ? ["--threads", String(threads)] : []),
  ];
  const specs: { label: string; detail: string; cmd: string; args: string[] }[] = [
    {
      label: "native",
      detail: `onnxruntime-node, default threads (${defaultThreads})`,
      cmd: Deno.execPath(),
      args: deno("native"),
    },
    { label: "native-1t", detail: "onnxruntime-node, 1 thread", cmd: Deno.execPath(), args: deno("native", 1) },
    { label: "wasm-1t", detail: "onnxruntime-web WASM, 1 thread", cmd: Deno.execPath(), args: deno("wasm", 1) },
    { label: "wasm-2t", detail: "onnxruntime-web WASM, 2 threads", cmd: Deno.execPath(), args: deno("wasm", 2) },
  ];
  const adapter = await probeAdapter();
  const adapterText = adapter ? describeAdapter(adapter) : "none";
  if (adapter && !adapterText.endsWith("(fallback)")) {
    specs.push({ label: "webgpu", detail: `WebGPU: ${adapterText}`, cmd: Deno.execPath(), args: deno("webgpu") });
  } else {
    notes.push(`webgpu skipped: no hardware WebGPU adapter (adapter: ${adapterText}).`);
  }
  const noTorch = await torchAvailable();
  if (noTorch) notes.push(`PyTorch skipped: ${noTorch}.`);
  else {
    specs.push({
      label: "pytorch",
      detail: `PyTorch (CPU, float32, torch.no_grad, ${defaultThreads} threads)`,
      cmd: PYTHON,
      args: [TORCH_SCRIPT, "--plan", planFile, "--threads", String(defaultThreads), "--serve"],
    });
  }

  const children: Child[] = [];
  const cells: Record<string, Record<number, ThroughputCell>> = {};
  let torchAgreement: number | undefined;
  try {
    for (const s of specs) {
      const c = new Child(s.label, s.cmd, s.args);
      children.push(c);
      await c.start();
      log(`  ${s.label} ready ${JSON.stringify(c.ready)}`);
    }
    // The loops agree: the same x_T through native and PyTorch.
    const torch = children.find((c) => c.label === "pytorch");
    if (torch) {
      const init = Array.from({ length: 2 * 784 }, (_, i) => Math.sin(i * 12.9898) * 1.3);
      const a = await children[0].run({ batch: 2, init });
      const b = await torch.run({ batch: 2, init });
      torchAgreement = a.x!.reduce((m, v, i) => Math.max(m, Math.abs(v - b.x![i])), 0);
      log(`  native vs PyTorch from the same x_T: max |Δx| = ${torchAgreement.toExponential(2)}`);
    }
    for (const batch of batches) {
      const runs: Record<string, RunTiming[]> = {};
      for (const c of children) {
        await c.run({ batch, warmup: 1 }); // warm-up (allocations, WASM tier-up); its timed run is discarded
        runs[c.label] = [];
      }
      const t0 = performance.now();
      for (let r = 0; r < maxRepeats; r++) {
        if (r >= minRepeats && performance.now() - t0 > secondsPerBatch * 1000) break;
        // Interleaved, rotating the order each round.
        for (let i = 0; i < children.length; i++) {
          const c = children[(i + r) % children.length];
          runs[c.label].push(await c.run({ batch }));
        }
      }
      for (const c of children) {
        const rs = runs[c.label];
        const tot = median(rs.map((x) => x.total));
        (cells[c.label] ??= {})[batch] = {
          runs: rs.length,
          medianTotalMs: tot,
          msPerSampleEval: tot / (plan.steps * batch),
          samplesPerS: batch / tot * 1000,
          nonNetworkShare: median(rs.map((x) => 1 - x.network / x.total)),
          medianNetworkMs: median(rs.map((x) => x.network)),
          medianUpdateMs: median(rs.map((x) => x.update)),
        };
      }
      log(`  batch ${batch} done (${runs[children[0].label].length} rounds, load ${await loadAverage()})`);
    }
  } finally {
    for (const c of children) await c.close().catch(() => {});
    await Deno.remove(planFile).catch(() => {});
  }

  const targets: MnistThroughput["targets"] = [];
  const big = batches.filter((b) => b >= 16);
  if (cells.pytorch) {
    const bad = big.filter((b) => cells.native[b].samplesPerS < cells.pytorch[b].samplesPerS);
    targets.push({
      name: "native ≥ PyTorch per sample at batch ≥ 16",
      met: bad.length === 0,
      detail: big.map((b) =>
        `batch ${b}: native ${cells.native[b].msPerSampleEval.toFixed(3)} vs PyTorch ${
          cells.pytorch[b].msPerSampleEval.toFixed(3)
        } ms/sample-eval (${(cells.pytorch[b].msPerSampleEval / cells.native[b].msPerSampleEval).toFixed(2)}×)`
      ).join("; "),
    });
  } else {
    targets.push({ name: "native ≥ PyTorch per sample at batch ≥ 16", met: false, detail: "not checked: no PyTorch" });
  }
  const sdk = Object.keys(cells).filter((l) => l !== "pytorch");
  const over = sdk.flatMap((l) =>
    big.filter((b) => cells[l][b].nonNetworkShare > 0.02).map((b) =>
      `${l} batch ${b}: ${(100 * cells[l][b].nonNetworkShare).toFixed(2)} %`
    )
  );
  targets.push({
    name: "non-network share ≤ 2 % at batch ≥ 16 on every backend",
    met: over.length === 0,
    detail: over.length
      ? `over: ${over.join("; ")}`
      : `max ${(100 * Math.max(...sdk.flatMap((l) => big.map((b) => cells[l][b].nonNetworkShare)))).toFixed(2)} %`,
  });
  return {
    date: new Date().toISOString(),
    load: `load average ${loadBefore} before, ${await loadAverage()} after; ${cores} cores`,
    plan: "tab r=3, 10 steps, time-quadratic",
    steps: plan.steps,
    batches,
    configs: specs.map(({ label, detail }) => ({ label, detail })),
    notes,
    cells,
    torchAgreement,
    targets,
  };
}

/** The markdown of the section (starts with the line `MNIST throughput:` so it can be replaced). */
export function mnistThroughputMarkdown(t: MnistThroughput): string[] {
  const out = [
    `MNIST throughput: ${t.plan} on \`models/mnist\` (${t.date}; ${t.load}). Each configuration in its own`,
    `process, kept warm, runs interleaved round by round; medians of the timed runs after one warm-up. ms/eval = run time`,
    `÷ (steps × batch); "× PyTorch" = samples/s ÷ PyTorch's (> 1: faster); non-network = 1 − network/total (the sampler's`,
    `own work: ε check and conversion, update, noise, readback).`,
    ``,
    ...t.configs.map((c) => `- ${c.label}: ${c.detail}`),
    ...t.notes.map((n) => `- note: ${n}`),
    ...(t.torchAgreement !== undefined
      ? [`- native and PyTorch from the same x_T (batch 2): max |Δx| = ${t.torchAgreement.toExponential(1)}`]
      : []),
    ``,
  ];
  const labels = Object.keys(t.cells);
  const torch = t.cells.pytorch;
  out.push(
    `| batch | config | ms/eval | samples/s | × PyTorch | native ÷ this | non-network | runs |`,
    `|---|---|---|---|---|---|---|---|`,
  );
  for (const b of t.batches) {
    for (const l of labels) {
      const c = t.cells[l][b];
      const vsTorch = torch ? `${(c.samplesPerS / torch[b].samplesPerS).toFixed(2)}×` : "–";
      const nat = t.cells.native ? `${(t.cells.native[b].samplesPerS / c.samplesPerS).toFixed(2)}×` : "–";
      out.push(
        `| ${b} | ${l} | ${c.msPerSampleEval.toFixed(3)} | ${c.samplesPerS.toFixed(1)} | ${vsTorch} | ${nat} | ${
          (100 * c.nonNetworkShare).toFixed(2)
        } % | ${c.runs} |`,
      );
    }
  }
  out.push(``, `Targets:`, ``);
  for (const g of t.targets) out.push(`- ${g.met ? "MET" : "MISSED"}: ${g.name} — ${g.detail}`);
  out.push(``);
  return out;
}

if (import.meta.main) await worker();
