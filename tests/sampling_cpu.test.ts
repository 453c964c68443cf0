/**
 * The sampling loops on the CPU: the float64 loop over the exact ε of a Gaussian mixture against
 * an adaptive ODE solution (convergence and the methods' ordering), stochastic sampling against
 * the mixture's moments, the WASM backend on float64 models against the float64 loop, final
 * denoising, progress, abort, and input validation.
 */
import assert from "node:assert/strict";
import { AbortError, ConfigError } from "../src/errors.ts";
import { gaussian } from "../src/backends/mod.ts";
import { loadModel } from "../src/model/mod.ts";
import { sample, sampleFunction } from "../src/sampling/mod.ts";
import { makePlan } from "../src/plan/make_plan.ts";
import type { PlanConfig } from "../src/plan/config.ts";
import type { Plan } from "../src/plan/types.ts";
import { gmmEpsBatch, gmmFromSpec, gmmMoments, referenceSde, solveProbabilityFlow } from "../testing/reference/mod.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const MODELS = new URL("../models/", import.meta.url);
const manifest = JSON.parse(
  await Deno.readTextFile(new URL("gmm-2d/model.json", MODELS)),
);
const gmm = gmmFromSpec(manifest.gmm);
const sde = referenceSde({ name: "vp-linear", betaMin: 0.1, betaMax: 20 });
const eps = (x: Float64Array, t: number[]) => gmmEpsBatch(gmm, sde, x, t);

const N = 32, SEED = 4;
/** Exact probability-flow endpoints from the same x_T the samplers draw (prior stream). */
const reference = (() => {
  const xT = gaussian(SEED, N * 2);
  const out = new Float64Array(N * 2);
  for (let i = 0; i < N; i++) {
    const r = solveProbabilityFlow(
      (x, t) => gmmEpsBatch(gmm, sde, x, t),
      sde,
      xT.subarray(2 * i, 2 * i + 2),
      {
        tStart: 1,
        tEnd: 1e-3,
      },
    );
    out.set(r.x, 2 * i);
  }
  return out;
})();

async function endpointError(cfg: PlanConfig): Promise<number> {
  const r = await sampleFunction({
    plan: makePlan(cfg),
    n: N,
    seed: SEED,
    sampleShape: [2],
    eps,
  });
  assert.equal(r.backend, "cpu");
  assert.ok(r.data instanceof Float64Array);
  let e = 0;
  for (let i = 0; i < reference.length; i++) {
    e += (r.data[i] - reference[i]) ** 2;
  }
  return Math.sqrt(e / N);
}

/**
 * DDIM for vp-linear built by hand: x_coef = α_{k+1}/α_k, c_0 = α_{k+1}(ρ_{k+1} − ρ_k), as a
 * `deis-plan/1` plan (rows, no program), which sample() upgrades.
 */
function handDdim(steps: number): Plan {
  const b0 = 0.1, b1 = 20, T = 1, eps0 = 1e-3;
  const timesteps = Array.from(
    { length: steps + 1 },
    (_, i) => T + (i / steps) * (eps0 - T),
  );
  const alphaBar = timesteps.map((t) => Math.exp(-(b1 - b0) * t * t / 2 - b0 * t));
  const rho = alphaBar.map((ab) => Math.sqrt(1 / ab - 1));
  const rows = Array.from({ length: steps }, (_, k) => {
    const a0 = Math.sqrt(alphaBar[k]), a1 = Math.sqrt(alphaBar[k + 1]);
    return [a1 / a0, a1 * (rho[k + 1] - rho[k])];
  });
  return {
    format: "deis-plan/1",
    sde: { name: "vp-linear", betaMin: b0, betaMax: b1 },
    method: "ddim",
    order: 0,
    lambda: 0,
    grid: "time-uniform",
    steps,
    timesteps,
    alphaBar,
    rho,
    rows,
    evalTimes: timesteps.slice(0, steps),
    nfe: steps,
  } as unknown as Plan;
}

