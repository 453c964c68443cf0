/**
 * Why the coefficient engine is AssemblyScript rather than plain TypeScript, measured.
 *
 *     deno run -A bench/engine_language.ts            # writes bench/results/engine_language.{json,md}
 *     deno run -A bench/engine_language.ts --quick    # fewer repeats, no files written
 *
 * For a vp-linear tAB table (order 3, grid time-quadratic) at steps ∈ {10, 50, 1000} it times
 *  (a) the WASM engine doing what `buildPlan` (src/plan/make_plan.ts) does up to reading the rows
 *      (resetAll/setVpLinear/markPersistent, buildGrid, evalSchedule, prepareGrid, buildRows, the
 *      reads, resetScratch), on its own instance of the embedded module, and
 *  (b) the plain-TypeScript port in bench/engine_language_ts_port.ts,
 * interleaved in one process, warm (after warm-up, per-call time of batches, ≥ 30 repeats) and cold
 * (the first call in a fresh process, one fresh `deno run` per repeat). It then compares their
 * outputs bit for bit and locates every difference: the AssemblyScript libm (exp, log, expm1, log1p,
 * cos) is compiled on the spot into a throw-away probe module with the engine's compiler and flags
 * (tools/build_wasm.ts), compared with V8's Math.* on 10⁶ arguments per function over the engine's
 * ranges, and substituted into a mechanically derived copy of the port.
 *
 * Bench-only; nothing in src/ imports it.
 *
 * @module
 */

import { ENGINE_WASM_BASE64 } from "../src/coefficients/wasm_bytes.ts";
import { buildTabPlain, type TabResult } from "./engine_language_ts_port.ts";

const ORDER = 3;
const STEPS = [10, 50, 1000];
const quick = Deno.args.includes("--quick");
const WARM_REPEATS = quick ? 11 : 41;
const COLD_REPEATS = quick ? 4 : 30;
const BATCH_TARGET_MS = 3;
const WARMUP_MS = quick ? 150 : 400;
const LIBM_SAMPLES = quick ? 100_000 : 1_000_000;
const ASC = "npm:assemblyscript@0.28.20/asc";
const ASC_FLAGS = ["-O3", "--runtime", "stub", "--noAssert", "--converge"];

// ---- the WASM engine, as buildPlan drives it --------------------------------------------------------

interface Engine {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  markPersistent(): void;
  resetAll(): void;
  resetScratch(): void;
  setVpLinear(betaMin: number, betaMax: number): void;
  buildGrid(kind: number, steps: number, tStart: number, tEnd: number, kappa: number, out: number): void;
  prepareGrid(steps: number, times: number): void;
  evalSchedule(times: number, n: number, outAlphaBar: number, outRho: number): void;
  buildRows(method: number, order: number, steps: number, out: number, quadratureRhoab: number): void;
  M_TAB?: WebAssembly.Global;
}

function decodeBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function read(e: Engine, ptr: number, n: number): Float64Array {
  return new Float64Array(e.memory.buffer, ptr, n).slice();
}

/**
 * buildPlan's engine calls for { sde: vp-linear, method: tab, order, steps, grid: time-quadratic }
 * up to reading the rows. `inspect` also reads prepareGrid's arrays (located through the bump
 * allocator, which hands them out consecutively), for locating differences; it is off when timing.
 */
