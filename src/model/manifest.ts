/**
 * The `model.json` manifest (docs/MODEL_FORMAT.md): its type and a validator that names the
 * offending key in a {@link ModelError}.
 *
 * @module
 */

import { describe, ModelError } from "../errors.ts";
import { MAX_GUIDANCE_SCALE } from "../limits.ts";
import type { SdeName, SdeSpec } from "../plan/types.ts";
import type { DiffusersSettings, TimestepSpacing } from "../plan/diffusers.ts";
import { type DecoderSpec, validateDecoder } from "./decoder.ts";

/** Element types of the network's time input. */
export type TimeDtype = "float32" | "float16" | "float64" | "int32" | "int64";

/**
 * What the network's time input holds, and its element type (integer types receive the value
 * rounded to the nearest integer, ties to even).
 */
export type TimeSpec =
  & (
    | { kind: "continuous"; scale: number }
    | { kind: "index" }
    | { kind: "sigma" }
    | { kind: "rho" }
    | { kind: "edm" }
  )
  & { dtype?: TimeDtype };

/** Element types of x and the output at the network boundary. */
export type NetworkDtype = "float32" | "float16" | "float64";

/**
 * Preconditioning of a raw denoiser (Karras et al. 2022, "EDM"): the network F sees c_in·x and
 * c_noise, and D = c_skip·x + c_out·F is the data prediction.
 */
export interface Precondition {
  /** The preconditioning (only EDM is defined). */
  kind: "edm";
  /** σ_data of the training data (default 0.5). */
  sigmaData: number;
}

/** What the network predicts. */
export type PredictionType = "eps" | "x0" | "v" | "score";

/** Tensor element types of extra (conditioning) inputs. */
export type ExtraInputDtype =
  | "float32"
  | "float16"
  | "float64"
  | "int32"
  | "int64"
  | "bool";

/** A conditioning input of the network. */
export interface ExtraInput {
  /** The ONNX graph input's name. */
  name: string;
  /** Tensor element type (default `"float32"`). */
  dtype: ExtraInputDtype;
  /** Shape per sample (without the batch dimension); `[]` for a scalar per sample. */
  shape: number[];
  /** The value meaning "unconditional" (used by classifier-free guidance), if any. */
  null?: number;
}

/** A validated manifest (defaults filled in). Unknown keys are kept in `extra`. */
export interface ModelManifest {
  /** Format tag (version 1 manifests load unchanged). */
  format: "deis-model/1" | "deis-model/2";
  /** The model's name (default: where the manifest came from, e.g. its path). */
  name: string;
  /** The ONNX file, relative to the manifest (default `"model.onnx"`). */
  onnx: string;
  /** The SDE the network was trained for, with its default parameters filled in. */
  sde: SdeSpec;
  /** The default T of sampling (default 1). */
  tStart: number;
  /** The default ε of sampling (default 1e-3; 1/N for vp-discrete). */
  tEnd: number;
  /** What the network's time input holds (default `{ kind: "continuous", scale: 1 }`), its dtype filled in. */
  time: TimeSpec & { dtype: TimeDtype };
  /** What the network predicts (default `"eps"`; `"x0"` with a precondition); the sampler converts it to ε. */
  prediction: PredictionType;
  /** Preconditioning of a raw denoiser, applied around the network. */
  precondition?: Precondition;
  /** Shape of one sample, without the batch dimension. */
  sampleShape: number[];
  /**
   * Tensor type of x, a float time input and the output at the network boundary (default
   * `"float32"`). The sampler's registers are float32 for float32 and float16 networks.
   */
  dtype: NetworkDtype;
  /** Input names: `x` is `[batch, ...sampleShape]`, `t` is `[batch]` (defaults `"x"`, `"t"`). */
  inputs: { x: string; t: string };
  /** Output name, `[batch, ...sampleShape]` (default `"eps"`). */
  output: string;
  /** Conditioning inputs (default none). */
  extraInputs: ExtraInput[];
  /** The range of the data, for turning samples into pictures. */
  dataRange?: [number, number];
  /**
   * The guidance scale the model's authors recommend for conditional sampling (v2): what the CLIs,
   * the demo and the edge service use when none is given. `sample()` itself never guides unasked.
   */
  defaultGuidance?: number;
  /** Every other key of the JSON object (e.g. `gmm` of the exact test models). */
  extra: Record<string, unknown>;
  /**
   * The diffusers scheduler config the manifest named instead of `sde` (a file beside it): plans for
   * the model default to its `diffusers` grid.
   */
  scheduler?: { file: string; timestepSpacing: TimestepSpacing; stepsOffset: number };
  /** The decoder stage applied to the final latents (see src/model/decoder.ts). */
  decoder?: DecoderSpec;
}

