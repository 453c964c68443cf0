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
 * Compression: `.js`, `.mjs`, `.wasm`, `.onnx`, `.json`, `.map` and `.html` go out brotli- or
 * gzip-compressed (Deno's `CompressionStream`) when the request's `Accept-Encoding` allows it, with
 * `Content-Encoding` and `Vary: Accept-Encoding`. Each file is compressed once and kept in memory
 * (keyed by its path, size and mtime): brotli takes seconds for onnxruntime's 14–27 MB `.wasm`,
 * which the first request of a file pays. `--no-compress` serves everything as is.
 *
 * Caching: `Cache-Control: no-cache` with an `ETag` (size, mtime and encoding), so a browser
 * revalidates each file on the next visit and gets `304 Not Modified` without a body while the
 * file is unchanged: a rebuilt demo is picked up at once, an unchanged one is not downloaded again.
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

/** Extensions served compressed when the client accepts it (PNG is already compressed). */
export const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".map", ".json", ".wasm", ".onnx", ".txt", ".css"]);

/** One response, as {@link ServeOptions.onResponse} sees it once its body has been sent. */
export interface ServedResponse {
  method: string;
  /** The request path, e.g. `/model/model.onnx`. */
  path: string;
  status: number;
  /** `br`, `gzip` or undefined (identity). */
  encoding?: string;
  /** Body bytes sent on the wire (after compression). */
  bytes: number;
  /** The file's size (uncompressed), 0 for errors. */
  fileBytes: number;
}

