/**
 * Resource limits shared by the library, the CLIs and the edge service, each raising a typed
 * error that says what it would have needed.
 *
 * @module
 */

import { ConfigError } from "./errors.ts";

/**
 * Largest `n × sample size` (elements of one batch) that `sample()` accepts: 2²³ = 8 388 608.
 * The backends hold several buffers of that size (x, ε history, noise), plus onnxruntime's own
 * copies: 20 000 MNIST samples (15.7 M elements) reached 4.1 GB, about 260 bytes per element.
 */
export const MAX_BATCH_ELEMENTS = 1 << 23;

/** Bytes per batch element a run is estimated to use (measured: 20 000 × 784 elements, 4.1 GB RSS). */
export const BYTES_PER_ELEMENT_ESTIMATE = 260;

/** Largest float32 value. */
export const FLOAT32_MAX = 3.4028234663852886e38;

function formatBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toPrecision(3)} GiB`;
  return `${(b / 2 ** 20).toPrecision(3)} MiB`;
}

/**
 * Checks that a batch of `n` samples of `sampleShape` fits the limit (default
 * {@link MAX_BATCH_ELEMENTS}); throws a {@link ConfigError} naming `n` (or `sampleShape` when not
 * even one sample fits) and the memory it would need.
 *
 * @example
 * ```ts
 * import { checkBatchSize } from "./limits.ts";
 * checkBatchSize(64, [1, 28, 28]); // fine
 * // checkBatchSize(20_000, [1, 28, 28]) throws: n: ... about 3.8 GiB ...
 * ```
 */
export function checkBatchSize(
  n: number,
  sampleShape: readonly number[] | number,
  limit: number = MAX_BATCH_ELEMENTS,
): void {
  const size = typeof sampleShape === "number" ? sampleShape : sampleShape.reduce((a, b) => a * b, 1);
  const elements = n * size;
  if (Number.isFinite(elements) && elements <= limit) return;
  const need = formatBytes(elements * BYTES_PER_ELEMENT_ESTIMATE);
  const maxN = Math.floor(limit / size);
  if (maxN < 1) {
    throw new ConfigError(
      "sampleShape",
      `at most ${limit} elements per sample`,
      typeof sampleShape === "number" ? sampleShape : [...sampleShape],
      `one sample has ${size} elements (a batch of ${n} would need about ${need}); the limit is ${limit} elements`,
    );
  }
  throw new ConfigError(
    "n",
    `an integer in [1, ${maxN}] for samples of ${size} elements (n × sample size ≤ ${limit})`,
    n,
    `n × sample size = ${elements} elements would need about ${need}; at most ${maxN} samples of ${size} elements`,
  );
}

/**
 * Checks that every value fits the tensor type it will be written as: finite and within ±FLOAT32_MAX
 * for float32 (a larger value would become ±Infinity), any finite value for float64. Throws a
 * {@link ConfigError} naming `field[i]`.
 */
export function checkFloatRange(
  field: string,
  values: ArrayLike<number>,
  dtype: "float32" | "float64",
): void {
  const max = dtype === "float32" ? FLOAT32_MAX : Number.MAX_VALUE;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Math.abs(v) <= max)) {
      throw new ConfigError(
        `${field}[${i}]`,
        `a finite number of magnitude at most ${max.toPrecision(8)} (${dtype})`,
        v,
      );
    }
  }
}

/**
 * Largest |guidance scale| accepted (1000; usual values are 1–20). Beyond it `w·(ε_c − ε_u)`
 * overflows float32 for ordinary outputs, and the failure would look like the model's.
 */
export const MAX_GUIDANCE_SCALE = 1000;
