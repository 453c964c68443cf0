/**
 * Small helpers shared by the command-line tools.
 *
 * @module
 */

/** A decimal number as users type it (no hex, no `Infinity`, no empty string). */
export const NUMBER: RegExp = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * The number `text` spells, or `text` itself so that validation can quote it back.
 *
 * @example
 * ```ts
 * import { parseNumber } from "./args.ts";
 * parseNumber("1e-3"); // 0.001
 * parseNumber("ten"); // "ten"
 * ```
 */
export function parseNumber(text: string): number | string {
  return NUMBER.test(text.trim()) ? Number(text) : text;
}

/**
 * The flag name of a config key: `betaMin` → `beta-min`.
 *
 * @example
 * ```ts
 * import { kebab } from "./args.ts";
 * kebab("alphasCumprod"); // "alphas-cumprod"
 * ```
 */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

/** A usage error of a CLI: printed as one line on stderr, exit code 2 (src/cli/fail.ts). */
export class UsageError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
