// The engine's DPM-Solver++ and UniPC tables (assembly/data_multistep.ts) against the independent 40-digit
// reference tools/reference/fixtures/x0_multistep.json (tools/reference/make_x0_fixtures.py): every entry
// ≤ 1e-13 relative, or ≤ 1e-15 absolute below 1e-2 in magnitude; plus identities that need no reference.

import assert from "node:assert/strict";
import { allocArray, engine, type EngineExports, pushArray, readArray } from "../src/coefficients/engine.ts";
import { relErr } from "./helpers.ts";

interface DataMultistepExports {
  buildDpmpp(order: number, steps: number, out: number): void;
  buildUnipc(order: number, variant: number, steps: number, pred: number, corr: number): void;
  dataStepOrder(method: number, order: number, steps: number, k: number): number;
}
type Engine = EngineExports & DataMultistepExports;

interface Case {
  grid: string;
  steps: number;
  timesteps: number[];
  alpha: number[];
  h: number[];
  dpmpp: Record<string, number[][]>;
  unipc: Record<string, { pred: number[][]; corr: number[][] }>;
}
interface SdeBlock {
  sde: { name: string; betaMin?: number; betaMax?: number; sigmaMin?: number; sigmaMax?: number };
  cases: Case[];
}

const fixture: { sdes: SdeBlock[] } = JSON.parse(
  await Deno.readTextFile(new URL("../tools/reference/fixtures/x0_multistep.json", import.meta.url)),
);
const ORDERS = [1, 2, 3];
const VARIANTS: [string, number][] = [["bh1", 1], ["bh2", 2]];

/** The same calls as src/plan/make_plan.ts: select the SDE, push the grid, evalSchedule, prepareGrid. */
function withGrid<T>(e: Engine, sde: SdeBlock["sde"], times: number[], body: (steps: number) => T): T {
  e.resetAll();
  if (sde.name === "vp-linear") e.setVpLinear(sde.betaMin!, sde.betaMax!);
  else if (sde.name === "vp-cosine") e.setVpCosine();
  else if (sde.name === "ve") e.setVe(sde.sigmaMin!, sde.sigmaMax!);
  else throw new Error(sde.name);
  e.markPersistent();
  try {
    const n = times.length;
    const tPtr = pushArray(e, times);
    e.evalSchedule(tPtr, n, allocArray(e, n), allocArray(e, n));
    e.prepareGrid(n - 1, tPtr);
    return body(n - 1);
  } finally {
    e.resetScratch();
  }
}

function dpmpp(e: Engine, order: number, steps: number): number[][] {
  const ptr = allocArray(e, steps * (order + 1));
  e.buildDpmpp(order, steps, ptr);
  return rows(readArray(e, ptr, steps * (order + 1)), order + 1);
}

function unipc(e: Engine, order: number, variant: number, steps: number): { pred: number[][]; corr: number[][] } {
  const p = allocArray(e, steps * (order + 1));
  const c = allocArray(e, steps * (order + 2));
  e.buildUnipc(order, variant, steps, p, c);
  return {
    pred: rows(readArray(e, p, steps * (order + 1)), order + 1),
    corr: rows(readArray(e, c, steps * (order + 2)), order + 2),
  };
}

function rows(flat: Float64Array, stride: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += stride) out.push(Array.from(flat.subarray(i, i + stride)));
  return out;
}

/** Failures, the worst relative error where |expected| ≥ 1e-2 and the worst absolute error below. */
class Tally {
  worstRel = 0;
  whereRel = "";
  worstAbs = 0;
  whereAbs = "";
  failures: string[] = [];
  add(actual: number[][], expected: number[][], what: string): void {
    assert.equal(actual.length, expected.length, `${what}: rows`);
    for (let k = 0; k < expected.length; k++) {
      assert.equal(actual[k].length, expected[k].length, `${what}: row ${k} length`);
      for (let j = 0; j < expected[k].length; j++) {
        const a = actual[k][j];
        const b = expected[k][j];
        const rel = relErr(a, b);
        const small = Math.abs(b) < 1e-2;
        const ok = Number.isFinite(a) && (rel <= 1e-13 || (small && Math.abs(a - b) <= 1e-15));
        if (!small && rel > this.worstRel) [this.worstRel, this.whereRel] = [rel, `${what} [${k}][${j}]`];
        if (small && Math.abs(a - b) > this.worstAbs) {
          [this.worstAbs, this.whereAbs] = [Math.abs(a - b), `${what} [${k}][${j}]`];
        }
        if (!ok) this.failures.push(`${what} [${k}][${j}]: ${a} vs ${b} (rel ${rel.toExponential(2)})`);
      }
    }
  }
}

