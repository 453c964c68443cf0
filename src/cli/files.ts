/**
 * Input and output files of the command-line tools: inputs must be regular files under a size
 * cap (a FIFO or `/dev/zero` is refused before it is read); outputs are checked before any work
 * starts (the directory exists, the path is not a directory, it can be opened for writing).
 *
 * @module
 */

import { UsageError } from "./args.ts";
import { OutputError } from "./fail.ts";

/** Largest input file (JSON arrays, `--init`, `--batch`): 64 MiB. */
export const MAX_INPUT_BYTES = 64 << 20;

/** Reads a text input file named by `--flag`: a regular file of at most `maxBytes`. */
export function readInputText(flag: string, path: string, maxBytes = MAX_INPUT_BYTES): string {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    throw new UsageError(`--${flag}: cannot read ${JSON.stringify(path)} (${(e as Error).name})`);
  }
  if (!info.isFile) {
    throw new UsageError(`--${flag}: ${JSON.stringify(path)} is not a regular file`);
  }
  if (info.size > maxBytes) {
    throw new UsageError(`--${flag}: ${JSON.stringify(path)} is ${info.size} bytes; the limit is ${maxBytes}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (e) {
    throw new UsageError(`--${flag}: cannot read ${JSON.stringify(path)} (${(e as Error).name})`);
  }
  if (bytes.length > maxBytes) {
    throw new UsageError(`--${flag}: ${JSON.stringify(path)} is over the limit of ${maxBytes} bytes`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`--${flag}: ${JSON.stringify(path)} is not UTF-8 text`);
  }
}

/** Parses JSON from an input file; a syntax error says where, never what the file holds. */
export function parseInputJson(flag: string, path: string, text: string, expected: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const at = String((e as Error).message).match(/position \d+|line \d+ column \d+/);
    throw new UsageError(
      `--${flag}: ${JSON.stringify(path)} is not valid JSON${at ? ` (at ${at[0]})` : ""}; expected ${expected}`,
    );
  }
}

/**
 * Checks that `path` can be written, before any work: its directory exists, it is not a
 * directory, and it opens for writing (a file created by the check is removed again). `-` is
 * stdout when `allowStdout`.
 */
export async function checkOutputPath(flag: string, path: string, allowStdout = false): Promise<void> {
  if (path === "-" && allowStdout) return;
  if (path === "" || path.includes("\0")) throw new UsageError(`--${flag}: not a file name`);
  let existed = true;
  try {
    const info = await Deno.stat(path);
    if (info.isDirectory) throw new UsageError(`--${flag}: ${JSON.stringify(path)} is a directory`);
    if (!info.isFile) throw new UsageError(`--${flag}: ${JSON.stringify(path)} is not a regular file`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new UsageError(`--${flag}: cannot write ${JSON.stringify(path)} (${(e as Error).name})`);
    }
    existed = false;
  }
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true, create: true, truncate: false });
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "its directory does not exist"
      : e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable
      ? "permission denied"
      : (e as Error).name;
    throw new UsageError(`--${flag}: cannot write ${JSON.stringify(path)} (${why})`);
  }
  file.close();
  if (!existed) await Deno.remove(path).catch(() => {});
}

/** Runs a write; a failure becomes an {@link OutputError} naming the flag (exit code 3). */
export async function writeOutput(flag: string, path: string, write: () => Promise<void> | void): Promise<void> {
  try {
    await write();
  } catch (e) {
    throw new OutputError(`--${flag}: writing ${JSON.stringify(path)} failed (${(e as Error).name})`, { cause: e });
  }
}

/**
 * Joins a value-taking flag with a value that starts with `-` (`--seed -1` → `--seed=-1`), so
 * that it reaches validation ("must be ≥ 0") instead of the parser's "argument is ambiguous".
 */
export function joinDashValues(args: string[], valueFlags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = args[i + 1];
    if (
      a.startsWith("--") && !a.includes("=") && valueFlags.includes(a.slice(2)) && next !== undefined &&
      /^-(\d|\.\d|inf|nan)/i.test(next)
    ) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}
