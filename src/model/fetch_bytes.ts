/**
 * Where a model's files may come from, and how much of them is read. A manifest names its ONNX
 * file relative to itself; that name is confined to the manifest's directory (for a path) or to
 * the manifest URL's origin and directory (for a URL): no absolute path, no `..`, no scheme (so
 * no `file:` from a remote manifest). Files must be regular files (not a FIFO, a device such as
 * `/dev/zero`, or a directory) and at most a size cap; downloads are cut off at the cap.
 *
 * @module
 */

import { ModelError } from "../errors.ts";

/** Largest `model.json` read (default 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 << 20;
/** Largest ONNX file read (default 1 GiB). */
export const MAX_ONNX_BYTES = 1 << 30;

/** Size caps of {@link readFileCapped} / {@link fetchCapped}. */
export interface ByteLimits {
  /** Largest manifest in bytes (default {@link MAX_MANIFEST_BYTES}). */
  maxManifestBytes?: number;
  /** Largest ONNX file in bytes (default {@link MAX_ONNX_BYTES}). */
  maxOnnxBytes?: number;
}

/**
 * Checks the ONNX file name a manifest gives: a relative path below the manifest's directory.
 * Throws a {@link ModelError} naming `onnx` otherwise.
 */
export function checkRelativeName(model: string, name: string, field = "onnx"): void {
  const bad = (why: string): never => {
    throw new ModelError(
      model,
      `must be a file name relative to the manifest's directory (${why}; got ${JSON.stringify(name.slice(0, 80))})`,
      field,
    );
  };
  if (name.includes("\0")) bad("a NUL character");
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(name)) bad("a URL scheme or drive letter is not allowed");
  if (name.startsWith("/") || name.startsWith("\\")) bad("an absolute path is not allowed");
  if (name.includes("\\")) bad("backslashes are not allowed");
  if (name.includes("?") || name.includes("#")) bad("a query or fragment is not allowed");
  const parts = name.split("/");
  if (parts.some((p) => p === "..")) bad("'..' is not allowed");
  if (parts.every((p) => p === "" || p === ".")) bad("no file name");
  if (/%2e|%2f|%5c/i.test(name)) bad("encoded dots or slashes are not allowed");
}

/** `name` (checked by {@link checkRelativeName}) under `baseUrl`'s directory; refuses escapes. */
export function confinedUrl(model: string, name: string, manifestUrl: URL, field = "onnx"): URL {
  checkRelativeName(model, name, field);
  const u = new URL(name, manifestUrl);
  const dir = new URL(".", manifestUrl);
  if (u.origin !== dir.origin || u.protocol !== dir.protocol || !u.pathname.startsWith(dir.pathname)) {
    throw new ModelError(model, `resolves outside the manifest's directory (${dir.href})`, field);
  }
  return u;
}

interface DenoFile {
  read(p: Uint8Array): Promise<number | null>;
  close(): void;
}

interface DenoFsLike {
  stat(path: string): Promise<{ isFile: boolean; isDirectory: boolean; size: number }>;
  realPath(path: string): Promise<string>;
  open(path: string, options: { read: boolean }): Promise<DenoFile>;
}

function fs(): DenoFsLike {
  return (globalThis as unknown as { Deno: DenoFsLike }).Deno;
}

/**
 * The real path of `name` under `dir`, which must stay inside `dir` once symbolic links are
 * resolved. Throws a {@link ModelError} naming `field`.
 */
export async function confinedPath(model: string, dir: string, name: string, field = "onnx"): Promise<string> {
  checkRelativeName(model, name, field);
  const joined = dir.endsWith("/") ? dir + name : `${dir}/${name}`;
  let realDir: string, real: string;
  try {
    realDir = await fs().realPath(dir);
    real = await fs().realPath(joined);
  } catch (e) {
    throw new ModelError(model, `cannot read ${joined}: ${(e as Error).message}`, field, { cause: e });
  }
  const sep = realDir.includes("\\") && !realDir.includes("/") ? "\\" : "/";
  if (!real.startsWith(realDir.endsWith(sep) ? realDir : realDir + sep)) {
    throw new ModelError(model, `${joined} resolves outside the model directory (a link to ${real})`, field);
  }
  return real;
}

/**
 * Reads a regular file of at most `maxBytes`. A FIFO, a device, a directory or a larger file is
 * a {@link ModelError} naming `field` (and nothing is read from it).
 */
export async function readFileCapped(
  model: string,
  path: string,
  maxBytes: number,
  field: string,
): Promise<Uint8Array> {
  let info;
  try {
    info = await fs().stat(path);
  } catch (e) {
    throw new ModelError(model, `cannot read ${path}: ${(e as Error).message}`, field, { cause: e });
  }
  if (!info.isFile) {
    throw new ModelError(
      model,
      `${path} is not a regular file (${info.isDirectory ? "a directory" : "a device, FIFO or socket"})`,
      field,
    );
  }
  if (info.size > maxBytes) {
    throw new ModelError(model, `${path} is ${info.size} bytes; the limit is ${maxBytes}`, field);
  }
  let file: DenoFile;
  try {
    file = await fs().open(path, { read: true });
  } catch (e) {
    throw new ModelError(model, `cannot read ${path}: ${(e as Error).message}`, field, { cause: e });
  }
  try {
    // the size may change after the stat: read at most maxBytes + 1
    const out = new Uint8Array(Math.min(maxBytes + 1, Math.max(info.size, 0) + 1));
    let off = 0;
    for (;;) {
      if (off === out.length) {
        throw new ModelError(model, `${path} grew past the limit of ${maxBytes} bytes while read`, field);
      }
      const n = await file.read(out.subarray(off));
      if (n === null) break;
      off += n;
    }
    return out.slice(0, off);
  } catch (e) {
    if (e instanceof ModelError) throw e;
    throw new ModelError(model, `cannot read ${path}: ${(e as Error).message}`, field, { cause: e });
  } finally {
    file.close();
  }
}

/** Reads a response body of at most `maxBytes` (by `content-length`, then counting). */
export async function responseCapped(model: string, r: Response, maxBytes: number, field: string): Promise<Uint8Array> {
  const declared = Number(r.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await r.body?.cancel().catch(() => {});
    throw new ModelError(model, `${r.url || "the response"} is ${declared} bytes; the limit is ${maxBytes}`, field);
  }
  if (!r.body) return new Uint8Array(0);
  const reader = r.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new ModelError(model, `${r.url || "the response"} is over the limit of ${maxBytes} bytes`, field);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}
