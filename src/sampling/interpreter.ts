/**
 * The interpreter every backend runs: a plan's program is a list of `init`, `eval` and `combine`
 * operations over registers (docs/CONVENTIONS.md, "Programs"), and each maps onto one call of the
 * backend's {@link Run}. Methods differ only in their programs; there is no per-method loop here.
 *
 * @module
 */

import { AbortError } from "../errors.ts";
import type { Plan } from "../plan/types.ts";
import { programKey } from "../plan/validate.ts";
import { NOISE_STREAM } from "../plan/noise_streams.ts";
import type { CombineSpec, Evaluation, Run } from "../backends/types.ts";
import type { PipelineContext } from "./pipeline.ts";

/** Progress of a sampling loop, reported after every step. */
export interface Progress {
  /** Steps done (1..steps; steps + 1 after the final denoising). */
  step: number;
  /** Total steps of the plan. */
  steps: number;
  /** Network evaluations done so far. */
  nfe: number;
  /** The time reached. */
  t: number;
}

/** What one interpretation needs. */
export interface RunContext {
  /** The backend run (registers already allocated from `plan.program.registers`). */
  run: Run;
  /** The (validated) plan. */
  plan: Plan;
  /** The caller's x_T, or undefined for prior noise. */
  init?: ArrayLike<number>;
  /** Stops between operations. */
  signal?: AbortSignal;
  /** Called after every completed step. */
  onProgress?: (p: Progress) => void;
  /** Evaluations done (updated as the program runs). */
  nfe: number;
  /** When the loop last let the event loop run (performance.now()). */
  lastYield?: number;
  /** img2img, inpainting and previews (src/sampling/pipeline.ts). */
  pipeline?: PipelineContext;
}

/** α and σ at grid index k of the plan (σ = α·ρ). */
function alphaSigma(plan: Plan, k: number): { alpha: number; sigma: number } {
  const alpha = Math.sqrt(plan.alphaBar[k]);
  return { alpha, sigma: alpha * plan.rho[k] };
}

/** The img2img start in register `dst`: `α(t₀)·image + σ(t₀)·z`, z from the img2img stream. */
function startFromImage(run: Run, plan: Plan, dst: number, image: Float64Array): void {
  const { alpha, sigma } = alphaSigma(plan, 0);
  run.upload(dst, image);
  run.combine({ dst, a: alpha, terms: [], noise: { scale: sigma, stream: NOISE_STREAM.img2img, step: 0 } });
}

/**
 * Inpainting after the op that completes step `end`: the known region becomes the image noised to
 * t_end (fresh noise, stream `inpaint`, counter = end), or the image itself when the returned state
 * is reached (the last step without final denoising, or after it).
 */
function replaceKnown(ctx: RunContext, dst: number, end: number): void {
  const { plan, run } = ctx;
  const clean = end > plan.steps || (end === plan.steps && !ctx.pipeline!.inpaint!.denoiseFinal);
  const { alpha, sigma } = clean ? { alpha: 1, sigma: 0 } : alphaSigma(plan, end);
  run.blend!({ dst, alpha, sigma, noise: { stream: NOISE_STREAM.inpaint, step: end } });
}

/** The preview after evaluation `op` (marked): x̂₀ into the scratch register, read with `peek`. */
async function takePreview(ctx: RunContext, step: EvalStep): Promise<void> {
  const pv = ctx.pipeline!.preview!;
  const { ev, dst: v } = step;
  if (ev.output === "x0") ctx.run.combine({ dst: pv.scratch, a: 0, terms: [{ slot: v, coef: 1 }] });
  else {
    const alpha = Math.sqrt(ev.alphaBar);
    ctx.run.combine({
      dst: pv.scratch,
      a: 0,
      src: { slot: step.src, coef: 1 / alpha },
      terms: [{ slot: v, coef: -ev.rho }],
    });
  }
  const x0 = await ctx.run.peek!(pv.scratch);
  pv.last = { step: 0, steps: ctx.plan.steps, nfe: ctx.nfe, t: ev.t, x0 };
}

/**
 * How often, at most, the loop lets the event loop run when someone may be waiting on it (a Stop
 * click, a progress repaint): every 10 ms. Yielding before every evaluation cost about 1.6 ms each
 * (a `setTimeout(0)` round trip), a quarter of a batch-1 native run (bench/results/cold_start.md).
 */
export const YIELD_EVERY_MS = 10;

/** The index of a register name (`x1` → 1). */
const slot = (name: string) => Number(name.slice(1));

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortError(signal.reason);
}

