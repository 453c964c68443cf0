// Closed-form identities every table must satisfy (independent of the 30-digit fixtures).

import assert from "node:assert/strict";
import { buildPlan } from "../src/plan/make_plan.ts";
import { normalizeConfig, type PlanConfig } from "../src/plan/config.ts";
import { makePlan } from "../src/plan/make_plan.ts";
import { assertClose } from "./helpers.ts";

const DDPM = (() => {
  const out: number[] = [];
  let prod = 1;
  for (let i = 0; i < 1000; i++) {
    prod *= 1 - (1e-4 + (i * (0.02 - 1e-4)) / 999);
    out.push(prod);
  }
  return out;
})();

const SDES: PlanConfig[] = [
  { sde: "vp-linear" },
  { sde: "vp-cosine" },
  { sde: "ve" },
  { sde: "vp-discrete", alphasCumprod: DDPM },
];
const GRIDS: PlanConfig[] = [
  { grid: "time-uniform" },
  { grid: "time-quadratic" },
  { grid: "time-power", kappa: 3 },
  { grid: "logrho" },
  { grid: "karras" },
];

Deno.test("order 0 of tab, rhoab and logrho is DDIM", () => {
  for (const sde of SDES) {
    for (const grid of GRIDS) {
      const base = { ...sde, ...grid, steps: 20 };
      const ddim = makePlan({ ...base, method: "ddim" });
      for (const method of ["tab", "rhoab", "logrho", "ipndm"] as const) {
        const p = makePlan({ ...base, method, order: 0 });
        p.rows!.forEach((row, k) => {
          assertClose(row[0], ddim.rows![k][0], {
            rel: 1e-15,
            what: `${sde.sde} ${method} x_coef ${k}`,
          });
          assertClose(row[1], ddim.rows![k][1], {
            rel: 1e-13,
            what: `${sde.sde} ${grid.grid} ${method} c0 ${k}`,
          });
        });
      }
    }
  }
});

Deno.test("each multistep row's ε weights sum to the DDIM weight", () => {
  for (const sde of SDES) {
    for (const grid of GRIDS) {
      for (const steps of [5, 10, 50]) {
        const base = { ...sde, ...grid, steps };
        const ddim = makePlan({ ...base, method: "ddim" });
        for (const method of ["tab", "rhoab", "logrho", "ipndm"] as const) {
          for (const order of [1, 2, 3]) {
            const p = makePlan({ ...base, method, order });
            p.rows!.forEach((row, k) => {
              const sum = row.slice(1).reduce((a, b) => a + b, 0);
              // The sum cancels terms of alternating sign; bound the error by their magnitude.
              const scale = row.slice(1).reduce((a, b) => a + Math.abs(b), 0);
              const err = Math.abs(sum - ddim.rows![k][1]);
              assert.ok(
                err <= 1e-13 * scale,
                `${sde.sde} ${grid.grid} ${method}${order} step ${k}: ${sum} vs ${ddim.rows![k][1]}`,
              );
            });
          }
        }
      }
    }
  }
});

Deno.test("rhoab by quadrature equals its closed form", () => {
  for (const sde of SDES) {
    for (const grid of GRIDS) {
      for (const order of [1, 2, 3]) {
        const c = normalizeConfig({
          ...sde,
          ...grid,
          steps: 20,
          method: "rhoab",
          order,
        });
        const closed = buildPlan(c);
        const quad = buildPlan(c, { rhoabByQuadrature: true });
        closed.rows!.forEach((row, k) =>
          row.forEach((v, j) =>
            assertClose(quad.rows![k][j], v, {
              rel: 1e-13,
              abs: 1e-15,
              smallBelow: 1e-2,
              what: `${sde.sde} ${grid.grid} rhoab${order} [${k}][${j}]`,
            })
          )
        );
      }
    }
  }
});

Deno.test("logrho order 1 equals its closed form", () => {
  for (const sde of SDES) {
    for (const grid of GRIDS) {
      const p = makePlan({
        ...sde,
        ...grid,
        steps: 20,
        method: "logrho",
        order: 1,
      });
      for (let k = 1; k < p.steps; k++) {
        // w_1 = ρ_k/D ∫_0^h w e^w dw = ρ_k (h e^h − (e^h − 1))/D with h = Δ log ρ, D = log ρ_{k−1} − log ρ_k.
        const h = Math.log(p.rho[k + 1] / p.rho[k]);
        const D = Math.log(p.rho[k - 1] / p.rho[k]);
        const a = Math.sqrt(p.alphaBar[k + 1]);
        const w1 = (p.rho[k] * (h * Math.exp(h) - Math.expm1(h))) / D;
        const w0 = p.rho[k] * Math.expm1(h) - w1;
        assertClose(p.rows![k][2], a * w1, {
          rel: 1e-11,
          what: `${sde.sde} ${grid.grid} c1 ${k}`,
        });
        assertClose(p.rows![k][1], a * w0, {
          rel: 1e-11,
          what: `${sde.sde} ${grid.grid} c0 ${k}`,
        });
      }
    }
  }
});

