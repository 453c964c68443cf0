/**
 * Runs each byom fixture's ONNX files with onnxruntime (WASM) on the probe inputs that
 * tools/byom/export.py stored beside them, and compares with the float32 torch module's outputs
 * on the same inputs. Exits non-zero past the tolerances: 1e-5 relative to max|out| for the
 * float32 graphs, 1e-2 for the float16 one (its weights, activations and output are float16).
 *
 * Run: deno run --allow-read tools/byom/check_onnx.ts
 */

import { ortWasm as ort } from "../../src/runtime/ort.ts";

const ROOT = new URL("../../tests/fixtures/byom/", import.meta.url);

interface ProbeTensor {
  dtype: "float16" | "float32" | "int64";
  shape: number[];
  data: number[];
}

interface Probe {
  onnx: string;
  output: string;
  inputs: Record<string, ProbeTensor>;
  torchFloat32: number[];
}

function tensor(p: ProbeTensor): InstanceType<typeof ort.Tensor> {
  if (p.dtype === "int64") return new ort.Tensor("int64", BigInt64Array.from(p.data, BigInt), p.shape);
  if (p.dtype === "float16") {
    // onnxruntime-web takes float16 data as its raw bits.
    return new ort.Tensor("float16", new Uint16Array(new Float16Array(p.data).buffer), p.shape);
  }
  return new ort.Tensor("float32", Float32Array.from(p.data), p.shape);
}

function values(t: InstanceType<typeof ort.Tensor>): number[] {
  if (t.type === "float16") {
    const d = t.data as unknown;
    const bits = d instanceof Uint16Array ? d : new Uint16Array((d as Float16Array).buffer);
    return Array.from(new Float16Array(bits.buffer, bits.byteOffset, bits.length));
  }
  return Array.from(t.data as Float32Array);
}

async function check(dir: string, probe: Probe, tol: number): Promise<boolean> {
  const bytes = await Deno.readFile(new URL(`${dir}/${probe.onnx}`, ROOT));
  const session = await ort.InferenceSession.create(bytes);
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  for (const [name, p] of Object.entries(probe.inputs)) feeds[name] = tensor(p);
  const out = values((await session.run(feeds))[probe.output]);
  await session.release();
  const ref = probe.torchFloat32;
  let d = 0, s = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(out[i] - ref[i]));
    s = Math.max(s, Math.abs(ref[i]));
  }
  const ok = out.length === ref.length && d / s <= tol;
  console.log(
    `${dir}/${probe.onnx}: max|torch| = ${s.toFixed(3)}, max|onnx − torch| = ${d.toExponential(2)} ` +
      `(${(d / s).toExponential(2)} relative, tolerance ${tol}) ${ok ? "ok" : "FAIL"}`,
  );
  return ok;
}

let ok = true;
for (const dir of ["diffusers-unet", "edm-denoiser", "latent"]) {
  const probe = JSON.parse(await Deno.readTextFile(new URL(`${dir}/probe.json`, ROOT)));
  ok = (await check(dir, probe, probe.dtype === "float16" ? 1e-2 : 1e-5)) && ok;
  if (probe.decoder) ok = (await check(dir, probe.decoder, 1e-5)) && ok;
}
if (!ok) Deno.exit(1);
