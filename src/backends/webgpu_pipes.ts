/**
 * Compiled pipelines of the pipeline kernels (`wgsl_pipes.ts`), created once per device.
 *
 * @module
 */

import { BLEND_WGSL } from "./wgsl_pipes.ts";

/** The pipeline kernels of one device. */
export interface PipePipelines {
  blend: GPUComputePipeline;
}

const cache = new WeakMap<GPUDevice, PipePipelines>();

/** The pipelines for `device` (compiled on first use). */
export function pipePipelines(device: GPUDevice): PipePipelines {
  let p = cache.get(device);
  if (!p) {
    const make = (code: string, label: string) =>
      device.createComputePipeline({
        label: `deis:${label}`,
        layout: "auto",
        compute: { module: device.createShaderModule({ label: `deis:${label}`, code }), entryPoint: "main" },
      });
    p = {
      blend: make(BLEND_WGSL, "blend"),
    };
    cache.set(device, p);
  }
  return p;
}