const SDE_DEFAULTS: Record<SdeName, Partial<SdeSpec>> = {
  "vp-linear": { betaMin: 0.1, betaMax: 20 },
  "vp-cosine": {},
  "vp-discrete": {},
  "ve": { sigmaMin: 0.01, sigmaMax: 50 },
};

const KNOWN_KEYS = new Set([
  "format",
  "name",
  "onnx",
  "sde",
  "tStart",
  "tEnd",
  "time",
  "prediction",
  "sampleShape",
  "dtype",
  "inputs",
  "output",
  "extraInputs",
  "dataRange",
  "scheduler",
  "precondition",
  "defaultGuidance",
  "decoder",
]);

/** The values an extra input's dtype can hold exactly (used for `null` and conditioning values). */
export const DTYPE_RANGE: Record<ExtraInputDtype, { ok: (v: number) => boolean; allowed: string }> = {
  float32: { ok: (v) => Math.abs(v) <= 3.4028234663852886e38, allowed: "a finite float32 (|v| ≤ 3.4e38)" },
  float16: { ok: (v) => Math.abs(v) <= 65504, allowed: "a finite float16 (|v| ≤ 65504)" },
  float64: { ok: (v) => Number.isFinite(v), allowed: "a finite number" },
  int32: { ok: (v) => Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31, allowed: "an int32 integer" },
  int64: { ok: (v) => Number.isSafeInteger(v), allowed: "a safe integer (|v| < 2^53) for int64" },
  bool: { ok: (v) => v === 0 || v === 1, allowed: "0 or 1 (bool)" },
};

/**
 * Whether `file` may be read as a manifest's `scheduler`: a relative path inside the model
 * directory (no absolute path, drive letter, URL scheme, backslash or `..` segment).
 */
