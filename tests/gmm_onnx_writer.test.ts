/** The ONNX writer (src/onnx): protobuf wire encoding, and models that onnxruntime-web loads and runs. */
import assert from "node:assert/strict";
import {
  checkGraph,
  encodeModel,
  encodeTensor,
  GraphBuilder,
  type ModelSpec,
  ProtoWriter,
} from "../testing/onnx/mod.ts";
import { createWasmSession, ort } from "../tools/gmm/ort_eval.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

/** A tiny independent wire-format reader: field number → list of raw values (bigint or bytes). */
function decode(bytes: Uint8Array): Map<number, (bigint | Uint8Array)[]> {
  const out = new Map<number, (bigint | Uint8Array)[]>();
  let i = 0;
  const varint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
    }
  };
  while (i < bytes.length) {
    const key = Number(varint());
    const field = key >> 3;
    let value: bigint | Uint8Array;
    switch (key & 7) {
      case 0:
        value = varint();
        break;
      case 1:
        value = bytes.slice(i, i + 8);
        i += 8;
        break;
      case 2: {
        const n = Number(varint());
        value = bytes.slice(i, i + n);
        i += n;
        break;
      }
      case 5:
        value = bytes.slice(i, i + 4);
        i += 4;
        break;
      default:
        throw new Error(`wire type ${key & 7}`);
    }
    if (!out.has(field)) out.set(field, []);
    out.get(field)!.push(value);
  }
  assert.equal(i, bytes.length);
  return out;
}
const text = (v: bigint | Uint8Array) => new TextDecoder().decode(v as Uint8Array);

Deno.test("protobuf: varints, negative int64, fixed32/64, strings, packed", () => {
  const w = new ProtoWriter();
  w.int(1, 150);
  w.int(2, -1);
  w.int(3, 2n ** 63n - 1n);
  w.float(4, 1.5);
  w.double(5, -2);
  w.string(6, "ε");
  w.packedInts(7, [1, 300]);
  w.packedInts(8, []);
  assert.equal(
    hex(w.finish()),
    "08 96 01 10 ff ff ff ff ff ff ff ff ff 01 18 ff ff ff ff ff ff ff ff 7f 25 00 00 c0 3f " +
      "29 00 00 00 00 00 00 00 c0 32 02 ce b5 3a 03 01 ac 02",
  );
  assert.throws(() => w.int(1, 0.5), RangeError);
});

Deno.test("tensor: raw little-endian data for float, double, int64; length checked", () => {
  const f = decode(
    encodeTensor({ name: "w", type: "float", dims: [2], data: [1, -2] }),
  );
  assert.deepEqual(f.get(2), [1n]); // FLOAT
  assert.equal(text(f.get(8)![0]), "w");
  assert.deepEqual(
    Array.from(new Float32Array((f.get(9)![0] as Uint8Array).buffer)),
    [1, -2],
  );
  const d = decode(
    encodeTensor({ name: "d", type: "double", dims: [1, 1], data: [Math.PI] }),
  );
  assert.deepEqual(d.get(2), [11n]); // DOUBLE
  assert.deepEqual(
    Array.from(new Float64Array((d.get(9)![0] as Uint8Array).buffer)),
    [Math.PI],
  );
  const i = decode(
    encodeTensor({ name: "i", type: "int64", dims: [3], data: [-1n, 0n, 7n] }),
  );
  assert.deepEqual(i.get(2), [7n]); // INT64
  assert.deepEqual(
    Array.from(new BigInt64Array((i.get(9)![0] as Uint8Array).buffer)),
    [-1n, 0n, 7n],
  );
  const s = decode(
    encodeTensor({ name: "s", type: "double", dims: [], data: [1] }),
  );
  assert.equal(s.get(1), undefined); // a scalar has no dims
  assert.throws(
    () => encodeTensor({ name: "bad", type: "float", dims: [3], data: [1, 2] }),
    /2 values/,
  );
});

Deno.test("graph check: undefined inputs, duplicates and missing outputs are rejected", () => {
  const g = new GraphBuilder("g");
  const x = g.input("x", "float", ["n"]);
  g.op("Neg", [x], {}, "y");
  assert.throws(() => g.op("Neg", [x], {}, "y"), /already used/);
  g.output("z", "float", ["n"]);
  assert.throws(() => checkGraph(g.build()), /never produced/);
  assert.throws(
    () =>
      checkGraph({
        name: "h",
        nodes: [{ opType: "Neg", inputs: ["a"], outputs: ["b"] }],
        initializers: [],
        inputs: [],
        outputs: [],
      }),
    /before it is defined/,
  );
});

