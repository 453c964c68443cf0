/**
 * Reference probability-flow endpoint for the shipped 2-D Gaussian mixture.
 *
 *     deno run -A examples/gmm_reference.ts [x1 x2]
 *
 * Reads the mixture and SDE from models/gmm-2d/model.json (no ONNX involved), solves the ODE from
 * x_T at T to ε in float64 with the adaptive Dormand–Prince solver, and prints the endpoint.
 */
import {
  gmmEps,
  gmmFromSpec,
  gmmResponsibilities,
  referenceSde,
  solveProbabilityFlow,
} from "../testing/reference/mod.ts";

const manifestUrl = new URL("../models/gmm-2d/model.json", import.meta.url);
const manifest = JSON.parse(await Deno.readTextFile(manifestUrl));
const gmm = gmmFromSpec(manifest.gmm);
const sde = referenceSde(manifest.sde);
const tStart: number = manifest.tStart;
const tEnd: number = manifest.tEnd;

const args = Deno.args.map(Number);
const xT = args.length === gmm.d && args.every(Number.isFinite) ? args : [0.8, -0.3];

const eps = (x: Float64Array, t: number) => gmmEps(gmm, sde, x, t);
const started = performance.now();
const r = solveProbabilityFlow(eps, sde, xT, {
  tStart,
  tEnd,
  rtol: 1e-12,
  atol: 1e-12,
});
const ms = performance.now() - started;
const check = solveProbabilityFlow(eps, sde, xT, {
  tStart,
  tEnd,
  rtol: 1e-13,
  atol: 1e-13,
});
const diff = Math.max(...r.x.map((v, i) => Math.abs(v - check.x[i])));

const fmt = (v: ArrayLike<number>) => `[${Array.from(v, (u) => u.toPrecision(15)).join(", ")}]`;
console.log(
  `model      ${manifest.name} (${manifest.sde.name}, K = ${gmm.k}, D = ${gmm.d})`,
);
console.log(`x_T        ${fmt(xT)} at t = ${tStart}`);
console.log(`x_ε        ${fmt(r.x)} at t = ${tEnd}`);
console.log(
  `solver     Dormand–Prince 5(4) in log ρ, rtol = atol = 1e-12: ${r.steps} steps (${r.rejected} rejected), ${r.evaluations} ε evaluations, ${
    ms.toFixed(1)
  } ms`,
);
console.log(`check      |x_ε(1e-12) − x_ε(1e-13)| = ${diff.toExponential(2)}`);
const resp = gmmResponsibilities(gmm, sde, r.x, tEnd);
const k = resp.indexOf(Math.max(...resp));
console.log(
  `component  ${k} (posterior ${resp[k].toFixed(6)}), mean ${fmt(gmm.means.subarray(k * gmm.d, (k + 1) * gmm.d))}`,
);
