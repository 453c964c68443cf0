/**
 * The pipeline options of `sample` and `sampleFunction` (img2img, inpainting, previews, decoding):
 * their validation, and what the interpreter needs from them. docs/CONVENTIONS.md, "img2img and
 * inpainting", gives the exact definitions.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { checkFloatRange } from "../limits.ts";
import { truncatePlan } from "../plan/img2img.ts";
import type { Plan } from "../plan/types.ts";
import type { Run } from "../backends/types.ts";

/** An x̂₀ preview, reported every `preview.every` steps. */
export interface Preview {
  /** Steps done when it is reported. */
  step: number;
  /** Total steps of the plan (of the truncated plan for img2img). */
  steps: number;
  /** Network evaluations done. */
  nfe: number;
  /** Time of the evaluation the preview comes from (the most recent one). */
  t: number;
  /** x̂₀ of the batch, row-major `[n, ...sampleShape]`. */
  x0: Float32Array | Float64Array;
}

/** Preview options: `onPreview` every `every` steps (and after the last step). */
export interface PreviewOptions {
  /** Report every k steps (a positive integer). */
  every: number;
  /** Receives the preview. */
  onPreview: (p: Preview) => void;
}

/** The pipeline options (part of `CommonSampleOptions`). */
export interface PipelineOptions {
  /**
   * img2img / inpainting: the known image (one sample, broadcast over the batch, or n samples). The
   * run starts from `α(t₀)·image + σ(t₀)·z`, z from the seed's img2img noise stream, t₀ the plan's
   * first time after truncation to `strength`.
   */
  image?: ArrayLike<number>;
  /** Fraction of the plan's steps kept (default 1): the last ⌊strength·N⌋ steps, coefficients recomputed. */
  strength?: number;
  /** Inpainting: 1 keeps the known `image`, 0 generates (per sample element; one sample or n; values in [0, 1]). */
  mask?: ArrayLike<number>;
  /** x̂₀ previews (off by default; on WebGPU each costs one readback). */
  preview?: PreviewOptions;
  /** Run the model's decoder on the result (default true when the model has one). */
  decode?: boolean;
}

/** The interpreter's view of the pipeline. */
export interface PipelineContext {
  /** img2img start image, expanded to the batch. */
  image?: Float64Array;
  /** Inpainting is on (the run holds the known image and the mask). */
  inpaint?: { denoiseFinal: boolean };
  /** Previews: the scratch x register, and which program ops are the last evaluation before a due step end. */
  preview?: { options: PreviewOptions; scratch: number; marked: Set<number>; last?: Preview };
}

/** Validated pipeline options. */
export interface PreparedPipeline {
  /** The plan to run (truncated for strength < 1). */
  plan: Plan;
  /** What the interpreter needs. */
  ctx: PipelineContext;
  /** Extra x registers the run needs. */
  extraX: number;
  /** Known image and mask, expanded to n·D, for {@link Run.setKnown}. */
  known?: { image: Float64Array; mask: Float64Array };
}

function expand(field: string, v: ArrayLike<number>, n: number, D: number): Float64Array {
  if (v.length === n * D) return Float64Array.from(v);
  if (v.length === D) {
    const out = new Float64Array(n * D);
    for (let i = 0; i < n; i++) out.set(Array.from(v), i * D);
    return out;
  }
  throw new ConfigError(field, `${D} values (one sample) or ${n * D} (n × sample size)`, v.length);
}

function isArrayLike(v: unknown): v is ArrayLike<number> {
  return typeof v === "object" && v !== null && typeof (v as ArrayLike<number>).length === "number";
}

/** The evaluation ops whose x̂₀ is previewed: for each due step end, the last eval before it. */
function markPreviews(plan: Plan, every: number): Set<number> {
  const marked = new Set<number>();
  let lastEval = -1;
  plan.program.ops.forEach((op, i) => {
    if (op.op === "eval") lastEval = i;
    else if (op.op === "combine" && op.end !== undefined && lastEval >= 0) {
      if (op.end % every === 0 || op.end === plan.steps) marked.add(lastEval);
    }
  });
  return marked;
}

/**
 * Validates the pipeline options against the batch and the plan. Throws a {@link ConfigError}
 * naming the option.
 */
export function preparePipeline(
  opts: PipelineOptions & { init?: ArrayLike<number>; denoiseFinal?: boolean },
  plan: Plan,
  n: number,
  sampleShape: readonly number[],
  dtype: "float32" | "float64",
  xSlots: number,
): PreparedPipeline {
  const D = sampleShape.reduce((a, b) => a * b, 1);
  const ctx: PipelineContext = {};
  let extraX = 0;
  let known: PreparedPipeline["known"];
  if (opts.strength !== undefined && opts.image === undefined) {
    throw new ConfigError("strength", "given only with an image", opts.strength);
  }
  if (opts.mask !== undefined && opts.image === undefined) {
    throw new ConfigError("mask", "given only with an image (the known region's values)", "mask without image");
  }
  if (opts.image !== undefined) {
    if (opts.init !== undefined) {
      throw new ConfigError("init", "absent with an image (the image gives the start)", "init and image");
    }
    if (!isArrayLike(opts.image)) throw new ConfigError("image", "an array of numbers", opts.image);
    checkFloatRange("image", opts.image, dtype);
    plan = truncatePlan(plan, opts.strength ?? 1);
    ctx.image = expand("image", opts.image, n, D);
    if (opts.mask !== undefined) {
      if (!isArrayLike(opts.mask)) throw new ConfigError("mask", "an array of numbers in [0, 1]", opts.mask);
      for (let i = 0; i < opts.mask.length; i++) {
        const m = opts.mask[i];
        if (typeof m !== "number" || !(m >= 0 && m <= 1)) {
          throw new ConfigError(`mask[${i}]`, "a number in [0, 1] (1 keeps the image, 0 generates)", m);
        }
      }
      known = { image: ctx.image, mask: expand("mask", opts.mask, n, D) };
      ctx.inpaint = { denoiseFinal: opts.denoiseFinal === true };
    }
  }
  if (opts.preview !== undefined) {
    const p = opts.preview;
    if (typeof p !== "object" || p === null) throw new ConfigError("preview", "{ every, onPreview }", p);
    if (!Number.isSafeInteger(p.every) || p.every < 1) {
      throw new ConfigError("preview.every", "a positive integer (steps between previews)", p.every);
    }
    if (typeof p.onPreview !== "function") throw new ConfigError("preview.onPreview", "a function", p.onPreview);
    ctx.preview = { options: p, scratch: xSlots, marked: markPreviews(plan, p.every) };
    extraX = 1;
  }
  return { plan, ctx, extraX, known };
}

/** Checks that the run implements what the options use. */
export function checkRunSupports(run: Run, prepared: PreparedPipeline, decode: boolean): void {
  const need = (ok: unknown, what: string, option: string) => {
    if (!ok) throw new ConfigError(option, `a backend whose runs implement ${what}`, run.backend);
  };
  if (prepared.known) need(run.setKnown && run.blend, "setKnown and blend", "mask");
  if (prepared.ctx.preview) need(run.peek, "peek", "preview");
  if (decode) need(run.decode, "decode", "decode");
}
