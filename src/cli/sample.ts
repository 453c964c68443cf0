/**
 * `deno task sample`: generate samples from a model directory with any DEIS sampler.
 *
 *     deno task sample --model models/mnist --method tab --order 3 --steps 10 --n 16 --out samples.png
 *     deno task sample --model models/gmm-2d --method rhork --rk heun2 --steps 5 --out-json -
 *
 * Progress goes to stderr; with `--out-json -` stdout holds only the JSON samples. Usage errors
 * exit with code 2 and one line on stderr naming the flag.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { kebab, NUMBER, UsageError } from "./args.ts";
import { ConfigError, DeisError } from "../errors.ts";
import { loadModel } from "../model/mod.ts";
import { configureRuntime } from "../runtime/settings.ts";
import type { Model } from "../model/mod.ts";
import type { PlanConfig } from "../plan/config.ts";
import { makePlan } from "../plan/make_plan.ts";
import { planFromJSON } from "../plan/serialize.ts";
import type { Plan } from "../plan/types.ts";
import { modelPlanConfig } from "../model/plan_config.ts";
import { sample, type SampleResult } from "../sampling/mod.ts";
import { encodePng, isImageShape, tileSamples } from "../image/grid.ts";
import { methodChoices, RK_NAMES } from "../plan/registry.ts";
import { GRID_NAMES } from "../plan/config.ts";
import { reportFailure, runCli } from "./fail.ts";
import { checkOutputPath, joinDashValues, parseInputJson, readInputText, writeOutput } from "./files.ts";
import { checkBatchSize, checkFloatRange } from "../limits.ts";
import type { DiffusersSettings } from "../plan/diffusers.ts";
import { flagForKey, mergeDiffusersConfig, readDiffusersConfig, unknownKeyWarnings } from "./diffusers_flag.ts";

export { UsageError };

const USAGE = `usage: deno task sample --model <dir> [flags]
  --method ${methodChoices()}  --order <r>  --variant bh1|bh2  --rk ${RK_NAMES.join("|")}
  --steps <n>  --grid ${GRID_NAMES.join("|")}  --kappa <k>
  --diffusers-config <scheduler_config.json> (the model's diffusers schedule: grid diffusers, prediction check)
  --timestep-spacing leading|trailing|linspace  --steps-offset <k>
  --n <count>  --seed <int>  --backend auto|webgpu|wasm|native  --threads <t>  --lambda <l>  --guidance <w> (default with --cond: the model's defaultGuidance) --cond name=value[,value…]
  --plan <plan.json> (instead of the method flags)  --denoise-final  --init <x_T.json>  --out-json <file.json|->  --out <samples.png>  --cols <c>
  --image <x0.json> --strength <s> (img2img)  --mask <mask.json> (inpainting, with --image)  --no-decode`;

/** What a sampling command asks for, after parsing. */
export interface SampleCommand {
  model: string;
  config: PlanConfig;
  n: number;
  seed?: number;
  backend: "auto" | "webgpu" | "wasm" | "native";
  threads?: number;
  guidance?: number;
  /** `--cond name=value` or `name=v1,v2,…` (one value per sample element, or per sample of the batch). */
  conditioning?: Record<string, number | number[]>;
  denoiseFinal: boolean;
  init?: string;
  /** img2img / inpainting: the image (JSON `{shape, data}` of one sample or n). */
  image?: string;
  strength?: number;
  mask?: string;
  /** Skip the model's decoder (write the latents). */
  noDecode?: boolean;
  /** A stored plan (JSON) instead of the method flags. */
  plan?: string;
  /** `--diffusers-config`: the mapped scheduler config (its table must be the model's). */
  diffusers?: DiffusersSettings;
  outJson?: string;
  out?: string;
  cols?: number;
}

function num(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!NUMBER.test(text.trim())) {
    throw new UsageError(
      `--${flag}: must be a number (got ${JSON.stringify(text)})`,
    );
  }
  return Number(text);
}

function int(
  flag: string,
  text: string | undefined,
  lo: number,
  hi: number,
): number | undefined {
  const v = num(flag, text);
  if (v !== undefined && (!Number.isInteger(v) || v < lo || v > hi)) {
    throw new UsageError(
      `--${flag}: must be an integer in [${lo}, ${hi}] (got ${text})`,
    );
  }
  return v;
}

/** The flags that make the plan (refused beside `--plan`, which fixes all of them). */
const PLAN_FLAGS = [
  "method",
  "order",
  "variant",
  "rk",
  "steps",
  "grid",
  "kappa",
  "lambda",
  "diffusers-config",
  "timestep-spacing",
  "steps-offset",
];

