/**
 * The shipped GMM models: each committed `models/<name>/` equals a fresh build byte for byte, its
 * manifest follows docs/MODEL_FORMAT.md, and the committed ONNX file evaluates (onnxruntime-web,
 * wasm) to the exact ε computed in float64 from the manifest's own `gmm` and `sde` keys.
 */
import assert from "node:assert/strict";
import { gmmEpsBatch, gmmFromSpec, referenceSde, seededRng } from "../testing/reference/mod.ts";
import { buildShipped, REPO_ROOT, SHIPPED_GMM_MODELS } from "../tools/gmm/shipped.ts";
import { createWasmSession, runGmmModel } from "../tools/gmm/ort_eval.ts";

const REBUILD_HINT = "run `deno task gmm:all` and commit the result";

for (const m of SHIPPED_GMM_MODELS) {
  const dir = `${REPO_ROOT}/models/${m.name}`;

  Deno.test(`models/${m.name} is up to date with a fresh build (byte for byte)`, async () => {
    const fresh = await buildShipped(m);
    const onnx = await Deno.readFile(`${dir}/model.onnx`);
    const manifest = await Deno.readTextFile(`${dir}/model.json`);
    assert.ok(
      onnx.length === fresh.onnx.length &&
        onnx.every((b, i) => b === fresh.onnx[i]),
      `models/${m.name}/model.onnx differs from a fresh build: ${REBUILD_HINT}`,
    );
    assert.equal(
      manifest,
      fresh.manifest,
      `models/${m.name}/model.json differs from a fresh build: ${REBUILD_HINT}`,
    );
  });

  Deno.test(`models/${m.name}: manifest fields and ONNX output match the exact ε`, async () => {
    const man = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
    assert.equal(man.format, "deis-model/1");
    assert.equal(man.name, m.name);
    assert.equal(man.onnx, "model.onnx");
    assert.deepEqual(man.time, { kind: "continuous", scale: 1 });
    assert.equal(man.prediction, "eps");
    assert.equal(man.dtype, m.dtype);
    assert.deepEqual(man.inputs, { x: "x", t: "t" });
    assert.equal(man.output, "eps");
    assert.deepEqual(man.extraInputs, []);
    assert.deepEqual(man.sde, m.sde);
    assert.ok(
      Array.isArray(man.dataRange) && man.dataRange[0] < man.dataRange[1],
    );
    const g = gmmFromSpec(man.gmm);
    assert.deepEqual(man.sampleShape, g.shape);
    const sde = referenceSde(man.sde);
    assert.equal(man.tStart, sde.tStart);
    assert.equal(man.tEnd, sde.tEnd);

    const session = await createWasmSession(`${dir}/${man.onnx}`);
    try {
      assert.deepEqual(session.inputNames, ["x", "t"]);
      assert.deepEqual(session.outputNames, ["eps"]);
      const rng = seededRng(77);
      const b = 16;
      const t = Array.from(
        { length: b },
        () => man.tEnd + (man.tStart - man.tEnd) * rng.uniform(),
      );
      const x = Array.from({ length: b * g.d }, () => 1.5 * rng.normal());
      const round = (v: number[]) =>
        m.dtype === "float32" ? Float64Array.from(Float32Array.from(v)) : Float64Array.from(v);
      const got = await runGmmModel(
        session,
        m.dtype,
        g.shape,
        round(x),
        round(t),
      );
      const want = gmmEpsBatch(g, sde, round(x), round(t));
      const tol = m.dtype === "float32" ? 2e-5 : 1e-12;
      for (let i = 0; i < b; i++) {
        let num = 0;
        let den = 0;
        for (let j = 0; j < g.d; j++) {
          num += (got[i * g.d + j] - want[i * g.d + j]) ** 2;
          den += want[i * g.d + j] ** 2;
        }
        assert.ok(
          Math.sqrt(num / den) <= tol,
          `sample ${i}: relative error ${Math.sqrt(num / den)}`,
        );
      }
    } finally {
      await session.release();
    }
  });
}
