/**
 * Adaptive embedded explicit Runge–Kutta integration in float64 (Dormand–Prince 5(4), FSAL),
 * with mixed relative/absolute error control, for reference solutions of smooth ODEs.
 *
 * @module
 */

/** An embedded explicit Runge–Kutta pair. */
export interface EmbeddedTableau {
  /** Display name. */
  readonly name: string;
  /** Nodes c_i. */
  readonly c: readonly number[];
  /** Strictly lower-triangular coefficients, row i has i entries. */
  readonly a: readonly (readonly number[])[];
  /** Weights of the propagated solution (order `order`). */
  readonly b: readonly number[];
  /** Weights of the embedded solution (order `embeddedOrder`), used only for the error estimate. */
  readonly bHat: readonly number[];
  /** Order of the propagated solution. */
  readonly order: number;
  /** Order of the embedded solution. */
  readonly embeddedOrder: number;
  /** First-same-as-last: the last stage equals f at the new point. */
  readonly fsal: boolean;
}

/** Dormand & Prince (1980) 5(4) pair, propagating the 5th-order solution. */
export const DORMAND_PRINCE_54: EmbeddedTableau = {
  name: "dormand-prince-5(4)",
  c: [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1],
  a: [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
  ],
  b: [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0],
  bHat: [
    5179 / 57600,
    0,
    7571 / 16695,
    393 / 640,
    -92097 / 339200,
    187 / 2100,
    1 / 40,
  ],
  order: 5,
  embeddedOrder: 4,
  fsal: true,
};

/** Right-hand side `dy/ds = f(s, y)`; must not keep or modify `y`. */
export type OdeRhs = (s: number, y: Float64Array) => Float64Array;

/** Options of {@link integrateAdaptive}. */
export interface AdaptiveOptions {
  /** Relative tolerance (per component, scaled by max(|y_old|, |y_new|)). */
  rtol: number;
  /** Absolute tolerance. */
  atol: number;
  /** Initial step size magnitude; chosen automatically when omitted. */
  h0?: number;
  /** Maximum number of attempted steps (default 1e6). */
  maxSteps?: number;
  /** Safety factor of the step controller (default 0.9). */
  safety?: number;
  /** Smallest step-size ratio per step (default 0.2). */
  minFactor?: number;
  /** Largest step-size ratio per step (default 5). */
  maxFactor?: number;
}

/** Result of an adaptive integration. */
export interface AdaptiveResult {
  /** Solution at the end point. */
  y: Float64Array;
  /** Accepted steps. */
  steps: number;
  /** Rejected steps. */
  rejected: number;
  /** Right-hand-side evaluations. */
  evaluations: number;
}

function errorNorm(
  y0: Float64Array,
  y1: Float64Array,
  e: Float64Array,
  rtol: number,
  atol: number,
): number {
  let sum = 0;
  for (let i = 0; i < e.length; i++) {
    const sc = atol + rtol * Math.max(Math.abs(y0[i]), Math.abs(y1[i]));
    const q = e[i] / sc;
    sum += q * q;
  }
  return Math.sqrt(sum / Math.max(1, e.length));
}

function rmsScaled(
  v: Float64Array,
  y: Float64Array,
  rtol: number,
  atol: number,
): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    const q = v[i] / (atol + rtol * Math.abs(y[i]));
    sum += q * q;
  }
  return Math.sqrt(sum / Math.max(1, v.length));
}

/**
 * Integrates `dy/ds = f(s, y)` from `s0` to `s1` (either direction) with an embedded RK pair and
 * standard step-size control, landing exactly on `s1`.
 * Throws if the tolerance cannot be met (step underflow) or `maxSteps` is exceeded.
 */
