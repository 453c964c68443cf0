/**
 * The CPU backends' registers live in the memory of a small WebAssembly module (`assembly/kernels/`),
 * whose kernels do the register update (`combine`, the conversion of a network output into ε) and
 * draw the Gaussian noise (src/backends/noise.ts defines it).
 * Same arithmetic as documented in docs/CONVENTIONS.md (float64 accumulation, one rounding on the
 * store); four float32 lanes at a time. The registers are typed-array views, so the network reads
 * its input straight from them.
 *
 * Each run takes one module instance from a small pool and gives it back when disposed: a memory per
 * run would leave growing address-space reservations to the garbage collector under a busy server.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { decodeBase64 } from "../util/base64.ts";
import { KERNELS_WASM_BASE64 } from "./kernels_wasm.ts";

interface KernelExports {
  heapBase(): number;
  combine(dst: number, length: number, table: number, count: number, acc: number, noisy: number, f64: number): void;
  epsFromOutput(
    dst: number,
    x: number,
    out: number,
    length: number,
    p: number,
    qc: number,
    qu: number,
    groups: number,
    f64: number,
  ): number;
  gaussian(
    out: number,
    count: number,
    offset: number,
    k0: number,
    k1: number,
    stream: number,
    step: number,
    scale: number,
    f32out: number,
  ): void;
  SOURCE_BYTES: WebAssembly.Global;
  PER_PASS: WebAssembly.Global;
}

/** A kernel module instance and its memory. @internal */
export interface Instance {
  memory: WebAssembly.Memory;
  exports: KernelExports;
  /** Whether an earlier run wrote to the memory (a fresh memory is zeros). */
  used: boolean;
}

type Vec = Float32Array | Float64Array;

const PAGE = 65536;
/** Idle instances kept for reuse (more than a busy server's concurrent runs rarely helps). */
const POOL_SIZE = 8;
/** Memories above this size are left to the garbage collector instead of being pooled. */
const POOL_MAX_BYTES = 64 * 1024 * 1024;
/** Source-table entries: far more than any program's combine lists. */
const TABLE_ENTRIES = 64;
/** Bytes per source-table entry (u32 address, padding, f64 coefficient): the kernels' `SOURCE_BYTES`. */
const SOURCE_BYTES = 16;
/** Sources the combine kernel reads per pass: the kernels' `PER_PASS`. */
const PER_PASS = 6;

let module: WebAssembly.Module | undefined;
const idle: Instance[] = [];

function instantiate(): Instance {
  module ??= new WebAssembly.Module(decodeBase64(KERNELS_WASM_BASE64) as BufferSource);
  const memory = new WebAssembly.Memory({ initial: 1 });
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
  if (exports.SOURCE_BYTES.value !== SOURCE_BYTES || exports.PER_PASS.value !== PER_PASS) {
    throw new Error("kernels_wasm.ts does not match kernels.ts's table layout: run `deno task build:wasm`");
  }
  return { memory, exports, used: false };
}

const align = (bytes: number) => Math.ceil(bytes / 16) * 16;

/**
 * An instance with at least `bytes` of memory past its static data, from the pool or new; returns
 * it and the first free address. Give it back with {@link releaseInstance}. @internal
 */
export function acquireInstance(bytes: number): { inst: Instance; base: number } {
  const inst = idle.pop() ?? instantiate();
  const base = align(inst.exports.heapBase());
  const have = inst.memory.buffer.byteLength;
  if (base + bytes > have) {
    try {
      inst.memory.grow(Math.ceil((base + bytes - have) / PAGE));
    } catch (e) {
      releaseInstance(inst);
      const mib = Math.ceil((base + bytes) / 2 ** 20);
      throw new ConfigError(
        "n",
        "a batch whose registers fit in one WebAssembly memory (at most 4 GiB)",
        `a batch needing ${mib} MiB`,
        `the batch's registers need ${mib} MiB of WebAssembly memory, which could not be had (${(e as Error).message})`,
      );
    }
  }
  return { inst, base };
}

/** Returns an instance to the pool (unless the pool is full or its memory is large). @internal */
export function releaseInstance(inst: Instance): void {
  inst.used = true;
  if (idle.length < POOL_SIZE && inst.memory.buffer.byteLength <= POOL_MAX_BYTES) idle.push(inst);
}

/** What a run's register file holds. */
export interface RegisterLayout {
  /** Elements per register (n × sample size). */
  length: number;
  /** x registers. */
  xSlots: number;
  /** ε registers. */
  epsSlots: number;
  /** Network outputs per evaluation (2 with guidance). */
  outGroups: number;
  /** float64 registers (else float32). */
  f64: boolean;
}

/** A source of a combine: register kind, slot and coefficient. */
export interface CombineSource {
  kind: "x" | "eps";
  slot: number;
  coef: number;
}

/**
 * A run's registers (x and ε), the network-output staging area and the float64 accumulator (which
 * also receives noise), with the kernels over them.
 */