Deno.test("float64 loop: a hand-made DDIM plan gives makePlan's DDIM samples", async () => {
  const hand = await sampleFunction({
    plan: handDdim(12),
    n: 8,
    seed: 1,
    sampleShape: [2],
    eps,
  });
  const made = await sampleFunction({
    plan: makePlan({ method: "ddim", steps: 12, grid: "time-uniform" }),
    n: 8,
    seed: 1,
    sampleShape: [2],
    eps,
  });
  for (let i = 0; i < hand.data.length; i++) {
    assert.ok(Math.abs(hand.data[i] - made.data[i]) < 1e-12);
  }
});

Deno.test("float64 loop converges to the exact ODE endpoint; DEIS orders beat DDIM", async () => {
  const err: Record<string, number[]> = {};
  const methods: Record<string, Omit<PlanConfig, "steps">> = {
    ddim: { method: "ddim" },
    euler: { method: "euler" },
    tab1: { method: "tab", order: 1 },
    tab2: { method: "tab", order: 2 },
    tab3: { method: "tab", order: 3 },
    ipndm3: { method: "ipndm", order: 3 },
    logrho3: { method: "logrho", order: 3, grid: "logrho" },
  };
  for (const [name, cfg] of Object.entries(methods)) {
    err[name] = [
      await endpointError({ ...cfg, steps: 20 }),
      await endpointError({ ...cfg, steps: 40 }),
    ];
  }
  const show = JSON.stringify(err);
  for (const [name, [e20, e40]] of Object.entries(err)) {
    assert.ok(e40 < e20, `${name} converges: ${show}`);
  }
  // tAB: error ordering r = 3 < 2 < 1 < DDIM at equal NFE; multistep ratios show order > 1
  assert.ok(
    err.tab3[0] < err.tab2[0] && err.tab2[0] < err.tab1[0] &&
      err.tab1[0] < err.ddim[0],
    show,
  );
  for (const m of ["tab1", "tab2", "tab3", "ipndm3"]) {
    assert.ok(err[m][0] / err[m][1] > 3, `${m} ratio: ${show}`);
  }
  assert.ok(err.tab3[1] < 1e-3, show);
  // ρRK-4 and Heun at 40 NFE
  const rk4 = await endpointError({ method: "rhork", rk: "rk4", steps: 10 });
  const heun = await endpointError({ method: "rhork", rk: "heun2", steps: 20 });
  assert.ok(rk4 < heun && heun < err.ddim[1], `rk4 ${rk4}, heun ${heun}`);
});

Deno.test("stochastic DDIM (λ = 1) and the ODE sampler reproduce the mixture's mean and covariance", async () => {
  const { mean, cov } = gmmMoments(gmm);
  const n = 4000;
  for (const lambda of [0, 1]) {
    const plan = makePlan({
      method: "ddim",
      lambda,
      steps: 200,
      grid: "logrho",
    });
    if (lambda > 0) assert.ok(plan.noise && plan.noise.every((s) => s >= 0));
    const r = await sampleFunction({
      plan,
      n,
      seed: 21 + lambda,
      sampleShape: [2],
      eps,
    });
    const m = [0, 0], c = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      m[0] += r.data[2 * i] / n;
      m[1] += r.data[2 * i + 1] / n;
    }
    for (let i = 0; i < n; i++) {
      const a = r.data[2 * i] - m[0], b = r.data[2 * i + 1] - m[1];
      c[0] += a * a / n;
      c[1] += a * b / n;
      c[2] += b * b / n;
    }
    const se = (v: number) => 5 * Math.sqrt(v / n);
    assert.ok(
      Math.abs(m[0] - mean[0]) < se(cov[0]),
      `λ=${lambda} mean x: ${m[0]} vs ${mean[0]}`,
    );
    assert.ok(
      Math.abs(m[1] - mean[1]) < se(cov[3]),
      `λ=${lambda} mean y: ${m[1]} vs ${mean[1]}`,
    );
    assert.ok(
      Math.abs(c[0] - cov[0]) < 0.1 * cov[0],
      `λ=${lambda} var x: ${c[0]} vs ${cov[0]}`,
    );
    assert.ok(
      Math.abs(c[2] - cov[3]) < 0.1 * cov[3],
      `λ=${lambda} var y: ${c[2]} vs ${cov[3]}`,
    );
    assert.ok(
      Math.abs(c[1] - cov[1]) < 0.1 * Math.sqrt(cov[0] * cov[3]),
      `λ=${lambda} cov: ${c[1]} vs ${cov[1]}`,
    );
  }
});

