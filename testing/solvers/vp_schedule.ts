/**
 * VP noise schedules shared by the reference solver transcriptions in this folder
 * (`dpm_solver_pp.ts`, `uni_pc.ts`).
 *
 * Transcribed (not copied) from `NoiseScheduleVP` as it appears in both reference
 * files: `dpm_solver_pytorch.py` (LuChengTHU/dpm-solver) and `uni_pc.py`
 * (wl-zhao/UniPC). Everything is float64; the reference defaults to float32 for
 * the discrete tables (`dtype=torch.float32`), so compare against it in float64.
 *
 *   alpha_t = exp(logAlpha(t)),  sigma_t = sqrt(1 − alpha_t²),
 *   lambda_t = log(alpha_t) − log(sigma_t)   (half log-SNR).
 *
 * The reference evaluates `sqrt(1 − exp(2 logα))` and `0.5·log(1 − exp(2 logα))`
 * literally (`marginal_std`, `marginal_lambda`); we use the algebraically identical
 * `−expm1(2 logα)`, which only removes cancellation near t = 0 (differences are at
 * the 1e-12 relative level for t ≈ 1e-3).
 */

export interface VpSchedule {
  /** log α_t (`marginal_log_mean_coeff`). */
  logAlpha(t: number): number;
  /** σ_t = sqrt(1 − α_t²) (`marginal_std`). */
  sigma(t: number): number;
  /** λ_t = log α_t − log σ_t (`marginal_lambda`). */
  lambda(t: number): number;
}

function fromLogAlpha(logAlpha: (t: number) => number): VpSchedule {
  return {
    logAlpha,
    sigma(t: number): number {
      return Math.sqrt(-Math.expm1(2 * logAlpha(t)));
    },
    lambda(t: number): number {
      const la = logAlpha(t);
      return la - 0.5 * Math.log(-Math.expm1(2 * la));
    },
  };
}

/**
 * NoiseScheduleVP('linear'): log α_t = −(β1 − β0) t²/4 − β0 t/2
 * (`marginal_log_mean_coeff`, linear branch, in both reference files).
 */
export function vpLinear(betaMin = 0.1, betaMax = 20): VpSchedule {
  return fromLogAlpha((t) => -0.25 * t * t * (betaMax - betaMin) - 0.5 * t * betaMin);
}

/** Options of {@link vpDiscrete}. */
export interface VpDiscreteOptions {
  /**
   * dpm_solver_pytorch.py's `NoiseScheduleVP.__init__` (discrete branch) calls
   * `numerical_clip_alpha(log_alphas, clipped_lambda=-5.1)`: trailing table entries whose
   * λ is below −5.1 are dropped *before* the time knots are laid out, so the knots become
   * (n+1)/N' with the shortened length N'. uni_pc.py's NoiseScheduleVP does NOT clip.
   * Default: no clipping (UniPC behaviour); pass −5.1 for DPM-Solver's behaviour.
   */
  clipLambda?: number;
}

/**
 * NoiseScheduleVP('discrete', alphas_cumprod=...): log α_n = ½ log ᾱ_n at knots
 * t_n = (n+1)/N, n = 0..N−1 (`t_array = linspace(0, 1, N+1)[1:]`), and log α_t is the
 * piecewise-linear interpolant of the knots (`interpolate_fn`), which outside
 * [1/N, 1] extends the first / last segment linearly.
 */
export function vpDiscrete(alphasCumprod: number[], options: VpDiscreteOptions = {}): VpSchedule {
  let logAlphas = alphasCumprod.map((a) => 0.5 * Math.log(a));
  if (options.clipLambda !== undefined) {
    // numerical_clip_alpha: idx = searchsorted(flip(λ), clip) = number of λ_n < clip
    // (λ decreases with n, so these are the trailing entries); drop them.
    const clip = options.clipLambda;
    let idx = 0;
    for (const la of logAlphas) {
      if (la - 0.5 * Math.log(1 - Math.exp(2 * la)) < clip) idx++;
    }
    if (idx > 0) logAlphas = logAlphas.slice(0, logAlphas.length - idx);
  }
  const n = logAlphas.length;
  if (n < 2) throw new Error("vpDiscrete: need at least two alphas_cumprod entries");
  const knots = logAlphas.map((_, i) => (i + 1) / n);
  return fromLogAlpha((t) => {
    // interpolate_fn: segment [j, j+1] containing t; below the first knot use j = 0,
    // above the last use j = N−2.
    let j: number;
    if (t <= knots[0]) j = 0;
    else if (t >= knots[n - 1]) j = n - 2;
    else {
      let lo = 0;
      let hi = n - 1; // knots[lo] < t < knots[hi]
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (knots[mid] <= t) lo = mid;
        else hi = mid;
      }
      j = lo;
    }
    return logAlphas[j] + (t - knots[j]) * (logAlphas[j + 1] - logAlphas[j]) / (knots[j + 1] - knots[j]);
  });
}
