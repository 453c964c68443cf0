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

/** max_i |a_i − b_i| / max_i |b_i|: an error relative to the largest value, for whole sample batches. */
export function scaledDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

/** Runs `deno task -q <task> ...args` from the repository root; returns the exit code and both streams. */
export async function runTask(task: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", task, ...args],
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
    env: { XDG_RUNTIME_DIR: "/tmp" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
