/**
 * Builds an exact Gaussian-mixture ε model: `model.onnx` + `model.json`.
 *
 *     deno task gmm --spec spec.json --sde vp-linear [--beta-min 0.1 --beta-max 20]
 *                   [--sigma-min 0.01 --sigma-max 50] [--dtype float32|float64] [--name NAME] --out models/NAME
 *
 * A usage error (unknown flag, missing or bad value, unreadable or invalid spec) exits with status 2
 * and a one-line message naming the flag.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { referenceSde, type ReferenceSdeName, type ReferenceSdeSpec } from "../../testing/reference/mod.ts";
import { buildGmmOnnx, type GmmDtype } from "./graph.ts";
import { gmmManifest, manifestText } from "./manifest.ts";
import { type ParsedSpec, parseGmmSpecText, SpecError } from "./spec.ts";

/** What a GMM model is built from. */
export interface GmmBuildOptions {
  parsed: ParsedSpec;
  sde: ReferenceSdeSpec;
  dtype: GmmDtype;
  /** Model name written into the manifest. */
  name: string;
}

/** The two files of a model directory. */
export interface GmmArtifacts {
  onnx: Uint8Array;
  manifest: string;
}

/** Builds both files in memory (deterministic). */
export function buildGmmArtifacts(opts: GmmBuildOptions): GmmArtifacts {
  const sde = referenceSde(opts.sde).spec;
  return {
    onnx: buildGmmOnnx({
      gmm: opts.parsed.gmm,
      sde,
      dtype: opts.dtype,
      name: opts.name,
    }),
    manifest: manifestText(
      gmmManifest(opts.name, opts.parsed, sde, opts.dtype),
    ),
  };
}

/** Writes `model.onnx` and `model.json` into `outDir` (created if needed). */
export async function writeGmmArtifacts(
  outDir: string,
  a: GmmArtifacts,
): Promise<void> {
  await Deno.mkdir(outDir, { recursive: true });
  await Deno.writeFile(`${outDir}/model.onnx`, a.onnx);
  await Deno.writeTextFile(`${outDir}/model.json`, a.manifest);
}

/** A command-line mistake; the message names the flag. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Parsed command line. */
export interface BuildArgs {
  specPath: string;
  sde: ReferenceSdeSpec;
  dtype: GmmDtype;
  out: string;
  name: string;
}

const SDE_NAMES: readonly ReferenceSdeName[] = ["vp-linear", "vp-cosine", "ve"];
const USAGE = "usage: deno task gmm --spec FILE --sde vp-linear|vp-cosine|ve " +
  "[--beta-min B0 --beta-max B1 | --sigma-min S0 --sigma-max S1] [--dtype float32|float64] [--name NAME] --out DIR";

function positiveNumber(
  flag: string,
  text: string | undefined,
): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === "" || !Number.isFinite(v) || !(v > 0)) {
    throw new UsageError(
      `--${flag}: expected a positive number, got '${text}'`,
    );
  }
  return v;
}

