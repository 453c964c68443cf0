/**
 * onnxruntime-node, the native CPU build of onnxruntime, for Deno and Node processes (CLIs, servers,
 * benchmarks). It is imported dynamically, on first use only: browsers, edge isolates and the
 * `@seed/deis/plan` entry never load it (the browser bundle marks it external). Deno needs
 * `--allow-ffi` (and read access to its npm cache) to load the addon; without them it is reported
 * unavailable, with the reason, and `auto` uses WASM.
 *
 * @module
 */

import type { Ort } from "./ort.ts";

/** Whether this runtime can load a Node-API addon at all (Deno or Node, not a browser or worker isolate). */
function nativeCapableRuntime(): boolean {
  const g = globalThis as { Deno?: { version?: { deno?: string } }; process?: { versions?: { node?: string } } };
  return typeof g.Deno?.version?.deno === "string" || typeof g.process?.versions?.node === "string";
}

let loading: Promise<Ort | null> | undefined;
let loaded: Ort | undefined;
let reason = "not tried yet";

/**
 * Loads onnxruntime-node once; resolves to null (see {@link nativeUnavailableReason}) where the
 * runtime cannot load it.
 */
export function loadNativeOrt(): Promise<Ort | null> {
  loading ??= (async () => {
    if (!nativeCapableRuntime()) {
      reason = "not a Deno or Node process";
      return null;
    }
    try {
      // A full npm: specifier, like src/runtime/ort.ts's, so that no import map is needed.
      // deno-lint-ignore no-import-prefix
      const mod = await import("npm:onnxruntime-node@1.30.0");
      loaded = ((mod as { default?: unknown }).default ?? mod) as unknown as Ort;
      if (typeof loaded?.InferenceSession?.create !== "function") throw new Error("no InferenceSession export");
      reason = "";
      return loaded;
    } catch (e) {
      const msg = String((e as Error)?.message ?? e).split("\n")[0];
      reason = /ffi|NotCapable|PermissionDenied|Requires/i.test(msg)
        ? `onnxruntime-node needs --allow-ffi and read access to it (${msg})`
        : `onnxruntime-node could not be loaded (${msg})`;
      loaded = undefined;
      return null;
    }
  })();
  return loading;
}

/** Why the native runtime is unavailable ("" once it has loaded). */
export function nativeUnavailableReason(): string {
  return reason;
}

/** The loaded onnxruntime-node module (call {@link loadNativeOrt} first). */
export function nativeOrt(): Ort {
  if (!loaded) throw new Error(`onnxruntime-node is not loaded: ${reason}`);
  return loaded;
}
