/**
 * The CPU backends: registers are typed arrays and the update is a plain loop.
 *
 * - `wasm`: the network runs on onnxruntime-web's WASM execution provider; registers have the
 *   manifest's dtype (float32 values are rounded once per update, like the GPU's).
 * - `native`: the same registers and update, the network on onnxruntime-node's CPU execution
 *   provider (Deno and Node processes).
 * - `cpu`: a plain JS ε function in float64, for convergence tests on exact models without ONNX
 *   float32 noise.
 *
 * A network output of the wrong shape or with a NaN/Inf raises a {@link ModelError} at once.
 *
 * @module
 */

import { AbortError, BackendUnavailableError, ConfigError, ModelError } from "../errors.ts";
import { loadNativeOrt, nativeUnavailableReason } from "../runtime/ort_native.ts";
import { intraOpThreads } from "../runtime/settings.ts";
import { seedWords } from "./noise.ts";
import { dataMap, predictionToEps } from "../model/convert.ts";
import { type Ort, ortFor, type OrtTensor } from "../runtime/ort.ts";
import { networkInput, outputValues } from "../model/boundary.ts";
import type {
  Backend,
  BackendName,
  BlendSpec,
  CombineSpec,
  EpsSource,
  Evaluation,
  Run,
  RunSpec,
  RunTimings,
} from "./types.ts";
import { blendHost, decodeHost } from "./pipeline_host.ts";
import { type CombineSource, RegisterFile } from "./kernels.ts";

/**
 * A combine's sources in order: `a·dst`, `c·src` (folded into `a` when src is dst), the terms; zero
 * coefficients dropped.
 */
function sourcesOf(spec: CombineSpec): CombineSource[] {
  let a = spec.a;
  let src = spec.src;
  if (src && src.slot === spec.dst) {
    a += src.coef;
    src = undefined;
  }
  const list: CombineSource[] = [];
  if (a !== 0) list.push({ kind: "x", slot: spec.dst, coef: a });
  if (src && src.coef !== 0) list.push({ kind: "x", slot: src.slot, coef: src.coef });
  for (const t of spec.terms) if (t.coef !== 0) list.push({ kind: "eps", slot: t.slot, coef: t.coef });
  return list;
}

class CpuRun implements Run {
  readonly backend: BackendName;
  readonly dtype: "float32" | "float64";
  readonly length: number;
  readonly timings: RunTimings = { network: 0, update: 0, readback: 0 };
  readonly #source: EpsSource;
  readonly #n: number;
  readonly #key: [number, number];
  readonly #regs: RegisterFile;
  readonly #extra: Record<string, OrtTensor>;
  readonly #groups: number;
  readonly #session: "wasm" | "native";
  #known?: { known: Float64Array; mask: Float64Array };
  #disposed = false;
  #networkBusy = false;
  #outTensor?: OrtTensor;
  readonly #inputs = new Map<number, OrtTensor>();

