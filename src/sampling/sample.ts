/**
 * `sample` (an ONNX model on a backend) and `sampleFunction` (a JS ε function in float64 on the
 * CPU): validate the inputs, open a run, interpret the plan's program, read the result once, and
 * release every buffer whatever happens.
 *
 * @module
 */

import { AbortError, ConfigError, NumericalError } from "../errors.ts";
import { checkBatchSize, checkFloatRange } from "../limits.ts";
import type { Plan } from "../plan/types.ts";
import { completeSde } from "../model/manifest.ts";
import type { ConditioningValue, GuidanceOptions, Model } from "../model/model.ts";
import { type BackendChoice, bestCpuBackend, createBackend } from "../backends/mod.ts";
import type {
  Backend,
  BackendName,
  EpsFunction,
  EpsSource,
  GpuRunStats,
  NetworkFunction,
  Run,
} from "../backends/types.ts";
import type { PredictionType } from "../model/manifest.ts";
import { checkPlan } from "../plan/validate.ts";
import { interpret, type Progress, type RunContext } from "./interpreter.ts";
import { isSessionModel, type SessionModel, sessionNetwork } from "./session_model.ts";
import { checkRunSupports, type PipelineOptions, preparePipeline } from "./pipeline.ts";

/** Options shared by {@link sample} and {@link sampleFunction} (pipeline options: src/sampling/pipeline.ts). */
export interface CommonSampleOptions extends PipelineOptions {
  /** The coefficient plan (from `makePlan`, or loaded from JSON). Stochasticity is `plan.noise`. */
  plan: Plan;
  /** Batch size (default 1). */
  n?: number;
  /** Noise seed, a safe non-negative integer (default: random; the result reports it). */
  seed?: number;
  /** Evaluate once more at t = ε and return x̂₀ = (x − σε)/α (default false). */
  denoiseFinal?: boolean;
  /** The initial x_T (n × sample size values) instead of prior noise. */
  init?: ArrayLike<number>;
  /** Called after every step. */
  onProgress?: (p: Progress) => void;
  /** Stops the loop (an `AbortError`), releasing every buffer. */
  signal?: AbortSignal;
}

/** Options of {@link sample}. */
export interface SampleOptions extends CommonSampleOptions {
  /**
   * The model (from `loadModel`), or your own network as a function `(x, point) => output` (async
   * or not; Float32Array in, the network's raw output out), which then needs `sampleShape` and
   * `prediction`, and runs on the `cpu` backend with float32 registers.
   */
  model: Model | NetworkFunction | SessionModel;
  /** With a network function: the shape of one sample. */
  sampleShape?: readonly number[];
  /** With a network function: what it returns (default `"eps"`). */
  prediction?: PredictionType;
  /** `"auto"` (default), `"webgpu"`, `"wasm"`, `"native"`, or a backend object. */
  backend?: BackendChoice;
  /** Values of the model's extra (conditioning) inputs, by input name. */
  conditioning?: Record<string, ConditioningValue>;
  /** Classifier-free guidance: a scale w, or options. One batched call of size 2n per evaluation. */
  guidance?: number | GuidanceOptions;
}

/** Options of {@link sampleFunction}. */
export interface SampleFunctionOptions extends CommonSampleOptions {
  /** ε(x, t) in float64. */
  eps: EpsFunction;
  /** Shape of one sample. */
  sampleShape: readonly number[];
  /** A name for error messages. */
  name?: string;
}

/** What a sampling run returns. */
export interface SampleResult {
  /** The samples, row-major `[n, ...sampleShape]` (float32 unless the model is float64). */
  data: Float32Array | Float64Array;
  /** `[n, ...sampleShape]`. */
  shape: number[];
  /** The backend that ran. */
  backend: BackendName;
  /** Why it was chosen (for `auto`). */
  backendReason?: string;
  /** The seed used. */
  seed: number;
  /** Network evaluations (the plan's nfe, plus one with denoiseFinal). */
  nfe: number;
  /** Wall-clock milliseconds. */
  timings: { network: number; update: number; readback: number; total: number };
  /** GPU memory use of the run (webgpu only). */
  gpu?: GpuRunStats;
  /** The decoder's output, row-major `[n, ...decoder.outputShape]` (models with a decoder, unless `decode: false`). */
  decoded?: Float32Array;
  /** `[n, ...decoder.outputShape]` when `decoded` is set. */
  decodedShape?: number[];
}

