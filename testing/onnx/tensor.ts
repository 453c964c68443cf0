/**
 * Encoding of `TensorProto` (dense constants). Data go into `raw_data` as little-endian bytes,
 * which onnxruntime reads for every element type used here.
 *
 * @module
 */

import { ProtoWriter } from "./protobuf.ts";
import { DataType, type TensorSpec } from "./types.ts";

/** Number of elements implied by `dims` (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`tensor dim ${d} is not a non-negative integer`);
    }
    n *= d;
  }
  return n;
}

/** Returns the little-endian raw bytes of a tensor's data, checking its length against its dims. */
export function tensorRawData(t: TensorSpec): Uint8Array {
  const n = elementCount(t.dims);
  // float16 is for graph inputs and outputs (with Cast nodes); constants stay float/double/int64
  if (t.type === "float16") throw new RangeError(`tensor ${t.name}: float16 constants are not supported`);
  if (t.data.length !== n) {
    throw new RangeError(
      `tensor ${t.name}: ${t.data.length} values for dims [${t.dims.join(", ")}]`,
    );
  }
  const bytes = new Uint8Array(n * (t.type === "float" ? 4 : 8));
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) {
    const v = t.data[i];
    switch (t.type) {
      case "float":
        dv.setFloat32(i * 4, Number(v), true);
        break;
      case "double":
        dv.setFloat64(i * 8, Number(v), true);
        break;
      case "int64": {
        if (typeof v === "number" && !Number.isSafeInteger(v)) {
          throw new RangeError(
            `tensor ${t.name}: int64 value ${v} is not a safe integer`,
          );
        }
        dv.setBigInt64(i * 8, BigInt(v), true);
        break;
      }
    }
  }
  return bytes;
}

/** Encodes a `TensorProto` message. */
export function encodeTensor(t: TensorSpec): Uint8Array {
  const w = new ProtoWriter();
  w.packedInts(1, t.dims); // dims
  w.int(2, DataType[t.type]); // data_type
  w.string(8, t.name); // name
  w.bytes(9, tensorRawData(t)); // raw_data
  return w.finish();
}
