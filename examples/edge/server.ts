/**
 * The edge sampling service: one model, loaded once, sampled on onnxruntime-web's WASM backend
 * behind a small HTTP/1.1 layer (`http1.ts`: connection cap, header/body time-outs; `Deno.serve`
 * has neither). See README.md beside this file.
 *
 *     deno task edge                       # models/latent-mnist on 127.0.0.1:8787
 *     deno task edge --model models/mnist  # the unconditional pixel-space MNIST network
 *     deno run --no-prompt --allow-net=127.0.0.1 \
 *       --allow-read=models/gmm-image,$(deno run -q examples/edge/ort_wasm_path.ts) \
 *       examples/edge/server.ts --model models/gmm-image --port 8787
 *
 * Flags: `--model <dir>` (default models/latent-mnist; a manifest path such as
 * models/latent-mnist/model.fp16.json picks one of a directory's manifests), `--backend wasm|native` (default wasm: edge isolates
 * load no native addons; `native` runs onnxruntime-node for self-hosted servers and needs
 * `--allow-ffi`), `--hostname` (127.0.0.1), `--port` (8787; 0 picks
 * a free one), `--concurrency` (2), `--queue` (6), `--max-body` (16384), `--max-n` (64),
 * `--max-steps` (1000), `--deadline-ms` (120000), `--max-connections` (256),
 * `--header-timeout-ms` (10000), `--body-timeout-ms` (10000). The model directory may also come from the
 * environment variable `DEIS_EDGE_MODEL`, read only when `--allow-env=DEIS_EDGE_MODEL` is given.
 *
 * Permissions: `--allow-net` for the listening address, `--allow-read` for the model directory and
 * for onnxruntime-web's own `ort-wasm-simd-threaded.wasm` (read from the npm cache when the first
 * session is created; `ort_wasm_path.ts` prints its path). Run with `--unstable-raw-imports` and
 * that second read is not needed: the binary is then imported as bytes (module loading needs no
 * permission) and handed to onnxruntime with `configureRuntime({ wasmBinary })`.
 *
 * Prints `listening on http://HOST:PORT/` on stdout once the model is loaded and its session warm;
 * one line per request on stderr. SIGINT/SIGTERM stop it gracefully.
 *
 * @module
 */

import { configureRuntime, loadModel, makePlan, type Model, modelPlanConfig, sample } from "../../mod.ts";
import { ortWasmPath } from "./ort_wasm_path.ts";
import { classInput, createService } from "./service.ts";
import { serveHttp1 } from "./http1.ts";

interface Flags {
  model: string;
  backend: "wasm" | "native";
  hostname: string;
  port: number;
  concurrency: number;
  queue: number;
  maxBody: number;
  maxN: number;
  maxSteps: number;
  deadlineMs: number;
  maxConnections: number;
  headerTimeoutMs: number;
  bodyTimeoutMs: number;
}

function fail(message: string, code = 2): never {
  console.error(`edge server: ${message}`);
  Deno.exit(code);
}

function envModel(): string | undefined {
  const name = "DEIS_EDGE_MODEL";
  const st = Deno.permissions.querySync({ name: "env", variable: name });
  return st.state === "granted" ? Deno.env.get(name) : undefined;
}

function parseFlags(args: string[]): Flags {
  const f: Flags = {
    model: envModel() ?? "models/latent-mnist",
    backend: "wasm",
    hostname: "127.0.0.1",
    port: 8787,
    concurrency: 2,
    queue: 6,
    maxBody: 16_384,
    maxN: 64,
    maxSteps: 1000,
    deadlineMs: 120_000,
    maxConnections: 256,
    headerTimeoutMs: 10_000,
    bodyTimeoutMs: 10_000,
  };
  const ints: Record<string, [keyof Flags, number, number]> = {
    "--port": ["port", 0, 65535],
    "--concurrency": ["concurrency", 1, 16],
    "--queue": ["queue", 0, 1000],
    "--max-body": ["maxBody", 2, 1 << 20],
    "--max-n": ["maxN", 1, 1024],
    "--max-steps": ["maxSteps", 1, 10_000],
    "--deadline-ms": ["deadlineMs", 100, 3_600_000],
    "--max-connections": ["maxConnections", 1, 65_536],
    "--header-timeout-ms": ["headerTimeoutMs", 50, 600_000],
    "--body-timeout-ms": ["bodyTimeoutMs", 50, 600_000],
  };
  for (let i = 0; i < args.length; i++) {
    let [flag, value] = args[i].split(/=(.*)/s, 2) as [
      string,
      string | undefined,
    ];
    if (flag === "--help" || flag === "-h") {
      console.log(
        "flags: --model DIR --backend wasm|native --hostname H --port P --concurrency C --queue Q --max-body B " +
          "--max-n N --max-steps S --deadline-ms MS --max-connections C --header-timeout-ms MS --body-timeout-ms MS",
      );
      Deno.exit(0);
    }
    if (value === undefined) {
      value = args[++i];
      if (value === undefined) fail(`${flag} needs a value`);
    }
    if (flag === "--model") f.model = value;
    else if (flag === "--backend") {
      if (value !== "wasm" && value !== "native") {
        fail(`--backend must be wasm or native (got ${JSON.stringify(value)})`);
      }
      f.backend = value;
    } else if (flag === "--hostname") f.hostname = value;
    else if (flag in ints) {
      const [key, lo, hi] = ints[flag];
      const v = Number(value);
      if (!Number.isInteger(v) || v < lo || v > hi) {
        fail(
          `${flag} must be an integer in [${lo}, ${hi}] (got ${JSON.stringify(value)})`,
        );
      }
      (f[key] as number) = v;
    } else fail(`unknown flag ${flag}`);
  }
  return f;
}