/** Parses the sampling flags. */
export function parseSampleArgs(args: string[]): SampleCommand | "help" {
  const strings = [
    "model",
    ...PLAN_FLAGS,
    "n",
    "seed",
    "backend",
    "threads",
    "guidance",
    "init",
    "image",
    "strength",
    "mask",
    "plan",
    "out-json",
    "out",
    "cols",
    "cond",
  ];
  const options: Record<
    string,
    { type: "string" | "boolean"; multiple?: boolean }
  > = {
    "denoise-final": { type: "boolean" },
    "no-decode": { type: "boolean" },
    help: { type: "boolean" },
  };
  for (const s of strings) {
    options[s] = { type: "string", multiple: s === "cond" };
  }
  let v: Record<string, string | boolean | string[] | undefined>;
  try {
    v = parseArgs({ args: joinDashValues(args, strings), options, strict: true, allowPositionals: false })
      .values as typeof v;
  } catch (e) {
    throw new UsageError(
      `${(e as Error).message.split("\n")[0]}; run with --help for the flags`,
    );
  }
  if (v.help) return "help";
  const s = (k: string) => v[k] as string | undefined;
  if (!s("model")) {
    throw new UsageError(
      "--model: required (a model directory with model.json and model.onnx)",
    );
  }
  const backend = s("backend") ?? "auto";
  if (!["auto", "webgpu", "wasm", "native"].includes(backend)) {
    throw new UsageError(
      `--backend: must be auto, webgpu, wasm or native (got ${JSON.stringify(backend)})`,
    );
  }
  if (!s("out") && !s("out-json")) {
    throw new UsageError(
      "--out: give --out <file.png> and/or --out-json <file.json|->",
    );
  }
  if (s("plan") !== undefined) {
    const clash = PLAN_FLAGS.find((f) => s(f) !== undefined);
    if (clash) throw new UsageError(`--${clash}: not allowed with --plan (the plan fixes it)`);
  }
  const config: Record<string, unknown> = {};
  if (s("method") !== undefined) config.method = s("method");
  if (s("rk") !== undefined) config.rk = s("rk");
  if (s("variant") !== undefined) config.variant = s("variant");
  if (s("grid") !== undefined) config.grid = s("grid");
  if (s("timestep-spacing") !== undefined) config.timestepSpacing = s("timestep-spacing");
  for (
    const [flag, key] of [
      ["order", "order"],
      ["steps", "steps"],
      [
        "kappa",
        "kappa",
      ],
      ["lambda", "lambda"],
      ["steps-offset", "stepsOffset"],
    ]
  ) {
    const value = s(flag);
    if (value !== undefined) {
      config[key] = NUMBER.test(value.trim()) ? Number(value) : value;
    }
  }
  const conditioning: Record<string, number | number[]> = {};
  for (const c of (v.cond as string[] | undefined) ?? []) {
    const m = c.match(/^([^=]+)=(.+)$/);
    const values = m?.[2].split(",");
    if (!m || !values!.every((x) => NUMBER.test(x.trim()))) {
      throw new UsageError(
        `--cond: must be name=number or name=n1,n2,… (got ${JSON.stringify(c)})`,
      );
    }
    if (m[1] in conditioning) throw new UsageError(`--cond: ${m[1]} given twice`);
    conditioning[m[1]] = values!.length === 1 ? Number(values![0]) : values!.map(Number);
  }
  return {
    model: s("model")!,
    config: config as PlanConfig,
    n: int("n", s("n"), 1, 4096) ?? 16,
    seed: int("seed", s("seed"), 0, Number.MAX_SAFE_INTEGER),
    backend: backend as SampleCommand["backend"],
    threads: int("threads", s("threads"), 1, 64),
    guidance: num("guidance", s("guidance")),
    conditioning: Object.keys(conditioning).length ? conditioning : undefined,
    denoiseFinal: v["denoise-final"] === true,
    init: s("init"),
    image: s("image"),
    strength: num("strength", s("strength")),
    mask: s("mask"),
    noDecode: v["no-decode"] === true,
    plan: s("plan"),
    diffusers: s("diffusers-config") !== undefined ? readDiffusersConfig(s("diffusers-config")!) : undefined,
    outJson: s("out-json"),
    out: s("out"),
    cols: int("cols", s("cols"), 1, 4096),
  };
}

