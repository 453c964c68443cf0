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
  name: string;
  type: ElemType;
  dims: readonly number[];
  /** Row-major values; `bigint` or integral numbers for int64. */
  data: ArrayLike<number> | ArrayLike<bigint>;
}

/** One dimension of a value's shape: a fixed size, a symbolic name (dynamic), or unknown (`null`). */
export type Dim = number | string | null;

/** A graph input or output: a name, element type and shape. */
export interface ValueInfoSpec {
  name: string;
  type: ElemType;
  /** Omit for an unknown rank. */
  shape?: readonly Dim[];
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
  name: string;
  value: AttributeValue;
}

/** One operator application. */
export interface NodeSpec {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  /** Operator domain; empty (the default ONNX domain) when omitted. */
  domain?: string;
  attributes?: readonly AttributeSpec[];
  docString?: string;
}

/** A computation graph. Nodes must be in topological order. */
export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  initializers: readonly TensorSpec[];
  inputs: readonly ValueInfoSpec[];
  outputs: readonly ValueInfoSpec[];
  docString?: string;
}

/** An operator-set import: a domain ("" is the default ONNX domain) and its version. */
export interface OpsetSpec {
  domain: string;
  version: number;
}

/** A complete model. */
export interface ModelSpec {
  /** ONNX IR version (e.g. 8 for opset 17). */
  irVersion: number;
  opsets: readonly OpsetSpec[];
  graph: GraphSpec;
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  /** Free-form key/value metadata (`metadata_props`), written in the given order. */
  metadata?: readonly (readonly [string, string])[];
}