function model(graph: ModelSpec["graph"]): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsets: [{ domain: "", version: 17 }],
    producerName: "test",
    metadata: [["k", "v"]],
    graph,
  });
}

Deno.test("model: ModelProto fields decode back (ir_version, opset, graph, metadata)", () => {
  const g = new GraphBuilder("tiny");
  const x = g.input("x", "double", ["batch", 3]);
  g.op("Neg", [x], {}, "y");
  g.output("y", "double", ["batch", 3]);
  const bytes = model(g.build("doc"));
  const m = decode(bytes);
  assert.deepEqual(m.get(1), [8n]);
  assert.equal(text(m.get(2)![0]), "test");
  const opset = decode(m.get(8)![0] as Uint8Array);
  assert.deepEqual(opset.get(2), [17n]);
  const meta = decode(m.get(14)![0] as Uint8Array);
  assert.deepEqual([text(meta.get(1)![0]), text(meta.get(2)![0])], ["k", "v"]);
  const graph = decode(m.get(7)![0] as Uint8Array);
  assert.equal(text(graph.get(2)![0]), "tiny");
  assert.equal(text(graph.get(10)![0]), "doc");
  const input = decode(graph.get(11)![0] as Uint8Array);
  assert.equal(text(input.get(1)![0]), "x");
  const tensorType = decode(
    decode(input.get(2)![0] as Uint8Array).get(1)![0] as Uint8Array,
  );
  assert.deepEqual(tensorType.get(1), [11n]);
  const dims = decode(tensorType.get(2)![0] as Uint8Array).get(1)!.map((d) => decode(d as Uint8Array));
  assert.equal(text(dims[0].get(2)![0]), "batch");
  assert.deepEqual(dims[1].get(1), [3n]);
  // Deterministic.
  assert.deepEqual(model(g.build("doc")), bytes);
});

Deno.test("onnxruntime-web (wasm) runs our models: double/int64/float initializers, attributes, dynamic batch", async () => {
  for (const type of ["float", "double"] as const) {
    const g = new GraphBuilder("run");
    const x = g.input("x", type, ["batch", 2, 3]);
    const w = g.constant(type, [3], [0.5, -1, 2], "w");
    const flat = g.op("Reshape", [x, g.constant("int64", [2], [-1n, 3n])]);
    const scaled = g.op("Mul", [flat, w]);
    const leaky = g.op("LeakyRelu", [scaled], {
      alpha: { kind: "float", value: 0.25 },
    });
    const tr = g.op("Transpose", [leaky], {
      perm: { kind: "ints", value: [1, 0] },
    });
    const sum = g.op("ReduceSum", [tr, g.constant("int64", [1], [1n])], {
      keepdims: 0,
    });
    g.op("Softmax", [g.op("Add", [sum, g.scalar(type, 1)])], { axis: 0 }, "y");
    g.output("y", type, [null]);
    const session = await createWasmSession(model(g.build()));
    try {
      for (const batch of [1, 4]) {
        const data = Array.from(
          { length: batch * 6 },
          (_, i) => (i % 5) - 2.25,
        );
        const Arr = type === "float" ? Float32Array : Float64Array;
        const res = await session.run({
          x: new ort.Tensor(
            type === "float" ? "float32" : "float64",
            Arr.from(data),
            [batch, 2, 3],
          ),
        });
        // Reference in float64.
        const z = Array.from({ length: 3 }, (_, j) => {
          let s = 0;
          for (let r = 0; r < batch * 2; r++) {
            const v = Number(Arr.from(data)[r * 3 + j]) * [0.5, -1, 2][j];
            s += v >= 0 ? v : 0.25 * v;
          }
          return s + 1;
        });
        const m = Math.max(...z);
        const e = z.map((v) => Math.exp(v - m));
        const want = e.map((v) => v / e.reduce((a, b) => a + b, 0));
        const got = Array.from(res.y.data as Float32Array | Float64Array);
        assert.deepEqual(res.y.dims, [3]);
        const tol = type === "float" ? 1e-6 : 1e-15;
        got.forEach((v, i) =>
          assert.ok(
            Math.abs(v - want[i]) < tol,
            `${type} batch ${batch}: ${got} vs ${want}`,
          )
        );
      }
    } finally {
      await session.release();
    }
  }
});
