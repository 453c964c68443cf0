/**
 * The one error path of the command-line tools: every failure becomes one line on stderr
 * (`error: …`, naming the flag or the file) and a documented exit code. No stack traces, no file
 * contents.
 *
 * | code | meaning                                                                                 |
 * | ---- | --------------------------------------------------------------------------------------- |
 * | 0    | success                                                                                 |
 * | 1    | the computation failed: the model misbehaved (NaN, wrong output), a numerical overflow, |
 * |      | or memory ran out                                                                       |
 * | 2    | usage: a flag, an input file (`--model`, `--init`, `--batch`, …) or an output path      |
 * |      | is invalid, or a resource limit (`--n`, `--batch` size) is exceeded                     |
 * | 3    | the output could not be written after the work was done (a closed pipe, a full disk)    |
 * | 70   | an internal error (a bug): the line names the exception                                 |
 *
 * @module
 */

import { ConfigError, DeisError } from "../errors.ts";
import { kebab } from "./args.ts";

/** The documented exit codes. */
export const EXIT = { ok: 0, failed: 1, usage: 2, output: 3, internal: 70 } as const;

/** Writing the output failed (exit code 3); the message names the flag or stream. */
export class OutputError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OutputError";
  }
}

/** The flag a config or sampling field comes from. */
export function flagOf(field: string): string {
  const top = field.split(/[.[]/)[0];
  const map: Record<string, string> = { conditioning: "cond", guidance: "guidance", init: "init", plan: "plan" };
  return map[top] ?? kebab(top);
}

function oneLine(text: string): string {
  const first = text.split("\n")[0];
  // deno-lint-ignore no-control-regex
  const clean = first.replace(/[\x00-\x1f\x7f]/g, "?");
  return clean.length > 500 ? clean.slice(0, 497) + "..." : clean;
}

function isBrokenPipe(e: unknown): boolean {
  return e instanceof Deno.errors.BrokenPipe || /broken pipe|os error 32/i.test(String((e as Error)?.message));
}

function isOutOfMemory(e: unknown): boolean {
  return e instanceof RangeError && /allocation failed|invalid (typed )?array length|out of memory/i.test(e.message);
}

/** The exit code and the stderr line (without newline) for a failure. */
export function failure(e: unknown): { code: number; line: string } {
  const err = e as Error;
  if (e instanceof OutputError) return { code: EXIT.output, line: `error: ${oneLine(err.message)}` };
  if (isBrokenPipe(e)) {
    return { code: EXIT.output, line: "error: stdout: the reading end of the pipe was closed (broken pipe)" };
  }
  if (e instanceof Error && (e.name === "UsageError" || e.constructor?.name === "UsageError")) {
    return { code: EXIT.usage, line: `error: ${oneLine(err.message)}` };
  }
  if (e instanceof ConfigError) {
    const flag = flagOf(e.field);
    return { code: EXIT.usage, line: `error: --${flag}: ${oneLine(e.message)}` };
  }
  if (e instanceof DeisError) return { code: EXIT.failed, line: `error: ${oneLine(err.message)}` };
  if (isOutOfMemory(e)) {
    return { code: EXIT.failed, line: `error: out of memory (${oneLine(err.message)}); use a smaller --n` };
  }
  const name = e instanceof Error ? e.name : typeof e;
  return {
    code: EXIT.internal,
    line: `error: internal error (${name}): ${oneLine(String(err?.message ?? e))}`,
  };
}

/** Writes the failure's line with `write` (stderr by default) and returns its exit code. */
export function reportFailure(
  e: unknown,
  write: (s: string) => void = (s) => Deno.stderr.writeSync(new TextEncoder().encode(s)),
): number {
  const { code, line } = failure(e);
  try {
    write(line + "\n");
  } catch {
    // stderr closed too: the exit code still tells
  }
  return code;
}

/** Runs a CLI's main, turning anything it throws into one line and an exit code. */
export async function runCli(main: () => number | Promise<number>): Promise<number> {
  try {
    return await main();
  } catch (e) {
    return reportFailure(e);
  }
}
