/** The adaptive Runge–Kutta reference solver and the probability-flow ODE (src/reference). */
import assert from "node:assert/strict";
import {
  DORMAND_PRINCE_54,
  gmmEps,
  gmmFromSpec,
  gmmMarginalMoments,
  integrateAdaptive,
  referenceSde,
  type ReferenceSdeSpec,
  sampleGmm,
  seededRng,
  solveProbabilityFlow,
} from "../testing/reference/mod.ts";

const SDES: ReferenceSdeSpec[] = [
  { name: "vp-linear" },
  { name: "vp-cosine" },
  { name: "ve" },
];
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

Deno.test("Dormand–Prince 5(4): row sums and order conditions (5 for b, 4 for b̂) hold exactly", () => {
  const { a, b, bHat, c } = DORMAND_PRINCE_54;
  const s = c.length;
  const A = (i: number, j: number) => (j < i ? a[i][j] ?? 0 : 0);
  const mul = (v: number[]) =>
    Array.from(
      { length: s },
      (_, i) => v.reduce((acc, vj, j) => acc + A(i, j) * vj, 0),
    );
  const dot = (w: readonly number[], v: number[]) => w.reduce((acc, wi, i) => acc + wi * v[i], 0);
  const cv = [...c];
  const pw = (k: number) => cv.map((ci) => ci ** k);
  const times = (u: number[], v: number[]) => u.map((ui, i) => ui * v[i]);
  for (let i = 0; i < s; i++) {
    assert.ok(
      Math.abs(a[i].reduce((x, y) => x + y, 0) - c[i]) < 1e-14,
      `row ${i}`,
    );
  }
  const ac = mul(cv);
  const conditions: [string, number[], number, number][] = [
    // [name, vector v, exact value, order]: Σ w_i v_i = value
    ["1", pw(0), 1, 1],
    ["c", cv, 1 / 2, 2],
    ["c²", pw(2), 1 / 3, 3],
    ["Ac", ac, 1 / 6, 3],
    ["c³", pw(3), 1 / 4, 4],
    ["c·Ac", times(cv, ac), 1 / 8, 4],
    ["Ac²", mul(pw(2)), 1 / 12, 4],
    ["AAc", mul(ac), 1 / 24, 4],
    ["c⁴", pw(4), 1 / 5, 5],
    ["c²·Ac", times(pw(2), ac), 1 / 10, 5],
    ["(Ac)²", times(ac, ac), 1 / 20, 5],
    ["c·Ac²", times(cv, mul(pw(2))), 1 / 15, 5],
    ["c·AAc", times(cv, mul(ac)), 1 / 30, 5],
    ["Ac³", mul(pw(3)), 1 / 20, 5],
    ["A(c·Ac)", mul(times(cv, ac)), 1 / 40, 5],
    ["AAc²", mul(mul(pw(2))), 1 / 60, 5],
    ["AAAc", mul(mul(ac)), 1 / 120, 5],
  ];
  for (const [name, v, value, order] of conditions) {
    assert.ok(Math.abs(dot(b, v) - value) < 1e-14, `b: ${name}`);
    if (order <= 4) {
      assert.ok(Math.abs(dot(bHat, v) - value) < 1e-14, `b̂: ${name}`);
    }
  }
  // The embedded solution is genuinely of order 4 only.
  assert.ok(Math.abs(dot(bHat, pw(4)) - 1 / 5) > 1e-6);
  // FSAL: last row of a equals b.
  assert.deepEqual([...a[s - 1], 0], [...b]);
});

