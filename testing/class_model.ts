/**
 * A tiny class-conditional model directory with a decoder, standing in for `models/latent-mnist` in
 * tests that must run without model files. Like that model it has the diffusers layout (a
 * `scheduler_config.json`, an int64 training-step time input) and an int64 class input whose null
 * label is the number of classes (the convention of classifier-free guidance training). The network
 * is the synthetic Gaussian one of `synthetic.ts` (its int64 time divided by 1000; `shift·label`
 * added to its output, so guidance is checkable in closed form), the decoder the linear test
 * decoder of `decoder.ts` from the `[2]` latents to `[1, 2, 2]` images.
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
  /** A plain `sde` manifest (vp-linear, continuous time) instead of the diffusers layout. */
  noScheduler?: boolean;
}

/** The stand-in's scheduler: DDIM, cosine ᾱ, ε prediction, `trailing` spacing. */
export const CLASS_MODEL_SCHEDULER = {
  _class_name: "DDIMScheduler",
  num_train_timesteps: 1000,
  beta_schedule: "squaredcos_cap_v2",
  prediction_type: "epsilon",
  timestep_spacing: "trailing",
  steps_offset: 0,
  clip_sample: false,
  set_alpha_to_one: false,
};

/** The manifest and files of the stand-in. */
export function classModelFiles(options: ClassModelOptions = {}): {
  manifest: Record<string, unknown>;
  files: Record<string, Uint8Array>;
} {
  const classes = options.classes ?? 10;
  const diffusers = !options.noScheduler;
  const g = gaussianModel({
    name: "class-standin",
    label: { shift: options.shift ?? 0.05 },
    ...(diffusers ? { intTime: { scale: 1000 } } : {}),
  });
  const extraInputs = [{ name: "label", dtype: "int64", shape: [], null: classes }];
  const manifest: Record<string, unknown> = diffusers
    ? {
      format: "deis-model/2",
      name: "class-standin",
      onnx: "model.onnx",
      scheduler: "scheduler_config.json",
      dtype: "float32",
      time: { kind: "index", dtype: "int64" },
      inputs: { x: "x", t: "t" },
      output: "eps",
      sampleShape: [2],
      extraInputs,
    }
    : { ...g.manifest, format: "deis-model/2", extraInputs };
  const files: Record<string, Uint8Array> = { "model.onnx": g.bytes };
  if (diffusers) {
    files["scheduler_config.json"] = new TextEncoder().encode(JSON.stringify(CLASS_MODEL_SCHEDULER, null, 2));
  }
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

/** Writes the stand-in into `dir` (model.json, model.onnx, decoder.onnx, scheduler_config.json). */
export async function writeClassModel(dir: string, options: ClassModelOptions = {}): Promise<void> {
  const { manifest, files } = classModelFiles(options);
  for (const [name, bytes] of Object.entries(files)) await Deno.writeFile(`${dir}/${name}`, bytes);
  await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(manifest, null, 2));
}