function readInit(
  path: string,
  n: number,
  sampleShape: readonly number[],
  dtype: "float32" | "float64" = "float64",
): Float64Array {
  const parsed = parseInputJson("init", path, readInputText("init", path), "{shape, data}");
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new UsageError(`--init: ${JSON.stringify(path)} must hold a JSON object {shape, data}`);
  }
  const json = parsed as { shape?: unknown; data?: unknown };
  const want = [n, ...sampleShape];
  if (
    !Array.isArray(json.shape) ||
    JSON.stringify(json.shape) !== JSON.stringify(want)
  ) {
    throw new UsageError(
      `--init: shape must be [${want}] (n = ${n} samples of the model's shape), got ${JSON.stringify(json.shape)}`,
    );
  }
  const size = want.reduce((a, b) => a * b, 1);
  if (
    !Array.isArray(json.data) || json.data.length !== size ||
    !json.data.every((x) => typeof x === "number" && Number.isFinite(x))
  ) {
    throw new UsageError(
      `--init: data must be ${size} finite numbers, row-major`,
    );
  }
  const data = Float64Array.from(json.data as number[]);
  if (dtype === "float32") checkFloatRange("init", data, dtype);
  return data;
}

/** `--image` / `--mask`: JSON `{shape, data}` of one sample or of n samples (broadcast like the API). */
function readSampleJson(flag: string, path: string, n: number, sampleShape: readonly number[]): Float64Array {
  const parsed = parseInputJson(flag, path, readInputText(flag, path), "{shape, data}");
  const json = (parsed ?? {}) as { shape?: unknown; data?: unknown };
  const one = JSON.stringify([1, ...sampleShape]), all = JSON.stringify([n, ...sampleShape]);
  const shape = JSON.stringify(json.shape);
  if (shape !== one && shape !== all && shape !== JSON.stringify(sampleShape)) {
    throw new UsageError(`--${flag}: shape must be ${one} or ${all} (one sample or n), got ${shape}`);
  }
  const data = json.data;
  if (!Array.isArray(data) || !data.every((x) => typeof x === "number" && Number.isFinite(x))) {
    throw new UsageError(`--${flag}: data must be finite numbers, row-major`);
  }
  return Float64Array.from(data as number[]);
}

/**
 * Writes the samples as a PNG grid (the decoded images when the model has a decoder and it ran);
 * returns the image size.
 */
export async function writePng(
  path: string,
  r: SampleResult,
  model: Model,
  cols?: number,
): Promise<[number, number]> {
  const decoded = r.decoded !== undefined && r.decodedShape !== undefined;
  const shape = decoded ? r.decodedShape! : r.shape;
  const [, ...sampleShape] = shape;
  if (!isImageShape(sampleShape)) {
    throw new UsageError(
      `--out: a PNG needs image-shaped samples [C,H,W] or [H,W], this model's are [${sampleShape}]; use --out-json`,
    );
  }
  const h = sampleShape[sampleShape.length - 2];
  const scale = Math.max(1, Math.round(64 / h));
  const range = (decoded ? model.manifest.decoder?.dataRange : undefined) ?? model.manifest.dataRange ?? [-1, 1];
  const image = tileSamples(decoded ? r.decoded! : r.data, shape, { cols, scale, range });
  await Deno.writeFile(path, encodePng(image));
  return [image.width, image.height];
}

/** Reads a stored plan (any `deis-plan` version; checked by the one plan validator). */
function readPlan(path: string): Plan {
  return planFromJSON(parseInputJson("plan", path, readInputText("plan", path), "a deis-plan JSON object"));
}

/**
 * `--diffusers-config` with a model: the scheduler's prediction type and ᾱ table must be the model's
 * (the scheduler config describes how the network was trained; it cannot change it).
 */
function checkSchedulerMatchesModel(settings: DiffusersSettings, model: Model): void {
  const m = model.manifest;
  if (settings.prediction !== m.prediction) {
    throw new UsageError(
      `--diffusers-config: prediction_type maps to "${settings.prediction}" but the model predicts "${m.prediction}"`,
    );
  }
  const table = settings.plan.alphasCumprod as number[];
  const own = m.sde.alphasCumprod;
  const same = m.sde.name === "vp-discrete" && own !== undefined && own.length === table.length &&
    own.every((v, i) => Math.abs(v - table[i]) <= 1e-12 * Math.abs(table[i]));
  if (!same) {
    throw new UsageError(
      `--diffusers-config: its alphas_cumprod (vp-discrete, N = ${table.length}) is not the model's schedule ` +
        `(sde ${m.sde.name}${own ? `, N = ${own.length}` : ""}); give the scheduler config the model was trained with`,
    );
  }
}