Deno.test("integrateAdaptive: exponential and rotation, both directions, to 1e-12", () => {
  const r1 = integrateAdaptive((_s, y) => Float64Array.from(y), [1], 0, 2, {
    rtol: 1e-13,
    atol: 1e-13,
  });
  assert.ok(Math.abs(r1.y[0] - Math.exp(2)) < 1e-11 * Math.exp(2));
  const r2 = integrateAdaptive(
    (_s, y) => Float64Array.of(-y[1], y[0]),
    [1, 0],
    3,
    -1,
    { rtol: 1e-13, atol: 1e-13 },
  );
  assert.ok(maxAbs(r2.y, [Math.cos(-4), Math.sin(-4)]) < 1e-11);
  // Evaluations: 2 for the start (f0 and the starting-step probe) + 6 per attempted step (FSAL).
  assert.equal(r2.evaluations, 2 + 6 * (r2.steps + r2.rejected));
  assert.throws(
    () =>
      integrateAdaptive((_s, y) => Float64Array.from(y), [1], 0, 1, {
        rtol: 0,
        atol: 1,
      }),
    RangeError,
  );
  assert.throws(
    () =>
      integrateAdaptive((_s, y) => Float64Array.from(y), [1], 0, 1, {
        rtol: 1e-12,
        atol: 1e-12,
        maxSteps: 3,
      }),
    /steps/,
  );
});

/** Closed-form probability-flow solution for one Gaussian (per coordinate). */
function singleGaussianExact(
  sdeSpec: ReferenceSdeSpec,
  mu: number[],
  s: number[],
  xT: number[],
  T: number,
  t: number,
) {
  const sde = referenceSde(sdeSpec);
  const aT = sde.alpha(T);
  const sT = sde.sigma(T);
  const a = sde.alpha(t);
  const sg = sde.sigma(t);
  return xT.map((x, j) =>
    a * mu[j] +
    (Math.sqrt(a * a * s[j] ** 2 + sg * sg) /
        Math.sqrt(aT * aT * s[j] ** 2 + sT * sT)) * (x - aT * mu[j])
  );
}

for (const spec of SDES) {
  Deno.test(`K = 1 closed form, ${spec.name}: error ≤ 1e-10 at rtol = atol = 1e-12 (log ρ and ρ)`, () => {
    const sde = referenceSde(spec);
    const mu = [0.7, -1.2, 0.1, 2];
    const s = [0.05, 0.3, 1.5, 0.01];
    const g = gmmFromSpec({ weights: [1], means: [mu], stds: [s] });
    const sT = Math.hypot(sde.alpha(sde.tStart) * 0.5, sde.sigma(sde.tStart));
    const xT = [0.3 * sT, -0.8 * sT, 1.1 * sT, 2.2 * sT];
    for (
      const [tStart, tEnd] of [[sde.tStart, sde.tEnd], [0.5, 0.02], [
        sde.tEnd,
        sde.tStart,
      ]]
    ) {
      const exact = singleGaussianExact(spec, mu, s, xT, tStart, tEnd);
      for (const variable of ["logrho", "rho"] as const) {
        const r = solveProbabilityFlow(
          (x, t) => gmmEps(g, sde, x, t),
          sde,
          xT,
          { tStart, tEnd, rtol: 1e-12, atol: 1e-12, variable },
        );
        const err = maxAbs(r.x, exact) / Math.max(1, ...exact.map(Math.abs));
        if (tStart === sde.tStart) {
          console.log(
            `  ${spec.name} ${variable}: error ${err.toExponential(2)}, ${r.steps} steps, ${r.evaluations} evaluations`,
          );
        }
        assert.ok(err <= 1e-10, `${variable} ${tStart}→${tEnd}: error ${err}`);
        assert.ok(r.steps > 0 && r.evaluations >= 6 * r.steps);
      }
    }
  });
}

