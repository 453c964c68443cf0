/**
 * Programs from coefficient tables. The engine computes every coefficient; this module only lays them
 * out as `init`, `eval` and `combine` operations over registers (docs/CONVENTIONS.md, "Programs"), so
 * that one interpreter runs every method on every backend:
 *
 * - ε rows (ddim, tab, rhoab, logrho, ipndm, euler, ei-score; stochastic DDIM): the ε history is a
 *   ring of r + 1 value registers, ε_{k−j} in `v[(k − j) mod (r + 1)]`;
 * - ρRK: each stage's input in `x1`, the stage ε in `v0 … v_{s−1}`;
 * - DPM-Solver++: the x̂₀ history is a ring of r registers;
 * - UniPC: a ring of r + 1 x̂₀ registers; the predictor writes `x1`, the network's x̂₀ there fills the
 *   ring's next slot, and the corrector rebuilds `x0` from it (no extra evaluation).
 *
 * @module
 */

import { NOISE_STREAM } from "./noise_streams.ts";
import type { CombineOp, EvalOp, Op, Program, RkStage, SdeName } from "./types.ts";

/** What every layout needs: the grid and the schedule on it. */
export interface GridValues {
  /** steps + 1 times. */
  timesteps: readonly number[];
  /** ᾱ on the grid. */
  alphaBar: readonly number[];
  /** ρ on the grid. */
  rho: readonly number[];
  /** The SDE family (the prior's scale). */
  sde: SdeName;
}

const x = (i: number) => `x${i}` as const;
const v = (i: number) => `v${i}` as const;

function initOp(g: GridValues): Op {
  return { op: "init", dst: "x0", scale: g.sde === "ve" ? g.rho[0] : 1 };
}

function evalAt(g: GridValues, k: number, dst: number, src: number, out: "eps" | "x0", step = k): EvalOp {
  return { op: "eval", dst: v(dst), src: x(src), t: g.timesteps[k], alphaBar: g.alphaBar[k], rho: g.rho[k], step, out };
}

/** Final denoising at t_N: `x̂₀ = x/α − ρ ε` from one more evaluation. */
export function denoiseOps(g: GridValues): Op[] {
  const N = g.timesteps.length - 1;
  return [
    evalAt(g, N, 0, 0, "eps"),
    { op: "combine", dst: "x0", a: 1 / Math.sqrt(g.alphaBar[N]), terms: [["v0", -g.rho[N]]], end: N + 1 },
  ];
}

function program(g: GridValues, xRegs: number, vRegs: number, ops: Op[]): Program {
  return { registers: { x: xRegs, v: vRegs }, ops, final: denoiseOps(g) };
}

function withNoise(op: CombineOp, noise: readonly number[] | undefined, k: number): CombineOp {
  const s = noise?.[k] ?? 0;
  if (s !== 0) op.noise = { scale: s, stream: NOISE_STREAM.step, step: k };
  return op;
}

/**
 * ε rows `[x_coef, c_0, …, c_r]`: `x_{k+1} = x_coef·x_k + Σ_{j ≤ min(k, r)} c_j ε_{k−j}` (+ s_k z).
 */
export function rowsProgram(g: GridValues, rows: readonly number[][], noise?: readonly number[]): Program {
  const ring = Math.max(2, ...rows.map((r) => r.length)) - 1;
  const ops: Op[] = [initOp(g)];
  rows.forEach((row, k) => {
    ops.push(evalAt(g, k, k % ring, 0, "eps"));
    const terms: CombineOp["terms"] = [];
    for (let j = 0; j + 1 < row.length && j <= k; j++) terms.push([v((k - j) % ring), row[j + 1]]);
    ops.push(withNoise({ op: "combine", dst: "x0", a: row[0], terms, end: k + 1 }, noise, k));
  });
  return program(g, 1, ring, ops);
}

/**
 * ρRK: stage m evaluates on `xCoef·x_k + Σ_l coefs_l ε^{(l)}` (stage 0 on x_k itself when it is
 * exactly x_k), and the row `[x_coef, c_0, …]` ends the step.
 */
