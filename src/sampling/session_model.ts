/**
 * Your own onnxruntime `InferenceSession` in place of a loaded model: `sample({ model: { session,
 * manifest } })`. The manifest (the `model.json` object) says what the session's graph is (SDE,
 * sample shape, prediction, time input, names); the session is wrapped as a network function, so it
 * runs on the same float32 CPU registers as the `wasm` backend and reproduces `loadModel` + `sample`
 * on that backend bit for bit.
 *
 * Decision: a plain `{ session, manifest }` object rather than a `Model` built from a session. A
 * `Model` owns its sessions (one per execution provider, created from its bytes, released by
 * `dispose`); a session you created stays yours, with the execution provider you chose, and the SDK
 * only calls `run`. What it cannot do with a foreign session: extra (conditioning) inputs and
 * guidance (apply them inside a network function), float64 graphs, and keeping outputs on the GPU
 * (for that, drive the network yourself with `createScheduler({ backend: "webgpu" })`).
 *
 * @module
 */

import { ConfigError, ModelError } from "../errors.ts";
import type { Evaluation, NetworkFunction } from "../backends/types.ts";
import { edmCoefficients, inputScale, timeInput } from "../model/convert.ts";
import { networkInput, timeTensor } from "../model/boundary.ts";
import { type ModelManifest, validateManifest } from "../model/manifest.ts";
import { type Ort, ortWasm } from "../runtime/ort.ts";

/** The part of an onnxruntime tensor the SDK reads from a session output. */
export interface SessionTensor {
  /** The values (CPU tensors). */
  readonly data: unknown;
  /** The tensor's dims. */
  readonly dims: readonly number[];
  /** The element type. */
  readonly type: string;
  /** Where the values live (`"cpu"`, `"gpu-buffer"`, …). */
  readonly location?: string;
  /** Downloads the values (GPU tensors). */
  getData?(releaseData?: boolean): Promise<unknown>;
  /** Releases the tensor. */
  dispose?(): void;
}

/**
 * The part of an onnxruntime `InferenceSession` (onnxruntime-web or onnxruntime-node) the SDK uses.
 */
export interface InferenceSessionLike {
  /** The graph's input names. */
  readonly inputNames: readonly string[];
  /** The graph's output names. */
  readonly outputNames: readonly string[];
  /** Runs the graph. */
  run(feeds: Record<string, unknown>, fetches: readonly string[]): Promise<Record<string, unknown>>;
}

/** An onnxruntime module, or anything with its `Tensor` constructor. */
export interface TensorFactory {
  /** `new Tensor(type, data, dims)`. */
  // deno-lint-ignore no-explicit-any
  Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => any;
}

/**
 * Your own onnxruntime session and what its graph is, for `sample({ model: { session, manifest } })`.
 *
 * @example Sampling with a session you created
 * ```ts
 * import * as ort from "onnxruntime-web";
 * import { makePlan, sample } from "@seed/deis";
 * const session = await ort.InferenceSession.create(await Deno.readFile("models/gmm-2d/model.onnx"));
 * const manifest = JSON.parse(await Deno.readTextFile("models/gmm-2d/model.json"));
 * const r = await sample({ model: { session, manifest }, plan: makePlan({ steps: 10 }), n: 4, seed: 1 });
 * console.log(r.backend, r.data); // "cpu" and 8 float32 values
 * await session.release();
 * ```
 */
export interface SessionModel {
  /** Your session (it stays yours: the SDK never releases it). */
  session: InferenceSessionLike;
  /**
   * The `model.json` object (docs/MODEL_FORMAT.md; `onnx` is not read): the SDE (checked against
   * the plan), `sampleShape`, `prediction`, `time`, and the `inputs`/`output` names.
   */
  manifest: unknown;
  /** The onnxruntime module the session comes from, for its `Tensor` (default: onnxruntime-web's). */
  ort?: TensorFactory;
}

/** Whether `v` looks like a {@link SessionModel} (an object with a session that can run). */
export function isSessionModel(v: unknown): v is SessionModel {
  const s = (v as { session?: unknown } | null)?.session;
  return typeof v === "object" && v !== null && typeof s === "object" && s !== null &&
    typeof (s as { run?: unknown }).run === "function";
}

/**
 * Validates a manifest given as the `model.json` object, or as a loaded model's `manifest` (whose
 * filled-in `extra` and `scheduler` records are not JSON keys and are set aside before validating).
 */