Deno.test({
  name: "wasm backend on float64 models matches the float64 loop on the exact ε (ODE, SDE, ρRK, denoise)",
  ...opts,
  async fn() {
    for (const name of ["gmm-2d-f64", "gmm-64d-f64"]) {
      const model = await loadModel(new URL(`${name}/`, MODELS));
      const g = gmmFromSpec(
        model.manifest.extra.gmm as Parameters<typeof gmmFromSpec>[0],
      );
      const exact = (x: Float64Array, t: number[]) => gmmEpsBatch(g, sde, x, t);
      try {
        const cfgs: [PlanConfig, boolean][] = [
          [{ method: "tab", order: 3, steps: 10 }, false],
          [{ method: "ddim", lambda: 1, steps: 10 }, true],
          [{ method: "rhork", rk: "kutta3", steps: 4 }, true],
        ];
        for (const [cfg, denoise] of cfgs) {
          const plan = makePlan(cfg);
          const common = { plan, n: 4, seed: 8, denoiseFinal: denoise };
          const w = await sample({ ...common, model, backend: "wasm" });
          const f = await sampleFunction({
            ...common,
            eps: exact,
            sampleShape: model.sampleShape,
          });
          assert.ok(w.data instanceof Float64Array);
          assert.equal(w.nfe, f.nfe);
          let d = 0;
          for (let i = 0; i < f.data.length; i++) {
            d = Math.max(d, Math.abs(w.data[i] - f.data[i]));
          }
          assert.ok(d < 1e-9, `${name} ${JSON.stringify(cfg)}: ${d}`);
        }
      } finally {
        await model.dispose();
      }
    }
  },
});

Deno.test("final denoising is x̂₀ = x/α − ρ ε at t = ε with one extra evaluation", async () => {
  const plan = makePlan({ method: "tab", order: 2, steps: 8 });
  const init = Float64Array.from(gaussian(3, 6), (v) => v * 0.9);
  const plain = await sampleFunction({
    plan,
    n: 3,
    sampleShape: [2],
    eps,
    init,
  });
  const den = await sampleFunction({
    plan,
    n: 3,
    sampleShape: [2],
    eps,
    init,
    denoiseFinal: true,
  });
  assert.equal(plain.nfe, plan.nfe);
  assert.equal(den.nfe, plan.nfe + 1);
  const K = plan.steps;
  const e = eps(plain.data as Float64Array, [
    plan.timesteps[K],
    plan.timesteps[K],
    plan.timesteps[K],
  ]);
  for (let i = 0; i < 6; i++) {
    const want = plain.data[i] / Math.sqrt(plan.alphaBar[K]) -
      plan.rho[K] * e[i];
    assert.ok(
      Math.abs(den.data[i] - want) < 1e-13,
      `${den.data[i]} vs ${want}`,
    );
  }
});

