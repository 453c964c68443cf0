/**
 * The CPU kernels (assembly/kernels/): the noise's ln, cos and sin against 40-digit mpmath values,
 * the WebAssembly noise against its TypeScript restatement to the bit, and the register update
 * (combine, ε from a network output) against the documented float64 arithmetic written as plain
 * loops — tails, aliasing, −0, noise, guidance and non-finite counts included.
 */
import assert from "node:assert/strict";
import { fillGaussian, gaussian } from "../src/backends/noise.ts";
import { type CombineSource, RegisterFile } from "../src/backends/kernels.ts";
import { cosSinTurn, lnUniform, referenceGaussian } from "../testing/noise_reference.ts";
import { ConfigError } from "../src/errors.ts";

const points = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/noise_mpmath.json", import.meta.url)),
) as { ln: [number, string][]; cosSin: [number, string, string][] };

/** Within `ulps` units in the last place of the exact value (which is parsed to the nearest double). */
function assertUlps(got: number, exact: string, ulps: number, what: string): void {
  const ref = Number(exact);
  const tol = ulps * 2 ** -52 * Math.abs(ref) + 1e-30;
  assert.ok(
    Math.abs(got - ref) <= tol,
    `${what}: ${got} vs ${exact} (${(Math.abs(got - ref) / (2 ** -52 * Math.abs(ref))).toFixed(2)} ulp)`,
  );
}

Deno.test("noise ln(k·2⁻²⁴) is within 2 ulp of mpmath at the seams and a random spread", () => {
  for (const [k, exact] of points.ln) assertUlps(lnUniform(k), exact, 2, `ln(${k}·2⁻²⁴)`);
});

Deno.test("noise cos and sin of 2π·j·2⁻²⁴ are within 2 ulp of mpmath, quarter turns included", () => {
  for (const [j, cos, sin] of points.cosSin) {
    const [c, s] = cosSinTurn(j);
    assertUlps(c, cos, 2, `cos(2π·${j}·2⁻²⁴)`);
    assertUlps(s, sin, 2, `sin(2π·${j}·2⁻²⁴)`);
  }
});

Deno.test("noise functions agree with the engine's Math over a dense sweep", () => {
  // An independent check between the mpmath points: V8's libm is within 1 ulp itself.
  let worstLn = 0, worstTrig = 0;
  for (let k = 1; k <= 1 << 24; k += 997) {
    const ref = Math.log(k / 2 ** 24);
    if (ref !== 0) worstLn = Math.max(worstLn, Math.abs(lnUniform(k) - ref) / (2 ** -52 * Math.abs(ref)));
  }
  for (let j = 0; j < 1 << 24; j += 991) {
    const [c, s] = cosSinTurn(j);
    const a = 2 * Math.PI * j / 2 ** 24;
    worstTrig = Math.max(worstTrig, Math.abs(c - Math.cos(a)), Math.abs(s - Math.sin(a)));
  }
  assert.ok(worstLn <= 3, `ln: ${worstLn} ulp`);
  // the reference's own argument 2π·j/2²⁴ is rounded (up to 4.4e-16 absolute near 2π)
  assert.ok(worstTrig <= 1e-15, `cos/sin: ${worstTrig}`);
});

Deno.test("the WebAssembly noise equals its TypeScript restatement bit for bit", () => {
  const cases = [
    { seed: 0, stream: 0, step: 0, count: 1 << 16, offset: 0, scale: 1 },
    { seed: 2 ** 40 + 12345, stream: 3, step: 17, count: 50_001, offset: 3, scale: 0.37 },
    { seed: Number.MAX_SAFE_INTEGER, stream: 4, step: 2 ** 32 - 1, count: 9, offset: 2 ** 32 - 9, scale: -2 },
    { seed: 99, stream: 1, step: 5, count: 1, offset: 6, scale: 1 },
  ];
  for (const c of cases) {
    const got = new Float64Array(c.count);
    fillGaussian(got, c.seed, c.stream, c.step, c.scale, c.offset);
    const want = referenceGaussian(c.seed, c.count, c.stream, c.step, c.scale, c.offset);
    const bad = got.findIndex((v, i) => !Object.is(v, want[i]));
    assert.equal(bad, -1, `seed ${c.seed}: element ${bad}: ${got[bad]} vs ${want[bad]}`);
  }
  // float32 targets receive the float64 values rounded once
  const f32 = new Float32Array(10);
  fillGaussian(f32, 5, 0, 0);
  assert.deepEqual([...f32], [...Float32Array.from(gaussian(5, 10))]);
  assert.throws(() => fillGaussian(new Float64Array(4), 1, 0, 0, 1, 2 ** 32 - 3), RangeError);
});

/** The documented combine in plain float64 loops (docs/CONVENTIONS.md), the kernel's specification. */
function combineSpec(
  dst: Float32Array | Float64Array,
  sources: [Float32Array | Float64Array, number][],
  noise: Float64Array | undefined,
): void {
  const out = new Float64Array(dst.length);
  for (let i = 0; i < dst.length; i++) {
    let acc = noise ? noise[i] : undefined;
    for (const [v, c] of sources) acc = acc === undefined ? c * v[i] + 0 : acc + c * v[i];
    out[i] = acc ?? 0;
  }
  dst.set(out);
}

function fillRandom(a: Float32Array | Float64Array, seed: number): void {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32 - 0.5) * 10;
  }
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `element ${i}: ${a[i]} vs ${b[i]}`;
  return "";
};

