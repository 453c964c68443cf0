/**
 * The WebAssembly coefficient engine: instantiation and the typed calls into it. Callers hand in
 * validated input; this layer only moves numbers in and out of linear memory.
 *
 * @module
 */

import { decodeBase64 } from "../util/base64.ts";
import { ENGINE_WASM_BASE64 } from "./wasm_bytes.ts";

/** The raw exports of the compiled `assembly/` module. */
export interface EngineExports {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  markPersistent(): void;
  resetAll(): void;
  resetScratch(): void;
  setVpLinear(betaMin: number, betaMax: number): void;
  setVpCosine(): void;
  setVe(sigmaMin: number, sigmaMax: number): void;
  setVpDiscrete(ptr: number, n: number): void;
  buildGrid(
    kind: number,
    steps: number,
    tStart: number,
    tEnd: number,
    kappa: number,
    out: number,
  ): void;
  prepareGrid(steps: number, times: number): void;
  evalSchedule(
    times: number,
    n: number,
    outAlphaBar: number,
    outRho: number,
  ): void;
  buildRows(
    method: number,
    order: number,
    steps: number,
    out: number,
    quadratureRhoab: number,
  ): void;
  buildStochastic(
    lambda: number,
    steps: number,
    out: number,
    noise: number,
  ): void;
  buildRk(id: number, steps: number, stages: number, rows: number): void;
  rkStages(id: number): number;
  buildDpmpp(order: number, steps: number, out: number): void;
  buildUnipc(order: number, variant: number, steps: number, pred: number, corr: number): void;
  /** Order used at step k: method 0 = dpmpp, 1 = unipc (warm start, lower order at the end). */
  dataStepOrder(method: number, order: number, steps: number, k: number): number;
  /** The engine's method ids (`M_*` in assembly/tables.ts), checked against the registry by a test. */
  [id: `M_${string}`]: WebAssembly.Global;
}

let module: WebAssembly.Module | undefined;
let instance: EngineExports | undefined;

/** Compiles the engine module once (synchronously: it is small). */
function engineModule(): WebAssembly.Module {
  module ??= new WebAssembly.Module(
    decodeBase64(ENGINE_WASM_BASE64) as BufferSource,
  );
  return module;
}

/**
 * Returns the engine, instantiating it on first use.
 *
 * @example
 * ```ts
 * import { engine } from "./engine.ts";
 * const e = engine();
 * e.setVpLinear(0.1, 20);
 * console.log(e.M_TAB.value); // 1
 * ```
 */
export function engine(): EngineExports {
  instance ??= new WebAssembly.Instance(engineModule())
    .exports as unknown as EngineExports;
  return instance;
}

/** Instantiates a fresh, independent engine (used to time instantiation). */
export function instantiateEngine(): EngineExports {
  return new WebAssembly.Instance(engineModule())
    .exports as unknown as EngineExports;
}

/** Copies `values` into engine memory at a fresh allocation and returns its address. */
export function pushArray(e: EngineExports, values: ArrayLike<number>): number {
  const ptr = e.alloc(values.length * 8);
  new Float64Array(e.memory.buffer, ptr, values.length).set(values);
  return ptr;
}

/** Allocates `n` doubles and returns the address. */
export function allocArray(e: EngineExports, n: number): number {
  return e.alloc(n * 8);
}

/** Reads `n` doubles at `ptr` into a fresh Float64Array. */
export function readArray(
  e: EngineExports,
  ptr: number,
  n: number,
): Float64Array {
  return new Float64Array(e.memory.buffer, ptr, n).slice();
}
