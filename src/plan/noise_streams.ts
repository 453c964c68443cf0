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
} as const;
