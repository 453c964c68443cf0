/**
 * "Bring your own model": the manifest v2 fixtures of tests/fixtures/byom/ (tiny PyTorch-built
 * networks, tools/byom/README.md) sampled by the SDK and compared with an independent float64
 * PyTorch run of the same plans on the same torch modules (tools/byom/reference_loop.py, not the
 * ONNX files): a float16 diffusers-layout UNet with v-prediction, integer timesteps and
 * classifier-free guidance on a float16 context; a raw EDM denoiser with preconditioning; a latent
 * ε-network with a decoder.
 *
 * Two groups:
 * - `loadModel` + `sample` on wasm and webgpu (manifest v2; webgpu skipped without an adapter),
 *   within 2e-2 of max|x| for the float16 network and 1e-4 for float32 ones, and wasm ≈ webgpu;
 * - the ONNX files driven through `sample()`'s network-function path (cpu), with this file's own
 *   time/preconditioning/guidance wrappers: checks the fixtures and the reference alone, without
 *   manifest v2.
 *
 * The first group uses the public API as a user would: `loadModel(path to a .json manifest)`;
 * `conditioning` values of n × 24 numbers (the whole batch) and `guidance.unconditional` of 24 (one
 * per sample, broadcast), plain numbers for a float16 input; `init` as float32 values; for the
 * latent case, `result.decoded` (`[n, ...decoder.outputShape]`).
 */
import assert from "node:assert/strict";
import { scaledDiff } from "./helpers.ts";
import { loadModel, type NetworkFunction, planFromJSON, sample, type SampleResult } from "../mod.ts";
import type { Plan } from "../src/plan/types.ts";
import { probeAdapter } from "../src/backends/mod.ts";
import { ortWasm as ort } from "../src/runtime/ort.ts";

const FIXTURES = "tests/fixtures/byom";
const hasGpu = (await probeAdapter()) !== null;
const opts = { sanitizeOps: false, sanitizeResources: false };

interface Run {
  plan: string;
  expected: number[];
  maxAbs: number;
  decoded?: number[];
  decodedShape?: number[];
}

interface Reference {
  case: string;
  n: number;
  shape: number[];
  x_T: number[];
  conditioning: Record<string, number[]>;
  guidance: { scale: number; unconditional: Record<string, number[]> } | null;
  runs: Run[];
}

interface Case {
  name: string;
  /** Tolerance on max|sample − reference| / max|reference|. */
  tol: number;
}

const CASES: Case[] = [
  // float16 at the network boundary: inputs, weights and activations rounded to 11 bits.
  { name: "diffusers-unet", tol: 2e-2 },
  { name: "edm-denoiser", tol: 1e-4 },
  { name: "latent", tol: 1e-4 },
];

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(path)) as T;
}

async function fixture(name: string): Promise<{ ref: Reference; plans: Map<string, Plan> }> {
  const ref = await readJson<Reference>(`${FIXTURES}/${name}/reference.json`);
  const plans = new Map<string, Plan>();
  for (const run of ref.runs) {
    plans.set(run.plan, planFromJSON(await Deno.readTextFile(`${FIXTURES}/${name}/${run.plan}`)));
  }
  return { ref, plans };
}

function sampleOptions(ref: Reference, plan: Plan) {
  return {
    plan,
    n: ref.n,
    init: Float32Array.from(ref.x_T),
    ...(Object.keys(ref.conditioning).length > 0 ? { conditioning: ref.conditioning } : {}),
    ...(ref.guidance ? { guidance: ref.guidance } : {}),
  };
}

const hasNative = await (await import("../src/runtime/ort_native.ts")).loadNativeOrt();

