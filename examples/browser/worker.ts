/**
 * The sampling worker, the only part of the demo that loads onnxruntime: loads the model, runs
 * `sample` for each "generate" message and posts per-step progress and the result (the decoded
 * digits when the model has a decoder). Running here keeps the page responsive (the WASM backend
 * computes synchronously inside each network call) and lets the progress bar repaint between steps.
 *
 * Which network: a model may come as a float32 and a float16 manifest. WebGPU runs the float16 one
 * when the adapter offers `shader-f16`; WASM (whose float16 kernels would only widen to float32)
 * and adapters without `shader-f16` run the float32 one. Each network is fetched only once a run
 * needs it, so a page that stays on one backend downloads one network.
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
import type { BackendChoiceName, CatalogModel, ErrorInfo, FromWorker, NetworkInfo, ToWorker } from "./protocol.ts";

/** What this module uses of DedicatedWorkerGlobalScope (typed locally: no webworker lib needed). */
const scope = self as unknown as {
  postMessage(message: unknown, transfer: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
  location: { href: string };
};

/** The model folder and its catalogue entry. */
let source: { url: string; model: CatalogModel } | undefined;
/** Loaded networks by manifest file name. */
const models = new Map<string, Promise<Model>>();
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

interface AdapterInfo {
  text: string;
  fallback: boolean;
  shaderF16: boolean;
}

let adapterInfo: Promise<AdapterInfo | null> | undefined;

/** The default WebGPU adapter, described once per worker. */
function adapter(): Promise<AdapterInfo | null> {
  adapterInfo ??= (async () => {
    const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
    if (!gpu) return null;
    try {
      const a = await gpu.requestAdapter();
      if (!a) return null;
      const info = a.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
      const text = info.description ||
        [info.vendor, info.architecture, info.device].filter((s) => s).join(" ") ||
        "unknown adapter";
      const fallback = info.isFallbackAdapter ?? (a as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
      return { text: text + (fallback ? " (fallback)" : ""), fallback, shaderF16: a.features.has("shader-f16") };
    } catch {
      return null;
    }
  })();
  return adapterInfo;
}

/** The backend a choice comes to, as the SDK's `auto` decides (software adapters lose to WASM). */
async function resolveBackend(choice: BackendChoiceName): Promise<{ name: "webgpu" | "wasm"; reason: string }> {
  if (choice !== "auto") return { name: choice, reason: "as chosen" };
  if (webgpuBroken) return { name: "wasm", reason: `auto: WebGPU failed earlier on this page (${webgpuBroken})` };
  const a = await adapter();
  if (!a) return { name: "wasm", reason: "auto: no WebGPU adapter" };
  if (a.fallback) {
    return { name: "wasm", reason: `auto: only a software WebGPU adapter (${a.text}), which is slower than WASM` };
  }
  return { name: "webgpu", reason: `auto: WebGPU adapter ${a.text}` };
}

/** The manifest a backend should run, and why. */
async function pickNetwork(backend: "webgpu" | "wasm"): Promise<NetworkInfo> {
  const m = source!.model;
  if (!m.float16) return { file: m.float32, dtype: "float32", reason: "the model has only a float32 network" };
  if (backend === "wasm") {
    return { file: m.float32, dtype: "float32", reason: "WASM computes float16 in float32 anyway" };
  }
  const a = await adapter();
  return a?.shaderF16
    ? { file: m.float16, dtype: "float16", reason: "the WebGPU adapter has shader-f16" }
    : { file: m.float32, dtype: "float32", reason: "the WebGPU adapter lacks shader-f16" };
}

/** Loads (once) the network a manifest names. */
function network(info: NetworkInfo): Promise<Model> {
  let m = models.get(info.file);
  if (!m) {
    m = loadModel(new URL(info.file, source!.url));
    m.catch(() => models.delete(info.file));
    models.set(info.file, m);
  }
  return m;
}

/** WebGPU could not run this model here (no device, or onnxruntime's WebGPU session failed). */
function isWebGpuFailure(e: unknown): boolean {
  if (e instanceof BackendUnavailableError) return true;
  return e instanceof ModelError && e.field === "onnx" && /webgpu/i.test(e.message);
}

async function generate(msg: Extract<ToWorker, { type: "generate" }>): Promise<void> {
  const ctl = new AbortController();
  controllers.set(msg.id, ctl);
  const t0 = performance.now();
  try {
    if (!source) throw new Error("the model is not loaded");
    const plan = planFromJSON(msg.plan);
    const runOn = async (name: "webgpu" | "wasm"): Promise<{ result: SampleResult; net: NetworkInfo }> => {
      const net = await pickNetwork(name);
      post({ type: "started", id: msg.id, backend: name, network: net });
      const model = await network(net);
      const backend: Backend = await createBackend(name);
      const result = await sample({
        model,
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
      return { result, net };
    };
    const resolved = await resolveBackend(msg.backend);
    let ran: { result: SampleResult; net: NetworkInfo };
    let fallback: string | undefined;
    try {
      ran = await runOn(resolved.name);
    } catch (e) {
      // "auto" retries on WASM when WebGPU cannot run this model here; an explicit choice reports.
      if (msg.backend !== "auto" || resolved.name !== "webgpu" || !isWebGpuFailure(e)) throw e;
      webgpuBroken = (e as Error).message;
      fallback = webgpuBroken;
      ran = await runOn("wasm");
    }
    const { result, net } = ran;
    const data = result.decoded ?? result.data;
    post({
      type: "done",
      id: msg.id,
      data,
      shape: result.decodedShape ?? result.shape,
      decoded: result.decoded !== undefined,
      backend: result.backend as BackendName,
      backendReason: fallback ? undefined : resolved.reason,
      network: net,
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
        source = { url: msg.url, model: msg.model };
        for (const m of models.values()) m.then((x) => x.dispose()).catch(() => {});
        models.clear();
        const net = await pickNetwork((await resolveBackend(msg.backend)).name);
        const model = await network(net);
        const a = await adapter();
        post({
          type: "loaded",
          manifest: model.manifest,
          network: net,
          adapter: a?.text ?? null,
          shaderF16: a?.shaderF16 ?? false,
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