for (const f64 of [false, true]) {
  Deno.test(`combine on ${f64 ? "float64" : "float32"} registers equals the float64 loop bit for bit`, () => {
    for (const length of [1, 3, 4, 7, 513, 1037, 4096]) {
      const regs = new RegisterFile({ length, xSlots: 3, epsSlots: 4, outGroups: 1, f64 });
      try {
        regs.x.forEach((r, k) => fillRandom(r, 10 + k));
        regs.eps.forEach((r, k) => fillRandom(r, 20 + k));
        regs.eps[2][0] = -0; // −0 becomes +0 through `c·v + 0`
        const lists: CombineSource[][] = [
          [],
          [{ kind: "eps", slot: 2, coef: 1 }],
          [{ kind: "x", slot: 0, coef: 0.9 }, { kind: "eps", slot: 1, coef: -0.3 }],
          [
            { kind: "x", slot: 1, coef: 1.0001 },
            { kind: "x", slot: 2, coef: 1e-3 },
            { kind: "eps", slot: 0, coef: 0.1 },
            { kind: "eps", slot: 1, coef: -0.2 },
            { kind: "eps", slot: 2, coef: 0.3 },
            { kind: "eps", slot: 3, coef: -0.4 },
          ],
          // more sources than one pass takes (the kernel sums six at a time through the accumulator)
          [
            { kind: "x", slot: 1, coef: 0.5 },
            ...[0, 1, 2, 3, 0, 1, 2, 3].map((slot, k) => ({ kind: "eps" as const, slot, coef: 0.01 * (k + 1) })),
            { kind: "x", slot: 0, coef: -1.5 },
          ],
        ];
        for (const sources of lists) {
          for (const noisy of [false, true]) {
            const view = (s: CombineSource) => (s.kind === "x" ? regs.x : regs.eps)[s.slot];
            const inputs = sources.map((s) => [view(s).slice(), s.coef] as [Float32Array | Float64Array, number]);
            if (noisy) regs.gaussian([7, 0], 1, 3, 0.5);
            const noise = noisy ? regs.acc.slice() : undefined;
            const want = regs.x[1].slice();
            combineSpec(want, inputs, noise);
            // x1 is also a source in the longest list: the kernel reads each element before writing it
            regs.combine(1, sources, noisy);
            const msg = same(regs.x[1], want);
            assert.equal(msg, "", `length ${length}, ${sources.length} sources, noisy ${noisy}: ${msg}`);
          }
        }
      } finally {
        regs.release();
      }
    }
  });

  Deno.test(`ε from a network output on ${f64 ? "float64" : "float32"} registers: values and non-finite counts`, () => {
    for (const length of [1, 6, 1030]) {
      for (const groups of [1, 2]) {
        const regs = new RegisterFile({ length, xSlots: 1, epsSlots: 1, outGroups: groups, f64 });
        try {
          fillRandom(regs.x[0], 3);
          fillRandom(regs.out, 4);
          const map = { p: 1.25, qc: -0.75, qu: groups === 2 ? 0.4 : 0 };
          const want = new Float64Array(length);
          for (let i = 0; i < length; i++) {
            let r = map.p * regs.x[0][i] + map.qc * regs.out[i];
            if (groups === 2) r = r + map.qu * regs.out[length + i];
            want[i] = r;
          }
          assert.equal(regs.epsFromOutput(0, 0, map, groups), 0);
          assert.equal(same(regs.eps[0], f64 ? want : Float32Array.from(want)), "");
          // NaN and ±Inf in the first group, the tail and the second group are each counted
          const bad = [0, length - 1, ...(length > 4 ? [4] : [])];
          regs.out[bad[0]] = NaN;
          if (bad.length > 1 && bad[1] !== bad[0]) regs.out[bad[1]] = Infinity;
          if (bad.length > 2) regs.out[bad[2]] = -Infinity;
          if (groups === 2) regs.out[length + length - 1] = NaN;
          const expected = new Set(bad).size + (groups === 2 ? 1 : 0);
          assert.equal(regs.epsFromOutput(0, 0, map, groups), expected, `length ${length}, groups ${groups}`);
        } finally {
          regs.release();
        }
      }
    }
  });
}

Deno.test("a register file from the pool starts from zeros", () => {
  const a = new RegisterFile({ length: 100, xSlots: 2, epsSlots: 2, outGroups: 1, f64: false });
  a.x[1].fill(3);
  a.eps[0].fill(4);
  a.acc.fill(5);
  a.release();
  const b = new RegisterFile({ length: 90, xSlots: 2, epsSlots: 3, outGroups: 2, f64: false });
  try {
    for (const r of [...b.x, ...b.eps, b.out, b.acc]) assert.ok(r.every((v) => v === 0));
  } finally {
    b.release();
  }
});

Deno.test("noise drawn straight into a register is the float64 noise rounded once", () => {
  for (const f64 of [false, true]) {
    for (const length of [1, 5, 8, 1003]) {
      const regs = new RegisterFile({ length, xSlots: 2, epsSlots: 1, outGroups: 1, f64 });
      try {
        regs.gaussian([9, 2], 0, 0, 0.8, 1);
        const want = gaussian(9 + 2 * 2 ** 32, length).map((z) => 0.8 * z);
        assert.equal(same(regs.x[1], f64 ? want : Float32Array.from(want)), "", `f64 ${f64}, length ${length}`);
        assert.ok(regs.x[0].every((v) => v === 0), "only the named register is written");
      } finally {
        regs.release();
      }
    }
  }
});

Deno.test("registers that cannot fit in a WebAssembly memory are a ConfigError naming n", () => {
  assert.throws(
    () => new RegisterFile({ length: 2 ** 28, xSlots: 2, epsSlots: 2, outGroups: 1, f64: true }),
    (e: unknown) => e instanceof ConfigError && e.field === "n" && /MiB of WebAssembly memory/.test(e.message),
  );
  // the pool still works afterwards
  const ok = new RegisterFile({ length: 8, xSlots: 1, epsSlots: 1, outGroups: 1, f64: false });
  ok.release();
});
