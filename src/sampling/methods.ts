/**
 * The sampling methods, each a short loop over two backend operations: `evaluate` (network → ε
 * register) and `combine` (the linear update `x ← a·x + Σ c_j ε_j (+ s·z)`). Every coefficient
 * comes from the plan (docs/CONVENTIONS.md), so one loop serves ddim, tab, rhoab, logrho, ipndm,
 * euler and ei-score (multistep rows), one serves rhork (stages), and stochastic sampling is the
 * plan's per-step noise scale.
 *
 * @module
 */

import { AbortError } from "../errors.ts";
import type { Plan } from "../plan/types.ts";
import { NOISE_STREAM } from "../backends/noise.ts";
import type { Evaluation, Run } from "../backends/types.ts";

/** Register layout shared by the methods. */
export const X = 0;
/** The ρRK stage input register. */
export const X_STAGE = 1;

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

/** What the method loops share. */
export interface LoopContext {
  run: Run;
  plan: Plan;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Evaluations done (updated by the loops). */
  nfe: number;
}

/** Registers a method needs: `[x registers, ε registers]`. */
export function registersFor(plan: Plan): [number, number] {
  if (plan.method === "rhork") {
    const s = Math.max(1, ...(plan.stages ?? []).map((st) => st.length));
    return [2, s];
  }
  const width = Math.max(2, ...plan.rows.map((r) => r.length));
  return [1, width - 1];
}

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

async function evaluate(
  ctx: LoopContext,
  eps: number,
  x: number,
  ev: Omit<Evaluation, "index">,
): Promise<void> {
  if (ctx.signal || ctx.onProgress) await yieldToEventLoop();
  checkAbort(ctx.signal);
  await ctx.run.evaluate(eps, x, { ...ev, index: ctx.nfe });
  ctx.nfe++;
  checkAbort(ctx.signal);
}

function stepNoise(
  plan: Plan,
  k: number,
): { scale: number; stream: number; step: number } | undefined {
  const s = plan.noise?.[k] ?? 0;
  return s !== 0 ? { scale: s, stream: NOISE_STREAM.step, step: k } : undefined;
}

function progress(ctx: LoopContext, step: number, t: number): void {
  ctx.onProgress?.({ step, steps: ctx.plan.steps, nfe: ctx.nfe, t });
}

/**
 * Multistep rows `[x_coef, c_0, …, c_r]`: `x_{k+1} = x_coef·x_k + Σ_j c_j ε_{k−j}` (+ s_k z).
 * The ε history is a ring of r+1 registers; ε_{k−j} lives in register (k − j) mod (r + 1).
 */
export async function multistepLoop(ctx: LoopContext): Promise<void> {
  const { run, plan } = ctx;
  const ring = registersFor(plan)[1];
  for (let k = 0; k < plan.steps; k++) {
    await evaluate(ctx, k % ring, X, {
      t: plan.timesteps[k],
      alphaBar: plan.alphaBar[k],
      rho: plan.rho[k],
      step: k,
    });
    const row = plan.rows[k];
    const terms = [];
    for (let j = 0; j + 1 < row.length && j <= k; j++) {
      terms.push({ slot: (k - j) % ring, coef: row[j + 1] });
    }
    run.combine({ dst: X, a: row[0], terms, noise: stepNoise(plan, k) });
    progress(ctx, k + 1, plan.timesteps[k + 1]);
  }
}

/**
 * ρRK: stage m evaluates the network on `xCoef·x_k + Σ_l coefs_l ε^{(l)}` (stage 0 on x_k itself),
 * and the step ends with the row `x_{k+1} = x_coef·x_k + Σ_m c_m ε^{(m)}` (+ s_k z).
 */
export async function rhorkLoop(ctx: LoopContext): Promise<void> {
  const { run, plan } = ctx;
  const stages = plan.stages ?? [];
  for (let k = 0; k < plan.steps; k++) {
    const st = stages[k];
    for (let m = 0; m < st.length; m++) {
      const s = st[m];
      let input = X;
      if (!(s.xCoef === 1 && s.coefs.every((c) => c === 0))) {
        run.combine({
          dst: X_STAGE,
          a: 0,
          src: { slot: X, coef: s.xCoef },
          terms: s.coefs.map((coef, l) => ({ slot: l, coef })),
        });
        input = X_STAGE;
      }
      await evaluate(ctx, m, input, {
        t: s.t,
        alphaBar: s.alphaBar,
        rho: s.rho,
        step: k,
      });
    }
    const row = plan.rows[k];
    run.combine({
      dst: X,
      a: row[0],
      terms: row.slice(1).map((coef, m) => ({ slot: m, coef })),
      noise: stepNoise(plan, k),
    });
    progress(ctx, k + 1, plan.timesteps[k + 1]);
  }
}

/** Final denoising at t = ε: `x̂₀ = (x − σ ε)/α = x/α − ρ ε` (one extra evaluation). */
export async function denoiseFinal(ctx: LoopContext): Promise<void> {
  const { run, plan } = ctx;
  const N = plan.steps;
  const alphaBar = plan.alphaBar[N], rho = plan.rho[N];
  await evaluate(ctx, 0, X, { t: plan.timesteps[N], alphaBar, rho, step: N });
  run.combine({
    dst: X,
    a: 1 / Math.sqrt(alphaBar),
    terms: [{ slot: 0, coef: -rho }],
  });
  progress(ctx, N + 1, plan.timesteps[N]);
}

/** x_T: `std·z` from the prior noise stream (std = 1 for VP, σ(T) for VE). */
export function initPrior(run: Run, plan: Plan): void {
  const std = plan.sde.name === "ve" ? plan.rho[0] : 1;
  run.combine({
    dst: X,
    a: 0,
    terms: [],
    noise: { scale: std, stream: NOISE_STREAM.prior, step: 0 },
  });
}
