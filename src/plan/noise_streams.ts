/**
 * The noise streams a program draws from (docs/CONVENTIONS.md, "Noise"). Plans name them; backends
 * generate them (src/backends/noise.ts), so both import this one table.
 *
 * @module
 */

/** Streams used by the samplers. */
export const NOISE_STREAM = {
  /** The initial x_T. */
  prior: 0,
  /** The per-step noise of stochastic samplers (step index = counter word 1). */
  step: 1,
  /** img2img: the noise z of the start x = α(t₀)·image + σ(t₀)·z (counter word 1 = 0). */
  img2img: 2,
  /** Inpainting: the noise of the known region re-noised to grid time k (counter word 1 = k). */
  inpaint: 3,
} as const;
