/**
 * The step-wise scheduler, for people who call their network themselves: the plan's program runs
 * until it needs the network, hands you the network input and where it is evaluated, and goes on
 * when you hand back the network's raw output.
 *
 * Decision: the loop is over *evaluations*, not steps, and the scheduler keeps the state. A
 * diffusers-style `x = scheduler.step(output, t, x)` assumes the network is always evaluated on the
 * current sample; multistage programs (ρRK stages, UniPC's corrector, DPM-Solver++'s data ring)
 * evaluate it on intermediate registers and combine values from earlier evaluations, so the next
 * network input is not a function of `(output, x)`. Every evaluation of a plan is known in advance
 * (its `eval` ops), so {@link Scheduler.evaluations} lists them all up front, and `step` takes the
 * output of the one waited for.
 *
 * Decision: the scheduler is `sample()` with the network call handed over, not a second
 * interpreter. It runs the same `drive` (validation, `interpret`, the single read, the finite check,
 * release on every path) over a network whose calls resolve when you call `step`; so the samples are
 * bit-identical to `sample({ model: fn })` (and to `sample({ model, backend: "wasm" })` for a wrapped
 * ONNX model) by construction, with the same seeds and noise, and every later change to `sample()`
 * applies here too. The cost: `step` is async (it resolves once the program reached the next
 * evaluation or finished), a few microtasks per evaluation.
 *
 * On WebGPU (`backend: "webgpu"`, with the `GPUDevice` your network runs on) the registers are GPU
 * buffers: your network reads the x register directly and returns a GPU buffer or an onnxruntime
 * GPU tensor, which the WebGPU backend's conversion kernel turns into ε; the only readback is the
 * final one.
 *
 * @module
 */

import { AbortError, ConfigError, ModelError, StateError } from "../errors.ts";
import type { Plan } from "../plan/types.ts";
import { checkPlan } from "../plan/validate.ts";
import { createCpuBackend } from "../backends/cpu.ts";
import { checkGpuOutput, openGpuNetworkRun } from "../backends/webgpu.ts";
import type { Backend, EpsSource, Evaluation, GpuNetworkOutput } from "../backends/types.ts";
import { timeInput } from "../model/convert.ts";
import { parseTimeSpec, type PredictionType, type TimeSpec } from "../model/manifest.ts";
import {
  checkPlanMatchesModel,
  checkSampleShape,
  type CommonSampleOptions,
  drive,
  type SampleResult,
} from "./sample.ts";
import { readManifest } from "./session_model.ts";

/** Options of {@link createScheduler} on either backend. */
export interface SchedulerOptions extends Omit<CommonSampleOptions, "onProgress"> {
  /** Shape of one sample (or from `manifest`). */
  sampleShape?: readonly number[];
  /** What your network returns: `"eps"` (default), `"x0"`, `"v"` or `"score"` (or from `manifest`). */
  prediction?: PredictionType;
  /** How {@link SchedulerEvaluation.modelTime} is computed (default `{ kind: "continuous", scale: 1 }`: t; an integer `dtype` rounds it, ties to even). */
  time?: TimeSpec;
  /**
   * A `model.json` object (or a loaded model's `manifest`) giving `sampleShape`, `prediction` and
   * `time`; its SDE is checked against the plan's.
   */
  manifest?: unknown;
  /** A name for error messages (default `"network"`). */
  name?: string;
}

/** Options of {@link createScheduler} over Float32Arrays on the CPU. */
export interface CpuSchedulerOptions extends SchedulerOptions {
  /** `"cpu"` (default): float32 registers on the CPU, like the `wasm` backend's. */
  backend?: "cpu";
}

/** Options of {@link createScheduler} over GPU buffers. */
export interface GpuSchedulerOptions extends SchedulerOptions {
  /** The registers are GPU buffers on `device`. */
  backend: "webgpu";
  /** The GPUDevice your network runs on (onnxruntime-web: `await ort.env.webgpu.device`). */
  device: GPUDevice;
}

/** One network evaluation of the plan, in call order. */
export interface SchedulerEvaluation extends Evaluation {
  /** What stores the output: ε, or x̂₀ (you always return the network's raw output). */
  output: "eps" | "x0";
  /** The value of the network's time input here (per `time` or the manifest; t by default). */
  modelTime: number;
  /** Whether this is the final denoising's evaluation (with `denoiseFinal`). */
  final: boolean;
}

