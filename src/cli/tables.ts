/**
 * `deno task tables`: prints one DEIS plan (or a batch of them) as JSON or CSV on stdout.
 *
 *     deno task tables --method tab --order 3 --steps 10 --grid time-quadratic
 *     deno task tables --batch configs.json
 *
 * A bad flag or value exits with code 2 and one line on stderr naming the flag.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { kebab, parseNumber, UsageError } from "./args.ts";
import { ConfigError } from "../errors.ts";
import { GRID_NAMES, type PlanConfig } from "../plan/config.ts";
import type { DiffusersSettings } from "../plan/diffusers.ts";
import { flagForKey, mergeDiffusersConfig, readDiffusersConfig, unknownKeyWarnings } from "./diffusers_flag.ts";
import { makePlan } from "../plan/make_plan.ts";
import type { Plan } from "../plan/types.ts";
import { methodChoices, methodHelp, RK_NAMES } from "../plan/registry.ts";
import { reportFailure, runCli } from "./fail.ts";
import { joinDashValues, parseInputJson, readInputText } from "./files.ts";

/** Most entries in a `--batch` file. */
export const MAX_BATCH_ENTRIES = 1000;
/**
 * Most network evaluations of all the plans of a `--batch` together (each plan is at most
 * 10 000 steps; 300 × ρRK-4 at 10 000 steps, 12 M, took 52 s and 6.3 GB before this limit).
 */
export const MAX_BATCH_NFE = 200_000;

/** Flags and their kinds: `number`, `string`, or `file` (a JSON array read from disk). */
const FLAGS = {
  sde: "string",
  "beta-min": "number",
  "beta-max": "number",
  "sigma-min": "number",
  "sigma-max": "number",
  "alphas-cumprod": "file",
  "t-start": "number",
  "t-end": "number",
  grid: "string",
  kappa: "number",
  "timestep-spacing": "string",
  "steps-offset": "number",
  timesteps: "file",
  method: "string",
  order: "number",
  variant: "string",
  rk: "string",
  lambda: "number",
  steps: "number",
} as const;

const USAGE = `usage: deno task tables [flags]
  --sde vp-linear|vp-cosine|vp-discrete|ve   --beta-min --beta-max --sigma-min --sigma-max
  --alphas-cumprod <file.json>  --t-start <T>  --t-end <eps>
  --grid ${GRID_NAMES.join("|")}  --kappa <k>  --timesteps <file.json>
  --diffusers-config <scheduler_config.json> (sde, table, grid diffusers)  --timestep-spacing leading|trailing|linspace
  --steps-offset <k>
  --method ${methodChoices()}  --order <r>  --variant bh1|bh2
  --rk ${RK_NAMES.join("|")}  --lambda <l>  --steps <n>
  --format json|csv   --batch <configs.json>   --help
methods:
${methodHelp()}`;

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function readJsonArray(flag: string, path: string): unknown {
  // a regular file under a size cap; a JSON error says where, not what the file holds
  return parseInputJson(flag, path, readInputText(flag, path), "an array");
}

/**
 * Turns a batch entry's file-valued keys (a path string) into arrays; `diffusersConfig` (a path to a
 * scheduler_config.json) is mapped and merged like `--diffusers-config`.
 */
function resolveFiles(config: Record<string, unknown>): PlanConfig {
  const out: Record<string, unknown> = { ...config };
  for (const [flag, kind] of Object.entries(FLAGS)) {
    const key = camel(flag);
    if (kind === "file" && typeof out[key] === "string") {
      out[key] = readJsonArray(flag, out[key] as string);
    }
  }
  if (out.diffusersConfig !== undefined) {
    if (typeof out.diffusersConfig !== "string") {
      throw new UsageError(`diffusersConfig: must be the path of a scheduler_config.json`);
    }
    const settings = readDiffusersConfig(out.diffusersConfig, "diffusers-config");
    delete out.diffusersConfig;
    return mergeDiffusersConfig(settings, out as PlanConfig, (k) => k);
  }
  return out as PlanConfig;
}