for (const c of CASES) {
  for (const backend of ["wasm", "webgpu", "native"] as const) {
    Deno.test({
      name: `byom ${c.name} on ${backend}: loadModel + sample match the float64 torch reference`,
      ignore: (backend === "webgpu" && !hasGpu) || (backend === "native" && !hasNative),
      ...opts,
      fn: async () => {
        const { ref, plans } = await fixture(c.name);
        const model = await loadModel(`${FIXTURES}/${c.name}/model.json`);
        try {
          for (const run of ref.runs) {
            const r: SampleResult = await sample({ model, backend, ...sampleOptions(ref, plans.get(run.plan)!) });
            assert.deepEqual(r.shape, ref.shape);
            const err = scaledDiff(r.data, run.expected);
            assert.ok(err <= c.tol, `${c.name} ${run.plan} on ${backend}: ${err} > ${c.tol} of max|x|`);
            if (run.decoded) {
              // decoder(latents / scalingFactor) on the same backend
              const decoded = r.decoded;
              assert.ok(decoded instanceof Float32Array, "result.decoded");
              assert.deepEqual(r.decodedShape, [ref.shape[0], 1, 16, 16]);
              assert.equal(decoded.length, run.decoded.length);
              const dErr = scaledDiff(decoded, run.decoded);
              assert.ok(dErr <= c.tol, `${c.name} ${run.plan} decoded on ${backend}: ${dErr} > ${c.tol}`);
            }
          }
        } finally {
          await model.dispose();
        }
      },
    });
  }

  Deno.test({
    name: `byom ${c.name}: wasm and webgpu agree`,
    ignore: !hasGpu,
    ...opts,
    fn: async () => {
      const { ref, plans } = await fixture(c.name);
      const model = await loadModel(`${FIXTURES}/${c.name}/model.json`);
      try {
        const run = ref.runs[0];
        const o = sampleOptions(ref, plans.get(run.plan)!);
        const a = await sample({ model, backend: "wasm", ...o });
        const b = await sample({ model, backend: "webgpu", ...o });
        // Both run the same float16/float32 graph; they differ only in kernels' summation order.
        const err = scaledDiff(b.data, a.data);
        assert.ok(err <= c.tol, `${c.name}: webgpu vs wasm ${err} > ${c.tol}`);
      } finally {
        await model.dispose();
      }
    },
  });
}

// ---- Fixture self-check, without manifest v2: the ONNX files as network functions. ----

type Feed = InstanceType<typeof ort.Tensor>;

async function session(path: string) {
  return await ort.InferenceSession.create(await Deno.readFile(path));
}

function halfTensor(values: ArrayLike<number>, dims: number[]): Feed {
  return new ort.Tensor("float16", new Uint16Array(new Float16Array(values).buffer), dims);
}

function halfValues(t: Feed): Float32Array {
  const d = t.data as unknown;
  const bits = d instanceof Uint16Array ? d : new Uint16Array((d as Float16Array).buffer);
  return Float32Array.from(new Float16Array(bits.buffer, bits.byteOffset, bits.length));
}

/** Runs `fn` through sample()'s network-function path for every plan of the fixture. */
async function checkNetworkFunction(
  c: Case,
  fn: NetworkFunction,
  prediction: "eps" | "x0" | "v",
  sampleShape: number[],
): Promise<void> {
  const { ref, plans } = await fixture(c.name);
  for (const run of ref.runs) {
    const r = await sample({
      model: fn,
      sampleShape,
      prediction,
      plan: plans.get(run.plan)!,
      n: ref.n,
      init: Float32Array.from(ref.x_T),
    });
    const err = scaledDiff(r.data, run.expected);
    assert.ok(err <= c.tol, `${c.name} ${run.plan} (network function): ${err} > ${c.tol} of max|x|`);
  }
}

