/**
 * The WebGPU backend: onnxruntime-web's WebGPU execution provider runs the network, and everything
 * else stays on the same GPUDevice for the whole loop:
 *
 * - x registers are our own GPUBuffers, handed to onnxruntime with `Tensor.fromGpuBuffer` (with
 *   guidance they hold the batch twice, so one call evaluates conditional and unconditional);
 * - the network output stays on the GPU (`preferredOutputLocation: "gpu-buffer"`); the `prepare`
 *   kernel converts it to ε into the ε arena (one buffer holding the ring of r+1 registers or the
 *   RK stages) and flags non-finite values; the output tensor is then returned to onnxruntime;
 * - the update and the Gaussian noise run in the `combine` kernel;
 * - the only readback is the final one (x plus the NaN flag, in one mapped buffer).
 *
 * Shape errors are detected on the CPU from the output's dims (no data is read); a NaN/Inf output
 * is detected on the GPU and reported after the final readback, naming the first evaluation.
 *
 * @module
 */

import { AbortError, BackendUnavailableError, ConfigError, GpuError, ModelError } from "../errors.ts";
import type { Model } from "../model/model.ts";
import { GpuBufferSet } from "./gpu_memory.ts";
import { seedWords } from "./noise.ts";
import { describeAdapter, type OrtTensor, ortWebGpu as ort, probeAdapter } from "../runtime/ort.ts";
import type {
  Backend,
  BlendSpec,
  CombineSpec,
  EpsSource,
  Evaluation,
  GpuNetworkOutput,
  GpuRunStats,
  Run,
  RunSpec,
  RunTimings,
} from "./types.ts";
import { dataMap, type EpsMap, predictionToEps } from "../model/convert.ts";
import { pipePipelines } from "./webgpu_pipes.ts";
import { BLEND_PARAMS_BYTES } from "./wgsl_pipes.ts";
import {
  COMBINE_PARAMS_BYTES,
  COMBINE_WGSL,
  FEED_PARAMS_BYTES,
  feedWgsl,
  MAX_TERMS,
  type NetElement,
  PREPARE_PARAMS_BYTES,
  prepareWgsl,
  WORKGROUP,
} from "./wgsl.ts";

/** Bytes of a buffer holding `count` values of element type `el` (rounded up to 16). */
function feedBytes(el: NetElement, count: number): number {
  return Math.ceil((el === "f32" ? 4 * count : 2 * count) / 16) * 16;
}

/** The kernels of one device, compiled when first used. */
class Pipelines {
  readonly #cache = new Map<string, GPUComputePipeline>();
  constructor(readonly device: GPUDevice) {}

  #get(label: string, code: () => string): GPUComputePipeline {
    let p = this.#cache.get(label);
    if (!p) {
      p = this.device.createComputePipeline({
        label: `deis:${label}`,
        layout: "auto",
        compute: {
          module: this.device.createShaderModule({ label: `deis:${label}`, code: code() }),
          entryPoint: "main",
        },
      });
      this.#cache.set(label, p);
    }
    return p;
  }

  prepare(el: NetElement): GPUComputePipeline {
    return this.#get(`prepare-${el}`, () => prepareWgsl(el));
  }

  feed(el: NetElement): GPUComputePipeline {
    return this.#get(`feed-${el}`, () => feedWgsl(el));
  }

  get combine(): GPUComputePipeline {
    return this.#get("combine", () => COMBINE_WGSL);
  }
}

const pipelineCache = new WeakMap<GPUDevice, Pipelines>();

function pipelines(device: GPUDevice): Pipelines {
  let p = pipelineCache.get(device);
  if (!p) {
    p = new Pipelines(device);
    pipelineCache.set(device, p);
  }
  return p;
}

/**
 * How this run reads and writes a float16 network's tensors: with `shader-f16` where the device has
 * it (onnxruntime requests the feature when the adapter offers it), packed pairs otherwise.
 */
