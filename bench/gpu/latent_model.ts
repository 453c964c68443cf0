/**
 * A synthetic latent-sized ε-network for the GPU benchmark: input `x` [batch, 4, 64, 64] (the
 * latent shape of a 512² Stable-Diffusion-like model) and `t` [batch], output `eps` of x's shape.
 * Random but fixed weights (seeded), a few 3×3 convolutions with a time embedding and a residual:
 *
 *     temb = sin(t · f)                                   [B, C, 1, 1]
 *     h = SiLU(conv3x3(x, 4→C) + temb)
 *     h = SiLU(conv3x3(h, C→C))
 *     h = h + SiLU(conv3x3(h, C→C))
 *     eps = tanh(conv3x3(h, C→4))                         bounded, so any plan stays finite
 *
 * About 85 M multiply-accumulates per sample at C = 32 (≈ 7× the MNIST network's 12 M). It is built
 * with the project's own ONNX writer (`testing/onnx/`) and written with a `model.json` manifest
 * (docs/MODEL_FORMAT.md), so `loadModel(dir)` loads it like a shipped model.
 *
 *     deno run -A bench/gpu/latent_model.ts [--out DIR] [--channels 32]   # prints the directory
 *
 * @module
 */

import { mulberry32 as rng } from "../../testing/reference/random.ts";
import { parseArgs } from "node:util";
import { encodeModel, GraphBuilder } from "../../testing/onnx/mod.ts";

/** Options of {@link latentModel}. */
export interface LatentModelOptions {
  /** Hidden channels C (default 32). */
  channels?: number;
  /** Latent channels (default 4). */
  latentChannels?: number;
  /** Spatial side (default 64). */
  size?: number;
  /** Weight seed (default 1). */
  seed?: number;
}

/** The model's bytes and manifest. */
export interface LatentModel {
  bytes: Uint8Array;
  manifest: Record<string, unknown>;
  /** Multiply-accumulates per sample-evaluation (the convolutions). */
  macsPerSample: number;
}

/** Builds the network (see the module doc). */
export function latentModel(options: LatentModelOptions = {}): LatentModel {
  const C = options.channels ?? 32;
  const L = options.latentChannels ?? 4;
  const S = options.size ?? 64;
  const rand = rng(options.seed ?? 1);
  const g = new GraphBuilder("latent-synthetic");
  const x = g.input("x", "float", ["batch", L, S, S]);
  const t = g.input("t", "float", ["batch"]);
  // Weights with variance 1/fan_in, so activations stay O(1).
  const conv = (input: string, cin: number, cout: number) => {
    const fan = cin * 9, a = Math.sqrt(3 / fan);
    const w = Float32Array.from({ length: cout * cin * 9 }, () => (2 * rand() - 1) * a);
    const b = Float32Array.from({ length: cout }, () => (2 * rand() - 1) * 0.1);
    return g.op("Conv", [input, g.constant("float", [cout, cin, 3, 3], w), g.constant("float", [cout], b)], {
      kernel_shape: { kind: "ints", value: [3, 3] },
      pads: { kind: "ints", value: [1, 1, 1, 1] },
    });
  };
  const silu = (h: string) => g.op("Mul", [h, g.op("Sigmoid", [h])]);
  const axes = g.constant("int64", [3], [1n, 2n, 3n]);
  const tb = g.op("Unsqueeze", [t, axes]); // [B, 1, 1, 1]
  const freqs = Float32Array.from({ length: C }, (_, i) => 0.5 + 3 * i / C);
  const temb = g.op("Sin", [g.op("Mul", [tb, g.constant("float", [1, C, 1, 1], freqs)])]);
  let h = silu(g.op("Add", [conv(x, L, C), temb]));
  h = silu(conv(h, C, C));
  h = g.op("Add", [h, silu(conv(h, C, C))]);
  g.op("Tanh", [conv(h, C, L)], {}, "eps");
  g.output("eps", "float", ["batch", L, S, S]);
  const bytes = encodeModel({ irVersion: 8, opsets: [{ domain: "", version: 17 }], graph: g.build() });
  const manifest = {
    format: "deis-model/1",
    name: "latent-synthetic",
    onnx: "model.onnx",
    sde: { name: "vp-linear", betaMin: 0.1, betaMax: 20 },
    tStart: 1,
    tEnd: 1e-3,
    time: { kind: "continuous", scale: 1 },
    prediction: "eps",
    sampleShape: [L, S, S],
    dtype: "float32",
    inputs: { x: "x", t: "t" },
    output: "eps",
    extraInputs: [],
    dataRange: [-1, 1],
  };
  return { bytes, manifest, macsPerSample: S * S * 9 * (L * C + 2 * C * C + C * L) };
}

/** Writes the model (`model.onnx`, `model.json`) into `dir` (default: a new temp dir); returns the dir. */
export async function writeLatentModel(dir?: string, options: LatentModelOptions = {}): Promise<string> {
  const out = dir ?? await Deno.makeTempDir({ prefix: "latent_model_" });
  await Deno.mkdir(out, { recursive: true });
  const m = latentModel(options);
  await Deno.writeFile(`${out}/model.onnx`, m.bytes);
  await Deno.writeTextFile(`${out}/model.json`, JSON.stringify(m.manifest, null, 2) + "\n");
  return out;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string" }, channels: { type: "string", default: "32" } },
  });
  console.log(await writeLatentModel(values.out, { channels: Number(values.channels) }));
}
