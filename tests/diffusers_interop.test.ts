/**
 * diffusers interop: scheduler_config.json → plan settings, the `diffusers` grid, the CLIs'
 * `--diffusers-config` and manifests that name a scheduler config.
 *
 * The expected values are computed here independently of src/plan/diffusers*.ts:
 * - timesteps from exact rational arithmetic with an explicit round-half-to-even, and, only where
 *   the exact value is a tie (or numpy's float64 `arange` length differs), a transcription of numpy's
 *   float64 steps; plus numpy's own output (tools/reference/fixtures/diffusers_values.json);
 * - ᾱ tables from a float32 computation written against torch's portable kernels (Float32Array
 *   storage does the rounding), a float64 computation of the same formulas (agreement to float32
 *   precision), and torch's own spot values from the fixture.
 */
import assert from "node:assert/strict";
import { runTask } from "./helpers.ts";
import { ConfigError, ModelError } from "../src/errors.ts";
import { makePlan } from "../src/plan/make_plan.ts";
import {
  diffusersAlphasCumprod,
  diffusersTimesteps,
  fromDiffusersScheduler,
  parseSchedulerJson,
  type TimestepSpacing,
} from "../src/plan/diffusers.ts";
import { normalizeConfig } from "../src/plan/config.ts";
import { loadModel, validateManifest } from "../src/model/mod.ts";
import { modelPlanConfig } from "../src/model/plan_config.ts";
import { main as tablesMain } from "../src/cli/tables.ts";
import { sampleFunction } from "../mod.ts";
import { gaussianModel } from "../testing/synthetic.ts";

const REF = JSON.parse(
  Deno.readTextFileSync(new URL("../tools/reference/fixtures/diffusers_values.json", import.meta.url)),
);

// ---------------------------------------------------------------------------------------------
// Independent timesteps

/** Round-half-to-even of the rational p/q (q > 0) with BigInt; also says whether it was a tie. */
function roundRational(p: bigint, q: bigint): { value: number; tie: boolean } {
  let fl = p / q;
  if (p % q !== 0n && p < 0n) fl -= 1n;
  const twiceRem = 2n * (p - fl * q);
  if (twiceRem > q) return { value: Number(fl + 1n), tie: false };
  if (twiceRem < q) return { value: Number(fl), tie: false };
  return { value: Number(fl % 2n === 0n ? fl : fl + 1n), tie: true };
}

/** numpy's float64 steps for the ties (np.linspace: i·((N−1)/(s−1)); np.arange(N, 0, −r): N + i·((N − r) − N)). */
function numpyFloatValue(spacing: TimestepSpacing, N: number, s: number, i: number): number {
  if (spacing === "linspace") return i * ((N - 1) / (s - 1));
  const r = N / s;
  return i === 0 ? N : i === 1 ? N - r : N + i * ((N - r) - N);
}

function halfEven(x: number): number {
  const f = Math.floor(x);
  return x - f > 0.5 ? f + 1 : x - f < 0.5 ? f : (f % 2 === 0 ? f : f + 1);
}

/** diffusers' timesteps, or null where diffusers gives more than `s` of them (numpy arange's length). */
function expectedTimesteps(spacing: TimestepSpacing, N: number, s: number, offset: number): number[] | null {
  if (spacing === "leading") {
    const ratio = Math.floor(N / s); // N // s
    return Array.from({ length: s }, (_, k) => (s - 1 - k) * ratio + offset);
  }
  if (spacing === "linspace") {
    if (s === 1) return [0];
    const out: number[] = [];
    for (let i = s - 1; i >= 0; i--) {
      // i·(N−1)/(s−1) exactly; numpy sets the last entry to N − 1
      const { value, tie } = roundRational(BigInt(i * (N - 1)), BigInt(s - 1));
      out.push(tie ? halfEven(numpyFloatValue(spacing, N, s, i)) : value);
    }
    return out;
  }
  // trailing: numpy's length is ceil(N / (N/s)) in float64
  if (Math.ceil(N / (N / s)) !== s) return null;
  const out: number[] = [];
  for (let i = 0; i < s; i++) {
    // N − i·N/s = (N s − i N)/s exactly
    const { value, tie } = roundRational(BigInt(N * s - i * N), BigInt(s));
    out.push((tie ? halfEven(numpyFloatValue(spacing, N, s, i)) : value) - 1);
  }
  return out;
}

