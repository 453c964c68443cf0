/**
 * The ONNX graph of a Gaussian mixture's exact ε-prediction. Inputs `x` `[batch, ...shape]` and
 * `t` `[batch]`; output `eps` `[batch, ...shape]`. α(t) and σ(t) are computed in the graph without
 * cancellation, and the responsibilities with a max-subtracted softmax:
 *
 *     v_kd = α² s_kd² + σ²,  δ_kd = x_d − α μ_kd = (x_d − μ_kd) + (1 − α) μ_kd
 *     logit_k = log π_k − ½ Σ_d (log v_kd + δ_kd²/v_kd),  r = softmax(logit)
 *     ε_d = σ Σ_k r_k δ_kd / v_kd
 *
 * Only ops with float and double kernels in onnxruntime's CPU/wasm provider are used.
 *
 * @module
 */

import { type ElemType, encodeModel, GraphBuilder, type ModelSpec } from "../../testing/onnx/mod.ts";
import { COSINE_S, type Gmm, type ReferenceSdeSpec } from "../../testing/reference/mod.ts";

/** Element types of a GMM model. */
export type GmmDtype = "float32" | "float64";

/** ONNX opset and IR version the GMM graphs use. */
export const GMM_OPSET = 17;
/** IR version matching {@link GMM_OPSET}. */
export const GMM_IR_VERSION = 8;

/** Names of the graph's inputs and output. */
export const GMM_IO = { x: "x", t: "t", output: "eps" } as const;

interface Schedule {
  /** α as [B,1,1], or null for VE (α ≡ 1). */
  alpha: string | null;
  /** 1 − α as [B,1,1] computed without cancellation, or null for VE. */
  oneMinusAlpha: string | null;
  /** α² as [B,1,1], or null for VE. */
  alpha2: string | null;
  sigma: string;
  sigma2: string;
}

/** Emits α, α², σ, σ² from t3 ([B,1,1]) for the SDE. */
function schedule(
  g: GraphBuilder,
  type: ElemType,
  sde: ReferenceSdeSpec,
  t3: string,
): Schedule {
  const c = (v: number) => g.scalar(type, v);
  switch (sde.name) {
    case "vp-linear": {
      const b0 = sde.betaMin ?? 0.1;
      const b1 = sde.betaMax ?? 20;
      // u = log ᾱ = t·(−β₀ − (β₁−β₀)/2·t)
      const inner = g.op("Add", [g.op("Mul", [t3, c(-(b1 - b0) / 2)]), c(-b0)]);
      const u = g.op("Mul", [t3, inner], {}, "log_alpha_bar");
      const halfU = g.op("Mul", [u, c(0.5)], {}, "log_alpha");
      const alpha = g.op("Exp", [halfU], {}, "alpha");
      const alpha2 = g.op("Exp", [u], {}, "alpha_bar");
      // σ² = −expm1(u) = tanh(−u/2)·(1 + e^u), free of cancellation for small |u|.
      const th = g.op("Tanh", [g.op("Neg", [halfU])]);
      const sigma2 = g.op(
        "Mul",
        [th, g.op("Add", [alpha2, c(1)])],
        {},
        "sigma2",
      );
      const sigma = g.op("Sqrt", [sigma2], {}, "sigma");
      // 1 − α = −expm1(u/2) = tanh(−u/4)·(1 + α)
      const th4 = g.op("Tanh", [g.op("Mul", [u, c(-0.25)])]);
      const oneMinusAlpha = g.op(
        "Mul",
        [th4, g.op("Add", [alpha, c(1)])],
        {},
        "one_minus_alpha",
      );
      return { alpha, oneMinusAlpha, alpha2, sigma, sigma2 };
    }
    case "vp-cosine": {
      const s = COSINE_S;
      const k = Math.PI / (2 * (1 + s));
      const cos0 = Math.cos(s * k);
      // α = sin((1 − t)k)/cos θ₀;  σ² = sin((t + 2s)k)·sin(tk)/cos²θ₀
      const oneMinusT = g.op("Sub", [c(1), t3]);
      const alpha = g.op(
        "Mul",
        [g.op("Sin", [g.op("Mul", [oneMinusT, c(k)])]), c(1 / cos0)],
        {},
        "alpha",
      );
      const alpha2 = g.op("Mul", [alpha, alpha], {}, "alpha_bar");
      const sinSum = g.op("Sin", [
        g.op("Mul", [g.op("Add", [t3, c(2 * s)]), c(k)]),
      ]);
      const sinDiff = g.op("Sin", [g.op("Mul", [t3, c(k)])]);
      const sigma2 = g.op(
        "Mul",
        [g.op("Mul", [sinSum, sinDiff]), c(1 / (cos0 * cos0))],
        {},
        "sigma2",
      );
      const sigma = g.op("Sqrt", [sigma2], {}, "sigma");
      // 1 − α = (cos θ₀ − cos θ)/cos θ₀ = 2 sin((t + 2s)k/2)·sin(tk/2)/cos θ₀
      const halfSum = g.op("Sin", [
        g.op("Mul", [g.op("Add", [t3, c(2 * s)]), c(k / 2)]),
      ]);
      const halfDiff = g.op("Sin", [g.op("Mul", [t3, c(k / 2)])]);
      const oneMinusAlpha = g.op(
        "Mul",
        [g.op("Mul", [halfSum, halfDiff]), c(2 / cos0)],
        {},
        "one_minus_alpha",
      );
      return { alpha, oneMinusAlpha, alpha2, sigma, sigma2 };
    }
    case "ve": {
      const smin = sde.sigmaMin ?? 0.01;
      const smax = sde.sigmaMax ?? 50;
      // σ = exp(log σ_min + t·log(σ_max/σ_min))
      const logSigma = g.op("Add", [
        g.op("Mul", [t3, c(Math.log(smax / smin))]),
        c(Math.log(smin)),
      ]);
      const sigma = g.op("Exp", [logSigma], {}, "sigma");
      const sigma2 = g.op("Mul", [sigma, sigma], {}, "sigma2");
      return { alpha: null, oneMinusAlpha: null, alpha2: null, sigma, sigma2 };
    }
    default:
      throw new RangeError(
        `gmm graph: unsupported SDE '${(sde as { name: string }).name}'`,
      );
  }
}