function buildTabWasm(e: Engine, mTab: number, order: number, steps: number, inspect = false): TabResult {
  e.resetAll();
  e.setVpLinear(0.1, 20);
  e.markPersistent();
  try {
    const n = steps + 1;
    const gPtr = e.alloc(n * 8);
    e.buildGrid(0, steps, 1, 1e-3, 2, gPtr);
    const times = read(e, gPtr, n);
    const tPtr = e.alloc(n * 8);
    new Float64Array(e.memory.buffer, tPtr, n).set(times);
    const abPtr = e.alloc(n * 8);
    const rhoPtr = e.alloc(n * 8);
    e.evalSchedule(tPtr, n, abPtr, rhoPtr);
    const base = inspect ? e.alloc(0) : 0;
    e.prepareGrid(steps, tPtr);
    const alphaBar = read(e, abPtr, n);
    const rho = read(e, rhoPtr, n);
    const stride = order + 2;
    const rowPtr = e.alloc(steps * stride * 8);
    e.buildRows(mTab, order, steps, rowPtr, 0);
    const rows = read(e, rowPtr, steps * stride);
    const empty = new Float64Array(0);
    const g = (i: number, len: number) => (inspect ? read(e, base + i, len) : empty);
    const s0 = 32 * n;
    return {
      times,
      alphaBar,
      rho,
      rows,
      gLogAlphaBar: g(0, n),
      gRho: g(8 * n, n),
      gAlpha: g(16 * n, n),
      gLogRho: g(24 * n, n),
      sLogAlphaBar: g(s0, steps),
      sRho: g(s0 + 8 * steps, steps),
      sLogRho: g(s0 + 16 * steps, steps),
    };
  } finally {
    e.resetScratch();
  }
}

function instantiate(module: WebAssembly.Module): { e: Engine; mTab: number } {
  const e = new WebAssembly.Instance(module).exports as unknown as Engine;
  return { e, mTab: e.M_TAB ? Number(e.M_TAB.value) : 1 };
}

// ---- statistics and bit comparison -----------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);
/** A float64 as an integer that orders like the float (±0 both 0), so that ulp distance is a difference. */
function ordinal(x: number): bigint {
  f64[0] = x;
  const b = i64[0];
  return b < 0n ? -0x8000000000000000n - b : b;
}

function ulps(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  const d = ordinal(a) - ordinal(b);
  return Number(d < 0n ? -d : d);
}

function bitEqual(a: number, b: number): boolean {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
}

interface Diff {
  n: number;
  identical: number;
  maxUlp: number;
  maxRel: number;
}

function compare(a: ArrayLike<number>, b: ArrayLike<number>): Diff {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let identical = 0, maxUlp = 0, maxRel = 0;
  for (let i = 0; i < a.length; i++) {
    if (bitEqual(a[i], b[i])) {
      identical++;
      continue;
    }
    maxUlp = Math.max(maxUlp, ulps(a[i], b[i]));
    const scale = Math.max(Math.abs(a[i]), Math.abs(b[i]));
    maxRel = Math.max(maxRel, scale === 0 ? 0 : Math.abs(a[i] - b[i]) / scale);
  }
  return { n: a.length, identical, maxUlp, maxRel };
}

const ARRAYS = [
  "times",
  "alphaBar",
  "rho",
  "gLogAlphaBar",
  "gRho",
  "gAlpha",
  "gLogRho",
  "sLogAlphaBar",
  "sRho",
  "sLogRho",
  "rows",
] as const;

/** The rows without their structural zero padding (steps k < order use only k + 2 entries). */
function coefficients(rows: Float64Array): Float64Array {
  const stride = ORDER + 2, out: number[] = [];
  for (let k = 0; k * stride < rows.length; k++) {
    const used = Math.min(k, ORDER) + 2;
    for (let j = 0; j < used; j++) out.push(rows[k * stride + j]);
  }
  return Float64Array.from(out);
}

const COMPARED = [...ARRAYS, "coefficients"] as const;

function compareAll(a: TabResult, b: TabResult): Record<string, Diff> {
  const out: Record<string, Diff> = {};
  for (const k of ARRAYS) out[k] = compare(a[k], b[k]);
  out.coefficients = compare(coefficients(a.rows), coefficients(b.rows));
  return out;
}

function shell(cmd: string, args: string[] = []): string {
  try {
    const r = new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).outputSync();
    return new TextDecoder().decode(r.stdout).trim();
  } catch {
    return "(unavailable)";
  }
}

// ---- cold: one fresh process per repeat -------------------------------------------------------------

interface ColdSample {
  steps: number;
  first: "wasm" | "ts";
  decodeMs: number;
  compileMs: number;
  instantiateMs: number;
  wasmFirstMs: number;
  tsFirstMs: number;
  wasmSecondMs: number;
  tsSecondMs: number;
}

