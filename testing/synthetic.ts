/**
 * Tiny synthetic ONNX models with a closed-form ε, for tests and examples that must run without
 * model files: data `x₀ ~ N(0, s² I)` under VP-linear, whose noised marginal is
 * `N(0, (α² s² + σ²) I)`, so
 *
 *     ε = σ x / D,  x̂₀ = α s² x / D,  v = α ε − σ x̂₀,  score = −x / D,   D = α² s² + σ²
 *
 * The network can output any of the four prediction types, take a conditioning input `label`
 * (adding `shift·label` to its output, so guidance is exactly checkable), or misbehave on purpose
 * (wrong output shape, NaN below a time) to exercise error paths.
 *
 * @module
 */

import { encodeModel, GraphBuilder } from "./onnx/mod.ts";
import type { PredictionType } from "../src/model/manifest.ts";

/** Options of {@link gaussianModel}. */
export interface GaussianModelOptions {
  /** Model name (default "gaussian"). */
  name?: string;
  /** Sample shape (default [2]). */
  sampleShape?: number[];
  /** Data standard deviation s (default 0.5). */
  std?: number;
  /** What the network outputs (default "eps"). */
  prediction?: PredictionType;
  /**
   * Tensor type of x, t and the output (default float32). A float16 model casts its inputs to
   * float32, computes in float32 and casts the output back (manifest `deis-model/2`).
   */
  dtype?: "float32" | "float64" | "float16";
  /**
   * An int64 time input holding round(scale·t) (manifest `time.dtype` "int64", `time.scale` given
   * here); the network evaluates the exact ε at that rounded time divided by the scale.
   */
  intTime?: { scale: number };
  /** VP-linear β₀, β₁ (default 0.1, 20). */
  betaMin?: number;
  betaMax?: number;
  /** Add an int64 input `label` [batch] whose value·`shift` is added to the output (null value 0). */
  label?: { shift: number };
  /** Misbehave: `"shape"` doubles the last output axis; `"nan"` outputs NaN where t < `nanBelow`. */
  fault?: "shape" | "nan";
  /** Time below which a `"nan"` model outputs NaN (default 2: always). */
  nanBelow?: number;
}

/** A synthetic model: its ONNX bytes, manifest, and the exact ε (float64) of its data. */
export interface GaussianModel {
  bytes: Uint8Array;
  manifest: Record<string, unknown>;
  /** The exact ε of the data for a batch (label contributes `shift·label` to the network output only). */
  eps: (x: Float64Array, t: number[]) => Float64Array;
  /** The raw network output for a batch with conditioning `label` (per sample), in float64. */
  output: (x: Float64Array, t: number[], label?: number[]) => Float64Array;
}