function sameNumber(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Checks that the plan was made for the model's SDE. */
export function checkPlanMatchesModel(plan: Plan, model: Pick<Model, "manifest">): void {
  const a = completeSde(plan.sde), b = model.manifest.sde;
  let same = a.name === b.name;
  for (const key of ["betaMin", "betaMax", "sigmaMin", "sigmaMax"] as const) {
    if (a.name === "vp-linear" && key.startsWith("sigma")) continue;
    if (a.name === "ve" && key.startsWith("beta")) continue;
    same &&= sameNumber(a[key], b[key]);
  }
  if (a.name === "vp-discrete") {
    const x = a.alphasCumprod ?? [], y = b.alphasCumprod ?? [];
    same &&= x.length === y.length && x.every((v, i) => sameNumber(v, y[i]));
  }
  if (!same) {
    throw new ConfigError(
      "plan.sde",
      `the model's SDE (${
        JSON.stringify({
          ...b,
          alphasCumprod: b.alphasCumprod ? "[…]" : undefined,
        })
      })`,
      plan.sde.name,
    );
  }
}

/** Whether to decode: `decode` (default: whether there is a decoder); true without one is an error. */
function checkDecode(decode: unknown, has: boolean): boolean {
  if (decode === undefined) return has;
  if (typeof decode !== "boolean") throw new ConfigError("decode", "true or false", decode);
  if (decode && !has) throw new ConfigError("decode", "false or absent (the model has no decoder)", decode);
  return decode;
}

function runDtype(source: EpsSource): "float32" | "float64" {
  return source.kind === "model" ? source.model.dtype : source.kind === "network" ? "float32" : "float64";
}

function randomSeed(): number {
  const w = new Uint32Array(1);
  crypto.getRandomValues(w);
  return w[0];
}

/** The index of the first NaN or ±Inf in `data`, or −1. */
function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/**
 * Opens a run of `source` on `backend`, interprets the plan's program (and the final denoising when
 * asked), reads the result once and releases the run whatever happens; `sample()`, `sampleFunction()`
 * and the step-wise scheduler all go through it, so they share seeds, noise and checks.
 */
export async function drive(
  backend: Backend,
  source: EpsSource,
  sampleShape: readonly number[],
  plan: Plan,
  opts: CommonSampleOptions,
): Promise<SampleResult> {
  const t0 = performance.now();
  const n = opts.n ?? 1;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ConfigError("n", "a positive integer", n);
  }
  checkBatchSize(n, sampleShape);
  if (opts.init !== undefined) {
    checkFloatRange(
      "init",
      opts.init,
      source.kind === "model" ? source.model.dtype : source.kind === "function" ? "float64" : "float32",
    );
  }
  const seed = opts.seed ?? randomSeed();
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new ConfigError("seed", "a safe non-negative integer", seed);
  }
  const decoder = source.kind === "model" ? source.model.decoder : undefined;
  const decode = checkDecode(opts.decode, decoder !== undefined);
  const pipe = preparePipeline(opts, plan, n, sampleShape, runDtype(source), plan.program.registers.x);
  plan = pipe.plan;
  if (opts.signal?.aborted) throw new AbortError(opts.signal.reason);
  const { x: xSlots, v: epsSlots } = plan.program.registers;
  let run: Run | undefined;
  try {
    run = await backend.open({ source, n, xSlots: xSlots + pipe.extraX, epsSlots, seed });
    checkRunSupports(run, pipe, decode);
    if (pipe.known) run.setKnown!(pipe.known.image, pipe.known.mask);
    const ctx: RunContext = {
      run,
      plan,
      init: opts.init,
      signal: opts.signal,
      onProgress: opts.onProgress,
      nfe: 0,
      pipeline: pipe.ctx,
    };
    await interpret(ctx, "ops");
    if (opts.denoiseFinal) await interpret(ctx, "final");
    const data = await run.read(0);
    const i = firstNonFinite(data);
    if (i >= 0) {
      // Each evaluation's output is checked; only the plan's own arithmetic can overflow here.
      throw new NumericalError(
        `sample ${Math.floor(i / (data.length / n))} holds ${data[i]} at element ${i}: the plan's coefficients ` +
          `overflow ${run.dtype} (validated plans stay below 1e30 in magnitude)`,
      );
    }
    const decoded = decode ? await run.decode!(0) : undefined;
    return {
      ...(decoded ? { decoded, decodedShape: [n, ...decoder!.spec.outputShape] } : {}),
      data,
      shape: [n, ...sampleShape],
      backend: backend.name,
      backendReason: backend.reason,
      seed,
      nfe: ctx.nfe,
      timings: { ...run.timings, total: performance.now() - t0 },
      gpu: run.gpu,
    };
  } finally {
    run?.dispose();
  }
}

