/**
 * Compiled pipelines of the pipeline kernels (`wgsl_pipes.ts`), created once per device.
 *
 * @module
 */

import { BLEND_WGSL, SCALE_F16_WGSL, SCALE_WGSL } from "./wgsl_pipes.ts";

/** The pipeline kernels of one device. */
export interface PipePipelines {
  blend: GPUComputePipeline;
  scale: GPUComputePipeline;
  scaleF16: GPUComputePipeline;
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
      scale: make(SCALE_WGSL, "scale"),
      scaleF16: make(SCALE_F16_WGSL, "scale-f16"),
    };
    cache.set(device, p);
  }
  return p;
}