/** Builds a synthetic Gaussian model. */
export function gaussianModel(
  options: GaussianModelOptions = {},
): GaussianModel {
  const name = options.name ?? "gaussian";
  const shape = options.sampleShape ?? [2];
  const s2 = (options.std ?? 0.5) ** 2;
  const prediction = options.prediction ?? "eps";
  const dtype = options.dtype ?? "float32";
  const b0 = options.betaMin ?? 0.1, b1 = options.betaMax ?? 20;
  const ioType = dtype === "float32" ? "float" : dtype === "float16" ? "float16" : "double";
  const type = dtype === "float64" ? "double" : "float";
  const D = shape.reduce((a, b) => a * b, 1);

  const g = new GraphBuilder(name);
  const c = (v: number) => g.scalar(type, v);
  let x = g.input("x", ioType, ["batch", ...shape]);
  let t = g.input("t", options.intTime ? "int64" : ioType, ["batch"]);
  if (dtype === "float16") x = g.op("Cast", [x], { to: 1 });
  if (options.intTime) t = g.op("Div", [g.op("Cast", [t], { to: 1 }), c(options.intTime.scale)]);
  else if (dtype === "float16") t = g.op("Cast", [t], { to: 1 });
  if (options.label) g.input("label", "int64", ["batch"]);
  // t broadcast to [batch, 1, …, 1]
  const axes = g.constant(
    "int64",
    [shape.length],
    shape.map((_, i) => BigInt(i + 1)),
  );
  const tb = g.op("Unsqueeze", [t, axes]);
  const logAb = g.op("Mul", [
    tb,
    g.op("Add", [g.op("Mul", [tb, c(-(b1 - b0) / 2)]), c(-b0)]),
  ]);
  const ab = g.op("Exp", [logAb]);
  const alpha = g.op("Sqrt", [ab]);
  // σ² = 1 − ᾱ = tanh(−u/2)·(1 + ᾱ) with u = log ᾱ: no cancellation near t = 0
  const sig2 = g.op("Mul", [
    g.op("Tanh", [g.op("Mul", [logAb, c(-0.5)])]),
    g.op("Add", [ab, c(1)]),
  ]);
  const sigma = g.op("Sqrt", [sig2]);
  const den = g.op("Add", [g.op("Mul", [ab, c(s2)]), sig2]);
  const xOverD = g.op("Div", [x, den]);
  const eps = g.op("Mul", [sigma, xOverD]);
  const x0 = g.op("Mul", [g.op("Mul", [alpha, c(s2)]), xOverD]);
  let out: string;
  switch (prediction) {
    case "eps":
      out = eps;
      break;
    case "x0":
      out = x0;
      break;
    case "v":
      out = g.op("Sub", [g.op("Mul", [alpha, eps]), g.op("Mul", [sigma, x0])]);
      break;
    case "score":
      out = g.op("Neg", [xOverD]);
      break;
  }
  if (options.label) {
    const lab = g.op("Cast", ["label"], { to: type === "float" ? 1 : 11 });
    const labB = g.op("Unsqueeze", [lab, axes]);
    out = g.op("Add", [out, g.op("Mul", [labB, c(options.label.shift)])]);
  }
  if (options.fault === "shape") {
    out = g.op("Concat", [out, out], { axis: shape.length });
  } else if (options.fault === "nan") {
    // log(t − nanBelow) is NaN for t < nanBelow; × 0 keeps the output unchanged elsewhere.
    const l = g.op("Log", [g.op("Sub", [tb, c(options.nanBelow ?? 2)])]);
    out = g.op("Add", [out, g.op("Mul", [l, c(0)])]);
  }
  g.op(dtype === "float16" ? "Cast" : "Identity", [out], dtype === "float16" ? { to: 10 } : {}, "eps");
  g.output(
    "eps",
    ioType,
    options.fault === "shape" ? ["batch", ...shape.map((_, i) => `d${i}`)] : ["batch", ...shape],
  );
  const bytes = encodeModel({
    irVersion: 8,
    opsets: [{ domain: "", version: 17 }],
    graph: g.build(),
  });

  const v2 = dtype === "float16" || options.intTime !== undefined;
  const manifest: Record<string, unknown> = {
    format: v2 ? "deis-model/2" : "deis-model/1",
    name,
    onnx: "model.onnx",
    sde: { name: "vp-linear", betaMin: b0, betaMax: b1 },
    tStart: 1,
    tEnd: 1e-3,
    time: options.intTime
      ? { kind: "continuous", scale: options.intTime.scale, dtype: "int64" }
      : { kind: "continuous", scale: 1 },
    prediction,
    sampleShape: shape,
    dtype,
    inputs: { x: "x", t: "t" },
    output: "eps",
    extraInputs: options.label ? [{ name: "label", dtype: "int64", shape: [], null: 0 }] : [],
  };

  const sched = (ti: number) => {
    const ab = Math.exp(-(b1 - b0) * ti * ti / 2 - b0 * ti);
    const sg2 = -Math.expm1(-(b1 - b0) * ti * ti / 2 - b0 * ti);
    return {
      ab,
      alpha: Math.sqrt(ab),
      sigma: Math.sqrt(sg2),
      den: ab * s2 + sg2,
    };
  };
  const epsFn = (xs: Float64Array, ts: number[]) => {
    const o = new Float64Array(xs.length);
    for (let i = 0; i < ts.length; i++) {
      const { sigma, den } = sched(ts[i]);
      for (let j = 0; j < D; j++) o[i * D + j] = sigma * xs[i * D + j] / den;
    }
    return o;
  };
  const outputFn = (xs: Float64Array, ts: number[], label?: number[]) => {
    const o = new Float64Array(xs.length);
    for (let i = 0; i < ts.length; i++) {
      const { alpha, sigma, den } = sched(ts[i]);
      for (let j = 0; j < D; j++) {
        const xv = xs[i * D + j];
        const e = sigma * xv / den, x0v = alpha * s2 * xv / den;
        const base = prediction === "eps"
          ? e
          : prediction === "x0"
          ? x0v
          : prediction === "v"
          ? alpha * e - sigma * x0v
          : -xv / den;
        o[i * D + j] = base +
          (options.label ? options.label.shift * (label?.[i] ?? 0) : 0);
      }
    }
    return o;
  };
  return { bytes, manifest, eps: epsFn, output: outputFn };
}