  constructor(backend: BackendName, spec: RunSpec) {
    this.backend = backend;
    this.#source = spec.source;
    this.#n = spec.n;
    this.#key = seedWords(spec.seed);
    const src = spec.source;
    const sampleSize = src.kind === "model" ? src.model.sampleSize : src.sampleShape.reduce((a, b) => a * b, 1);
    this.dtype = src.kind === "model" ? src.model.dtype : src.kind === "network" ? "float32" : "float64";
    this.length = spec.n * sampleSize;
    this.#groups = src.kind === "model" && src.guidance ? 2 : 1;
    this.#session = backend === "native" ? "native" : "wasm";
    this.#extra = src.kind === "model"
      ? src.model.extraFeeds(this.#session, spec.n, src.conditioning, src.guidance)
      : {};
    this.#regs = new RegisterFile({
      length: this.length,
      xSlots: spec.xSlots,
      epsSlots: spec.epsSlots,
      outGroups: this.#groups,
      f64: this.dtype === "float64",
    });
  }

  #check(): void {
    if (this.#disposed) throw new AbortError("the run was disposed");
  }

  upload(slot: number, data: ArrayLike<number>): void {
    this.#check();
    if (data.length !== this.length) {
      throw new ConfigError(
        "init",
        `${this.length} values (n × sample size)`,
        data,
      );
    }
    this.#regs.x[slot].set(data);
  }

  async evaluate(eps: number, x: number, ev: Evaluation): Promise<void> {
    this.#check();
    const src = this.#source;
    const L = this.length;
    const xv = this.#regs.x[x];
    const dst = this.#regs.eps[eps];
    const where = () => `at evaluation ${ev.index} (step ${ev.step}, t = ${ev.t})`;
    if (src.kind === "network") {
      const t0 = performance.now();
      const out = await src.fn((xv as Float32Array).slice(), ev);
      this.timings.network += performance.now() - t0;
      this.#check();
      const name = src.name ?? "network-function";
      if (!out || out.length !== L) {
        throw new ModelError(name, `returned ${out?.length ?? out} values ${where()}; expected ${L}`, "model");
      }
      const m = predictionToEps(src.prediction, ev);
      const { p, qc } = ev.output === "x0" ? dataMap({ p: m.p, qc: m.q, qu: 0 }, ev) : { p: m.p, qc: m.q };
      let bad = 0;
      for (let i = 0; i < L; i++) {
        const v = out[i];
        if (typeof v !== "number" || v - v !== 0) bad++;
        dst[i] = p * xv[i] + qc * v;
      }
      if (bad > 0) throw new ModelError(name, `returned ${bad} non-finite value(s) ${where()}`, "model");
      return;
    }
    if (src.kind === "function") {
      const t0 = performance.now();
      const out = src.fn(xv as Float64Array, new Array(this.#n).fill(ev.t));
      this.timings.network += performance.now() - t0;
      const name = src.name ?? "eps-function";
      if (!out || out.length !== L) {
        throw new ModelError(
          name,
          `returned ${out?.length ?? out} values ${where()}; expected ${L}`,
          "eps",
        );
      }
      for (let i = 0; i < L; i++) {
        const v = out[i];
        if (!Number.isFinite(v)) {
          throw new ModelError(
            name,
            `returned a non-finite value (${v}) ${where()}`,
            "eps",
          );
        }
        dst[i] = v;
      }
      if (ev.output === "x0") {
        const { p, qc } = dataMap({ p: 0, qc: 1, qu: 0 }, ev);
        for (let i = 0; i < L; i++) dst[i] = p * xv[i] + qc * dst[i];
      }
      return;
    }
    if (src.kind === "gpu-network") {
      throw new ConfigError("backend", '"webgpu" for a network on GPU buffers', this.backend);
    }
    const model = src.model;
    const m = model.manifest;
    const batch = this.#groups * this.#n;
    const ort = ortFor(this.#session);
    const feeds: Record<string, OrtTensor> = {
      ...this.#extra,
      [m.inputs.x]: this.#input(ort, x, model.inputScale(ev)),
      [m.inputs.t]: model.timeTensor(this.#session, ev, batch),
    };
    const t0 = performance.now();
    // The input may be a view of a register: the memory goes back to the pool only after the call.
    this.#networkBusy = true;
    let out: OrtTensor, filled: boolean;
    try {
      ({ out, filled } = await model.runInto(this.#session, feeds, this.#outputTensor(ort)));
    } finally {
      this.#networkBusy = false;
      if (this.#disposed) this.#regs.release();
    }
    const t1 = performance.now();
    this.timings.network += t1 - t0;
    try {
      this.#check();
      // The output is staged in the kernels' memory, then one kernel pass converts it and counts
      // non-finite values (a bad output fails the run, so what was written meanwhile does not
      // matter). onnxruntime fills the staging tensor only when the output has its shape and type;
      // otherwise it is checked and copied (float16 widens exactly).
      if (!filled) {
        model.checkOutput(out, batch, where);
        this.#regs.out.set(outputValues(out));
      }
      const bad = this.#regs.epsFromOutput(eps, x, model.valueMap(ev, src.guidance?.scale), this.#groups);
      if (bad > 0) throw model.nonFiniteError(where, bad);
    } finally {
      out.dispose();
      this.timings.update += performance.now() - t1;
    }
  }

  /**
   * The network's x input from register `x`. A tensor over the register itself (no conversion) is
   * made once per register and reused: the register's contents change, the view does not.
   */
  #input(ort: Ort, x: number, scale: number): OrtTensor {
    const src = this.#source as Extract<EpsSource, { kind: "model" }>;
    const m = src.model.manifest;
    const cached = scale === 1 ? this.#inputs.get(x) : undefined;
    if (cached) return cached;
    const reg = this.#regs.x[x];
    const t = networkInput(ort, reg, this.#groups, scale, m.dtype, [this.#groups * this.#n, ...m.sampleShape]);
    if (t.data === reg) this.#inputs.set(x, t);
    return t;
  }

  /**
   * The staging area as an output tensor, for onnxruntime-node to write into (which saves a copy per
   * evaluation); undefined elsewhere (onnxruntime-web does not fill CPU tensors it is given) and when
   * the network's element type differs from the registers'.
   */
  #outputTensor(ort: Ort): OrtTensor | undefined {
    const src = this.#source;
    if (this.#session !== "native" || src.kind !== "model" || src.model.networkDtype !== this.dtype) return undefined;
    this.#outTensor ??= new ort.Tensor(this.dtype, this.#regs.out, [this.#groups * this.#n, ...src.model.sampleShape]);
    return this.#outTensor;
  }

  combine(spec: CombineSpec): void {
    this.#check();
    const t0 = performance.now();
    const sources = sourcesOf(spec);
    const noise = spec.noise !== undefined && spec.noise.scale !== 0 ? spec.noise : undefined;
    if (noise && sources.length === 0) {
      // noise alone (x_T): drawn straight into the register, one pass instead of two
      this.#regs.gaussian(this.#key, noise.stream, noise.step, noise.scale, spec.dst);
    } else {
      if (noise) this.#regs.gaussian(this.#key, noise.stream, noise.step, noise.scale);
      this.#regs.combine(spec.dst, sources, noise !== undefined);
    }
    this.timings.update += performance.now() - t0;
  }

  read(slot: number): Promise<Float32Array | Float64Array> {
    this.#check();
    return Promise.resolve(this.#regs.x[slot].slice());
  }

  peek(slot: number): Promise<Float32Array | Float64Array> {
    return this.read(slot);
  }

  setKnown(known: ArrayLike<number>, mask: ArrayLike<number>): void {
    this.#check();
    this.#known = { known: Float64Array.from(known), mask: Float64Array.from(mask) };
  }

  blend(spec: BlendSpec): void {
    this.#check();
    if (!this.#known) throw new ConfigError("mask", "set (setKnown) before blend", undefined);
    const t0 = performance.now();
    if (spec.sigma !== 0) this.#regs.gaussian(this.#key, spec.noise.stream, spec.noise.step, spec.sigma);
    blendHost(this.#regs.x[spec.dst], this.#known.known, this.#known.mask, spec, this.#regs.acc);
    this.timings.update += performance.now() - t0;
  }

  async decode(slot: number): Promise<Float32Array> {
    this.#check();
    const src = this.#source;
    if (src.kind !== "model" || !src.model.decoder) {
      throw new ConfigError("decode", "used only with a model that has a decoder", true);
    }
    return await decodeHost(src.model.decoder, this.#session, this.#regs.x[slot], this.#n);
  }

  dispose(): void {
    this.#disposed = true;
    if (!this.#networkBusy) this.#regs.release();
  }
}

/** The WASM backend (onnxruntime-web's WASM execution provider, update on the CPU). */
export function createWasmBackend(): Backend {
  return {
    name: "wasm",
    description: "onnxruntime-web WASM execution provider; update on the CPU",
    async open(spec: RunSpec): Promise<Run> {
      if (spec.source.kind !== "model") {
        throw new ConfigError(
          "backend",
          '"cpu" for a JS ε function (wasm runs ONNX models)',
          "wasm",
        );
      }
      await spec.source.model.session("wasm");
      return new CpuRun("wasm", spec);
    },
  };
}

/**
 * The native backend: onnxruntime-node's CPU execution provider runs the network, the update is the
 * same float32 loop as `wasm`'s (same registers, same Philox noise). Rejects with
 * {@link BackendUnavailableError} where onnxruntime-node cannot be loaded (browsers, edge isolates,
 * Deno without `--allow-ffi`).
 */
export async function createNativeBackend(): Promise<Backend> {
  if (!(await loadNativeOrt())) throw new BackendUnavailableError("native", nativeUnavailableReason());
  return {
    name: "native",
    description: `onnxruntime-node CPU execution provider (${intraOpThreads()} intra-op threads); update on the CPU`,
    async open(spec: RunSpec): Promise<Run> {
      if (spec.source.kind !== "model") {
        throw new ConfigError("backend", '"cpu" for a JS ε function (native runs ONNX models)', "native");
      }
      await spec.source.model.session("native");
      return new CpuRun("native", spec);
    },
  };
}

/**
 * The CPU loop over JS functions: a float64 ε function (`sampleFunction`, exact tests) or your own
 * network as a function (`sample({ model: fn })`, float32 registers like the wasm backend's).
 */
export function createCpuBackend(): Backend {
  return {
    name: "cpu",
    description: "CPU loop over a JS function (float64 for ε functions, float32 for network functions)",
    open(spec: RunSpec): Promise<Run> {
      if (spec.source.kind === "model") {
        return Promise.reject(
          new ConfigError(
            "backend",
            '"wasm", "webgpu" or "auto" for an ONNX model (cpu runs JS ε functions)',
            "cpu",
          ),
        );
      }
      if (spec.source.kind === "gpu-network") {
        return Promise.reject(new ConfigError("backend", '"webgpu" for a network on GPU buffers', "cpu"));
      }
      return Promise.resolve(new CpuRun("cpu", spec));
    },
  };
}
