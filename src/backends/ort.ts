/**
 * The one place onnxruntime-web is imported. The `/webgpu` entry point carries both the WASM
 * execution provider and the WebGPU one (onnxruntime's native WebGPU EP compiled to WebAssembly),
 * and resolves to the same module for every importer, so there is one onnxruntime instance and one
 * GPUDevice per process. (The package's bare entry resolves to a WASM-only build under Deno's
 * `node` export condition.)
 *
 * @module
 */

import * as ort from "npm:onnxruntime-web@1.30.0/webgpu";

export { ort };

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
  const info = (a as GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
  const text = [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => s).join(" ");
  const fallback = (info?.isFallbackAdapter ?? (a as { isFallbackAdapter?: boolean }).isFallbackAdapter)
    ? " (fallback)"
    : "";
  return (info?.description || text || "unknown adapter") + fallback;
}
