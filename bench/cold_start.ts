/**
 * Time to the first sample, cold (a fresh process) against warm (the same process, a second run),
 * for the three ways the project is started:
 *
 * - `deno task demo` (64 MNIST digits, tab3, 10 steps): the whole process's wall time and the time
 *   the demo prints; native and wasm;
 * - the sample CLI, `deno task sample --model models/mnist --n 1 --steps 10 --out-json -`; native
 *   and wasm;
 * - the edge server (`examples/edge/server.ts`, started with the same restricted flags as
 *   `deno task edge` / `deno task edge:native`, on a free loopback port): spawn → first 200 of a
 *   small `POST /v1/samples`,
 *   then a second request (the server is wasm-only).
 *
 * Warm numbers come from child processes that run the same thing twice in one process (the CLI's
 * `runSample`, and the SDK calls), and these children also break the cold time down: process start,
 * module load (onnxruntime-web's two builds, onnxruntime-node, the SDK), model read, runtime start
 * (the first onnxruntime session: WASM compile / addon load), the model's session, the first
 * network evaluation, the rest. Every configuration is repeated, interleaved round by round; medians.
 *
 *     deno run -A bench/cold_start.ts [--repeats 3]
 *     deno run -A bench/cold_start.ts --md-only     # re-render the markdown from the JSON
 *
 * Writes bench/results/cold_start.json and bench/results/cold_start.md.
 *
 * @module
 */

import { parseArgs } from "node:util";

// No static import of the SDK: the children time their own module loading.

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    repeats: { type: "string", default: "3" },
    child: { type: "string" },
    backend: { type: "string", default: "native" },
    preset: { type: "string", default: "demo" },
    "spawned-at": { type: "string" },
    "md-only": { type: "boolean", default: false },
  },
});

const ROOT = new URL("../", import.meta.url);
const SELF = new URL(import.meta.url).pathname;
const MNIST = new URL("../models/mnist", import.meta.url).pathname;

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// ---------------------------------------------------------------------------------------------
// Children

/** One sampling run split into its network evaluations. */
interface RunSplit {
  total: number;
  firstEval: number;
  otherEvals: number;
  outsideEvals: number;
}

