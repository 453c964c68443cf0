/**
 * `loadModel`: a model from a directory or file path (Deno), a URL (fetch), or ONNX bytes plus a
 * manifest object.
 *
 * @module
 */

import { ConfigError, ModelError } from "../errors.ts";
import { isConfinedPath, validateManifest } from "./manifest.ts";
import { type DiffusersSettings, fromDiffusersScheduler, parseSchedulerJson } from "../plan/diffusers.ts";
import { Model, type ModelSessionOptions } from "./model.ts";
import {
  confinedPath,
  confinedUrl,
  MAX_MANIFEST_BYTES,
  MAX_ONNX_BYTES,
  readFileCapped,
  responseCapped,
} from "./fetch_bytes.ts";
import { checkManifestAgainstGraph } from "./graph_info.ts";
import { checkDecoderAgainstGraph, Decoder } from "./decoder.ts";

/**
 * Options of {@link loadModel}. The ONNX file a manifest names is confined to the manifest's
 * directory (or URL directory), must be a regular file, and is read only up to `maxOnnxBytes`.
 */
export interface LoadModelOptions extends ModelSessionOptions {
  /** Largest manifest read, in bytes (default 4 MiB). */
  maxManifestBytes?: number;
  /** Largest ONNX file read, in bytes (default 1 GiB). */
  maxOnnxBytes?: number;
  /**
   * The manifest (parsed object or JSON text). Required when loading from bytes; with a path or URL
   * it replaces the `model.json` that would be read.
   */
  manifest?: unknown;
  /** The fetch used for URLs (default: the global `fetch`). */
  fetch?: typeof fetch;
  /** With bytes and a manifest that has `decoder`: the decoder's ONNX bytes. */
  decoderBytes?: Uint8Array | ArrayBuffer;
}

const URL_SCHEMES = /^(https?|file|blob|data):/i;

interface DenoLike {
  readFile(path: string): Promise<Uint8Array>;
  readTextFile(path: string): Promise<string>;
  stat(path: string): Promise<{ isDirectory: boolean }>;
}

function denoFs(): DenoLike | undefined {
  return (globalThis as { Deno?: DenoLike }).Deno;
}

function parseManifest(text: unknown, where: string): unknown {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch (e) {
    // the parser's message quotes the text: keep only where it failed, never the file's bytes
    const at = String((e as Error).message).match(/(?:at )?position \d+|line \d+ column \d+/);
    throw new ModelError(
      where,
      `manifest is not valid JSON${at ? ` (${at[0]})` : ""}`,
      "manifest",
      { cause: e },
    );
  }
}

function decodeManifest(bytes: Uint8Array, where: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    throw new ModelError(where, "manifest is not UTF-8 text", "manifest", { cause: e });
  }
}

/** The model, once its manifest has been checked against the graph in `bytes`. */
function checkedModel(
  manifest: ReturnType<typeof validateManifest>,
  bytes: Uint8Array,
  source: string,
  options: LoadModelOptions,
  decoderBytes?: Uint8Array,
): Model {
  checkManifestAgainstGraph(manifest, bytes);
  const model = new Model(manifest, bytes, source, options);
  attachDecoder(model, decoderBytes);
  return model;
}

/** Checks the decoder's graph against the manifest and attaches it (a manifest without one: nothing). */
function attachDecoder(model: Model, bytes: Uint8Array | undefined): void {
  const spec = model.manifest.decoder;
  if (!spec) return;
  if (!bytes) {
    throw new ModelError(
      model.name,
      "names a decoder whose ONNX bytes were not given (options.decoderBytes)",
      "decoder",
    );
  }
  checkDecoderAgainstGraph(spec, bytes, model.name, model.sampleShape);
  model.decoder = new Decoder(spec, bytes, model.name, model.sampleShape);
}

/**
 * Reads and maps the diffusers scheduler config a manifest names (`"scheduler": "scheduler_config.json"`).
 * Returns undefined when there is none to read (no key, or a path that validateManifest refuses).
 */
