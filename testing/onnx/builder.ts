/**
 * A small convenience layer for assembling graphs: named inputs, constants as initializers and
 * operators whose outputs get fresh, deterministic names.
 *
 * @module
 */

import type {
  AttributeSpec,
  AttributeValue,
  Dim,
  ElemType,
  GraphSpec,
  NodeSpec,
  TensorSpec,
  ValueInfoSpec,
} from "./types.ts";

/** Attribute values accepted by {@link GraphBuilder.op}: plain numbers are ints, use `{kind}` for others. */
export type AttributeInput = number | AttributeValue;

function toAttribute(name: string, v: AttributeInput): AttributeSpec {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) {
      throw new RangeError(
        `attribute ${name}: ${v} is not an integer; use {kind:"float"}`,
      );
    }
    return { name, value: { kind: "int", value: v } };
  }
  return { name, value: v };
}

/** Builds a {@link GraphSpec} step by step. Names are assigned in call order, so builds are reproducible. */
export class GraphBuilder {
  readonly #name: string;
  readonly #nodes: NodeSpec[] = [];
  readonly #initializers: TensorSpec[] = [];
  readonly #inputs: ValueInfoSpec[] = [];
  readonly #outputs: ValueInfoSpec[] = [];
  readonly #used = new Set<string>();
  #counter = 0;

  /**
   * Starts an empty graph.
   * @param name graph name
   */
  constructor(name: string) {
    this.#name = name;
  }

  #claim(name: string): string {
    if (this.#used.has(name)) throw new Error(`name '${name}' is already used`);
    this.#used.add(name);
    return name;
  }

  #fresh(prefix: string): string {
    let name: string;
    do {
      name = `${prefix}_${this.#counter++}`;
    } while (this.#used.has(name));
    return this.#claim(name);
  }

  /** Declares a graph input; returns its name. */
  input(name: string, type: ElemType, shape: readonly Dim[]): string {
    this.#inputs.push({ name: this.#claim(name), type, shape });
    return name;
  }

  /** Adds a constant tensor (initializer); returns its name. A `name` is generated when omitted. */
  constant(
    type: ElemType,
    dims: readonly number[],
    data: TensorSpec["data"],
    name?: string,
  ): string {
    const n = name === undefined ? this.#fresh("const") : this.#claim(name);
    this.#initializers.push({ name: n, type, dims, data });
    return n;
  }

  /** Adds a scalar constant (rank 0) of the given type. */
  scalar(type: ElemType, value: number | bigint, name?: string): string {
    return this.constant(
      type,
      [],
      type === "int64" ? [BigInt(value)] : [Number(value)],
      name,
    );
  }

  /**
   * Adds a node with one output and returns the output's name.
   * @param opType ONNX operator name (default domain)
   * @param inputs input value names
   * @param attributes attribute values by name
   * @param outputName optional fixed name for the output
   */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeInput> = {},
    outputName?: string,
  ): string {
    const out = outputName === undefined ? this.#fresh(opType.toLowerCase()) : this.#claim(outputName);
    this.#nodes.push({
      opType,
      inputs,
      outputs: [out],
      name: `${opType}_node_${this.#nodes.length}`,
      attributes: Object.entries(attributes).map(([k, v]) => toAttribute(k, v)),
    });
    return out;
  }

  /** Declares an existing value as a graph output. */
  output(name: string, type: ElemType, shape: readonly Dim[]): void {
    this.#outputs.push({ name, type, shape });
  }

  /** Returns the finished graph. */
  build(docString?: string): GraphSpec {
    return {
      name: this.#name,
      nodes: [...this.#nodes],
      initializers: [...this.#initializers],
      inputs: [...this.#inputs],
      outputs: [...this.#outputs],
      docString,
    };
  }
}
