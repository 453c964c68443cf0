/**
 * Settings of the onnxruntime-web runtime under the `wasm` and `webgpu` backends: WASM thread count
 * and where its WebAssembly files come from. onnxruntime reads them once, when its first session
 * starts, so they must be set before the first model session is created.
 *
 * @example
 * ```ts
 * import { configureRuntime } from "@seed/deis";
 * configureRuntime({ numThreads: 1 }); // e.g. an edge worker without thread support
 * ```
 *
 * @module
 */

import { ConfigError, DeisError } from "../errors.ts";
import { ortWasm, ortWebGpu } from "./ort.ts";

/** The onnxruntime-web settings {@link configureRuntime} accepts. */
export interface RuntimeSettings {
  /**
   * Intra-op threads per session, an integer in [1, 64], for the `wasm` and `native` backends.
   * Default in Deno and Node: the core count, at most 4 (on 2 cores a second thread gave ~1.7× on a
   * quiet machine; under contention one thread per process is better, so servers running several
   * jobs at once may set 1). In browsers the WASM default is onnxruntime's (half the cores); more
   * than 1 needs `SharedArrayBuffer`, i.e. a cross-origin-isolated page.
   */
  numThreads?: number;
  /**
   * Where onnxruntime loads its `.wasm`/`.mjs` files from: a URL prefix ending in `/`, or a map
   * from file name to URL. For bundlers and CDNs.
   */
  wasmPaths?: string | Record<string, string>;
  /**
   * The binary of the `wasm` backend's runtime (`onnxruntime-web/ort-wasm-simd-threaded.wasm`),
   * for runtimes that can neither fetch nor read it (e.g. a sandboxed edge worker).
   */
  wasmBinary?: ArrayBuffer | Uint8Array;
}

let started = false;
let threads: number | undefined;

function serverRuntime(): boolean {
  const g = globalThis as { Deno?: { version?: { deno?: string } }; process?: { versions?: { node?: string } } };
  return typeof g.Deno?.version?.deno === "string" || typeof g.process?.versions?.node === "string";
}

/** The intra-op thread count sessions use: the configured one, else the default (see {@link RuntimeSettings}). */
export function intraOpThreads(): number {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  return threads ?? Math.max(1, Math.min(4, cores));
}

/** Records that a session exists; from then on the runtime's settings are fixed. @internal */
export function markRuntimeStarted(): void {
  // Only the WASM build's threads: the WebGPU build runs its kernels on the GPU, and its thread
  // pool needs blob-URL workers, which Deno refuses (its session creation then fails).
  if (!started && threads === undefined && serverRuntime()) ortWasm.env.wasm.numThreads = intraOpThreads();
  started = true;
}

/**
 * Applies onnxruntime-web settings for the `wasm` and `webgpu` backends. Call it before loading or
 * sampling: onnxruntime fixes its settings when the first session starts, so a later call throws
 * a {@link DeisError} instead of being silently ignored. Bad values throw a {@link ConfigError}
 * naming the setting.
 *
 * @example
 * ```ts
 * import { configureRuntime, loadModel } from "@seed/deis";
 * configureRuntime({ numThreads: 2 });
 * const model = await loadModel("models/mnist/");
 * await model.dispose();
 * ```
 */
export function configureRuntime(settings: RuntimeSettings): void {
  if (settings === null || typeof settings !== "object") {
    throw new ConfigError("settings", "an object", settings);
  }
  const known = new Set(["numThreads", "wasmPaths", "wasmBinary"]);
  for (const k of Object.keys(settings)) {
    if (!known.has(k)) throw new ConfigError(k, `one of ${[...known].join(", ")}`, (settings as never)[k]);
  }
  const { numThreads, wasmPaths, wasmBinary } = settings;
  if (numThreads !== undefined && !(Number.isInteger(numThreads) && numThreads >= 1 && numThreads <= 64)) {
    throw new ConfigError("numThreads", "an integer in [1, 64]", numThreads);
  }
  if (
    wasmPaths !== undefined && typeof wasmPaths !== "string" &&
    !(typeof wasmPaths === "object" && wasmPaths !== null &&
      Object.values(wasmPaths).every((v) => typeof v === "string"))
  ) {
    throw new ConfigError("wasmPaths", "a URL prefix string or a map from file name to URL", wasmPaths);
  }
  if (wasmBinary !== undefined && !(wasmBinary instanceof ArrayBuffer || wasmBinary instanceof Uint8Array)) {
    throw new ConfigError("wasmBinary", "an ArrayBuffer or Uint8Array holding the .wasm file", wasmBinary);
  }
  if (started) {
    throw new DeisError(
      "configureRuntime: onnxruntime has already started a session and ignores later settings; " +
        "call configureRuntime before loadModel/sample",
    );
  }
  if (numThreads !== undefined) threads = numThreads;
  if (numThreads !== undefined) ortWasm.env.wasm.numThreads = numThreads;
  for (const ort of [ortWasm, ortWebGpu]) {
    if (wasmPaths !== undefined) ort.env.wasm.wasmPaths = wasmPaths;
  }
  // The binary is that of the WASM-only build; the WebGPU build has its own and fetches it.
  if (wasmBinary !== undefined) ortWasm.env.wasm.wasmBinary = wasmBinary;
}
