/**
 * Accounting of the sampler's own GPU buffers: every buffer the WebGPU backend creates goes
 * through a {@link GpuBufferSet}, which counts it per run and process-wide, and destroys whatever
 * is left when the run ends (normally, on error, or on abort).
 *
 * @module
 */

/** Process-wide counters of the sampler's own GPU buffers. */
export interface GpuBufferStats {
  /** Buffers alive now. */
  live: number;
  /** Bytes held by them. */
  liveBytes: number;
  /** The most bytes held at once since the process started. */
  peakBytes: number;
  /** Buffers created so far. */
  created: number;
  /** Buffers destroyed so far. */
  destroyed: number;
}

const global: GpuBufferStats = {
  live: 0,
  liveBytes: 0,
  peakBytes: 0,
  created: 0,
  destroyed: 0,
};

/**
 * A snapshot of the process-wide counters.
 *
 * @example
 * ```ts
 * import { gpuBufferStats } from "@seed/deis";
 * const { live, liveBytes, peakBytes } = gpuBufferStats();
 * console.log(live, liveBytes, peakBytes); // live is 0 once every run has finished
 * ```
 */
export function gpuBufferStats(): GpuBufferStats {
  return { ...global };
}

/** The buffers of one run. */
export class GpuBufferSet {
  readonly #device: GPUDevice;
  readonly #live = new Map<GPUBuffer, number>();
  #bytes = 0;
  /** Most bytes held at once by this set. */
  peakBytes = 0;
  /** Buffers created by this set. */
  created = 0;

  /** @param device the device buffers are created on */
  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** Creates and registers a buffer. */
  create(label: string, size: number, usage: number): GPUBuffer {
    const padded = Math.max(16, Math.ceil(size / 16) * 16);
    const buf = this.#device.createBuffer({
      label: `deis:${label}`,
      size: padded,
      usage,
    });
    this.#live.set(buf, padded);
    this.#bytes += padded;
    this.created++;
    this.peakBytes = Math.max(this.peakBytes, this.#bytes);
    global.live++;
    global.created++;
    global.liveBytes += padded;
    global.peakBytes = Math.max(global.peakBytes, global.liveBytes);
    return buf;
  }

  /** Destroys one registered buffer (no-op for others). */
  destroy(buf: GPUBuffer): void {
    const size = this.#live.get(buf);
    if (size === undefined) return;
    this.#live.delete(buf);
    this.#bytes -= size;
    global.live--;
    global.destroyed++;
    global.liveBytes -= size;
    buf.destroy();
  }

  /** Buffers alive in this set. */
  get live(): number {
    return this.#live.size;
  }

  /** Destroys every buffer of the set. */
  destroyAll(): void {
    for (const buf of [...this.#live.keys()]) this.destroy(buf);
  }
}
