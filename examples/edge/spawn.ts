/**
 * Starts `server.ts` as a subprocess with exactly the restricted permissions (used by the load
 * test and the tests):
 *
 *     deno run --no-prompt --unstable-no-legacy-abort --allow-net=127.0.0.1
 *       --allow-read=<model dir>,<onnxruntime-web's ort-wasm-simd-threaded.wasm>
 *       examples/edge/server.ts --model <model dir> --port 0 ...
 *
 * or, with `rawImports`, `--unstable-raw-imports` and only the model directory readable.
 *
 * @module
 */

import { lines } from "../../testing/lines.ts";
import { ortWasmPath } from "./ort_wasm_path.ts";

/** Options of {@link startServer}. */
export interface StartOptions {
  /** The model directory (relative to the repository root, or absolute). */
  model: string;
  /** More server flags (e.g. `["--concurrency", "1", "--queue", "2"]`). */
  serverArgs?: string[];
  /** Import the WASM binary as bytes instead of granting read access to it. */
  rawImports?: boolean;
  /** Run the self-hosted native backend (`--backend native`, which needs `--allow-ffi` and no WASM read). */
  native?: boolean;
  /** Give up when the server has not printed its address after this long (default 60 s). */
  startTimeoutMs?: number;
  /** Start it under `ulimit -n <fdLimit>` (through `sh -c`), to test running out of file descriptors. */
  fdLimit?: number;
  /** Copy the server's stderr lines here as they come (default: keep them only). */
  onStderrLine?: (line: string) => void;
}

/** A running server. */
export interface ServerHandle {
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  url: string;
  /** The exact command line (for reports). */
  command: string[];
  /** The process. */
  process: Deno.ChildProcess;
  /** Every stderr line so far (the server logs one per request). */
  stderr: string[];
  /** Sends SIGTERM, waits up to 10 s (then SIGKILL), returns the exit status. Idempotent. */
  stop(): Promise<Deno.CommandStatus>;
}

/** The repository root (two levels above this file). */
export const REPO_ROOT = new URL("../../", import.meta.url);

/** The `deno run` arguments that start the server with the restricted permissions. */
export function serverCommand(options: StartOptions): string[] {
  const read = options.rawImports || options.native ? options.model : `${options.model},${ortWasmPath()}`;
  return [
    "run",
    "--no-prompt",
    "--unstable-no-legacy-abort",
    ...(options.rawImports ? ["--unstable-raw-imports"] : []),
    "--allow-net=127.0.0.1",
    `--allow-read=${read}`,
    ...(options.native ? ["--allow-ffi"] : []),
    "examples/edge/server.ts",
    "--model",
    options.model,
    "--hostname",
    "127.0.0.1",
    "--port",
    "0",
    ...(options.native ? ["--backend", "native"] : []),
    ...(options.serverArgs ?? []),
  ];
}

/** Starts the server and waits for its `listening on …` line. */
export async function startServer(
  options: StartOptions,
): Promise<ServerHandle> {
  const args = serverCommand(options);
  const limited = options.fdLimit !== undefined;
  if (limited && !(Number.isInteger(options.fdLimit) && options.fdLimit! > 0)) {
    throw new RangeError(`fdLimit must be a positive integer`);
  }
  const process = new Deno.Command(limited ? "sh" : Deno.execPath(), {
    args: limited ? ["-c", `ulimit -n ${options.fdLimit} && exec "$0" "$@"`, Deno.execPath(), ...args] : args,
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr: string[] = [];
  const stderrDone = (async () => {
    for await (const line of lines(process.stderr)) {
      stderr.push(line);
      options.onStderrLine?.(line);
    }
  })();
  let stopped: Promise<Deno.CommandStatus> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      try {
        process.kill("SIGTERM");
      } catch {
        // already exited
      }
      const timer = setTimeout(() => {
        try {
          process.kill("SIGKILL");
        } catch {
          // already exited
        }
      }, 10_000);
      const status = await process.status;
      clearTimeout(timer);
      await stderrDone.catch(() => {});
      await stdoutDone;
      return status;
    })();
    return stopped;
  };
  const out = lines(process.stdout);
  let url: string | undefined;
  const timeout = options.startTimeoutMs ?? 60_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    url = await Promise.race([
      (async () => {
        // next() by hand: a for-await loop's early return would close the stream
        for (;;) {
          const r = await out.next();
          if (r.done) return undefined;
          const m = r.value.match(/listening on (http:\/\/\S+?)\/?$/);
          if (m) return m[1];
        }
      })(),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeout);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  // keep draining stdout so the server never blocks on a full pipe
  const stdoutDone = (async () => {
    try {
      for await (const _ of out) { /* discard */ }
    } catch {
      // closed
    }
  })();
  if (!url) {
    const status = await stop();
    throw new Error(
      `the server did not start (exit ${status.code}): deno ${args.join(" ")}\n` +
        stderr.slice(-20).join("\n"),
    );
  }
  return {
    url,
    command: [...(limited ? ["sh", "-c", `ulimit -n ${options.fdLimit} && exec deno …`] : []), "deno", ...args],
    process,
    stderr,
    stop,
  };
}
