/**
 * The network boundary on the CPU backends: the sampler's registers are float32 (float64 for a
 * float64 network) whatever the network's own element type, so every evaluation converts at the
 * boundary only — x (scaled by the preconditioning's c_in/α, and fed twice with guidance) into the
 * network's dtype, the time value into the time input's dtype, and the output back to numbers.
 *
 * float16 uses the runtime's `Float16Array` (IEEE round-to-nearest-even on the store), which
 * onnxruntime accepts and returns for `"float16"` tensors.
 *
 * @module
 */

import type { Ort, OrtTensor } from "../runtime/ort.ts";
import type { NetworkDtype, TimeDtype } from "./manifest.ts";

/** A typed array the sampler reads network outputs from (a float16 output is read as Float16Array). */
export type NumberArray = Float32Array | Float64Array | Float16Array;

type Vec = Float32Array | Float64Array;

function arrayFor(dtype: NetworkDtype, length: number): NumberArray {
  return dtype === "float16"
    ? new Float16Array(length)
    : dtype === "float64"
    ? new Float64Array(length)
    : new Float32Array(length);
}

/**
 * The network's x input for register `x`: the register itself when nothing changes (onnxruntime
 * reads it during the call), else a converted copy holding `groups` copies of `scale·x`.
 */
export function networkInput(
  ort: Ort,
  x: Vec,
  groups: number,
  scale: number,
  dtype: NetworkDtype,
  dims: number[],
): OrtTensor {
  const L = x.length;
  const same = (dtype === "float64") === (x instanceof Float64Array) && dtype !== "float16";
  let data: NumberArray;
  if (same && groups === 1 && scale === 1) data = x;
  else {
    data = arrayFor(dtype, groups * L);
    if (scale === 1) data.set(x);
    else for (let i = 0; i < L; i++) data[i] = scale * x[i];
    for (let g = 1; g < groups; g++) data.copyWithin(g * L, 0, L);
  }
  return new ort.Tensor(dtype, data as Float32Array, dims);
}

/** The time input tensor `[batch]` holding `value` in the time input's dtype. */
export function timeTensor(ort: Ort, dtype: TimeDtype, value: number, batch: number): OrtTensor {
  switch (dtype) {
    case "int64":
      return new ort.Tensor("int64", new BigInt64Array(batch).fill(BigInt(value)), [batch]);
    case "int32":
      return new ort.Tensor("int32", new Int32Array(batch).fill(value), [batch]);
    default:
      return new ort.Tensor(dtype, arrayFor(dtype, batch).fill(value) as Float32Array, [batch]);
  }
}

/**
 * A network output's values as numbers: float16 data may arrive as raw bits in a Uint16Array
 * (runtimes without Float16Array); those are reinterpreted, never copied.
 */
export function outputValues(out: OrtTensor): NumberArray {
  return numberView(out.data);
}

/** Tensor data as numbers: raw float16 bits (a Uint16Array) are viewed as a Float16Array. */
export function numberView(data: unknown): NumberArray {
  if (data instanceof Uint16Array) return new Float16Array(data.buffer, data.byteOffset, data.length);
  return data as NumberArray;
}
