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

/**
 * Base class of every error raised by the SDK.
 *
 * @example
 * ```ts
 * import { DeisError, makePlan } from "@seed/deis";
 * try {
 *   makePlan({ method: "rhork", order: 2 });
 * } catch (e) {
 *   if (e instanceof DeisError) console.log(e.name, e.message); // "ConfigError" "order: ..."
 * }
 * ```
 */
export class DeisError extends Error {
  /** Creates an error with a message. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DeisError";
  }
}

/**
 * A configuration value is missing, unknown or out of range.
 *
 * @example
 * ```ts
 * import { ConfigError, normalizeConfig } from "@seed/deis";
 * try {
 *   normalizeConfig({ steps: 0 });
 * } catch (e) {
 *   if (e instanceof ConfigError) console.log(e.field, e.allowed, e.value); // "steps" "an integer in [1, 10000]" 0
 * }
 * ```
 */
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

/**
 * A model or its manifest is invalid, or the network misbehaved (wrong shape, NaN output).
 *
 * @example
 * ```ts
 * import { ModelError, validateManifest } from "@seed/deis";
 * try {
 *   validateManifest({ sde: { name: "vp-linear" }, sampleShape: [0] });
 * } catch (e) {
 *   if (e instanceof ModelError) console.log(e.model, e.field); // "model.json" "sampleShape[0]"
 * }
 * ```
 */
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

/**
 * Sampling was stopped by an AbortSignal; every buffer has been released.
 *
 * @example
 * ```ts
 * import { AbortError, makePlan, sampleFunction } from "@seed/deis";
 * const controller = new AbortController();
 * controller.abort("stop");
 * try {
 *   await sampleFunction({
 *     plan: makePlan({ steps: 10 }),
 *     eps: (x) => new Float64Array(x.length),
 *     sampleShape: [2],
 *     signal: controller.signal,
 *   });
 * } catch (e) {
 *   if (e instanceof AbortError) console.log(e.message); // "sampling aborted: stop"
 * }
 * ```
 */
export class AbortError extends DeisError {
  /** Creates the error; `reason` is the signal's reason. */
  constructor(reason?: unknown) {
    super(
      `sampling aborted${reason !== undefined ? `: ${String(reason)}` : ""}`,
    );
    this.name = "AbortError";
  }
}

/**
 * A computation produced a non-finite number; never returned silently.
 *
 * @example
 * ```ts
 * import { makePlan, NumericalError } from "@seed/deis";
 * try {
 *   makePlan({ sde: "ve", sigmaMax: 1e6, method: "tab", steps: 10 });
 * } catch (e) {
 *   // raised instead of returning a plan that holds NaN or Infinity
 *   if (e instanceof NumericalError) console.error(e.message);
 * }
 * ```
 */
export class NumericalError extends DeisError {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "NumericalError";
  }
}

/**
 * Short, bounded rendering of a value for messages.
 *
 * @example
 * ```ts
 * import { describe } from "@seed/deis";
 * describe([1, 2, 3]); // "an array of length 3"
 * describe(new Float64Array(4)); // "a typed array of length 4"
 * describe(0.5); // "0.5"
 * ```
 */
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

/**
 * The WebGPU backend is unavailable (no `navigator.gpu`, no adapter, or no device).
 *
 * @example
 * ```ts
 * import { BackendUnavailableError, createBackend } from "@seed/deis";
 * try {
 *   await createBackend("webgpu");
 * } catch (e) {
 *   if (e instanceof BackendUnavailableError) console.log(e.backend, e.message); // "webgpu" "webgpu backend unavailable: ..."
 * }
 * ```
 */
export class BackendUnavailableError extends DeisError {
  /** The backend that could not be used. */
  readonly backend: string;
  /** Creates the error. */
  constructor(backend: string, message: string, options?: ErrorOptions) {
    super(`${backend} backend unavailable: ${message}`, options);
    this.name = "BackendUnavailableError";
    this.backend = backend;
  }
}

/**
 * A GPU command failed validation or ran out of memory.
 *
 * @example
 * ```ts
 * import { GpuError, loadModel, makePlan, sample } from "@seed/deis";
 * const model = await loadModel("models/gmm-2d");
 * try {
 *   await sample({ model, plan: makePlan({ steps: 10 }), n: 1024, backend: "webgpu" });
 * } catch (e) {
 *   if (e instanceof GpuError) console.error("GPU failure:", e.message);
 * } finally {
 *   await model.dispose();
 * }
 * ```
 */
export class GpuError extends DeisError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GpuError";
  }
}

/**
 * An object was used in a state that does not allow the call: a scheduler stepped after its last
 * evaluation, stepped again before the previous step settled, answered for another evaluation than
 * the one it waits for, or read before it finished.
 *
 * @example
 * ```ts
 * import { createScheduler, makePlan, StateError } from "@seed/deis";
 * const s = await createScheduler({ plan: makePlan({ steps: 2 }), sampleShape: [2] });
 * try {
 *   s.result(); // two evaluations are still due
 * } catch (e) {
 *   if (e instanceof StateError) console.log(e.operation, e.message);
 * } finally {
 *   s.dispose();
 * }
 * ```
 */
export class StateError extends DeisError {
  /** The call that was refused, e.g. `"step"` or `"result"`. */
  readonly operation: string;
  /** Creates the error for `operation`. */
  constructor(operation: string, message: string) {
    super(`${operation}: ${message}`);
    this.name = "StateError";
    this.operation = operation;
  }
}
