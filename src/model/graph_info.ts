/**
 * The inputs and outputs of an ONNX graph (names, element types, shapes), read straight from the
 * model's protobuf bytes, and the check of a manifest against them. It runs when a model is
 * loaded, before any session is created or any batch allocated: a manifest whose `sampleShape`,
 * `dtype`, input/output names or extra inputs disagree with the graph is a {@link ModelError}
 * naming the manifest key.
 *
 * @module
 */

import { ModelError } from "../errors.ts";
import type { ModelManifest } from "./manifest.ts";

/** One graph input or output: dims are numbers, or strings for symbolic (dynamic) dimensions. */
export interface GraphValue {
  name: string;
  /** ONNX TensorProto.DataType (1 float, 6 int32, 7 int64, 9 bool, 11 double, …); 0 when unknown. */
  elemType: number;
  /** The dims, or undefined when the graph gives no shape. */
  dims?: (number | string)[];
}

/** The graph's interface. */
export interface GraphInfo {
  inputs: GraphValue[];
  outputs: GraphValue[];
}

const ELEM: Record<string, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 };
const ELEM_NAME: Record<number, string> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "float64",
  12: "uint32",
  13: "uint64",
  16: "bfloat16",
};

class Reader {
  pos: number;
  constructor(readonly b: Uint8Array, start = 0, readonly end = b.length) {
    this.pos = start;
  }
  varint(): number {
    let result = 0, mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error("truncated varint");
      const byte = this.b[this.pos++];
      result += (byte & 0x7f) * mul;
      if (byte < 0x80) return result;
      mul *= 128;
    }
    throw new Error("bad varint");
  }
  /** Calls `f(field, wire, reader-at-value)` for each field; skips what `f` does not consume. */
  fields(f: (field: number, wire: number, sub: Reader | number) => void): void {
    while (this.pos < this.end) {
      const key = this.varint();
      const field = Math.floor(key / 8), wire = key & 7;
      if (wire === 0) f(field, wire, this.varint());
      else if (wire === 1) this.skip(8);
      else if (wire === 5) this.skip(4);
      else if (wire === 2) {
        const len = this.varint();
        if (this.pos + len > this.end) throw new Error("truncated field");
        const sub = new Reader(this.b, this.pos, this.pos + len);
        this.pos += len;
        f(field, wire, sub);
      } else throw new Error(`unsupported wire type ${wire}`);
    }
  }
  skip(n: number): void {
    if (this.pos + n > this.end) throw new Error("truncated field");
    this.pos += n;
  }
  string(): string {
    return new TextDecoder().decode(this.b.subarray(this.pos, this.end));
  }
}

function valueInfo(r: Reader): GraphValue {
  const v: GraphValue = { name: "", elemType: 0 };
  r.fields((f, w, sub) => {
    if (f === 1 && w === 2) v.name = (sub as Reader).string();
    if (f === 2 && w === 2) {
      // TypeProto: tensor_type = 1
      (sub as Reader).fields((tf, tw, tsub) => {
        if (tf !== 1 || tw !== 2) return;
        (tsub as Reader).fields((ef, ew, esub) => {
          if (ef === 1 && ew === 0) v.elemType = esub as number;
          if (ef === 2 && ew === 2) {
            v.dims = [];
            (esub as Reader).fields((df, dw, dsub) => {
              if (df !== 1 || dw !== 2) return;
              let dim: number | string = "?";
              (dsub as Reader).fields((xf, xw, xsub) => {
                if (xf === 1 && xw === 0) dim = xsub as number;
                if (xf === 2 && xw === 2) dim = (xsub as Reader).string();
              });
              v.dims!.push(dim);
            });
          }
        });
      });
    }
  });
  return v;
}

