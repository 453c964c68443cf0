// `deno task bench:quality --quick` (the CI-sized quality benchmark) runs end to end in worker
// processes and its results have the shape and the orderings that cannot plausibly fail on a working
// sampler: a third-order DEIS lands closer to the accurate solution than DDIM at the same NFE, and
// far closer than Euler.

import assert from "node:assert/strict";

Deno.test("bench:quality --quick writes finite results, pictures, and the expected RMSE ordering", async () => {
  const out = await Deno.makeTempDir({ prefix: "deis-quality-test-" });
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "bench/quality.ts", "--quick", "--workers", "2", "--out", out],
      cwd: new URL("../", import.meta.url),
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(480_000),
    }).output();
    const err = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 0, err.slice(-3000));
    assert.match(err, /\[worker 1\]/, "the second worker process reported progress");

    const r = JSON.parse(await Deno.readTextFile(`${out}/quality-quick.json`));
    assert.equal(r.samplesPerCell, 32);
    for (const [label, cells] of Object.entries(r.table) as [string, Record<string, { fd: number; rmse: number }>][]) {
      for (const [nfe, c] of Object.entries(cells)) {
        assert.ok(Number.isFinite(c.fd) && c.fd > 0, `${label} @ ${nfe}: FD ${c.fd}`);
        if (label !== "sddim-1") assert.ok(Number.isFinite(c.rmse) && c.rmse >= 0, `${label} @ ${nfe}: RMSE ${c.rmse}`);
      }
    }
    assert.ok(Number.isFinite(r.floorFd) && Number.isFinite(r.ddimLongFd));
    const rm = (m: string) => r.table[m]["10"].rmse;
    assert.ok(rm("tab3") < rm("ddim"), `tab3 ${rm("tab3")} vs ddim ${rm("ddim")} at 10 NFE`);
    assert.ok(2 * rm("tab3") < rm("euler"), `tab3 ${rm("tab3")} vs euler ${rm("euler")} at 10 NFE`);
    // The grid table's quadratic row is the tab3 row itself.
    assert.deepEqual(r.grids["time-quadratic"]["10"], r.table.tab3["10"]);

    const png = await Deno.readFile(`${out}/quality_grid-quick.png`);
    assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    for (const f of ["quality_grid-quick.svg", "quality_fd-quick.svg", "quality-quick.md"]) {
      assert.ok((await Deno.stat(`${out}/${f}`)).size > 500, f);
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("quality jobs: every chunk runs on exactly one worker, whatever the worker count", async () => {
  const { chunkRange, chunksOf } = await import("../bench/quality_jobs.ts");
  for (const n of [1, 31, 32, 33, 250, 1000]) {
    for (const chunk of [1, 16, 125]) {
      const chunks = Math.ceil(n / chunk);
      for (const workers of [1, 2, 3, 7]) {
        const all = Array.from({ length: workers }, (_, w) => chunksOf(w, workers, chunk, n)).flat().sort((a, b) =>
          a - b
        );
        assert.deepEqual(all, Array.from({ length: chunks }, (_, c) => c), `n ${n} chunk ${chunk} workers ${workers}`);
      }
      let covered = 0;
      for (let c = 0; c < chunks; c++) {
        const [lo, hi] = chunkRange(c, chunk, n);
        assert.equal(lo, covered);
        covered = hi;
      }
      assert.equal(covered, n);
    }
  }
});

Deno.test("quality report: criteria lines follow the numbers; diverged cells are clipped and labelled", async () => {
  const { qualityChecks, qualityFdSvg, qualityMarkdown } = await import("../bench/quality_report.ts");
  const cell = (fd: number, rmse: number | null = 1) => ({ nfe: 0, fd, rmse, ms: 1 });
  const row = (fds: number[], stochastic = false) =>
    Object.fromEntries([5, 10, 20].map((n, i) => [n, { ...cell(fds[i], stochastic ? null : 1), nfe: n }]));
  const r = {
    date: "2026-01-01T00:00:00Z",
    quick: false,
    samplesPerCell: 100,
    backend: "wasm",
    seed: 1,
    referenceSteps: 1000,
    referenceSamples: 50,
    workers: 2,
    threadsPerWorker: 1,
    sampleEvaluations: 1e6,
    floorFd: 2,
    floorCount: 100,
    ddimLongFd: 10,
    table: {
      ddim: row([40, 20, 14]),
      tab3: row([30, 12, 16]),
      rhork: row([5000, 50, 11]),
      sddim: row([40, 15, 11], true),
    },
    grids: { "time-quadratic": row([30, 12, 16]), "time-uniform": row([60, 11, 15]) },
    samplingSeconds: 60,
    wallSeconds: 70,
  };
  const checks = qualityChecks(r);
  assert.match(checks[0], /FD 12\.00 vs 20\.00 \(0\.60×\)/);
  assert.match(checks[1], /= 1\.60× \(NOT within 1\.5×\)/);
  assert.match(checks[2], /quadratic lower at 5 NFE\)$/);
  r.table.tab3[20].fd = 14.9;
  assert.match(qualityChecks(r)[1], /\(within 1\.5×\)/);

  const md = qualityMarkdown(r);
  assert.match(md, /\| rhork \| 5000\.00 \| 50\.00 \| 11\.00 \|/);
  assert.doesNotMatch(md.split("Endpoint RMSE")[1], /\| sddim \|/, "stochastic rows have no RMSE row");

  const svg = qualityFdSvg(r);
  assert.match(svg, /↑ 5000/, "a value above 20× the long-DDIM FD is labelled at the top edge");
  const ys = [...svg.matchAll(/points="([^"]+)"/g)].flatMap((m) => m[1].split(" ").map((p) => Number(p.split(",")[1])));
  assert.ok(ys.every((y) => y >= 24 && y <= 380), `all polyline points inside the plot: ${ys}`);
});
