/**
 * The quality benchmark's report: the markdown table and the FD-against-NFE plot, rendered from the
 * result JSON alone, so a 70-minute run never has to be repeated to change how it is presented.
 *
 *     deno run --allow-read --allow-write bench/quality_report.ts [bench/results/quality.json]
 *
 * rewrites quality.md and quality_fd.svg next to the JSON (quality_grid.* need the samples, so only
 * `bench/quality.ts` writes them).
 *
 * @module
 */

/** One method × NFE cell of the benchmark. */
export interface QualityCell {
  /** Network evaluations actually used (ρRK rounds the step count). */
  nfe: number;
  /** Fréchet distance to the held-out digits. */
  fd: number;
  /** Endpoint RMSE against the reference solution; null for stochastic methods. */
  rmse: number | null;
  /** Sampling time of the cell in milliseconds (summed over chunks). */
  ms: number;
}

/** What `bench/quality.ts` writes to quality.json. */
export interface QualityResult {
  date: string;
  quick: boolean;
  samplesPerCell: number;
  backend: string;
  seed: number;
  referenceSteps: number;
  referenceSamples: number;
  workers: number;
  threadsPerWorker: number;
  sampleEvaluations: number;
  floorFd: number;
  floorCount: number;
  ddimLongFd: number;
  /** method label → NFE → cell, in the table's row order. */
  table: Record<string, Record<number, QualityCell>>;
  /** grid name → NFE → tab3 cell. */
  grids: Record<string, Record<number, QualityCell>>;
  /** DPM-Solver++ and UniPC beside tab3: label → grid → NFE → cell. */
  peers?: Record<string, Record<string, Record<number, QualityCell>>>;
  /** When the peers were measured by a separate `--only peers` run merged into this result. */
  peersRun?: { date: string; sampleEvaluations: number; wallSeconds: number; workers: number };
  samplingSeconds: number;
  wallSeconds: number;
}

/** Whether row `label` is a stochastic method's (it has no endpoint RMSE). */
const isStochastic = (r: QualityResult, label: string) => Object.values(r.table[label]).every((c) => c.rmse === null);

/** The NFE columns of a result, ascending. */
export function nfeColumns(r: QualityResult): number[] {
  const first = Object.values(r.table)[0];
  return Object.keys(first).map(Number).sort((a, b) => a - b);
}

const f = (v: number) => v.toFixed(2);

/**
 * The issue's claims, computed from the result: tab3 vs ddim at 10 NFE, tab3 at 20 NFE against the
 * long DDIM row (the 1.5× criterion), and tab3 on the quadratic vs the uniform grid at each NFE.
 */
export function qualityChecks(r: QualityResult): string[] {
  const nfes = nfeColumns(r);
  const at = (label: string, nfe: number) => r.table[label][nfe];
  const checks: string[] = [];
  if (nfes.includes(10)) {
    checks.push(
      `tab3 vs ddim at 10 NFE: FD ${f(at("tab3", 10).fd)} vs ${f(at("ddim", 10).fd)} ` +
        `(${f(at("tab3", 10).fd / at("ddim", 10).fd)}×), RMSE ${f(at("tab3", 10).rmse!)} vs ${f(at("ddim", 10).rmse!)}`,
    );
  }
  if (nfes.includes(20)) {
    const ratio = at("tab3", 20).fd / r.ddimLongFd;
    checks.push(
      `tab3 at 20 NFE vs ddim at ${r.referenceSteps} steps: FD ${f(at("tab3", 20).fd)} vs ${f(r.ddimLongFd)} = ` +
        `${f(ratio)}× (${ratio <= 1.5 ? "within" : "NOT within"} 1.5×)`,
    );
  }
  const q = r.grids["time-quadratic"], u = r.grids["time-uniform"];
  const wins = nfes.filter((n) => q[n].fd < u[n].fd);
  checks.push(
    `tab3, time-quadratic vs time-uniform grid, FD: ${
      nfes.map((n) => `${n} NFE ${f(q[n].fd)} vs ${f(u[n].fd)}`).join("; ")
    } (quadratic lower at ${wins.length ? wins.join(", ") + " NFE" : "no NFE"})`,
  );
  return checks;
}