export function isConfinedPath(file: string): boolean {
  if (file.length === 0 || file.startsWith("/") || file.includes("\\") || file.includes(":")) return false;
  return file.split("/").every((part) => part !== ".." && part !== "");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Where a time spec is read: the SDE, whether a precondition applies, the network dtype, the format. */
export interface TimeSpecContext {
  sde: SdeName;
  precondition: boolean;
  /** The network's dtype: the time input's default dtype. */
  dtype: NetworkDtype;
  /** Whether v2 keys (`time.dtype`) are allowed. */
  v2: boolean;
}

/**
 * Validates a `time` object (the manifest's, or a scheduler's option) and fills its dtype; `bad`
 * throws the caller's error type naming the field.
 */
export function parseTimeSpec(
  raw: unknown,
  ctx: TimeSpecContext,
  bad: (field: string, allowed: string, value: unknown) => never,
): TimeSpec & { dtype: TimeDtype } {
  if (!isObject(raw)) bad("time", "an object with a kind", raw);
  const t = raw as Record<string, unknown>;
  if (ctx.precondition && t.kind !== "edm") {
    bad("time.kind", '"edm" with a precondition (the network takes c_noise = ¼·ln σ)', t.kind);
  }
  let time: TimeSpec;
  switch (t.kind) {
    case "continuous": {
      const scale = t.scale === undefined ? 1 : t.scale;
      if (typeof scale !== "number" || !Number.isFinite(scale)) bad("time.scale", "a finite number", scale);
      if (!((scale as number) > 0)) bad("time.scale", "a positive number", scale);
      time = { kind: "continuous", scale: scale as number };
      break;
    }
    case "index":
      if (ctx.sde !== "vp-discrete") bad("time.kind", '"index" only with sde "vp-discrete"', t.kind);
      time = { kind: "index" };
      break;
    case "sigma":
    case "rho":
      time = { kind: t.kind };
      break;
    case "edm":
      if (!ctx.precondition) bad("time.kind", '"edm" only with a precondition', t.kind);
      time = { kind: "edm" };
      break;
    default:
      return bad("time.kind", '"continuous", "index", "sigma", "rho" or "edm"', t.kind);
  }
  let dtype = ctx.dtype as TimeDtype;
  if (t.dtype !== undefined) {
    // a validated v1 manifest carries its default time dtype: validating it again must pass
    if (t.dtype !== ctx.dtype && !ctx.v2) bad("time.dtype", 'absent unless "format" is "deis-model/2"', t.dtype);
    if (!["float32", "float16", "float64", "int32", "int64"].includes(t.dtype as string)) {
      bad("time.dtype", '"float32", "float16", "float64", "int32" or "int64"', t.dtype);
    }
    dtype = t.dtype as TimeDtype;
  }
  return { ...time, dtype };
}

/** Fills the SDE's default parameters. */
export function completeSde(sde: SdeSpec): SdeSpec {
  return { ...SDE_DEFAULTS[sde.name], ...sde };
}

/**
 * Validates a parsed `model.json`. Throws a {@link ModelError} whose `field` is the manifest key
 * (e.g. `"sampleShape[1]"`, `"time.scale"`) on the first problem.
 * @param raw the parsed JSON
 * @param where a name for messages when the manifest has no valid `name` (e.g. its path)
 *
 * @example
 * ```ts
 * import { validateManifest } from "@seed/deis";
 * const m = validateManifest({ sde: { name: "vp-linear" }, sampleShape: [2] });
 * console.log(m.sde.betaMax, m.time, m.output); // 20 { kind: "continuous", scale: 1 } "eps"
 * ```
 */
export function validateManifest(
  raw: unknown,
  where = "model.json",
  scheduler?: DiffusersSettings,
): ModelManifest {
  if (!isObject(raw)) {
    throw new ModelError(
      where,
      `manifest must be a JSON object (got ${describe(raw)})`,
      "manifest",
    );
  }
  const name = typeof raw.name === "string" && raw.name.length > 0 ? raw.name : where;
  const bad = (field: string, allowed: string, value: unknown): never => {
    throw new ModelError(
      name,
      `must be ${allowed} (got ${describe(value)})`,
      field,
    );
  };
  const finite = (field: string, v: unknown): number =>
    typeof v === "number" && Number.isFinite(v) ? v : bad(field, "a finite number", v);
  const str = (field: string, v: unknown): string =>
    typeof v === "string" && v.length > 0 ? v : bad(field, "a non-empty string", v);

  if (raw.format !== undefined && raw.format !== "deis-model/1" && raw.format !== "deis-model/2") {
    bad("format", '"deis-model/1" or "deis-model/2"', raw.format);
  }
  const v2 = raw.format === "deis-model/2";
  const onlyV2 = (field: string, value: unknown) => {
    if (!v2) bad(field, 'absent unless "format" is "deis-model/2"', value);
  };
  if (raw.name !== undefined) str("name", raw.name);
  const onnx = raw.onnx === undefined ? "model.onnx" : str("onnx", raw.onnx);

  // sde, or a diffusers scheduler config that gives it
  let sdeSource = raw.sde;
  let schedulerInfo: ModelManifest["scheduler"];
  if (raw.scheduler !== undefined) {
    const file = str("scheduler", raw.scheduler);
    if (!isConfinedPath(file)) {
      bad("scheduler", "a file inside the model directory (a relative path without ..)", file);
    }
    if (raw.sde !== undefined) {
      bad("sde", "absent when scheduler is given (the scheduler config fixes the SDE)", raw.sde);
    }
    if (!scheduler) {
      throw new ModelError(
        name,
        `names the scheduler config ${JSON.stringify(file)}, which is read only when the model is loaded from a ` +
          "path or URL; give an sde instead",
        "scheduler",
      );
    }
    sdeSource = { name: "vp-discrete", alphasCumprod: scheduler.plan.alphasCumprod };
    schedulerInfo = { file, timestepSpacing: scheduler.spacing, stepsOffset: scheduler.stepsOffset };
    if (raw.prediction !== undefined && raw.prediction !== scheduler.prediction) {
      bad(
        "prediction",
        `"${scheduler.prediction}" (what the scheduler's prediction_type says) or absent`,
        raw.prediction,
      );
    }
  }
  if (!isObject(sdeSource)) bad("sde", "an object with a name", sdeSource);
  const sdeRaw = sdeSource as Record<string, unknown>;
  const sdeName = sdeRaw.name;
  if (typeof sdeName !== "string" || !(sdeName in SDE_DEFAULTS)) {
    bad("sde.name", `one of ${Object.keys(SDE_DEFAULTS).join(", ")}`, sdeName);
  }
  const sde: SdeSpec = { name: sdeName as SdeName };
  for (const key of ["betaMin", "betaMax", "sigmaMin", "sigmaMax"] as const) {
    if (sdeRaw[key] !== undefined) {
      const v = finite(`sde.${key}`, sdeRaw[key]);
      if (!(v > 0)) bad(`sde.${key}`, "a positive number", v);
      sde[key] = v;
    }
  }
  if (sde.name === "vp-discrete") {
    const ac = sdeRaw.alphasCumprod;
    if (!Array.isArray(ac) || ac.length < 2) {
      bad("sde.alphasCumprod", "an array of at least 2 numbers", ac);
    }
    const arr = ac as unknown[];
    for (let i = 0; i < arr.length; i++) {
      const v = finite(`sde.alphasCumprod[${i}]`, arr[i]);
      if (!(v > 0 && v < 1)) bad(`sde.alphasCumprod[${i}]`, "in (0, 1)", v);
      if (i > 0 && !(v < (arr[i - 1] as number))) {
        bad(`sde.alphasCumprod[${i}]`, "strictly decreasing", v);
      }
    }
    sde.alphasCumprod = arr as number[];
  }
  const sdeFull = completeSde(sde);
  if (sdeFull.name === "vp-linear" && !(sdeFull.betaMax! > sdeFull.betaMin!)) {
    bad("sde.betaMax", "greater than sde.betaMin", sdeFull.betaMax);
  }
  if (sdeFull.name === "ve" && !(sdeFull.sigmaMax! > sdeFull.sigmaMin!)) {
    bad("sde.sigmaMax", "greater than sde.sigmaMin", sdeFull.sigmaMax);
  }

  const tStart = finite("tStart", raw.tStart ?? 1);
  const tEnd = finite(
    "tEnd",
    raw.tEnd ??
      (sde.name === "vp-discrete" ? 1 / sde.alphasCumprod!.length : 1e-3),
  );
  if (!(tEnd >= 0 && tEnd < tStart)) bad("tEnd", "in [0, tStart)", tEnd);

  const dtype = raw.dtype ?? "float32";
  if (dtype !== "float32" && dtype !== "float64" && dtype !== "float16") {
    bad(
      "dtype",
      v2 ? '"float32", "float16" or "float64"' : '"float32" or "float64" (float16 needs "format": "deis-model/2")',
      dtype,
    );
  }
  if (dtype === "float16") onlyV2("dtype", dtype);

  let precondition: Precondition | undefined;
  if (raw.precondition !== undefined) {
    onlyV2("precondition", raw.precondition);
    if (!isObject(raw.precondition)) bad("precondition", '{"kind": "edm", "sigmaData": 0.5}', raw.precondition);
    const pc = raw.precondition as Record<string, unknown>;
    if (pc.kind !== "edm") bad("precondition.kind", '"edm"', pc.kind);
    const sigmaData = pc.sigmaData === undefined ? 0.5 : finite("precondition.sigmaData", pc.sigmaData);
    if (!(sigmaData > 0)) bad("precondition.sigmaData", "a positive number", sigmaData);
    if (raw.prediction !== undefined) {
      bad("prediction", "absent with a precondition (the preconditioned denoiser predicts x0)", raw.prediction);
    }
    precondition = { kind: "edm", sigmaData };
  }

  const timeRaw = raw.time ??
    (precondition ? { kind: "edm" } : scheduler ? { kind: "index" } : { kind: "continuous", scale: 1 });
  const timeFull = parseTimeSpec(
    timeRaw,
    { sde: sde.name, precondition: !!precondition, dtype: dtype as NetworkDtype, v2 },
    bad,
  );

  const prediction = (raw.prediction ?? (precondition ? "x0" : scheduler?.prediction ?? "eps")) as PredictionType;
  if (!["eps", "x0", "v", "score"].includes(prediction)) {
    bad("prediction", '"eps", "x0", "v" or "score"', prediction);
  }

  if (!Array.isArray(raw.sampleShape) || raw.sampleShape.length === 0) {
    bad(
      "sampleShape",
      "a non-empty array of positive integers",
      raw.sampleShape,
    );
  }
  const sampleShape = (raw.sampleShape as unknown[]).map((d, i) =>
    Number.isSafeInteger(d) && (d as number) > 0 ? d as number : bad(`sampleShape[${i}]`, "a positive integer", d)
  );

  const inputsRaw = raw.inputs ?? {};
  if (!isObject(inputsRaw)) {
    bad("inputs", 'an object {"x": name, "t": name}', inputsRaw);
  }
  const ir = inputsRaw as Record<string, unknown>;
  const inputs = {
    x: ir.x === undefined ? "x" : str("inputs.x", ir.x),
    t: ir.t === undefined ? "t" : str("inputs.t", ir.t),
  };
  if (inputs.x === inputs.t) {
    bad("inputs.t", "different from inputs.x", inputs.t);
  }
  const output = raw.output === undefined ? "eps" : str("output", raw.output);

  const extraInputs: ExtraInput[] = [];
  if (raw.extraInputs !== undefined) {
    if (!Array.isArray(raw.extraInputs)) {
      bad("extraInputs", "an array", raw.extraInputs);
    }
    const seen = new Set([inputs.x, inputs.t]);
    (raw.extraInputs as unknown[]).forEach((e, i) => {
      const f = `extraInputs[${i}]`;
      if (!isObject(e)) bad(f, "an object", e);
      const o = e as Record<string, unknown>;
      const nm = str(`${f}.name`, o.name);
      if (seen.has(nm)) {
        bad(`${f}.name`, "a name not used by another input", nm);
      }
      seen.add(nm);
      const dt = o.dtype ?? "float32";
      if (
        !["float32", "float16", "float64", "int32", "int64", "bool"].includes(dt as string)
      ) {
        bad(
          `${f}.dtype`,
          '"float32", "float16", "float64", "int32", "int64" or "bool"',
          dt,
        );
      }
      if (dt === "float16") onlyV2(`${f}.dtype`, dt);
      const shp = o.shape ?? [];
      if (!Array.isArray(shp)) {
        bad(`${f}.shape`, "an array of positive integers", shp);
      }
      const shape = (shp as unknown[]).map((d, j) =>
        Number.isSafeInteger(d) && (d as number) > 0 ? d as number : bad(`${f}.shape[${j}]`, "a positive integer", d)
      );
      const ex: ExtraInput = { name: nm, dtype: dt as ExtraInputDtype, shape };
      if (o.null !== undefined && o.null !== null) {
        ex.null = finite(`${f}.null`, o.null);
        const range = DTYPE_RANGE[ex.dtype];
        if (range && !range.ok(ex.null)) bad(`${f}.null`, range.allowed, ex.null);
      }
      extraInputs.push(ex);
    });
  }

  let defaultGuidance: number | undefined;
  if (raw.defaultGuidance !== undefined) {
    onlyV2("defaultGuidance", raw.defaultGuidance);
    defaultGuidance = finite("defaultGuidance", raw.defaultGuidance);
    if (!(defaultGuidance >= 0 && defaultGuidance <= MAX_GUIDANCE_SCALE)) {
      bad("defaultGuidance", `in [0, ${MAX_GUIDANCE_SCALE}]`, defaultGuidance);
    }
    if (!extraInputs.some((e) => e.null !== undefined)) {
      bad(
        "defaultGuidance",
        "absent unless an extra input has a null value (guidance needs an unconditional input)",
        defaultGuidance,
      );
    }
  }

  let dataRange: [number, number] | undefined;
  if (raw.dataRange !== undefined) {
    const dr = raw.dataRange;
    if (!Array.isArray(dr) || dr.length !== 2) {
      bad("dataRange", "[min, max]", dr);
    }
    const lo = finite("dataRange[0]", (dr as unknown[])[0]);
    const hi = finite("dataRange[1]", (dr as unknown[])[1]);
    if (!(hi > lo)) bad("dataRange[1]", "greater than dataRange[0]", hi);
    dataRange = [lo, hi];
  }

  if (raw.decoder !== undefined) onlyV2("decoder", raw.decoder);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!KNOWN_KEYS.has(k)) extra[k] = v;
  }

  return {
    format: v2 ? "deis-model/2" : "deis-model/1",
    name,
    onnx,
    sde: sdeFull,
    tStart,
    tEnd,
    time: timeFull,
    prediction,
    ...(precondition ? { precondition } : {}),
    ...(defaultGuidance !== undefined ? { defaultGuidance } : {}),
    sampleShape,
    dtype: dtype as NetworkDtype,
    inputs,
    output,
    extraInputs,
    dataRange,
    extra,
    ...(schedulerInfo ? { scheduler: schedulerInfo } : {}),
    ...(raw.decoder !== undefined ? { decoder: validateDecoder(raw.decoder, name) } : {}),
  };
}