/** Runs one sampling command; progress and the summary go to `log`. */
export async function runSample(
  cmd: SampleCommand,
  log: (s: string) => void,
): Promise<SampleResult> {
  // output paths are checked before any work (issue 13)
  if (cmd.out) await checkOutputPath("out", cmd.out);
  if (cmd.outJson) await checkOutputPath("out-json", cmd.outJson, true);
  if (cmd.out && cmd.out === cmd.outJson) throw new UsageError(`--out-json: the same file as --out`);
  if (cmd.threads !== undefined) configureRuntime({ numThreads: cmd.threads });
  let model: Model;
  try {
    model = await loadModel(cmd.model);
  } catch (e) {
    // whatever is wrong with the model files, it is the --model input (exit 2)
    if (e instanceof DeisError) throw new UsageError(`--model: ${e.message}`);
    throw e;
  }
  try {
    const pictured = model.manifest.decoder && !cmd.noDecode ? model.manifest.decoder.outputShape : model.sampleShape;
    if (cmd.out && !isImageShape(pictured)) {
      throw new UsageError(
        `--out: a PNG needs image-shaped samples [C,H,W] or [H,W], this model's are [${pictured}]; use --out-json`,
      );
    }
    let plan;
    let planConfig = cmd.config;
    if (cmd.diffusers) {
      for (const w of unknownKeyWarnings(cmd.diffusers)) log(`warning: ${w}\n`);
      checkSchedulerMatchesModel(cmd.diffusers, model);
      planConfig = mergeDiffusersConfig(cmd.diffusers, { tEnd: model.manifest.tEnd, ...cmd.config }, kebab);
    }
    try {
      plan = cmd.plan !== undefined
        ? readPlan(cmd.plan)
        : makePlan(cmd.diffusers ? planConfig : modelPlanConfig(model, cmd.config));
    } catch (e) {
      if (e instanceof ConfigError && cmd.plan !== undefined) {
        throw new UsageError(`--plan: ${cmd.plan}: ${e.message}`);
      }
      if (e instanceof ConfigError) {
        const flag = flagForKey(e.field.split(/[.[]/)[0], cmd.config, cmd.diffusers, kebab);
        throw new UsageError(
          `--${flag}: ${e.message.startsWith(e.field + ": ") ? e.message.slice(e.field.length + 2) : e.message}`,
        );
      }
      throw e;
    }
    checkBatchSize(cmd.n, model.sampleShape);
    const init = cmd.init ? readInit(cmd.init, cmd.n, model.sampleShape, model.dtype) : undefined;
    const image = cmd.image ? readSampleJson("image", cmd.image, cmd.n, model.sampleShape) : undefined;
    const mask = cmd.mask ? readSampleJson("mask", cmd.mask, cmd.n, model.sampleShape) : undefined;
    // conditioned without --guidance: the model's recommended scale, if its manifest names one
    const guidance = cmd.guidance ?? (cmd.conditioning ? model.manifest.defaultGuidance : undefined);
    if (cmd.guidance === undefined && guidance !== undefined) {
      log(`guidance ${guidance} (the model's defaultGuidance)\n`);
    }
    const started = performance.now();
    const result = await sample({
      model,
      plan,
      n: cmd.n,
      seed: cmd.seed,
      backend: cmd.backend,
      guidance,
      conditioning: cmd.conditioning,
      denoiseFinal: cmd.denoiseFinal,
      init,
      image,
      strength: cmd.strength,
      mask,
      decode: cmd.noDecode ? false : undefined,
      onProgress: (p) =>
        log(
          `step ${p.step}/${p.steps}  t=${p.t.toPrecision(4)}  nfe=${p.nfe}\n`,
        ),
    });
    const ms = performance.now() - started;
    log(
      `${result.shape[0]} samples, ${plan.method}${plan.method === "rhork" ? ` (${plan.rk})` : ` r=${plan.order}`}, ` +
        `${result.nfe} NFE on ${result.backend}${result.backendReason ? ` (${result.backendReason})` : ""} in ${
          ms.toFixed(0)
        } ms\n`,
    );
    if (cmd.outJson) {
      const text = JSON.stringify({
        shape: result.shape,
        data: Array.from(result.data),
        ...(result.decoded ? { decodedShape: result.decodedShape, decoded: Array.from(result.decoded) } : {}),
      });
      if (cmd.outJson === "-") {
        Deno.stdout.writeSync(new TextEncoder().encode(text + "\n"));
      } else await writeOutput("out-json", cmd.outJson, () => Deno.writeTextFile(cmd.outJson!, text + "\n"));
    }
    if (cmd.out) {
      let w = 0, h = 0;
      await writeOutput("out", cmd.out, async () => void ([w, h] = await writePng(cmd.out!, result, model, cmd.cols)));
      log(`wrote ${cmd.out} (${w}×${h})\n`);
    }
    return result;
  } finally {
    await model.dispose();
  }
}

/** CLI entry: returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const log = (s: string) => Deno.stderr.writeSync(new TextEncoder().encode(s));
  try {
    const cmd = parseSampleArgs(args);
    if (cmd === "help") {
      console.log(USAGE);
      return 0;
    }
    await runSample(cmd, log);
    return 0;
  } catch (e) {
    // one line naming the flag or file, a documented exit code (src/cli/fail.ts)
    return reportFailure(e, log);
  }
}

if (import.meta.main) Deno.exit(await runCli(() => main(Deno.args)));