export function readManifest(raw: unknown, where: string): ModelManifest {
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
    const { extra, scheduler, ...rest } = raw as Record<string, unknown>;
    const loaded = typeof extra === "object" && extra !== null && typeof scheduler !== "string";
    if (loaded) return validateManifest({ ...(extra as object), ...rest }, where);
  }
  return validateManifest(raw, where);
}

/** Checks a session model and wraps its session as a network function (with its validated manifest). */
export function sessionNetwork(spec: SessionModel): { fn: NetworkFunction; manifest: ModelManifest } {
  const manifest = readManifest(spec.manifest, "manifest");
  const name = manifest.name;
  if (manifest.dtype === "float64") {
    throw new ConfigError(
      "model.manifest.dtype",
      '"float32" or "float16" with a session (registers are float32)',
      manifest.dtype,
    );
  }
  if (manifest.extraInputs.length > 0) {
    throw new ConfigError(
      "model.manifest.extraInputs",
      "absent with a session (apply conditioning inside a network function, or load the model)",
      manifest.extraInputs.map((e) => e.name).join(", "),
    );
  }
  const { session } = spec;
  const inputs = Array.from(session.inputNames ?? []), outputs = Array.from(session.outputNames ?? []);
  for (const [field, input] of [["inputs.x", manifest.inputs.x], ["inputs.t", manifest.inputs.t]]) {
    if (!inputs.includes(input)) {
      throw new ModelError(name, `the session has no input '${input}' (its inputs: ${inputs.join(", ")})`, field);
    }
  }
  for (const input of inputs) {
    if (input !== manifest.inputs.x && input !== manifest.inputs.t) {
      throw new ModelError(name, `the session's input '${input}' is not declared in the manifest`, "inputs");
    }
  }
  if (!outputs.includes(manifest.output)) {
    throw new ModelError(
      name,
      `the session has no output '${manifest.output}' (its outputs: ${outputs.join(", ")})`,
      "output",
    );
  }
  const Tensor = spec.ort?.Tensor ?? ortWasm.Tensor;
  if (typeof Tensor !== "function") throw new ConfigError("model.ort", "an onnxruntime module (with Tensor)", spec.ort);
  const size = manifest.sampleShape.reduce((a, b) => a * b, 1);
  const discreteN = manifest.sde.alphasCumprod?.length ?? 0;
  const fetches = [manifest.output];
  const ortLike = { Tensor } as unknown as Ort;
  const pc = manifest.precondition;
  const fn = async (x: Float32Array, point: Evaluation): Promise<ArrayLike<number>> => {
    const n = x.length / size;
    let result: Record<string, unknown>;
    try {
      result = await session.run({
        [manifest.inputs.x]: networkInput(ortLike, x, 1, inputScale(manifest, point), manifest.dtype, [
          n,
          ...manifest.sampleShape,
        ]),
        [manifest.inputs.t]: timeTensor(ortLike, manifest.time.dtype, timeInput(manifest.time, discreteN, point), n),
      }, fetches);
    } catch (e) {
      throw new ModelError(name, `onnxruntime run failed: ${(e as Error).message ?? e}`, manifest.output, { cause: e });
    }
    const out = result[manifest.output] as SessionTensor | undefined;
    try {
      if (!out || out.type !== manifest.dtype) {
        throw new ModelError(
          name,
          `output '${manifest.output}' has type ${out?.type}; expected ${manifest.dtype}`,
          "output",
        );
      }
      const data = out.location === undefined || out.location === "cpu" ? out.data : await out.getData?.();
      const values = data instanceof Uint16Array
        ? new Float16Array(data.buffer, data.byteOffset, data.length)
        : data as ArrayLike<number>;
      // the output may be onnxruntime's own memory, reused by the next run: keep a copy
      if (!pc) return Float32Array.from(values);
      const copy = Float64Array.from(values);
      {
        // the manifest's prediction is x0 with a precondition: D = c_skip·x/α + c_out·F
        const { cSkip, cOut } = edmCoefficients(pc, point.rho);
        const a = cSkip / Math.sqrt(point.alphaBar);
        for (let i = 0; i < copy.length; i++) copy[i] = a * x[i] + cOut * copy[i];
      }
      return copy;
    } finally {
      out?.dispose?.();
    }
  };
  Object.defineProperty(fn, "name", { value: name });
  return { fn, manifest };
}