/** SDK calls, timed one by one; prints one JSON object. */
async function childSdk(backend: "native" | "wasm", spawnedAt: number): Promise<void> {
  const bodyAt = Date.now();
  const r: Record<string, number | string> = {
    processStartMs: bodyAt - spawnedAt, // spawn → this module's body runs (Deno start, this file)
    runtimeInitMs: performance.now(), // since Deno's time origin
  };
  let t = performance.now();
  await import("onnxruntime-web");
  r.importOrtWebWasmMs = performance.now() - t;
  t = performance.now();
  await import("onnxruntime-web/webgpu");
  r.importOrtWebWebGpuMs = performance.now() - t;
  t = performance.now();
  const sdk = await import("../mod.ts");
  r.importSdkRestMs = performance.now() - t;
  const { gaussianModel } = await import("../testing/synthetic.ts");
  t = performance.now();
  if (backend === "native") await sdk.createBackend("native"); // imports onnxruntime-node, loads the addon
  r.importOrtNodeMs = performance.now() - t;
  t = performance.now();
  const model = await sdk.loadModel(MNIST);
  r.loadModelMs = performance.now() - t;
  // Runtime start: the first onnxruntime session of the process, on a tiny model (onnxruntime-web
  // reads and compiles its 14 MB WebAssembly binary here; onnxruntime-node creates its environment).
  const tiny = gaussianModel();
  const tinyModel = await sdk.loadModel(tiny.bytes, { manifest: tiny.manifest });
  t = performance.now();
  const runtimeAt = t;
  await tinyModel.session(backend);
  r.runtimeStartMs = performance.now() - t;
  t = performance.now();
  await model.session(backend);
  r.sessionMs = performance.now() - t;
  const evals: number[] = [];
  const run = model.run.bind(model);
  model.run = (kind, feeds) => {
    const t0 = performance.now();
    return run(kind, feeds).then((out) => {
      evals.push(performance.now() - t0);
      return out;
    });
  };
  const plan = sdk.makePlan(sdk.modelPlanConfig(model, { method: "tab", order: 3, steps: 10, grid: "time-quadratic" }));
  const once = async (n: number, progress = false): Promise<RunSplit> => {
    evals.length = 0;
    const t0 = performance.now();
    await sdk.sample({ model, plan, n, seed: 0, backend, onProgress: progress ? () => {} : undefined });
    const total = performance.now() - t0;
    const sum = evals.reduce((a, b) => a + b, 0);
    return { total, firstEval: evals[0], otherEvals: sum - evals[0], outsideEvals: total - sum };
  };
  const first = await once(1);
  r.firstSampleFromSpawnMs = Date.now() - spawnedAt;
  const second = await once(1);
  const third = await once(1);
  const progress = await once(1, true);
  // Until 5 s after the runtime started: n = 1 samples back to back, to see when they reach their
  // steady speed (V8 runs onnxruntime-web's WebAssembly on baseline code until its tier-up).
  const series: [number, number][] = [];
  while (performance.now() - runtimeAt < 5000 && series.length < 400) {
    const s = await once(1);
    series.push([performance.now() - runtimeAt, s.total]);
  }
  if (series.length >= 5) {
    const steady = median(series.slice(-5).map((x) => x[1]));
    r.steadyN1TotalMs = steady;
    r.tierUpAfterRuntimeStartMs = series.find((_, i) => series.slice(i).every((y) => y[1] <= 1.5 * steady))?.[0] ??
      NaN;
  }
  const b64first = await once(64);
  const b64second = await once(64);
  for (const [k, v] of Object.entries({ first, second, third, progress, b64first, b64second })) {
    for (const [f, x] of Object.entries(v)) r[`${k}.${f}`] = x;
  }
  await tinyModel.dispose();
  await model.dispose();
  console.log(JSON.stringify(r));
}

/** The CLI's `runSample` twice in one process (cold, then warm); prints one JSON object. */
async function childCli(preset: "demo" | "sample", backend: string, spawnedAt: number): Promise<void> {
  const bodyAt = Date.now();
  let t = performance.now();
  const cli = await import("../src/cli/sample.ts");
  const importMs = performance.now() - t;
  const out = await Deno.makeTempFile({ suffix: preset === "demo" ? ".png" : ".json" });
  const args = preset === "demo"
    ? ["--model", MNIST, "--method", "tab", "--order", "3", "--steps", "10", "--grid", "time-quadratic"]
      .concat(["--n", "64", "--cols", "8", "--seed", "0", "--backend", backend, "--out", out])
    : ["--model", MNIST, "--n", "1", "--steps", "10", "--backend", backend, "--out-json", out];
  const cmd = cli.parseSampleArgs(args);
  if (cmd === "help") throw new Error("unexpected");
  const times: number[] = [];
  for (let i = 0; i < 2; i++) {
    t = performance.now();
    await cli.runSample(cmd, () => {});
    times.push(performance.now() - t);
  }
  await Deno.remove(out).catch(() => {});
  console.log(JSON.stringify({
    processStartMs: bodyAt - spawnedAt,
    importMs,
    firstRunMs: times[0],
    secondRunMs: times[1],
    firstFromSpawnMs: bodyAt - spawnedAt + importMs + times[0],
  }));
}

// ---------------------------------------------------------------------------------------------
// Parent

type Result = Record<string, number>;