Deno.test("timesteps equal numpy's (fixture) for every spacing, N, steps and steps_offset", () => {
  let checked = 0, refused = 0;
  for (const c of REF.timesteps) {
    const valid = c.timesteps.length === c.steps && c.timesteps.every((n: number) => n >= 0 && n < c.N);
    if (valid) {
      assert.deepEqual(diffusersTimesteps(c.spacing, c.steps, c.N, c.offset), c.timesteps, JSON.stringify(c));
      assert.deepEqual(expectedTimesteps(c.spacing, c.N, c.steps, c.offset), c.timesteps, "independent model");
      checked++;
    } else {
      assert.throws(() => diffusersTimesteps(c.spacing, c.steps, c.N, c.offset), ConfigError, JSON.stringify(c));
      refused++;
    }
  }
  assert.ok(checked > 200 && refused >= 3, `${checked} checked, ${refused} refused`);
});

Deno.test("timesteps equal the independent model over a sweep (all steps for several N; leading offsets)", () => {
  let ties = 0, longer = 0;
  for (const N of [2, 3, 7, 10, 37, 64, 100, 999, 1000]) {
    for (let s = 1; s <= N; s++) {
      for (const spacing of ["leading", "trailing", "linspace"] as const) {
        for (const offset of spacing === "leading" ? [0, 1, 3] : [0, 5]) {
          const want = expectedTimesteps(spacing, N, s, offset);
          if (want === null || want[0] > N - 1) {
            longer += want === null ? 1 : 0;
            assert.throws(
              () => diffusersTimesteps(spacing, s, N, offset),
              (e: unknown) => e instanceof ConfigError && e.field === (want === null ? "steps" : "stepsOffset"),
            );
            continue;
          }
          assert.deepEqual(diffusersTimesteps(spacing, s, N, offset), want, `${spacing} N=${N} s=${s} off=${offset}`);
        }
        if (spacing === "linspace" && s > 1) {
          for (let i = 0; i < s; i++) if ((2 * i * (N - 1)) % (s - 1) === 0 && (i * (N - 1)) % (s - 1) !== 0) ties++;
        }
      }
    }
  }
  assert.ok(ties > 0 && longer > 0, `the sweep must include ties (${ties}) and numpy's longer aranges (${longer})`);
});

Deno.test("trailing with N = 1000 and 61 steps: diffusers makes 62 timesteps ending at −1, refused on steps", () => {
  assert.throws(() => diffusersTimesteps("trailing", 61, 1000), (e: unknown) => {
    assert.ok(e instanceof ConfigError && e.field === "steps", String(e));
    assert.match(e.message, /62 trailing timesteps/);
    return true;
  });
  assert.throws(() => diffusersTimesteps("leading", 1001, 1000), /steps: must be an integer in \[1, 1000\]/);
});

// ---------------------------------------------------------------------------------------------
// Independent ᾱ tables

/** torch.linspace(a, b, n, float32), portable CPU kernel: 2 vectors of 8 lanes per turn, then the scalar tail. */
function linspace32(a: number, b: number, n: number): Float32Array {
  const out = new Float32Array(n);
  const t = new Float32Array(4); // scratch: storing into it rounds to float32
  t[0] = a;
  t[1] = b;
  const [A, B] = [t[0], t[1]];
  t[2] = B - A;
  t[2] = t[2] / (n - 1);
  const step = t[2];
  const half = n >> 1;
  const formula = (i: number) => {
    if (i < half) {
      t[3] = step * i;
      t[3] = A + t[3];
    } else {
      t[3] = step * (n - 1 - i);
      t[3] = B - t[3];
    }
    return t[3];
  };
  let i = 0;
  while (i + 16 <= n) {
    for (const start of [i, i + 8]) {
      const base = formula(start);
      for (let lane = 0; lane < 8; lane++) {
        t[3] = lane * step;
        out[start + lane] = base + t[3];
      }
    }
    i += 16;
  }
  while (i < n) {
    out[i] = formula(i);
    i++;
  }
  return out;
}

/** 1 − β in float32, cumprod with a float64 running product stored to float32 (torch's CPU cumprod). */
function alphasCumprod32(betas: Float32Array): Float32Array {
  const alphas = new Float32Array(betas.length);
  for (let i = 0; i < betas.length; i++) alphas[i] = 1 - betas[i];
  const out = new Float32Array(betas.length);
  let run = 1;
  for (let i = 0; i < betas.length; i++) out[i] = run = run * alphas[i];
  return out;
}

function betas32(s: Record<string, unknown>): Float32Array {
  const n = s.num_train_timesteps as number;
  if (s.trained_betas) return Float32Array.from(s.trained_betas as number[]);
  if (s.beta_schedule === "linear") return linspace32(s.beta_start as number, s.beta_end as number, n);
  if (s.beta_schedule === "scaled_linear") {
    const r = linspace32(Math.sqrt(s.beta_start as number), Math.sqrt(s.beta_end as number), n);
    for (let i = 0; i < n; i++) r[i] = r[i] * r[i];
    return r;
  }
  // Glide cosine: betas in float64 (Python), stored as float32
  const f = (t: number) => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
  return Float32Array.from({ length: n }, (_, i) => Math.min(1 - f((i + 1) / n) / f(i / n), 0.999));
}

