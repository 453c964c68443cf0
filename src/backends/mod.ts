/**
 * Backends of the sampling loop: `webgpu` (everything on the GPU, one readback), `wasm`
 * (onnxruntime WASM EP, update on the CPU), `cpu` (float64 loop over a JS ε function) and `auto`.
 *
 * @example
 * ```ts
 * import { createBackend } from "@seed/deis";
 * const backend = await createBackend("auto");
 * console.log(backend.name, backend.reason);
 * ```
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { createCpuBackend, createWasmBackend } from "./cpu.ts";
import { describeAdapter, probeAdapter } from "./ort.ts";
import type { Backend, BackendName } from "./types.ts";
import { createWebGpuBackend, type WebGpuBackendOptions } from "./webgpu.ts";

export type * from "./types.ts";
export { createCpuBackend, createWasmBackend } from "./cpu.ts";
export {
  BackendUnavailableError,
  createWebGpuBackend,
  GpuError,
  ortDevice,
  type WebGpuBackendOptions,
} from "./webgpu.ts";
export { type GpuBufferStats, gpuBufferStats } from "./gpu_memory.ts";
export { fillGaussian, gaussian, NOISE_STREAM, philox4x32, seedWords } from "./noise.ts";
export { describeAdapter, ortFor, ortWasm, ortWebGpu, probeAdapter } from "./ort.ts";
export { configureRuntime, type RuntimeSettings } from "./runtime.ts";

/** What `sample` accepts as a backend: a name or a backend object. */
export type BackendChoice = BackendName | "auto" | Backend;

/**
 * Creates a backend by name. `auto` picks `webgpu` when a hardware WebGPU adapter exists, else
 * `wasm` (a software "fallback" adapter such as llvmpipe or SwiftShader is used by `auto` only with
 * `allowFallbackAdapter: true`, and always by `webgpu`); the chosen backend's `reason` says why.
 *
 * @example
 * ```ts
 * import { createBackend, loadModel, makePlan, sample } from "@seed/deis";
 * const backend = await createBackend("auto");
 * console.log(backend.name, backend.reason); // e.g. "wasm" "no WebGPU adapter"
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
    case "cpu":
      return createCpuBackend();
    case "auto": {
      const adapter = await probeAdapter();
      if (adapter) {
        const d = describeAdapter(adapter);
        // A fallback adapter (Mesa llvmpipe, SwiftShader) runs WebGPU on the CPU, far slower than
        // the WASM backend, so `auto` takes it only when asked to; `webgpu` always accepts it.
        if (!d.endsWith("(fallback)") || options.allowFallbackAdapter === true) {
          const b = await createWebGpuBackend(options);
          return { ...b, open: b.open, reason: `WebGPU adapter found: ${d}` };
        }
        return {
          ...createWasmBackend(),
          reason: `only a software (fallback) WebGPU adapter, ${d}: fell back to WASM, which is faster on the CPU`,
        };
      }
      return { ...createWasmBackend(), reason: "no WebGPU adapter" };
    }
    default:
      throw new ConfigError(
        "backend",
        '"auto", "webgpu", "wasm" or "cpu"',
        name,
      );
  }
}
