/**
 * The browser demo's page: reads the form, makes the plan here (so a bad setting is reported at
 * once, by the SDK's ConfigError naming the field), hands it to the sampling worker, shows the
 * per-step progress, and draws the samples on the canvas with `tileSamples`.
 *
 * Hooks for tests and curious users: `document.body.dataset.state` is `loading`, `ready`,
 * `running`, `done` or `error`; the canvas carries its layout in `data-*` attributes
 * (`n`, `cols`, `rows`, `sampleWidth`, `sampleHeight`, `scale`, `gap`, `channels`).
 *
 * @module
 */

/// <reference lib="dom" />

import {
  ConfigError,
  GRID_NAMES,
  makePlan,
  METHOD_NAMES,
  type ModelManifest,
  type PlanConfig,
  planToJSON,
  RK_NAMES,
  tileSamples,
} from "../../mod.ts";
import type { ErrorInfo, FromWorker, ToWorker } from "./protocol.ts";

/** The model directory the page was built with (esbuild `define`). */
declare const DEMO_MODEL_DIR: string;

const MULTISTEP = new Set(["tab", "rhoab", "logrho", "ipndm"]);
/** A demo limit on the batch (each sample is one network batch row). */
const MAX_SAMPLES = 100;
/** Canvas width the grid is scaled to fit (integer scale factors, pixelated). */
const TARGET_WIDTH = 400;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el as T;
};

const form = $<HTMLFormElement>("form");
const method = $<HTMLSelectElement>("method");
const order = $<HTMLInputElement>("order");
const orderHint = $("order-hint");
const rk = $<HTMLSelectElement>("rk");
const steps = $<HTMLInputElement>("steps");
const grid = $<HTMLSelectElement>("grid");
const lambda = $<HTMLInputElement>("lambda");
const guidance = $<HTMLInputElement>("guidance");
const guidanceNote = $("guidance-note");
const conditioningBox = $("conditioning");
const seed = $<HTMLInputElement>("seed");
const nInput = $<HTMLInputElement>("n");
const backend = $<HTMLSelectElement>("backend");
const denoise = $<HTMLInputElement>("denoise");
const generateButton = $<HTMLButtonElement>("generate");
const stopButton = $<HTMLButtonElement>("stop");
const statusText = $("status");
const progress = $<HTMLProgressElement>("progress");
const progressText = $("progress-text");
const errorBox = $("error");
const resultText = $("result");
const canvas = $<HTMLCanvasElement>("canvas");

let manifest: ModelManifest | undefined;
let adapter: string | null = null;
let nextId = 1;
const backendsUsed = new Set<string>();
let current:
  | {
    id: number;
    steps: number;
    total: number;
    started: number;
    backend?: string;
    updates: number;
  }
  | undefined;

function setState(
  state: "loading" | "ready" | "running" | "done" | "error",
): void {
  document.body.dataset.state = state;
}

function fillSelect(
  sel: HTMLSelectElement,
  names: readonly string[],
  selected: string,
): void {
  sel.replaceChildren(
    ...names.map((name) => new Option(name, name, false, name === selected)),
  );
}

fillSelect(method, METHOD_NAMES, "tab");
fillSelect(rk, RK_NAMES, "rk4");
// the demo models are vp-linear: the diffusers grid (vp-discrete only) would only ever be refused
fillSelect(grid, GRID_NAMES.filter((g) => g !== "diffusers"), "time-quadratic");

/** Keeps the method-specific fields consistent with the chosen sampler. */
function onMethodChange(): void {
  const m = method.value;
  if (MULTISTEP.has(m)) {
    if (order.value === "" || order.value === "0") order.value = "3";
    orderHint.textContent = "0–3 (multistep DEIS / iPNDM)";
  } else if (m === "rhork") {
    order.value = "";
    orderHint.textContent = "not used: rhork's order is its RK tableau";
  } else {
    order.value = "0";
    orderHint.textContent = `0 for ${m}`;
  }
  rk.disabled = m !== "rhork";
  lambda.disabled = m !== "ddim";
}
method.addEventListener("change", onMethodChange);
onMethodChange();

// ---- reading the form ------------------------------------------------------------------------

/** A number field: undefined when empty, NaN when the browser holds unparsable text. */
function numberField(input: HTMLInputElement): number | undefined {
  if (input.validity.badInput) return NaN;
  const v = input.value.trim();
  return v === "" ? undefined : Number(v);
}

