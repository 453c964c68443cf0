/**
 * Plain-data descriptions of the ONNX messages this writer can encode, and the ONNX enum values
 * they use (field numbers and enum values follow onnx.proto).
 *
 * @module
 */

/** `TensorProto.DataType` values supported by this writer. */
export const DataType = {
  float: 1,
  int64: 7,
  float16: 10,
  double: 11,
} as const;

/** Element type name of a tensor. */
export type ElemType = keyof typeof DataType;

/** `AttributeProto.AttributeType` values. */
export const AttributeType = {
  float: 1,
  int: 2,
  string: 3,
  tensor: 4,
  floats: 6,
  ints: 7,
  strings: 8,
} as const;

/** A dense constant tensor (a graph initializer or a tensor attribute). */
export interface TensorSpec {
  /** Value name the graph refers to. */
  name: string;
  /** Element type. */
  type: ElemType;
  /** Shape; `[]` for a scalar. */
  dims: readonly number[];
  /** Row-major values; `bigint` or integral numbers for int64. */
  data: ArrayLike<number> | ArrayLike<bigint>;
}

/** One dimension of a value's shape: a fixed size, a symbolic name (dynamic), or unknown (`null`). */
export type Dim = number | string | null;

/** A graph input or output: a name, element type and shape. */
export interface ValueInfoSpec {
  /** Value name. */
  name: string;
  /** Element type. */
  type: ElemType;
  /** Omit for an unknown rank. */
  shape?: readonly Dim[];
  /** Free-form description. */
  docString?: string;
}

/** A node attribute value, tagged by its kind. */
export type AttributeValue =
  | { kind: "float"; value: number }
  | { kind: "int"; value: number | bigint }
  | { kind: "string"; value: string }
  | { kind: "tensor"; value: TensorSpec }
  | { kind: "floats"; value: readonly number[] }
  | { kind: "ints"; value: readonly (number | bigint)[] }
  | { kind: "strings"; value: readonly string[] };

/** A named attribute. */
export interface AttributeSpec {
  /** Attribute name, e.g. `axis`. */
  name: string;
  /** Attribute value and kind. */
  value: AttributeValue;
}

/** One operator application. */
export interface NodeSpec {
  /** Operator name, e.g. `Add`. */
  opType: string;
  /** Input value names, in the operator's order (`""` for an omitted optional input). */
  inputs: readonly string[];
  /** Output value names. */
  outputs: readonly string[];
  /** Node name (for diagnostics). */
  name?: string;
  /** Operator domain; empty (the default ONNX domain) when omitted. */
  domain?: string;
  /** Attributes, written in the given order. */
  attributes?: readonly AttributeSpec[];
  /** Free-form description. */
  docString?: string;
}

/** A computation graph. Nodes must be in topological order. */
export interface GraphSpec {
  /** Graph name. */
  name: string;
  /** Nodes in topological order. */
  nodes: readonly NodeSpec[];
  /** Constant tensors. */
  initializers: readonly TensorSpec[];
  /** Graph inputs (runtime feeds). */
  inputs: readonly ValueInfoSpec[];
  /** Graph outputs. */
  outputs: readonly ValueInfoSpec[];
  /** Free-form description. */
  docString?: string;
}

/** An operator-set import: a domain ("" is the default ONNX domain) and its version. */
export interface OpsetSpec {
  /** Operator domain; `""` for the default ONNX domain. */
  domain: string;
  /** Operator-set version, e.g. 17. */
  version: number;
}

/** A complete model. */
export interface ModelSpec {
  /** ONNX IR version (e.g. 8 for opset 17). */
  irVersion: number;
  /** Operator-set imports (at least one). */
  opsets: readonly OpsetSpec[];
  /** The main graph. */
  graph: GraphSpec;
  /** Name of the tool that wrote the model. */
  producerName?: string;
  /** Version of that tool. */
  producerVersion?: string;
  /** Model namespace (reverse-DNS style). */
  domain?: string;
  /** Model version number. */
  modelVersion?: number;
  /** Free-form description. */
  docString?: string;
  /** Free-form key/value metadata (`metadata_props`), written in the given order. */
  metadata?: readonly (readonly [string, string])[];
}
