/**
 * The edge sampling service as a plain `(Request) → Response` handler, independent of how it is
 * served (see `server.ts`):
 *
 * - `POST /v1/samples` — JSON `{method, order, steps, grid, seed, n, lambda, rk, kappa, format, digit,
 *   guidance}` → `image/png` (the samples tiled and upscaled; the decoded images for a model with a
 *   decoder) or JSON `{shape, data, backend, nfe, ms, seed}` (plus `decodedShape, decoded` and
 *   `digit, guidance` where they apply); `digit` and `guidance` only for a class-conditional model;
 * - `GET /healthz` — model, queue and memory;
 * - anything else — 404 (unknown path) or 405 (wrong method).
 *
 * Every client mistake is a 4xx with a JSON body `{error, field, allowed}`: 400 for validation
 * (the plan fields are checked by the SDK's `makePlan`, whose `ConfigError` names the field),
 * 429 with `Retry-After` when the bounded queue is full. A client that goes away stops its
 * sampling run at the next step (its `AbortSignal`), and leaves the queue if it was waiting.
 *
 * @module
 */

import {
  AbortError,
  type Backend,
  ConfigError,
  createBackend,
  encodePng,
  makePlan,
  type Model,
  modelPlanConfig,
  normalizeConfig,
  NumericalError,
  type Plan,
  type PlanConfig,
  sample,
  tileSamples,
} from "../../mod.ts";
import { BoundedQueue, QueueAbortError, type QueueStats, type Release } from "./queue.ts";
import { checkBatchSize } from "../../src/limits.ts";
import { isImageShape } from "../../src/image/grid.ts";

/** Limits and policy of the service. */
export interface ServiceOptions {
  /**
   * The backend (default `wasm`, what edge isolates can run; `native` — onnxruntime-node — for
   * self-hosted servers, which then need `--allow-ffi`).
   */
  backend?: "wasm" | "native";
  /** Sampling runs at once (default 2; onnxruntime runs one network call at a time anyway). */
  concurrency?: number;
  /** Requests that may wait for a slot (default 6); beyond, 429. */
  queue?: number;
  /** Largest request body in bytes (default 16384). */
  maxBodyBytes?: number;
  /** Largest batch (default 64). */
  maxN?: number;
  /** Largest number of steps (default 1000). */
  maxSteps?: number;
  /** Largest number of network evaluations of a plan (default 1000; ρRK uses several per step). */
  maxNfe?: number;
  /** Time a request may spend queued + sampling before it is stopped with a 503 (default 120 s). */
  deadlineMs?: number;
  /** Where request lines go (default: stderr via console.error). */
  log?: (line: string) => void;
  /** How the onnxruntime WASM binary was provided, reported by /healthz. */
  ortWasm?: string;
  /** Throughput assumed until one is measured, in sample-evaluations per ms (the server measures it at warm-up). */
  unitsPerMs?: number;
  /** Per-evaluation overhead in samples: a request's work is nfe × (n + this) units (default 0). */
  overheadSamples?: number;
  /** Guidance scale of a class-conditional request without `guidance` (default: the manifest's `defaultGuidance`, else 2). */
  defaultGuidance?: number;
  /** Largest guidance scale a request may ask for (default 20). */
  maxGuidance?: number;
  /** Limits of the HTTP layer, reported by /healthz (the server fills them in). */
  http?: Record<string, number>;
  /** Counters of the HTTP layer, reported by /healthz. */
  httpStats?: () => unknown;
}

/** The request keys accepted by `POST /v1/samples`. */
export const REQUEST_KEYS = [
  "method",
  "order",
  "steps",
  "grid",
  "seed",
  "n",
  "lambda",
  "rk",
  "kappa",
  "format",
  "digit",
  "guidance",
] as const;

const PLAN_KEYS = [
  "method",
  "order",
  "steps",
  "grid",
  "lambda",
  "rk",
  "kappa",
] as const;