/** Lin et al. (2023) Algorithm 1 in float32, as diffusers codes it. */
function rescale32(betas: Float32Array): Float32Array {
  const n = betas.length;
  const sq = alphasCumprod32(betas).map(Math.sqrt); // Float32Array.map stores float32
  const t = new Float32Array(2);
  t[0] = sq[0] - sq[n - 1];
  t[1] = sq[0] / t[0];
  const last = sq[n - 1], scale = t[1];
  const ab = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    t[0] = sq[i] - last;
    t[0] = t[0] * scale;
    ab[i] = t[0] * t[0];
  }
  const out = new Float32Array(n);
  out[0] = 1 - ab[0];
  for (let i = 1; i < n; i++) {
    t[0] = ab[i] / ab[i - 1];
    out[i] = 1 - t[0];
  }
  return out;
}

function independentTable(s: Record<string, unknown>): Float32Array {
  let b = betas32(s);
  if (s.rescale_betas_zero_snr) b = rescale32(b);
  const ac = alphasCumprod32(b);
  if (s.rescale_betas_zero_snr) ac[ac.length - 1] = 2 ** -24;
  return ac;
}

/** The same formulas in float64 throughout (no float32 rounding): agreement to float32 precision. */
function float64Table(s: Record<string, unknown>): number[] {
  const n = s.num_train_timesteps as number;
  let betas: number[];
  if (s.trained_betas) betas = s.trained_betas as number[];
  else if (s.beta_schedule === "squaredcos_cap_v2") betas = Array.from(betas32(s));
  else {
    const lin = s.beta_schedule === "linear";
    const a = lin ? s.beta_start as number : Math.sqrt(s.beta_start as number);
    const b = lin ? s.beta_end as number : Math.sqrt(s.beta_end as number);
    betas = Array.from({ length: n }, (_, i) => (a + (i * (b - a)) / (n - 1)) ** (lin ? 1 : 2));
  }
  let p = 1;
  return betas.map((b) => (p *= 1 - b));
}

Deno.test("ᾱ tables equal the independent float32 computation for every beta schedule, and torch's values", () => {
  for (const s of REF.schedules) {
    const ours = diffusersAlphasCumprod(s);
    const mine = independentTable(s);
    assert.deepEqual(Array.from(ours), Array.from(mine), `${s.name}: independent float32`);
    // torch with its portable kernel: bit-equal at every stored index
    const ref = REF.alphas_cumprod.default[s.name];
    ref.index.forEach((i: number, k: number) => assert.equal(ours[i], ref.ac[k], `${s.name}[${i}] vs torch`));
    // torch's SIMD kernel on the machine that made the fixture (AVX2 with FMA): ≤ 2 float32 ulps of β apart
    const nat = REF.alphas_cumprod.native[s.name];
    nat.index.forEach((i: number, k: number) => {
      const rel = Math.abs(ours[i] - nat.ac[k]) / nat.ac[k];
      assert.ok(rel <= (s.rescale_betas_zero_snr ? 5e-5 : 5e-7), `${s.name}[${i}] vs native torch: ${rel}`);
    });
    if (!s.rescale_betas_zero_snr) {
      const f64 = float64Table(s);
      for (let i = 0; i < f64.length; i++) {
        assert.ok(Math.abs(ours[i] - f64[i]) / f64[i] < 2e-5, `${s.name}[${i}]: float32 vs float64`);
      }
    }
  }
});

Deno.test("fromDiffusersScheduler gives the table, grid and defaults of DDIMScheduler", () => {
  const s = fromDiffusersScheduler({ _class_name: "DDIMScheduler", clip_sample: false });
  assert.equal(s.trainSteps, 1000);
  assert.equal(s.spacing, "leading");
  assert.equal(s.stepsOffset, 0);
  assert.equal(s.prediction, "eps");
  assert.equal(s.betaSchedule, "linear");
  assert.equal(s.className, "DDIMScheduler");
  assert.deepEqual(s.ignored.sort(), ["_class_name", "clip_sample"]);
  assert.deepEqual(
    s.plan.alphasCumprod,
    Array.from(independentTable({
      num_train_timesteps: 1000,
      beta_start: 1e-4,
      beta_end: 0.02,
      beta_schedule: "linear",
    })),
  );
  assert.equal(s.plan.sde, "vp-discrete");
  assert.equal(s.plan.grid, "diffusers");
});

// ---------------------------------------------------------------------------------------------
// prediction_type

