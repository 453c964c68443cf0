/**
 * The backend contract. A sampler is written against {@link Run}: a handful of vector registers
 * ("x slots" that can be fed to the network, and "ε slots"), a network evaluation that fills an
 * ε slot, and one linear-combination update. Where the registers live (GPU buffers, typed arrays)
 * and how the update runs (a WGSL kernel, a CPU loop) is the backend's business.
 *
 * @module
 */

import type { EvalPoint } from "../model/convert.ts";
import type { PredictionType } from "../model/manifest.ts";
import type { ConditioningValue, GuidanceOptions, Model } from "../model/model.ts";

/**
 * Names of the backends. `native` runs the network on onnxruntime-node (Deno and Node only); `cpu` is
 * the float64 loop over a plain JS ε function.
 */
export type BackendName = "webgpu" | "wasm" | "native" | "cpu";

/** One network evaluation, in call order. */
export interface Evaluation extends EvalPoint {
  /** 0-based evaluation number (the plan's evalTimes index; the final denoising comes last). */
  index: number;
  /** The step it belongs to. */
  step: number;
  /** What the value register receives: ε, or the data prediction x̂₀ = x/α − ρ ε (default ε). */
  output?: "eps" | "x0";
}

/**
 * A plain ε function for the float64 CPU loop: `x` is the batch (n·D values, row-major), `t` the
 * time of each sample; returns ε of the same length. It must not modify `x`.
 */
export type EpsFunction = (x: Float64Array, t: number[]) => Float64Array;

/**
 * Your own network as a function (for people who run the network themselves): `x` is a float32
 * copy of the batch (n·D values, row-major), `point` where it is evaluated (the plan's t, ᾱ, ρ);
 * returns the network's raw output (interpreted by the `prediction` given with it), sync or async.
 */
export type NetworkFunction = (
  x: Float32Array,
  point: Evaluation,
) => ArrayLike<number> | Promise<ArrayLike<number>>;

/**
 * A network output that lives on the GPU: a `GPUBuffer` holding at least n·D float32 values
 * (row-major, like x), or an onnxruntime tensor located there (`location: "gpu-buffer"`, e.g. a
 * session output with `preferredOutputLocation: "gpu-buffer"`, or `Tensor.fromGpuBuffer`). A tensor
 * is disposed once its values are queued for conversion; a bare buffer stays the caller's.
 */
export type GpuNetworkOutput = GPUBuffer | {
  /** The GPUBuffer holding the values (typed loosely, as onnxruntime's tensors declare it). */
  readonly gpuBuffer: object;
  /** The tensor's dims (checked against `[n, ...sampleShape]` when given). */
  readonly dims?: readonly number[];
  /** The element type (must be `"float32"` when given). */
  readonly type?: string;
  /** Releases the tensor (called by the run once the values are queued). */
  dispose?(): void;
};

/**
 * Your own network on the GPU: `x` is the run's register holding the batch (n·D float32 values,
 * row-major; read it, never write it), `point` where it is evaluated; returns its raw output on the
 * same GPUDevice.
 */
export type GpuNetworkFunction = (x: GPUBuffer, point: Evaluation) => Promise<GpuNetworkOutput>;

/** What produces ε. */
export type EpsSource =
  | {
    kind: "model";
    model: Model;
    conditioning?: Record<string, ConditioningValue>;
    guidance?: GuidanceOptions;
  }
  | {
    kind: "function";
    fn: EpsFunction;
    sampleShape: readonly number[];
    name?: string;
  }
  | {
    kind: "network";
    fn: NetworkFunction;
    sampleShape: readonly number[];
    prediction: PredictionType;
    name?: string;
  }
  | {
    kind: "gpu-network";
    fn: GpuNetworkFunction;
    /** The GPUDevice the network's buffers live on (the run's registers are made there). */
    device: GPUDevice;
    sampleShape: readonly number[];
    prediction: PredictionType;
    name?: string;
  };

/** What a sampler needs from a backend for one run. */
export interface RunSpec {
  /** What produces ε (an ONNX model or a JS function). */
  source: EpsSource;
  /** Batch size. */
  n: number;
  /** Number of x registers (network inputs). */
  xSlots: number;
  /** Number of ε registers. */
  epsSlots: number;
  /** Noise seed (a safe non-negative integer). */
  seed: number;
}

