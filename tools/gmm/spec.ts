/**
 * The GMM spec file: `{ "weights": [K], "means": [K][D], "stds": [K][D], "shape"?: [...],
 * "dataRange"?: [lo, hi] }`. Parsing and validation (errors are `SpecError`s with a readable reason).
 *
 * @module
 */

import { type Gmm, gmmFromSpec, type GmmSpec } from "../../testing/reference/mod.ts";

/** A spec file's contents. */
export interface GmmFileSpec extends GmmSpec {
  /** Range of the data for display; defaults to the hull of μ ± 3s over all components. */
  dataRange?: [number, number];
}

/** A problem with a spec's contents. */
export class SpecError extends Error {
  override name = "SpecError";
}

const KNOWN_KEYS = new Set(["weights", "means", "stds", "shape", "dataRange"]);

/** A validated spec: the mixture, the spec with `shape` filled in, and its data range. */
export interface ParsedSpec {
  gmm: Gmm;
  spec: Required<Pick<GmmFileSpec, "weights" | "means" | "stds" | "shape">>;
  dataRange: [number, number];
}

/** Validates a parsed JSON value as a spec. Throws {@link SpecError}. */
export function parseGmmSpec(value: unknown): ParsedSpec {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new SpecError("not a JSON object");
  }
  for (const key of Object.keys(value)) {
    if (!KNOWN_KEYS.has(key)) throw new SpecError(`unknown key '${key}'`);
  }
  const raw = value as GmmFileSpec;
  let gmm: Gmm;
  try {
    gmm = gmmFromSpec(raw);
  } catch (e) {
    throw new SpecError((e as Error).message.replace(/^gmm spec: /, ""));
  }
  let dataRange: [number, number];
  if (raw.dataRange !== undefined) {
    const r = raw.dataRange;
    if (
      !Array.isArray(r) || r.length !== 2 || !r.every(Number.isFinite) ||
      !(r[0] < r[1])
    ) {
      throw new SpecError("'dataRange' must be [lo, hi] with finite lo < hi");
    }
    dataRange = [r[0], r[1]];
  } else {
    let lo = Infinity;
    let hi = -Infinity;
    raw.means.forEach((row, k) =>
      row.forEach((m, j) => {
        lo = Math.min(lo, m - 3 * raw.stds[k][j]);
        hi = Math.max(hi, m + 3 * raw.stds[k][j]);
      })
    );
    dataRange = [lo, hi];
  }
  return {
    gmm,
    spec: {
      weights: raw.weights,
      means: raw.means,
      stds: raw.stds,
      shape: [...gmm.shape],
    },
    dataRange,
  };
}

/** Parses spec JSON text. Throws {@link SpecError}. */
export function parseGmmSpecText(text: string): ParsedSpec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SpecError(`invalid JSON (${(e as Error).message})`);
  }
  return parseGmmSpec(value);
}