export function integrateAdaptive(
  f: OdeRhs,
  y0: ArrayLike<number>,
  s0: number,
  s1: number,
  opts: AdaptiveOptions,
  tableau: EmbeddedTableau = DORMAND_PRINCE_54,
): AdaptiveResult {
  const { rtol, atol } = opts;
  if (!(rtol > 0) || !(atol > 0)) {
    throw new RangeError("integrateAdaptive: rtol and atol must be positive");
  }
  const maxSteps = opts.maxSteps ?? 1_000_000;
  const safety = opts.safety ?? 0.9;
  const minFactor = opts.minFactor ?? 0.2;
  const maxFactor = opts.maxFactor ?? 5;
  const n = y0.length;
  const stages = tableau.c.length;
  const q = Math.min(tableau.order, tableau.embeddedOrder);
  const dir = s1 >= s0 ? 1 : -1;
  const span = Math.abs(s1 - s0);

  let y = Float64Array.from(y0);
  let evaluations = 0;
  const call = (s: number, yy: Float64Array) => {
    evaluations++;
    const r = f(s, yy);
    if (r.length !== n) {
      throw new RangeError(
        `integrateAdaptive: f returned ${r.length} values, expected ${n}`,
      );
    }
    return r;
  };
  if (span === 0) return { y, steps: 0, rejected: 0, evaluations };

  let f0 = call(s0, y);
  let h: number;
  if (opts.h0 !== undefined) {
    h = Math.min(Math.abs(opts.h0), span);
  } else {
    // Hairer–Nørsett–Wanner starting step.
    const d0 = rmsScaled(y, y, rtol, atol);
    const d1 = rmsScaled(f0, y, rtol, atol);
    let hTry = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * (d0 / d1);
    hTry = Math.min(hTry, span);
    const yT = new Float64Array(n);
    for (let i = 0; i < n; i++) yT[i] = y[i] + dir * hTry * f0[i];
    const f1 = call(s0 + dir * hTry, yT);
    const df = new Float64Array(n);
    for (let i = 0; i < n; i++) df[i] = f1[i] - f0[i];
    const d2 = rmsScaled(df, y, rtol, atol) / hTry;
    const m = Math.max(d1, d2);
    const h1 = m <= 1e-15 ? Math.max(1e-6, hTry * 1e-3) : Math.pow(0.01 / m, 1 / (tableau.order + 1));
    h = Math.min(100 * hTry, h1, span);
  }

  const k: Float64Array[] = Array.from(
    { length: stages },
    () => new Float64Array(n),
  );
  const yStage = new Float64Array(n);
  const yNew = new Float64Array(n);
  const err = new Float64Array(n);
  let s = s0;
  let steps = 0;
  let rejected = 0;
  let lastRejected = false;

  while (dir * (s1 - s) > 0) {
    if (steps + rejected >= maxSteps) {
      throw new Error(`integrateAdaptive: more than ${maxSteps} steps`);
    }
    let last = false;
    if (h >= Math.abs(s1 - s) * (1 - 1e-12)) {
      h = Math.abs(s1 - s);
      last = true;
    }
    const hs = dir * h;
    if (s + hs === s) {
      throw new Error(`integrateAdaptive: step size underflow at s = ${s}`);
    }
    k[0].set(f0);
    for (let st = 1; st < stages; st++) {
      const row = tableau.a[st];
      for (let i = 0; i < n; i++) {
        let acc = 0;
        for (let j = 0; j < st; j++) if (row[j] !== 0) acc += row[j] * k[j][i];
        yStage[i] = y[i] + hs * acc;
      }
      const sStage = last && tableau.c[st] === 1 ? s1 : s + tableau.c[st] * hs;
      k[st].set(call(sStage, yStage));
    }
    for (let i = 0; i < n; i++) {
      let acc = 0;
      let accErr = 0;
      for (let j = 0; j < stages; j++) {
        acc += tableau.b[j] * k[j][i];
        accErr += (tableau.b[j] - tableau.bHat[j]) * k[j][i];
      }
      yNew[i] = y[i] + hs * acc;
      err[i] = hs * accErr;
    }
    const e = errorNorm(y, yNew, err, rtol, atol);
    if (!Number.isFinite(e)) {
      rejected++;
      lastRejected = true;
      h *= minFactor;
      continue;
    }
    const factor = e === 0 ? maxFactor : safety * Math.pow(e, -1 / (q + 1));
    if (e <= 1) {
      s = last ? s1 : s + hs;
      y = Float64Array.from(yNew);
      if (tableau.fsal) {
        f0 = Float64Array.from(k[stages - 1]);
      } else {
        f0 = call(s, y);
      }
      steps++;
      h *= Math.min(lastRejected ? 1 : maxFactor, Math.max(minFactor, factor));
      lastRejected = false;
    } else {
      rejected++;
      lastRejected = true;
      h *= Math.min(1, Math.max(minFactor, factor));
    }
  }
  return { y, steps, rejected, evaluations };
}