/** `dst = a·dst + src.coef·src + Σ coef·ε[slot] + noise.scale·z(noise.stream, noise.step)`. */
export interface CombineSpec {
  /** The x register written. */
  dst: number;
  /** Coefficient of dst's current value (0: overwrite). */
  a: number;
  /** Another x register. */
  src?: { slot: number; coef: number };
  /** ε registers and their coefficients (at most 16). */
  terms: readonly { slot: number; coef: number }[];
  /** Gaussian noise (see noise.ts for the streams). */
  noise?: { scale: number; stream: number; step: number };
}

/**
 * Inpainting's replacement of the known region (docs/CONVENTIONS.md, "img2img and inpainting"):
 * `dst = m·(alpha·known + sigma·z(noise.stream, noise.step)) + (1 − m)·dst`, with `known` and the
 * mask `m` from {@link Run.setKnown}.
 */
export interface BlendSpec {
  /** The x register written. */
  dst: number;
  /** α(t) of the time the known image is noised to. */
  alpha: number;
  /** σ(t) of that time (0: the known image itself, no noise is drawn). */
  sigma: number;
  /** Which draw z is (see noise.ts); unused when sigma is 0. */
  noise: { stream: number; step: number };
}

/** Own GPU memory of a run (the network's own buffers belong to onnxruntime and are not counted). */
export interface GpuRunStats {
  /** Buffers the run created. */
  buffers: number;
  /** Largest number of bytes the run held at once. */
  peakBytes: number;
  /** Readbacks (buffer maps) the run did: 1 for a finished run. */
  readbacks: number;
  /** Command buffers submitted by the run's own kernels. */
  submits: number;
}

/** Wall-clock milliseconds spent, by kind. */
export interface RunTimings {
  /** In network calls (for WebGPU: enqueueing them; the GPU runs asynchronously). */
  network: number;
  /** In the updates (for WebGPU: encoding and submitting the kernels). */
  update: number;
  /** In the final readback (WebGPU: includes waiting for the GPU to finish). */
  readback: number;
}

/** One sampling run on a backend: registers, evaluations, updates, and one final read. */
export interface Run {
  /** The backend the run belongs to. */
  readonly backend: BackendName;
  /** Elements of one x register: n·(sample size). */
  readonly length: number;
  /** Element type of the result. */
  readonly dtype: "float32" | "float64";
  /** Writes a register from the host (the initial state). */
  upload(slot: number, data: ArrayLike<number>): void;
  /** Runs the network on x register `x`, converts to ε and stores it in ε register `eps`. */
  evaluate(eps: number, x: number, ev: Evaluation): Promise<void>;
  /** The update. */
  combine(spec: CombineSpec): void;
  /** Reads x register `slot` back (the only readback of a GPU run) and checks the run's outputs. */
  read(slot: number): Promise<Float32Array | Float64Array>;
  /**
   * Reads x register `slot` without ending the run (previews). On WebGPU one extra readback; it
   * neither checks the run's outputs nor ends its error scopes (that stays `read`'s job).
   */
  peek?(slot: number): Promise<Float32Array | Float64Array>;
  /** Inpainting: stores the known image and the mask (n·sample size values each) for {@link blend}. */
  setKnown?(known: ArrayLike<number>, mask: ArrayLike<number>): void;
  /** Inpainting: replaces the known region of `dst` (see {@link BlendSpec}). */
  blend?(spec: BlendSpec): void;
  /**
   * Runs the model's decoder on x register `slot` (divided by the decoder's scaling factor) and
   * returns the decoded batch in float32. On WebGPU the latents go to the decoder on the GPU.
   */
  decode?(slot: number): Promise<Float32Array>;
  /** Time spent so far, by kind. */
  readonly timings: RunTimings;
  /** GPU memory use (WebGPU only). */
  readonly gpu?: GpuRunStats;
  /** Releases every buffer of the run. Idempotent. */
  dispose(): void;
}

/** A backend: opens runs. */
export interface Backend {
  /** The backend's name. */
  readonly name: BackendName;
  /** Human-readable description (e.g. the adapter). */
  readonly description: string;
  /** Why this backend was chosen (set by `auto`). */
  readonly reason?: string;
  /** Allocates a run. */
  open(spec: RunSpec): Promise<Run>;
}