/** Options of {@link buildGmmModelSpec}. */
export interface GmmGraphOptions {
  gmm: Gmm;
  sde: ReferenceSdeSpec;
  dtype: GmmDtype;
  /** Graph name (default "gmm"). */
  name?: string;
}

/** Builds the ONNX model spec of the mixture's exact ε. */
export function buildGmmModelSpec(opts: GmmGraphOptions): ModelSpec {
  const { gmm, sde, dtype } = opts;
  const type: ElemType = dtype === "float64" ? "double" : "float";
  const { k, d } = gmm;
  const g = new GraphBuilder(opts.name ?? "gmm");
  const x = g.input(GMM_IO.x, type, ["batch", ...gmm.shape]);
  const t = g.input(GMM_IO.t, type, ["batch"]);

  const means = g.constant(type, [k, d], gmm.means, "means");
  const variances = g.constant(type, [k, d], gmm.variances, "variances");
  const logWeights = g.constant(type, [k, 1], gmm.logWeights, "log_weights");

  const x3 = g.op(
    "Reshape",
    [x, g.constant("int64", [3], [-1n, 1n, BigInt(d)], "shape_b1d")],
    {},
    "x_flat",
  );
  const t3 = g.op(
    "Reshape",
    [t, g.constant("int64", [3], [-1n, 1n, 1n], "shape_b11")],
    {},
    "t_b11",
  );
  const sch = schedule(g, type, sde, t3);

  // [B,K,D]. δ = x − αμ = (x − μ) + (1 − α)μ keeps full precision when α ≈ 1 (small t).
  const xMinusMean = g.op("Sub", [x3, means]);
  const delta = sch.oneMinusAlpha === null ? xMinusMean : g.op(
    "Add",
    [xMinusMean, g.op("Mul", [sch.oneMinusAlpha, means])],
    {},
    "delta",
  );
  const scaledVar = sch.alpha2 === null ? variances : g.op("Mul", [sch.alpha2, variances]);
  const v = g.op("Add", [scaledVar, sch.sigma2], {}, "var");
  const ratio = g.op("Div", [delta, v], {}, "delta_over_var");
  const quad = g.op("Mul", [delta, ratio]);
  const terms = g.op("Add", [g.op("Log", [v]), quad]);
  const axisD = g.constant("int64", [1], [2n], "axis_d");
  const axisK = g.constant("int64", [1], [1n], "axis_k");
  const sum = g.op("ReduceSum", [terms, axisD], { keepdims: 1 }); // [B,K,1]
  const logits = g.op(
    "Add",
    [g.op("Mul", [sum, g.scalar(type, -0.5)]), logWeights],
    {},
    "logits",
  );
  const resp = g.op("Softmax", [logits], { axis: 1 }, "responsibilities"); // [B,K,1]
  const weighted = g.op("ReduceSum", [g.op("Mul", [resp, ratio]), axisK], {
    keepdims: 1,
  }); // [B,1,D]
  const epsFlat = g.op("Mul", [weighted, sch.sigma], {}, "eps_flat");
  g.op(
    "Reshape",
    [epsFlat, g.op("Shape", [x], {}, "x_shape")],
    {},
    GMM_IO.output,
  );
  g.output(GMM_IO.output, type, ["batch", ...gmm.shape]);

  return {
    irVersion: GMM_IR_VERSION,
    opsets: [{ domain: "", version: GMM_OPSET }],
    producerName: "deis-gmm",
    producerVersion: "1",
    docString:
      `Exact eps-prediction of a ${k}-component diagonal Gaussian mixture in ${d} dimensions under ${sde.name}.`,
    graph: g.build(),
  };
}

/** Encodes the mixture's ε model as ONNX bytes. */
export function buildGmmOnnx(opts: GmmGraphOptions): Uint8Array {
  return encodeModel(buildGmmModelSpec(opts));
}
