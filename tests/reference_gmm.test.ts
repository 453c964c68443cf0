/** The float64 exact ε and moments of a Gaussian mixture (src/reference/gmm.ts). */
import assert from "node:assert/strict";
import {
  gmmEps,
  gmmEpsBatch,
  gmmFromSpec,
  gmmLogDensity,
  gmmMarginalMoments,
  gmmMoments,
  gmmResponsibilities,
  type GmmSpec,
  referenceSde,
  type ReferenceSdeSpec,
  sampleGmm,
  seededRng,
} from "../testing/reference/mod.ts";

const SPEC: GmmSpec = {
  weights: [3, 2, 3.5, 1.5],
  means: [[-1.2, 0.6, 0.1], [0.9, 1.1, -0.4], [0.6, -1.0, 0.3], [
    -0.3,
    -0.4,
    0,
  ]],
  stds: [[0.25, 0.12, 0.5], [0.15, 0.3, 0.2], [0.2, 0.2, 0.2], [0.08, 0.08, 1]],
};
const SDES: ReferenceSdeSpec[] = [
  { name: "vp-linear" },
  { name: "vp-cosine" },
  { name: "ve" },
];

Deno.test("gmmFromSpec normalises weights and validates", () => {
  const g = gmmFromSpec(SPEC);
  assert.equal(g.k, 4);
  assert.equal(g.d, 3);
  assert.deepEqual(g.shape, [3]);
  assert.ok(Math.abs(g.weights.reduce((a, b) => a + b, 0) - 1) < 1e-15);
  assert.ok(Math.abs(g.weights[0] - 0.3) < 1e-15);
  assert.ok(Math.abs(g.variances[1] - 0.0144) < 1e-15);
  const bad: [string, unknown][] = [
    ["weights", { ...SPEC, weights: [1, 1, -1, 1] }],
    ["means", { ...SPEC, means: SPEC.means.slice(1) }],
    ["stds", { ...SPEC, stds: [[1, 1, 1], [1, 1, 1], [1, 0, 1], [1, 1, 1]] }],
    ["entries", { ...SPEC, means: [[1, 2, 3], [1, 2], [1, 2, 3], [1, 2, 3]] }],
    ["shape", { ...SPEC, shape: [2, 2] }],
  ];
  for (const [what, spec] of bad) {
    assert.throws(() => gmmFromSpec(spec as GmmSpec), new RegExp(what));
  }
  assert.deepEqual(
    gmmFromSpec({
      weights: [1],
      means: [[0, 0, 0, 0]],
      stds: [[1, 1, 1, 1]],
      shape: [1, 2, 2],
    }).shape,
    [1, 2, 2],
  );
});

Deno.test("ε = −σ ∇log p_t (central differences of the log density)", () => {
  const g = gmmFromSpec(SPEC);
  const rng = seededRng(3);
  for (const spec of SDES) {
    const sde = referenceSde(spec);
    for (const t of [sde.tEnd, 0.01, 0.1, 0.5, sde.tStart]) {
      const x = Array.from(
        { length: 3 },
        () => sde.alpha(t) * rng.normal() + sde.sigma(t) * rng.normal(),
      );
      const eps = gmmEps(g, sde, x, t);
      const h = 1e-5 * Math.max(sde.sigma(t), 1e-3);
      for (let j = 0; j < 3; j++) {
        const xp = [...x];
        const xm = [...x];
        xp[j] += h;
        xm[j] -= h;
        const grad = (gmmLogDensity(g, sde, xp, t) - gmmLogDensity(g, sde, xm, t)) /
          (2 * h);
        const fd = -sde.sigma(t) * grad;
        assert.ok(
          Math.abs(fd - eps[j]) < 1e-6 * (1 + Math.abs(eps[j])),
          `${spec.name} t=${t} j=${j}: ${fd} vs ${eps[j]}`,
        );
      }
    }
  }
});

Deno.test("K = 1: ε = σ (x − αμ)/(α²s² + σ²), and splitting a component changes nothing", () => {
  const one = gmmFromSpec({
    weights: [1],
    means: [[0.5, -2]],
    stds: [[0.3, 1.5]],
  });
  const split = gmmFromSpec({
    weights: [0.25, 0.75],
    means: [[0.5, -2], [0.5, -2]],
    stds: [[0.3, 1.5], [0.3, 1.5]],
  });
  for (const spec of SDES) {
    const sde = referenceSde(spec);
    for (const t of [1e-3, 0.3, 0.9]) {
      const x = [0.7, 1.3];
      const e = gmmEps(one, sde, x, t);
      const a = sde.alpha(t);
      const s = sde.sigma(t);
      const want = [
        s * (x[0] - a * 0.5) / (a * a * 0.09 + s * s),
        s * (x[1] + a * 2) / (a * a * 2.25 + s * s),
      ];
      for (let j = 0; j < 2; j++) {
        assert.ok(Math.abs(e[j] - want[j]) <= 1e-15 * (1 + Math.abs(want[j])));
      }
      assert.deepEqual(
        Array.from(gmmEps(split, sde, x, t)).map((v, j) => Math.abs(v - e[j]) < 1e-15),
        [true, true],
      );
    }
  }
});