Deno.test("tightening the tolerance converges (≤ 1e-10) on the 2-D and 64-D mixtures, all SDEs", async () => {
  for (const name of ["gmm-2d", "gmm-64d"]) {
    const spec = JSON.parse(
      await Deno.readTextFile(
        new URL(`../tools/gmm/specs/${name}.json`, import.meta.url),
      ),
    );
    const g = gmmFromSpec(spec);
    for (const sdeSpec of SDES) {
      const sde = referenceSde(sdeSpec);
      const rng = seededRng(11);
      const xT = Array.from(
        { length: g.d },
        () =>
          Math.hypot(sde.alpha(sde.tStart), sde.sigma(sde.tStart)) *
          rng.normal(),
      );
      const eps = (x: Float64Array, t: number) => gmmEps(g, sde, x, t);
      const runs = [1e-6, 1e-8, 1e-10, 1e-12, 1e-13].map((tol) =>
        solveProbabilityFlow(eps, sde, xT, { rtol: tol, atol: tol })
      );
      const best = runs[runs.length - 1].x;
      const diffs = runs.slice(0, -1).map((r) => maxAbs(r.x, best));
      console.log(
        `  ${name} ${sdeSpec.name}: |x(tol) − x(1e-13)| = ${
          diffs.map((d) => d.toExponential(1)).join(", ")
        } for tol 1e-6…1e-12; ${runs[3].evaluations} evaluations at 1e-12`,
      );
      assert.ok(diffs[3] <= 1e-10, `1e-12 vs 1e-13: ${diffs[3]}`);
      for (let i = 1; i < diffs.length; i++) {
        assert.ok(
          diffs[i] < diffs[i - 1] || diffs[i] < 1e-12,
          `not converging: ${diffs}`,
        );
      }
      const rho = solveProbabilityFlow(eps, sde, xT, {
        rtol: 1e-12,
        atol: 1e-12,
        variable: "rho",
      });
      assert.ok(
        maxAbs(rho.x, best) <= 1e-10,
        `ρ vs log ρ: ${maxAbs(rho.x, best)}`,
      );
    }
  }
});

Deno.test("probability flow is reversible: ε → T → ε returns the start", () => {
  const g = gmmFromSpec({
    weights: [0.3, 0.7],
    means: [[-1, 0.5], [1, -0.5]],
    stds: [[0.2, 0.3], [0.4, 0.1]],
  });
  for (const spec of SDES) {
    const sde = referenceSde(spec);
    const eps = (x: Float64Array, t: number) => gmmEps(g, sde, x, t);
    const x0 = [0.9, -0.45];
    const up = solveProbabilityFlow(eps, sde, x0, {
      tStart: sde.tEnd,
      tEnd: sde.tStart,
      rtol: 1e-12,
      atol: 1e-12,
    });
    const down = solveProbabilityFlow(eps, sde, up.x, {
      tStart: sde.tStart,
      tEnd: sde.tEnd,
      rtol: 1e-12,
      atol: 1e-12,
    });
    assert.ok(maxAbs(down.x, x0) < 1e-9, `${spec.name}: ${maxAbs(down.x, x0)}`);
  }
});

Deno.test("probability flow transports the marginal: moments at ε from exact samples at T", () => {
  const g = gmmFromSpec({
    weights: [0.3, 0.7],
    means: [[-1, 0.5], [1, -0.5]],
    stds: [[0.2, 0.3], [0.4, 0.1]],
  });
  const sde = referenceSde({ name: "vp-linear" });
  const rng = seededRng(5);
  const n = 1000;
  const x0 = sampleGmm(g, n, rng);
  const aT = sde.alpha(sde.tStart);
  const sT = sde.sigma(sde.tStart);
  const eps = (x: Float64Array, t: number) => gmmEps(g, sde, x, t);
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const xT = [
      aT * x0[2 * i] + sT * rng.normal(),
      aT * x0[2 * i + 1] + sT * rng.normal(),
    ];
    out.set(
      solveProbabilityFlow(eps, sde, xT, { rtol: 1e-7, atol: 1e-9 }).x,
      2 * i,
    );
  }
  const { mean, cov } = gmmMarginalMoments(g, sde, sde.tEnd);
  for (let j = 0; j < 2; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += out[2 * i + j];
    m /= n;
    const se = Math.sqrt(cov[3 * j] / n);
    assert.ok(Math.abs(m - mean[j]) < 5 * se, `mean ${j}: ${m} vs ${mean[j]}`);
    let v = 0;
    for (let i = 0; i < n; i++) v += (out[2 * i + j] - m) ** 2;
    v /= n - 1;
    assert.ok(
      Math.abs(v - cov[3 * j]) < 0.1 * cov[3 * j],
      `variance ${j}: ${v} vs ${cov[3 * j]}`,
    );
  }
});
