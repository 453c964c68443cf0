/**
 * A minimal ONNX model writer: plain-data specs of ModelProto, GraphProto, NodeProto,
 * TensorProto (float, double, int64), ValueInfoProto and AttributeProto, encoded with our own
 * protobuf writer into bytes that onnxruntime loads.
 *
 * @example
 * ```ts
 * import { encodeModel, GraphBuilder } from "./mod.ts";
 * const g = new GraphBuilder("double");
 * const x = g.input("x", "float", ["batch"]);
 * g.op("Add", [x, x], {}, "y");
 * g.output("y", "float", ["batch"]);
 * const bytes = encodeModel({ irVersion: 8, opsets: [{ domain: "", version: 17 }], graph: g.build() });
 * ```
 *
 * @module
 */

export * from "./types.ts";
export { ProtoWriter, WireType } from "./protobuf.ts";
export { elementCount, encodeTensor, tensorRawData } from "./tensor.ts";
export { encodeAttribute } from "./attribute.ts";
export { encodeValueInfo } from "./value_info.ts";
export { encodeNode } from "./node.ts";
export { checkGraph, encodeGraph } from "./graph.ts";
export { encodeModel } from "./model.ts";
export { type AttributeInput, GraphBuilder } from "./builder.ts";
