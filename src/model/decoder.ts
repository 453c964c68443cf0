/**
 * The decoder stage of a model (manifest key `decoder`, docs/MODEL_FORMAT.md): a second ONNX network
 * applied to the final latents, `image = decoder(latents / scalingFactor)` (diffusers' convention,
 * `vae.config.scaling_factor`). This module validates the key, checks it against the decoder's
 * graph, and holds the decoder's onnxruntime sessions (one per execution provider, like
 * {@link Model.session}).
 *
 * @module
 */

import { describe, ModelError } from "../errors.ts";
import { ortFor, type OrtSession, type OrtTensor } from "../runtime/ort.ts";
import { type SessionKind, SessionPool } from "./session_pool.ts";
import { networkInput, numberView } from "./boundary.ts";
import { type GraphInfo, type GraphValue, readGraphInfo } from "./graph_info.ts";
import { isConfinedPath } from "./manifest.ts";

/** A validated `decoder` entry. */
export interface DecoderSpec {
  /** The decoder's ONNX file, relative to the manifest. */
  onnx: string;
  /** Its input name: `[batch, ...sampleShape]`. */
  input: string;
  /** Its output name: `[batch, ...outputShape]`. */
  output: string;
  /** The decoder receives latents / scalingFactor (default 1). */
  scalingFactor: number;
  /** One decoded sample, without the batch dimension. */
  outputShape: number[];
  /** Element type of the decoder's input and output (default float32). */
  dtype: "float32" | "float16";
  /** The decoded image's range. */
  dataRange?: [number, number];
}

const DECODER_KEYS = new Set(["onnx", "input", "output", "scalingFactor", "outputShape", "dtype", "dataRange"]);

/** Largest decoded sample accepted (elements), so a manifest cannot make us allocate without bound. */
export const MAX_DECODED_ELEMENTS = 1 << 26;

/**
 * Validates the manifest's `decoder` object. Throws a {@link ModelError} naming `decoder.<key>`.
 *
 * @param raw the value of the `decoder` key
 * @param name the model's name, for messages
 */
export function validateDecoder(raw: unknown, name: string): DecoderSpec {
  const bad = (field: string, allowed: string, value: unknown): never => {
    throw new ModelError(name, `must be ${allowed} (got ${describe(value)})`, field);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return bad("decoder", "an object with onnx, input, output and outputShape", raw);
  }
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!DECODER_KEYS.has(k)) bad(`decoder.${k}`, `absent (known keys: ${[...DECODER_KEYS].join(", ")})`, r[k]);
  }
  const str = (k: string, dflt?: string): string => {
    const v = r[k] ?? dflt;
    return typeof v === "string" && v.length > 0 ? v : bad(`decoder.${k}`, "a non-empty string", v);
  };
  const onnx = str("onnx");
  if (!isConfinedPath(onnx)) {
    bad("decoder.onnx", "a file inside the model directory (a relative path without ..)", onnx);
  }
  const scalingFactor = r.scalingFactor ?? 1;
  if (typeof scalingFactor !== "number" || !Number.isFinite(scalingFactor) || !(scalingFactor > 0)) {
    bad("decoder.scalingFactor", "a finite positive number", scalingFactor);
  }
  const shape = r.outputShape;
  if (!Array.isArray(shape) || shape.length === 0) {
    bad("decoder.outputShape", "a non-empty array of positive integers", shape);
  }
  const outputShape = (shape as unknown[]).map((d, i) =>
    Number.isSafeInteger(d) && (d as number) > 0
      ? d as number
      : bad(`decoder.outputShape[${i}]`, "a positive integer", d)
  );
  if (outputShape.reduce((a, b) => a * b, 1) > MAX_DECODED_ELEMENTS) {
    bad("decoder.outputShape", `at most ${MAX_DECODED_ELEMENTS} elements per sample`, shape);
  }
  const dtype = r.dtype ?? "float32";
  if (dtype !== "float32" && dtype !== "float16") bad("decoder.dtype", '"float32" or "float16"', dtype);
  let dataRange: [number, number] | undefined;
  if (r.dataRange !== undefined) {
    const dr = r.dataRange;
    const ok = Array.isArray(dr) && dr.length === 2 && dr.every((v) => typeof v === "number" && Number.isFinite(v)) &&
      dr[1] > dr[0];
    if (!ok) bad("decoder.dataRange", "[min, max] with finite min < max", dr);
    dataRange = [(dr as number[])[0], (dr as number[])[1]];
  }
  return {
    onnx,
    input: str("input", "latent"),
    output: str("output", "image"),
    scalingFactor: scalingFactor as number,
    outputShape,
    dtype: dtype as "float32" | "float16",
    ...(dataRange ? { dataRange } : {}),
  };
}

const ELEM: Record<DecoderSpec["dtype"], number> = { float32: 1, float16: 10 };

/**
 * Checks the decoder's graph: the input is `[batch, ...sampleShape]` and the output
 * `[batch, ...outputShape]`, both of the declared dtype (symbolic dims accepted). Throws a
 * {@link ModelError} naming the manifest key.
 */