function netElement(model: Model, device: GPUDevice, options: WebGpuBackendOptions): NetElement {
  if (model.networkDtype !== "float16") return "f32";
  const native = options.shaderF16 ?? true;
  return native && device.features.has("shader-f16") ? "f16" : "packed";
}

/** The GPUDevice onnxruntime's WebGPU EP uses (it exists once a WebGPU session was created). */
export async function ortDevice(): Promise<GPUDevice> {
  const d = await (ort.env.webgpu.device as unknown as
    | Promise<GPUDevice>
    | GPUDevice
    | undefined);
  if (!d) {
    throw new BackendUnavailableError(
      "webgpu",
      "onnxruntime has no WebGPU device",
    );
  }
  return d;
}

const STORAGE = 0x80,
  COPY_SRC = 0x04,
  COPY_DST = 0x08,
  UNIFORM = 0x40,
  MAP_READ = 0x01;
const MAP_MODE_READ = 1;

class WebGpuRun implements Run {
  readonly backend = "webgpu" as const;
  readonly dtype = "float32" as const;
  readonly length: number;
  readonly timings: RunTimings = { network: 0, update: 0, readback: 0 };
  readonly #model?: Model;
  /** The caller's network on GPU buffers, when the run has no model. */
  readonly #net?: GpuNetworkSource;
  readonly #device: GPUDevice;
  readonly #pipes: Pipelines;
  readonly #set: GpuBufferSet;
  readonly #n: number;
  readonly #groups: number;
  readonly #seed: [number, number];
  readonly #guidanceScale?: number;
  readonly #extra: Record<string, OrtTensor>;
  readonly #x: GPUBuffer[];
  readonly #arena: GPUBuffer;
  readonly #flag: GPUBuffer;
  readonly #prepParams: GPUBuffer;
  readonly #combParams: GPUBuffer;
  readonly #dummy: GPUBuffer;
  #feedParams?: GPUBuffer;
  /** The network's x input when it is not the x register itself (float16, or a scaled input). */
  #netIn?: GPUBuffer;
  readonly #el: NetElement;
  readonly #evals: Evaluation[] = [];
  #known?: { known: GPUBuffer; mask: GPUBuffer; params: GPUBuffer };
  #readbacks = 0;
  #submits = 0;
  #disposed = false;
  #scopes = 0;