function coldChild(steps: number, first: "wasm" | "ts"): ColdSample {
  const t0 = performance.now();
  const bytes = decodeBase64(ENGINE_WASM_BASE64);
  const t1 = performance.now();
  const module = new WebAssembly.Module(bytes as BufferSource);
  const t2 = performance.now();
  const { e, mTab } = instantiate(module);
  const t3 = performance.now();
  const time = (f: () => TabResult) => {
    const s = performance.now();
    f();
    return performance.now() - s;
  };
  const w = () => buildTabWasm(e, mTab, ORDER, steps);
  const t = () => buildTabPlain(ORDER, steps);
  let wasmFirstMs, tsFirstMs;
  if (first === "wasm") {
    wasmFirstMs = time(w);
    tsFirstMs = time(t);
  } else {
    tsFirstMs = time(t);
    wasmFirstMs = time(w);
  }
  const wasmSecondMs = time(w);
  const tsSecondMs = time(t);
  return {
    steps,
    first,
    decodeMs: t1 - t0,
    compileMs: t2 - t1,
    instantiateMs: t3 - t2,
    wasmFirstMs,
    tsFirstMs,
    wasmSecondMs,
    tsSecondMs,
  };
}

async function runCold(): Promise<ColdSample[]> {
  const self = new URL(import.meta.url).pathname;
  const out: ColdSample[] = [];
  for (let r = 0; r < COLD_REPEATS; r++) {
    for (const steps of STEPS) {
      const first = r % 2 === 0 ? "wasm" : "ts";
      const p = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--no-check", self, "--cold-child", String(steps), first],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      if (p.code !== 0) throw new Error(`cold child failed (${p.code})`);
      out.push(JSON.parse(new TextDecoder().decode(p.stdout)));
    }
  }
  return out;
}

// ---- warm: interleaved batches in this process -----------------------------------------------------

interface WarmResult {
  steps: number;
  batch: number;
  repeats: number;
  wasmMedianUs: number;
  wasmMinUs: number;
  tsMedianUs: number;
  tsMinUs: number;
  ratioMedian: number;
  ratioMin: number;
  /** The TS port with exp/log/expm1/log1p/cos replaced by the AssemblyScript libm (JS→wasm calls). */
  tsAsLibmMedianUs?: number;
  tsAsLibmMinUs?: number;
}

let sink = 0;

function runWarm(e: Engine, mTab: number, steps: number, asPort?: Builder): WarmResult {
  const fns: (() => void)[] = [
    () => {
      sink += buildTabWasm(e, mTab, ORDER, steps).rows[5];
    },
    () => {
      sink += buildTabPlain(ORDER, steps).rows[5];
    },
  ];
  if (asPort) {
    fns.push(() => {
      sink += asPort(ORDER, steps).rows[5];
    });
  }
  // Warm-up, interleaved, until each has run WARMUP_MS (and at least 20 calls).
  const spent = fns.map(() => 0);
  let calls = 0;
  while (calls < 20 || spent.some((x) => x < WARMUP_MS)) {
    fns.forEach((f, i) => {
      const s = performance.now();
      f();
      spent[i] += performance.now() - s;
    });
    calls++;
  }
  const perCall = Math.min(...spent) / calls;
  const batch = Math.max(1, Math.round(BATCH_TARGET_MS / perCall));
  const timeBatch = (f: () => void) => {
    const s = performance.now();
    for (let i = 0; i < batch; i++) f();
    return ((performance.now() - s) / batch) * 1000;
  };
  const samples: number[][] = fns.map(() => []);
  for (let r = 0; r < WARM_REPEATS; r++) {
    // Rotate which contestant goes first.
    for (let j = 0; j < fns.length; j++) {
      const i = (j + r) % fns.length;
      samples[i].push(timeBatch(fns[i]));
    }
  }
  const [ws, ts, as] = samples;
  const wasmMedianUs = median(ws), tsMedianUs = median(ts);
  const wasmMinUs = Math.min(...ws), tsMinUs = Math.min(...ts);
  const out: WarmResult = {
    steps,
    batch,
    repeats: WARM_REPEATS,
    wasmMedianUs,
    wasmMinUs,
    tsMedianUs,
    tsMinUs,
    ratioMedian: wasmMedianUs / tsMedianUs,
    ratioMin: wasmMinUs / tsMinUs,
  };
  if (as) {
    out.tsAsLibmMedianUs = median(as);
    out.tsAsLibmMinUs = Math.min(...as);
  }
  return out;
}

