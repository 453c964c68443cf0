/**
 * The browser demo's page: reads the form, makes the plan here (so a bad setting is reported at
 * once, by the SDK's ConfigError naming the field), hands it to the sampling worker, shows the
 * per-step progress, and draws the digits on the canvas with `tileSamples`.
 *
 * The page imports `@seed/deis/plan` (src/plan/mod.ts) and the image tiler only: onnxruntime is
 * loaded by the worker alone (build.ts refuses a page bundle that contains it).
 *
 * Hooks for tests and curious users: `document.body.dataset.state` is `loading`, `ready`,
 * `running`, `done` or `error`; the canvas carries its layout in `data-*` attributes
 * (`n`, `cols`, `rows`, `sampleWidth`, `sampleHeight`, `scale`, `gap`, `channels`);
 * `globalThis.deisDemo.last` holds the last result drawn (`data`, `shape`, `labels`: the class
 * asked for per sample, or null, `backend`, `network`).
 *
 * @module
 */

/// <reference lib="dom" />

import {
  ConfigError,
  GRID_NAMES,
  makePlan,
  METHOD_NAMES,
  methodInfo,
  type PlanConfig,
  planToJSON,
  RK_NAMES,
} from "../../src/plan/mod.ts";
import { tileSamples } from "../../src/image/grid.ts";
import type { ModelManifest } from "../../src/model/manifest.ts";
import type { CatalogModel, ErrorInfo, FromWorker, NetworkInfo, ToWorker } from "./protocol.ts";

/** The guidance scale offered first when the manifest recommends none. */
const FALLBACK_GUIDANCE = 2;

/** A demo limit on the batch (each sample is one network batch row). */
const MAX_SAMPLES = 100;
/** Canvas size the grid is scaled to fit (integer scale factors, pixelated). */
const TARGET_WIDTH = 400;
const TARGET_HEIGHT = 600;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el as T;
};

const form = $<HTMLFormElement>("form");
const modelSelect = $<HTMLSelectElement>("model");
const digit = $<HTMLSelectElement>("digit");
const digitNote = $("digit-note");
const nLabel = $("n-label");
const method = $<HTMLSelectElement>("method");
const order = $<HTMLInputElement>("order");
const orderHint = $("order-hint");
const rk = $<HTMLSelectElement>("rk");
const steps = $<HTMLInputElement>("steps");
const grid = $<HTMLSelectElement>("grid");
const lambda = $<HTMLInputElement>("lambda");
const guidance = $<HTMLInputElement>("guidance");
const guidanceNote = $("guidance-note");
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
let catalog: CatalogModel[] = [];
/** The conditioning input the digit menu feeds (`class_labels`), when the model has one. */
let classInput: { name: string; null?: number } | undefined;
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
digit.replaceChildren(
  new Option("all (one row per digit)", "all", true, true),
  ...Array.from({ length: 10 }, (_, d) => new Option(String(d), String(d))),
);

/** The grids the model can use: `diffusers` only with a scheduler config (its integer timesteps). */
function fillGrids(m: ModelManifest): void {
  const names = m.scheduler ? GRID_NAMES : GRID_NAMES.filter((g) => g !== "diffusers");
  fillSelect(grid, names, m.scheduler ? "diffusers" : "time-quadratic");
}

