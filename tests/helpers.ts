/**
 * Numeric closeness for tests (Deno's @std/assert is not reachable here).
 *
 * @module
 */

import assert from "node:assert/strict";

/** Relative difference |a − b|/|b| (absolute when b = 0). */
export function relErr(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b);
}

/**
 * Asserts `actual` ≈ `expected`: relative error ≤ `rel`, or, for |expected| < `smallBelow`,
 * absolute error ≤ `abs`.
 */
export function assertClose(
  actual: number,
  expected: number,
  { rel = 1e-13, abs = 0, smallBelow = 0, what = "" } = {},
): void {
  const ok = Number.isFinite(actual) &&
    (relErr(actual, expected) <= rel ||
      (Math.abs(expected) < smallBelow && Math.abs(actual - expected) <= abs));
  assert.ok(
    ok,
    `${what}: ${actual} vs ${expected} (rel ${relErr(actual, expected).toExponential(2)})`,
  );
}

/** Largest relative error over two equal-length arrays (entries where expected = 0 use absolute). */
export function maxRelErr(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
): number {
  assert.equal(actual.length, expected.length, "length");
  let m = 0;
  for (let i = 0; i < actual.length; i++) {
    m = Math.max(m, relErr(actual[i], expected[i]));
  }
  return m;
}
