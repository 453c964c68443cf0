/**
 * Encoding of `GraphProto`, with a structural check that every node input is defined before use.
 *
 * @module
 */

import { encodeNode } from "./node.ts";
import { ProtoWriter } from "./protobuf.ts";
import { encodeTensor } from "./tensor.ts";
import type { GraphSpec } from "./types.ts";
import { encodeValueInfo } from "./value_info.ts";

/**
 * Checks that names are unique, nodes are topologically ordered and every graph output is produced.
 * Throws an `Error` naming the first problem.
 */
export function checkGraph(g: GraphSpec): void {
  const defined = new Set<string>();
  const define = (name: string, what: string) => {
    if (name === "") throw new Error(`graph ${g.name}: empty ${what} name`);
    if (defined.has(name)) {
      throw new Error(`graph ${g.name}: ${what} '${name}' is defined twice`);
    }
    defined.add(name);
  };
  for (const i of g.inputs) define(i.name, "input");
  for (const t of g.initializers) define(t.name, "initializer");
  for (const n of g.nodes) {
    for (const i of n.inputs) {
      // An empty input name means "optional input not given".
      if (i !== "" && !defined.has(i)) {
        throw new Error(
          `graph ${g.name}: node ${n.name ?? n.opType} uses '${i}' before it is defined`,
        );
      }
    }
    for (const o of n.outputs) define(o, "node output");
  }
  for (const o of g.outputs) {
    if (!defined.has(o.name)) {
      throw new Error(`graph ${g.name}: output '${o.name}' is never produced`);
    }
  }
}

/** Encodes a `GraphProto` message (after {@link checkGraph}). */
export function encodeGraph(g: GraphSpec): Uint8Array {
  checkGraph(g);
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n)); // node
  w.string(2, g.name); // name
  for (const t of g.initializers) w.message(5, encodeTensor(t)); // initializer
  if (g.docString !== undefined) w.string(10, g.docString); // doc_string
  for (const i of g.inputs) w.message(11, encodeValueInfo(i)); // input
  for (const o of g.outputs) w.message(12, encodeValueInfo(o)); // output
  return w.finish();
}
