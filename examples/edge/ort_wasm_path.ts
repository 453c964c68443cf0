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

import { ortWasmBinaryPath } from "../../src/runtime/wasm_binary.ts";

/** The absolute path of onnxruntime-web's `ort-wasm-simd-threaded.wasm` (the SDK's `ortWasmBinaryPath`). */
export function ortWasmPath(): string {
  return ortWasmBinaryPath();
}

if (import.meta.main) console.log(ortWasmPath());
