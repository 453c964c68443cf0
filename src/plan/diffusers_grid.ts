/**
 * The `diffusers` time grid: the integer timesteps of diffusers' `DDIMScheduler.set_timesteps`
 * (diffusers `src/diffusers/schedulers/scheduling_ddim.py`) placed on the vp-discrete clock.
 *
 * Integer timestep arithmetic lives here in TypeScript rather than in the AssemblyScript engine
 * (`assembly/grid.ts`): it is a few float64 operations and a rounding per step, the result is
 * handed to the engine as a custom grid, and keeping it beside the numpy semantics it copies
 * (float64 `arange`/`linspace`, round-half-to-even) makes it easy to check against them.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";

/** diffusers' `timestep_spacing` values (Table 2 of Lin et al. 2023, "Common Diffusion Noise Schedules…"). */
export type TimestepSpacing = "leading" | "trailing" | "linspace";

/** The spacings the `diffusers` grid accepts. */
export const TIMESTEP_SPACINGS: readonly TimestepSpacing[] = ["leading", "trailing", "linspace"];

/** numpy's `round` (`np.round`, `ndarray.round`): nearest integer, ties to even. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f; // exact for doubles
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * The integer timesteps of `DDIMScheduler.set_timesteps(steps)` for a scheduler trained on
 * `trainSteps` indices, in diffusers' (descending) order. Follows the numpy float64 operations of
 * the diffusers code (see docs/CONVENTIONS.md, "diffusers schedulers"):
 *
 * - `linspace`: `round(linspace(0, N − 1, steps))` reversed; `steps_offset` is not applied;
 * - `leading`: `arange(steps) · (N // steps)` reversed, plus `steps_offset`;
 * - `trailing`: `round(arange(N, 0, −N/steps)) − 1`; `steps_offset` is not applied.
 *
 * Throws a {@link ConfigError} naming `steps` or `stepsOffset` where diffusers would fail or
 * produce an index outside `[0, N − 1]` (including numpy's `arange` returning `steps + 1` values for
 * `trailing`, which makes diffusers' last timestep −1).
 */
export function diffusersTimesteps(
  spacing: TimestepSpacing,
  steps: number,
  trainSteps: number,
  stepsOffset = 0,
): number[] {
  const N = trainSteps;
  if (!Number.isInteger(steps) || steps < 1 || steps > N) {
    throw new ConfigError(
      "steps",
      `an integer in [1, ${N}] (the scheduler's num_train_timesteps)`,
      steps,
      `must be an integer in [1, ${N}]: diffusers refuses more inference steps than num_train_timesteps = ${N}`,
    );
  }
  let out: number[];
  if (spacing === "linspace") {
    // np.linspace(0, N − 1, steps): y_i = i · ((N − 1)/(steps − 1)), the last entry set to N − 1 exactly.
    out = [];
    if (steps === 1) out.push(0);
    else {
      const step = (N - 1) / (steps - 1);
      for (let i = 0; i < steps; i++) out.push(i === steps - 1 ? N - 1 : roundHalfEven(i * step));
    }
    out.reverse();
  } else if (spacing === "leading") {
    const ratio = Math.floor(N / steps);
    out = [];
    for (let i = steps - 1; i >= 0; i--) out.push(i * ratio + stepsOffset);
    if (out[0] > N - 1) {
      throw new ConfigError(
        "stepsOffset",
        `an integer in [0, ${N - 1 - (steps - 1) * ratio}] for ${steps} leading steps of ${N}`,
        stepsOffset,
        `pushes the first timestep to ${out[0]}, past the last trained index ${N - 1}`,
      );
    }
  } else {
    // np.arange(N, 0, −r), r = N/steps: length ceil(N/r); entries N, N + (−r), then N + i·d with d = (N − r) − N.
    const r = N / steps;
    const length = Math.ceil(N / r);
    const first = N + -r;
    const d = first - N;
    out = [];
    for (let i = 0; i < length; i++) {
      const y = i === 0 ? N : i === 1 ? first : N + i * d;
      out.push(roundHalfEven(y) - 1);
    }
    if (length !== steps) {
      throw new ConfigError(
        "steps",
        `a step count for which diffusers' trailing spacing gives ${steps} timesteps`,
        steps,
        `gives ${length} trailing timesteps in diffusers (numpy's arange(${N}, 0, −${N}/${steps}) has ` +
          `${length} entries, the last index ${out[length - 1]}); choose another step count`,
      );
    }
  }
  return out;
}

/**
 * The plan times of the `diffusers` grid: index `n` at `t = (n + 1)/N`, then `tEnd` unless the last
 * index already sits there (index 0 when `tEnd = 1/N`). Where the last index is 0, diffusers' last
 * DDIM step goes from index 0 to ᾱ = 1 (`set_alpha_to_one`); a plan gets that step from its final
 * denoising (`denoiseFinal`), not from an extra grid point.
 */
export function diffusersGrid(
  spacing: TimestepSpacing,
  steps: number,
  trainSteps: number,
  stepsOffset: number,
  tEnd: number,
): Float64Array {
  const idx = diffusersTimesteps(spacing, steps, trainSteps, stepsOffset);
  for (let i = 1; i < idx.length; i++) {
    if (!(idx[i] < idx[i - 1])) {
      throw new ConfigError(
        "steps",
        "a step count whose diffusers timesteps are distinct",
        steps,
        `gives repeated diffusers timesteps (${idx[i - 1]}, ${idx[i]}) with spacing ${spacing}`,
      );
    }
  }
  const times = idx.map((n) => (n + 1) / trainSteps);
  const last = times[times.length - 1];
  if (tEnd > last) {
    throw new ConfigError(
      "tEnd",
      `a time at most the last diffusers timestep's t = ${last} (index ${idx[idx.length - 1]})`,
      tEnd,
    );
  }
  if (tEnd < last) times.push(tEnd);
  if (times.length < 2) {
    throw new ConfigError(
      "steps",
      "at least 2 diffusers timesteps when the last one is the end time",
      steps,
      `gives the single timestep ${idx[0]}, which is already the end time: a plan needs at least one step`,
    );
  }
  return Float64Array.from(times);
}