// ---- libm: the AssemblyScript math library versus V8's Math.* --------------------------------------

type Fn = (x: number) => number;
interface MathFns {
  exp: Fn;
  log: Fn;
  expm1: Fn;
  log1p: Fn;
  cos: Fn;
}
const LIBM_NAMES = ["exp", "log", "expm1", "log1p", "cos"] as const;

const PROBE_SOURCE = LIBM_NAMES.map((f) => `export function ${f}(x: f64): f64 { return Math.${f}(x); }`)
  .join("\n") + "\n";

/** Compiles the probe with the engine's compiler and flags; null (with the reason) if that fails. */
async function compileProbe(dir: string): Promise<{ fns: MathFns | null; note: string }> {
  try {
    await Deno.writeTextFile(`${dir}/probe.ts`, PROBE_SOURCE);
    const root = new URL("../", import.meta.url).pathname;
    const p = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", ASC, `${dir}/probe.ts`, ...ASC_FLAGS, "-o", `${dir}/probe.wasm`],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (p.code !== 0) return { fns: null, note: `asc failed: ${new TextDecoder().decode(p.stderr).slice(0, 300)}` };
    const inst = new WebAssembly.Instance(new WebAssembly.Module(await Deno.readFile(`${dir}/probe.wasm`)));
    return { fns: inst.exports as unknown as MathFns, note: `${ASC} ${ASC_FLAGS.join(" ")}` };
  } catch (err) {
    return { fns: null, note: `probe unavailable: ${err}` };
  }
}

/** A deterministic uniform generator on [0, 1) with 53 random bits (two mulberry32 draws). */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  };
  return () => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
}

/** Argument ranges the vp-linear tAB path feeds each function (β ∈ [0.1, 20], t ∈ [1e-3, 1]). */
const LIBM_RANGES: Record<(typeof LIBM_NAMES)[number], { what: string; draw: (u: () => number) => number }> = {
  exp: {
    what: "uniform in [-12, 0.5] (exp(½ log ᾱ), exp(w), ψ)",
    draw: (u) => -12 + 12.5 * u(),
  },
  log: {
    what: "log-uniform in [1e-5, 1e5] (½ log ρ², ratio branch of logRhoDiff)",
    draw: (u) => 10 ** (-5 + 10 * u()),
  },
  expm1: {
    what: "±, magnitude log-uniform in [1e-8, 21] (ρ², timeOffset's expm1(2w), rho2Diff)",
    draw: (u) => (u() < 0.5 ? -1 : 1) * 10 ** (-8 + (8 + Math.log10(21)) * u()),
  },
  log1p: {
    what: "half log-uniform magnitude in [1e-10, 1) with either sign, half uniform in (-1, 1.5)",
    draw: (u) => (u() < 0.5 ? (u() < 0.5 ? -1 : 1) * 10 ** (-10 + 10 * u()) : -1 + 2.5 * u()),
  },
  cos: { what: "uniform in [0, π] (Gauss–Legendre initial guesses)", draw: (u) => Math.PI * u() },
};

interface LibmDiff {
  range: string;
  samples: number;
  differ: number;
  maxUlp: number;
  example?: { x: number; v8: number; as: number };
}

