/**
 * The one place onnxruntime-web is imported, as two module instances:
 *
 * - `ortWebGpu` (`onnxruntime-web/webgpu`): onnxruntime's native WebGPU execution provider,
 *   compiled to WebAssembly; its GPUDevice is the one our kernels run on. Its WebAssembly build has
 *   a reduced kernel set (no float64 `Mul`), so it is used for WebGPU sessions only.
 * - `ortWasm` (the package's main entry; under Deno's `node` export condition a WASM-only build
 *   with the full CPU kernel set, float64 included): used for WASM sessions.
 *
 * (The `/all` JSEP build, which has both, fails in Deno 2.9 when uploading initializers to the GPU.)
 * Tensors must be made by the instance whose session consumes them: use {@link ortFor}.
 *
 * @module
 */

// Full npm: specifiers (not bare names mapped by our deno.json) so that the package works when a
// user's own project imports it by path or URL, without copying our import map (tests/use_from_project.test.ts).
// deno-lint-ignore no-import-prefix
import * as ortWasm from "npm:onnxruntime-web@1.30.0";
// deno-lint-ignore no-import-prefix
import * as ortWebGpu from "npm:onnxruntime-web@1.30.0/webgpu";
import { nativeOrt } from "./ort_native.ts";

export { ortWasm, ortWebGpu };

/** The onnxruntime-web module type (both instances share the declarations). */
export type Ort = typeof ortWebGpu;

/** The onnxruntime instance for an execution provider (`native`: onnxruntime-node, once loaded). */
export function ortFor(kind: "webgpu" | "wasm" | "native"): Ort {
  if (kind === "native") return nativeOrt();
  return kind === "webgpu" ? ortWebGpu : ortWasm as unknown as Ort;
}

/** `navigator.gpu` when the runtime exposes WebGPU (Deno 2.9 does without flags), else undefined. */
export function webgpuApi(): GPU | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  return nav?.gpu ?? undefined;
}

let adapterProbe: Promise<GPUAdapter | null> | undefined;

/** The default adapter, requested once per process; null when there is none. */
export function probeAdapter(): Promise<GPUAdapter | null> {
  const gpu = webgpuApi();
  if (!gpu) return Promise.resolve(null);
  adapterProbe ??= gpu.requestAdapter().catch(() => null);
  return adapterProbe;
}

/** A one-line description of an adapter, e.g. `"llvmpipe (LLVM 15.0.6, 256 bits) (fallback)"`. */
export function describeAdapter(a: GPUAdapter): string {
  const info = (a as GPUAdapter & {
    info?: GPUAdapterInfo & { isFallbackAdapter?: boolean };
  }).info;
  const text = [
    info?.vendor,
    info?.architecture,
    info?.device,
    info?.description,
  ].filter((s) => s).join(" ");
  const fallback = (info?.isFallbackAdapter ??
      (a as { isFallbackAdapter?: boolean }).isFallbackAdapter)
    ? " (fallback)"
    : "";
  return (info?.description || text || "unknown adapter") + fallback;
}

/** An onnxruntime tensor. */
export type OrtTensor = ortWebGpu.Tensor;
/** An onnxruntime inference session. */
export type OrtSession = ortWebGpu.InferenceSession;
/** onnxruntime session options. */
export type OrtSessionOptions = ortWebGpu.InferenceSession.SessionOptions;
/** The outputs of a run. */
export type OrtOutputs = ortWebGpu.InferenceSession.OnnxValueMapType;