/** Options of {@link edmGaussianModel}. */
export interface EdmGaussianModelOptions {
  /** Sample shape (default [2]). */
  sampleShape?: number[];
  /** Data standard deviation s (default 0.5). */
  std?: number;
  /** The manifest's σ_data (default 0.5; any value works, the network compensates). */
  sigmaData?: number;
  /** VE σ range (default 0.002, 80). */
  sigmaMin?: number;
  sigmaMax?: number;
}

/**
 * A raw EDM denoiser (Karras et al. 2022) for data `x₀ ~ N(0, s² I)` under the VE SDE, to be used with
 * the manifest's `precondition`: it takes `y = c_in·x` and `c_noise = ¼ ln σ` and returns the F for
 * which `c_skip·x + c_out·F` is the exact denoiser `D(x; σ) = s² x/(s² + σ²)`:
 *
 *     F = y · (s²/(s² + σ²) − σd²/(σ² + σd²)) · (σ² + σd²)/(σ·σd)
 *
 * The exact ε of the same data is `σ x/(s² + σ²)`.
 */
export function edmGaussianModel(options: EdmGaussianModelOptions = {}): GaussianModel {
  const shape = options.sampleShape ?? [2];
  const s2 = (options.std ?? 0.5) ** 2;
  const sd = options.sigmaData ?? 0.5;
  const D = shape.reduce((a, b) => a * b, 1);
  const g = new GraphBuilder("edm-gaussian");
  const c = (v: number) => g.scalar("float", v);
  const y = g.input("x", "float", ["batch", ...shape]);
  const cn = g.input("sigma_noise", "float", ["batch"]);
  const axes = g.constant("int64", [shape.length], shape.map((_, i) => BigInt(i + 1)));
  const sigma = g.op("Exp", [g.op("Mul", [g.op("Unsqueeze", [cn, axes]), c(4)])]);
  const sig2 = g.op("Mul", [sigma, sigma]);
  const a = g.op("Div", [c(s2), g.op("Add", [sig2, c(s2)])]);
  const tot = g.op("Add", [sig2, c(sd * sd)]);
  const b = g.op("Div", [c(sd * sd), tot]);
  const k = g.op("Div", [g.op("Mul", [g.op("Sub", [a, b]), tot]), g.op("Mul", [sigma, c(sd)])]);
  g.op("Mul", [y, k], {}, "F");
  g.output("F", "float", ["batch", ...shape]);
  const bytes = encodeModel({ irVersion: 8, opsets: [{ domain: "", version: 17 }], graph: g.build() });
  const sigmaMin = options.sigmaMin ?? 0.002, sigmaMax = options.sigmaMax ?? 80;
  const manifest: Record<string, unknown> = {
    format: "deis-model/2",
    name: "edm-gaussian",
    sde: { name: "ve", sigmaMin, sigmaMax },
    precondition: { kind: "edm", sigmaData: sd },
    sampleShape: shape,
    inputs: { x: "x", t: "sigma_noise" },
    output: "F",
  };
  const sigmaAt = (t: number) => sigmaMin * (sigmaMax / sigmaMin) ** t;
  const eps = (xs: Float64Array, ts: number[]) => {
    const o = new Float64Array(xs.length);
    for (let i = 0; i < ts.length; i++) {
      const sg = sigmaAt(ts[i]);
      for (let j = 0; j < D; j++) o[i * D + j] = sg * xs[i * D + j] / (s2 + sg * sg);
    }
    return o;
  };
  const output = (xs: Float64Array, ts: number[]) => {
    const o = new Float64Array(xs.length);
    for (let i = 0; i < ts.length; i++) {
      const sg = sigmaAt(ts[i]), tot = sg * sg + sd * sd;
      const k = (s2 / (s2 + sg * sg) - sd * sd / tot) * tot / (sg * sd);
      for (let j = 0; j < D; j++) o[i * D + j] = xs[i * D + j] * k;
    }
    return o;
  };
  return { bytes, manifest, eps, output };
}
