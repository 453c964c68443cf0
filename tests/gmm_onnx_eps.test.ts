/**
 * The ONNX GMM graph, evaluated by onnxruntime-web (wasm), against the float64 exact ε of
 * src/reference, for every SDE family and both dtypes, at random (x, t).
 */
import assert from "node:assert/strict";
import {
  type Gmm,
  gmmEpsBatch,
  referenceSde,
  type ReferenceSdeSpec,
  sampleGmm,
  seededRng,
} from "../testing/reference/mod.ts";
import { buildGmmOnnx, type GmmDtype } from "../tools/gmm/graph.ts";
import { createWasmSession, runGmmModel } from "../tools/gmm/ort_eval.ts";
import { readSpecFile } from "../tools/gmm/build.ts";

const SPECS = ["gmm-2d", "gmm-64d", "gmm-image"];
const SDES: ReferenceSdeSpec[] = [
  { name: "vp-linear", betaMin: 0.1, betaMax: 20 },
  { name: "vp-cosine" },
  { name: "ve", sigmaMin: 0.01, sigmaMax: 50 },
];
/** Largest allowed per-sample relative error ‖ε_onnx − ε_ref‖ / ‖ε_ref‖. */
const TOL: Record<GmmDtype, number> = { float32: 2e-5, float64: 1e-12 };

const round = (dtype: GmmDtype, v: ArrayLike<number>) =>
  dtype === "float32" ? Float64Array.from(Float32Array.from(v)) : Float64Array.from(v);

/** Random test points: times from ε to T (biased to small t, endpoints included) and x on and off the data manifold. */
function testPoints(
  g: Gmm,
  sdeSpec: ReferenceSdeSpec,
  n: number,
  seed: number,
) {
  const sde = referenceSde(sdeSpec);
  const rng = seededRng(seed);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = sde.tEnd + (sde.tStart - sde.tEnd) * rng.uniform() ** 2;
  }
  t[0] = sde.tEnd;
  t[1] = sde.tStart;
  const x0 = sampleGmm(g, n, rng);
  const x = new Float64Array(n * g.d);
  for (let i = 0; i < n; i++) {
    const a = sde.alpha(t[i]);
    const s = sde.sigma(t[i]);
    // Every fourth point is off the manifold: wider noise than the marginal.
    const widen = i % 4 === 3 ? 3 : 1;
    for (let j = 0; j < g.d; j++) {
      x[i * g.d + j] = a * x0[i * g.d + j] +
        widen * Math.max(s, 0.1) * rng.normal();
    }
  }
  return { t, x };
}

function worstRelativeError(
  got: Float64Array,
  want: Float64Array,
  d: number,
): number {
  let worst = 0;
  for (let i = 0; i < want.length / d; i++) {
    let num = 0;
    let den = 0;
    for (let j = 0; j < d; j++) {
      num += (got[i * d + j] - want[i * d + j]) ** 2;
      den += want[i * d + j] ** 2;
    }
    worst = Math.max(worst, Math.sqrt(num / den));
  }
  return worst;
}

for (const specName of SPECS) {
  for (const sde of SDES) {
    for (const dtype of ["float32", "float64"] as GmmDtype[]) {
      Deno.test(`onnx ε = exact ε: ${specName}, ${sde.name}, ${dtype}`, async () => {
        const { gmm } = await readSpecFile(
          new URL(`../tools/gmm/specs/${specName}.json`, import.meta.url)
            .pathname,
        );
        const session = await createWasmSession(
          buildGmmOnnx({ gmm, sde, dtype }),
        );
        try {
          const n = gmm.d > 2 ? 200 : 400;
          const { t, x } = testPoints(gmm, sde, n, 1234 + gmm.d);
          const tIn = round(dtype, t);
          const xIn = round(dtype, x);
          const got = await runGmmModel(session, dtype, gmm.shape, xIn, tIn);
          const want = gmmEpsBatch(gmm, sde, xIn, tIn);
          const err = worstRelativeError(got, want, gmm.d);
          console.log(
            `  ${specName} ${sde.name} ${dtype}: worst relative error ${err.toExponential(2)} over ${n} points`,
          );
          assert.ok(
            err <= TOL[dtype],
            `worst relative error ${err} > ${TOL[dtype]}`,
          );
        } finally {
          await session.release();
        }
      });
    }
  }
}

Deno.test("onnx ε: batch of one and a larger batch agree with per-sample evaluation", async () => {
  const { gmm } = await readSpecFile(
    new URL("../tools/gmm/specs/gmm-2d.json", import.meta.url).pathname,
  );
  const sde = SDES[0];
  const session = await createWasmSession(
    buildGmmOnnx({ gmm, sde, dtype: "float64" }),
  );
  try {
    const { t, x } = testPoints(gmm, sde, 8, 7);
    const all = await runGmmModel(session, "float64", gmm.shape, x, t);
    for (let i = 0; i < 8; i++) {
      const one = await runGmmModel(
        session,
        "float64",
        gmm.shape,
        x.subarray(2 * i, 2 * i + 2),
        t.subarray(i, i + 1),
      );
      assert.deepEqual(
        Array.from(one),
        Array.from(all.subarray(2 * i, 2 * i + 2)),
      );
    }
  } finally {
    await session.release();
  }
});