export class RegisterFile {
  readonly length: number;
  readonly f64: boolean;
  /** The x registers. */
  readonly x: Vec[];
  /** The ε registers. */
  readonly eps: Vec[];
  /** The float64 accumulator of `combine`; noise is drawn into it before a noisy combine. */
  readonly acc: Float64Array;
  /** Where a network output is copied before {@link epsFromOutput} (`outGroups × length`). */
  readonly out: Vec;
  readonly #inst: Instance;
  readonly #xPtr: number[];
  readonly #epsPtr: number[];
  readonly #accPtr: number;
  readonly #outPtr: number;
  readonly #table: number;
  readonly #tableView: DataView;
  readonly #capacity: number;
  #released = false;

  constructor(layout: RegisterLayout) {
    const { length, xSlots, epsSlots, outGroups, f64 } = layout;
    this.length = length;
    this.f64 = f64;
    const size = f64 ? 8 : 4;
    const capacity = Math.max(TABLE_ENTRIES, xSlots + epsSlots + 2);
    // the kernel reads PER_PASS sources at a time: room for a partial last group past the capacity
    const tableBytes = (capacity + PER_PASS) * SOURCE_BYTES;
    const bytes = (xSlots + epsSlots + outGroups) * align(length * size) + align(length * 8) + tableBytes;
    const { inst, base: start } = acquireInstance(bytes);
    this.#inst = inst;
    let top = start;
    const take = (bytes: number) => {
      const at = top;
      top = align(top + bytes);
      return at;
    };
    this.#xPtr = Array.from({ length: xSlots }, () => take(length * size));
    this.#epsPtr = Array.from({ length: epsSlots }, () => take(length * size));
    this.#outPtr = take(outGroups * length * size);
    this.#accPtr = take(length * 8);
    this.#capacity = capacity;
    this.#table = take(tableBytes);
    const buffer = inst.memory.buffer as ArrayBuffer;
    // A reused instance holds the previous run's numbers; a run starts from zeros like fresh arrays.
    if (inst.used) new Uint8Array(buffer, start, top - start).fill(0);
    const Arr = f64 ? Float64Array : Float32Array;
    this.x = this.#xPtr.map((p) => new Arr(buffer, p, length));
    this.eps = this.#epsPtr.map((p) => new Arr(buffer, p, length));
    this.out = new Arr(buffer, this.#outPtr, outGroups * length);
    this.acc = new Float64Array(buffer, this.#accPtr, length);
    this.#tableView = new DataView(buffer, this.#table, this.#capacity * SOURCE_BYTES);
  }

  /**
   * `x[dst] = (acc if noisy, else 0) + Σ coef·source` in float64, in the listed order, rounded once on
   * the store. `dst` may be among the sources.
   */
  combine(dst: number, sources: readonly CombineSource[], noisy: boolean): void {
    if (sources.length > this.#capacity) {
      throw new RangeError(`a combine of ${sources.length} sources exceeds the table (${this.#capacity})`);
    }
    sources.forEach((s, k) => {
      const ptr = (s.kind === "x" ? this.#xPtr : this.#epsPtr)[s.slot];
      this.#tableView.setUint32(k * SOURCE_BYTES, ptr, true);
      this.#tableView.setFloat64(k * SOURCE_BYTES + 8, s.coef, true);
    });
    this.#inst.exports.combine(
      this.#xPtr[dst],
      this.length,
      this.#table,
      sources.length,
      this.#accPtr,
      noisy ? 1 : 0,
      this.f64 ? 1 : 0,
    );
  }

  /**
   * `eps[dst] = p·x[x] + qc·out + qu·out₂` from the output staged in {@link out} (the second group
   * with guidance), rounded once on the store. Returns the count of NaN/±Inf output elements.
   */
  epsFromOutput(dst: number, x: number, map: { p: number; qc: number; qu?: number }, groups: number): number {
    return this.#inst.exports.epsFromOutput(
      this.#epsPtr[dst],
      this.#xPtr[x],
      this.#outPtr,
      this.length,
      map.p,
      map.qc,
      map.qu ?? 0,
      groups,
      this.f64 ? 1 : 0,
    );
  }

  /**
   * Draws `scale·z` of draw (stream, step), z as defined in src/backends/noise.ts, into the
   * accumulator {@link acc} (the noise of a noisy combine or a blend), or straight into x register
   * `dst` (rounded once, as a combine of the noise alone would store it).
   */
  gaussian(key: readonly [number, number], stream: number, step: number, scale: number, dst?: number): void {
    const into = dst === undefined ? this.#accPtr : this.#xPtr[dst];
    const f32 = dst !== undefined && !this.f64 ? 1 : 0;
    this.#inst.exports.gaussian(into, this.length, 0, key[0], key[1], stream, step, scale, f32);
  }

  /** Gives the memory back to the pool; the views must not be used afterwards. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    releaseInstance(this.#inst);
  }
}
