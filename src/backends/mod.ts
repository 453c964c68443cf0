/**
 * For backend authors (`@seed/deis/backend`): the run contract a backend implements, the built-in
 * backends, the interpreter that runs a plan's program on a run, the noise generator every backend
 * must reproduce, the per-evaluation conversions, and the onnxruntime-web instances. Users who only
 * sample need the package root.
 *
 * @example
 * ```ts
 * import { createWasmBackend, type Run } from "@seed/deis/backend";
 * const backend = createWasmBackend();
 * console.log(backend.name, backend.description);
 * ```
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { createCpuBackend, createNativeBackend, createWasmBackend } from "./cpu.ts";
import { loadNativeOrt, nativeUnavailableReason } from "../runtime/ort_native.ts";
import { describeAdapter, probeAdapter } from "../runtime/ort.ts";
import type { Backend, BackendName } from "./types.ts";
import { createWebGpuBackend, type WebGpuBackendOptions } from "./webgpu.ts";

export type * from "./types.ts";
export { createCpuBackend, createNativeBackend, createWasmBackend } from "./cpu.ts";
export { createWebGpuBackend, ortDevice, type WebGpuBackendOptions } from "./webgpu.ts";
export { BackendUnavailableError, GpuError } from "../errors.ts";
export { type GpuBufferStats, gpuBufferStats } from "./gpu_memory.ts";
export { fillGaussian, gaussian, NOISE_STREAM, philox4x32, seedWords } from "./noise.ts";
export { describeAdapter, ortFor, probeAdapter } from "../runtime/ort.ts";
export { type Ort, type OrtOutputs, type OrtSession, type OrtSessionOptions, type OrtTensor } from "../runtime/ort.ts";
export { configureRuntime, type RuntimeSettings } from "../runtime/settings.ts";
export { interpret, type Progress, type RunContext } from "../sampling/interpreter.ts";
export { type PipelineContext, type Preview, type PreviewOptions } from "../sampling/pipeline.ts";
export { dataMap, type EpsMap, epsMap, type EvalPoint, predictionToEps, timeInput } from "../model/convert.ts";

/** What `sample` accepts as a backend: a name or a backend object. */
export type BackendChoice = BackendName | "auto" | Backend;

/**
 * The best CPU backend here: `native` where onnxruntime-node loads (Deno and Node with
 * `--allow-ffi`), else `wasm`; the reason says which and why.
 */
export async function bestCpuBackend(why: string): Promise<Backend> {
  if (await loadNativeOrt()) {
    return { ...(await createNativeBackend()), reason: `${why}; onnxruntime-node loaded: native CPU` };
  }
  return { ...createWasmBackend(), reason: `${why}; WASM (${nativeUnavailableReason()})` };
}

/**
 * Creates a backend by name. `auto` picks `webgpu` when a hardware WebGPU adapter exists, else
 * `native` where onnxruntime-node loads, else `wasm` (a software "fallback" adapter such as llvmpipe
 * or SwiftShader is used by `auto` only with `allowFallbackAdapter: true`, and always by `webgpu`);
 * the chosen backend's `reason` says why.
 *
 * @example
 * ```ts
 * import { createBackend, loadModel, makePlan, sample } from "@seed/deis";
 * const backend = await createBackend("auto");
 * console.log(backend.name, backend.reason); // e.g. "native" "no WebGPU adapter; onnxruntime-node loaded: native CPU"
 * const model = await loadModel("models/gmm-2d");
 * const r = await sample({ model, plan: makePlan({ steps: 10 }), backend });
 * await model.dispose();
 * ```
 */
export async function createBackend(
  name: BackendName | "auto" = "auto",
  options: WebGpuBackendOptions = {},
): Promise<Backend> {
  switch (name) {
    case "webgpu":
      return await createWebGpuBackend(options);
    case "wasm":
      return createWasmBackend();
    case "native":
      return await createNativeBackend();
    case "cpu":
      return createCpuBackend();
    case "auto": {
      const adapter = await probeAdapter();
      if (adapter) {
        const d = describeAdapter(adapter);
        // A fallback adapter (Mesa llvmpipe, SwiftShader) runs WebGPU on the CPU, far slower than
        // the CPU backends, so `auto` takes it only when asked to; `webgpu` always accepts it.
        if (!d.endsWith("(fallback)") || options.allowFallbackAdapter === true) {
          const b = await createWebGpuBackend(options);
          return { ...b, open: b.open, reason: `WebGPU adapter found: ${d}` };
        }
        return await bestCpuBackend(`only a software (fallback) WebGPU adapter, ${d}, which is slower on the CPU`);
      }
      return await bestCpuBackend("no WebGPU adapter");
    }
    default:
      throw new ConfigError(
        "backend",
        '"auto", "webgpu", "wasm", "native" or "cpu"',
        name,
      );
  }
}
