/**
 * A loaded model: the manifest, the ONNX bytes, and onnxruntime sessions created on demand per
 * execution provider (so one model can be sampled on the WebGPU and the WASM backend alike).
 *
 * @module
 */

import { BackendUnavailableError, ConfigError, ModelError } from "../errors.ts";
import {
  type Ort,
  ortFor,
  type OrtOutputs,
  type OrtSession,
  type OrtSessionOptions,
  type OrtTensor,
} from "../runtime/ort.ts";
import { intraOpThreads, markRuntimeStarted } from "../runtime/settings.ts";
import { loadNativeOrt, nativeUnavailableReason } from "../runtime/ort_native.ts";
import { dataMap, type EpsMap, epsMap, type EvalPoint, inputScale, timeInput } from "./convert.ts";
import { DTYPE_RANGE, type ExtraInput, type ModelManifest } from "./manifest.ts";
import { MAX_GUIDANCE_SCALE } from "../limits.ts";
import { type SessionKind, SessionPool } from "./session_pool.ts";
import { makeTensor, timeTensor } from "./boundary.ts";
import type { Decoder } from "./decoder.ts";

export type { SessionKind };

/** A conditioning value: one number for every sample, one value per sample element, or the whole batch. */
export type ConditioningValue =
  | number
  | bigint
  | ArrayLike<number>
  | ArrayLike<bigint>;

/** Classifier-free guidance: `ε = ε_u + scale·(ε_c − ε_u)`, one batched call of size 2n. */
export interface GuidanceOptions {
  /** The guidance scale w (1 = conditional only; 0 = unconditional only). */
  scale: number;
  /** Values of the extra inputs for the unconditional half; default: each input's manifest `null`. */
  unconditional?: Record<string, ConditioningValue>;
}

/** Options of {@link Model} session creation. */
export interface ModelSessionOptions {
  /** Extra onnxruntime session options (merged; execution providers and output location are ours). */
  sessionOptions?: OrtSessionOptions;
}

type OrtTensorType = "float32" | "float16" | "float64" | "int32" | "int64" | "bool";

function tensorOf(
  ort: Ort,
  type: OrtTensorType,
  data: ArrayLike<number> | ArrayLike<bigint>,
  dims: number[],
): OrtTensor {
  const n = data.length;
  switch (type) {
    case "float32":
      return new ort.Tensor(
        "float32",
        Float32Array.from(data as ArrayLike<number>, Number),
        dims,
      );
    case "float16":
      return makeTensor(ort, "float16", Float16Array.from(data as ArrayLike<number>, Number), dims);
    case "float64":
      return new ort.Tensor(
        "float64",
        Float64Array.from(data as ArrayLike<number>, Number),
        dims,
      );
    case "int32":
      return new ort.Tensor(
        "int32",
        Int32Array.from(data as ArrayLike<number>, Number),
        dims,
      );
    case "int64": {
      const a = new BigInt64Array(n);
      for (let i = 0; i < n; i++) a[i] = BigInt(data[i] as number | bigint);
      return new ort.Tensor("int64", a, dims);
    }
    case "bool": {
      const a = new Uint8Array(n);
      for (let i = 0; i < n; i++) a[i] = Number(data[i]) ? 1 : 0;
      return new ort.Tensor("bool", a, dims);
    }
  }
}

/** Time input tensors a model keeps for reuse (see `Model.timeTensor`). */
export const TIME_TENSORS_KEPT = 256;

/** Where an evaluation was, for an error message: built only when one is raised. */
const place = (where: string | (() => string)) => typeof where === "function" ? where() : where;

/**
 * A model ready for sampling. Create it with `loadModel`.
 *
 * @example
 * ```ts
 * import { loadModel, type Model } from "@seed/deis";
 * const model: Model = await loadModel("models/gmm-2d");
 * console.log(model.name, model.sampleShape, model.dtype); // "gmm-2d" [2] "float32"
 * await model.dispose();
 * ```
 */
export class Model {
  /** The validated manifest. */
  readonly manifest: ModelManifest;
  /** The ONNX file's bytes. */
  readonly bytes: Uint8Array;
  /** Where the model came from (path, URL or "bytes"). */
  readonly source: string;
  /** The decoder stage, when the manifest has `decoder` (set by `loadModel`). */
  decoder?: Decoder;
  readonly #options: ModelSessionOptions;
  #timeTensors: Partial<Record<SessionKind, Map<number, Map<number, OrtTensor>>>> = {};
  #timeTensorCount = 0;
  readonly #pool = new SessionPool();