/** A client mistake: the HTTP status and the JSON error body. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field: string,
    readonly allowed: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    },
  });
}

function errorResponse(e: HttpError): Response {
  return json(e.status, {
    error: e.message,
    field: e.field,
    allowed: e.allowed,
  }, e.headers);
}

/** Reads at most `max` bytes of the body; a longer body is a 400 naming `body`. */
async function readBody(req: Request, max: number): Promise<Uint8Array> {
  const tooLarge = (size: string) =>
    new HttpError(
      400,
      `request body too large (${size}; the limit is ${max} bytes)`,
      "body",
      `a JSON object of at most ${max} bytes`,
    );
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > max) {
    // Drain a moderately oversized body so the connection stays usable; refuse huge ones unread.
    if (Number(declared) <= 16 * max) {
      await req.body?.pipeTo(new WritableStream()).catch(() => {});
    } else await req.body?.cancel().catch(() => {});
    throw tooLarge(`${declared} bytes`);
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await reader.read();
    } catch (e) {
      // the body stream failed: the client was too slow or went away; either way not a server fault
      if ((e as Error)?.name === "BodyTimeoutError") {
        throw new HttpError(408, (e as Error).message, "body", "the whole body within the time limit");
      }
      if ((e as Error)?.name === "BadBodyError") {
        throw new HttpError(400, (e as Error).message, "body", "a well-formed chunked body");
      }
      throw new HttpError(
        499,
        `the request body ended early: ${(e as Error)?.message ?? e}`,
        "body",
        "a complete body",
      );
    }
    const { done, value } = r;
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(`more than ${max} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/**
 * A log line made safe: control characters (CR, LF, ESC, …), the Unicode line separators and
 * non-ASCII characters are written as `\uXXXX`, so one request is always one line, whatever a
 * client sent.
 */
export function escapeLogLine(line: string): string {
  return line.replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function isInt(v: unknown, lo: number, hi: number): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi;
}

/** The validated request. */
interface SampleRequest {
  format: "png" | "json";
  n: number;
  seed: number;
  plan: Plan;
  planKey: string;
  /** The class of every sample, or of each (class-conditional models; absent: unconditional). */
  digit?: number | number[];
  /** The guidance scale, set whenever `digit` is. */
  guidance?: number;
}

/** The class-label input of a class-conditional model. */
export interface ClassInput {
  /** The ONNX input's name (e.g. `class_labels`). */
  name: string;
  /** Number of classes: labels are 0 … classes − 1; `classes` itself is the null (unconditional) label. */
  classes: number;
}

/**
 * The model's class input, if it has one: a single integer extra input, one scalar per sample, whose
 * `null` value is a positive integer — the convention of class-conditional diffusion models trained
 * for classifier-free guidance, where the null label is the number of classes (10 for MNIST).
 */
export function classInput(model: Pick<Model, "manifest">): ClassInput | undefined {
  const extras = model.manifest.extraInputs;
  if (extras.length !== 1) return undefined;
  const e = extras[0];
  if (e.dtype !== "int64" && e.dtype !== "int32") return undefined;
  if (e.shape.length !== 0) return undefined;
  if (!Number.isSafeInteger(e.null) || e.null! < 1 || e.null! > 100_000) return undefined;
  return { name: e.name, classes: e.null! };
}

/** Whether samples of this shape can be drawn as a picture (`[C, H, W]` with C = 1 or 3, `[H, W]`). */
/** The pixel upscale of one sample: tiles of about 64 px. */
function upscale(shape: readonly number[]): number {
  const side = Math.max(shape[shape.length - 1], shape[shape.length - 2]);
  return Math.min(8, Math.max(1, Math.round(64 / side)));
}

function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** A float32 value in its shortest decimal form that still rounds back to the same float32. */
function f32(v: number): number {
  return Number(v.toPrecision(9));
}

/** A sampling run of a backend (the SDK does not export the type by name). */
type Run = Awaited<ReturnType<Backend["open"]>>;

/**
 * Yields to the event loop (a `setTimeout(0)` macrotask, ~1–2 ms) at most every `everyMs` of
 * work, so that it can poll its I/O: new connections, client disconnects, timers. (A
 * `MessageChannel` round trip is cheaper but does not do it: Deno keeps delivering the message
 * without polling the sockets, so a disconnect went unnoticed for a whole run.)
 */
export class Yielder {
  readonly everyMs: number;
  #last = performance.now();

  /** Creates a yielder that yields at most every `everyMs` milliseconds (default 15). */
  constructor(everyMs = 15) {
    this.everyMs = everyMs;
  }

  /** Resolves at once, or on a later turn of the event loop when `everyMs` have passed. */
  async maybeYield(): Promise<void> {
    if (performance.now() - this.#last < this.everyMs) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.#last = performance.now();
  }
}

/**
 * The WASM (or, self-hosted, the native) backend, yielding to the event loop before every network
 * evaluation. Without it a sampling run never leaves the microtask queue (onnxruntime-web's WASM
 * `session.run` resolves without a macrotask), so during a run the server could neither accept
 * connections nor see a client go away, and `AbortSignal.timeout` could not fire.
 */
export async function yieldingBackend(yielder: Yielder, name: "wasm" | "native" = "wasm"): Promise<Backend> {
  const base = await createBackend(name);
  return {
    name: base.name,
    description: `${base.description}; yields to the event loop between evaluations`,
    async open(spec) {
      const run = await base.open(spec);
      const wrapped: Run = {
        get backend() {
          return run.backend;
        },
        get length() {
          return run.length;
        },
        get dtype() {
          return run.dtype;
        },
        get timings() {
          return run.timings;
        },
        get gpu() {
          return run.gpu;
        },
        upload: (slot, data) => run.upload(slot, data),
        evaluate: async (eps, x, ev) => {
          await yielder.maybeYield();
          await run.evaluate(eps, x, ev);
        },
        combine: (spec) => run.combine(spec),
        read: (slot) => run.read(slot),
        dispose: () => run.dispose(),
      };
      // the optional stages: `sample` asks the run whether it has them, so forward only those it has
      if (run.decode) {
        wrapped.decode = async (slot) => {
          await yielder.maybeYield();
          return await run.decode!(slot);
        };
      }
      if (run.peek) wrapped.peek = (slot) => run.peek!(slot);
      if (run.setKnown) wrapped.setKnown = (known, mask) => run.setKnown!(known, mask);
      if (run.blend) wrapped.blend = (spec) => run.blend!(spec);
      return wrapped;
    },
  };
}

/** The counters /healthz reports. */
export interface ServiceStats {
  queue: QueueStats;
  requests: number;
  byStatus: Record<string, number>;
  aborted: number;
}

/** The service: its handler and counters. */
export interface Service {
  /** Handles one request (never throws). */
  handler: (
    req: Request,
    info?: { remoteAddr?: Deno.Addr },
  ) => Promise<Response>;
  /** The counters. */
  stats(): ServiceStats;
  /**
   * Counts and logs (one escaped line) a response given outside the handler, e.g. by the HTTP
   * layer (408, 431, 503 at the connection cap); status 0 logs a line without counting.
   */
  record(status: number, method: string, path: string, ms: number, note: string, who: string): void;
}

/** Builds the service around a loaded model (whose WASM session should already be warm). */
export async function createService(
  model: Model,
  options: ServiceOptions = {},
): Promise<Service> {
  const yielder = new Yielder();
  const backend = await yieldingBackend(yielder, options.backend ?? "wasm");
  const maxBody = options.maxBodyBytes ?? 16_384;
  const maxN = options.maxN ?? 64;
  const maxSteps = options.maxSteps ?? 1000;
  const maxNfe = options.maxNfe ?? 1000;
  const deadlineMs = options.deadlineMs ?? 120_000;
  const log = options.log ?? ((line: string) => console.error(line));
  const queue = new BoundedQueue(options.concurrency ?? 2, options.queue ?? 6, options.unitsPerMs ?? 1);
  const shape = model.sampleShape;
  const decoder = model.manifest.decoder;
  // what a PNG shows: the decoded images when the model has a decoder, else the samples themselves
  const outShape = decoder ? decoder.outputShape : shape;
  const imageOk = isImageShape(outShape);
  const scale = imageOk ? upscale(outShape) : 1;
  const range = (decoder ? decoder.dataRange : model.manifest.dataRange) ?? [-1, 1];
  const classes = classInput(model);
  const maxGuidance = options.maxGuidance ?? 20;
  const defaultGuidance = options.defaultGuidance ?? model.manifest.defaultGuidance ?? 2;
  const started = Date.now();
  const byStatus: Record<string, number> = {};
  let requests = 0;
  let aborted = 0;
  const plans = new Map<string, Plan>();

  const planError = (e: unknown): never => {
    if (e instanceof ConfigError) {
      throw new HttpError(400, e.message, e.field, e.allowed);
    }
    if (e instanceof NumericalError) {
      // makePlan's float64 overflow check: the request's settings, not the server
      throw new HttpError(
        400,
        e.message,
        "plan",
        "settings whose grid and coefficients are finite in float64",
      );
    }
    throw e;
  };

  function planFor(body: Record<string, unknown>): { plan: Plan; key: string } {
    const picked: Record<string, unknown> = {};
    for (const k of PLAN_KEYS) if (body[k] !== undefined) picked[k] = body[k];
    // The model's SDE and T, ε; for a diffusers-layout model also its own grid with its scheduler's
    // timestep spacing, unless the request names another grid (the spacing applies to that grid
    // only, so merging it over a request's grid would refuse every such request).
    if (picked.grid === "diffusers" && model.manifest.scheduler) delete picked.grid;
    const cfg = modelPlanConfig(model, picked as PlanConfig);
    // the cache is keyed on the validated, normalized config: a request is validated the same
    // way whether its plan is cached or not (null, 1e999, a wrong type are never "absent")
    let key: string;
    try {
      key = JSON.stringify(normalizeConfig(cfg as PlanConfig));
    } catch (e) {
      return planError(e);
    }
    let plan = plans.get(key);
    if (plan) {
      plans.delete(key); // LRU: re-insert as newest
    } else {
      try {
        plan = makePlan(cfg as PlanConfig);
      } catch (e) {
        return planError(e);
      }
      if (plans.size >= 64) plans.delete(plans.keys().next().value!);
    }
    plans.set(key, plan);
    return { plan, key };
  }

  function parse(body: Uint8Array): SampleRequest {
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(body);
    } catch {
      throw new HttpError(
        400,
        "request body is not UTF-8",
        "body",
        "a UTF-8 JSON object",
      );
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new HttpError(
        400,
        `malformed JSON: ${(e as Error).message}`,
        "body",
        "a JSON object",
      );
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      throw new HttpError(
        400,
        "the body must be a JSON object",
        "body",
        "a JSON object",
      );
    }
    const b = raw as Record<string, unknown>;
    for (const k of Object.keys(b)) {
      if (!(REQUEST_KEYS as readonly string[]).includes(k)) {
        throw new HttpError(
          400,
          `unknown key ${JSON.stringify(k.slice(0, 40))}`,
          k.slice(0, 40),
          `one of the keys ${REQUEST_KEYS.join(", ")}`,
        );
      }
    }
    const format = b.format ?? "png";
    if (format !== "png" && format !== "json") {
      throw new HttpError(
        400,
        "format: unknown output format",
        "format",
        '"png" or "json"',
      );
    }
    if (format === "png" && !imageOk) {
      throw new HttpError(
        400,
        `format: ${decoder ? "decoded samples" : "samples"} of shape [${outShape}] are not images`,
        "format",
        '"json" for this model',
      );
    }
    const cond = classFields(b);
    const n = b.n ?? (Array.isArray(cond.digit) ? cond.digit.length : 16);
    if (!isInt(n, 1, maxN)) {
      throw new HttpError(
        400,
        "n: out of range",
        "n",
        `an integer in [1, ${maxN}]`,
      );
    }
    const seed = b.seed ?? randomSeed();
    if (!isInt(seed, 0, Number.MAX_SAFE_INTEGER)) {
      throw new HttpError(
        400,
        "seed: out of range",
        "seed",
        `an integer in [0, ${Number.MAX_SAFE_INTEGER}]`,
      );
    }
    if (b.steps !== undefined && !isInt(b.steps, 1, maxSteps)) {
      throw new HttpError(
        400,
        "steps: out of range",
        "steps",
        `an integer in [1, ${maxSteps}]`,
      );
    }
    if (Array.isArray(cond.digit) && cond.digit.length !== n) {
      throw new HttpError(
        400,
        `digit: ${cond.digit.length} digits for n = ${n} samples`,
        "digit",
        `${digitAllowed()}, or an array of n = ${n} of them`,
      );
    }
    const { plan, key } = planFor(b);
    try {
      checkBatchSize(n, shape);
    } catch (e) {
      planError(e);
    }
    if (plan.nfe > maxNfe) {
      const perStep = plan.nfe / plan.steps;
      throw new HttpError(
        400,
        `steps: the plan needs ${plan.nfe} network evaluations (${perStep} per step)`,
        "steps",
        `at most ${Math.floor(maxNfe / perStep)} steps for this method (${maxNfe} evaluations)`,
      );
    }
    return { format, n, seed, plan, planKey: key, ...cond };
  }

  const digitAllowed = () => `an integer in [0, ${classes!.classes - 1}]`;

  /**
   * `digit` and `guidance`, validated before the plan cache is consulted (like the plan fields), so
   * that a bad value is a 400 whatever is cached. Without `digit` the samples are unconditional
   * (the model's null label), where a guidance scale would have nothing to act on.
   */
  function classFields(b: Record<string, unknown>): { digit?: number | number[]; guidance?: number } {
    if (!classes) {
      for (const field of ["digit", "guidance"]) {
        if (b[field] !== undefined) {
          throw new HttpError(
            400,
            `${field}: model ${model.name} has no class conditioning`,
            field,
            "absent for this model (it is not class-conditional)",
          );
        }
      }
      return {};
    }
    const digit = b.digit;
    if (digit !== undefined) {
      const one = (v: unknown) => isInt(v, 0, classes.classes - 1);
      const ok = one(digit) ||
        (Array.isArray(digit) && digit.length >= 1 && digit.length <= maxN && digit.every(one));
      if (!ok) {
        throw new HttpError(
          400,
          "digit: not a class of this model",
          "digit",
          `${digitAllowed()}, or an array of n such integers (1 ≤ n ≤ ${maxN})`,
        );
      }
    }
    const guidance = b.guidance;
    if (guidance !== undefined) {
      if (typeof guidance !== "number" || !(guidance >= 0 && guidance <= maxGuidance)) {
        throw new HttpError(400, "guidance: out of range", "guidance", `a number in [0, ${maxGuidance}]`);
      }
      if (digit === undefined) {
        throw new HttpError(
          400,
          "guidance: needs digit (unconditional samples have no guidance)",
          "guidance",
          "absent unless digit is given",
        );
      }
    }
    if (digit === undefined) return {};
    return { digit: digit as number | number[], guidance: (guidance as number | undefined) ?? defaultGuidance };
  }

  async function samples(req: Request, note: string[]): Promise<Response> {
    const type = (req.headers.get("content-type") ?? "").split(";")[0].trim()
      .toLowerCase();
    if (type !== "application/json") {
      throw new HttpError(
        400,
        `content-type ${JSON.stringify(type || "(none)")} is not JSON`,
        "content-type",
        "application/json",
      );
    }
    const r = parse(await readBody(req, maxBody));
    note.push(
      `n=${r.n} steps=${r.plan.steps} method=${r.plan.method} nfe=${r.plan.nfe} format=${r.format}`,
    );
    if (r.digit !== undefined) note.push(`digit=${[r.digit].flat().join(",")} guidance=${r.guidance}`);
    // w = 1 is the conditional output alone: skip the unconditional half of the batch
    const guided = r.digit !== undefined && r.guidance !== 1;
    // a plain timer cleared when the request ends (rather than AbortSignal.timeout, whose timer
    // lingers for deadlineMs after every request)
    const deadlineCtl = new AbortController();
    const deadline = deadlineCtl.signal;
    const timer = setTimeout(
      () =>
        deadlineCtl.abort(
          new DOMException("deadline exceeded", "TimeoutError"),
        ),
      deadlineMs,
    );
    const signal = AbortSignal.any([req.signal, deadline]);
    const queuedAt = performance.now();
    // work in units of one sample through one network evaluation, for the Retry-After estimate
    const perEval = (guided ? 2 * r.n : r.n) + (options.overheadSamples ?? 0);
    const units = perEval * r.plan.nfe;
    const slot = queue.acquire(signal, units);
    if (!slot) {
      clearTimeout(timer);
      const s = queue.retryAfterSeconds();
      throw new HttpError(
        429,
        `busy: ${queue.running} running and ${queue.waiting} waiting`,
        "queue",
        `at most ${queue.concurrency} running and ${queue.capacity} waiting; retry after ${s} s`,
        { "retry-after": String(s) },
      );
    }
    let release: Release | undefined;
    try {
      release = await slot;
      const waitMs = performance.now() - queuedAt;
      const result = await sample({
        model,
        plan: r.plan,
        n: r.n,
        seed: r.seed,
        backend,
        signal,
        ...(r.digit !== undefined ? { conditioning: { [classes!.name]: r.digit } } : {}),
        ...(guided ? { guidance: r.guidance } : {}),
        onProgress: (p) => release?.progress(perEval * p.nfe),
      });
      release();
      release = undefined;
      const ms = Math.round(result.timings.total * 10) / 10;
      note.push(`seed=${r.seed} wait=${waitMs.toFixed(0)}ms sample=${ms}ms`);
      const headers = {
        "x-seed": String(r.seed),
        "x-nfe": String(result.nfe),
        "x-backend": result.backend,
        "x-sample-ms": String(ms),
        "x-queue-ms": waitMs.toFixed(1),
      };
      const images = result.decoded && result.decodedShape
        ? { data: result.decoded, shape: result.decodedShape }
        : { data: result.data, shape: result.shape };
      if (r.format === "png") {
        const png = encodePng(
          tileSamples(images.data, images.shape, { scale, range }),
        );
        return new Response(png as Uint8Array<ArrayBuffer>, {
          headers: {
            "content-type": "image/png",
            "cache-control": "no-store",
            ...headers,
          },
        });
      }
      const data = result.data instanceof Float32Array ? Array.from(result.data, f32) : Array.from(result.data);
      return json(200, {
        shape: result.shape,
        data,
        ...(result.decoded ? { decodedShape: result.decodedShape, decoded: Array.from(result.decoded, f32) } : {}),
        ...(r.digit !== undefined ? { digit: r.digit, guidance: r.guidance } : {}),
        backend: result.backend,
        nfe: result.nfe,
        ms,
        seed: r.seed,
      }, headers);
    } catch (e) {
      if (e instanceof AbortError || e instanceof QueueAbortError) {
        if (req.signal.aborted) {
          note.push("client went away: sampling stopped");
          return new Response(null, { status: 499 });
        }
        if (deadline.aborted) {
          const s = queue.retryAfterSeconds();
          return json(503, {
            error: `deadline of ${deadlineMs} ms exceeded (queued + sampling); the run was stopped`,
            field: "queue",
            allowed: `requests that finish within ${deadlineMs} ms`,
          }, { "retry-after": String(s) });
        }
      }
      if (e instanceof ConfigError) {
        throw new HttpError(400, e.message, e.field, e.allowed);
      }
      throw e;
    } finally {
      clearTimeout(timer);
      release?.();
    }
  }

  function stats(): ServiceStats {
    return {
      queue: queue.stats(),
      requests,
      byStatus: { ...byStatus },
      aborted,
    };
  }

  function health(req: Request): Response {
    const body = {
      status: "ok",
      modelLoaded: true,
      model: {
        name: model.name,
        source: model.source,
        sampleShape: model.sampleShape,
        dtype: model.dtype,
        dataRange: model.manifest.dataRange ?? [-1, 1],
        decoder: decoder ? { outputShape: decoder.outputShape, dataRange: range } : null,
        classes: classes ? { input: classes.name, classes: classes.classes, defaultGuidance, maxGuidance } : null,
      },
      backend: backend.name,
      ortWasm: options.ortWasm,
      queue: queue.stats(),
      requests,
      byStatus,
      aborted,
      limits: { maxBodyBytes: maxBody, maxN, maxSteps, maxNfe, deadlineMs, ...options.http },
      http: options.httpStats?.(),
      memory: Deno.memoryUsage(),
      uptimeS: Math.round((Date.now() - started) / 100) / 10,
    };
    const res = json(200, body);
    return req.method === "HEAD" ? new Response(null, { headers: res.headers }) : res;
  }

  async function route(
    req: Request,
    path: string,
    note: string[],
  ): Promise<Response> {
    if (path === "/v1/samples") {
      if (req.method !== "POST") {
        throw new HttpError(
          405,
          `method ${req.method} not allowed`,
          "method",
          "POST",
          {
            allow: "POST",
          },
        );
      }
      return await samples(req, note);
    }
    if (path === "/healthz") {
      if (req.method !== "GET" && req.method !== "HEAD") {
        throw new HttpError(
          405,
          `method ${req.method} not allowed`,
          "method",
          "GET, HEAD",
          {
            allow: "GET, HEAD",
          },
        );
      }
      return health(req);
    }
    throw new HttpError(
      404,
      `no route ${path.slice(0, 80)}`,
      "path",
      "/v1/samples, /healthz",
    );
  }

  async function handler(
    req: Request,
    info?: { remoteAddr?: Deno.Addr },
  ): Promise<Response> {
    const t0 = performance.now();
    const note: string[] = [];
    let path = "?";
    let res: Response;
    try {
      path = new URL(req.url).pathname;
      res = await route(req, path, note);
    } catch (e) {
      if (e instanceof HttpError) {
        res = errorResponse(e);
        note.push(`field=${e.field}`);
      } else {
        res = json(500, { error: "internal error", field: "", allowed: "" });
        note.push(
          `error=${JSON.stringify(String((e as Error)?.message ?? e).slice(0, 300))}`,
        );
      }
    }
    const addr = info?.remoteAddr;
    const who = addr && "hostname" in addr ? addr.hostname : "-";
    record(res.status, req.method, path, performance.now() - t0, note.join(" "), who);
    return res;
  }

  function record(status: number, method: string, path: string, ms: number, note: string, who: string): void {
    if (status > 0) {
      requests++;
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      if (status === 499) aborted++;
    }
    log(escapeLogLine(
      `${new Date().toISOString()} ${who} ${method} ${path.slice(0, 80)} ${status || "---"} ${ms.toFixed(1)}ms${
        note ? " " + note : ""
      }`,
    ));
  }

  return { handler, stats, record };
}