/** Hands onnxruntime its WASM binary when `--unstable-raw-imports` allows importing it as bytes. */
async function provideOrtWasm(): Promise<string> {
  // One thread: worker threads would need more permissions, and requests share one model anyway.
  try {
    const mod = await import("onnxruntime-web/ort-wasm-simd-threaded.wasm", {
      with: { type: "bytes" },
    });
    configureRuntime({ numThreads: 1, wasmBinary: mod.default });
    return "imported as bytes (--unstable-raw-imports)";
  } catch {
    const path = ortWasmPath();
    const st = Deno.permissions.querySync({ name: "read", path });
    if (st.state !== "granted") {
      fail(
        `onnxruntime-web reads its WebAssembly binary from ${path}: add it to --allow-read ` +
          `(or run with --unstable-raw-imports)`,
      );
    }
    configureRuntime({ numThreads: 1 });
    return `read by onnxruntime from ${path}`;
  }
}

async function warmUp(
  model: Model,
  backend: "wasm" | "native",
): Promise<{ ms: number; unitsPerMs: number; overheadSamples: number }> {
  const run = async (n: number, steps: number) => {
    const t0 = performance.now();
    await sample({
      model,
      plan: makePlan(modelPlanConfig(model, { method: "ddim", steps })),
      n,
      seed: 0,
      backend,
    });
    return performance.now() - t0;
  };
  const ms = await run(1, 1);
  // The throughput assumed by Retry-After until requests have measured it: one network evaluation
  // of a batch of n costs a + b·n ms. A unit of work is one sample through one evaluation (b ms);
  // a request's work is nfe × (n + a/b), a/b being the per-evaluation overhead in samples.
  // The first runs are slow while V8 tiers the WASM code up (measured on models/mnist: about 3×),
  // so repeat, for at most 1.5 s, until a run is no faster than the best one; keep the best.
  const best = async (n: number) => {
    let min = Infinity;
    const until = performance.now() + 1500;
    for (let i = 0; i < 20 && performance.now() < until; i++) {
      const t = await run(n, 8);
      if (t >= 0.97 * min && i >= 2) break;
      min = Math.min(min, t);
    }
    return min / 8;
  };
  const t8 = await best(8);
  const t1 = await best(1);
  const b = Math.max(1e-3, (t8 - t1) / 7);
  const a = Math.max(0, t1 - b);
  return { ms, unitsPerMs: 1 / b, overheadSamples: Math.min(1000, a / b) };
}

async function main(): Promise<void> {
  const flags = parseFlags(Deno.args);
  const readModel = Deno.permissions.querySync({
    name: "read",
    path: flags.model,
  });
  if (readModel.state !== "granted") {
    fail(
      `no read access to the model directory ${flags.model}: add it to --allow-read`,
    );
  }
  const net = Deno.permissions.querySync({ name: "net", host: flags.hostname });
  if (net.state !== "granted") {
    fail(`no net access to ${flags.hostname}: add --allow-net`);
  }
  if (flags.backend === "native" && Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    fail("--backend native loads onnxruntime-node, a native addon: add --allow-ffi");
  }
  const ortWasm = flags.backend === "wasm" ? await provideOrtWasm() : "not used (native backend)";
  if (flags.backend === "native") configureRuntime({ numThreads: 1 });

  const t0 = performance.now();
  let model: Model;
  try {
    model = await loadModel(flags.model);
  } catch (e) {
    fail(`cannot load the model: ${(e as Error).message}`, 1);
  }
  let warmMs: number, unitsPerMs: number, overheadSamples: number;
  try {
    ({ ms: warmMs, unitsPerMs, overheadSamples } = await warmUp(model, flags.backend));
  } catch (e) {
    fail(`the model does not sample on ${flags.backend}: ${(e as Error).message}`, 1);
  }
  const classes = classInput(model);
  console.error(
    `edge server: model ${model.name} [${model.sampleShape}]${
      model.manifest.decoder ? ` → decoder [${model.manifest.decoder.outputShape}]` : ""
    }${classes ? `, ${classes.classes} classes (${classes.name})` : ""} from ${flags.model} loaded in ${
      (performance.now() - t0).toFixed(0)
    } ms (session warm-up ${warmMs.toFixed(0)} ms); backend ${flags.backend}, onnxruntime wasm ${ortWasm}, ` +
      `1 thread; queue: ${flags.concurrency} running + ${flags.queue} waiting`,
  );

  const http = {
    maxConnections: flags.maxConnections,
    headerTimeoutMs: flags.headerTimeoutMs,
    bodyTimeoutMs: flags.bodyTimeoutMs,
  };
  let httpStats: () => unknown = () => undefined;
  const service = await createService(model, {
    concurrency: flags.concurrency,
    queue: flags.queue,
    maxBodyBytes: flags.maxBody,
    maxN: flags.maxN,
    maxSteps: flags.maxSteps,
    deadlineMs: flags.deadlineMs,
    ortWasm,
    backend: flags.backend,
    unitsPerMs,
    overheadSamples,
    http,
    httpStats: () => httpStats(),
  });
  const server = serveHttp1(service.handler, {
    hostname: flags.hostname,
    port: flags.port,
    ...http,
    onListen: (addr) => {
      const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
      console.log(`listening on http://${host}:${addr.port}/`);
    },
    onEvent: (e) => service.record(e.status, e.method, e.path, e.ms, e.note, e.remote),
  });
  httpStats = server.stats;

  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`edge server: ${sig}, shutting down`);
    await server.shutdown();
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(sig, () => void stop(sig));
    } catch {
      console.error("edge server: no listener for " + sig);
    }
  }
  await server.finished;
  await model.dispose();
  console.error("edge server: stopped");
}

if (import.meta.main) await main();