async function readScheduler(
  manifest: unknown,
  where: string,
  read: (file: string) => Promise<string>,
): Promise<DiffusersSettings | undefined> {
  if (typeof manifest !== "object" || manifest === null || Array.isArray(manifest)) return undefined;
  const file = (manifest as Record<string, unknown>).scheduler;
  if (typeof file !== "string" || !isConfinedPath(file)) return undefined;
  let text: string;
  try {
    text = await read(file);
  } catch (e) {
    throw new ModelError(where, `cannot read the scheduler config ${file}: ${(e as Error).message}`, "scheduler", {
      cause: e,
    });
  }
  let raw: unknown;
  try {
    raw = parseSchedulerJson(text);
  } catch (e) {
    throw new ModelError(where, `the scheduler config ${file} is not valid JSON`, "scheduler", { cause: e });
  }
  try {
    return fromDiffusersScheduler(raw);
  } catch (e) {
    if (e instanceof ConfigError) throw new ModelError(where, `${file}: ${e.message}`, e.field, { cause: e });
    throw e;
  }
}

function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

function joinPath(dir: string, file: string): string {
  if (file.startsWith("/") || /^[A-Za-z]:[\\/]/.test(file)) return file;
  return dir.endsWith("/") ? dir + file : `${dir}/${file}`;
}

async function fromPath(
  path: string,
  options: LoadModelOptions,
): Promise<Model> {
  const fs = denoFs();
  if (!fs) {
    throw new ConfigError(
      "source",
      "a URL or bytes outside Deno (no file system)",
      path,
    );
  }
  let info: { isDirectory: boolean };
  try {
    info = await fs.stat(path);
  } catch (e) {
    throw new ModelError(
      path,
      `cannot read ${path}: ${(e as Error).message}`,
      "source",
      { cause: e },
    );
  }
  let manifestPath: string | undefined;
  let onnxPath: string | undefined;
  let baseDir: string;
  if (info.isDirectory) {
    baseDir = path;
    manifestPath = joinPath(path, "model.json");
  } else if (path.toLowerCase().endsWith(".onnx")) {
    baseDir = dirname(path);
    onnxPath = path;
    manifestPath = joinPath(baseDir, "model.json");
  } else {
    baseDir = dirname(path);
    manifestPath = path;
  }
  let raw: unknown = options.manifest;
  if (raw === undefined) {
    raw = decodeManifest(
      await readFileCapped(path, manifestPath, options.maxManifestBytes ?? MAX_MANIFEST_BYTES, "manifest"),
      manifestPath,
    );
  }
  const parsed = parseManifest(raw, manifestPath);
  // the files the manifest names (scheduler config, ONNX) stay inside the manifest's directory
  const scheduler = await readScheduler(parsed, manifestPath, async (file) =>
    new TextDecoder().decode(
      await readFileCapped(
        manifestPath,
        await confinedPath(manifestPath, baseDir, file, "scheduler"),
        options.maxManifestBytes ?? MAX_MANIFEST_BYTES,
        "scheduler",
      ),
    ));
  const manifest = validateManifest(parsed, manifestPath, scheduler);
  onnxPath ??= await confinedPath(manifest.name, baseDir, manifest.onnx);
  const bytes = await readFileCapped(manifest.name, onnxPath, options.maxOnnxBytes ?? MAX_ONNX_BYTES, "onnx");
  // the decoder is confined like the main ONNX file
  const decoderBytes = manifest.decoder &&
    await readFileCapped(
      manifest.name,
      await confinedPath(manifest.name, baseDir, manifest.decoder.onnx, "decoder.onnx"),
      options.maxOnnxBytes ?? MAX_ONNX_BYTES,
      "decoder.onnx",
    );
  return checkedModel(manifest, bytes, path, options, decoderBytes);
}