Deno.test("progress after every step; abort stops the loop with an AbortError", async () => {
  const plan = makePlan({ method: "rhork", rk: "heun2", steps: 6 });
  const seen: [number, number, number][] = [];
  await sampleFunction({
    plan,
    n: 2,
    seed: 1,
    sampleShape: [2],
    eps,
    denoiseFinal: true,
    onProgress: (p) => {
      assert.equal(p.steps, 6);
      seen.push([p.step, p.nfe, p.t]);
    },
  });
  assert.deepEqual(seen.map((s) => s[0]), [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(seen.map((s) => s[1]), [2, 4, 6, 8, 10, 12, 13]);
  assert.deepEqual(seen.slice(0, 6).map((s) => s[2]), plan.timesteps.slice(1));

  const ac = new AbortController();
  let calls = 0;
  await assert.rejects(
    sampleFunction({
      plan,
      n: 2,
      sampleShape: [2],
      eps: (x, t) => {
        if (++calls === 5) ac.abort(new Error("stop"));
        return eps(x, t);
      },
      signal: ac.signal,
    }),
    AbortError,
  );
  assert.equal(calls, 5);
});

Deno.test({
  name: "bad options are ConfigErrors naming the field; a plan for another SDE is refused",
  ...opts,
  async fn() {
    const plan = makePlan({ method: "tab", order: 1, steps: 4 });
    const base = { plan, sampleShape: [2], eps };
    const field = (f: string) => (e: unknown) => e instanceof ConfigError && e.field === f;
    await assert.rejects(sampleFunction({ ...base, n: 0 }), field("n"));
    await assert.rejects(sampleFunction({ ...base, seed: -3 }), field("seed"));
    await assert.rejects(
      sampleFunction({ ...base, init: [1, 2, 3] }),
      field("init"),
    );
    await assert.rejects(
      sampleFunction({ ...base, plan: { ...plan, rows: plan.rows!.slice(1) } }),
      field("plan.rows"),
    );
    await assert.rejects(
      sampleFunction({
        ...base,
        plan: { ...plan, rows: [[1, NaN], ...plan.rows!.slice(1)] },
      }),
      field("plan.rows[0][1]"),
    );
    await assert.rejects(
      sampleFunction({
        ...base,
        plan: { ...plan, format: "x" as "deis-plan/2" },
      }),
      field("plan.format"),
    );
    await assert.rejects(
      sampleFunction({ ...base, plan: { ...plan, noise: [1] } }),
      field("plan.noise"),
    );
    await assert.rejects(
      sampleFunction({ ...base, sampleShape: [0] }),
      field("sampleShape"),
    );
    await assert.rejects(
      sampleFunction({ ...base, eps: () => new Float64Array(1) }),
      (e: unknown) =>
        e instanceof Error && e.name === "ModelError" &&
        /returned 1 values/.test(e.message),
    );
    const model = await loadModel(new URL("gmm-2d/", MODELS));
    try {
      await assert.rejects(
        sample({
          model,
          plan: makePlan({ sde: "ve", steps: 4 }),
          backend: "wasm",
        }),
        field("plan.sde"),
      );
      await assert.rejects(
        sample({
          model,
          plan: makePlan({ betaMax: 10, steps: 4 }),
          backend: "wasm",
        }),
        field("plan.sde"),
      );
      await assert.rejects(
        sample({ model, plan, backend: "tpu" as "wasm" }),
        field("backend"),
      );
      await assert.rejects(
        sample({ model, plan, backend: "cpu" }),
        field("backend"),
      );
      const r = await sample({ model, plan, n: 2, seed: 1, backend: "wasm" });
      assert.equal(r.backend, "wasm");
      assert.equal(r.seed, 1);
      const auto = await sample({ model, plan, n: 2, seed: 1 });
      assert.ok(auto.backendReason && auto.backendReason.length > 0);
      assert.ok(typeof (await sample({ model, plan })).seed === "number");
    } finally {
      await model.dispose();
    }
  },
});

Deno.test("a plan edited in place after sampling is sampled as edited (no stale prepared program)", async () => {
  const plan = makePlan({ method: "ddim", steps: 2 });
  const common = { sampleShape: [2], n: 4, seed: 3, eps };
  const before = (await sampleFunction({ ...common, plan })).data;
  assert.deepEqual((await sampleFunction({ ...common, plan })).data, before, "the same plan twice: the same samples");
  // an edit the validator accepts: the row and the program's term together
  plan.rows![1][1] *= 0.5;
  const op = plan.program.ops[4] as { terms: [string, number][] };
  op.terms[0][1] *= 0.5;
  const edited = (await sampleFunction({ ...common, plan })).data;
  const fresh = (await sampleFunction({ ...common, plan: JSON.parse(JSON.stringify(plan)) })).data;
  assert.deepEqual(edited, fresh);
  assert.notDeepEqual(edited, before);
});