/** The markdown report. */
export function qualityMarkdown(r: QualityResult): string {
  const nfes = nfeColumns(r);
  const suffix = r.quick ? "-quick" : "";
  const labels = Object.keys(r.table);
  const header = [`| method | ${nfes.map((n) => `NFE ${n}`).join(" | ")} |`, `|---|${"---|".repeat(nfes.length)}`];
  return [
    `# Quality benchmark (MNIST)`,
    ``,
    `${r.date}${r.quick ? " (quick)" : ""}: ${r.samplesPerCell} samples per cell, backend ${r.backend}, ` +
    `the same x_T (seed ${r.seed}) for every method,`,
    `time-quadratic grid. ${(r.sampleEvaluations / 1e6).toFixed(2)} M sample-evaluations in ${r.workers} ` +
    `worker process(es) × ${r.threadsPerWorker} thread(s);`,
    `wall time ${(r.wallSeconds / 60).toFixed(1)} min (sampling ${(r.samplingSeconds / 60).toFixed(1)} min).`,
    ``,
    `FD against the 2,000 held-out digits (lower is better). Floor (${r.floorCount} real training digits, as many ` +
    `as each cell generates): **${f(r.floorFd)}**;`,
    `ddim at ${r.referenceSteps} steps: **${f(r.ddimLongFd)}**.`,
    ``,
    ...qualityChecks(r).map((c) => `- ${c}`),
    ``,
    ...header,
    ...labels.map((l) =>
      `| ${l} | ${
        nfes.map((n) => `${f(r.table[l][n].fd)}${r.table[l][n].nfe !== n ? ` (${r.table[l][n].nfe})` : ""}`).join(" | ")
      } |`
    ),
    ``,
    `(ρRK runs round(NFE / stages) steps; the NFE it actually used is in brackets where it differs.)`,
    ``,
    `Endpoint RMSE (root mean square over the first ${r.referenceSamples} samples of the per-sample L2 distance ` +
    `over 784 pixels in [-1, 1])`,
    `against tab3 at ${r.referenceSteps} steps from the same x_T:`,
    ``,
    ...header,
    ...labels.filter((l) => !isStochastic(r, l)).map((l) =>
      `| ${l} | ${nfes.map((n) => f(r.table[l][n].rmse!)).join(" | ")} |`
    ),
    ``,
    `tab3 on three grids (FD / RMSE):`,
    ``,
    `| grid | ${nfes.map((n) => `NFE ${n}`).join(" | ")} |`,
    `|---|${"---|".repeat(nfes.length)}`,
    ...Object.entries(r.grids).map(([g, c]) =>
      `| ${g} | ${nfes.map((n) => `${f(c[n].fd)} / ${f(c[n].rmse!)}`).join(" | ")} |`
    ),
    ``,
    ...peersMarkdown(r),
    `![same noise, each method](quality_grid${suffix}.svg)`,
    ``,
    `![FD against NFE](quality_fd${suffix}.svg)`,
    ``,
  ].join("\n");
}

/** The peers table (FD / RMSE per grid and NFE), or nothing when the result has none. */
function peersMarkdown(r: QualityResult): string[] {
  if (!r.peers) return [];
  const labels = Object.keys(r.peers);
  const grids = Object.keys(r.peers[labels[0]]);
  const nfes = Object.keys(r.peers[labels[0]][grids[0]]).map(Number).sort((a, b) => a - b);
  const run = r.peersRun
    ? ` (measured ${r.peersRun.date.slice(0, 10)} by \`deno task bench:quality --only peers\`: ` +
      `${(r.peersRun.sampleEvaluations / 1e6).toFixed(2)} M sample-evaluations, ${
        (r.peersRun.wallSeconds / 60).toFixed(1)
      } min, ` +
      `same seed and x_T as the table above)`
    : "";
  return [
    `DEIS beside DPM-Solver++ and UniPC, FD / RMSE${run}:`,
    ``,
    `| method | grid | ${nfes.map((n) => `NFE ${n}`).join(" | ")} |`,
    `|---|---|${"---|".repeat(nfes.length)}`,
    ...labels.flatMap((l) =>
      grids.map((g) =>
        `| ${l} | ${g} | ${nfes.map((n) => `${f(r.peers![l][g][n].fd)} / ${f(r.peers![l][g][n].rmse!)}`).join(" | ")} |`
      )
    ),
    ``,
  ];
}

const COLORS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
  "#000000",
  "#aa3377",
];