Deno.test("iPNDM equals the variable-step AB (rhoab) weights on a grid uniform in ρ", () => {
  for (const sde of SDES) {
    // karras with κ = 1 is uniform in ρ.
    const base = { ...sde, grid: "karras", kappa: 1, steps: 30 } as const;
    for (const order of [1, 2, 3]) {
      const ab = makePlan({ ...base, method: "rhoab", order });
      const ip = makePlan({ ...base, method: "ipndm", order });
      ab.rows!.forEach((row, k) =>
        row.forEach((v, j) =>
          assertClose(ip.rows![k][j], v, {
            rel: 1e-11,
            abs: 1e-14,
            smallBelow: 1e-2,
            what: `${sde.sde} ipndm${order} [${k}][${j}]`,
          })
        )
      );
    }
  }
});

Deno.test("stochastic DDIM: λ = 0 is DDIM without noise; λ = 1 is the DDPM posterior", () => {
  for (const sde of SDES.filter((s) => s.sde !== "ve")) {
    const ddim = makePlan({ ...sde, method: "ddim", steps: 25 });
    const l0 = makePlan({ ...sde, method: "ddim", steps: 25, lambda: 0 });
    assert.equal(l0.noise, undefined);
    l0.rows!.forEach((row, k) => assert.deepEqual(row, ddim.rows![k]));
    const tiny = makePlan({ ...sde, method: "ddim", steps: 25, lambda: 1e-9 });
    tiny.rows!.forEach((row, k) => assertClose(row[1], ddim.rows![k][1], { rel: 1e-12, what: "λ→0 c0" }));
    tiny.noise!.forEach((s) => assert.ok(s < 1e-7));

    const p = makePlan({ ...sde, method: "ddim", steps: 25, lambda: 1 });
    p.noise!.forEach((s, k) => {
      // DDPM: β̃ = (1 − ᾱ_{k+1})/(1 − ᾱ_k) · (1 − ᾱ_k/ᾱ_{k+1}), with 1 − ᾱ = ρ²/(1 + ρ²) and
      // 1 − ᾱ_k/ᾱ_{k+1} = (ρ_k² − ρ_{k+1}²)/(1 + ρ_k²) so the reference itself does not cancel.
      const r0 = p.rho[k] ** 2, r1 = p.rho[k + 1] ** 2;
      const s0 = r0 / (1 + r0), s1 = r1 / (1 + r1);
      const posterior = (s1 / s0) * ((r0 - r1) / (1 + r0));
      assertClose(s * s, posterior, {
        rel: 1e-12,
        what: `${sde.sde} posterior variance ${k}`,
      });
      // Posterior mean in x̂₀ form: sqrt(ᾱ_{k+1}) x̂₀ + sqrt(1 − ᾱ_{k+1} − β̃) ε, x̂₀ = (x − σ_k ε)/α_k.
      const psi = Math.sqrt(p.alphaBar[k + 1] / p.alphaBar[k]);
      const c0 = Math.sqrt(s1 - s * s) - psi * Math.sqrt(s0);
      assertClose(p.rows![k][1], c0, {
        rel: 1e-10,
        what: `${sde.sde} posterior mean ${k}`,
      });
      assertClose(p.rows![k][0], psi, { rel: 1e-15, what: "x_coef" });
    });
  }
});

Deno.test("evaluation times and NFE", () => {
  const p = makePlan({ method: "tab", steps: 12 });
  assert.equal(p.nfe, 12);
  assert.deepEqual(p.evalTimes, p.timesteps.slice(0, 12));
  const rk = makePlan({ method: "rhork", rk: "kutta3", steps: 4 });
  assert.equal(rk.nfe, 12);
  assert.equal(rk.stages![0].length, 3);
  assert.equal(rk.rows![0].length, 4);
  // The first stage sits on the grid point, the last of kutta3 on the next one.
  assert.equal(rk.stages![1][0].t, rk.timesteps[1]);
  assert.equal(rk.stages![1][2].t, rk.timesteps[2]);
});

Deno.test("grids start at T, end at ε and decrease strictly", () => {
  for (const sde of SDES) {
    for (const grid of GRIDS) {
      for (const steps of [1, 2, 7, 1000]) {
        const p = makePlan({ ...sde, ...grid, steps, method: "ddim" });
        assert.equal(p.timesteps.length, steps + 1);
        const T = sde.sde === "vp-cosine" ? 0.9946 : 1;
        assert.equal(p.timesteps[0], T);
        assert.equal(p.timesteps[steps], 1e-3);
        for (let i = 1; i <= steps; i++) {
          assert.ok(p.timesteps[i] < p.timesteps[i - 1]);
        }
      }
    }
  }
});
