/**
 * Float64 schedules of the SDE families used by the reference (vp-linear, vp-cosine, ve),
 * written without catastrophic cancellation: `σ²` near `t = 0` and the inverse `t(ρ)` keep full
 * relative precision. Conventions are those of docs/CONVENTIONS.md.
 *
 * @module
 */

/** SDE families the reference supports. */
export type ReferenceSdeName = "vp-linear" | "vp-cosine" | "ve";

/** An SDE description (the same keys as the plan's and manifest's `sde` object). */
export interface ReferenceSdeSpec {
  /** Family. */
  name: ReferenceSdeName;
  /** vp-linear β₀ (default 0.1). */
  betaMin?: number;
  /** vp-linear β₁ (default 20). */
  betaMax?: number;
  /** ve σ_min (default 0.01). */
  sigmaMin?: number;
  /** ve σ_max (default 50). */
  sigmaMax?: number;
}

/** A fully parameterised schedule: every function is float64 and accurate to a few ulp. */
export interface ReferenceSde {
  /** The spec with defaults filled in. */
  readonly spec: Required<Pick<ReferenceSdeSpec, "name">> & ReferenceSdeSpec;
  /** Default start time T of sampling. */
  readonly tStart: number;
  /** Default end time ε of sampling. */
  readonly tEnd: number;
  /** `α(t) = sqrt(ᾱ(t))`. */
  alpha(t: number): number;
  /** `σ(t)` (for VP, `sqrt(1 − ᾱ)`). */
  sigma(t: number): number;
  /** `ρ(t) = σ(t)/α(t)`, increasing in t. */
  rho(t: number): number;
  /** The inverse of {@link ReferenceSde.rho}. */
  tOfRho(rho: number): number;
}

/** Offset `s` of the cosine schedule (iDDPM). */
export const COSINE_S = 0.008;

function vpLinear(betaMin: number, betaMax: number): ReferenceSde {
  if (!(betaMin > 0) || !(betaMax >= betaMin) || !Number.isFinite(betaMax)) {
    throw new RangeError(
      `vp-linear needs 0 < betaMin <= betaMax, got ${betaMin}, ${betaMax}`,
    );
  }
  const d = betaMax - betaMin;
  /** log ᾱ(t) ≤ 0 */
  const u = (t: number) => -t * (betaMin + 0.5 * d * t);
  return {
    spec: { name: "vp-linear", betaMin, betaMax },
    tStart: 1,
    tEnd: 1e-3,
    alpha: (t) => Math.exp(0.5 * u(t)),
    sigma: (t) => Math.sqrt(-Math.expm1(u(t))),
    rho: (t) => Math.sqrt(Math.expm1(-u(t))),
    tOfRho(rho) {
      // −log ᾱ = log(1 + ρ²) =: L; solve (d/2) t² + β₀ t − L = 0 without cancellation.
      const L = Math.log1p(rho * rho);
      return (2 * L) / (Math.sqrt(betaMin * betaMin + 2 * d * L) + betaMin);
    },
  };
}

function vpCosine(): ReferenceSde {
  const s = COSINE_S;
  const k = Math.PI / (2 * (1 + s)); // θ(t) = (t + s)·k
  const theta0 = s * k;
  const cos0 = Math.cos(theta0);
  const sin0 = Math.sin(theta0);
  // α = cos θ / cos θ₀ = sin((1 − t)k) / cos θ₀ (accurate near t = 1 too).
  const alpha = (t: number) => Math.sin((1 - t) * k) / cos0;
  // σ² = (cos²θ₀ − cos²θ)/cos²θ₀ = sin(θ + θ₀)·sin(θ − θ₀)/cos²θ₀.
  const sigma = (t: number) => Math.sqrt(Math.sin((t + 2 * s) * k) * Math.sin(t * k)) / cos0;
  return {
    spec: { name: "vp-cosine" },
    tStart: 0.9946,
    tEnd: 1e-3,
    alpha,
    sigma,
    rho: (t) => sigma(t) / alpha(t),
    tOfRho(rho) {
      // cos θ = cos θ₀/sqrt(1 + ρ²) ⇒ tan θ = S/cos θ₀ with S = sqrt(sin²θ₀ + ρ²);
      // θ − θ₀ = atan((tan θ − tan θ₀)/(1 + tan θ tan θ₀)), numerator = ρ²/((S + sin θ₀) cos θ₀).
      const S = Math.sqrt(sin0 * sin0 + rho * rho);
      const num = (rho * rho) / ((S + sin0) * cos0);
      const den = 1 + (S * sin0) / (cos0 * cos0);
      return Math.atan2(num, den) / k;
    },
  };
}

function ve(sigmaMin: number, sigmaMax: number): ReferenceSde {
  if (!(sigmaMin > 0) || !(sigmaMax > sigmaMin) || !Number.isFinite(sigmaMax)) {
    throw new RangeError(
      `ve needs 0 < sigmaMin < sigmaMax, got ${sigmaMin}, ${sigmaMax}`,
    );
  }
  const logMin = Math.log(sigmaMin);
  const logRatio = Math.log(sigmaMax / sigmaMin);
  const sigma = (t: number) => Math.exp(logMin + t * logRatio);
  return {
    spec: { name: "ve", sigmaMin, sigmaMax },
    tStart: 1,
    tEnd: 1e-3,
    alpha: () => 1,
    sigma,
    rho: sigma,
    tOfRho: (rho) => (Math.log(rho) - logMin) / logRatio,
  };
}

/**
 * Builds the float64 schedule of an SDE spec, filling defaults (vp-linear β₀ = 0.1, β₁ = 20;
 * ve σ_min = 0.01, σ_max = 50). Throws a `RangeError` for unknown names or bad parameters.
 */
export function referenceSde(spec: ReferenceSdeSpec): ReferenceSde {
  switch (spec.name) {
    case "vp-linear":
      return vpLinear(spec.betaMin ?? 0.1, spec.betaMax ?? 20);
    case "vp-cosine":
      return vpCosine();
    case "ve":
      return ve(spec.sigmaMin ?? 0.01, spec.sigmaMax ?? 50);
    default:
      throw new RangeError(
        `reference SDE: unsupported name '${(spec as { name: string }).name}'`,
      );
  }
}

/** Returns `sde` itself if it is already a schedule, else builds one from the spec. */
export function asReferenceSde(
  sde: ReferenceSde | ReferenceSdeSpec,
): ReferenceSde {
  return "alpha" in sde && typeof sde.alpha === "function" ? sde : referenceSde(sde as ReferenceSdeSpec);
}
