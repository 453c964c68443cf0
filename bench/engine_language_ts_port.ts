/**
 * Bench-only: a plain-TypeScript transcription of the path the AssemblyScript engine takes for a
 * vp-linear tAB table (`method: "tab"`, grid time-quadratic), written to be compared bit for bit
 * with the WASM engine by `bench/engine_language.ts`. Never imported by `src/`.
 *
 * Transcribed, specialised to that path, with the same operations in the same order, from:
 *   assembly/grid.ts        buildGrid (G_TIME_POWER, κ = 2)
 *   assembly/schedule.ts    evalSchedule, prepareGrid, psi
 *   assembly/sde.ts         logAlphaBar, rho2, logRho, logAlphaBarDiff, rho2Diff, logRhoDiff,
 *                           timeOffset (the VP_LINEAR branches)
 *   assembly/quadrature.ts  legendre, ensureQuadrature (12-node Gauss–Legendre on [0, 1])
 *   assembly/lagrange.ts    nodeOffsets, integratePiece, lagrangeWeights (PHI_T, no knots)
 *   assembly/tables.ts      buildRows (M_TAB)
 *
 * The file has no imports on purpose: `bench/engine_language.ts` also loads a mechanically derived
 * copy in which `Math.exp/log/expm1/log1p/cos` are replaced by the AssemblyScript-compiled libm, to
 * attribute any difference from the engine to the math library alone.
 *
 * @module
 */

/** Everything the engine computes for a vp-linear tAB plan, plus its per-grid intermediates. */
export interface TabResult {
  times: Float64Array;
  alphaBar: Float64Array;
  rho: Float64Array;
  /** steps × (order + 2): [x_coef, c_0, …, c_order] per step. */
  rows: Float64Array;
  /** prepareGrid's arrays (kept to locate where a difference arises). */
  gLogAlphaBar: Float64Array;
  gRho: Float64Array;
  gAlpha: Float64Array;
  gLogRho: Float64Array;
  sLogAlphaBar: Float64Array;
  sRho: Float64Array;
  sLogRho: Float64Array;
}

// ---- sde.ts, VP_LINEAR -----------------------------------------------------------------------------

let beta0 = 0.1;
let dBeta = 19.9;

function setVpLinear(betaMin: number, betaMax: number): void {
  beta0 = betaMin;
  dBeta = betaMax - betaMin;
}

function logAlphaBar(t: number): number {
  return -(0.5 * dBeta * t + beta0) * t;
}

function rho2(t: number): number {
  return Math.expm1((0.5 * dBeta * t + beta0) * t);
}

function logRho(t: number): number {
  return 0.5 * Math.log(rho2(t));
}

function logAlphaBarDiff(ta: number, tb: number): number {
  return -(ta - tb) * (0.5 * dBeta * (ta + tb) + beta0);
}

function rho2Diff(ta: number, tb: number): number {
  return (1.0 + rho2(tb)) * Math.expm1(-logAlphaBarDiff(ta, tb));
}

function logRhoDiff(ta: number, tb: number): number {
  const rb2 = rho2(tb);
  if (rb2 > 1e30) {
    const la = -logAlphaBar(ta);
    const lb = -logAlphaBar(tb);
    return 0.5 * (-logAlphaBarDiff(ta, tb) + Math.log1p(-Math.exp(-la)) - Math.log1p(-Math.exp(-lb)));
  }
  const x = rho2Diff(ta, tb) / rb2;
  if (x > -0.5 && x < 1.0) return 0.5 * Math.log1p(x);
  return 0.5 * Math.log(rho2(ta) / rb2);
}

function timeOffset(tk: number, rk2: number, w: number): number {
  const dr2 = rk2 * Math.expm1(2.0 * w);
  const dL = Math.log1p(dr2 / (1.0 + rk2));
  const b = beta0 + dBeta * tk;
  return (2.0 * dL) / (b + Math.sqrt(b * b + 2.0 * dBeta * dL));
}

// ---- quadrature.ts ---------------------------------------------------------------------------------

const GL_N = 12;
const GL_NODES = new Float64Array(GL_N);
const GL_WEIGHTS = new Float64Array(GL_N);
let ready = false;
let prevP = 0;

function legendre(n: number, x: number): number {
  let p0 = 1;
  let p1 = x;
  for (let k = 2; k <= n; k++) {
    const p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
    p0 = p1;
    p1 = p2;
  }
  prevP = p0;
  return p1;
}

function ensureQuadrature(): void {
  if (ready) return;
  const n = GL_N;
  for (let i = 0; i < n; i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    for (let iter = 0; iter < 100; iter++) {
      const p = legendre(n, x);
      const dx = p / ((n * (x * p - prevP)) / (x * x - 1.0));
      x -= dx;
      if (Math.abs(dx) < 1e-17) break;
    }
    const p = legendre(n, x);
    const dp = (n * (x * p - prevP)) / (x * x - 1.0);
    GL_NODES[i] = 0.5 * (1.0 - x);
    GL_WEIGHTS[i] = 1.0 / ((1.0 - x * x) * dp * dp);
  }
  ready = true;
}

// ---- schedule.ts (the grid state) ------------------------------------------------------------------

let gridTimes: Float64Array = new Float64Array(0);
let gLogAlphaBar: Float64Array = new Float64Array(0);
let gRho: Float64Array = new Float64Array(0);
let gAlpha: Float64Array = new Float64Array(0);
let gLogRho: Float64Array = new Float64Array(0);
let sLogAlphaBar: Float64Array = new Float64Array(0);
let sRho: Float64Array = new Float64Array(0);
let sLogRho: Float64Array = new Float64Array(0);

