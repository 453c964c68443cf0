/**
 * Encoding of `ValueInfoProto` (graph inputs/outputs) with `TypeProto.Tensor` and
 * `TensorShapeProto`, including symbolic (dynamic) dimensions.
 *
 * @module
 */

import { ProtoWriter } from "./protobuf.ts";
import { DataType, type Dim, type ValueInfoSpec } from "./types.ts";

function encodeDim(d: Dim): Uint8Array {
  const w = new ProtoWriter();
  if (typeof d === "number") {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`dimension ${d} is not a non-negative integer`);
    }
    w.int(1, d); // dim_value
  } else if (typeof d === "string") {
    w.string(2, d); // dim_param
  }
  return w.finish();
}

/** Encodes a `ValueInfoProto` for a tensor value. */
export function encodeValueInfo(v: ValueInfoSpec): Uint8Array {
  const tensorType = new ProtoWriter();
  tensorType.int(1, DataType[v.type]); // elem_type
  if (v.shape !== undefined) {
    const shape = new ProtoWriter();
    for (const d of v.shape) shape.message(1, encodeDim(d)); // dim
    tensorType.message(2, shape); // shape (an empty message for a scalar)
  }
  const type = new ProtoWriter();
  type.message(1, tensorType); // tensor_type

  const w = new ProtoWriter();
  w.string(1, v.name); // name
  w.message(2, type); // type
  if (v.docString !== undefined) w.string(3, v.docString); // doc_string
  return w.finish();
}
