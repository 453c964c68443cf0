/**
 * Config → plan: validates the configuration, runs the WASM coefficient engine and assembles a
 * {@link Plan}.
 *
 * @module
 */

import { ConfigError, NumericalError } from "../errors.ts";
import { allocArray, engine, type EngineExports, pushArray, readArray } from "../coefficients/engine.ts";
import { normalizeConfig, type NormalizedConfig, type PlanConfig } from "./config.ts";
import { dpmppProgram, type GridValues, rowsProgram, stagesProgram, unipcProgram } from "./program.ts";
import { methodInfo, RK_NAMES } from "./registry.ts";
import type { Plan, Program, RkStage, SdeSpec } from "./types.ts";

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
 * console.log(plan.nfe, plan.rows![9]); // 10, [x_coef, c_0, c_1, c_2, c_3]
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

    checkFinite("timesteps", times);
    checkFinite("alphaBar", alphaBar);
    checkFinite("rho", rho);
    const g: GridValues = {
      timesteps: Array.from(times),
      alphaBar: Array.from(alphaBar),
      rho: Array.from(rho),
      sde: c.sde,
    };

    let rows: number[][] | undefined;
    let noise: number[] | undefined;
    let stages: RkStage[][] | undefined;
    let program: Program;
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
        }
        stages.push(step);
      }
      program = stagesProgram(g, stages, rows);
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
      program = rowsProgram(g, rows, noise);
    } else if (c.method === "dpmpp" || c.method === "unipc") {
      const stride = c.order + 1;
      const orders = Array.from(
        { length: steps },
        (_, k) => e.dataStepOrder(c.method === "dpmpp" ? 0 : 1, c.order, steps, k),
      );
      const predPtr = allocArray(e, steps * stride);
      if (c.method === "dpmpp") {
        e.buildDpmpp(c.order, steps, predPtr);
        const flat = readArray(e, predPtr, steps * stride);
        checkFinite("program", flat);
        program = dpmppProgram(g, toRows(flat, stride), orders);
      } else {
        const corrPtr = allocArray(e, steps * (stride + 1));
        e.buildUnipc(c.order, c.variant === "bh1" ? 1 : 2, steps, predPtr, corrPtr);
        const pred = readArray(e, predPtr, steps * stride);
        const corr = readArray(e, corrPtr, steps * (stride + 1));
        checkFinite("program", pred);
        checkFinite("program", corr);
        program = unipcProgram(g, toRows(pred, stride), toRows(corr, stride + 1), orders);
      }
    } else {
      const stride = c.order + 2;
      const rowPtr = allocArray(e, steps * stride);
      e.buildRows(methodInfo(c.method)!.engineId!, c.order, steps, rowPtr, options.rhoabByQuadrature ? 1 : 0);
      const rowFlat = readArray(e, rowPtr, steps * stride);
      checkFinite("rows", rowFlat);
      rows = toRows(rowFlat, stride);
      program = rowsProgram(g, rows);
    }
    const evalTimes = program.ops.flatMap((op) => (op.op === "eval" ? [op.t] : []));

    const plan: Plan = {
      format: "deis-plan/2",
      sde: sdeSpec(c),
      method: c.method,
      order: c.method === "rhork" ? 0 : c.order,
      lambda: c.lambda,
      grid: c.grid,
      steps,
      timesteps: g.timesteps as number[],
      alphaBar: g.alphaBar as number[],
      rho: g.rho as number[],
      program,
      evalTimes,
      nfe: evalTimes.length,
    };
    if (rows) plan.rows = rows;
    if (c.method === "unipc") plan.variant = c.variant;
    if (c.method === "rhork") plan.rk = c.rk;
    if (c.grid === "time-power" || c.grid === "karras") plan.kappa = c.kappa;
    if (noise) plan.noise = noise;
    if (stages) plan.stages = stages;
    return plan;
  } finally {
    e.resetScratch();
  }
}