/**
 * A step-wise run of a plan: `X` is what your network gets (a Float32Array, or a GPUBuffer on
 * WebGPU), `O` what it returns.
 */
export interface Scheduler<X, O> {
  /** Every evaluation of the run, in order (known before the first one). */
  readonly evaluations: readonly SchedulerEvaluation[];
  /** The evaluation waiting for your output; undefined once done. */
  readonly current: SchedulerEvaluation | undefined;
  /**
   * The network input of {@link current}: `[n, ...sampleShape]` float32, row-major. On the CPU a
   * copy, yours to keep; on WebGPU the run's register (read it, never write it; valid until `step`).
   */
  readonly x: X;
  /** `[n, ...sampleShape]`. */
  readonly shape: readonly number[];
  /** Whether every evaluation has been answered and the result read. */
  readonly done: boolean;
  /**
   * Hands back the network's raw output for {@link current} (pass `evaluation` to have the order
   * checked) and runs the program up to the next evaluation, or to the end. A wrong length or
   * shape, or a non-finite value (CPU), is a {@link ModelError} and the scheduler still waits for the
   * same evaluation; calling out of order, concurrently, after the end or after `dispose` is a
   * {@link StateError}.
   */
  step(output: O, evaluation?: SchedulerEvaluation | number): Promise<void>;
  /** The samples, as `sample()` returns them (a {@link StateError} before the last evaluation). */
  result(): SampleResult;
  /** Stops the run and releases its registers (idempotent). */
  dispose(): void;
}

/** The network's pending call, resolved by `step`. */
interface Pending<X, O> {
  x: X;
  ev: Evaluation;
  resolve(out: O): void;
  reject(e: unknown): void;
}

/** The plan's evaluations in call order (the program's eval ops, then the final denoising's). */
function evaluationsOf(plan: Plan, denoiseFinal: boolean, modelTime: (e: Evaluation) => number): SchedulerEvaluation[] {
  const ops = denoiseFinal ? [...plan.program.ops, ...plan.program.final] : plan.program.ops;
  const out: SchedulerEvaluation[] = [];
  for (const op of ops) {
    if (op.op !== "eval") continue;
    const ev: Evaluation = {
      t: op.t,
      alphaBar: op.alphaBar,
      rho: op.rho,
      step: op.step,
      index: out.length,
      output: op.out,
    };
    out.push(Object.freeze({ ...ev, output: op.out, modelTime: modelTime(ev), final: out.length >= plan.nfe }));
  }
  return out;
}

function describeEval(ev: Evaluation): string {
  return `evaluation ${ev.index} (step ${ev.step}, t = ${ev.t})`;
}

class StepScheduler<X, O> implements Scheduler<X, O> {
  readonly evaluations: readonly SchedulerEvaluation[];
  readonly shape: readonly number[];
  readonly #check: (out: O, ev: SchedulerEvaluation) => void;
  #pending?: Pending<X, O>;
  #notify?: (p: Pending<X, O> | null) => void;
  #run?: Promise<SampleResult>;
  #result?: SampleResult;
  #failure?: unknown;
  #busy = false;
  #disposed = false;

  constructor(
    evaluations: SchedulerEvaluation[],
    shape: readonly number[],
    check: (out: O, ev: SchedulerEvaluation) => void,
  ) {
    this.evaluations = Object.freeze(evaluations);
    this.shape = Object.freeze([...shape]);
    this.#check = check;
  }

  /** The network the run calls: each call waits for `step`. */
  readonly network = (x: X, ev: Evaluation): Promise<O> =>
    new Promise<O>((resolve, reject) => {
      if (this.#disposed) return reject(new AbortError("the scheduler was disposed"));
      const p: Pending<X, O> = { x, ev, resolve, reject };
      this.#pending = p;
      this.#take(p);
    });

  #take(p: Pending<X, O> | null): void {
    const notify = this.#notify;
    this.#notify = undefined;
    notify?.(p);
  }

  /** Waits until the run asks for the network again (the pending call) or has finished (null). */
  #turn(): Promise<Pending<X, O> | null> {
    return new Promise((resolve) => this.#notify = resolve);
  }

  /** Starts the run; resolves once it waits for the first evaluation (rejects if it cannot start). */
  async start(run: () => Promise<SampleResult>): Promise<void> {
    const turn = this.#turn();
    this.#run = run();
    this.#run.then((r) => this.#result = r, (e) => this.#failure = e).finally(() => this.#take(null));
    if ((await turn) === null) await this.#run;
  }