function compareLibm(as: MathFns): Record<string, LibmDiff> {
  const out: Record<string, LibmDiff> = {};
  for (const [i, name] of LIBM_NAMES.entries()) {
    const u = rng(1234 + i);
    const v8f = Math[name] as Fn, asf = as[name];
    let differ = 0, maxUlp = 0;
    let example: LibmDiff["example"];
    for (let s = 0; s < LIBM_SAMPLES; s++) {
      const x = LIBM_RANGES[name].draw(u);
      const a = v8f(x), b = asf(x);
      if (!bitEqual(a, b)) {
        differ++;
        const d = ulps(a, b);
        if (d > maxUlp || !example) example = { x, v8: a, as: b };
        maxUlp = Math.max(maxUlp, d);
      }
    }
    out[name] = { range: LIBM_RANGES[name].what, samples: LIBM_SAMPLES, differ, maxUlp, example };
  }
  return out;
}

type Builder = (order: number, steps: number) => TabResult;

/**
 * The port with the named Math.* calls rewritten to the AssemblyScript libm (a text substitution on
 * the port's own source, so the operations are otherwise the same), loaded as a fresh module.
 */
async function derivedPort(dir: string, as: MathFns, swap: readonly string[], tag: string): Promise<Builder> {
  let src = await Deno.readTextFile(new URL("./engine_language_ts_port.ts", import.meta.url));
  for (const f of swap) src = src.replaceAll(`Math.${f}(`, `__asMath.${f}(`);
  const key = `__engineLanguageMath_${tag}`;
  (globalThis as Record<string, unknown>)[key] = as;
  src = `const __asMath = (globalThis as any)[${JSON.stringify(key)}];\n` + src;
  const path = `${dir}/port_${tag}.ts`;
  await Deno.writeTextFile(path, src);
  const mod = await import(`file://${path}`);
  return mod.buildTabPlain as Builder;
}

