/**
 * `--diffusers-config <scheduler_config.json>`, shared by the `tables` and `sample` CLIs: reads a
 * diffusers scheduler config, maps it ({@link fromDiffusersScheduler}) and merges it with the plan
 * flags. Problems are {@link UsageError}s naming the flag.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import {
  diffusersPlanConfig,
  type DiffusersSettings,
  fromDiffusersScheduler,
  parseSchedulerJson,
} from "../plan/diffusers.ts";
import type { PlanConfig } from "../plan/config.ts";
import { UsageError } from "./args.ts";

/** Plan-config keys that the scheduler config fixes: their flags clash with `--diffusers-config`. */
export const SCHEDULE_KEYS = ["sde", "betaMin", "betaMax", "sigmaMin", "sigmaMax", "alphasCumprod"] as const;

/** Keys that come from the scheduler config unless a flag gives them. */
const FROM_SCHEDULER = ["sde", "alphasCumprod", "grid", "timestepSpacing", "stepsOffset"];

/** Reads and maps a scheduler config file; a bad file or a refused key is a usage error naming the flag. */
export function readDiffusersConfig(path: string, flag = "diffusers-config"): DiffusersSettings {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new UsageError(`--${flag}: cannot read ${JSON.stringify(path)} (${(e as Error).name})`);
  }
  let raw: unknown;
  try {
    raw = parseSchedulerJson(text);
  } catch {
    throw new UsageError(`--${flag}: ${JSON.stringify(path)} is not valid JSON (expected a scheduler_config.json)`);
  }
  try {
    return fromDiffusersScheduler(raw);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`--${flag}: ${e.message}`);
    throw e;
  }
}

/** Warning lines (without `warning: `) for the keys of the scheduler config this version does not know. */
export function unknownKeyWarnings(settings: DiffusersSettings, flag = "diffusers-config"): string[] {
  return settings.unknown.map((k) => `--${flag}: scheduler.${k} is not a known diffusers key; ignored`);
}

/**
 * The plan config of `settings` merged under the flags' `config`; a flag that sets a schedule key
 * (`--sde`, `--beta-min`, …) is a usage error.
 * @param flagOf the flag name of a config key (for messages)
 */
export function mergeDiffusersConfig(
  settings: DiffusersSettings,
  config: PlanConfig,
  flagOf: (key: string) => string,
  flag = "diffusers-config",
): PlanConfig {
  for (const key of SCHEDULE_KEYS) {
    if (config[key] !== undefined) {
      throw new UsageError(`--${flagOf(key)}: not allowed with --${flag} (the scheduler config fixes the schedule)`);
    }
  }
  return diffusersPlanConfig(settings, config);
}

/**
 * The flag to name for a plan `ConfigError` on `key`: `--diffusers-config` when the value came from
 * the scheduler config rather than a flag.
 */
export function flagForKey(
  key: string,
  config: PlanConfig,
  settings: DiffusersSettings | undefined,
  flagOf: (key: string) => string,
): string {
  if (settings && FROM_SCHEDULER.includes(key) && (config as Record<string, unknown>)[key] === undefined) {
    return "diffusers-config";
  }
  return flagOf(key);
}
