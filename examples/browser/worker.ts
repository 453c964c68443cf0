/**
 * The sampling worker: loads the model once, then runs `sample` for each "generate" message and
 * posts per-step progress and the result. Running here keeps the page responsive (the WASM
 * backend computes synchronously inside each network call) and lets the progress bar repaint
 * between steps.
 *
 * @module
 */

import {
  type Backend,
  type BackendName,
  BackendUnavailableError,
  createBackend,
  loadModel,
  type Model,
  ModelError,
  planFromJSON,
  sample,
  type SampleResult,
} from "../../mod.ts";
import type { ErrorInfo, FromWorker, ToWorker } from "./protocol.ts";

/** What this module uses of DedicatedWorkerGlobalScope (typed locally: no webworker lib needed). */
const scope = self as unknown as {
  postMessage(message: unknown, transfer: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
  location: { href: string };
};

let model: Model | undefined;
const controllers = new Map<number, AbortController>();
/** Once WebGPU failed on this page, "auto" goes straight to WASM. */
let webgpuBroken: string | undefined;

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(msg, transfer);
}

function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof Error) {
    const field = (e as { field?: unknown }).field;
    return {
      name: e.name,
      message: e.message,
      field: typeof field === "string" ? field : undefined,
    };
  }
  return { name: "Error", message: String(e) };
}

async function describeAdapter(): Promise<string | null> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return null;
  try {
    const a = await gpu.requestAdapter();
    if (!a) return null;
    const info = a.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    const text = info.description ||
      [info.vendor, info.architecture, info.device].filter((s) => s).join(
        " ",
      ) ||
      "unknown adapter";
    return text + (info.isFallbackAdapter ? " (fallback)" : "");
  } catch {
    return null;
  }
}

/** WebGPU could not run this model here (no device, or onnxruntime's WebGPU session failed). */
function isWebGpuFailure(e: unknown): boolean {
  if (e instanceof BackendUnavailableError) return true;
  return e instanceof ModelError && e.field === "onnx" &&
    /webgpu/i.test(e.message);
}

async function generate(
  msg: Extract<ToWorker, { type: "generate" }>,
): Promise<void> {
  const ctl = new AbortController();
  controllers.set(msg.id, ctl);
  const t0 = performance.now();
  try {
    if (!model) throw new Error("the model is not loaded");
    const plan = planFromJSON(msg.plan);
    const runOn = async (name: BackendName): Promise<SampleResult> => {
      post({ type: "started", id: msg.id, backend: name });
      const backend: Backend = await createBackend(name);
      return await runWith(backend);
    };
    const runWith = (backend: Backend): Promise<SampleResult> =>
      sample({
        model: model!,
        plan,
        n: msg.n,
        seed: msg.seed,
        backend,
        guidance: msg.guidance,
        conditioning: msg.conditioning,
        denoiseFinal: msg.denoiseFinal,
        signal: ctl.signal,
        onProgress: (p) => post({ type: "progress", id: msg.id, ...p }),
      });
    let result: SampleResult;
    let fallback: string | undefined;
    if (msg.backend !== "auto") {
      result = await runOn(msg.backend);
    } else if (model.dtype === "float64") {
      result = await runOn("wasm"); // WebGPU has no float64
    } else if (webgpuBroken) {
      result = await runOn("wasm");
      fallback = webgpuBroken;
    } else {
      // "auto" as the SDK resolves it (WebGPU when there is an adapter), announced before the run,
      // and retried on WASM when WebGPU cannot run this model here.
      let auto: Backend;
      try {
        auto = await createBackend("auto");
      } catch (e) {
        if (!isWebGpuFailure(e)) throw e;
        auto = await createBackend("wasm");
        fallback = (e as Error).message;
      }
      post({ type: "started", id: msg.id, backend: auto.name });
      try {
        result = await runWith(auto);
      } catch (e) {
        if (auto.name !== "webgpu" || !isWebGpuFailure(e)) throw e;
        webgpuBroken = (e as Error).message;
        fallback = webgpuBroken;
        result = await runOn("wasm");
      }
    }
    const data = result.data;
    post({
      type: "done",
      id: msg.id,
      data,
      shape: result.shape,
      backend: result.backend,
      backendReason: result.backendReason,
      fallback,
      seed: result.seed,
      nfe: result.nfe,
      timings: result.timings,
      wall: performance.now() - t0,
    }, [data.buffer]);
  } catch (e) {
    post({ type: "error", id: msg.id, error: errorInfo(e) });
  } finally {
    controllers.delete(msg.id);
  }
}

scope.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  switch (msg.type) {
    case "load": {
      const t0 = performance.now();
      try {
        model = await loadModel(new URL(msg.url, scope.location.href));
        post({
          type: "loaded",
          manifest: model.manifest,
          adapter: await describeAdapter(),
          ms: performance.now() - t0,
        });
      } catch (e) {
        post({ type: "load-error", error: errorInfo(e) });
      }
      break;
    }
    case "generate":
      await generate(msg);
      break;
    case "abort":
      controllers.get(msg.id)?.abort("stopped by the user");
      break;
  }
};
