/**
 * Where onnxruntime-web's WebAssembly binary is, and its bytes: for a narrow `--allow-read` in Deno
 * (its Node/Deno build reads the ~14 MB `ort-wasm-simd-threaded.wasm` from its own directory in the
 * npm cache when the first WASM session starts), and for runtimes that can neither read nor fetch
 * it, which hand the bytes to `configureRuntime({ wasmBinary })`.
 *
 * @example
 * ```ts
 * import { ortWasmBinaryPath } from "@seed/deis";
 * // deno run --allow-read=models/mnist,<this path> ...
 * console.log(ortWasmBinaryPath());
 * ```
 *
 * @module
 */

/** The specifier of the binary (exported by onnxruntime-web's package.json), pinned like the SDK's import. */
export const ORT_WASM_SPECIFIER = "npm:onnxruntime-web@1.30.0/ort-wasm-simd-threaded.wasm";

/** The binary's URL (a `file:` URL in Deno's npm cache, or `node_modules/` when the project uses one). */
export function ortWasmBinaryUrl(): string {
  // The literal (not ORT_WASM_SPECIFIER) lets `deno publish` analyse the call.
  return import.meta.resolve("npm:onnxruntime-web@1.30.0/ort-wasm-simd-threaded.wasm");
}

/**
 * The binary's path on disk (Deno; needs no permission: `import.meta.resolve` only consults the
 * npm resolution). Throws when the runtime resolves it to something other than a file.
 */
export function ortWasmBinaryPath(): string {
  const u = new URL(ortWasmBinaryUrl());
  if (u.protocol !== "file:") throw new Error(`onnxruntime-web's binary is not a local file here: ${u.href}`);
  const p = decodeURIComponent(u.pathname);
  return /^\/[A-Za-z]:\//.test(p) ? p.slice(1) : p;
}

/**
 * Reads the binary (needs read access to {@link ortWasmBinaryPath}, or fetches it where the URL is
 * not a file). Pass the result to `configureRuntime({ wasmBinary })` before the first session.
 */
export async function ortWasmBinary(): Promise<Uint8Array> {
  const url = ortWasmBinaryUrl();
  if (url.startsWith("file:")) return await Deno.readFile(ortWasmBinaryPath());
  return new Uint8Array(await (await fetch(url)).arrayBuffer());
}

/**
 * The path of the WebAssembly binary of onnxruntime-web's WebGPU build
 * (`ort-wasm-simd-threaded.asyncify.wasm`, read from the npm cache when the first WebGPU session starts):
 * the file a Deno program using the `webgpu` backend must be allowed to read.
 */
export function ortWebGpuBinaryPath(): string {
  const u = new URL(import.meta.resolve("npm:onnxruntime-web@1.30.0/ort-wasm-simd-threaded.asyncify.wasm"));
  if (u.protocol !== "file:") throw new Error(`onnxruntime-web's WebGPU binary is not a local file here: ${u.href}`);
  const p = decodeURIComponent(u.pathname);
  return /^\/[A-Za-z]:\//.test(p) ? p.slice(1) : p;
}