/** Parses the command line (without reading the spec). Throws {@link UsageError}; returns null for --help. */
export function parseBuildArgs(args: string[]): BuildArgs | null {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        spec: { type: "string" },
        sde: { type: "string" },
        "beta-min": { type: "string" },
        "beta-max": { type: "string" },
        "sigma-min": { type: "string" },
        "sigma-max": { type: "string" },
        dtype: { type: "string" },
        name: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (e) {
    const code = (e as { code?: string }).code;
    const message = (e as Error).message;
    const quoted = [...message.matchAll(/'([^']*)'/g)].map((m) => m[1]);
    const flag = quoted.flatMap((q) => q.split(/[ ,<>]+/)).find((w) => w.startsWith("--")) ?? quoted[0] ?? "";
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      throw new UsageError(`unknown flag ${flag}`);
    }
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      throw new UsageError(`unexpected argument '${quoted[0]}'`);
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      if (/argument missing/.test(message)) {
        throw new UsageError(`${flag}: missing value`);
      }
      if (/does not take an argument/.test(message)) {
        throw new UsageError(`${flag}: does not take a value`);
      }
      if (/ambiguous/.test(message)) {
        throw new UsageError(
          `${flag}: value starts with '-' (write ${flag}=VALUE)`,
        );
      }
    }
    throw new UsageError(message.split("\n")[0]);
  }
  if (values.help) return null;
  const str = (k: string) => values[k] as string | undefined;
  const specPath = str("spec");
  if (specPath === undefined) throw new UsageError("--spec: required");
  const out = str("out");
  if (out === undefined) throw new UsageError("--out: required");
  const sdeName = str("sde");
  if (sdeName === undefined) throw new UsageError("--sde: required");
  if (!SDE_NAMES.includes(sdeName as ReferenceSdeName)) {
    throw new UsageError(
      `--sde: expected one of ${SDE_NAMES.join(", ")}, got '${sdeName}'`,
    );
  }
  const dtype = str("dtype") ?? "float32";
  if (dtype !== "float32" && dtype !== "float64") {
    throw new UsageError(
      `--dtype: expected float32 or float64, got '${dtype}'`,
    );
  }
  const betaFlags = ["beta-min", "beta-max"];
  const sigmaFlags = ["sigma-min", "sigma-max"];
  const allowed = sdeName === "vp-linear" ? betaFlags : sdeName === "ve" ? sigmaFlags : [];
  for (const f of [...betaFlags, ...sigmaFlags]) {
    if (values[f] !== undefined && !allowed.includes(f)) {
      throw new UsageError(`--${f}: not valid with --sde ${sdeName}`);
    }
  }
  let sde: ReferenceSdeSpec;
  if (sdeName === "vp-linear") {
    const betaMin = positiveNumber("beta-min", str("beta-min")) ?? 0.1;
    const betaMax = positiveNumber("beta-max", str("beta-max")) ?? 20;
    if (!(betaMax >= betaMin)) {
      throw new UsageError(
        `--beta-max: must be >= --beta-min (${betaMin}), got ${betaMax}`,
      );
    }
    sde = { name: "vp-linear", betaMin, betaMax };
  } else if (sdeName === "ve") {
    const sigmaMin = positiveNumber("sigma-min", str("sigma-min")) ?? 0.01;
    const sigmaMax = positiveNumber("sigma-max", str("sigma-max")) ?? 50;
    if (!(sigmaMax > sigmaMin)) {
      throw new UsageError(
        `--sigma-max: must be > --sigma-min (${sigmaMin}), got ${sigmaMax}`,
      );
    }
    sde = { name: "ve", sigmaMin, sigmaMax };
  } else {
    sde = { name: "vp-cosine" };
  }
  const trimmed = out.replace(/\/+$/, "");
  const name = str("name") ?? trimmed.slice(trimmed.lastIndexOf("/") + 1);
  if (name === "") throw new UsageError("--name: must not be empty");
  return { specPath, sde, dtype, out, name };
}

/** Reads and validates a spec file. Throws {@link UsageError} naming --spec. */
export async function readSpecFile(path: string): Promise<ParsedSpec> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new UsageError(
      `--spec: cannot read '${path}' (${(e as Error).name})`,
    );
  }
  try {
    return parseGmmSpecText(text);
  } catch (e) {
    if (e instanceof SpecError) {
      throw new UsageError(`--spec: ${path}: ${e.message}`);
    }
    throw e;
  }
}

/** Runs the command line; returns the exit status (0 ok, 2 usage error). */
export async function main(args: string[]): Promise<number> {
  try {
    const a = parseBuildArgs(args);
    if (a === null) {
      console.log(USAGE);
      return 0;
    }
    const parsed = await readSpecFile(a.specPath);
    await writeGmmArtifacts(
      a.out,
      buildGmmArtifacts({ parsed, sde: a.sde, dtype: a.dtype, name: a.name }),
    );
    console.log(`gmm: wrote ${a.out}/model.onnx and ${a.out}/model.json`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`gmm: ${e.message.replaceAll("\n", " ")}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