export function stagesProgram(
  g: GridValues,
  stages: readonly RkStage[][],
  rows: readonly number[][],
  noise?: readonly number[],
): Program {
  const S = Math.max(1, ...stages.map((s) => s.length));
  const ops: Op[] = [initOp(g)];
  stages.forEach((st, k) => {
    st.forEach((s, m) => {
      let input = 0;
      if (!(s.xCoef === 1 && s.coefs.every((c) => c === 0))) {
        ops.push({ op: "combine", dst: "x1", a: 0, src: ["x0", s.xCoef], terms: s.coefs.map((c, l) => [v(l), c]) });
        input = 1;
      }
      ops.push({ op: "eval", dst: v(m), src: x(input), t: s.t, alphaBar: s.alphaBar, rho: s.rho, step: k, out: "eps" });
    });
    const row = rows[k];
    const terms = row.slice(1).map((c, m) => [v(m), c] as [`v${number}`, number]);
    ops.push(withNoise({ op: "combine", dst: "x0", a: row[0], terms, end: k + 1 }, noise, k));
  });
  return program(g, stages.length ? 2 : 1, S, ops);
}

/**
 * DPM-Solver++ multistep from the engine's rows `[ratio, c_0, …, c_{r−1}]`:
 * `x_{k+1} = ratio·x_k + Σ_{j < q_k} c_j x̂₀_{k−j}`, with the step order `q_k = orders[k]` from the
 * engine (`dataStepOrder`: warm start, lower order at the end). The network is evaluated at x_k for
 * k = 0..N−1.
 */
export function dpmppProgram(g: GridValues, rows: readonly number[][], orders: readonly number[]): Program {
  const r = Math.max(1, ...orders);
  const ops: Op[] = [initOp(g)];
  rows.forEach((row, k) => {
    ops.push(evalAt(g, k, k % r, 0, "x0"));
    const terms: CombineOp["terms"] = [];
    for (let j = 0; j < orders[k]; j++) terms.push([v((k - j) % r), row[j + 1]]);
    ops.push({ op: "combine", dst: "x0", a: row[0], terms, end: k + 1 });
  });
  return program(g, 1, r, ops);
}

/**
 * UniPC from the engine's predictor rows `[ratio, p_0, …]` and corrector rows
 * `[ratio, c_new, c_0, …]`. Step k predicts `x^p = ratio·x_k + Σ p_j x̂₀_{k−j}` into x1, evaluates
 * x̂₀ there (the history's next entry), and corrects `x_{k+1} = ratio·x_k + c_new·x̂₀(x^p) + Σ c_j
 * x̂₀_{k−j}`. The last step has no corrector: x_N is the predictor's value.
 */
export function unipcProgram(
  g: GridValues,
  pred: readonly number[][],
  corr: readonly number[][],
  orders: readonly number[],
): Program {
  const ring = Math.max(1, ...orders) + 1;
  const N = pred.length;
  const ops: Op[] = [initOp(g), evalAt(g, 0, 0, 0, "x0")];
  const history = (k: number, row: readonly number[], from: number) => {
    const terms: CombineOp["terms"] = [];
    for (let j = 0; j < orders[k]; j++) terms.push([v((k - j) % ring), row[from + j]]);
    return terms;
  };
  for (let k = 0; k < N; k++) {
    if (k === N - 1) {
      ops.push({ op: "combine", dst: "x0", a: pred[k][0], terms: history(k, pred[k], 1), end: k + 1 });
      break;
    }
    ops.push({ op: "combine", dst: "x1", a: 0, src: ["x0", pred[k][0]], terms: history(k, pred[k], 1) });
    ops.push(evalAt(g, k + 1, (k + 1) % ring, 1, "x0", k));
    const terms: CombineOp["terms"] = [[v((k + 1) % ring), corr[k][1]], ...history(k, corr[k], 2)];
    ops.push({ op: "combine", dst: "x0", a: corr[k][0], terms, end: k + 1 });
  }
  return program(g, N > 1 ? 2 : 1, ring, ops);
}