for (const [type, prediction] of [["epsilon", "eps"], ["v_prediction", "v"], ["sample", "x0"]] as const) {
  Deno.test(`prediction_type ${type} maps to ${prediction}`, () => {
    assert.equal(fromDiffusersScheduler({ prediction_type: type }).prediction, prediction);
    // and a manifest that names the scheduler predicts the same
    const settings = fromDiffusersScheduler({ prediction_type: type, num_train_timesteps: 10 });
    const m = validateManifest({ scheduler: "scheduler_config.json", sampleShape: [2] }, "m", settings);
    assert.equal(m.prediction, prediction);
  });
}

Deno.test("prediction_type outside epsilon, v_prediction, sample is refused by name", () => {
  for (const bad of ["flow_prediction", "eps", 1, true]) {
    assert.throws(() => fromDiffusersScheduler({ prediction_type: bad }), (e: unknown) => {
      assert.ok(e instanceof ConfigError && e.field === "scheduler.prediction_type", String(e));
      assert.match(e.message, /epsilon, v_prediction, sample/);
      return true;
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Validation and refusals

function refuses(config: Record<string, unknown>, field: string, pattern?: RegExp): void {
  assert.throws(() => fromDiffusersScheduler(config), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `${JSON.stringify(config)}: ${e}`);
    assert.equal(e.field, field, e.message);
    assert.ok(e.message.startsWith(field + ":"), e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("options that change the sampler are refused by name with the reason; off, they are accepted", () => {
  refuses({ thresholding: true }, "scheduler.thresholding", /thresholding/);
  refuses({ clip_sample: true }, "scheduler.clip_sample", /set it to false/);
  refuses({ use_karras_sigmas: true }, "scheduler.use_karras_sigmas", /grid "karras"/);
  refuses({ use_exponential_sigmas: true }, "scheduler.use_exponential_sigmas", /logrho/);
  refuses({ use_beta_sigmas: true }, "scheduler.use_beta_sigmas");
  refuses({ timestep_type: "continuous" }, "scheduler.timestep_type", /discrete/);
  refuses({ interpolation_type: "log_linear" }, "scheduler.interpolation_type");
  refuses({ variance_type: "learned_range" }, "scheduler.variance_type", /extra channels/);
  const ok = fromDiffusersScheduler({
    thresholding: false,
    dynamic_thresholding_ratio: 0.995,
    sample_max_value: 1,
    clip_sample: false,
    clip_sample_range: 1,
    use_karras_sigmas: false,
    timestep_type: "discrete",
    interpolation_type: "linear",
    variance_type: "fixed_small",
    set_alpha_to_one: false,
    skip_prk_steps: true,
    _diffusers_version: "0.30.0",
    solver_order: 2,
    algorithm_type: "dpmsolver++",
  });
  assert.deepEqual(ok.unknown, []);
  assert.equal(ok.ignored.length, 14);
});

Deno.test("every mapped key is checked and named", () => {
  refuses({ num_train_timesteps: 1 }, "scheduler.num_train_timesteps");
  refuses({ num_train_timesteps: 10.5 }, "scheduler.num_train_timesteps");
  refuses({ beta_start: 0 }, "scheduler.beta_start");
  refuses({ beta_end: 1 }, "scheduler.beta_end");
  refuses({ beta_start: 0.02, beta_end: 0.01 }, "scheduler.beta_end");
  refuses({ beta_schedule: "sigmoid" }, "scheduler.beta_schedule", /linear, scaled_linear, squaredcos_cap_v2/);
  refuses({ trained_betas: [0.1, 0.2] }, "scheduler.trained_betas", /num_train_timesteps = 1000/);
  refuses({ num_train_timesteps: 3, trained_betas: [0.1, 1.2, 0.3] }, "scheduler.trained_betas[1]");
  refuses({ timestep_spacing: "uniform" }, "scheduler.timestep_spacing", /leading, trailing, linspace/);
  refuses({ steps_offset: -1 }, "scheduler.steps_offset");
  refuses({ steps_offset: 1000 }, "scheduler.steps_offset");
  refuses({ rescale_betas_zero_snr: "yes" }, "scheduler.rescale_betas_zero_snr");
  refuses({ clip_sample: "no" }, "scheduler.clip_sample");
  // a β so small that 1 − β rounds to 1 in float32: ᾱ stops decreasing
  refuses({ beta_start: 1e-9, beta_end: 1e-8, num_train_timesteps: 10 }, "scheduler.beta_start", /float32/);
  assert.throws(() => fromDiffusersScheduler([]), (e: unknown) => e instanceof ConfigError && e.field === "scheduler");
});

Deno.test("unknown keys are listed (a warning), not refused; trained_betas replaces the schedule", () => {
  const s = fromDiffusersScheduler({ some_future_option: 3, another: null, num_train_timesteps: 4 });
  assert.deepEqual(s.unknown, ["some_future_option", "another"]);
  const t = fromDiffusersScheduler({ num_train_timesteps: 3, trained_betas: [0.1, 0.2, 0.3], beta_schedule: "linear" });
  assert.equal(t.betaSchedule, "trained_betas");
  const f = Math.fround;
  const a0 = f(1 - f(0.1)), a1 = f(1 - f(0.2)), a2 = f(1 - f(0.3));
  assert.deepEqual(t.plan.alphasCumprod, [f(a0), f(a0 * a1), f(a0 * a1 * a2)]);
});

// ---------------------------------------------------------------------------------------------
// Zero terminal SNR

Deno.test("zero terminal SNR: rescaled like DDIM, last ᾱ = 2⁻²⁴ as EulerDiscreteScheduler sets it", () => {
  const cfg = {
    beta_schedule: "scaled_linear",
    beta_start: 0.00085,
    beta_end: 0.012,
    rescale_betas_zero_snr: true,
    timestep_spacing: "trailing",
    prediction_type: "v_prediction",
  };
  const s = fromDiffusersScheduler(cfg);
  assert.equal(s.zeroTerminalSnr, true);
  const ac = s.plan.alphasCumprod as number[];
  assert.equal(ac[999], 2 ** -24);
  assert.equal(REF.alphas_cumprod.default["scaled_linear-1000-zsnr"].ddim_last, 0, "DDIMScheduler keeps 0");
  assert.ok(ac[998] > 2 ** -24);
  // ᾱ[0] is unchanged by the rescale (up to float32 rounding)
  const plain = fromDiffusersScheduler({ ...cfg, rescale_betas_zero_snr: false }).plan.alphasCumprod as number[];
  assert.ok(Math.abs(ac[0] - plain[0]) < 1e-7);
  // linear 1e-4…0.02 at N = 1000 rescales ᾱ[998] to 4.2e-9 < 2⁻²⁴: the table would rise at the end
  refuses({ rescale_betas_zero_snr: true }, "scheduler.rescale_betas_zero_snr", /set it to false/);
  assert.ok(fromDiffusersScheduler({ beta_schedule: "squaredcos_cap_v2", rescale_betas_zero_snr: true }));
  const plan = makePlan({ ...s.plan, method: "ddim", steps: 10 });
  assert.equal(plan.timesteps[0], 1);
  assert.ok(Math.abs(plan.alphaBar[0] / 2 ** -24 - 1) < 1e-14);
  assert.ok(Math.abs(plan.rho[0] - Math.sqrt(2 ** 24 - 1)) < 1e-6);
});

// ---------------------------------------------------------------------------------------------
// The grid in a plan

const N = 1000;
const TABLE = diffusersAlphasCumprod();

Deno.test("grid diffusers: t = (n + 1)/N, then tEnd = 1/N unless the last index is 0", () => {
  const lead = makePlan({
    sde: "vp-discrete",
    alphasCumprod: TABLE,
    grid: "diffusers",
    stepsOffset: 1,
    steps: 5,
    method: "ddim",
  });
  assert.deepEqual(lead.timesteps, [802, 602, 402, 202, 2, 1].map((k) => k / N));
  assert.equal(lead.steps, 5);
  assert.equal(lead.grid, "diffusers");
  const trail = makePlan({
    sde: "vp-discrete",
    alphasCumprod: TABLE,
    grid: "diffusers",
    timestepSpacing: "trailing",
    steps: 4,
  });
  assert.deepEqual(trail.timesteps, [1000, 750, 500, 250, 1].map((k) => k / N));
  // linspace ends at index 0 = tEnd: the grid ends there (DDIM's last step to ᾱ = 1 is the final denoising)
  const lin = makePlan({
    sde: "vp-discrete",
    alphasCumprod: TABLE,
    grid: "diffusers",
    timestepSpacing: "linspace",
    steps: 4,
    method: "ddim",
  });
  assert.deepEqual(lin.timesteps, [1000, 667, 334, 1].map((k) => k / N));
  assert.equal(lin.steps, 3);
  assert.deepEqual(lin.evalTimes, [1000, 667, 334].map((k) => k / N));
  const c = normalizeConfig({ sde: "vp-discrete", alphasCumprod: TABLE, grid: "diffusers", steps: 4 });
  assert.deepEqual(c.diffusers, { spacing: "leading", stepsOffset: 0, inferenceSteps: 4 });
  // a later tEnd than 1/N
  const late = makePlan({
    sde: "vp-discrete",
    alphasCumprod: TABLE,
    grid: "diffusers",
    steps: 4,
    stepsOffset: 1,
    tEnd: 0.0015,
  });
  assert.equal(late.timesteps.at(-1), 0.0015);
});

function planRejects(config: Record<string, unknown>, field: string): void {
  assert.throws(() => makePlan(config as never), (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.field, field, e.message);
    return true;
  });
}

Deno.test("grid diffusers: problems are ConfigErrors naming the field", () => {
  const base = { sde: "vp-discrete", alphasCumprod: TABLE, grid: "diffusers" };
  planRejects({ ...base, steps: 1001 }, "steps");
  planRejects({ ...base, steps: 10, stepsOffset: 100 }, "stepsOffset");
  planRejects({ ...base, steps: 10, stepsOffset: 1000 }, "stepsOffset");
  planRejects({ ...base, steps: 61, timestepSpacing: "trailing" }, "steps");
  planRejects({ ...base, steps: 1, timestepSpacing: "linspace" }, "steps");
  planRejects({ ...base, timestepSpacing: "uniform" }, "timestepSpacing");
  planRejects({ ...base, tStart: 0.9 }, "tStart");
  planRejects({ ...base, kappa: 2 }, "kappa");
  planRejects({ ...base, stepsOffset: 1, steps: 10, tEnd: 0.5 }, "tEnd");
  planRejects({ grid: "diffusers" }, "grid");
  planRejects({ sde: "vp-discrete", alphasCumprod: TABLE, timestepSpacing: "leading" }, "timestepSpacing");
  planRejects({ sde: "vp-discrete", alphasCumprod: TABLE, grid: "logrho", stepsOffset: 1 }, "stepsOffset");
});

// ---------------------------------------------------------------------------------------------
// End to end: a Gaussian with the exact ε under the diffusers table, sampled along the diffusers grid

Deno.test("a plan from a scheduler config integrates the right ODE (exact Gaussian ε, trailing grid)", async () => {
  const settings = fromDiffusersScheduler({
    beta_schedule: "scaled_linear",
    beta_start: 0.00085,
    beta_end: 0.012,
    timestep_spacing: "trailing",
  });
  const table = settings.plan.alphasCumprod as number[];
  const s2 = 0.25;
  const abAt = (t: number) => table[Math.round(t * N) - 1]; // evaluated at knots only (ddim, tab)
  const eps = (x: Float64Array, t: number[]) =>
    x.map((v, i) => {
      const ab = abAt(t[i]);
      return (Math.sqrt(1 - ab) * v) / (ab * s2 + 1 - ab);
    });
  const init = Float64Array.from({ length: 8 }, (_, i) => (i - 3.5) / 2);
  // The probability-flow ODE of N(0, s²) data scales x, for any schedule: x_end = x_T · sd(t_end)/sd(T)
  const sd = (ab: number) => Math.sqrt(ab * s2 + 1 - ab);
  const error = async (method: "ddim" | "tab", steps: number) => {
    const plan = makePlan({ ...settings.plan, method, steps });
    const r = await sampleFunction({ plan, eps, sampleShape: [1], n: 8, init });
    const scale = sd(plan.alphaBar.at(-1)!) / sd(plan.alphaBar[0]);
    return Math.max(...Array.from(r.data, (v, i) => Math.abs(v / (init[i] * scale) - 1)));
  };
  // measured: ddim 4.9e-2, 1.3e-2 (first order); tab 4.8e-3, 4.9e-4
  const [d50, d200, t50, t200] = [
    await error("ddim", 50),
    await error("ddim", 200),
    await error("tab", 50),
    await error("tab", 200),
  ];
  assert.ok(d50 < 0.06 && d200 < 0.015 && d50 / d200 > 3.5, `ddim ${d50} ${d200}`);
  assert.ok(t50 < 6e-3 && t200 < 6e-4 && t200 < d200 / 10, `tab ${t50} ${t200}`);
});

// ---------------------------------------------------------------------------------------------
// CLI and manifest

async function withFiles<T>(files: Record<string, unknown>, f: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, content] of Object.entries(files)) {
      await Deno.writeFile(
        `${dir}/${name}`,
        content instanceof Uint8Array ? content : new TextEncoder().encode(
          typeof content === "string" ? content : JSON.stringify(content),
        ),
      );
    }
    return await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function tables(args: string[]): { code: number; out: string; err: string } {
  let out = "", err = "";
  const code = tablesMain(args, (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

const SD = {
  _class_name: "PNDMScheduler",
  _diffusers_version: "0.6.0",
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
  clip_sample: false,
};

Deno.test("tables --diffusers-config: the scheduler's table and grid; flags merge; clashes name the flag", async () => {
  await withFiles({ "sd.json": SD, "bad.json": { ...SD, clip_sample: true }, "junk.json": "{", "new.json": { x: 1 } }, (
    dir,
  ) => {
    const ok = tables(["--diffusers-config", `${dir}/sd.json`, "--steps", "5", "--method", "ddim"]);
    assert.equal(ok.code, 0, ok.err);
    assert.equal(ok.err, "");
    const plan = JSON.parse(ok.out);
    assert.deepEqual(plan.timesteps, [802, 602, 402, 202, 2, 1].map((k) => k / N));
    assert.deepEqual(plan.sde.alphasCumprod, fromDiffusersScheduler(SD).plan.alphasCumprod);
    const trailing = tables(["--diffusers-config", `${dir}/sd.json`, "--steps", "4", "--timestep-spacing", "trailing"]);
    assert.deepEqual(JSON.parse(trailing.out).timesteps, [1000, 750, 500, 250, 1].map((k) => k / N));
    const other = tables(["--diffusers-config", `${dir}/sd.json`, "--steps", "4", "--grid", "logrho"]);
    assert.equal(JSON.parse(other.out).grid, "logrho");
    const cases: [string[], RegExp][] = [
      [["--sde", "ve"], /^error: --sde: not allowed with --diffusers-config/],
      [["--beta-min", "0.1"], /^error: --beta-min: not allowed with --diffusers-config/],
      [["--steps", "61", "--timestep-spacing", "trailing"], /^error: --steps: gives 62 trailing timesteps/],
      [["--steps-offset", "900"], /^error: --steps-offset: pushes the first timestep/],
      [["--steps", "2000"], /^error: --steps: /],
    ];
    for (const [extra, pattern] of cases) {
      const r = tables(["--diffusers-config", `${dir}/sd.json`, ...extra]);
      assert.equal(r.code, 2, extra.join(" "));
      assert.match(r.err, pattern);
      assert.equal(r.err.trim().split("\n").length, 1);
    }
    for (
      const [file, pattern] of [
        ["bad.json", /^error: --diffusers-config: scheduler\.clip_sample: true is not supported/],
        ["junk.json", /^error: --diffusers-config: .* is not valid JSON/],
        ["missing.json", /^error: --diffusers-config: cannot read/],
      ] as const
    ) {
      const r = tables(["--diffusers-config", `${dir}/${file}`]);
      assert.equal(r.code, 2);
      assert.match(r.err, pattern);
      assert.equal(r.err.trim().split("\n").length, 1);
    }
    const warn = tables(["--diffusers-config", `${dir}/new.json`]);
    assert.equal(warn.code, 0);
    assert.equal(warn.err, "warning: --diffusers-config: scheduler.x is not a known diffusers key; ignored\n");
    // a steps_offset from the file (not a flag) that overflows names --diffusers-config
    Deno.writeTextFileSync(`${dir}/off.json`, JSON.stringify({ ...SD, steps_offset: 500 }));
    const off = tables(["--diffusers-config", `${dir}/off.json`, "--steps", "10"]);
    assert.match(off.err, /^error: --diffusers-config: pushes the first timestep/);
    // batch entries take a diffusersConfig path
    Deno.writeTextFileSync(`${dir}/batch.json`, JSON.stringify([{ diffusersConfig: `${dir}/sd.json`, steps: 5 }]));
    const batch = tables(["--batch", `${dir}/batch.json`]);
    assert.equal(batch.code, 0, batch.err);
    assert.deepEqual(JSON.parse(batch.out)[0].timesteps, plan.timesteps);
  });
});

Deno.test("a manifest may name a scheduler config instead of an sde", async () => {
  const g = gaussianModel({ prediction: "v" });
  const manifest = {
    ...g.manifest,
    sde: undefined,
    time: undefined,
    scheduler: "scheduler_config.json",
    prediction: undefined,
  };
  const sched = { ...SD, prediction_type: "v_prediction", timestep_spacing: "trailing", clip_sample: false };
  await withFiles({ "model.onnx": g.bytes, "model.json": manifest, "scheduler_config.json": sched }, async (dir) => {
    const model = await loadModel(dir);
    try {
      assert.equal(model.manifest.prediction, "v");
      assert.equal(model.manifest.sde.name, "vp-discrete");
      assert.deepEqual(model.manifest.sde.alphasCumprod, fromDiffusersScheduler(sched).plan.alphasCumprod);
      assert.deepEqual(model.manifest.scheduler, {
        file: "scheduler_config.json",
        timestepSpacing: "trailing",
        stepsOffset: 1,
      });
      assert.deepEqual(
        model.manifest.time,
        { kind: "index", dtype: "float32" },
        "diffusers networks take the integer timestep",
      );
      const plan = makePlan(modelPlanConfig(model, { method: "tab", order: 2, steps: 4 }));
      assert.equal(plan.grid, "diffusers");
      assert.deepEqual(plan.timesteps, [1000, 750, 500, 250, 1].map((k) => k / N));
    } finally {
      await model.dispose();
    }
  });
  const settings = fromDiffusersScheduler(sched);
  const rejects = (raw: Record<string, unknown>, field: string, s = settings) =>
    assert.throws(() => validateManifest({ sampleShape: [2], ...raw }, "m", s), (e: unknown) => {
      assert.ok(e instanceof ModelError, String(e));
      assert.equal(e.field, field, e.message);
      return true;
    });
  rejects({ scheduler: "../scheduler_config.json" }, "scheduler");
  rejects({ scheduler: "/etc/scheduler_config.json" }, "scheduler");
  rejects({ scheduler: "C:/x.json" }, "scheduler");
  rejects({ scheduler: "a.json", sde: { name: "vp-linear" } }, "sde");
  rejects({ scheduler: "a.json", prediction: "eps" }, "prediction");
  // without the file read (validateManifest alone, or a model loaded from bytes)
  assert.throws(
    () => validateManifest({ sampleShape: [2], scheduler: "a.json" }),
    (e: unknown) => e instanceof ModelError && e.field === "scheduler" && /read only when/.test(e.message),
  );
  // a refused key in the named file is a ModelError naming it
  await withFiles({
    "model.onnx": g.bytes,
    "model.json": manifest,
    "scheduler_config.json": { ...sched, thresholding: true },
  }, async (dir) => {
    await assert.rejects(() => loadModel(dir), (e: unknown) => {
      assert.ok(e instanceof ModelError && e.field === "scheduler.thresholding", String(e));
      return true;
    });
  });
  // manifests with an sde load as before
  assert.equal(validateManifest({ sde: { name: "vp-linear" }, sampleShape: [2] }).scheduler, undefined);
});

const sampleCli = (args: string[]) => runTask("sample", args);

Deno.test("sample --diffusers-config: must be the model's schedule and prediction; a scheduler manifest samples", async () => {
  const g = gaussianModel({ prediction: "v" });
  const sched = { ...SD, prediction_type: "v_prediction", timestep_spacing: "trailing" };
  const manifest = { ...g.manifest, sde: undefined, time: undefined, prediction: undefined, scheduler: "s.json" };
  await withFiles({
    "model.onnx": g.bytes,
    "model.json": manifest,
    "s.json": sched,
    "eps.json": { ...sched, prediction_type: "epsilon" },
    "lin.json": { ...sched, beta_schedule: "linear" },
  }, async (dir) => {
    const common = ["--n", "2", "--seed", "1", "--out-json", "-", "--method", "ddim", "--steps", "4"];
    const plain = await sampleCli(["--model", dir, ...common]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stderr, /4 NFE/);
    const flagged = await sampleCli(["--model", dir, "--diffusers-config", `${dir}/s.json`, ...common]);
    assert.equal(flagged.code, 0, flagged.stderr);
    assert.equal(flagged.stdout, plain.stdout, "the manifest's scheduler and the flag give the same plan");
    const cases: [string[], RegExp][] = [
      [["--model", dir, "--diffusers-config", `${dir}/eps.json`], /^error: --diffusers-config: prediction_type/],
      [["--model", dir, "--diffusers-config", `${dir}/lin.json`], /^error: --diffusers-config: its alphas_cumprod/],
      [["--model", "models/gmm-2d", "--diffusers-config", `${dir}/eps.json`], /sde vp-linear\); give the scheduler/],
      [["--model", dir, "--diffusers-config", `${dir}/nope.json`], /^error: --diffusers-config: cannot read/],
      [["--model", dir, "--timestep-spacing", "middle"], /^error: --timestep-spacing: must be one of/],
    ];
    for (const [args, pattern] of cases) {
      const r = await sampleCli([...args, ...common]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    const withPlan = await sampleCli([
      "--model",
      dir,
      "--plan",
      "x.json",
      "--diffusers-config",
      `${dir}/s.json`,
      "--out-json",
      "-",
    ]);
    assert.equal(withPlan.code, 2);
    assert.match(withPlan.stderr, /^error: --diffusers-config: not allowed with --plan/);
  });
});

Deno.test("Python's non-finite floats in a saved config (lambda_min_clipped: -Infinity) read as null", async () => {
  const text = '{"_class_name": "DPMSolverMultistepScheduler", "lambda_min_clipped": -Infinity, "x": [NaN, 1],' +
    ' "name": "-Infinity", "solver_order": 2}';
  assert.deepEqual(parseSchedulerJson(text), {
    _class_name: "DPMSolverMultistepScheduler",
    lambda_min_clipped: null,
    x: [null, 1],
    name: "-Infinity",
    solver_order: 2,
  });
  assert.throws(() => parseSchedulerJson("{"), SyntaxError);
  await withFiles({ "dpm.json": text.replace(', "x": [NaN, 1]', "") }, (dir) => {
    const r = tables(["--diffusers-config", `${dir}/dpm.json`, "--steps", "5"]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, "warning: --diffusers-config: scheduler.name is not a known diffusers key; ignored\n");
  });
});