/** Options of {@link serveDir}. */
export interface ServeOptions {
  /** Directory served (absolute or relative to the current directory). */
  root: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Log each request (default false). */
  log?: boolean;
  /** Compress compressible files when the request accepts br or gzip (default true). */
  compress?: boolean;
  /** Send ETags and answer If-None-Match with 304 (default true; false: the old server, for measuring). */
  etag?: boolean;
  /** Called when a response body has been sent completely (or the request was refused). */
  onResponse?: (r: ServedResponse) => void;
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

/**
 * The encoding to send: brotli first (about a quarter smaller than gzip on onnxruntime's .wasm),
 * then gzip; none when the client refuses both (`q=0`) or does not name them.
 */
export function pickEncoding(acceptEncoding: string | null): "br" | "gzip" | undefined {
  const q = new Map<string, number>();
  for (const part of (acceptEncoding ?? "").split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (!name) continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const v = qp ? Number(qp.slice(2)) : 1;
    q.set(name, Number.isFinite(v) ? v : 0);
  }
  const ok = (name: string) => (q.get(name) ?? q.get("*") ?? 0) > 0;
  if (ok("br")) return "br";
  if (ok("gzip")) return "gzip";
  return undefined;
}

/** Compressed copies, by `encoding path size mtime`. */
const compressedCache = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();

function compressed(
  path: string,
  info: Deno.FileInfo,
  encoding: "br" | "gzip",
): Promise<Uint8Array<ArrayBuffer>> {
  const key = `${encoding} ${path} ${info.size} ${info.mtime?.getTime()}`;
  let hit = compressedCache.get(key);
  if (!hit) {
    hit = (async () => {
      const file = await Deno.open(path, { read: true });
      const stream = file.readable.pipeThrough(new CompressionStream(encoding === "br" ? "brotli" : "gzip"));
      return new Uint8Array(await new Response(stream).arrayBuffer());
    })();
    hit.catch(() => compressedCache.delete(key));
    compressedCache.set(key, hit);
  }
  return hit;
}

/** Serves `root` on 127.0.0.1. */
export function serveDir(options: ServeOptions): Promise<StaticServer> {
  const root = Deno.realPathSync(options.root);
  const compress = options.compress ?? true;
  const report = (r: ServedResponse) => {
    if (options.log) {
      console.log(`${r.method} ${r.path} ${r.status} ${r.bytes} B${r.encoding ? ` (${r.encoding})` : ""}`);
    }
    options.onResponse?.(r);
  };
  const refuse = (req: Request, path: string, status: number, text: string): Response => {
    report({ method: req.method, path, status, bytes: 0, fileBytes: 0 });
    return new Response(text, { status });
  };
  /**
   * The body, counted as it is sent, so that onResponse sees the bytes on the wire. Reported once
   * `length` bytes went through: Deno may stop reading a body at its Content-Length without
   * draining it to its end, so `flush` alone is not enough; a body cut short reports at `cancel`.
   */
  const counted = (
    body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer>,
    length: number,
    done: (bytes: number) => void,
  ): ReadableStream<Uint8Array> => {
    let bytes = 0, reported = false;
    const finish = () => {
      if (!reported) done(bytes);
      reported = true;
    };
    if (length === 0) finish();
    const source = body instanceof Uint8Array ? new Blob([body]).stream() : body;
    return source.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          bytes += chunk.byteLength;
          ctl.enqueue(chunk);
          if (bytes >= length) finish();
        },
        flush: finish,
        cancel: finish,
      } as Transformer<Uint8Array, Uint8Array>),
    );
  };
  const handler = async (req: Request): Promise<Response> => {
    let rel: string;
    try {
      rel = decodeURIComponent(new URL(req.url).pathname);
    } catch {
      return refuse(req, req.url, 400, "bad request");
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return refuse(req, rel, 405, "method not allowed");
    }
    if (rel.endsWith("/")) rel += "index.html";
    if (rel.split("/").includes("..") || rel.includes("\0")) {
      return refuse(req, rel, 403, "forbidden");
    }
    const path = root + rel;
    try {
      const real = await Deno.realPath(path);
      if (real !== root && !real.startsWith(root + "/")) {
        return refuse(req, rel, 403, "forbidden");
      }
      const info = await Deno.stat(real);
      if (!info.isFile) return refuse(req, rel, 404, "not found");
      const dot = real.lastIndexOf(".");
      const ext = dot >= 0 ? real.slice(dot).toLowerCase() : "";
      const canCompress = compress && COMPRESSIBLE.has(ext);
      const encoding = canCompress ? pickEncoding(req.headers.get("accept-encoding")) : undefined;
      const etag = `"${info.size.toString(16)}-${(info.mtime?.getTime() ?? 0).toString(16)}${
        encoding ? `-${encoding}` : ""
      }"`;
      const headers: Record<string, string> = {
        "content-type": mimeOf(real),
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
      };
      if (options.etag ?? true) headers["etag"] = etag;
      // Caches must key compressible files by Accept-Encoding even when this answer is identity.
      if (canCompress) headers["vary"] = "Accept-Encoding";
      const ifNoneMatch = req.headers.get("if-none-match");
      if (
        (options.etag ?? true) && ifNoneMatch &&
        ifNoneMatch.split(",").some((t) => [etag, `W/${etag}`, "*"].includes(t.trim()))
      ) {
        report({ method: req.method, path: rel, status: 304, encoding, bytes: 0, fileBytes: info.size });
        return new Response(null, { status: 304, headers });
      }
      let body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer>;
      let length = info.size;
      if (encoding) {
        const bytes = await compressed(real, info, encoding);
        headers["content-encoding"] = encoding;
        headers["content-length"] = String(bytes.byteLength);
        body = bytes;
        length = bytes.byteLength;
      } else {
        headers["content-length"] = String(info.size);
        body = req.method === "HEAD" ? new Uint8Array() : (await Deno.open(real, { read: true })).readable;
      }
      const served = { method: req.method, path: rel, status: 200, encoding, fileBytes: info.size };
      if (req.method === "HEAD") {
        report({ ...served, bytes: 0 });
        return new Response(null, { headers });
      }
      return new Response(counted(body, length, (bytes) => report({ ...served, bytes })), { headers });
    } catch {
      return refuse(req, rel, 404, "not found");
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
      "no-compress": { type: "boolean", default: false },
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
    compress: !values["no-compress"],
  });
  console.log(`DEIS browser demo: ${server.url}`);
}
