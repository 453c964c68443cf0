/**
 * Encoding of `NodeProto` (one operator application).
 *
 * @module
 */

import { encodeAttribute } from "./attribute.ts";
import { ProtoWriter } from "./protobuf.ts";
import type { NodeSpec } from "./types.ts";

/** Encodes a `NodeProto` message. */
export function encodeNode(n: NodeSpec): Uint8Array {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i); // input
  for (const o of n.outputs) w.string(2, o); // output
  if (n.name !== undefined) w.string(3, n.name); // name
  w.string(4, n.opType); // op_type
  for (const a of n.attributes ?? []) w.message(5, encodeAttribute(a)); // attribute
  if (n.docString !== undefined) w.string(6, n.docString); // doc_string
  if (n.domain !== undefined && n.domain !== "") w.string(7, n.domain); // domain
  return w.finish();
}
