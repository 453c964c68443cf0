/**
 * Typed errors. Every error the SDK raises on bad input is a {@link DeisError}; configuration
 * errors name the offending field and what it allows.
 *
 * @example
 * ```ts
 * import { ConfigError, makePlan } from "@seed/deis";
 * try {
 *   makePlan({ steps: 0 });
 * } catch (e) {
 *   if (e instanceof ConfigError) console.log(e.field, e.allowed); // "steps", "an integer in [1, 10000]"
 * }
 * ```
 *
 * @module
 */

/** Base class of every error raised by the SDK. */
export class DeisError extends Error {
  /** Creates an error with a message. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DeisError";
  }
}

/** A configuration value is missing, unknown or out of range. */
export class ConfigError extends DeisError {
  /** The config key (camelCase), e.g. `"steps"` or `"alphasCumprod[3]"`. */
  readonly field: string;
  /** What the field allows, in words. */
  readonly allowed: string;
  /** The value that was given (as received). */
  readonly value: unknown;

  /** Creates an error for `field`, which allows `allowed` but received `value`. */
  constructor(field: string, allowed: string, value: unknown, detail?: string) {
    super(
      `${field}: ${detail ?? `must be ${allowed}`} (got ${describe(value)})`,
    );
    this.name = "ConfigError";
    this.field = field;
    this.allowed = allowed;
    this.value = value;
  }
}

/** A model or its manifest is invalid, or the network misbehaved (wrong shape, NaN output). */
export class ModelError extends DeisError {
  /** The model's name (from its manifest) or path. */
  readonly model: string;
  /** The manifest key, input or output concerned, when there is one. */
  readonly field?: string;

  /** Creates an error about `model` (and its `field`). */
  constructor(
    model: string,
    message: string,
    field?: string,
    options?: ErrorOptions,
  ) {
    super(`model ${model}${field ? ` (${field})` : ""}: ${message}`, options);
    this.name = "ModelError";
    this.model = model;
    this.field = field;
  }
}

/** Sampling was stopped by an AbortSignal; every buffer has been released. */
export class AbortError extends DeisError {
  /** Creates the error; `reason` is the signal's reason. */
  constructor(reason?: unknown) {
    super(
      `sampling aborted${reason !== undefined ? `: ${String(reason)}` : ""}`,
    );
    this.name = "AbortError";
  }
}

/** A computation produced a non-finite number; never returned silently. */
export class NumericalError extends DeisError {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "NumericalError";
  }
}

/** Short, bounded rendering of a value for messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(
      value.length > 60 ? value.slice(0, 57) + "..." : value,
    );
  }
  if (
    typeof value === "number" || typeof value === "boolean" || value == null
  ) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) {
    return `a typed array of length ${(value as Float64Array).length}`;
  }
  return typeof value;
}