/** The plan config for the loaded model: its SDE and time range, plus the user's choices. */
function planConfig(m: ModelManifest): PlanConfig {
  const sde = m.sde;
  const config: PlanConfig = {
    sde: sde.name,
    ...(sde.name === "vp-linear" ? { betaMin: sde.betaMin, betaMax: sde.betaMax } : {}),
    ...(sde.name === "ve" ? { sigmaMin: sde.sigmaMin, sigmaMax: sde.sigmaMax } : {}),
    ...(sde.name === "vp-discrete" ? { alphasCumprod: sde.alphasCumprod } : {}),
    tStart: m.tStart,
    tEnd: m.tEnd,
    method: method.value as PlanConfig["method"],
    grid: grid.value as PlanConfig["grid"],
    steps: numberField(steps),
  };
  const r = numberField(order);
  if (r !== undefined) config.order = r;
  if (!rk.disabled) config.rk = rk.value as PlanConfig["rk"];
  if (!lambda.disabled) config.lambda = numberField(lambda);
  for (const key of Object.keys(config) as (keyof PlanConfig)[]) {
    if (config[key] === undefined) delete config[key];
  }
  return config;
}

// ---- messages ---------------------------------------------------------------------------------

function clearError(): void {
  errorBox.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
  }
}

/** Shows an error; a ConfigError's field (e.g. `steps`, `plan.rows[2]`, `conditioning.label`) marks its input. */
function showError(e: ErrorInfo, context: string): void {
  const field = e.field;
  const root = field?.replace(/^plan\./, "").split(/[.[]/)[0];
  let control: Element | null = null;
  if (root) {
    control = form.querySelector(`[data-field="${CSS.escape(root)}"]`);
    if (root === "conditioning" && field) {
      control = form.querySelector(`[data-field="${CSS.escape(field)}"]`);
    }
    control?.setAttribute("aria-invalid", "true");
  }
  const what = e.name === "ConfigError" ? `Invalid setting — ${e.message}` : `${context}: ${e.message}`;
  errorBox.textContent = what;
  errorBox.dataset.field = field ?? "";
  errorBox.dataset.errorName = e.name;
  if (control instanceof HTMLElement) control.focus();
}

function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`;
}

function setRunning(running: boolean): void {
  generateButton.disabled = running || !manifest || !workerReady;
  stopButton.disabled = !running;
  canvas.classList.toggle("stale", running);
}

// ---- drawing ----------------------------------------------------------------------------------

/** Whether a sample shape can be drawn: [C, H, W] with C = 1 or 3, or [H, W]. */
function imageShape(
  shape: readonly number[],
): { c: number; h: number; w: number } | null {
  if (shape.length === 2) return { c: 1, h: shape[0], w: shape[1] };
  if (shape.length === 3 && (shape[0] === 1 || shape[0] === 3)) {
    return { c: shape[0], h: shape[1], w: shape[2] };
  }
  return null;
}

function draw(
  data: Float32Array | Float64Array,
  shape: number[],
  m: ModelManifest,
): void {
  const n = shape[0];
  const img = imageShape(shape.slice(1));
  if (!img) {
    throw new Error(`samples of shape [${shape.slice(1)}] are not images`);
  }
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  let scale = Math.max(
    1,
    Math.floor((TARGET_WIDTH - (cols + 1) * 2) / (cols * img.w)),
  );
  const gap = Math.max(2, Math.round(scale / 2));
  scale = Math.max(
    1,
    Math.floor((TARGET_WIDTH - (cols + 1) * gap) / (cols * img.w)),
  );
  const tiled = tileSamples(data, shape, {
    cols,
    scale,
    gap,
    range: m.dataRange ?? [-1, 1],
    background: 48,
  });
  const rgba = new ImageData(tiled.width, tiled.height);
  const px = tiled.pixels, out = rgba.data;
  for (let i = 0, j = 0; i < tiled.width * tiled.height; i++, j += 4) {
    if (tiled.channels === 1) {
      out[j] = out[j + 1] = out[j + 2] = px[i];
    } else {
      out[j] = px[3 * i];
      out[j + 1] = px[3 * i + 1];
      out[j + 2] = px[3 * i + 2];
    }
    out[j + 3] = 255;
  }
  canvas.width = tiled.width;
  canvas.height = tiled.height;
  canvas.getContext("2d")!.putImageData(rgba, 0, 0);
  Object.assign(canvas.dataset, {
    n: String(n),
    cols: String(cols),
    rows: String(rows),
    sampleWidth: String(img.w),
    sampleHeight: String(img.h),
    channels: String(img.c),
    scale: String(scale),
    gap: String(gap),
  });
}

// ---- the worker -------------------------------------------------------------------------------

let worker: Worker;
/** Whether the current worker has loaded the model. */
let workerReady = false;
const send = (msg: ToWorker) => worker.postMessage(msg);

/** Starts the sampling worker and has it load the model (again, after a forced stop). */
function startWorker(): void {
  workerReady = false;
  worker = new Worker(new URL("./worker.js", import.meta.url), {
    type: "module",
    name: "deis-sampler",
  });
  worker.onerror = (ev) => {
    setState("error");
    showError({
      name: "Error",
      message: ev.message || "the sampling worker failed to start",
    }, "Worker");
    setRunning(false);
  };
  worker.onmessage = onWorkerMessage;
  send({ type: "load", url: new URL("./model/", location.href).href });
}

function onLoaded(msg: Extract<FromWorker, { type: "loaded" }>): void {
  const again = manifest !== undefined;
  workerReady = true;
  manifest = msg.manifest;
  adapter = msg.adapter;
  const m = manifest;
  const shape = `[${m.sampleShape.join(", ")}]`;
  statusText.textContent = `Model ${m.name} (${DEMO_MODEL_DIR}), samples ${shape}, ${m.sde.name} SDE, ` +
    `loaded in ${fmtMs(msg.ms)}. ` +
    (adapter
      ? `WebGPU adapter: ${adapter}.` +
        (adapter.endsWith("(fallback)") ? " It is a software adapter: the wasm backend may well be faster here." : "")
      : "No WebGPU adapter: sampling runs on WebAssembly.");
  if (again) {
    // a restarted worker: the form is already set up
  } else if (m.extraInputs.length === 0) {
    guidance.disabled = true;
    guidance.value = "";
    guidanceNote.textContent = "not available: this model has no conditioning inputs (unconditional)";
  } else {
    guidance.disabled = false;
    guidanceNote.textContent = "classifier-free guidance scale (empty: none)";
    for (const ex of m.extraInputs) {
      if (ex.shape.length !== 0) continue; // only scalar conditioning gets a field here
      const row = document.createElement("div");
      row.className = "row";
      const label = document.createElement("label");
      label.textContent = ex.name;
      label.htmlFor = `cond-${ex.name}`;
      const input = document.createElement("input");
      input.type = "number";
      input.id = `cond-${ex.name}`;
      input.dataset.field = `conditioning.${ex.name}`;
      input.dataset.conditioning = ex.name;
      input.placeholder = ex.null !== undefined ? `unconditional (${ex.null})` : "required";
      row.append(label, input);
      conditioningBox.append(row);
    }
  }
  if (!imageShape(m.sampleShape)) {
    showError({
      name: "Error",
      message: `samples of shape ${shape} cannot be drawn (expected [C, H, W] or [H, W]); rebuild with an image model`,
    }, "Model");
    setState("error");
    return;
  }
  setRunning(false);
  if (!again) setState("ready");
}

function onWorkerMessage(ev: MessageEvent<FromWorker>): void {
  const msg = ev.data;
  if (msg.type === "loaded") return onLoaded(msg);
  if (msg.type === "load-error") {
    statusText.textContent = "The model could not be loaded.";
    showError(msg.error, "Loading the model");
    setState("error");
    return;
  }
  if (!current || msg.id !== current.id) return; // a stale message of a stopped run
  switch (msg.type) {
    case "started":
      current.backend = msg.backend;
      progressText.textContent =
        `preparing the ${msg.backend} backend (the first run creates the onnxruntime session)…`;
      break;
    case "progress": {
      current.updates++;
      progress.value = msg.step;
      progressText.dataset.updates = String(current.updates);
      const label = msg.step > current.steps ? "final denoising" : `step ${msg.step} / ${current.steps}`;
      const queued = msg.step >= current.total && current.backend === "webgpu"
        ? " · all steps queued, waiting for the GPU"
        : "";
      progressText.textContent = `${label} · ${msg.nfe} network evaluations · t = ${msg.t.toFixed(4)} · ${
        fmtMs(performance.now() - current.started)
      } on ${current.backend ?? "?"}${queued}`;
      break;
    }
    case "done": {
      current = undefined;
      setRunning(false);
      try {
        draw(msg.data, msg.shape, manifest!);
      } catch (e) {
        showError({ name: "Error", message: (e as Error).message }, "Drawing");
        setState("error");
        return;
      }
      const t = msg.timings;
      const first = !backendsUsed.has(msg.backend);
      backendsUsed.add(msg.backend);
      progress.value = progress.max;
      progressText.textContent = `done: ${msg.nfe} network evaluations in ${fmtMs(msg.wall)}`;
      resultText.replaceChildren();
      const b = document.createElement("strong");
      b.id = "backend-used";
      b.textContent = msg.backend;
      resultText.append(
        "Backend: ",
        b,
        ` — ${
          msg.fallback ? `WebGPU failed (${msg.fallback}), fell back to WASM` : msg.backendReason ?? "as chosen"
        }. `,
        `${msg.shape[0]} samples, seed ${msg.seed}, ${msg.nfe} evaluations in ${fmtMs(t.total)} ` +
          `(network ${fmtMs(t.network)}, update ${fmtMs(t.update)}, readback ${fmtMs(t.readback)})` +
          (first ? "; the first run on a backend includes creating its onnxruntime session." : "."),
      );
      resultText.dataset.backend = msg.backend;
      resultText.dataset.totalMs = t.total.toFixed(1);
      setState("done");
      break;
    }
    case "error":
      current = undefined;
      setRunning(false);
      progressText.textContent = msg.error.name === "AbortError" ? "stopped" : "failed";
      showError(
        msg.error,
        msg.error.name === "AbortError" ? "Stopped" : "Sampling failed",
      );
      setState("error");
      break;
  }
}

startWorker();

// ---- generate / stop ---------------------------------------------------------------------------

function generate(): void {
  if (!manifest || current) return;
  clearError();
  let plan;
  let n: number | undefined;
  try {
    plan = makePlan(planConfig(manifest));
    n = numberField(nInput) ?? 1;
    if (Number.isInteger(n) && n > MAX_SAMPLES) {
      throw new ConfigError("n", `at most ${MAX_SAMPLES} in this demo`, n);
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      showError(
        { name: e.name, message: e.message, field: e.field },
        "Invalid setting",
      );
    } else {
      showError(
        { name: (e as Error).name, message: (e as Error).message },
        "Planning failed",
      );
    }
    setState("error");
    return;
  }
  const conditioning: Record<string, number> = {};
  for (
    const input of conditioningBox.querySelectorAll<HTMLInputElement>(
      "input[data-conditioning]",
    )
  ) {
    const v = numberField(input);
    if (v !== undefined) conditioning[input.dataset.conditioning!] = v;
  }
  const id = nextId++;
  const total = plan.steps + (denoise.checked ? 1 : 0);
  current = {
    id,
    steps: plan.steps,
    total,
    started: performance.now(),
    updates: 0,
  };
  progress.max = total;
  progress.value = 0;
  progressText.textContent = "starting…";
  setRunning(true);
  setState("running");
  send({
    type: "generate",
    id,
    plan: planToJSON(plan),
    n,
    seed: numberField(seed),
    backend: backend.value as "auto" | "webgpu" | "wasm",
    guidance: guidance.disabled ? undefined : numberField(guidance),
    conditioning: Object.keys(conditioning).length ? conditioning : undefined,
    denoiseFinal: denoise.checked,
  });
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  generate();
});
stopButton.addEventListener("click", () => {
  if (!current) return;
  const id = current.id;
  send({ type: "abort", id });
  stopButton.disabled = true;
  progressText.textContent = "stopping…";
  // The worker reads the abort message only when the loop yields to its event loop, which the WASM
  // backend (synchronous network calls) may never do: then restart the worker.
  setTimeout(() => {
    if (current?.id !== id) return;
    worker.terminate();
    current = undefined;
    startWorker();
    setRunning(false);
    progressText.textContent = "stopped";
    showError({
      name: "AbortError",
      message: "sampling stopped (the sampling worker was restarted)",
    }, "Stopped");
    setState("error");
  }, 1000);
});
