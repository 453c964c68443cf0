// The decoder stage: manifest validation, the graph check, confinement of its file, and decoding on
// wasm and webgpu against the closed form of a linear test decoder.

import assert from "node:assert/strict";
import { ConfigError, loadModel, makePlan, ModelError, sample, validateManifest } from "../mod.ts";
import { gpuBufferStats, probeAdapter } from "../src/backends/mod.ts";
import { gaussianModel } from "../testing/synthetic.ts";
import { decodeReference, linearDecoder } from "../testing/decoder.ts";
import { maxRelErr } from "./helpers.ts";

const hasGpu = (await probeAdapter()) !== null;
const g = gaussianModel({ std: 0.5 });
const decoder = { onnx: "decoder.onnx", input: "latent", output: "image", scalingFactor: 0.5, outputShape: [1, 2, 2] };
const manifest = { ...g.manifest, format: "deis-model/2", decoder };

Deno.test("decoder manifest errors name decoder.<key>", () => {
  const cases: [unknown, string][] = [
    [[], "decoder"],
    [{ ...decoder, onnx: "../x.onnx" }, "decoder.onnx"],
    [{ ...decoder, onnx: "" }, "decoder.onnx"],
    [{ ...decoder, scalingFactor: 0 }, "decoder.scalingFactor"],
    [{ ...decoder, scalingFactor: "1" }, "decoder.scalingFactor"],
    [{ ...decoder, outputShape: [] }, "decoder.outputShape"],
    [{ ...decoder, outputShape: [1, 0] }, "decoder.outputShape[1]"],
    [{ ...decoder, dtype: "int8" }, "decoder.dtype"],
    [{ ...decoder, dataRange: [1, -1] }, "decoder.dataRange"],
    [{ ...decoder, colour: true }, "decoder.colour"],
  ];
  for (const [d, field] of cases) {
    assert.throws(
      () => validateManifest({ ...g.manifest, format: "deis-model/2", decoder: d }),
      (e) => e instanceof ModelError && e.field === field,
      JSON.stringify(d),
    );
  }
  const m = validateManifest(manifest);
  assert.deepEqual(m.decoder, { ...decoder, dtype: "float32" });
  assert.equal(m.extra.decoder, undefined);
});

Deno.test("the decoder graph is checked against the manifest at load", async () => {
  const load = (d: Record<string, unknown>, bytes = linearDecoder()) =>
    loadModel(g.bytes, {
      manifest: { ...g.manifest, format: "deis-model/2", decoder: { ...decoder, ...d } },
      decoderBytes: bytes,
    });
  const cases: [Record<string, unknown>, Uint8Array | undefined, string][] = [
    [{ input: "z" }, undefined, "decoder.input"],
    [{ output: "img" }, undefined, "decoder.output"],
    [{ outputShape: [4, 1] }, undefined, "decoder.outputShape"],
    [{ outputShape: [1, 2, 2, 1] }, undefined, "decoder.outputShape"],
    [{ dtype: "float16" }, undefined, "decoder.dtype"],
    [{}, new Uint8Array([1, 2, 3]), "decoder.onnx"],
  ];
  for (const [d, bytes, field] of cases) {
    await assert.rejects(load(d, bytes), (e) => e instanceof ModelError && e.field === field, JSON.stringify(d));
  }
  await assert.rejects(
    loadModel(g.bytes, { manifest }),
    (e) => e instanceof ModelError && e.field === "decoder",
  );
});

Deno.test("the decoder file is confined to the model directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/model.onnx`, g.bytes);
    await Deno.writeFile(`${dir}/decoder.onnx`, linearDecoder());
    await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(manifest));
    const model = await loadModel(dir);
    assert.equal(model.decoder?.spec.scalingFactor, 0.5);
    await model.dispose();
    await Deno.symlink("/etc/hostname", `${dir}/escape.onnx`).catch(() => {});
    for (const onnx of ["../decoder.onnx", "/etc/hostname", "missing.onnx", "escape.onnx"]) {
      await Deno.writeTextFile(
        `${dir}/model.json`,
        JSON.stringify({ ...manifest, format: "deis-model/2", decoder: { ...decoder, onnx } }),
      );
      await assert.rejects(loadModel(dir), (e) => e instanceof ModelError && e.field === "decoder.onnx", onnx);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "sample() decodes on wasm and webgpu: (latents / scalingFactor)·W + b",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const model = await loadModel(g.bytes, { manifest, decoderBytes: linearDecoder() });
    try {
      const plan = makePlan({ method: "tab", order: 2, steps: 6 });
      for (const backend of hasGpu ? ["wasm", "webgpu"] as const : ["wasm"] as const) {
        const before = gpuBufferStats().live;
        const r = await sample({ model, plan, n: 3, seed: 8, backend });
        assert.deepEqual(r.decodedShape, [3, 1, 2, 2]);
        const want = decodeReference(r.data, 0.5);
        assert.ok(maxRelErr(r.decoded!, want) < 1e-5, `${backend}: rel ${maxRelErr(r.decoded!, want)}`);
        if (backend === "webgpu") {
          assert.equal(r.gpu!.readbacks, 1, "the latents reach the decoder on the GPU");
          assert.equal(gpuBufferStats().live, before, "buffers released");
        }
        const skip = await sample({ model, plan, n: 3, seed: 8, backend, decode: false });
        assert.equal(skip.decoded, undefined);
        assert.deepEqual(skip.data, r.data);
      }
    } finally {
      await model.dispose();
    }
  },
});

Deno.test({
  name: "a float16 decoder: the input is rounded to float16 and the output widened (wasm and webgpu)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const m16 = { ...g.manifest, format: "deis-model/2", decoder: { ...decoder, dtype: "float16" } };
    const model = await loadModel(g.bytes, { manifest: m16, decoderBytes: linearDecoder({ dtype: "float16" }) });
    try {
      const plan = makePlan({ steps: 5 });
      for (const backend of hasGpu ? ["wasm", "webgpu"] as const : ["wasm"] as const) {
        const r = await sample({ model, plan, n: 4, seed: 5, backend });
        const half = (v: number) => Math.f16round(v);
        const want = decodeReference(Array.from(r.data, (v) => half(v / 0.5) * 0.5), 0.5).map(half);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(r.decoded![i] - want[i]));
        // one float16 rounding of the sum may differ (about 2⁻¹⁰ relative); everything else is exact
        assert.ok(worst <= 2 ** -9 * Math.max(...want.map(Math.abs)), `${backend}: ${worst}`);
      }
    } finally {
      await model.dispose();
    }
  },
});

Deno.test("decode errors: no decoder, not a boolean, a function network", async () => {
  const plain = await loadModel(g.bytes, { manifest: g.manifest });
  try {
    const plan = makePlan({ steps: 3 });
    await assert.rejects(
      sample({ model: plain, plan, backend: "wasm", decode: true }),
      (e) => e instanceof ConfigError && e.field === "decode",
    );
    await assert.rejects(
      sample({ model: plain, plan, backend: "wasm", decode: "yes" as never }),
      (e) => e instanceof ConfigError && e.field === "decode",
    );
    await assert.rejects(
      sample({ model: (x) => x, sampleShape: [2], plan, decode: true }),
      (e) => e instanceof ConfigError && e.field === "decode",
    );
  } finally {
    await plain.dispose();
  }
});