/**
 * FD against NFE on log–log axes. The y axis stops at 20× the long DDIM row's FD so the region where
 * the methods differ stays readable; a value above it (a diverged few-step run, e.g. ρRK at 5 NFE with
 * FD in the thousands) is drawn at the top edge as an open circle with its value written next to it.
 */
export function qualityFdSvg(r: QualityResult): string {
  const nfes = nfeColumns(r);
  const labels = Object.keys(r.table);
  const W = 660, H = 420, L = 60, B = 40, R = 150, T = 24;
  const all = labels.flatMap((l) => nfes.map((n) => r.table[l][n].fd)).concat([r.floorFd, r.ddimLongFd]);
  const cap = Math.min(Math.max(...all), 20 * r.ddimLongFd);
  const lo = Math.log10(Math.min(...all) * 0.8), hi = Math.log10(cap * 1.1);
  const span = Math.log(nfes[nfes.length - 1]) - Math.log(nfes[0]) || 1;
  const px = (nfe: number) => L + ((Math.log(nfe) - Math.log(nfes[0])) / span) * (W - L - R);
  const py = (v: number) => H - B - ((Math.log10(Math.min(v, cap * 1.1)) - lo) / (hi - lo)) * (H - B - T);
  const ticks: number[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (Math.log10(v) >= lo && Math.log10(v) <= hi) ticks.push(v);
    }
  }
  const clipped: string[] = [];
  const lines = labels.map((l, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = nfes.map((n) => `${px(n).toFixed(1)},${py(r.table[l][n].fd).toFixed(1)}`).join(" ");
    for (const n of nfes) {
      const v = r.table[l][n].fd;
      if (v > cap * 1.1) {
        clipped.push(
          `<circle cx="${px(n).toFixed(1)}" cy="${py(v).toFixed(1)}" r="3.5" fill="white" stroke="${color}"/>` +
            `<text x="${(px(n) + 6).toFixed(1)}" y="${
              (py(v) + 4 + 12 * clipped.length).toFixed(1)
            }" fill="${color}">↑ ${v.toFixed(0)}</text>`,
        );
      }
    }
    return `<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="1.5"/>` +
      `<text x="${W - R + 8}" y="${T + 4 + i * 14}" fill="${color}">${l}</text>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${(L + W - R) / 2}" y="14" text-anchor="middle" font-size="12">FD against NFE, ${r.samplesPerCell} ` +
    `samples per cell (log–log)</text>`,
    ...ticks.map((v) =>
      `<line x1="${L}" y1="${py(v).toFixed(1)}" x2="${W - R}" y2="${py(v).toFixed(1)}" stroke="#ddd"/>` +
      `<text x="${L - 5}" y="${(py(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`
    ),
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    ...nfes.map((n) => `<text x="${px(n).toFixed(1)}" y="${H - B + 15}" text-anchor="middle">${n}</text>`),
    `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">NFE</text>`,
    `<text x="14" y="${H / 2}" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">FD vs held-out digits</text>`,
    `<line x1="${L}" y1="${py(r.floorFd).toFixed(1)}" x2="${W - R}" y2="${
      py(r.floorFd).toFixed(1)
    }" stroke="black" stroke-dasharray="4 3"/>`,
    `<text x="${W - R + 8}" y="${(py(r.floorFd) + 4).toFixed(1)}">floor (real digits)</text>`,
    `<line x1="${L}" y1="${py(r.ddimLongFd).toFixed(1)}" x2="${W - R}" y2="${
      py(r.ddimLongFd).toFixed(1)
    }" stroke="gray" stroke-dasharray="2 2"/>`,
    `<text x="${W - R + 8}" y="${(py(r.ddimLongFd) + 4).toFixed(1)}">ddim ${r.referenceSteps} steps</text>`,
    ...lines,
    ...clipped,
    `</svg>`,
  ].join("\n");
}

if (import.meta.main) {
  const path = Deno.args[0] ?? new URL("./results/quality.json", import.meta.url).pathname;
  const result: QualityResult = JSON.parse(await Deno.readTextFile(path));
  const dir = path.replace(/[^/]*$/, "");
  const suffix = result.quick ? "-quick" : "";
  await Deno.writeTextFile(`${dir}quality${suffix}.md`, qualityMarkdown(result));
  await Deno.writeTextFile(`${dir}quality_fd${suffix}.svg`, qualityFdSvg(result));
  console.log(`wrote ${dir}quality${suffix}.md and ${dir}quality_fd${suffix}.svg from ${path}`);
}
