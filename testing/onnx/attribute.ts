/**
 * Encoding of `AttributeProto` (operator attributes).
 *
 * @module
 */

import { ProtoWriter } from "./protobuf.ts";
import { encodeTensor } from "./tensor.ts";
import { type AttributeSpec, AttributeType } from "./types.ts";

/** Encodes an `AttributeProto` message. */
export function encodeAttribute(a: AttributeSpec): Uint8Array {
  const w = new ProtoWriter();
  w.string(1, a.name); // name
  const v = a.value;
  switch (v.kind) {
    case "float":
      w.float(2, v.value); // f
      break;
    case "int":
      w.int(3, v.value); // i
      break;
    case "string":
      w.string(4, v.value); // s
      break;
    case "tensor":
      w.message(5, encodeTensor(v.value)); // t
      break;
    case "floats":
      w.packedFloats(7, v.value); // floats
      break;
    case "ints":
      w.packedInts(8, v.value); // ints
      break;
    case "strings":
      for (const s of v.value) w.string(9, s); // strings
      break;
  }
  w.int(20, AttributeType[v.kind]); // type
  return w.finish();
}