Deno.test("ε is finite and stable far from the data (log-sum-exp)", () => {
  const g = gmmFromSpec(SPEC);
  const sde = referenceSde({ name: "vp-linear" });
  const x = [1e4, -3e4, 2e4];
  const e = gmmEps(g, sde, x, 1e-3);
  assert.ok(e.every(Number.isFinite));
  const r = gmmResponsibilities(g, sde, x, 1e-3);
  const k = r.indexOf(Math.max(...r));
  assert.ok(Math.abs(r[k] - 1) < 1e-15);
  const a = sde.alpha(1e-3);
  const s = sde.sigma(1e-3);
  for (let j = 0; j < 3; j++) {
    const v = a * a * g.variances[k * 3 + j] + s * s;
    const want = (s * (x[j] - a * g.means[k * 3 + j])) / v;
    assert.ok(Math.abs(e[j] - want) <= 1e-14 * Math.abs(want));
  }
});

Deno.test("gmmEpsBatch = per-sample gmmEps; log density integrates to 1 (1-D)", () => {
  const g = gmmFromSpec(SPEC);
  const sde = referenceSde({ name: "vp-cosine" });
  const rng = seededRng(9);
  const x = Float64Array.from({ length: 15 }, () => rng.normal());
  const t = [0.01, 0.2, 0.4, 0.6, 0.9];
  const all = gmmEpsBatch(g, sde, x, t);
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(
      Array.from(gmmEps(g, sde, x.subarray(3 * i, 3 * i + 3), t[i])),
      Array.from(all.subarray(3 * i, 3 * i + 3)),
    );
  }
  const g1 = gmmFromSpec({
    weights: [0.7, 0.3],
    means: [[-1], [2]],
    stds: [[0.2], [0.5]],
  });
  let integral = 0;
  const h = 1e-3;
  for (let u = -8; u <= 8; u += h) {
    integral += Math.exp(gmmLogDensity(g1, sde, [u], 0.05)) * h;
  }
  assert.ok(Math.abs(integral - 1) < 1e-9, `∫p = ${integral}`);
});

Deno.test("moments: closed form, marginal at t, and Monte Carlo", () => {
  const g = gmmFromSpec(SPEC);
  const { mean, cov } = gmmMoments(g);
  // Raw-moment form Σπ(diag(s²) + μμᵀ) − m mᵀ
  const pi = g.weights;
  for (let i = 0; i < 3; i++) {
    let m = 0;
    for (let k = 0; k < 4; k++) m += pi[k] * SPEC.means[k][i];
    assert.ok(Math.abs(mean[i] - m) < 1e-15);
    for (let j = 0; j < 3; j++) {
      let c = 0;
      for (let k = 0; k < 4; k++) {
        c += pi[k] *
          ((i === j ? SPEC.stds[k][i] ** 2 : 0) +
            SPEC.means[k][i] * SPEC.means[k][j]);
      }
      let mj = 0;
      for (let k = 0; k < 4; k++) mj += pi[k] * SPEC.means[k][j];
      assert.ok(Math.abs(cov[i * 3 + j] - (c - m * mj)) < 1e-14);
      assert.equal(cov[i * 3 + j], cov[j * 3 + i]);
    }
  }
  const sde = referenceSde({ name: "vp-linear" });
  const mm = gmmMarginalMoments(g, sde, 0.4);
  const a = sde.alpha(0.4);
  const s = sde.sigma(0.4);
  for (let i = 0; i < 3; i++) {
    assert.ok(Math.abs(mm.mean[i] - a * mean[i]) < 1e-15);
    for (let j = 0; j < 3; j++) {
      assert.ok(
        Math.abs(
          mm.cov[i * 3 + j] - (a * a * cov[i * 3 + j] + (i === j ? s * s : 0)),
        ) < 1e-15,
      );
    }
  }
  const n = 200_000;
  const xs = sampleGmm(g, n, seededRng(42));
  for (let i = 0; i < 3; i++) {
    let m = 0;
    for (let r = 0; r < n; r++) m += xs[r * 3 + i];
    m /= n;
    const se = Math.sqrt(cov[i * 4] / n);
    assert.ok(
      Math.abs(m - mean[i]) < 5 * se,
      `sample mean ${i}: ${m} vs ${mean[i]} (se ${se})`,
    );
    let v = 0;
    for (let r = 0; r < n; r++) v += (xs[r * 3 + i] - m) ** 2;
    v /= n - 1;
    assert.ok(
      Math.abs(v - cov[i * 4]) < 0.02 * cov[i * 4],
      `sample variance ${i}: ${v} vs ${cov[i * 4]}`,
    );
  }
});