  /** Wraps validated parts; prefer `loadModel`. */
  constructor(
    manifest: ModelManifest,
    bytes: Uint8Array,
    source: string,
    options: ModelSessionOptions = {},
  ) {
    this.manifest = manifest;
    this.bytes = bytes;
    this.source = source;
    this.#options = options;
  }

  /** The manifest's name. */
  get name(): string {
    return this.manifest.name;
  }

  /** Shape of one sample. */
  get sampleShape(): readonly number[] {
    return this.manifest.sampleShape;
  }

  /** Number of elements of one sample. */
  get sampleSize(): number {
    return this.manifest.sampleShape.reduce((a, b) => a * b, 1);
  }

  /**
   * Element type of the sampler's registers and of the samples: float64 for a float64 network,
   * float32 otherwise (a float16 network converts at its boundary only).
   */
  get dtype(): "float32" | "float64" {
    return this.manifest.dtype === "float64" ? "float64" : "float32";
  }

  /** Element type of x and the output at the network boundary (the manifest's `dtype`). */
  get networkDtype(): "float32" | "float16" | "float64" {
    return this.manifest.dtype;
  }

  /** The factor x is multiplied by before it is fed to the network at `point` (EDM's c_in/α, else 1). */
  inputScale(point: EvalPoint): number {
    return inputScale(this.manifest, point);
  }

  /** Whether {@link dispose} was called. */
  get disposed(): boolean {
    return this.#pool.disposed;
  }

  /** The time input value at `point`. */
  timeInput(point: EvalPoint): number {
    const n = this.manifest.sde.alphasCumprod?.length ?? 0;
    return timeInput(this.manifest.time, n, point);
  }

  /**
   * The time input tensor of `batch` samples at `point`, made by the onnxruntime instance of `kind`.
   * Kept for reuse (up to {@link TIME_TENSORS_KEPT}): a sampling loop feeds the same few values run
   * after run, and a fresh tensor per evaluation showed in the CPU backends' overhead. Tensors are
   * never written after creation.
   */
  timeTensor(kind: SessionKind, point: EvalPoint, batch: number): OrtTensor {
    const value = this.timeInput(point);
    // keyed by numbers (no formatting of the time value per evaluation)
    const byBatch = this.#timeTensors[kind] ??= new Map();
    let byValue = byBatch.get(batch);
    if (!byValue) byBatch.set(batch, byValue = new Map());
    let t = byValue.get(value);
    if (!t) {
      if (++this.#timeTensorCount > TIME_TENSORS_KEPT) {
        this.#timeTensors = {};
        this.#timeTensorCount = 1;
        return this.timeTensor(kind, point, batch);
      }
      t = timeTensor(ortFor(kind), this.manifest.time.dtype, value, batch);
      byValue.set(value, t);
    }
    return t;
  }

  /**
   * The linear map from the network output to what an evaluation stores at `point`: ε, or x̂₀ when
   * `point.output` is `"x0"` (guidance scale `w`, if guided).
   */
  valueMap(point: EvalPoint & { output?: "eps" | "x0" }, w?: number): EpsMap {
    const m = epsMap(this.manifest, point, w);
    return point.output === "x0" ? dataMap(m, point) : m;
  }