function evalSchedule(times: Float64Array, n: number, outAlphaBar: Float64Array, outRho: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const t = times[i];
    outAlphaBar[i] = Math.exp(logAlphaBar(t));
    outRho[i] = Math.sqrt(rho2(t));
  }
}

function prepareGrid(steps: number, times: Float64Array): void {
  gridTimes = times;
  const n = steps + 1;
  gLogAlphaBar = new Float64Array(n);
  gRho = new Float64Array(n);
  gAlpha = new Float64Array(n);
  gLogRho = new Float64Array(n);
  sLogAlphaBar = new Float64Array(steps);
  sRho = new Float64Array(steps);
  sLogRho = new Float64Array(steps);
  for (let i = 0; i < n; i++) {
    const t = times[i];
    const la = logAlphaBar(t);
    gLogAlphaBar[i] = la;
    gRho[i] = Math.sqrt(rho2(t));
    gAlpha[i] = Math.exp(0.5 * la);
    gLogRho[i] = logRho(t);
  }
  for (let k = 0; k < steps; k++) {
    const ta = times[k + 1];
    const tb = times[k];
    sLogAlphaBar[k] = logAlphaBarDiff(ta, tb);
    sRho[k] = rho2Diff(ta, tb) / (gRho[k + 1] + gRho[k]);
    sLogRho[k] = logRhoDiff(ta, tb);
  }
}

function psi(k: number): number {
  return Math.exp(0.5 * sLogAlphaBar[k]);
}

// ---- lagrange.ts, PHI_T ----------------------------------------------------------------------------

const MAX_PIECE = 0.5;
const offsets = new Float64Array(8);
const invDenoms = new Float64Array(8);
const acc = new Float64Array(8);

function nodeOffsets(k: number, q: number): void {
  let d = 0;
  offsets[0] = 0.0;
  const tk = gridTimes[k];
  for (let m = 1; m <= q; m++) {
    d = gridTimes[k - m] - tk;
    offsets[m] = d;
  }
  for (let j = 0; j <= q; j++) {
    let p = 1;
    for (let m = 0; m <= q; m++) if (m != j) p *= offsets[j] - offsets[m];
    invDenoms[j] = 1.0 / p;
  }
}

function integratePiece(k: number, q: number, a: number, b: number): void {
  const count = Math.ceil(Math.abs(b - a) / MAX_PIECE);
  const pieces = count >= 1.0 && count <= 1e6 ? count | 0 : 1;
  const len = (b - a) / pieces;
  const tk = gridTimes[k];
  const rk = gRho[k];
  const rk2 = rk * rk;
  for (let p = 0; p < pieces; p++) {
    const start = a + p * len;
    for (let i = 0; i < GL_N; i++) {
      const w = start + len * GL_NODES[i];
      const s = timeOffset(tk, rk2, w);
      const f = GL_WEIGHTS[i] * len * rk * Math.exp(w);
      for (let j = 0; j <= q; j++) {
        let l = invDenoms[j];
        for (let m = 0; m <= q; m++) if (m != j) l *= s - offsets[m];
        acc[j] = acc[j] + f * l;
      }
    }
  }
}

function lagrangeWeights(k: number, q: number, out: Float64Array): void {
  ensureQuadrature();
  nodeOffsets(k, q);
  for (let j = 0; j <= q; j++) acc[j] = 0.0;
  const total = sLogRho[k];
  // vp-linear has no knots: one smooth piece from 0 to the step's Δ log ρ.
  integratePiece(k, q, 0, total);
  for (let j = 0; j <= q; j++) out[j] = acc[j];
}

// ---- tables.ts, M_TAB ------------------------------------------------------------------------------

function buildRowsTab(order: number, steps: number, out: Float64Array): void {
  const stride = order + 2;
  const w = new Float64Array(8);
  for (let k = 0; k < steps; k++) {
    const row = k * stride;
    for (let j = 0; j < stride; j++) out[row + j] = 0.0;
    const q = k < order ? k : order;
    const aNext = gAlpha[k + 1];
    out[row] = psi(k);
    lagrangeWeights(k, q, w);
    for (let j = 0; j <= q; j++) out[row + j + 1] = aNext * w[j];
  }
}

// ---- grid.ts, G_TIME_POWER with κ = 2 --------------------------------------------------------------

function buildGridQuadratic(steps: number, tStart: number, tEnd: number, out: Float64Array): void {
  const n = steps;
  const a = Math.sqrt(tStart);
  const b = Math.sqrt(tEnd);
  for (let i = 1; i < steps; i++) {
    const x = a + (i / n) * (b - a);
    out[i] = x * x;
  }
  out[0] = tStart;
  out[steps] = tEnd;
}

// ---- the host sequence of src/plan/make_plan.ts buildPlan, up to the rows ---------------------------

/**
 * The vp-linear tAB table: grid, ᾱ and ρ on it, and the rows, in buildPlan's order
 * (buildGrid → evalSchedule → prepareGrid → buildRows).
 */
export function buildTabPlain(
  order: number,
  steps: number,
  betaMin = 0.1,
  betaMax = 20,
  tStart = 1,
  tEnd = 1e-3,
): TabResult {
  setVpLinear(betaMin, betaMax);
  const n = steps + 1;
  const times = new Float64Array(n);
  buildGridQuadratic(steps, tStart, tEnd, times);
  const alphaBar = new Float64Array(n);
  const rho = new Float64Array(n);
  evalSchedule(times, n, alphaBar, rho);
  prepareGrid(steps, times);
  const rows = new Float64Array(steps * (order + 2));
  buildRowsTab(order, steps, rows);
  return {
    times,
    alphaBar,
    rho,
    rows,
    gLogAlphaBar,
    gRho,
    gAlpha,
    gLogRho,
    sLogAlphaBar,
    sRho,
    sLogRho,
  };
}