/**
 * Samples `n` draws from an ONNX model along a plan.
 *
 * @example
 * ```ts
 * import { loadModel, makePlan, sample } from "@seed/deis";
 * const model = await loadModel("models/gmm-2d");
 * const plan = makePlan({ method: "tab", order: 2, steps: 10 });
 * const r = await sample({ model, plan, n: 16, seed: 1, backend: "auto" });
 * console.log(r.backend, r.shape, r.nfe, r.timings);
 * await model.dispose();
 * ```
 */
export async function sample(options: SampleOptions): Promise<SampleResult> {
  const { model } = options;
  if (typeof model === "function") return await sampleNetwork(model, options);
  if (isSessionModel(model)) {
    for (const key of ["sampleShape", "prediction"] as const) {
      if (options[key] !== undefined) {
        throw new ConfigError(key, "absent with a session (its manifest gives it)", options[key]);
      }
    }
    const net = sessionNetwork(model);
    checkPlanMatchesModel(checkPlan(options.plan), net);
    const { sampleShape, prediction } = net.manifest;
    return await sampleNetwork(net.fn, { ...options, sampleShape, prediction });
  }
  if (!model || typeof model.session !== "function") {
    throw new ConfigError("model", "a model from loadModel, a network function, or { session, manifest }", model);
  }
  const plan = checkPlan(options.plan);
  checkPlanMatchesModel(plan, model);
  const choice = options.backend ?? "auto";
  let backend: Backend;
  if (choice === "auto" && model.dtype === "float64") {
    backend = await bestCpuBackend("float64 model (WebGPU has no float64)");
  } else backend = typeof choice === "string" ? await createBackend(choice) : choice;
  const guidance = typeof options.guidance === "number" ? { scale: options.guidance } : options.guidance;
  const source: EpsSource = {
    kind: "model",
    model,
    conditioning: options.conditioning,
    guidance,
  };
  return await drive(backend, source, model.sampleShape, plan, options);
}

/** `sample()` with the user's own network function (the plan is not checked against any SDE: yours). */
async function sampleNetwork(fn: NetworkFunction, options: SampleOptions): Promise<SampleResult> {
  const shape = checkSampleShape(options.sampleShape);
  const prediction = options.prediction ?? "eps";
  if (!["eps", "x0", "v", "score"].includes(prediction)) {
    throw new ConfigError("prediction", "one of eps, x0, v, score", prediction);
  }
  for (const key of ["conditioning", "guidance"] as const) {
    if (options[key] !== undefined) {
      throw new ConfigError(key, "absent with a network function (apply conditioning inside it)", options[key]);
    }
  }
  const choice = options.backend ?? "auto";
  if (choice !== "auto" && choice !== "cpu") {
    throw new ConfigError("backend", '"auto" or "cpu" for a network function', choice);
  }
  const plan = checkPlan(options.plan);
  const source: EpsSource = { kind: "network", fn, sampleShape: shape, prediction, name: fn.name || undefined };
  return await drive(await createBackend("cpu"), source, shape, plan, options);
}

/** A sample shape: a non-empty array of positive integers (a {@link ConfigError} naming `sampleShape` otherwise). */
export function checkSampleShape(shape: unknown): readonly number[] {
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw new ConfigError("sampleShape", "a non-empty array of positive integers", shape);
  }
  return shape;
}

/**
 * The float64 CPU loop over a plain JS ε function (same methods, same noise), for convergence
 * tests against exact models.
 *
 * @example
 * ```ts
 * import { makePlan, sampleFunction } from "@seed/deis";
 * // Data N(0, I) under vp-linear (β₀ = 0.1, β₁ = 20): every marginal is N(0, I), so ε(x, t) = σ(t)·x.
 * const sigma = (t: number) => Math.sqrt(1 - Math.exp(-9.95 * t * t - 0.1 * t));
 * const r = await sampleFunction({
 *   plan: makePlan({ method: "tab", order: 3, steps: 10 }),
 *   eps: (x, t) => x.map((v, i) => sigma(t[Math.floor(i / 2)]) * v),
 *   sampleShape: [2],
 *   n: 4,
 *   seed: 1,
 * });
 * console.log(r.shape, r.data); // [4, 2] and 8 float64 values
 * ```
 */
export async function sampleFunction(
  options: SampleFunctionOptions,
): Promise<SampleResult> {
  if (typeof options.eps !== "function") {
    throw new ConfigError("eps", "a function (x, t) => ε", options.eps);
  }
  const shape = checkSampleShape(options.sampleShape);
  const plan = checkPlan(options.plan);
  const backend = await createBackend("cpu");
  const source: EpsSource = {
    kind: "function",
    fn: options.eps,
    sampleShape: shape,
    name: options.name,
  };
  return await drive(backend, source, shape, plan, options);
}
