/**
 * WGSL kernels of the pipeline operations (img2img needs none: its start is a `combine`):
 *
 * - `blend` (inpainting): `dst = m·(α·known + σ·z) + (1 − m)·dst` with the Philox Gaussian of
 *   `noise.ts`; the known image and the mask stay in GPU buffers for the whole run. With guidance
 *   the x register holds the batch twice and both halves are written.
 *
 * The decoder's input (latents/scalingFactor, float32 or packed float16) is written by the `feed`
 * kernel of `wgsl.ts`, the one that feeds the sampling network.
 *
 * @module
 */

import { NOISE_WGSL, WORKGROUP } from "./wgsl.ts";

/** Byte size of the `blend` uniform block. */
export const BLEND_PARAMS_BYTES = 48;

/** The `blend` kernel. */
export const BLEND_WGSL = /* wgsl */ `
${NOISE_WGSL}

struct Params {
  n: u32,
  dup: u32,
  row: u32,
  noise_on: u32,
  alpha: f32,
  sigma: f32,
  seed_lo: u32,
  seed_hi: u32,
  stream: u32,
  step: u32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read> known: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x + gid.y * params.row;
  if (e >= params.n) {
    return;
  }
  var goal = params.alpha * known[e];
  if (params.noise_on != 0u) {
    goal = goal + params.sigma * gaussian(e, params.step, params.stream, vec2<u32>(params.seed_lo, params.seed_hi));
  }
  let m = mask[e];
  let v = m * goal + (1.0 - m) * dst[e];
  dst[e] = v;
  if (params.dup != 0u) {
    dst[e + params.n] = v;
  }
}
`;