/** Keeps the method-specific fields consistent with the chosen sampler (its orders from the registry). */
function onMethodChange(): void {
  const info = methodInfo(method.value)!;
  const [lo, hi] = info.orders;
  if (info.name === "rhork") {
    order.value = "";
    orderHint.textContent = "not used: rhork's order is its RK tableau";
  } else {
    const r = Number(order.value);
    if (order.value === "" || !(r >= lo && r <= hi)) order.value = String(info.defaultOrder);
    orderHint.textContent = lo === hi ? `${lo} for ${info.name}` : `${lo}–${hi}: ${info.help}`;
  }
  rk.disabled = info.name !== "rhork";
  lambda.disabled = !info.stochastic;
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
  // as modelPlanConfig (src/model/plan_config.ts) does for a loaded Model, from the manifest alone
  const sde = m.sde;
  const diffusersGrid = grid.value === "diffusers" && m.scheduler !== undefined;
  const config: PlanConfig = {
    sde: sde.name,
    ...(sde.name === "vp-linear" ? { betaMin: sde.betaMin, betaMax: sde.betaMax } : {}),
    ...(sde.name === "ve" ? { sigmaMin: sde.sigmaMin, sigmaMax: sde.sigmaMax } : {}),
    ...(sde.name === "vp-discrete" ? { alphasCumprod: sde.alphasCumprod } : {}),
    ...(diffusersGrid
      ? { timestepSpacing: m.scheduler!.timestepSpacing, stepsOffset: m.scheduler!.stepsOffset }
      : { tStart: m.tStart }),
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
    control = form.querySelector(`[data-field="${CSS.escape(root === "conditioning" ? "digit" : root)}"]`);
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
  modelSelect.disabled = running || catalog.length < 2;
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
  range: readonly [number, number],
  rowLength?: number,
): void {
  const n = shape[0];
  const img = imageShape(shape.slice(1));
  if (!img) {
    throw new Error(`samples of shape [${shape.slice(1)}] are not images`);
  }
  const cols = rowLength ?? Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const fit = (gap: number) =>
    Math.max(
      1,
      Math.min(
        Math.floor((TARGET_WIDTH - (cols + 1) * gap) / (cols * img.w)),
        Math.floor((TARGET_HEIGHT - (rows + 1) * gap) / (rows * img.h)),
      ),
    );
  const gap = Math.max(2, Math.round(fit(2) / 2));
  const scale = fit(gap);
  const tiled = tileSamples(data, shape, {
    cols,
    scale,
    gap,
    range,
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

/** The last result drawn, for tests and the console. */
interface LastResult {
  data: Float32Array | Float64Array;
  shape: number[];
  /** The class asked for per sample, or null for an unconditional model. */
  labels: number[] | null;
  backend: string;
  network: NetworkInfo;
}
const hooks = { last: null as LastResult | null };
(globalThis as { deisDemo?: typeof hooks }).deisDemo = hooks;

function selectedModel(): CatalogModel {
  return catalog.find((m) => m.id === modelSelect.value) ?? catalog[0];
}

/** Starts the sampling worker and has it load the chosen model (again, after a forced stop). */
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
  loadSelected();
}

function loadSelected(): void {
  const m = selectedModel();
  workerReady = false;
  manifest = undefined;
  setRunning(false);
  setState("loading");
  statusText.textContent = `Loading ${m.source}…`;
  send({
    type: "load",
    url: new URL(`./model/${m.id}/`, location.href).href,
    model: m,
    backend: backend.value as "auto" | "webgpu" | "wasm",
  });
}

function describeNetwork(net: NetworkInfo): string {
  return `${net.file} (${net.dtype}: ${net.reason})`;
}

/** Sets the form up for a model: the digit menu and guidance for a class-conditional one. */
function setUpForm(m: ModelManifest): void {
  fillGrids(m);
  denoise.checked = !m.scheduler; // a diffusers-grid plan ends at the scheduler's last timestep
  const scalar = m.extraInputs.find((ex) => ex.shape.length === 0 && ex.dtype !== "float16" && ex.dtype !== "float32");
  classInput = scalar ? { name: scalar.name, null: scalar.null } : undefined;
  const others = m.extraInputs.filter((ex) => ex !== scalar && ex.null === undefined);
  if (!classInput) {
    digit.disabled = true;
    digitNote.textContent = "this model is unconditional: digits come as they come";
    guidance.disabled = true;
    guidance.value = "";
    guidanceNote.textContent = "not available: this model has no conditioning inputs";
    nLabel.textContent = "Samples";
  } else {
    digit.disabled = false;
    digitNote.textContent = `the class fed to ${classInput.name}` +
      (classInput.null !== undefined ? ` (${classInput.null} = no class, for guidance)` : "");
    guidance.disabled = classInput.null === undefined;
    // the model's recommended scale (its manifest's defaultGuidance, chosen with bench:quality:pipeline)
    if (guidance.value === "") guidance.value = String(m.defaultGuidance ?? FALLBACK_GUIDANCE);
    guidanceNote.textContent = "classifier-free guidance w: ε_u + w·(ε_c − ε_u); 1 = conditional only, empty = none";
    nLabel.textContent = "Per digit";
  }
  if (others.length) {
    showError({
      name: "Error",
      message: `this page cannot fill the conditioning input(s) ${others.map((o) => o.name).join(", ")}`,
    }, "Model");
  }
}

/** The model the form was last set up for. */
let formModel: string | undefined;

function onLoaded(msg: Extract<FromWorker, { type: "loaded" }>): void {
  workerReady = true;
  manifest = msg.manifest;
  adapter = msg.adapter;
  const m = manifest;
  const src = selectedModel().source;
  const shape = m.decoder
    ? `[${m.sampleShape.join(", ")}] latents decoded to [${m.decoder.outputShape.join(", ")}]`
    : `[${m.sampleShape.join(", ")}]`;
  statusText.textContent = `Model ${src}: ${m.name}, ${shape}, ${m.sde.name} SDE; ` +
    `network ${describeNetwork(msg.network)}, loaded in ${fmtMs(msg.ms)}. ` +
    (adapter
      ? `WebGPU adapter: ${adapter}, ${msg.shaderF16 ? "with" : "without"} shader-f16.` +
        (adapter.endsWith("(fallback)") ? " It is a software adapter: the wasm backend is faster here." : "")
      : "No WebGPU adapter: sampling runs on WebAssembly.");
  if (formModel !== selectedModel().id) {
    setUpForm(m); // not again for a worker restarted after Stop: the user's settings stay
    formModel = selectedModel().id;
  }
  const drawable = m.decoder ? imageShape(m.decoder.outputShape) : imageShape(m.sampleShape);
  if (!drawable) {
    showError({
      name: "Error",
      message: `samples of shape ${shape} cannot be drawn (expected [C, H, W] or [H, W]); rebuild with an image model`,
    }, "Model");
    setState("error");
    return;
  }
  setRunning(false);
  setState("ready");
}

/** The run in flight: what the page asked for, to lay the result out. */
let pendingLayout: { labels: number[] | null; rowLength?: number } | undefined;

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
      progressText.textContent = `preparing the ${msg.backend} backend with ${msg.network.file} ` +
        `(the first run on a backend creates its onnxruntime session)…`;
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
      const layout = pendingLayout ?? { labels: null };
      const range = (msg.decoded ? manifest!.decoder?.dataRange : manifest!.dataRange) ?? [-1, 1];
      try {
        draw(msg.data, msg.shape, range, layout.rowLength);
      } catch (e) {
        showError({ name: "Error", message: (e as Error).message }, "Drawing");
        setState("error");
        return;
      }
      hooks.last = {
        data: msg.data,
        shape: msg.shape,
        labels: layout.labels,
        backend: msg.backend,
        network: msg.network,
      };
      const t = msg.timings;
      const first = !backendsUsed.has(msg.backend);
      backendsUsed.add(msg.backend);
      progress.value = progress.max;
      progressText.textContent = `done: ${msg.nfe} network evaluations in ${fmtMs(msg.wall)}`;
      resultText.replaceChildren();
      const b = document.createElement("strong");
      b.id = "backend-used";
      b.textContent = msg.backend;
      const net = document.createElement("strong");
      net.id = "network-used";
      net.textContent = msg.network.file;
      const what = layout.labels
        ? (layout.rowLength ? `one row per digit 0–9` : `digit ${layout.labels[0]}`)
        : "unconditional";
      resultText.append(
        "Backend: ",
        b,
        ` — ${
          msg.fallback ? `WebGPU failed (${msg.fallback}), fell back to WASM` : msg.backendReason ?? "as chosen"
        }. `,
        "Network: ",
        net,
        ` — ${msg.network.dtype}, ${msg.network.reason}. `,
        `${msg.shape[0]} samples (${what}${msg.decoded ? ", decoded" : ""}), seed ${msg.seed}, ` +
          `${msg.nfe} evaluations in ${fmtMs(t.total)} ` +
          `(network ${fmtMs(t.network)}, update ${fmtMs(t.update)}, readback ${fmtMs(t.readback)})` +
          (first ? "; the first run on a backend includes creating its onnxruntime session." : "."),
      );
      resultText.dataset.backend = msg.backend;
      resultText.dataset.network = msg.network.file;
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

/** Reads the model catalogue the build wrote, fills the model menu and starts the worker. */
async function start(): Promise<void> {
  try {
    const res = await fetch(new URL("./models.json", location.href));
    if (!res.ok) throw new Error(`models.json: HTTP ${res.status}`);
    catalog = await res.json() as CatalogModel[];
    if (!Array.isArray(catalog) || catalog.length === 0) throw new Error("models.json lists no model");
  } catch (e) {
    statusText.textContent = "The model list could not be read.";
    showError({ name: "Error", message: (e as Error).message }, "Loading");
    setState("error");
    return;
  }
  modelSelect.replaceChildren(...catalog.map((m, i) => new Option(m.source, m.id, i === 0, i === 0)));
  startWorker();
}

modelSelect.addEventListener("change", () => {
  if (!current) loadSelected();
});

start();

// ---- generate / stop ---------------------------------------------------------------------------

/** The class per sample: `n` of one digit, or `n` of each digit 0–9 in rows. */
function labelsFor(n: number): { labels: number[]; rowLength?: number } {
  if (digit.value === "all") {
    return { labels: Array.from({ length: 10 * n }, (_, i) => Math.floor(i / n)), rowLength: n };
  }
  return { labels: new Array(n).fill(Number(digit.value)) };
}

function generate(): void {
  if (!manifest || current) return;
  clearError();
  let plan;
  let n: number | undefined;
  let layout: { labels: number[] | null; rowLength?: number } = { labels: null };
  try {
    plan = makePlan(planConfig(manifest));
    n = numberField(nInput) ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new ConfigError("n", "an integer ≥ 1", n);
    if (classInput) {
      layout = labelsFor(n);
      n = layout.labels!.length;
    }
    if (n > MAX_SAMPLES) {
      throw new ConfigError("n", `at most ${MAX_SAMPLES} samples in all in this demo`, n);
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
  const id = nextId++;
  const total = plan.steps + (denoise.checked ? 1 : 0);
  current = {
    id,
    steps: plan.steps,
    total,
    started: performance.now(),
    updates: 0,
  };
  pendingLayout = layout;
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
    conditioning: classInput && layout.labels ? { [classInput.name]: layout.labels } : undefined,
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
    progressText.textContent = "stopped";
    showError({
      name: "AbortError",
      message: "sampling stopped (the sampling worker was restarted)",
    }, "Stopped");
  }, 1000);
});
