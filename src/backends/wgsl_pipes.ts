/**
 * WGSL kernels of the pipeline operations (img2img needs none: its start is a `combine`):
 *
 * - `blend` (inpainting): `dst = m·(α·known + σ·z) + (1 − m)·dst` with the Philox Gaussian of
 *   `noise.ts`; the known image and the mask stay in GPU buffers for the whole run. With guidance
 *   the x register holds the batch twice and both halves are written.
 * - `scale` (decoder input): `out = x·(1/scalingFactor)`, as float32, or packed to float16 pairs
 *   (`pack2x16float`, core WGSL, so no `shader-f16` feature is needed).
 *
 * @module
 */

import { NOISE_WGSL, WORKGROUP } from "./wgsl.ts";

/** Byte size of the `blend` uniform block. */
export const BLEND_PARAMS_BYTES = 48;
/** Byte size of the `scale` uniform block. */
export const SCALE_PARAMS_BYTES = 16;

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

/** The `scale` kernel (float32 output). */
export const SCALE_WGSL = /* wgsl */ `
struct Params {
  n: u32,
  row: u32,
  inv: f32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x + gid.y * params.row;
  if (e >= params.n) {
    return;
  }
  out[e] = x[e] * params.inv;
}
`;

/** The `scale` kernel with float16 output: invocation e writes elements 2e and 2e + 1. */
export const SCALE_F16_WGSL = /* wgsl */ `
struct Params {
  n: u32,
  row: u32,
  inv: f32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x + gid.y * params.row;
  let i = 2u * e;
  if (i >= params.n) {
    return;
  }
  var hi = 0.0;
  if (i + 1u < params.n) {
    hi = x[i + 1u] * params.inv;
  }
  out[e] = pack2x16float(vec2<f32>(x[i] * params.inv, hi));
}
`;