// ---- main ------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const uptimeBefore = shell("uptime");
  console.error(`engine_language: ${uptimeBefore}`);
  const bytes = decodeBase64(ENGINE_WASM_BASE64);
  const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const module = new WebAssembly.Module(bytes as BufferSource);
  const { e, mTab } = instantiate(module);

  // performance.now() granularity, so that batch sizes can be judged.
  let tick = Infinity;
  for (let i = 0; i < 2000; i++) {
    const a = performance.now();
    let b = performance.now();
    while (b === a) b = performance.now();
    tick = Math.min(tick, b - a);
  }

  // The AssemblyScript libm, compiled into a throw-away probe (see compileProbe).
  const dir = await Deno.makeTempDir({ prefix: "engine_language_" });
  const probe = await compileProbe(dir);
  const asPort = probe.fns ? await derivedPort(dir, probe.fns, LIBM_NAMES, "timed") : undefined;

  // Outputs, bit for bit (also on the first calls, before any tier-up).
  const identity: Record<number, Record<string, Diff>> = {};
  for (const steps of STEPS) {
    identity[steps] = compareAll(buildTabWasm(e, mTab, ORDER, steps, true), buildTabPlain(ORDER, steps));
  }

  // Warm timings.
  const warm: WarmResult[] = [];
  for (const steps of STEPS) {
    const r = runWarm(e, mTab, steps, asPort);
    warm.push(r);
    console.error(
      `warm steps=${steps}: wasm ${r.wasmMedianUs.toFixed(1)} µs (min ${r.wasmMinUs.toFixed(1)}), ts ${
        r.tsMedianUs.toFixed(1)
      } µs (min ${r.tsMinUs.toFixed(1)}), wasm/ts ${r.ratioMedian.toFixed(2)}; ts+AS libm ${
        r.tsAsLibmMedianUs?.toFixed(1) ?? "-"
      } µs`,
    );
  }
  // Bit identity again after tier-up (TurboFan-compiled JS and wasm).
  const identityWarm: Record<number, Record<string, Diff>> = {};
  for (const steps of STEPS) {
    identityWarm[steps] = compareAll(buildTabWasm(e, mTab, ORDER, steps, true), buildTabPlain(ORDER, steps));
  }

  // Cold timings.
  const coldSamples = await runCold();
  const cold = STEPS.map((steps) => {
    const s = coldSamples.filter((c) => c.steps === steps);
    const col = (k: keyof ColdSample) => s.map((c) => c[k] as number);
    const wasmFirst = col("wasmFirstMs"), tsFirst = col("tsFirstMs");
    const compileInst = s.map((c) => c.compileMs + c.instantiateMs);
    return {
      steps,
      repeats: s.length,
      wasmFirstMedianMs: median(wasmFirst),
      wasmFirstMinMs: Math.min(...wasmFirst),
      tsFirstMedianMs: median(tsFirst),
      tsFirstMinMs: Math.min(...tsFirst),
      ratioMedian: median(wasmFirst) / median(tsFirst),
      wasmPlusCompileInstantiateMedianMs: median(s.map((c) => c.wasmFirstMs + c.compileMs + c.instantiateMs)),
      ratioWithCompileMedian: median(s.map((c) => c.wasmFirstMs + c.compileMs + c.instantiateMs)) / median(tsFirst),
      wasmWithDecodeCompileInstantiateMedianMs: median(
        s.map((c) => c.decodeMs + c.compileMs + c.instantiateMs + c.wasmFirstMs),
      ),
      ratioWithDecodeCompileMedian: median(s.map((c) => c.decodeMs + c.compileMs + c.instantiateMs + c.wasmFirstMs)) /
        median(tsFirst),
      wasmSecondMedianMs: median(col("wasmSecondMs")),
      tsSecondMedianMs: median(col("tsSecondMs")),
      compileInstantiateMedianMs: median(compileInst),
    };
  });
  for (const c of cold) {
    console.error(
      `cold steps=${c.steps}: wasm ${c.wasmFirstMedianMs.toFixed(3)} ms (+compile/inst → ${
        c.wasmPlusCompileInstantiateMedianMs.toFixed(3)
      }), ts ${c.tsFirstMedianMs.toFixed(3)} ms`,
    );
  }
  const all = (k: keyof ColdSample) => coldSamples.map((c) => c[k] as number);
  const moduleStats = {
    wasmBytes: bytes.length,
    base64Chars: ENGINE_WASM_BASE64.length,
    sha256: digest,
    mTabExported: e.M_TAB !== undefined,
    decodeMedianMs: median(all("decodeMs")),
    compileMedianMs: median(all("compileMs")),
    compileMinMs: Math.min(...all("compileMs")),
    instantiateMedianMs: median(all("instantiateMs")),
    instantiateMinMs: Math.min(...all("instantiateMs")),
    compileInstantiateMedianMs: median(coldSamples.map((c) => c.compileMs + c.instantiateMs)),
    samples: coldSamples.length,
    note: "Each in a fresh process (V8 caches compiled modules by bytes within a process); " +
      "V8 compiles wasm lazily, so a function's first Liftoff compile lands in the first call; " +
      "the decode is the same atob loop as src/util/base64.ts decodeBase64, run cold",
  };

  // libm and attribution.
  let libm: Record<string, LibmDiff> | null = null;
  const attribution: Record<string, Record<number, Diff>> = {};
  const probeNote = probe.note;
  try {
    if (probe.fns) {
      libm = compareLibm(probe.fns);
      const variants: [string, readonly string[]][] = [
        ["all", LIBM_NAMES],
        ...LIBM_NAMES.map((f) => [`only_${f}`, [f]] as [string, readonly string[]]),
        ...LIBM_NAMES.map((f) => [`all_but_${f}`, LIBM_NAMES.filter((g) => g !== f)] as [string, readonly string[]]),
      ];
      for (const [tag, swap] of variants) {
        const build = await derivedPort(dir, probe.fns, swap, tag);
        attribution[tag] = {};
        for (const steps of STEPS) {
          attribution[tag][steps] = compare(
            coefficients(buildTabWasm(e, mTab, ORDER, steps).rows),
            coefficients(build(ORDER, steps).rows),
          );
        }
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }

  const uptimeAfter = shell("uptime");
  const result = {
    benchmark: "engine_language",
    started,
    finished: new Date().toISOString(),
    config: { sde: "vp-linear", betaMin: 0.1, betaMax: 20, method: "tab", order: ORDER, grid: "time-quadratic" },
    machine: {
      uptimeBefore,
      uptimeAfter,
      loadavg: Deno.loadavg(),
      cpus: navigator.hardwareConcurrency,
      cpuModel: shell("sh", ["-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]),
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
      os: `${Deno.build.os}-${Deno.build.arch}`,
      performanceNowTickMs: tick,
    },
    method: {
      wasm: "own instance of the embedded module; buildPlan's calls up to reading the rows (no JS plan/program)",
      ts: "bench/engine_language_ts_port.ts (Float64Array, Math.*), same operations in the same order",
      warm: `after ≥ ${WARMUP_MS} ms interleaved warm-up; per-call time of batches of ~${BATCH_TARGET_MS} ms, ` +
        `${WARM_REPEATS} repeats, alternating which goes first`,
      cold: `first call in a fresh \`deno run\` (${COLD_REPEATS} processes per steps, alternating which goes first); ` +
        "wasm compile+instantiate reported apart",
    },
    module: moduleStats,
    warm,
    cold,
    identity: { firstCalls: identity, afterWarmup: identityWarm },
    libm: { probe: probeNote, v8VsAssemblyScript: libm, attribution },
    sink,
  };

  if (quick) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const dirOut = new URL("./results/", import.meta.url);
  await Deno.mkdir(dirOut, { recursive: true });
  await Deno.writeTextFile(new URL("engine_language.json", dirOut), JSON.stringify(result, null, 2) + "\n");
  await Deno.writeTextFile(new URL("engine_language.md", dirOut), markdown(result));
  console.error("wrote bench/results/engine_language.{json,md}");
}

// deno-lint-ignore no-explicit-any
function markdown(r: any): string {
  const f = (x: number, d = 1) => x.toFixed(d);
  const lines: string[] = [];
  lines.push("# Coefficient engine: AssemblyScript (WASM) vs plain TypeScript");
  lines.push("");
  lines.push(
    `vp-linear tAB, order ${ORDER}, grid time-quadratic. \`deno run -A bench/engine_language.ts\`, ${r.finished}.`,
  );
  lines.push(
    `Deno ${r.machine.deno} (V8 ${r.machine.v8}), ${r.machine.cpus} CPUs (${r.machine.cpuModel}). ` +
      `Load: before \`${r.machine.uptimeBefore}\`; after \`${r.machine.uptimeAfter}\`.`,
  );
  lines.push("");
  lines.push("## Warm (per call, after warm-up; interleaved)");
  lines.push("");
  lines.push(
    "| steps | WASM median µs | WASM min µs | TS median µs | TS min µs | WASM/TS median | WASM/TS min | TS port + AS libm median µs |",
  );
  lines.push("|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const w of r.warm) {
    lines.push(
      `| ${w.steps} | ${f(w.wasmMedianUs)} | ${f(w.wasmMinUs)} | ${f(w.tsMedianUs)} | ${f(w.tsMinUs)} | ${
        f(w.ratioMedian, 2)
      } | ${f(w.ratioMin, 2)} | ${w.tsAsLibmMedianUs === undefined ? "-" : f(w.tsAsLibmMedianUs)} |`,
    );
  }
  lines.push("");
  lines.push(
    `Batches of ${r.warm.map((w: WarmResult) => w.batch).join("/")} calls; ${r.warm[0].repeats} repeats; ` +
      "last column: the same port with exp/log/expm1/log1p/cos replaced by the AssemblyScript libm " +
      "(probe module, one JS→wasm call per math call), i.e. how much of the gap is V8's Math.*.",
  );
  lines.push("");
  lines.push(`## Cold (first call in a fresh process; ${COLD_REPEATS} processes per row)`);
  lines.push("");
  lines.push(
    "| steps | WASM 1st call ms (median / min) | + compile & instantiate ms | + base64 decode too ms | TS 1st call ms (median / min) | WASM/TS | (WASM+compile)/TS | (WASM+decode+compile)/TS | 2nd call WASM / TS ms |",
  );
  lines.push("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const c of r.cold) {
    lines.push(
      `| ${c.steps} | ${f(c.wasmFirstMedianMs, 3)} / ${f(c.wasmFirstMinMs, 3)} | ${
        f(c.wasmPlusCompileInstantiateMedianMs, 3)
      } | ${f(c.wasmWithDecodeCompileInstantiateMedianMs, 3)} | ${f(c.tsFirstMedianMs, 3)} / ${
        f(c.tsFirstMinMs, 3)
      } | ${f(c.ratioMedian, 2)} | ${f(c.ratioWithCompileMedian, 2)} | ${f(c.ratioWithDecodeCompileMedian, 2)} | ${
        f(c.wasmSecondMedianMs, 3)
      } / ${f(c.tsSecondMedianMs, 3)} |`,
    );
  }
  lines.push("");
  const m = r.module;
  lines.push(
    `Module: ${m.wasmBytes} bytes of wasm (${m.base64Chars} base64 chars, sha256 ${m.sha256.slice(0, 12)}…); ` +
      `base64 decode ${f(m.decodeMedianMs, 3)} ms, compile ${f(m.compileMedianMs, 3)} ms, instantiate ${
        f(m.instantiateMedianMs, 3)
      } ms (medians of ${m.samples} fresh processes). ${m.note}.`,
  );
  lines.push("");
  lines.push(
    "## Outputs: WASM engine vs TS port (coefficients = rows without their zero padding; g*/s* = prepareGrid's arrays)",
  );
  lines.push("");
  lines.push("| steps | array | bit-identical | max ulp | max rel. diff |");
  lines.push("|---:|---|---:|---:|---:|");
  for (const steps of STEPS) {
    for (const k of COMPARED) {
      const d = r.identity.firstCalls[steps][k];
      lines.push(`| ${steps} | ${k} | ${d.identical}/${d.n} | ${d.maxUlp} | ${d.maxRel.toExponential(2)} |`);
    }
  }
  const same = STEPS.every((s) =>
    COMPARED.every((k) =>
      r.identity.afterWarmup[s][k].identical === r.identity.firstCalls[s][k].identical &&
      r.identity.afterWarmup[s][k].maxUlp === r.identity.firstCalls[s][k].maxUlp
    )
  );
  lines.push("");
  lines.push(`After warm-up (optimised code on both sides) the comparison is ${same ? "unchanged" : "DIFFERENT"}.`);
  lines.push("");
  if (r.libm.v8VsAssemblyScript) {
    lines.push(`## V8 Math.* vs AssemblyScript libm (probe compiled with \`${r.libm.probe}\`)`);
    lines.push("");
    lines.push("| function | arguments | samples | differ | max ulp |");
    lines.push("|---|---|---:|---:|---:|");
    for (const [name, d] of Object.entries(r.libm.v8VsAssemblyScript) as [string, LibmDiff][]) {
      lines.push(`| ${name} | ${d.range} | ${d.samples} | ${d.differ} | ${d.maxUlp} |`);
    }
    lines.push("");
    lines.push(
      "Coefficients of the TS port with some Math.* calls replaced by the AssemblyScript libm, vs the engine:",
    );
    lines.push("");
    lines.push("| replaced | " + STEPS.map((s) => `steps ${s}: identical (max ulp)`).join(" | ") + " |");
    lines.push("|---|" + STEPS.map(() => "---:").join("|") + "|");
    for (const [tag, per] of Object.entries(r.libm.attribution) as [string, Record<number, Diff>][]) {
      lines.push(
        `| ${tag} | ` + STEPS.map((s) => `${per[s].identical}/${per[s].n} (${per[s].maxUlp})`).join(" | ") + " |",
      );
    }
  } else {
    lines.push(`libm probe: ${r.libm.probe}`);
  }
  lines.push("");
  return lines.join("\n");
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--cold-child");
  if (i >= 0) {
    console.log(JSON.stringify(coldChild(Number(Deno.args[i + 1]), Deno.args[i + 2] as "wasm" | "ts")));
  } else {
    await main();
  }
}