/** Methods without x-space rows: one line per program operation, terms as (register, coefficient) columns. */
function programCsv(plan: Plan): string {
  const W = plan.program.registers.v;
  const terms = Array.from({ length: W }, (_, j) => [`term${j}_reg`, `term${j}_coef`]).flat();
  const lines = [
    ["index", "op", "dst", "src", "src_coef", "a", "t", "alpha_bar", "rho", "out", "end", ...terms].join(","),
  ];
  plan.program.ops.forEach((op, i) => {
    const cells: (string | number)[] = [i, op.op, op.dst];
    if (op.op === "init") cells.push("", "", "", "", "", "", "", "", ...terms.map(() => ""));
    else if (op.op === "eval") {
      cells.push(op.src, "", "", op.t, op.alphaBar, op.rho, op.out, "", ...terms.map(() => ""));
    } else {
      const flat = Array.from({ length: W }, (_, j) => op.terms[j] ?? ["", ""]).flat();
      cells.push(op.src?.[0] ?? "", op.src?.[1] ?? "", op.a, "", "", "", "", op.end ?? "", ...flat);
    }
    lines.push(cells.join(","));
  });
  return lines.join("\n") + "\n";
}

function planCsv(plan: Plan): string {
  if (!plan.rows) return programCsv(plan);
  const rows = plan.rows;
  const lines: string[] = [];
  if (plan.stages) {
    const S = plan.stages[0].length;
    const b = Array.from({ length: S }, (_, m) => `b${m}`);
    const a = Array.from({ length: S - 1 }, (_, m) => `a${m}`);
    lines.push(
      [
        "step",
        "stage",
        "t",
        "alpha_bar",
        "rho",
        "x_coef",
        ...a,
        "row_x_coef",
        ...b,
      ].join(","),
    );
    plan.stages.forEach((step, k) =>
      step.forEach((s, m) => {
        const coefs = Array.from({ length: S - 1 }, (_, l) => s.coefs[l] ?? 0);
        const row = m === 0 ? rows[k] : rows[k].map(() => "");
        lines.push(
          [k, m, s.t, s.alphaBar, s.rho, s.xCoef, ...coefs, ...row].join(","),
        );
      })
    );
  } else {
    const c = Array.from(
      { length: rows[0].length - 1 },
      (_, j) => `c${j}`,
    );
    lines.push(
      [
        "step",
        "t",
        "alpha_bar",
        "rho",
        "x_coef",
        ...c,
        ...(plan.noise ? ["noise"] : []),
      ].join(","),
    );
    for (let k = 0; k <= plan.steps; k++) {
      const row = k < plan.steps ? rows[k] : rows[0].map(() => "");
      const noise = plan.noise ? [k < plan.steps ? plan.noise[k] : ""] : [];
      lines.push(
        [k, plan.timesteps[k], plan.alphaBar[k], plan.rho[k], ...row, ...noise]
          .join(","),
      );
    }
  }
  return lines.join("\n") + "\n";
}

