/**
 * Encoding of `ModelProto`: the bytes of a `.onnx` file.
 *
 * @module
 */

import { encodeGraph } from "./graph.ts";
import { ProtoWriter } from "./protobuf.ts";
import type { ModelSpec, OpsetSpec } from "./types.ts";

function encodeOpset(o: OpsetSpec): Uint8Array {
  const w = new ProtoWriter();
  if (o.domain !== "") w.string(1, o.domain); // domain
  w.int(2, o.version); // version
  return w.finish();
}

function encodeEntry(key: string, value: string): Uint8Array {
  const w = new ProtoWriter();
  w.string(1, key);
  w.string(2, value);
  return w.finish();
}

/** Encodes a model as the bytes of an ONNX file. Deterministic: equal specs give equal bytes. */
export function encodeModel(m: ModelSpec): Uint8Array {
  if (m.opsets.length === 0) {
    throw new Error("model: at least one opset import is required");
  }
  const w = new ProtoWriter();
  w.int(1, m.irVersion); // ir_version
  if (m.producerName !== undefined) w.string(2, m.producerName); // producer_name
  if (m.producerVersion !== undefined) w.string(3, m.producerVersion); // producer_version
  if (m.domain !== undefined) w.string(4, m.domain); // domain
  if (m.modelVersion !== undefined) w.int(5, m.modelVersion); // model_version
  if (m.docString !== undefined) w.string(6, m.docString); // doc_string
  w.message(7, encodeGraph(m.graph)); // graph
  for (const o of m.opsets) w.message(8, encodeOpset(o)); // opset_import
  for (const [k, v] of m.metadata ?? []) w.message(14, encodeEntry(k, v)); // metadata_props
  return w.finish();
}
