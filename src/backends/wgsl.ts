/**
 * WGSL kernels of the WebGPU backend. Two element-wise compute shaders, both run on the GPUDevice
 * that onnxruntime-web's WebGPU execution provider uses, so their buffers feed the network directly:
 *
 * - `prepare`: turns the raw network output into ε (prediction-type conversion and classifier-free
 *   guidance are one linear map `ε = p·x + q_c·out_c + q_u·out_u`), stores it in a slot of the ε
 *   arena, and records the first evaluation whose output held a NaN or ±Inf (checked on the bit
 *   pattern, which fast-math compilers cannot fold away).
 * - `combine`: `dst = a·dst + b·src + Σ_j c_j·ε[slot_j] + s·z`, the one update every sampler is made
 *   of, with `z` the counter-based Philox4x32-10 Gaussian defined in `noise.ts`. With guidance the
 *   network input holds the batch twice, so `combine` writes both halves.
 *
 * @module
 */

/** Workgroup size of both kernels (1-D; the grid is folded into 2-D for large tensors). */
export const WORKGROUP = 64;

/** Maximum number of ε terms in one `combine`. */
export const MAX_TERMS = 16;

/** Byte size of the `prepare` uniform block. */
export const PREPARE_PARAMS_BYTES = 32;
/** Byte size of the `combine` uniform block. */
export const COMBINE_PARAMS_BYTES = 48 + 16 * 4 + 16 * 4;

/** The Philox Gaussian of noise.ts in WGSL (shared by every kernel that draws noise). */
export const NOISE_WGSL = /* wgsl */ `
fn mulhi32(a: u32, b: u32) -> u32 {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xffffu;
  let b_hi = b >> 16u;
  let ll = a_lo * b_lo;
  let lh = a_lo * b_hi;
  let hl = a_hi * b_lo;
  let hh = a_hi * b_hi;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

fn philox4x32(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var x = ctr;
  var k = key;
  for (var i = 0u; i < 10u; i = i + 1u) {
    let hi0 = mulhi32(0xD2511F53u, x.x);
    let lo0 = 0xD2511F53u * x.x;
    let hi1 = mulhi32(0xCD9E8D57u, x.z);
    let lo1 = 0xCD9E8D57u * x.z;
    x = vec4<u32>(hi1 ^ x.y ^ k.x, lo1, hi0 ^ x.w ^ k.y, lo0);
    k = k + vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
  }
  return x;
}

// ln(m · 2^-24) for an integer m in [1, 2^24], without the built-in log.
fn ln_u24(m: u32) -> f32 {
  var e = i32(firstLeadingBit(m));
  var f = f32(m) / f32(1u << u32(e));
  if (f > 1.41421356) {
    f = f * 0.5;
    e = e + 1;
  }
  let s = (f - 1.0) / (f + 1.0);
  let s2 = s * s;
  let series = 1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0)))));
  return f32(e - 24) * 0.693147180559945 + 2.0 * s * series;
}

// (cos, sin) of 2π·k/2^24 for an integer k in [0, 2^24), reduced to an octant with integer arithmetic.
fn cos_sin_u24(k: u32) -> vec2<f32> {
  let q = (k + 0x200000u) >> 22u;
  let r = i32(k) - i32(q << 22u);
  let phi = f32(r) * 3.7450702829239286e-7;
  let p2 = phi * phi;
  let s = phi * (1.0 - p2 * (1.0 / 6.0 - p2 * (1.0 / 120.0 - p2 * (1.0 / 5040.0 - p2 * (1.0 / 362880.0)))));
  let c = 1.0 - p2 * (0.5 - p2 * (1.0 / 24.0 - p2 * (1.0 / 720.0 - p2 * (1.0 / 40320.0 - p2 * (1.0 / 3628800.0)))));
  switch (q & 3u) {
    case 0u: { return vec2<f32>(c, s); }
    case 1u: { return vec2<f32>(-s, c); }
    case 2u: { return vec2<f32>(-c, -s); }
    default: { return vec2<f32>(s, -c); }
  }
}

// Standard Gaussian of element e of draw (stream, step); see noise.ts.
fn gaussian(e: u32, step: u32, stream: u32, key: vec2<u32>) -> f32 {
  let w = philox4x32(vec4<u32>(e >> 2u, step, stream, 0u), key);
  let lane = e & 3u;
  var a = w.x;
  var b = w.y;
  if (lane >= 2u) {
    a = w.z;
    b = w.w;
  }
  let r = sqrt(-2.0 * ln_u24((a >> 8u) + 1u));
  let cs = cos_sin_u24(b >> 8u);
  if ((lane & 1u) == 0u) {
    return r * cs.x;
  }
  return r * cs.y;
}
`;