export function checkDecoderAgainstGraph(
  spec: DecoderSpec,
  bytes: Uint8Array,
  model: string,
  sampleShape: readonly number[],
): void {
  let g: GraphInfo;
  try {
    g = readGraphInfo(bytes);
  } catch (e) {
    throw new ModelError(model, `the decoder is not a readable ONNX model (${(e as Error).message})`, "decoder.onnx", {
      cause: e,
    });
  }
  const check = (v: GraphValue | undefined, kind: "input" | "output", name: string, per: readonly number[]) => {
    const field = `decoder.${kind}`;
    if (!v) {
      const list = (kind === "input" ? g.inputs : g.outputs).map((x) => x.name).join(", ");
      throw new ModelError(model, `the decoder graph has no ${kind} '${name}' (its ${kind}s: ${list})`, field);
    }
    if (v.elemType !== 0 && v.elemType !== ELEM[spec.dtype]) {
      throw new ModelError(
        model,
        `the decoder graph ${kind} '${name}' has element type ${v.elemType}, the manifest says ${spec.dtype}`,
        "decoder.dtype",
      );
    }
    if (!v.dims) return;
    const shapeField = kind === "input" ? "sampleShape" : "decoder.outputShape";
    const fixedOk = v.dims.length === per.length + 1 &&
      v.dims.every((d, i) => i === 0 || typeof d !== "number" || d <= 0 || d === per[i - 1]);
    if (!fixedOk) {
      throw new ModelError(
        model,
        `the decoder graph ${kind} '${name}' has shape [${v.dims.join(", ")}]; the manifest implies ` +
          `[batch, ${per.join(", ")}]`,
        shapeField,
      );
    }
  };
  if (g.inputs.length !== 1) {
    throw new ModelError(
      model,
      `the decoder graph must have exactly one input (it has: ${g.inputs.map((i) => i.name).join(", ")})`,
      "decoder.input",
    );
  }
  check(g.inputs.find((i) => i.name === spec.input), "input", spec.input, sampleShape);
  check(g.outputs.find((o) => o.name === spec.output), "output", spec.output, spec.outputShape);
}

/** A model's decoder: its spec, ONNX bytes and sessions. */
export class Decoder {
  /** The validated `decoder` entry. */
  readonly spec: DecoderSpec;
  /** The decoder's ONNX bytes. */
  readonly bytes: Uint8Array;
  readonly #model: string;
  readonly #sampleShape: readonly number[];
  readonly #pool = new SessionPool();

  /** Wraps checked parts (see `loadModel`). */
  constructor(spec: DecoderSpec, bytes: Uint8Array, model: string, sampleShape: readonly number[]) {
    this.spec = spec;
    this.bytes = bytes;
    this.#model = model;
    this.#sampleShape = sampleShape;
  }

  /** Elements of one decoded sample. */
  get outputSize(): number {
    return this.spec.outputShape.reduce((a, b) => a * b, 1);
  }

  /** The decoder's session for an execution provider, created once. */
  session(kind: SessionKind): Promise<OrtSession> {
    if (this.#pool.disposed) return Promise.reject(new ModelError(this.#model, "the model was disposed", "decoder"));
    return this.#pool.session(kind, () =>
      ortFor(kind).InferenceSession.create(this.bytes, {
        logSeverityLevel: 3,
        executionProviders: [kind === "native" ? "cpu" : kind],
      }).catch((e) => {
        throw new ModelError(
          this.#model,
          `onnxruntime could not create a ${kind} decoder session: ${(e as Error).message ?? e}`,
          "decoder.onnx",
          { cause: e },
        );
      }));
  }

  /**
   * The decoder's input tensor for host latents: latents / scalingFactor in the decoder's dtype
   * (the same boundary conversion as the sampling network's input).
   */
  hostInput(kind: SessionKind, latents: Float32Array | Float64Array, n: number): OrtTensor {
    return networkInput(ortFor(kind), latents, 1, 1 / this.spec.scalingFactor, this.spec.dtype, [
      n,
      ...this.#sampleShape,
    ]);
  }

  /**
   * Runs the decoder on `input` (`[n, ...sampleShape]`, consumed by the caller) and returns the
   * decoded batch `[n, ...outputShape]` in float32. A wrong shape or a NaN/Inf is a {@link ModelError}.
   */
  run(kind: SessionKind, input: OrtTensor, n: number): Promise<Float32Array> {
    return this.#pool.serialise(async () => {
      const session = await this.session(kind);
      let out: OrtTensor;
      try {
        out = (await session.run({ [this.spec.input]: input }, [this.spec.output]))[this.spec.output] as OrtTensor;
      } catch (e) {
        throw new ModelError(this.#model, `decoder run failed: ${(e as Error).message ?? e}`, "decoder", { cause: e });
      }
      try {
        const want = [n, ...this.spec.outputShape];
        if (out.dims.length !== want.length || out.dims.some((d, i) => d !== want[i])) {
          throw new ModelError(
            this.#model,
            `decoder output '${this.spec.output}' has shape [${out.dims.join(", ")}]; expected [${want.join(", ")}]`,
            "decoder.outputShape",
          );
        }
        // a copy: the output may be onnxruntime's own memory (float16 is widened on the way)
        const data = Float32Array.from(numberView(await out.getData()));
        let bad = 0;
        for (let i = 0; i < data.length; i++) if (data[i] - data[i] !== 0) bad++;
        if (bad > 0) {
          throw new ModelError(
            this.#model,
            `decoder output '${this.spec.output}' contains ${bad} non-finite value(s)`,
            "decoder",
          );
        }
        return data;
      } finally {
        out.dispose();
      }
    });
  }

  /** Releases the decoder's sessions. */
  dispose(): Promise<void> {
    return this.#pool.dispose();
  }
}
