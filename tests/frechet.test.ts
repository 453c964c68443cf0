// The Fréchet distance used by the quality benchmark, against closed forms.

import { frechetFromMoments, sqrtm, symmetricEigen } from "../bench/frechet.ts";
import { assertClose } from "./helpers.ts";

function randomSpd(d: number, seed: number): Float64Array {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  const a = Float64Array.from({ length: d * d }, r);
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) m[i * d + j] += a[i * d + k] * a[j * d + k];
  }
  for (let i = 0; i < d; i++) m[i * d + i] += 0.1;
  return m;
}

Deno.test("sqrtm squares back to the matrix", () => {
  const d = 12;
  const m = randomSpd(d, 3);
  const s = sqrtm(m, d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let v = 0;
      for (let k = 0; k < d; k++) v += s[i * d + k] * s[k * d + j];
      assertClose(v, m[i * d + j], { rel: 1e-9, abs: 1e-10, smallBelow: 1, what: `S²[${i}][${j}]` });
    }
  }
  const { values } = symmetricEigen(m, d);
  let tr = 0;
  for (let i = 0; i < d; i++) tr += m[i * d + i];
  assertClose(values.reduce((a, b) => a + b, 0), tr, { rel: 1e-12, what: "trace = Σλ" });
});

Deno.test("diagonal Gaussians: FD = ‖Δμ‖² + Σ (s₁ − s₂)²", () => {
  const d = 5;
  const mean1 = Float64Array.from([0, 1, 2, 3, 4]), mean2 = Float64Array.from([1, 1, 0, 3, 5]);
  const s1 = [1, 2, 0.5, 1, 3], s2 = [2, 2, 1.5, 0.2, 1];
  const cov1 = new Float64Array(d * d), cov2 = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    cov1[i * d + i] = s1[i] ** 2;
    cov2[i * d + i] = s2[i] ** 2;
  }
  let expected = 0;
  for (let i = 0; i < d; i++) expected += (mean1[i] - mean2[i]) ** 2 + (s1[i] - s2[i]) ** 2;
  assertClose(frechetFromMoments({ mean: mean1, cov: cov1 }, { mean: mean2, cov: cov2 }, d), expected, {
    rel: 1e-12,
    what: "FD",
  });
});

Deno.test("FD of a distribution with itself is zero; commuting covariances give the closed form", () => {
  const d = 8;
  const m = randomSpd(d, 9);
  const mean = new Float64Array(d);
  const fd = frechetFromMoments({ mean, cov: m }, { mean, cov: m }, d);
  assertClose(fd, 0, { rel: 0, abs: 1e-9, smallBelow: 1, what: "FD(P, P)" });
  // Σ₂ = 4Σ₁: FD = Tr(Σ₁ + 4Σ₁ − 2·2Σ₁) = Tr(Σ₁).
  const m4 = m.map((v) => 4 * v);
  let tr = 0;
  for (let i = 0; i < d; i++) tr += m[i * d + i];
  assertClose(frechetFromMoments({ mean, cov: m }, { mean, cov: m4 }, d), tr, { rel: 1e-10, what: "FD(Σ, 4Σ)" });
});
