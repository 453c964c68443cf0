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
   * WebAssembly threads per session, an integer in [1, 64] (onnxruntime's default: half the
   * cores). More than 1 needs `SharedArrayBuffer`, i.e. a cross-origin-isolated page in browsers.
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

/** Records that a session exists; from then on the runtime's settings are fixed. @internal */
export function markRuntimeStarted(): void {
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
  for (const ort of [ortWasm, ortWebGpu]) {
    if (numThreads !== undefined) ort.env.wasm.numThreads = numThreads;
    if (wasmPaths !== undefined) ort.env.wasm.wasmPaths = wasmPaths;
  }
  // The binary is that of the WASM-only build; the WebGPU build has its own and fetches it.
  if (wasmBinary !== undefined) ortWasm.env.wasm.wasmBinary = wasmBinary;
}
