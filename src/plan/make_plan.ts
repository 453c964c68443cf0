/**
 * Config → plan: validates the configuration, runs the WASM coefficient engine and assembles a
 * {@link Plan}.
 *
 * @module
 */

import { ConfigError, NumericalError } from "../errors.ts";
import { allocArray, engine, type EngineExports, pushArray, readArray } from "../coefficients/engine.ts";
import { normalizeConfig, type NormalizedConfig, type PlanConfig, RK_NAMES } from "./config.ts";
import type { Plan, RkStage, SdeSpec } from "./types.ts";

const METHOD_IDS: Record<string, number> = {
  ddim: 0,
  tab: 1,
  rhoab: 2,
  logrho: 3,
  ipndm: 4,
  euler: 5,
  "ei-score": 6,
};

/** Points the engine at the configured SDE (the vp-discrete table stays in persistent memory). */
function selectSde(e: EngineExports, c: NormalizedConfig): void {
  e.resetAll();
  if (c.sde === "vp-linear") e.setVpLinear(c.betaMin, c.betaMax);
  else if (c.sde === "vp-cosine") e.setVpCosine();
  else if (c.sde === "ve") e.setVe(c.sigmaMin, c.sigmaMax);
  else {
    const table = c.alphasCumprod!;
    const ptr = e.alloc(table.length * 24);
    new Float64Array(e.memory.buffer, ptr, table.length).set(table);
    e.setVpDiscrete(ptr, table.length);
  }
  e.markPersistent();
}

function sdeSpec(c: NormalizedConfig): SdeSpec {
  if (c.sde === "vp-linear") {
    return { name: c.sde, betaMin: c.betaMin, betaMax: c.betaMax };
  }
  if (c.sde === "ve") {
    return { name: c.sde, sigmaMin: c.sigmaMin, sigmaMax: c.sigmaMax };
  }
  if (c.sde === "vp-discrete") {
    return { name: c.sde, alphasCumprod: Array.from(c.alphasCumprod!) };
  }
  return { name: c.sde };
}

function gridTimes(e: EngineExports, c: NormalizedConfig): Float64Array {
  if (c.timesteps) return c.timesteps;
  const kind = c.grid === "logrho" ? 1 : c.grid === "karras" ? 2 : 0;
  const out = allocArray(e, c.steps + 1);
  e.buildGrid(kind, c.steps, c.tStart, c.tEnd, c.kappa, out);
  const times = readArray(e, out, c.steps + 1);
  for (let i = 1; i < times.length; i++) {
    if (!(times[i] < times[i - 1])) {
      const field = c.grid === "karras" || c.grid === "time-power" ? "kappa" : "steps";
      throw new ConfigError(
        field,
        "a value whose grid has distinct float64 times",
        field === "kappa" ? c.kappa : c.steps,
        `gives a grid that is not strictly decreasing at index ${i} (${times[i - 1]}, ${times[i]})`,
      );
    }
  }
  return times;
}

function checkFinite(name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new NumericalError(
        `${name}[${i}] is ${values[i]}: the configuration is outside what float64 can represent`,
      );
    }
  }
}

/** A plain array with −0 turned into 0, so that plans survive a JSON round trip unchanged. */
function plain(values: Float64Array): number[] {
  return Array.from(values, (v) => (v === 0 ? 0 : v));
}

function toRows(flat: Float64Array, stride: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < flat.length; i += stride) {
    rows.push(plain(flat.subarray(i, i + stride)));
  }
  return rows;
}

/**
 * Builds a plan: the time grid, ᾱ and ρ on it, and every step's coefficients.
 *
 * @example
 * ```ts
 * import { makePlan } from "@seed/deis";
 * const plan = makePlan({ method: "tab", order: 3, steps: 10, grid: "time-quadratic" });
 * console.log(plan.nfe, plan.rows[9]); // 10, [x_coef, c_0, c_1, c_2, c_3]
 * ```
 */
export function makePlan(config: PlanConfig = {}): Plan {
  const c = normalizeConfig(config);
  return buildPlan(c);
}