async function spawnChild(args: string[]): Promise<Result> {
  const spawnedAt = Date.now();
  const o = await new Deno.Command(Deno.execPath(), {
    args: [...args, "--spawned-at", String(spawnedAt)],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(o.stdout).trim().split("\n").pop() ?? "";
  if (!o.success) throw new Error(`child ${args.join(" ")} failed:\n${new TextDecoder().decode(o.stderr)}`);
  const r = JSON.parse(text) as Result;
  r.wallMs = Date.now() - spawnedAt;
  return r;
}

/** A whole command: wall time, and the numbers it prints. */
async function spawnCommand(args: string[], parse?: (out: string, err: string) => Result): Promise<Result> {
  const t0 = performance.now();
  const o = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const wallMs = performance.now() - t0;
  const out = new TextDecoder().decode(o.stdout), err = new TextDecoder().decode(o.stderr);
  if (!o.success) throw new Error(`deno ${args.join(" ")} failed (${o.code}):\n${err.slice(-2000)}`);
  return { wallMs, ...(parse ? parse(out, err) : {}) };
}

/** Spawn → listening → first 200 → second 200 of the edge server; always stops it. */
async function edgeOnce(native: boolean): Promise<Result> {
  const { startServer } = await import("../examples/edge/spawn.ts");
  const body = JSON.stringify({
    method: "tab",
    order: 3,
    steps: 10,
    grid: "time-quadratic",
    seed: 1,
    n: 1,
    format: "json",
  });
  const t0 = performance.now();
  const server = await startServer({ model: "models/mnist", startTimeoutMs: 60_000, native });
  const listening = performance.now() - t0;
  try {
    const post = async () => {
      const s = performance.now();
      const res = await fetch(`${server.url}/v1/samples`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`edge: status ${res.status}`);
      return { ms: performance.now() - s, sampleMs: Number(res.headers.get("x-sample-ms")) };
    };
    const first = await post();
    const firstAt = performance.now() - t0;
    const second = await post();
    // More requests until 6 s after listening: when does a request reach its steady time?
    const series: [number, number][] = [];
    while (performance.now() - t0 - listening < 6000 && series.length < 100) {
      const q = await post();
      series.push([performance.now() - t0, q.ms]);
    }
    const steady = series.length >= 5 ? median(series.slice(-5).map((x) => x[1])) : NaN;
    const steadyFrom = series.find((_, i) => series.slice(i).every((y) => y[1] <= 1.5 * steady))?.[0] ?? NaN;
    const line = server.stderr.find((l) => /loaded in/.test(l)) ?? "";
    const m = line.match(/loaded in (\d+) ms \(session warm-up (\d+) ms\)/);
    return {
      listeningMs: listening,
      firstResponseFromSpawnMs: firstAt,
      firstRequestMs: first.ms,
      firstSampleMs: first.sampleMs,
      secondRequestMs: second.ms,
      secondSampleMs: second.sampleMs,
      steadyRequestMs: steady,
      steadyFromSpawnMs: steadyFrom,
      loadAndWarmupMs: m ? Number(m[1]) : NaN,
      warmupMs: m ? Number(m[2]) : NaN,
    };
  } finally {
    await server.stop();
  }
}

async function loadAverage(): Promise<string> {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

async function parent(): Promise<void> {
  const repeats = Number(flags.repeats);
  const loadBefore = await loadAverage();
  const tmp = await Deno.makeTempDir({ prefix: "cold_start_" });
  const empty = `${tmp}/empty.ts`;
  await Deno.writeTextFile(empty, "export {};\n");
  const wasmFile = (await import("../examples/edge/ort_wasm_path.ts")).ortWasmPath();
  const compileScript = `${tmp}/compile.ts`;
  await Deno.writeTextFile(
    compileScript,
    `const b = await Deno.readFile(${JSON.stringify(wasmFile)});\n` +
      `const t = performance.now(); await WebAssembly.compile(b);\n` +
      `console.log(JSON.stringify({ bytes: b.length, compileMs: performance.now() - t }));\n`,
  );
  const demoPrinted = (out: string) => {
    const m = out.match(/\(([\d.]+) s including model load\)/);
    return { printedMs: m ? Number(m[1]) * 1000 : NaN };
  };
  const samplePrinted = (_: string, err: string) => {
    const m = err.match(/ in (\d+) ms\n/);
    return { sampleMs: m ? Number(m[1]) : NaN };
  };
  const png = `${tmp}/demo.png`;
  const items: { key: string; run: () => Promise<Result> }[] = [
    { key: "process:empty deno run", run: () => spawnCommand(["run", empty]) },
    {
      key: "process:ort_wasm_path (deno task edge's $(…))",
      run: () => spawnCommand(["run", "-q", "examples/edge/ort_wasm_path.ts"]),
    },
    { key: "wasm-compile:default", run: () => spawnCommand(["run", "-A", compileScript], (o) => JSON.parse(o)) },
    {
      key: "wasm-compile:--no-liftoff",
      run: () => spawnCommand(["run", "-A", "--v8-flags=--no-liftoff", compileScript], (o) => JSON.parse(o)),
    },
    ...(["native", "wasm"] as const).flatMap((b) => [
      {
        key: `process:deno task demo --backend ${b}`,
        run: () => spawnCommand(["task", "-q", "demo", "--backend", b, "--out", png], demoPrinted),
      },
      {
        key: `process:deno task sample --backend ${b}`,
        run: () =>
          spawnCommand(
            ["task", "-q", "sample", "--model", "models/mnist", "--n", "1", "--steps", "10", "--backend", b]
              .concat(["--out-json", "-"]),
            samplePrinted,
          ),
      },
      {
        key: `cli:demo ${b}`,
        run: () => spawnChild(["run", "-A", SELF, "--child", "cli", "--preset", "demo", "--backend", b]),
      },
      {
        key: `cli:sample ${b}`,
        run: () => spawnChild(["run", "-A", SELF, "--child", "cli", "--preset", "sample", "--backend", b]),
      },
      { key: `sdk:${b}`, run: () => spawnChild(["run", "-A", SELF, "--child", "sdk", "--backend", b]) },
    ]),
    {
      key: "sdk:wasm --v8-flags=--no-liftoff",
      run: () => spawnChild(["run", "-A", "--v8-flags=--no-liftoff", SELF, "--child", "sdk", "--backend", "wasm"]),
    },
    {
      key: "sdk:native --no-code-cache",
      run: () => spawnChild(["run", "-A", "--no-code-cache", SELF, "--child", "sdk", "--backend", "native"]),
    },
    { key: "edge:wasm", run: () => edgeOnce(false) },
    { key: "edge:native", run: () => edgeOnce(true) },
  ];
  const raw: Record<string, Result[]> = {};
  for (let r = 0; r < repeats; r++) {
    for (let i = 0; i < items.length; i++) {
      const it = items[(i + r) % items.length];
      try {
        (raw[it.key] ??= []).push(await it.run());
      } catch (e) {
        console.error(`${it.key}: ${(e as Error).message}`);
      }
    }
    console.error(`round ${r + 1}/${repeats} done (load ${await loadAverage()})`);
  }
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  const med: Record<string, Result> = {};
  for (const [k, rs] of Object.entries(raw)) {
    med[k] = {};
    for (const f of Object.keys(rs[0])) med[k][f] = median(rs.map((x) => x[f]));
  }
  const result = {
    date: new Date().toISOString(),
    load: `load average ${loadBefore} before, ${await loadAverage()} after; ${navigator.hardwareConcurrency} cores`,
    deno: Deno.version.deno,
    repeats,
    median: med,
    raw,
  };
  await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(
    new URL("./results/cold_start.json", import.meta.url),
    JSON.stringify(result, null, 2) + "\n",
  );
  const md = markdown(result);
  await Deno.writeTextFile(new URL("./results/cold_start.md", import.meta.url), md.join("\n") + "\n");
  console.log(md.join("\n"));
}

function markdown(r: { date: string; load: string; deno: string; repeats: number; median: Record<string, Result> }) {
  const m = r.median;
  const f = (v: number | undefined) => v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(0);
  const lines = [
    `# Cold start`,
    ``,
    `${r.date}, Deno ${r.deno}, ${r.load}. \`deno run -A bench/cold_start.ts\`: every configuration ${r.repeats}×,`,
    `interleaved round by round; medians, in ms. MNIST, tab3, 10 steps, time-quadratic.`,
    ``,
    `## Cold (fresh process) vs warm (same process, second run)`,
    ``,
    `| what | backend | cold: spawn → first sample done | warm: second run in the process | cold ÷ warm |`,
    `|---|---|---|---|---|`,
  ];
  for (const b of ["native", "wasm"]) {
    const d = m[`process:deno task demo --backend ${b}`], dc = m[`cli:demo ${b}`];
    if (d && dc) {
      lines.push(
        `| \`deno task demo\` (n = 64; whole process; demo prints ${f(d.printedMs)}) | ${b} | ${f(d.wallMs)} | ${
          f(dc.secondRunMs)
        } | ${(d.wallMs / dc.secondRunMs).toFixed(1)}× |`,
      );
    }
    const s = m[`process:deno task sample --backend ${b}`], sc = m[`cli:sample ${b}`];
    if (s && sc) {
      lines.push(
        `| \`deno task sample … --n 1 --steps 10 --out-json -\` (whole process; sampling ${f(s.sampleMs)}) | ${b} | ${
          f(s.wallMs)
        } | ${f(sc.secondRunMs)} | ${(s.wallMs / sc.secondRunMs).toFixed(1)}× |`,
      );
    }
  }
  for (const b of ["wasm", "native"]) {
    const e = m[`edge:${b}`];
    if (!e) continue;
    lines.push(
      `| edge server: spawn → first 200 (n = 1; listening at ${f(e.listeningMs)}) | ${b} | ${
        f(e.firstResponseFromSpawnMs)
      } | second request ${f(e.secondRequestMs)}; steady request ${f(e.steadyRequestMs)} | ${
        (e.firstResponseFromSpawnMs / e.steadyRequestMs).toFixed(0)
      }× (vs steady) |`,
    );
  }
  lines.push(
    ``,
    `In-process runs of the CLI (\`runSample\` twice in one child process; each run loads the model and creates its`,
    `session again, as the CLI does, but the runtime is started):`,
    ``,
    `| preset | backend | process start | import CLI + SDK | first run | second run | spawn → first done |`,
    `|---|---|---|---|---|---|---|`,
  );
  for (const p of ["demo", "sample"]) {
    for (const b of ["native", "wasm"]) {
      const c = m[`cli:${p} ${b}`];
      if (!c) continue;
      lines.push(
        `| ${p} | ${b} | ${f(c.processStartMs)} | ${f(c.importMs)} | ${f(c.firstRunMs)} | ${f(c.secondRunMs)} | ${
          f(c.firstFromSpawnMs)
        } |`,
      );
    }
  }
  lines.push(
    ``,
    `## Breakdown of the cold time (SDK calls one by one, batch 1, then batch 64)`,
    ``,
    `| step | ${Object.keys(m).filter((k) => k.startsWith("sdk:")).map((k) => k.slice(4)).join(" | ")} |`,
    `|---|${"---|".repeat(Object.keys(m).filter((k) => k.startsWith("sdk:")).length)}`,
  );
  const sdkKeys = Object.keys(m).filter((k) => k.startsWith("sdk:"));
  const rows: [string, string][] = [
    ["spawn → script body (Deno start)", "processStartMs"],
    ["import onnxruntime-web (WASM build)", "importOrtWebWasmMs"],
    ["import onnxruntime-web/webgpu", "importOrtWebWebGpuMs"],
    ["import the SDK (rest of mod.ts)", "importSdkRestMs"],
    ["import onnxruntime-node + load the addon", "importOrtNodeMs"],
    ["loadModel (read model.json + model.onnx)", "loadModelMs"],
    ["runtime start (first session, tiny model)", "runtimeStartMs"],
    ["MNIST session creation", "sessionMs"],
    ["1st sample (n = 1): first evaluation", "first.firstEval"],
    ["1st sample: other 9 evaluations", "first.otherEvals"],
    ["1st sample: outside evaluations", "first.outsideEvals"],
    ["1st sample: total", "first.total"],
    ["spawn → 1st sample done", "firstSampleFromSpawnMs"],
    ["2nd sample (n = 1): first evaluation", "second.firstEval"],
    ["2nd sample: total", "second.total"],
    ["3rd sample: total", "third.total"],
    ["4th sample, with onProgress (as the CLI): total", "progress.total"],
    ["4th sample, with onProgress: outside evaluations", "progress.outsideEvals"],
    ["steady n = 1 sample (median of the last 5 before 5 s)", "steadyN1TotalMs"],
    ["runtime start → n = 1 samples within 1.5× of steady", "tierUpAfterRuntimeStartMs"],
    ["1st sample at n = 64: first evaluation", "b64first.firstEval"],
    ["1st sample at n = 64: total", "b64first.total"],
    ["2nd sample at n = 64: total", "b64second.total"],
    ["wall time of the child", "wallMs"],
  ];
  for (const [label, key] of rows) {
    lines.push(`| ${label} | ${sdkKeys.map((k) => f(m[k][key])).join(" | ")} |`);
  }
  const dash = (k: string, g: string) => f(m[k]?.[g]);
  lines.push(
    ``,
    `Floors: an empty \`deno run\` ${dash("process:empty deno run", "wallMs")} ms; the \`$(deno run -q`,
    `examples/edge/ort_wasm_path.ts)\` that \`deno task edge\` runs first ${
      dash("process:ort_wasm_path (deno task edge's $(…))", "wallMs")
    } ms; compiling onnxruntime-web's`,
    `WebAssembly binary (${dash("wasm-compile:default", "bytes")} bytes) alone: ${
      dash("wasm-compile:default", "compileMs")
    } ms (default) / ${dash("wasm-compile:--no-liftoff", "compileMs")} ms`,
    `(\`--v8-flags=--no-liftoff\`): V8 compiles WebAssembly lazily, so this is mostly validation; the code is compiled on first`,
    `call (Liftoff), then hot functions are recompiled by TurboFan in the background (the tier-up row above; with`,
    `\`--no-liftoff\` each first call compiles optimised code at once, see the runtime-start row).`,
  );
  for (const b of ["wasm", "native"]) {
    const k = `edge:${b}`;
    if (!m[k]) continue;
    lines.push(
      `Edge server (${b}): model load + warm-up ${dash(k, "loadAndWarmupMs")} ms (warm-up sampling ${
        dash(k, "warmupMs")
      } ms); first request ${dash(k, "firstRequestMs")} ms (sampling ${dash(k, "firstSampleMs")} ms), second ${
        dash(k, "secondRequestMs")
      } ms (sampling ${
        dash(k, "secondSampleMs")
      } ms); steady request (median of the last 5 before 6 s after listening) ${
        dash(k, "steadyRequestMs")
      } ms, all requests within 1.5× of it from ${dash(k, "steadyFromSpawnMs")} ms after the spawn.`,
    );
  }
  return lines;
}

if (flags.child === "sdk") {
  await childSdk(flags.backend as "native" | "wasm", Number(flags["spawned-at"]));
} else if (flags.child === "cli") {
  await childCli(flags.preset as "demo" | "sample", flags.backend!, Number(flags["spawned-at"]));
} else if (flags["md-only"]) {
  // Re-renders cold_start.md from cold_start.json (no measurements).
  const r = JSON.parse(await Deno.readTextFile(new URL("./results/cold_start.json", import.meta.url)));
  const md = markdown(r);
  await Deno.writeTextFile(new URL("./results/cold_start.md", import.meta.url), md.join("\n") + "\n");
  console.log(md.join("\n"));
} else {
  await parent();
}