/**
 * How a float16 network's tensors are read and written: `"f16"` with the adapter's `shader-f16`
 * feature (`array<f16>`), `"packed"` without it (pairs of halves in `array<u32>`, converted with
 * the core built-ins `pack2x16float` / `unpack2x16float`). float32 networks use `"f32"`.
 */
export type NetElement = "f32" | "f16" | "packed";

const NET_OUT_DECL: Record<NetElement, string> = {
  f32: "@group(0) @binding(2) var<storage, read> net_out: array<f32>;\nfn out_at(i: u32) -> f32 { return net_out[i]; }",
  f16:
    "@group(0) @binding(2) var<storage, read> net_out: array<f16>;\nfn out_at(i: u32) -> f32 { return f32(net_out[i]); }",
  packed: "@group(0) @binding(2) var<storage, read> net_out: array<u32>;\n" +
    "fn out_at(i: u32) -> f32 { return unpack2x16float(net_out[i >> 1u])[i & 1u]; }",
};

/** The `prepare` kernel for a network output of element type `el`. */
export function prepareWgsl(el: NetElement): string {
  return /* wgsl */ `
${el === "f16" ? "enable f16;" : ""}
struct Params {
  n: u32,
  guided: u32,
  eval_index: u32,
  slot: u32,
  p: f32,
  qc: f32,
  qu: f32,
  row: u32,
}

struct Flag {
  first_bad: atomic<u32>,
  bad_count: atomic<u32>,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> xin: array<f32>;
${NET_OUT_DECL[el]}
@group(0) @binding(3) var<storage, read_write> arena: array<f32>;
@group(0) @binding(4) var<storage, read_write> flag: Flag;

fn non_finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x + gid.y * params.row;
  if (e >= params.n) {
    return;
  }
  let oc = out_at(e);
  var bad = non_finite(oc);
  var v = params.p * xin[e] + params.qc * oc;
  if (params.guided != 0u) {
    let ou = out_at(e + params.n);
    bad = bad || non_finite(ou);
    v = v + params.qu * ou;
  }
  if (bad) {
    atomicMin(&flag.first_bad, params.eval_index);
    atomicAdd(&flag.bad_count, 1u);
  }
  arena[params.slot * params.n + e] = v;
}
`;
}

/** The `prepare` kernel of a float32 network. */
export const PREPARE_WGSL: string = prepareWgsl("f32");

/** Byte size of the `feed` uniform block. */
export const FEED_PARAMS_BYTES = 16;

/**
 * The `feed` kernel: the network input `scale·x` in the network's element type (float16 networks,
 * EDM's c_in/α), written from the x register into a buffer that is fed to onnxruntime. The packed
 * variant writes one u32 (two halves) per invocation, so its `n` counts words.
 */
export function feedWgsl(el: NetElement): string {
  const body = el === "packed"
    ? `let i = 2u * e;
  var hi = 0.0;
  if (i + 1u < params.count) {
    hi = params.scale * xin[i + 1u];
  }
  net_in[e] = pack2x16float(vec2<f32>(params.scale * xin[i], hi));`
    : `net_in[e] = ${el === "f16" ? "f16" : ""}(params.scale * xin[e]);`;
  return /* wgsl */ `
${el === "f16" ? "enable f16;" : ""}
struct Params {
  n: u32,
  count: u32,
  scale: f32,
  row: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> xin: array<f32>;
@group(0) @binding(2) var<storage, read_write> net_in: array<${el === "packed" ? "u32" : el}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x + gid.y * params.row;
  if (e >= params.n) {
    return;
  }
  ${body}
}
`;
}

/** The `combine` kernel. */
export const COMBINE_WGSL = /* wgsl */ `
${NOISE_WGSL}

struct Params {
  n: u32,
  dup: u32,
  nterms: u32,
  noise_on: u32,
  a_dst: f32,
  b_src: f32,
  noise_scale: f32,
  row: u32,
  seed_lo: u32,
  seed_hi: u32,
  stream: u32,
  step: u32,
  coef: array<vec4<f32>, 4>,
  slot: array<vec4<u32>, 4>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read> arena: array<f32>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x + gid.y * params.row;
  if (e >= params.n) {
    return;
  }
  var v = 0.0;
  if (params.a_dst != 0.0) {
    v = params.a_dst * dst[e];
  }
  if (params.b_src != 0.0) {
    v = v + params.b_src * src[e];
  }
  for (var j = 0u; j < params.nterms; j = j + 1u) {
    let c = params.coef[j >> 2u][j & 3u];
    let s = params.slot[j >> 2u][j & 3u];
    v = v + c * arena[s * params.n + e];
  }
  if (params.noise_on != 0u) {
    v = v + params.noise_scale * gaussian(e, params.step, params.stream, vec2<u32>(params.seed_lo, params.seed_hi));
  }
  dst[e] = v;
  if (params.dup != 0u) {
    dst[e + params.n] = v;
  }
}
`;