/** Options for {@link buildPlan} that exist for testing the engine against itself. */
export interface BuildOptions {
  /** Compute ρAB weights by quadrature instead of the closed form. */
  rhoabByQuadrature?: boolean;
}

/** Builds a plan from an already normalised configuration. */
export function buildPlan(
  c: NormalizedConfig,
  options: BuildOptions = {},
): Plan {
  const e = engine();
  selectSde(e, c);
  try {
    const times = gridTimes(e, c);
    const n = times.length;
    const steps = n - 1;
    const tPtr = pushArray(e, times);
    const abPtr = allocArray(e, n);
    const rhoPtr = allocArray(e, n);
    e.evalSchedule(tPtr, n, abPtr, rhoPtr);
    e.prepareGrid(steps, tPtr);
    const alphaBar = readArray(e, abPtr, n);
    const rho = readArray(e, rhoPtr, n);

    let rows: number[][];
    let noise: number[] | undefined;
    let stages: RkStage[][] | undefined;
    let evalTimes: number[];
    if (c.method === "rhork") {
      const id = RK_NAMES.indexOf(c.rk);
      const S = e.rkStages(id);
      const stagePtr = allocArray(e, steps * S * (S + 3));
      const rowPtr = allocArray(e, steps * (S + 1));
      e.buildRk(id, steps, stagePtr, rowPtr);
      const flat = readArray(e, stagePtr, steps * S * (S + 3));
      const rowFlat = readArray(e, rowPtr, steps * (S + 1));
      checkFinite("stages", flat);
      checkFinite("rows", rowFlat);
      rows = toRows(rowFlat, S + 1);
      stages = [];
      evalTimes = [];
      for (let k = 0; k < steps; k++) {
        const step: RkStage[] = [];
        for (let m = 0; m < S; m++) {
          const o = (k * S + m) * (S + 3);
          step.push({
            t: flat[o],
            alphaBar: flat[o + 1],
            rho: flat[o + 2],
            xCoef: flat[o + 3],
            coefs: plain(flat.subarray(o + 4, o + 4 + m)),
          });
          evalTimes.push(flat[o]);
        }
        stages.push(step);
      }
    } else if (c.lambda > 0) {
      const rowPtr = allocArray(e, steps * 2);
      const noisePtr = allocArray(e, steps);
      e.buildStochastic(c.lambda, steps, rowPtr, noisePtr);
      const rowFlat = readArray(e, rowPtr, steps * 2);
      const noiseArr = readArray(e, noisePtr, steps);
      checkFinite("rows", rowFlat);
      checkFinite("noise", noiseArr);
      rows = toRows(rowFlat, 2);
      noise = plain(noiseArr);
      evalTimes = Array.from(times.subarray(0, steps));
    } else {
      const stride = c.order + 2;
      const rowPtr = allocArray(e, steps * stride);
      e.buildRows(
        METHOD_IDS[c.method],
        c.order,
        steps,
        rowPtr,
        options.rhoabByQuadrature ? 1 : 0,
      );
      const rowFlat = readArray(e, rowPtr, steps * stride);
      checkFinite("rows", rowFlat);
      rows = toRows(rowFlat, stride);
      evalTimes = Array.from(times.subarray(0, steps));
    }
    checkFinite("timesteps", times);
    checkFinite("alphaBar", alphaBar);
    checkFinite("rho", rho);

    const plan: Plan = {
      format: "deis-plan/1",
      sde: sdeSpec(c),
      method: c.method,
      order: c.method === "rhork" ? 0 : c.order,
      lambda: c.lambda,
      grid: c.grid,
      steps,
      timesteps: Array.from(times),
      alphaBar: Array.from(alphaBar),
      rho: Array.from(rho),
      rows,
      evalTimes,
      nfe: evalTimes.length,
    };
    if (c.method === "rhork") plan.rk = c.rk;
    if (c.grid === "time-power" || c.grid === "karras") plan.kappa = c.kappa;
    if (noise) plan.noise = noise;
    if (stages) plan.stages = stages;
    return plan;
  } finally {
    e.resetScratch();
  }
}