  constructor(
    spec: RunSpec & { source: { kind: "model" } | GpuNetworkSource },
    device: GPUDevice,
    options: WebGpuBackendOptions,
  ) {
    const src = spec.source;
    this.#device = device;
    this.#pipes = pipelines(device);
    this.#n = spec.n;
    this.#seed = seedWords(spec.seed);
    if (src.kind === "gpu-network") {
      this.#net = src;
      this.length = spec.n * src.sampleShape.reduce((a, b) => a * b, 1);
      this.#groups = 1;
      this.#extra = {};
      this.#el = "f32";
    } else {
      this.#model = src.model;
      this.#el = netElement(src.model, device, options);
      this.length = spec.n * src.model.sampleSize;
      this.#groups = src.guidance ? 2 : 1;
      this.#guidanceScale = src.guidance?.scale;
      this.#extra = src.model.extraFeeds(
        "webgpu",
        spec.n,
        src.conditioning,
        src.guidance,
      );
    }
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    this.#scopes = 2;
    this.#set = new GpuBufferSet(device);
    try {
      const xBytes = this.#groups * this.length * 4;
      this.#x = [];
      for (let i = 0; i < spec.xSlots; i++) {
        this.#x.push(
          this.#set.create(`x${i}`, xBytes, STORAGE | COPY_SRC | COPY_DST),
        );
      }
      this.#arena = this.#set.create(
        "eps",
        Math.max(1, spec.epsSlots) * this.length * 4,
        STORAGE | COPY_SRC,
      );
      this.#flag = this.#set.create("flag", 16, STORAGE | COPY_SRC | COPY_DST);
      device.queue.writeBuffer(
        this.#flag,
        0,
        new Uint32Array([0xffffffff, 0, 0, 0]),
      );
      this.#prepParams = this.#set.create(
        "prepare-params",
        PREPARE_PARAMS_BYTES,
        UNIFORM | COPY_DST,
      );
      this.#combParams = this.#set.create(
        "combine-params",
        COMBINE_PARAMS_BYTES,
        UNIFORM | COPY_DST,
      );
      this.#dummy = this.#set.create("dummy", 16, STORAGE);
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  get gpu(): GpuRunStats {
    return {
      buffers: this.#set.created,
      peakBytes: this.#set.peakBytes,
      readbacks: this.#readbacks,
      submits: this.#submits,
    };
  }

  /** Live buffers of this run (0 after dispose). */
  get liveBuffers(): number {
    return this.#set.live;
  }

  #check(): void {
    if (this.#disposed) throw new AbortError("the run was disposed");
  }

  #dispatch(
    pipe: GPUComputePipeline,
    params: GPUBuffer,
    data: ArrayBuffer,
    entries: GPUBindGroupEntry[],
    count = this.length,
  ): void {
    const dev = this.#device;
    dev.queue.writeBuffer(params, 0, data);
    const group = dev.createBindGroup({
      layout: pipe.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: params } }, ...entries],
    });
    const enc = dev.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipe);
    pass.setBindGroup(0, group);
    const [gx, gy] = this.#grid(count);
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    dev.queue.submit([enc.finish()]);
    this.#submits++;
  }

  /** Workgroup grid covering `count` elements (folded into 2-D past 65535 groups). */
  #grid(count = this.length): [number, number] {
    const groups = Math.ceil(count / WORKGROUP);
    if (groups <= 65535) return [Math.max(1, groups), 1];
    const gx = 32768;
    return [gx, Math.ceil(groups / gx)];
  }

  #row(count = this.length): number {
    return this.#grid(count)[0] * WORKGROUP;
  }

  /** Writes `scale·x[slot]` (`count` elements) into `dst` in element type `el` (the `feed` kernel). */
  #feed(slot: number, scale: number, el: NetElement, count: number, dst: GPUBuffer, params: GPUBuffer): void {
    const words = el === "packed" ? Math.ceil(count / 2) : count;
    const buf = new ArrayBuffer(FEED_PARAMS_BYTES);
    const u = new Uint32Array(buf), f = new Float32Array(buf);
    u[0] = words;
    u[1] = count;
    f[2] = scale;
    u[3] = this.#row(words);
    this.#dispatch(this.#pipes.feed(el), params, buf, [
      { binding: 1, resource: { buffer: this.#x[slot] } },
      { binding: 2, resource: { buffer: dst } },
    ], words);
  }

  /**
   * The network's x input for register `x`: the register itself for a float32 network fed x
   * unscaled, else the `feed` kernel's output (scale·x in the network's element type).
   */
  #input(x: number, scale: number): OrtTensor {
    const m = this.#model!.manifest;
    const count = this.#groups * this.length;
    const dims = [this.#groups * this.#n, ...m.sampleShape];
    if (this.#el === "f32" && scale === 1) {
      return ort.Tensor.fromGpuBuffer(this.#x[x], { dataType: "float32", dims });
    }
    this.#feedParams ??= this.#set.create("feed-params", FEED_PARAMS_BYTES, UNIFORM | COPY_DST);
    this.#netIn ??= this.#set.create("net-input", feedBytes(this.#el, count), STORAGE | COPY_SRC);
    this.#feed(x, scale, this.#el, count, this.#netIn, this.#feedParams);
    return ort.Tensor.fromGpuBuffer(this.#netIn, { dataType: this.#el === "f32" ? "float32" : "float16", dims });
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
    const f = Float32Array.from(data);
    for (let g = 0; g < this.#groups; g++) {
      this.#device.queue.writeBuffer(this.#x[slot], g * this.length * 4, f);
    }
  }

  async evaluate(eps: number, x: number, ev: Evaluation): Promise<void> {
    this.#check();
    if (this.#net) return await this.#evaluateNetwork(this.#net, eps, x, ev);
    const model = this.#model!;
    const batch = this.#groups * this.#n;
    const m = model.manifest;
    this.#evals[ev.index] = ev;
    const feeds: Record<string, OrtTensor> = {
      ...this.#extra,
      [m.inputs.x]: this.#input(x, model.inputScale(ev)),
      [m.inputs.t]: model.timeTensor("webgpu", ev, batch),
    };
    const t0 = performance.now();
    const out = await model.run("webgpu", feeds);
    const t1 = performance.now();
    this.timings.network += t1 - t0;
    try {
      this.#check();
      model.checkOutput(out, batch, `at evaluation ${ev.index} (t = ${ev.t})`);
      if (out.location !== "gpu-buffer") {
        throw new ModelError(
          model.name,
          `output '${m.output}' came back on '${out.location}', not on the GPU`,
          m.output,
        );
      }
      this.#prepare(eps, x, ev, model.valueMap(ev, this.#guidanceScale), out.gpuBuffer as GPUBuffer);
    } finally {
      out.dispose();
      this.timings.update += performance.now() - t1;
    }
  }

  /** `ε[eps] ← map(x[x], out)` on the GPU, flagging non-finite outputs (the `prepare` kernel). */
  #prepare(eps: number, x: number, ev: Evaluation, map: EpsMap, out: GPUBuffer): void {
    const buf = new ArrayBuffer(PREPARE_PARAMS_BYTES);
    const u = new Uint32Array(buf), f = new Float32Array(buf);
    u[0] = this.length;
    u[1] = this.#groups - 1;
    u[2] = ev.index;
    u[3] = eps;
    f[4] = map.p;
    f[5] = map.qc;
    f[6] = map.qu;
    u[7] = this.#row();
    this.#dispatch(this.#pipes.prepare(this.#el), this.#prepParams, buf, [
      { binding: 1, resource: { buffer: this.#x[x] } },
      { binding: 2, resource: { buffer: out } },
      { binding: 3, resource: { buffer: this.#arena } },
      { binding: 4, resource: { buffer: this.#flag } },
    ]);
  }

  /** The caller's network on our x register; its GPU output is converted like a model's. */
  async #evaluateNetwork(net: GpuNetworkSource, eps: number, x: number, ev: Evaluation): Promise<void> {
    this.#evals[ev.index] = ev;
    const t0 = performance.now();
    const out = await net.fn(this.#x[x], ev);
    const t1 = performance.now();
    this.timings.network += t1 - t0;
    try {
      this.#check();
      const where = `at evaluation ${ev.index} (step ${ev.step}, t = ${ev.t})`;
      const buffer = checkGpuOutput(out, [this.#n, ...net.sampleShape], net.name ?? "gpu-network", where);
      const m = predictionToEps(net.prediction, ev);
      const map = { p: m.p, qc: m.q, qu: 0 };
      this.#prepare(eps, x, ev, ev.output === "x0" ? dataMap(map, ev) : map, buffer);
    } finally {
      if (!isGpuBuffer(out)) out?.dispose?.();
      this.timings.update += performance.now() - t1;
    }
  }

  combine(spec: CombineSpec): void {
    this.#check();
    const t0 = performance.now();
    let a = spec.a;
    let src = spec.src;
    if (src && src.slot === spec.dst) {
      a += src.coef;
      src = undefined;
    }
    const terms = spec.terms.filter((t) => t.coef !== 0);
    if (terms.length > MAX_TERMS) {
      throw new ConfigError(
        "plan.rows",
        `at most ${MAX_TERMS} ε terms per update`,
        terms.length,
      );
    }
    const buf = new ArrayBuffer(COMBINE_PARAMS_BYTES);
    const u = new Uint32Array(buf), f = new Float32Array(buf);
    u[0] = this.length;
    u[1] = this.#groups - 1;
    u[2] = terms.length;
    u[3] = spec.noise && spec.noise.scale !== 0 ? 1 : 0;
    f[4] = a;
    f[5] = src ? src.coef : 0;
    f[6] = spec.noise?.scale ?? 0;
    u[7] = this.#row();
    u[8] = this.#seed[0];
    u[9] = this.#seed[1];
    u[10] = spec.noise?.stream ?? 0;
    u[11] = spec.noise?.step ?? 0;
    terms.forEach((t, j) => {
      f[12 + j] = t.coef;
      u[28 + j] = t.slot;
    });
    this.#dispatch(this.#pipes.combine, this.#combParams, buf, [
      { binding: 1, resource: { buffer: this.#x[spec.dst] } },
      {
        binding: 2,
        resource: { buffer: src ? this.#x[src.slot] : this.#dummy },
      },
      { binding: 3, resource: { buffer: this.#arena } },
    ]);
    this.timings.update += performance.now() - t0;
  }

  async #popScopes(): Promise<void> {
    let err: GPUError | null = null;
    while (this.#scopes > 0) {
      this.#scopes--;
      const e = await this.#device.popErrorScope().catch(() => null);
      err ??= e;
    }
    if (err) throw new GpuError(`WebGPU error during sampling: ${err.message}`);
  }

  async read(slot: number): Promise<Float32Array> {
    this.#check();
    const t0 = performance.now();
    const bytes = this.length * 4;
    const staging = this.#set.create(
      "readback",
      bytes + 16,
      MAP_READ | COPY_DST,
    );
    const enc = this.#device.createCommandEncoder();
    enc.copyBufferToBuffer(this.#x[slot], 0, staging, 0, bytes);
    enc.copyBufferToBuffer(this.#flag, 0, staging, bytes, 16);
    this.#device.queue.submit([enc.finish()]);
    this.#submits++;
    this.#readbacks++;
    await staging.mapAsync(MAP_MODE_READ);
    this.#check();
    const mapped = staging.getMappedRange();
    const data = new Float32Array(mapped.slice(0, bytes));
    const flag = new Uint32Array(mapped.slice(bytes, bytes + 8));
    staging.unmap();
    this.#set.destroy(staging);
    this.timings.readback += performance.now() - t0;
    await this.#popScopes();
    if (flag[0] !== 0xffffffff) {
      const ev = this.#evals[flag[0]];
      const where = `at evaluation ${flag[0]}${ev ? ` (step ${ev.step}, t = ${ev.t})` : ""}`;
      if (this.#net) {
        throw new ModelError(
          this.#net.name ?? "gpu-network",
          `returned ${flag[1]} non-finite value(s) (NaN or Inf) ${where}`,
          "output",
        );
      }
      throw this.#model!.nonFiniteError(where, flag[1]);
    }
    return data;
  }

  /** Copies the first `bytes` of `buf` to the host: one readback, without ending the run. */
  async #readBuffer(buf: GPUBuffer, bytes: number): Promise<Float32Array> {
    const staging = this.#set.create("peek", bytes, MAP_READ | COPY_DST);
    try {
      const enc = this.#device.createCommandEncoder();
      enc.copyBufferToBuffer(buf, 0, staging, 0, bytes);
      this.#device.queue.submit([enc.finish()]);
      this.#submits++;
      this.#readbacks++;
      await staging.mapAsync(MAP_MODE_READ);
      this.#check();
      const data = new Float32Array(staging.getMappedRange().slice(0, bytes));
      staging.unmap();
      return data;
    } finally {
      this.#set.destroy(staging);
    }
  }

  async peek(slot: number): Promise<Float32Array> {
    this.#check();
    const t0 = performance.now();
    try {
      return await this.#readBuffer(this.#x[slot], this.length * 4);
    } finally {
      this.timings.readback += performance.now() - t0;
    }
  }

  setKnown(known: ArrayLike<number>, mask: ArrayLike<number>): void {
    this.#check();
    if (!this.#known) {
      this.#known = {
        known: this.#set.create("known", this.length * 4, STORAGE | COPY_DST),
        mask: this.#set.create("mask", this.length * 4, STORAGE | COPY_DST),
        params: this.#set.create("blend-params", BLEND_PARAMS_BYTES, UNIFORM | COPY_DST),
      };
    }
    this.#device.queue.writeBuffer(this.#known.known, 0, Float32Array.from(known));
    this.#device.queue.writeBuffer(this.#known.mask, 0, Float32Array.from(mask));
  }

  blend(spec: BlendSpec): void {
    this.#check();
    if (!this.#known) throw new ConfigError("mask", "set (setKnown) before blend", undefined);
    const t0 = performance.now();
    const buf = new ArrayBuffer(BLEND_PARAMS_BYTES);
    const u = new Uint32Array(buf), f = new Float32Array(buf);
    u[0] = this.length;
    u[1] = this.#groups - 1;
    u[2] = this.#row();
    u[3] = spec.sigma !== 0 ? 1 : 0;
    f[4] = spec.alpha;
    f[5] = spec.sigma;
    u[6] = this.#seed[0];
    u[7] = this.#seed[1];
    u[8] = spec.noise.stream;
    u[9] = spec.noise.step;
    this.#dispatch(pipePipelines(this.#device).blend, this.#known.params, buf, [
      { binding: 1, resource: { buffer: this.#x[spec.dst] } },
      { binding: 2, resource: { buffer: this.#known.known } },
      { binding: 3, resource: { buffer: this.#known.mask } },
    ]);
    this.timings.update += performance.now() - t0;
  }

  /**
   * The decoder on x register `slot`, GPU to GPU: a kernel writes x/scalingFactor (float32 or
   * float16) into a buffer the decoder session reads with `Tensor.fromGpuBuffer`; its output comes
   * back to the host once, through onnxruntime.
   */
  async decode(slot: number): Promise<Float32Array> {
    this.#check();
    const decoder = this.#model?.decoder;
    if (!decoder) throw new ConfigError("decode", "used only with a model that has a decoder", true);
    await decoder.session("webgpu");
    this.#check();
    const half = decoder.spec.dtype === "float16";
    const dev = this.#device;
    dev.pushErrorScope("validation");
    // packed halves: a float16 decoder runs where the adapter lacks shader-f16 too
    const el: NetElement = half ? "packed" : "f32";
    const input = this.#set.create("decoder-input", feedBytes(el, this.length), STORAGE);
    const params = this.#set.create("feed-params", FEED_PARAMS_BYTES, UNIFORM | COPY_DST);
    let out: Float32Array | undefined;
    let failure: unknown;
    try {
      this.#feed(slot, 1 / decoder.spec.scalingFactor, el, this.length, input, params);
      const tensor = ort.Tensor.fromGpuBuffer(input, {
        dataType: half ? "float16" : "float32",
        dims: [this.#n, ...this.#model!.sampleShape],
      });
      const t0 = performance.now();
      out = await decoder.run("webgpu", tensor, this.#n);
      this.timings.readback += performance.now() - t0;
    } catch (e) {
      failure = e;
    }
    this.#set.destroy(input);
    this.#set.destroy(params);
    const err = await dev.popErrorScope().catch(() => null);
    if (failure !== undefined) throw failure;
    if (err) throw new GpuError(`WebGPU error while decoding: ${err.message}`);
    return out!;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#set.destroyAll();
    if (this.#scopes > 0) void this.#popScopes().catch(() => {});
  }
}

type GpuNetworkSource = Extract<EpsSource, { kind: "gpu-network" }>;

function isGpuBuffer(v: unknown): v is GPUBuffer {
  return typeof GPUBuffer === "function" && v instanceof GPUBuffer;
}

/**
 * The buffer of a network's GPU output, once its dims, type and size fit `[n, ...sampleShape]`
 * float32; a {@link ModelError} naming `output` otherwise (no data is read).
 */
export function checkGpuOutput(
  out: GpuNetworkOutput,
  dims: readonly number[],
  name: string,
  where: string,
): GPUBuffer {
  const fail = (what: string): never => {
    throw new ModelError(name, `${what} ${where}`, "output");
  };
  const candidate: unknown = isGpuBuffer(out) ? out : out?.gpuBuffer;
  if (!isGpuBuffer(candidate)) {
    return fail(`returned ${out === null ? "null" : typeof out}, not a GPUBuffer or a tensor on the GPU (gpuBuffer)`);
  }
  const buffer = candidate;
  if (!isGpuBuffer(out)) {
    if (out.type !== undefined && out.type !== "float32") fail(`returned a ${out.type} tensor; expected float32`);
    const got = out.dims;
    if (got !== undefined && (got.length !== dims.length || got.some((d, i) => d !== dims[i]))) {
      fail(`returned a tensor of shape [${got.join(", ")}]; expected [${dims.join(", ")}]`);
    }
  }
  const bytes = dims.reduce((a, b) => a * b, 1) * 4;
  if (buffer.size < bytes) fail(`returned a buffer of ${buffer.size} bytes; expected at least ${bytes}`);
  if ((buffer.usage & STORAGE) === 0) fail("returned a buffer without STORAGE usage (the conversion kernel reads it)");
  return buffer;
}

/**
 * A run of the caller's network on GPU buffers (`source.kind === "gpu-network"`) on its own device:
 * the same registers, kernels and single readback as a model's WebGPU run.
 */
export function openGpuNetworkRun(spec: RunSpec & { source: GpuNetworkSource }): Run {
  return new WebGpuRun(spec, spec.source.device, {});
}

/** Options of {@link createWebGpuBackend}. */
export interface WebGpuBackendOptions {
  /** Accept a software (fallback) adapter such as llvmpipe (default: true for `webgpu`, false for `auto`). */
  allowFallbackAdapter?: boolean;
  /**
   * Convert a float16 network's tensors with `shader-f16` where the device has it (default true);
   * false uses the packed `pack2x16float` kernels every adapter has (tested both ways).
   */
  shaderF16?: boolean;
}

/**
 * The WebGPU backend. Rejects with {@link BackendUnavailableError} when the runtime has no WebGPU
 * adapter.
 */
export async function createWebGpuBackend(
  options: WebGpuBackendOptions = {},
): Promise<Backend> {
  const adapter = await probeAdapter();
  if (!adapter) {
    throw new BackendUnavailableError(
      "webgpu",
      "no WebGPU adapter (navigator.gpu missing or empty)",
    );
  }
  const description = describeAdapter(adapter);
  if (
    options.allowFallbackAdapter === false && description.endsWith("(fallback)")
  ) {
    throw new BackendUnavailableError(
      "webgpu",
      `only a fallback adapter is available: ${description}`,
    );
  }
  return {
    name: "webgpu",
    description,
    async open(spec: RunSpec): Promise<Run> {
      if (spec.source.kind !== "model") {
        throw new ConfigError(
          "backend",
          '"cpu" for a JS ε function (webgpu runs ONNX models)',
          "webgpu",
        );
      }
      await spec.source.model.session("webgpu");
      const device = await ortDevice();
      return new WebGpuRun(
        spec as RunSpec & { source: { kind: "model" } },
        device,
        options,
      );
    },
  };
}