  #error(message: string, field?: string, cause?: unknown): ModelError {
    return new ModelError(
      this.name,
      message,
      field,
      cause === undefined ? undefined : { cause },
    );
  }

  /**
   * The onnxruntime session for an execution provider, created once and checked against the
   * manifest (every graph input must be x, t or an extra input, and all of those must exist).
   * The WebGPU session keeps its output on the GPU (`preferredOutputLocation: "gpu-buffer"`).
   */
  session(kind: SessionKind): Promise<OrtSession> {
    if (this.#pool.disposed) {
      return Promise.reject(this.#error("the model was disposed", "session"));
    }
    return this.#pool.session(kind, () => this.#create(kind));
  }

  async #create(kind: SessionKind): Promise<OrtSession> {
    if (kind === "webgpu" && this.networkDtype === "float64") {
      throw new ConfigError(
        "backend",
        '"wasm" for a float64 model (WebGPU has no float64)',
        kind,
      );
    }
    const m = this.manifest;
    let session: OrtSession;
    markRuntimeStarted();
    if (kind === "native" && !(await loadNativeOrt())) {
      throw new BackendUnavailableError("native", nativeUnavailableReason());
    }
    try {
      session = await ortFor(kind).InferenceSession.create(this.bytes, {
        logSeverityLevel: 3, // errors only: the WebGPU EP warns about CPU-placed shape ops
        ...(kind === "native" ? { intraOpNumThreads: intraOpThreads(), interOpNumThreads: 1 } : {}),
        ...this.#options.sessionOptions,
        executionProviders: [kind === "native" ? "cpu" : kind],
        ...(kind === "webgpu" ? { preferredOutputLocation: { [m.output]: "gpu-buffer" as const } } : {}),
      });
    } catch (e) {
      throw this.#error(
        `onnxruntime could not create a ${kind} session: ${(e as Error).message ?? e}`,
        "onnx",
        e,
      );
    }
    try {
      const declared = new Map<string, string>([
        [m.inputs.x, "inputs.x"],
        [m.inputs.t, "inputs.t"],
        ...m.extraInputs.map((e, i) => [e.name, `extraInputs[${i}].name`] as [string, string]),
      ]);
      for (const [name, field] of declared) {
        if (!session.inputNames.includes(name)) {
          throw this.#error(
            `the ONNX graph has no input '${name}' (its inputs: ${session.inputNames.join(", ")})`,
            field,
          );
        }
      }
      for (const name of session.inputNames) {
        if (!declared.has(name)) {
          throw this.#error(
            `the ONNX graph input '${name}' is not declared in the manifest (inputs or extraInputs)`,
            "extraInputs",
          );
        }
      }
      if (!session.outputNames.includes(m.output)) {
        throw this.#error(
          `the ONNX graph has no output '${m.output}' (its outputs: ${session.outputNames.join(", ")})`,
          "output",
        );
      }
    } catch (e) {
      await session.release().catch(() => {});
      throw e;
    }
    return session;
  }

  /**
   * Runs the network once (calls on one model are serialised: onnxruntime sessions are not
   * re-entrant). Returns the output tensor, which the caller must dispose.
   */
  async run(kind: SessionKind, feeds: Record<string, OrtTensor>): Promise<OrtTensor> {
    return (await this.runInto(kind, feeds)).out;
  }

  /**
   * {@link run}, asking onnxruntime to write the output into `into` (a tensor of the expected shape
   * and type) as well: `filled` says whether it did. It refuses an output of another shape; the call
   * is then repeated without, so the caller's check of `out` reports what the network gave.
   */
  runInto(
    kind: SessionKind,
    feeds: Record<string, OrtTensor>,
    into?: OrtTensor,
  ): Promise<{ out: OrtTensor; filled: boolean }> {
    return this.#pool.serialise(async () => {
      const session = await this.session(kind);
      const name = this.manifest.output;
      let result: OrtOutputs;
      let filled = false;
      try {
        if (into) {
          result = await session.run(feeds, { [name]: into }).then(
            (r) => (filled = true, r),
            () => session.run(feeds, [name]),
          );
        } else result = await session.run(feeds, [name]);
      } catch (e) {
        throw this.#error(`onnxruntime run failed: ${(e as Error).message ?? e}`, name, e);
      }
      return { out: result[name] as OrtTensor, filled };
    });
  }

  /**
   * Checks a network output: its element type and shape `[batch, ...sampleShape]`. Throws a
   * {@link ModelError} naming the model and the output.
   */
  checkOutput(out: OrtTensor, batch: number, where: string | (() => string)): void {
    const want = [batch, ...this.manifest.sampleShape];
    const got = out.dims;
    if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
      throw this.#error(
        `output '${this.manifest.output}' has shape [${got.join(", ")}] ${place(where)}; expected [${want.join(", ")}]`,
        this.manifest.output,
      );
    }
    if (out.type !== this.networkDtype) {
      throw this.#error(
        `output '${this.manifest.output}' has type ${out.type} ${place(where)}; expected ${this.networkDtype}`,
        this.manifest.output,
      );
    }
  }

  /** The error for a network output holding NaN or ±Inf. */
  nonFiniteError(where: string | (() => string), count?: number): ModelError {
    return this.#error(
      `output '${this.manifest.output}' contains ${count ?? "some"} non-finite value(s) (NaN or Inf) ${place(where)}`,
      this.manifest.output,
    );
  }

  /**
   * The CPU tensors (made by the onnxruntime instance of `kind`) of the extra inputs for a batch of `n` samples (`2n` with guidance: the
   * conditional half first, then the unconditional half). Missing conditioning falls back to the
   * input's `null` value; without one it is a {@link ConfigError} naming `conditioning.<input>`.
   */
  extraFeeds(
    kind: SessionKind,
    n: number,
    conditioning: Record<string, ConditioningValue> = {},
    guidance?: GuidanceOptions,
  ): Record<string, OrtTensor> {
    const extras = this.manifest.extraInputs;
    for (const key of Object.keys(conditioning)) {
      if (!extras.some((e) => e.name === key)) {
        throw new ConfigError(
          `conditioning.${key}`,
          `one of the model's extra inputs (${extras.map((e) => e.name).join(", ") || "none"})`,
          conditioning[key],
        );
      }
    }
    if (guidance) {
      if (!(Math.abs(guidance.scale) <= MAX_GUIDANCE_SCALE)) {
        // beyond, w·(ε_c − ε_u) overflows float32 and the error would seem to be the model's
        throw new ConfigError(
          "guidance.scale",
          `a finite number in [-${MAX_GUIDANCE_SCALE}, ${MAX_GUIDANCE_SCALE}]`,
          guidance.scale,
        );
      }
      if (extras.length === 0) {
        throw new ConfigError(
          "guidance",
          "used only with a model that has extraInputs",
          guidance,
        );
      }
      for (const key of Object.keys(guidance.unconditional ?? {})) {
        if (!extras.some((e) => e.name === key)) {
          throw new ConfigError(
            `guidance.unconditional.${key}`,
            "one of the model's extra inputs",
            key,
          );
        }
      }
    }
    const ort = ortFor(kind);
    const feeds: Record<string, OrtTensor> = {};
    for (const ex of extras) {
      const per = ex.shape.reduce((a, b) => a * b, 1);
      const cond = this.#expand(
        ex,
        per,
        n,
        conditioning[ex.name],
        `conditioning.${ex.name}`,
      );
      let data: (number | bigint)[] = cond;
      if (guidance) {
        const un = this.#expand(
          ex,
          per,
          n,
          guidance.unconditional?.[ex.name],
          `guidance.unconditional.${ex.name}`,
        );
        data = cond.concat(un);
      }
      feeds[ex.name] = tensorOf(ort, ex.dtype, data as ArrayLike<number>, [
        data.length / per,
        ...ex.shape,
      ]);
    }
    return feeds;
  }

  #expand(
    ex: ExtraInput,
    per: number,
    n: number,
    v: ConditioningValue | undefined,
    field: string,
  ): (number | bigint)[] {
    if (v === undefined) {
      if (ex.null === undefined) {
        throw new ConfigError(
          field,
          `a value for extra input '${ex.name}' (it has no "null" value)`,
          v,
        );
      }
      return new Array(n * per).fill(ex.null);
    }
    if (typeof v === "number" || typeof v === "bigint") {
      this.#checkValues(ex, [v], field);
      return new Array(n * per).fill(v);
    }
    if (
      typeof v !== "object" ||
      typeof (v as ArrayLike<number>).length !== "number"
    ) {
      throw new ConfigError(field, "a number or an array", v);
    }
    const arr = Array.from(v as ArrayLike<number | bigint>);
    this.#checkValues(ex, arr, field);
    if (arr.length === n * per) return arr;
    if (arr.length === per) {
      const out: (number | bigint)[] = [];
      for (let i = 0; i < n; i++) out.push(...arr);
      return out;
    }
    throw new ConfigError(
      field,
      `${per} value(s) per sample or ${n * per} for the batch`,
      v,
    );
  }

  /** Every value must be representable in the input's dtype (no silent wrap or BigInt RangeError). */
  #checkValues(ex: ExtraInput, values: (number | bigint)[], field: string): void {
    const range = DTYPE_RANGE[ex.dtype];
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const ok = typeof v === "bigint"
        ? (ex.dtype === "int64" ? v >= -(2n ** 63n) && v < 2n ** 63n : range.ok(Number(v)))
        : typeof v === "number" && range.ok(v);
      if (!ok) {
        throw new ConfigError(
          values.length > 1 ? `${field}[${i}]` : field,
          `${range.allowed} for the ${ex.dtype} input '${ex.name}'`,
          typeof v === "bigint" ? String(v) : v,
        );
      }
    }
  }

  /** Releases every onnxruntime session. The model cannot be used afterwards. */
  async dispose(): Promise<void> {
    if (this.#pool.disposed) return;
    await this.#pool.dispose();
    await this.decoder?.dispose();
  }
}