async function fromUrl(url: URL, options: LoadModelOptions): Promise<Model> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const get = async (
    u: URL,
    field: string,
    name: string,
  ): Promise<Response> => {
    let r: Response;
    try {
      r = await doFetch(u);
    } catch (e) {
      throw new ModelError(
        name,
        `cannot fetch ${u.href}: ${(e as Error).message}`,
        field,
        { cause: e },
      );
    }
    if (!r.ok) {
      await r.body?.cancel();
      throw new ModelError(
        name,
        `fetching ${u.href} failed with HTTP ${r.status}`,
        field,
      );
    }
    return r;
  };
  let manifestUrl: URL;
  let onnxUrl: URL | undefined;
  if (url.pathname.endsWith("/")) manifestUrl = new URL("model.json", url);
  else if (url.pathname.toLowerCase().endsWith(".onnx")) {
    onnxUrl = url;
    manifestUrl = new URL("model.json", url);
  } else manifestUrl = url;
  let raw: unknown = options.manifest;
  if (raw === undefined) {
    raw = decodeManifest(
      await responseCapped(
        url.href,
        await get(manifestUrl, "manifest", url.href),
        options.maxManifestBytes ?? MAX_MANIFEST_BYTES,
        "manifest",
      ),
      manifestUrl.href,
    );
  }
  const parsed = parseManifest(raw, manifestUrl.href);
  const scheduler = await readScheduler(
    parsed,
    manifestUrl.href,
    async (file) =>
      new TextDecoder().decode(
        await responseCapped(
          url.href,
          await get(confinedUrl(url.href, file, manifestUrl, "scheduler"), "scheduler", url.href),
          options.maxManifestBytes ?? MAX_MANIFEST_BYTES,
          "scheduler",
        ),
      ),
  );
  const manifest = validateManifest(parsed, manifestUrl.href, scheduler);
  // same origin, below the manifest's directory: never file: (or another host) from a remote manifest
  onnxUrl ??= confinedUrl(manifest.name, manifest.onnx, manifestUrl);
  const bytes = await responseCapped(
    manifest.name,
    await get(onnxUrl, "onnx", manifest.name),
    options.maxOnnxBytes ?? MAX_ONNX_BYTES,
    "onnx",
  );
  const decoderBytes = manifest.decoder &&
    await responseCapped(
      manifest.name,
      await get(
        confinedUrl(manifest.name, manifest.decoder.onnx, manifestUrl, "decoder.onnx"),
        "decoder.onnx",
        manifest.name,
      ),
      options.maxOnnxBytes ?? MAX_ONNX_BYTES,
      "decoder.onnx",
    );
  return checkedModel(manifest, bytes, url.href, options, decoderBytes);
}

/**
 * Loads a model.
 *
 * - a path (Deno): a directory holding `model.json`, the `model.json` itself, or the `.onnx`
 *   file (with `model.json` beside it);
 * - a URL (a `URL`, or a string starting with http:, https:, file:, blob: or data:): fetched,
 *   `model.json` first, then the ONNX file it names, relative to it;
 * - bytes (`Uint8Array` or `ArrayBuffer`) of the ONNX file, with `options.manifest`.
 *
 * The manifest is validated first; errors are {@link ModelError}s whose `field` names the key.
 * Sessions are created when the model is first sampled; release them with `model.dispose()`.
 *
 * @example
 * ```ts
 * import { loadModel } from "@seed/deis";
 * const model = await loadModel("models/gmm-2d");
 * console.log(model.name, model.sampleShape);
 * await model.dispose();
 * ```
 */
export function loadModel(
  source: string | URL | Uint8Array | ArrayBuffer,
  options: LoadModelOptions = {},
): Promise<Model> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    if (options.manifest === undefined) {
      return Promise.reject(
        new ConfigError(
          "manifest",
          "a manifest object when loading from bytes",
          undefined,
        ),
      );
    }
    try {
      const manifest = validateManifest(
        parseManifest(options.manifest, "manifest"),
        "manifest",
      );
      const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
      const db = options.decoderBytes;
      return Promise.resolve(
        checkedModel(manifest, bytes, "bytes", options, db instanceof ArrayBuffer ? new Uint8Array(db) : db),
      );
    } catch (e) {
      return Promise.reject(e);
    }
  }
  if (source instanceof URL) {
    return source.protocol === "file:" && denoFs() ? fromPath(decodeURIComponent(source.pathname), options) : fromUrl(
      source,
      options,
    );
  }
  if (typeof source === "string") {
    if (URL_SCHEMES.test(source)) return loadModel(new URL(source), options);
    return fromPath(source, options);
  }
  return Promise.reject(
    new ConfigError("source", "a path, a URL or bytes", source),
  );
}