Deno.test({
  name: "byom diffusers-unet fixture: float16 ONNX with index time and guidance matches the reference",
  ...opts,
  fn: async () => {
    const { ref } = await fixture("diffusers-unet");
    const s = await session(`${FIXTURES}/diffusers-unet/unet.fp16.onnx`);
    const n = ref.n, per = 24, cond = ref.conditioning.encoder_hidden_states;
    const un = ref.guidance!.unconditional.encoder_hidden_states;
    const ctx = new Float32Array(2 * n * per);
    ctx.set(cond);
    for (let i = 0; i < n; i++) ctx.set(un, (n + i) * per);
    const w = ref.guidance!.scale;
    // v is linear in the output for a fixed (x, t), so guiding v is guiding ε.
    const fn: NetworkFunction = async (x, p) => {
      const index = BigInt(Math.round(p.t * 1000 - 1));
      const out = await s.run({
        sample: halfTensor([...x, ...x], [2 * n, 4, 8, 8]),
        timestep: new ort.Tensor("int64", new BigInt64Array(2 * n).fill(index), [2 * n]),
        encoder_hidden_states: halfTensor(ctx, [2 * n, 3, 8]),
      });
      const v = halfValues(out.out_sample), L = x.length;
      return Float32Array.from({ length: L }, (_, i) => v[L + i] + w * (v[i] - v[L + i]));
    };
    try {
      await checkNetworkFunction({ name: "diffusers-unet", tol: 2e-2 }, fn, "v", [4, 8, 8]);
    } finally {
      await s.release();
    }
  },
});

Deno.test({
  name: "byom edm-denoiser fixture: the raw ONNX network with EDM preconditioning matches the reference",
  ...opts,
  fn: async () => {
    const s = await session(`${FIXTURES}/edm-denoiser/denoiser.onnx`);
    const sd = 0.5;
    // Under ve α = 1 and σ = ρ; D = c_skip x + c_out F(c_in x, ¼ ln σ) is the x̂₀ prediction.
    const fn: NetworkFunction = async (x, p) => {
      const sigma = p.rho, n = x.length / 64;
      const cIn = 1 / Math.sqrt(sigma * sigma + sd * sd);
      const cSkip = sd * sd / (sigma * sigma + sd * sd), cOut = sigma * sd / Math.sqrt(sigma * sigma + sd * sd);
      const out = await s.run({
        x: new ort.Tensor("float32", x.map((v) => cIn * v), [n, 1, 8, 8]),
        sigma_noise: new ort.Tensor("float32", new Float32Array(n).fill(0.25 * Math.log(sigma)), [n]),
      });
      const F = out.F.data as Float32Array;
      return Float64Array.from(x, (v, i) => cSkip * v + cOut * F[i]);
    };
    try {
      await checkNetworkFunction(CASES[1], fn, "x0", [1, 8, 8]);
    } finally {
      await s.release();
    }
  },
});

Deno.test({
  name: "byom latent fixture: the ε ONNX network with continuous time and its decoder match the reference",
  ...opts,
  fn: async () => {
    const { ref, plans } = await fixture("latent");
    const s = await session(`${FIXTURES}/latent/eps.onnx`);
    const dec = await session(`${FIXTURES}/latent/decoder.onnx`);
    const fn: NetworkFunction = async (x, p) => {
      const n = x.length / 64;
      const out = await s.run({
        x: new ort.Tensor("float32", x, [n, 4, 4, 4]),
        t: new ort.Tensor("float32", new Float32Array(n).fill(999 * p.t), [n]),
      });
      return out.eps.data as Float32Array;
    };
    try {
      await checkNetworkFunction(CASES[2], fn, "eps", [4, 4, 4]);
      const run = ref.runs[0];
      const r = await sample({
        model: fn,
        sampleShape: [4, 4, 4],
        plan: plans.get(run.plan)!,
        init: ref.x_T,
        n: ref.n,
      });
      const latent = new Float32Array(r.data.length).map((_, i) => r.data[i] / 0.5);
      const img = (await dec.run({ latent: new ort.Tensor("float32", latent, [ref.n, 4, 4, 4]) })).image;
      assert.deepEqual(img.dims, run.decodedShape);
      const err = scaledDiff(img.data as Float32Array, run.decoded!);
      assert.ok(err <= 1e-4, `decoded image: ${err} > 1e-4`);
    } finally {
      await s.release();
      await dec.release();
    }
  },
});