/**
 * Lets the host's event loop run (a Stop click, a progress repaint) before the next evaluation.
 * onnxruntime's WASM `run` settles in microtasks, so without this a whole run would hold the thread.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** An `eval` operation, resolved: registers and the frozen evaluation point. */
interface EvalStep {
  kind: "eval";
  dst: number;
  src: number;
  ev: Readonly<Evaluation>;
}

/**
 * A program operation with its registers resolved and its backend arguments built (copies, frozen:
 * nothing refers back to the plan's own objects).
 */
type Step =
  | EvalStep
  | { kind: "init"; dst: number; prior: Readonly<CombineSpec> }
  | { kind: "combine"; spec: Readonly<CombineSpec>; end?: number };

/**
 * Steps by program content (see `programKey`), then by list (`ops`/`final`) and first evaluation
 * index; at most {@link COMPILED_KEPT} programs.
 */
const compiled = new Map<string, Map<string, readonly Step[]>>();
const COMPILED_KEPT = 64;

/**
 * The steps of the plan's `list` whose first evaluation has index `nfe`; the arguments are
 * frozen. A plan from `checkPlan` has its steps built once and shared by every run of that program.
 */
function stepsOf(plan: Plan, list: "ops" | "final", nfe: number): readonly Step[] {
  const key = programKey(plan);
  let byList = key === undefined ? undefined : compiled.get(key);
  if (key !== undefined && !byList) {
    if (compiled.size >= COMPILED_KEPT) compiled.clear();
    compiled.set(key, byList = new Map());
  }
  const at = `${list} ${nfe}`;
  let steps = byList?.get(at);
  if (steps) return steps;
  const ops = plan.program[list];
  let index = nfe;
  steps = ops.map((op): Step => {
    if (op.op === "eval") {
      const ev = { t: op.t, alphaBar: op.alphaBar, rho: op.rho, step: op.step, index: index++, output: op.out };
      return { kind: "eval", dst: slot(op.dst), src: slot(op.src), ev: Object.freeze(ev) };
    }
    if (op.op === "init") {
      const noise = Object.freeze({ scale: op.scale, stream: NOISE_STREAM.prior, step: 0 });
      return { kind: "init", dst: slot(op.dst), prior: Object.freeze({ dst: slot(op.dst), a: 0, terms: [], noise }) };
    }
    const spec: CombineSpec = {
      dst: slot(op.dst),
      a: op.a,
      src: op.src && Object.freeze({ slot: slot(op.src[0]), coef: op.src[1] }),
      terms: Object.freeze(op.terms.map(([r, coef]) => Object.freeze({ slot: slot(r), coef }))) as CombineSpec["terms"],
      noise: op.noise && Object.freeze({ ...op.noise }),
    };
    return { kind: "combine", spec: Object.freeze(spec), end: op.end };
  });
  byList?.set(at, steps);
  return steps;
}

/** Runs the plan's program (`ops`) or its final denoising (`final`) on the context's backend run. */
export async function interpret(ctx: RunContext, list: "ops" | "final"): Promise<void> {
  const { run, plan } = ctx;
  const pipe = ctx.pipeline;
  const steps = stepsOf(plan, list, ctx.nfe);
  for (let index = 0; index < steps.length; index++) {
    const step = steps[index];
    if (step.kind === "eval") {
      if ((ctx.signal || ctx.onProgress) && performance.now() - (ctx.lastYield ?? -Infinity) >= YIELD_EVERY_MS) {
        await yieldToEventLoop();
        ctx.lastYield = performance.now();
      }
      checkAbort(ctx.signal);
      await run.evaluate(step.dst, step.src, step.ev);
      ctx.nfe++;
      checkAbort(ctx.signal);
      if (pipe?.preview?.marked.has(index) && list === "ops") await takePreview(ctx, step);
    } else if (step.kind === "init") {
      if (pipe?.image) startFromImage(run, plan, step.dst, pipe.image);
      else if (ctx.init !== undefined) run.upload(step.dst, ctx.init);
      else run.combine(step.prior);
    } else {
      run.combine(step.spec);
      const end = step.end;
      if (end !== undefined) {
        if (pipe?.inpaint) replaceKnown(ctx, step.spec.dst, end);
        const last = pipe?.preview?.last;
        if (last && end <= plan.steps && (end % pipe!.preview!.options.every === 0 || end === plan.steps)) {
          pipe!.preview!.options.onPreview({ ...last, step: end });
        }
        const t = plan.timesteps[Math.min(end, plan.steps)];
        ctx.onProgress?.({ step: end, steps: plan.steps, nfe: ctx.nfe, t });
      }
    }
  }
}
