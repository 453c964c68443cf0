/**
 * A tiny class-conditional model directory with a decoder, standing in for `models/latent-mnist` in
 * tests that must run without model files: the synthetic Gaussian network of `synthetic.ts` with an
 * int64 `label` input (`shift·label` added to its output), whose null label is the number of
 * classes (the convention of classifier-free guidance training), and the linear test decoder of
 * `decoder.ts` from the `[2]` latents to `[1, 2, 2]` images.
 *
 * @module
 */

import { gaussianModel } from "./synthetic.ts";
import { linearDecoder } from "./decoder.ts";

/** Options of {@link writeClassModel}. */
export interface ClassModelOptions {
  /** Number of classes: labels 0 … classes − 1, and `classes` is the null label (default 10). */
  classes?: number;
  /** What one unit of label adds to the network output (default 0.05). */
  shift?: number;
  /** The decoder's `scalingFactor` (default 0.5). */
  scalingFactor?: number;
  /** Leave the decoder out. */
  noDecoder?: boolean;
}

/** The manifest and files of the stand-in. */
export function classModelFiles(options: ClassModelOptions = {}): {
  manifest: Record<string, unknown>;
  files: Record<string, Uint8Array>;
} {
  const classes = options.classes ?? 10;
  const g = gaussianModel({ name: "class-standin", label: { shift: options.shift ?? 0.05 } });
  const manifest: Record<string, unknown> = {
    ...g.manifest,
    format: "deis-model/2",
    extraInputs: [{ name: "label", dtype: "int64", shape: [], null: classes }],
  };
  const files: Record<string, Uint8Array> = { "model.onnx": g.bytes };
  if (!options.noDecoder) {
    manifest.decoder = {
      onnx: "decoder.onnx",
      input: "latent",
      output: "image",
      scalingFactor: options.scalingFactor ?? 0.5,
      outputShape: [1, 2, 2],
      dataRange: [-1, 1],
    };
    files["decoder.onnx"] = linearDecoder();
  }
  return { manifest, files };
}

/** Writes the stand-in into `dir` (model.json, model.onnx, decoder.onnx). */
export async function writeClassModel(dir: string, options: ClassModelOptions = {}): Promise<void> {
  const { manifest, files } = classModelFiles(options);
  for (const [name, bytes] of Object.entries(files)) await Deno.writeFile(`${dir}/${name}`, bytes);
  await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(manifest, null, 2));
}
