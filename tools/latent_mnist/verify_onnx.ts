/**
 * Checks the latent-MNIST ONNX files against PyTorch reference outputs with onnxruntime.
 *
 *   deno run --allow-read --allow-env --allow-ffi tools/latent_mnist/verify_onnx.ts [models/latent-mnist]
 *
 * Reference: models/latent-mnist/check.json (written by export.py). Runs every
 * network with `npm:onnxruntime-node@1.30.0` (native CPU) and `npm:onnxruntime-web@1.30.0` (wasm),
 * at the reference batch and at batch 1 and 9 (dynamic batch axis). float32 files must agree within
 * 1e-4 (absolute), float16 files within 2e-2 + 2e-2·|ref| (their inputs are rounded to float16 too).
 * A runtime without float16 kernels for an op is reported, not counted as a mismatch, as long as
 * another runtime ran the file. Exits 1 on any mismatch or a file no runtime could run.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- tools/ script; the version is pinned here on purpose
import * as ortWeb from "npm:onnxruntime-web@1.30.0";

import { makeTensor, numberView } from "../../src/model/boundary.ts";
import type { Ort } from "../../src/runtime/ort.ts";
const dir = Deno.args[0] ?? "models/latent-mnist";
const check = JSON.parse(
  await Deno.readTextFile(`${dir}/check.json`),
);

function floatTensor(ort: Ort, half: boolean, data: number[], dims: number[]) {
  // the SDK's own float16 handling (raw bits for onnxruntime-node): src/model/boundary.ts
  return makeTensor(ort, half ? "float16" : "float32", half ? Float16Array.from(data) : Float32Array.from(data), dims);
}

function toNumbers(data: unknown): number[] {
  return Array.from(numberView(data));
}

/** Repeats the rows of `a` (`per` values each, `b` rows) to `n` rows. */
function tile<T>(a: T[], per: number, b: number, n: number): T[] {
  const out: T[] = [];
  for (let k = 0; k < n; k++) out.push(...a.slice((k % b) * per, (k % b + 1) * per));
  return out;
}

interface Case {
  file: string;
  half: boolean;
  run: (ort: Ort, s: ortWeb.InferenceSession, n: number) => Promise<number[]>;
  ref: number[];
  per: number;
  b: number;
}

const unetRun = (half: boolean) => async (ort: Ort, s: ortWeb.InferenceSession, n: number) => {
  const b = check.timestep.length, per = 4 * 49;
  const o = await s.run({
    sample: floatTensor(ort, half, tile(check.sample, per, b, n), [n, 4, 7, 7]),
    timestep: new ort.Tensor("int64", BigInt64Array.from(tile(check.timestep as number[], 1, b, n), BigInt), [n]),
    class_labels: new ort.Tensor("int64", BigInt64Array.from(tile(check.class_labels as number[], 1, b, n), BigInt), [
      n,
    ]),
  });
  return toNumbers(o.out_sample.data);
};
const decRun = (half: boolean) => async (ort: Ort, s: ortWeb.InferenceSession, n: number) => {
  const o = await s.run({ latent: floatTensor(ort, half, tile(check.latent, 196, 3, n), [n, 4, 7, 7]) });
  return toNumbers(o.image.data);
};
const encRun = async (ort: Ort, s: ortWeb.InferenceSession, n: number) => {
  const o = await s.run({ image: floatTensor(ort, false, tile(check.enc_image, 784, 3, n), [n, 1, 28, 28]) });
  return toNumbers(o.latent.data);
};

const cases: Case[] = [
  { file: "unet.onnx", half: false, run: unetRun(false), ref: check.out_sample, per: 196, b: 6 },
  { file: "unet.fp16.onnx", half: true, run: unetRun(true), ref: check.out_sample, per: 196, b: 6 },
  { file: "decoder.onnx", half: false, run: decRun(false), ref: check.image, per: 784, b: 3 },
  { file: "decoder.fp16.onnx", half: true, run: decRun(true), ref: check.image, per: 784, b: 3 },
  { file: "encoder.onnx", half: false, run: encRun, ref: check.enc_latent, per: 196, b: 3 },
];

const runtimes: [string, Ort, string[]][] = [["web/wasm", ortWeb, ["wasm"]]];
try {
  // deno-lint-ignore no-import-prefix -- tools/ script; the version is pinned here on purpose
  const mod = await import("npm:onnxruntime-node@1.30.0");
  runtimes.unshift(["node/cpu", ((mod as { default?: unknown }).default ?? mod) as Ort, ["cpu"]]);
} catch (e) {
  console.log(`onnxruntime-node unavailable: ${String(e).split("\n")[0]}`);
}
ortWeb.env.wasm.numThreads = 1;

let failed = false;
for (const c of cases) {
  const bytes = await Deno.readFile(`${dir}/${c.file}`);
  let ran = 0;
  for (const [rtName, ort, eps] of runtimes) {
    let session: ortWeb.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, { executionProviders: eps });
    } catch (e) {
      console.log(`${c.file} [${rtName}]: cannot load (${String(e).split("\n")[0].slice(0, 160)})`);
      continue;
    }
    try {
      let worst = 0, worstRel = 0;
      for (const n of [c.b, 1, 9]) {
        const got = await c.run(ort, session, n);
        const ref = tile(c.ref, c.per, c.b, n);
        for (let i = 0; i < ref.length; i++) {
          const d = Math.abs(got[i] - ref[i]);
          worst = Math.max(worst, d);
          worstRel = Math.max(worstRel, d / (2e-2 + 2e-2 * Math.abs(ref[i])));
          if (!Number.isFinite(got[i])) worst = Infinity;
        }
      }
      const ok = c.half ? worstRel <= 1 : worst <= 1e-4;
      console.log(
        `${c.file} [${rtName}]: max |onnx − torch| = ${worst.toExponential(3)}` +
          (c.half ? ` (${(worstRel * 100).toFixed(1)} % of the float16 tolerance)` : "") + (ok ? "  OK" : "  FAIL"),
      );
      failed ||= !ok;
      ran++;
    } catch (e) {
      console.log(`${c.file} [${rtName}]: cannot run (${String(e).split("\n")[0].slice(0, 160)})`);
    }
  }
  if (!ran) {
    console.log(`${c.file}: no runtime could run it  FAIL`);
    failed = true;
  }
}
if (failed) Deno.exit(1);
console.log("all OK");