  get current(): SchedulerEvaluation | undefined {
    return this.#pending && !this.#busy ? this.evaluations[this.#pending.ev.index] : undefined;
  }

  get x(): X {
    if (!this.#pending || this.#busy) throw this.#stateError("x");
    return this.#pending.x;
  }

  get done(): boolean {
    return this.#result !== undefined;
  }

  #stateError(operation: string): StateError {
    if (this.#disposed) return new StateError(operation, "the scheduler was disposed");
    if (this.#failure !== undefined) {
      return new StateError(operation, `the run failed: ${(this.#failure as Error)?.message ?? this.#failure}`);
    }
    if (this.#busy) return new StateError(operation, "the previous step() has not settled yet (await it first)");
    if (this.#result) {
      return new StateError(operation, `all ${this.evaluations.length} evaluations are done; read result()`);
    }
    const due = this.evaluations.length - (this.#pending?.ev.index ?? 0);
    return new StateError(operation, `${due} evaluation(s) are still due; call step() with each output first`);
  }

  async step(output: O, evaluation?: SchedulerEvaluation | number): Promise<void> {
    const p = this.#pending;
    if (!p || this.#busy || this.#disposed) throw this.#stateError("step");
    const ev = this.evaluations[p.ev.index];
    if (evaluation !== undefined) {
      const i = typeof evaluation === "number" ? evaluation : evaluation?.index;
      if (i !== ev.index) {
        throw new StateError("step", `the scheduler waits for ${describeEval(ev)}, not for evaluation ${i}`);
      }
    }
    this.#check(output, ev);
    this.#busy = true;
    this.#pending = undefined;
    const turn = this.#turn();
    p.resolve(output);
    try {
      if ((await turn) === null) await this.#run;
    } finally {
      this.#busy = false;
    }
  }

  result(): SampleResult {
    if (!this.#result || this.#disposed) throw this.#stateError("result");
    return this.#result;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#run?.catch(() => {});
    const p = this.#pending;
    this.#pending = undefined;
    p?.reject(new AbortError("the scheduler was disposed"));
  }
}

/**
 * A step-wise scheduler over a plan, for people who call their network themselves. Each evaluation
 * gives the network input ({@link Scheduler.x}) and where it is evaluated ({@link Scheduler.current}:
 * t, ᾱ, ρ, `modelTime`, step, index); {@link Scheduler.step} takes the network's raw output. The
 * samples are bit-identical to `sample()` with the same plan, seed and network.
 *
 * @example Float32Arrays on the CPU
 * ```ts
 * import { createScheduler, makePlan } from "@seed/deis";
 * // a stand-in network: data N(0, I) under vp-linear, where ε(x, t) = σ(t)·x exactly
 * const myNet = (x: Float32Array, t: number) => x.map((v) => v * Math.sqrt(1 - Math.exp(-9.95 * t * t - 0.1 * t)));
 * const s = await createScheduler({ plan: makePlan({ method: "unipc", order: 2, steps: 8 }), sampleShape: [2], n: 4, seed: 1 });
 * for (const ev of s.evaluations) await s.step(myNet(s.x, ev.modelTime), ev);
 * console.log(s.result().data); // 8 float32 values, as sample({ model: (x, p) => myNet(x, p.t), ... }) gives
 * ```
 *
 * @example GPU buffers on WebGPU, with your own onnxruntime-web session
 * ```ts ignore
 * import * as ort from "onnxruntime-web/webgpu";
 * import { createScheduler, makePlan } from "@seed/deis";
 * const session = await ort.InferenceSession.create("model.onnx", {
 *   executionProviders: ["webgpu"],
 *   preferredOutputLocation: "gpu-buffer",
 * });
 * const s = await createScheduler({
 *   backend: "webgpu",
 *   device: await ort.env.webgpu.device,
 *   plan: makePlan({ method: "tab", order: 3, steps: 10 }),
 *   sampleShape: [2],
 *   n: 64,
 * });
 * for (const ev of s.evaluations) {
 *   const x = ort.Tensor.fromGpuBuffer(s.x, { dataType: "float32", dims: [...s.shape] });
 *   const t = new ort.Tensor("float32", new Float32Array(64).fill(ev.modelTime), [64]);
 *   await s.step((await session.run({ x, t })).eps as ort.Tensor, ev); // the tensor is disposed for you
 * }
 * console.log(s.result().data);
 * ```
 */
export function createScheduler(options: CpuSchedulerOptions): Promise<Scheduler<Float32Array, ArrayLike<number>>>;
/** The scheduler over GPU buffers (see the CPU overload). */
export function createScheduler(options: GpuSchedulerOptions): Promise<Scheduler<GPUBuffer, GpuNetworkOutput>>;
export async function createScheduler(
  options: CpuSchedulerOptions | GpuSchedulerOptions,
): Promise<Scheduler<Float32Array, ArrayLike<number>> | Scheduler<GPUBuffer, GpuNetworkOutput>> {
  if (typeof options !== "object" || options === null) {
    throw new ConfigError("options", "an object with a plan", options);
  }
  const plan = checkPlan(options.plan);
  const m = options.manifest === undefined ? undefined : readManifest(options.manifest, "manifest");
  if (m) {
    for (const key of ["sampleShape", "prediction", "time"] as const) {
      if (options[key] !== undefined) {
        throw new ConfigError(key, "absent with a manifest (the manifest gives it)", options[key]);
      }
    }
    checkPlanMatchesModel(plan, { manifest: m });
    if (m.precondition) {
      // step() takes the raw output and x is handed over unscaled: a preconditioned F would be misread
      throw new ConfigError(
        "manifest.precondition",
        "absent: with a raw EDM denoiser, feed edmCoefficients(...).cIn·x/α and return c_skip·x/α + c_out·F " +
          'as prediction "x0" (no manifest), or use sample() with the loaded model',
        m.precondition,
      );
    }
  }
  const sampleShape = checkSampleShape(m?.sampleShape ?? options.sampleShape);
  const prediction = m?.prediction ?? options.prediction ?? "eps";
  if (!["eps", "x0", "v", "score"].includes(prediction)) {
    throw new ConfigError("prediction", "one of eps, x0, v, score", prediction);
  }
  const time = m?.time ?? parseTimeSpec(
    options.time ?? { kind: "continuous" },
    { sde: plan.sde.name, precondition: false, dtype: "float32", v2: true },
    (field, allowed, value) => {
      throw new ConfigError(field, allowed, value);
    },
  );
  const discreteN = (m?.sde ?? plan.sde).alphasCumprod?.length ?? 0;
  const evaluations = evaluationsOf(plan, options.denoiseFinal === true, (p) => timeInput(time, discreteN, p));
  const n = options.n ?? 1;
  const length = (Number.isSafeInteger(n) && n > 0 ? n : 1) * sampleShape.reduce((a, b) => a * b, 1);
  const shape = [n, ...sampleShape];
  const name = options.name ?? "network";
  const opts = { ...options, onProgress: undefined };

  if (options.backend === "webgpu") {
    const device = options.device;
    if (typeof GPUDevice !== "function" || !(device instanceof GPUDevice)) {
      throw new ConfigError("device", "the GPUDevice your network runs on", device);
    }
    const s = new StepScheduler<GPUBuffer, GpuNetworkOutput>(evaluations, shape, (out, ev) => {
      checkGpuOutput(out, shape, name, `for ${describeEval(ev)}`);
    });
    const source: EpsSource = { kind: "gpu-network", fn: s.network, device, sampleShape, prediction, name };
    const backend: Backend = {
      name: "webgpu",
      description: "your network on GPU buffers",
      open: (spec) => Promise.resolve(openGpuNetworkRun({ ...spec, source: spec.source as typeof source })),
    };
    await s.start(() => drive(backend, source, sampleShape, plan, opts));
    return s;
  }
  if (options.backend !== undefined && options.backend !== "cpu") {
    throw new ConfigError("backend", '"cpu" (default) or "webgpu"', options.backend);
  }
  const s = new StepScheduler<Float32Array, ArrayLike<number>>(evaluations, shape, (out, ev) => {
    const len = (out as ArrayLike<number> | null)?.length;
    if (typeof len !== "number" || len !== length) {
      throw new ModelError(
        name,
        `step() got ${len ?? out} values for ${describeEval(ev)}; expected ${length} (n × sample size)`,
        "output",
      );
    }
    for (let i = 0; i < length; i++) {
      const v = out[i];
      if (typeof v !== "number" || v - v !== 0) {
        throw new ModelError(
          name,
          `step() got a non-finite value (${v}) at element ${i} for ${describeEval(ev)}`,
          "output",
        );
      }
    }
  });
  const source: EpsSource = { kind: "network", fn: s.network, sampleShape, prediction, name };
  await s.start(() => drive(createCpuBackend(), source, sampleShape, plan, opts));
  return s;
}