/** Reads the graph's inputs (initializers excluded) and outputs. Throws on malformed bytes. */
export function readGraphInfo(bytes: Uint8Array): GraphInfo {
  const inputs: GraphValue[] = [], outputs: GraphValue[] = [];
  const initializers = new Set<string>();
  let sawGraph = false;
  new Reader(bytes).fields((f, w, sub) => {
    if (f !== 7 || w !== 2) return;
    sawGraph = true;
    (sub as Reader).fields((gf, gw, gsub) => {
      if (gw !== 2) return;
      if (gf === 11) inputs.push(valueInfo(gsub as Reader));
      else if (gf === 12) outputs.push(valueInfo(gsub as Reader));
      else if (gf === 5) {
        (gsub as Reader).fields((tf, tw, tsub) => {
          if (tf === 8 && tw === 2) initializers.add((tsub as Reader).string());
        });
      }
    });
  });
  if (!sawGraph) throw new Error("no graph");
  return { inputs: inputs.filter((i) => !initializers.has(i.name)), outputs };
}

function typeName(t: number): string {
  return ELEM_NAME[t] ?? `type ${t}`;
}

function shapeText(dims: (number | string)[]): string {
  return `[${dims.map((d) => typeof d === "number" ? d : JSON.stringify(d)).join(", ")}]`;
}

/**
 * Checks the manifest against the graph: every declared input exists with the declared element
 * type and rank, and its fixed dimensions (all but the batch) equal the manifest's; the same for
 * the output. Symbolic dimensions are accepted. Throws a {@link ModelError} naming the manifest key.
 */
export function checkManifestAgainstGraph(m: ModelManifest, bytes: Uint8Array): void {
  let g: GraphInfo;
  try {
    g = readGraphInfo(bytes);
  } catch (e) {
    throw new ModelError(m.name, `the file is not a readable ONNX model (${(e as Error).message})`, "onnx", {
      cause: e,
    });
  }
  const check = (
    v: GraphValue | undefined,
    name: string,
    nameField: string,
    kind: "input" | "output",
    dtype: string,
    dtypeField: string,
    perSample: number[] | undefined,
    shapeField: string,
  ) => {
    if (!v) {
      const list = (kind === "input" ? g.inputs : g.outputs).map((x) => x.name).join(", ");
      throw new ModelError(m.name, `the ONNX graph has no ${kind} '${name}' (its ${kind}s: ${list})`, nameField);
    }
    if (v.elemType !== 0 && v.elemType !== ELEM[dtype]) {
      throw new ModelError(
        m.name,
        `the ONNX graph ${kind} '${name}' is ${typeName(v.elemType)}, the manifest says ${dtype}`,
        dtypeField,
      );
    }
    if (!v.dims || perSample === undefined) return;
    const want = perSample.length + 1;
    if (v.dims.length !== want) {
      throw new ModelError(
        m.name,
        `the ONNX graph ${kind} '${name}' has shape ${shapeText(v.dims)} (rank ${v.dims.length}); ` +
          `the manifest implies [batch, ${perSample.join(", ")}] (rank ${want})`,
        shapeField,
      );
    }
    for (let i = 1; i < want; i++) {
      const d = v.dims[i];
      if (typeof d === "number" && d > 0 && d !== perSample[i - 1]) {
        throw new ModelError(
          m.name,
          `the ONNX graph ${kind} '${name}' has shape ${shapeText(v.dims)}; the manifest implies ` +
            `[batch, ${perSample.join(", ")}]`,
          shapeField,
        );
      }
    }
  };
  const input = (n: string) => g.inputs.find((i) => i.name === n);
  check(input(m.inputs.x), m.inputs.x, "inputs.x", "input", m.dtype, "dtype", m.sampleShape, "sampleShape");
  // t is [batch] (some exports give it a shape of [batch, 1] or none: only the type is checked)
  check(
    input(m.inputs.t),
    m.inputs.t,
    "inputs.t",
    "input",
    m.time.dtype,
    m.time.dtype === m.dtype ? "dtype" : "time.dtype",
    undefined,
    "inputs.t",
  );
  m.extraInputs.forEach((e, i) => {
    check(
      input(e.name),
      e.name,
      `extraInputs[${i}].name`,
      "input",
      e.dtype,
      `extraInputs[${i}].dtype`,
      e.shape,
      `extraInputs[${i}].shape`,
    );
  });
  check(
    g.outputs.find((o) => o.name === m.output),
    m.output,
    "output",
    "output",
    m.dtype,
    "dtype",
    m.sampleShape,
    "sampleShape",
  );
}