for (const block of fixture.sdes) {
  Deno.test(`${block.sde.name}: DPM-Solver++ and UniPC rows match the 40-digit reference`, () => {
    const e = engine() as Engine;
    const tally = new Tally();
    assert.ok(block.cases.length >= 9, "2 grids × 3 step counts + custom grids");
    for (const c of block.cases) {
      withGrid(e, block.sde, c.timesteps, (steps) => {
        assert.equal(steps, c.steps);
        const tag = `${c.grid}/${steps}`;
        for (const r of ORDERS) tally.add(dpmpp(e, r, steps), c.dpmpp[String(r)], `dpmpp${r} ${tag}`);
        for (const [name, id] of VARIANTS) {
          for (const r of ORDERS) {
            const got = unipc(e, r, id, steps);
            const want = c.unipc[`${name}-${r}`];
            tally.add(got.pred, want.pred, `unipc-${name}${r} pred ${tag}`);
            tally.add(got.corr, want.corr, `unipc-${name}${r} corr ${tag}`);
          }
        }
      });
    }
    console.log(
      `${block.sde.name}: worst rel ${tally.worstRel.toExponential(2)} at ${tally.whereRel}; ` +
        `worst abs (|value| < 1e-2) ${tally.worstAbs.toExponential(2)} at ${tally.whereAbs}`,
    );
    assert.deepEqual(tally.failures.slice(0, 20), []);
  });

  Deno.test(`${block.sde.name}: DPM-Solver++ order 1 is DDIM and every row integrates a constant D exactly`, () => {
    const e = engine() as Engine;
    for (const c of block.cases) {
      withGrid(e, block.sde, c.timesteps, (steps) => {
        const tag = `${c.grid}/${steps}`;
        // α_{k+1} and h_k are the fixture's correctly rounded values. The builder forms c_0 = −α·expm1(−h)
        // from the engine's own α (exp of ½ log ᾱ) and h (log ρ step), which carry up to ~1.5e-15 relative
        // error on these grids (vp-linear near t = 1, vp-cosine), hence 2e-15 rather than 1e-15.
        const phi = c.h.map((h, k) => -c.alpha[k + 1] * Math.expm1(-h)); // −α_{k+1} φ1 = −α_{k+1} h_phi_1
        for (const [k, row] of dpmpp(e, 1, steps).entries()) {
          assert.ok(relErr(row[1], phi[k]) <= 2e-15, `${tag} k=${k}: ${row[1]} vs DDIM ${phi[k]}`);
        }
        const close = (a: number, b: number, what: string) =>
          assert.ok(relErr(a, b) <= 1e-14, `${what}: ${a} vs ${b} (rel ${relErr(a, b).toExponential(2)})`);
        const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
        for (const r of ORDERS) {
          for (const [k, row] of dpmpp(e, r, steps).entries()) {
            close(sum(row.slice(1)), phi[k], `dpmpp${r} ${tag} k=${k}`);
          }
          for (const [name, id] of VARIANTS) {
            const { pred, corr } = unipc(e, r, id, steps);
            for (let k = 0; k < steps; k++) {
              const what = `unipc-${name}${r} ${tag} k=${k}`;
              close(sum(pred[k].slice(1)), phi[k], `${what} pred`);
              if (k < steps - 1) {
                close(sum(corr[k].slice(1)), phi[k], `${what} corr`);
                assert.equal(corr[k][0], pred[k][0], `${what}: same ratio`);
              } else assert.deepEqual(corr[k], new Array(r + 2).fill(0), `${what}: no corrector at the last step`);
            }
          }
        }
      });
    }
  });
}

Deno.test("dataStepOrder: warm start, and lower order at the end (DPM-Solver++ only below 10 steps)", () => {
  const e = engine() as Engine;
  const orders = (m: number, r: number, n: number) => Array.from({ length: n }, (_, k) => e.dataStepOrder(m, r, n, k));
  assert.deepEqual(orders(0, 3, 5), [1, 2, 3, 2, 1]);
  assert.deepEqual(orders(0, 3, 10), [1, 2, 3, 3, 3, 3, 3, 3, 3, 3]);
  assert.deepEqual(orders(1, 3, 10), [1, 2, 3, 3, 3, 3, 3, 3, 2, 1]);
  assert.deepEqual(orders(1, 2, 3), [1, 2, 1]);
  assert.deepEqual(orders(0, 1, 4), [1, 1, 1, 1]);
});
