/**
 * Where onnxruntime-web's WebAssembly binary lies on disk, for a narrow `--allow-read`.
 *
 * onnxruntime-web (its Node/Deno build, which the SDK's WASM backend uses) does not embed its
 * ~14 MB `ort-wasm-simd-threaded.wasm`: it reads it with `fs.readFileSync` from the directory of
 * its own module, i.e. from Deno's npm cache (or `node_modules/` when the project uses one).
 * Module imports need no permission, but that read does. This prints the one file to allow:
 *
 *     deno run -q examples/edge/ort_wasm_path.ts
 *     # /root/.cache/deno/npm/registry.npmjs.org/onnxruntime-web/1.30.0/dist/ort-wasm-simd-threaded.wasm
 *
 * It runs with no permissions at all (`import.meta.resolve` consults the import map and the npm
 * resolution only), so `deno task edge` can use it in a `$(...)` substitution.
 *
 * @module
 */

/** The specifier of the binary (exported by onnxruntime-web's package.json). */
export const ORT_WASM_SPECIFIER = "onnxruntime-web/ort-wasm-simd-threaded.wasm";

/** A `file:` URL → a local path (POSIX, and `C:/…` on Windows). */
export function fileUrlToPath(url: string): string {
  const u = new URL(url);
  if (u.protocol !== "file:") throw new Error(`not a file URL: ${url}`);
  const p = decodeURIComponent(u.pathname);
  return /^\/[A-Za-z]:\//.test(p) ? p.slice(1) : p;
}

/** The absolute path of onnxruntime-web's `ort-wasm-simd-threaded.wasm`. */
export function ortWasmPath(): string {
  return fileUrlToPath(import.meta.resolve(ORT_WASM_SPECIFIER));
}

if (import.meta.main) console.log(ortWasmPath());