/** Runs the CLI on `args`; returns the exit code. Output goes to the given writers. */
export function main(
  args: string[],
  out: (s: string) => void = (s) => Deno.stdout.writeSync(new TextEncoder().encode(s)),
  err: (s: string) => void = (s) => Deno.stderr.writeSync(new TextEncoder().encode(s)),
): number {
  try {
    const options: Record<string, { type: "string" | "boolean" }> = {
      format: { type: "string" },
      batch: { type: "string" },
      "diffusers-config": { type: "string" },
      help: { type: "boolean" },
    };
    for (const flag of Object.keys(FLAGS)) options[flag] = { type: "string" };
    let parsed;
    try {
      parsed = parseArgs({
        args: joinDashValues(args, Object.keys(options)),
        options,
        strict: true,
        allowPositionals: false,
      });
    } catch (e) {
      const msg = (e as Error).message.split("\n")[0];
      throw new UsageError(`${msg}; run with --help for the flags`);
    }
    const v = parsed.values as Record<string, string | boolean | undefined>;
    if (v.help) {
      out(USAGE + "\n");
      return 0;
    }
    const format = (v.format as string | undefined) ?? "json";
    if (format !== "json" && format !== "csv") {
      throw new UsageError(
        `--format: must be json or csv (got ${JSON.stringify(format)})`,
      );
    }
    if (v.batch !== undefined) {
      const others = [...Object.keys(FLAGS), "diffusers-config"].filter((f) => v[f] !== undefined);
      if (others.length) {
        throw new UsageError(
          `--${others[0]}: not allowed with --batch (put it in the batch entries)`,
        );
      }
      if (format !== "json") {
        throw new UsageError(
          `--format: --batch writes json only (got ${JSON.stringify(format)})`,
        );
      }
      const list = readJsonArray("batch", v.batch as string);
      if (!Array.isArray(list)) {
        throw new UsageError(
          `--batch: the file must hold a JSON array of configs`,
        );
      }
      if (list.length > MAX_BATCH_ENTRIES) {
        throw new UsageError(`--batch: ${list.length} entries; the limit is ${MAX_BATCH_ENTRIES} (split the file)`);
      }
      let totalNfe = 0;
      const plans = list.map((entry, i) => {
        if (
          entry === null || typeof entry !== "object" || Array.isArray(entry)
        ) {
          throw new UsageError(
            `--batch: entry ${i} must be an object of config keys`,
          );
        }
        try {
          const plan = makePlan(resolveFiles(entry as Record<string, unknown>));
          // total work: stops within one plan of the limit, whatever the file asks for
          totalNfe += plan.nfe;
          if (totalNfe > MAX_BATCH_NFE) {
            throw new UsageError(
              `--batch: entry ${i}: the plans so far need ${totalNfe} network evaluations in total; ` +
                `the limit is ${MAX_BATCH_NFE} (split the file)`,
            );
          }
          return plan;
        } catch (e) {
          if (e instanceof ConfigError || e instanceof UsageError) {
            throw new UsageError(`--batch: entry ${i}: ${e.message}`);
          }
          throw e;
        }
      });
      out(JSON.stringify(plans) + "\n");
      return 0;
    }
    const config: Record<string, unknown> = {};
    for (const [flag, kind] of Object.entries(FLAGS)) {
      const raw = v[flag] as string | undefined;
      if (raw === undefined) continue;
      config[camel(flag)] = kind === "number" ? parseNumber(raw) : kind === "file" ? readJsonArray(flag, raw) : raw;
    }
    let planConfig = config as PlanConfig;
    let settings: DiffusersSettings | undefined;
    if (v["diffusers-config"] !== undefined) {
      settings = readDiffusersConfig(v["diffusers-config"] as string);
      for (const w of unknownKeyWarnings(settings)) err(`warning: ${w}\n`);
      planConfig = mergeDiffusersConfig(settings, planConfig, kebab);
    }
    let plan: Plan;
    try {
      plan = makePlan(planConfig);
    } catch (e) {
      if (e instanceof ConfigError) {
        const top = e.field.split(/[.[]/)[0];
        const detail = e.field === top ? e.message.slice(top.length + 2) : e.message;
        throw new UsageError(`--${flagForKey(top, config as PlanConfig, settings, kebab)}: ${detail}`);
      }
      throw e;
    }
    out(format === "json" ? JSON.stringify(plan) + "\n" : planCsv(plan));
    return 0;
  } catch (e) {
    // one line naming the flag or file, a documented exit code (src/cli/fail.ts)
    return reportFailure(e, err);
  }
}

if (import.meta.main) Deno.exit(await runCli(() => main(Deno.args)));
