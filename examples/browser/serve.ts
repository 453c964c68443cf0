/**
 * A tiny static file server for the built demo, on 127.0.0.1 only.
 *
 * ```sh
 * deno task browser:serve [--port 8000] [--dir examples/browser/dist]
 * ```
 *
 * `.wasm` is served as `application/wasm` (needed for streaming compilation), `.mjs`/`.js` as
 * JavaScript. No cross-origin-isolation headers are sent, so onnxruntime-web runs single-threaded
 * and never spawns pthread workers.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** MIME types by file extension. */
export const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".onnx": "application/octet-stream",
  ".png": "image/png",
  ".css": "text/css; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

/** Options of {@link serveDir}. */
export interface ServeOptions {
  /** Directory served (absolute or relative to the current directory). */
  root: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Log each request (default false). */
  log?: boolean;
}

/** A running server. */
export interface StaticServer {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  port: number;
  /** Stops the server. */
  shutdown(): Promise<void>;
}

function mimeOf(path: string): string {
  const dot = path.lastIndexOf(".");
  return (dot >= 0 && MIME[path.slice(dot).toLowerCase()]) ||
    "application/octet-stream";
}

/** Serves `root` on 127.0.0.1. */
export function serveDir(options: ServeOptions): Promise<StaticServer> {
  const root = Deno.realPathSync(options.root);
  const handler = async (req: Request): Promise<Response> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed", { status: 405 });
    }
    let rel: string;
    try {
      rel = decodeURIComponent(new URL(req.url).pathname);
    } catch {
      return new Response("bad request", { status: 400 });
    }
    if (rel.endsWith("/")) rel += "index.html";
    if (rel.split("/").includes("..") || rel.includes("\0")) {
      return new Response("forbidden", { status: 403 });
    }
    const path = root + rel;
    let file: Deno.FsFile;
    try {
      const real = await Deno.realPath(path);
      if (real !== root && !real.startsWith(root + "/")) {
        return new Response("forbidden", { status: 403 });
      }
      const info = await Deno.stat(real);
      if (!info.isFile) return new Response("not found", { status: 404 });
      file = await Deno.open(real, { read: true });
      const headers = {
        "content-type": mimeOf(real),
        "content-length": String(info.size),
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
      };
      if (options.log) console.log(`${req.method} ${rel} 200`);
      if (req.method === "HEAD") {
        file.close();
        return new Response(null, { headers });
      }
      return new Response(file.readable, { headers });
    } catch {
      if (options.log) console.log(`${req.method} ${rel} 404`);
      return new Response("not found", { status: 404 });
    }
  };
  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({
        hostname: "127.0.0.1",
        port: options.port ?? 0,
        onListen: ({ port }) => {
          resolve({
            url: `http://127.0.0.1:${port}/`,
            port,
            shutdown: () => server.shutdown(),
          });
        },
      }, handler);
    } catch (e) {
      reject(e);
    }
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "8000" },
      dir: {
        type: "string",
        default: new URL("dist", import.meta.url).pathname,
      },
      quiet: { type: "boolean", short: "q", default: false },
    },
  });
  try {
    Deno.statSync(`${values.dir}/index.html`);
  } catch {
    console.error(
      `${values.dir}/index.html is missing: run \`deno task browser:build\` first`,
    );
    Deno.exit(1);
  }
  const server = await serveDir({
    root: values.dir!,
    port: Number(values.port),
    log: !values.quiet,
  });
  console.log(`DEIS browser demo: ${server.url}`);
}
