/**
 * Builds the browser demo into `examples/browser/dist/`:
 *
 * - `main.js` (the page) and `worker.js` (the sampler, in a module worker), bundled with esbuild
 *   from `main.ts` / `worker.ts`, which import the SDK from `../../mod.ts`;
 * - `index.html`;
 * - `model/<name>/`: each model's manifests (`model.json`, and `model.fp16.json` when there is
 *   one), the ONNX files they name (network and decoder) and the scheduler config, plus
 *   `models.json`, the list the page offers;
 * - onnxruntime-web's runtime files (`ort-wasm-simd-threaded*.wasm` / `.mjs`) that the worker
 *   fetches at run time, relative to itself: nothing is loaded from a CDN.
 *
 * ```sh
 * deno task browser:build [--model models/latent-mnist --model models/mnist] [--out examples/browser/dist] [--no-minify]
 * ```
 *
 * Without `--model` the build offers `models/latent-mnist` (class-conditional digits) and
 * `models/mnist` (unconditional), those of them that exist, else `models/gmm-image`.
 *
 * The page's bundle (`main.js`) must not contain onnxruntime: the build fails when it does.
 *
 * npm packages: esbuild does not read deno.json's import map or `npm:` specifiers, so when the
 * repository has no `node_modules/` the build links the packages of deno.lock from Deno's npm
 * cache into a temporary `node_modules/` that esbuild searches (`nodePaths`).
 *
 * @module
 */

// Pinned here rather than in deno.json's import map, which this demo does not own.
// deno-lint-ignore no-import-prefix
import * as esbuild from "npm:esbuild@0.28.2";
import { parseArgs } from "node:util";
import type { CatalogModel } from "./protocol.ts";

const HERE = new URL("./", import.meta.url);
const ROOT = new URL("../../", import.meta.url);

/** Options of {@link buildDemo}. */
export interface BuildOptions {
  /** Model directories (each holding model.json), relative to the repository root or absolute. */
  models?: string[];
  /** Output directory (default `examples/browser/dist`), relative to the current directory or absolute. */
  out?: string;
  /** Minify the bundles (default true). */
  minify?: boolean;
  /** Print what was built (default false). */
  log?: boolean;
}

/** What {@link buildDemo} produced. */
export interface BuildResult {
  /** Absolute output directory. */
  outDir: string;
  /** The models offered, first the default. */
  models: CatalogModel[];
  /** Files written, relative to outDir, with their sizes in bytes. */
  files: { path: string; bytes: number }[];
}

function rootPath(rel = ""): string {
  return new URL(rel, ROOT).pathname.replace(/\/$/, "");
}

function isAbsolute(p: string): boolean {
  return p.startsWith("/");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The default models: latent-mnist and mnist, those that exist, else the Gaussian-mixture images. */
export async function defaultModelDirs(): Promise<string[]> {
  const dirs: string[] = [];
  for (const d of ["models/latent-mnist", "models/mnist"]) {
    if (await exists(rootPath(`${d}/model.json`))) dirs.push(d);
  }
  return dirs.length ? dirs : ["models/gmm-image"];
}

/** The float16 manifest beside `model.json` (MANIFEST_V2: several manifests per directory). */
const FLOAT16_MANIFEST = "model.fp16.json";

/** A file a manifest names, which must lie beside it. */
function besideManifest(where: string, key: string, value: unknown): string {
  if (typeof value !== "string" || value === "" || value.includes("/") || value.includes("\\")) {
    throw new Error(`${where}: "${key}" must name a file beside the manifest (got ${JSON.stringify(value)})`);
  }
  return value;
}

/**
 * Copies a model's manifests and the files they name into `dest`; returns its catalogue entry.
 * Only what a manifest names is copied (an encoder or training checkpoint beside it is not).
 */
async function copyModel(dir: string, source: string, dest: string): Promise<CatalogModel> {
  await Deno.mkdir(dest, { recursive: true });
  const files = new Set<string>();
  const manifests: string[] = [];
  for (const name of ["model.json", FLOAT16_MANIFEST]) {
    if (name !== "model.json" && !(await exists(`${dir}/${name}`))) continue;
    const text = await Deno.readTextFile(`${dir}/${name}`);
    const where = `${source}/${name}`;
    const m = JSON.parse(text) as { onnx?: unknown; scheduler?: unknown; decoder?: { onnx?: unknown } };
    files.add(name);
    files.add(besideManifest(where, "onnx", m.onnx));
    if (m.scheduler !== undefined) files.add(besideManifest(where, "scheduler", m.scheduler));
    if (m.decoder !== undefined) files.add(besideManifest(where, "decoder.onnx", m.decoder.onnx));
    manifests.push(name);
  }
  for (const f of files) await Deno.copyFile(`${dir}/${f}`, `${dest}/${f}`);
  const id = source.split("/").filter((s) => s).pop()!.replace(/[^A-Za-z0-9._-]/g, "_");
  return {
    id,
    source,
    float32: "model.json",
    ...(manifests.includes(FLOAT16_MANIFEST) ? { float16: FLOAT16_MANIFEST } : {}),
  };
}

async function run(args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(
      `deno ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

/**
 * A directory that esbuild can search for bare package names: the repository's own node_modules
 * when there is one, else a temporary node_modules linking deno.lock's npm packages from Deno's
 * npm cache. Returns the node_modules path and a cleanup function.
 */
async function packageDir(): Promise<
  { dir: string; cleanup: () => Promise<void> }
> {
  const own = rootPath("node_modules");
  if (await exists(`${own}/onnxruntime-web/package.json`)) {
    return { dir: own, cleanup: () => Promise.resolve() };
  }
  // Make sure the SDK's npm packages are in Deno's cache (a no-op when they are).
  await run(["cache", "--quiet", "mod.ts"], rootPath());
  const info = JSON.parse(await run(["info", "--json"], rootPath())) as {
    npmCache: string;
  };
  const lock = JSON.parse(await Deno.readTextFile(rootPath("deno.lock"))) as {
    npm?: Record<string, unknown>;
  };
  const registries: string[] = [];
  for await (const e of Deno.readDir(info.npmCache)) {
    if (e.isDirectory) registries.push(`${info.npmCache}/${e.name}`);
  }
  const tmp = await Deno.makeTempDir({ prefix: "deis-browser-build-" });
  const nm = `${tmp}/node_modules`;
  await Deno.mkdir(nm);
  for (const key of Object.keys(lock.npm ?? {})) {
    // "name@version" or "@scope/name@version_peer@x"
    const plain = key.split("_")[0];
    const at = plain.lastIndexOf("@");
    if (at <= 0) continue;
    const name = plain.slice(0, at), version = plain.slice(at + 1);
    if (await exists(`${nm}/${name}`)) continue;
    for (const reg of registries) {
      const dir = `${reg}/${name}/${version}`;
      if (await exists(`${dir}/package.json`)) {
        if (name.startsWith("@")) {
          await Deno.mkdir(`${nm}/${name.split("/")[0]}`, { recursive: true });
        }
        await Deno.symlink(dir, `${nm}/${name}`);
        break;
      }
    }
  }
  if (!(await exists(`${nm}/onnxruntime-web/package.json`))) {
    await Deno.remove(tmp, { recursive: true });
    throw new Error(
      "onnxruntime-web is not in Deno's npm cache (run `deno cache mod.ts` first)",
    );
  }
  return {
    dir: nm,
    cleanup: () => Deno.remove(tmp, { recursive: true }),
  };
}

/**
 * In the browser, `onnxruntime-web` (the SDK's WASM instance) would resolve to the JSEP build,
 * whose .wasm is twice the size; the WASM-only build is what the SDK means (it is what Deno gets).
 * `onnxruntime-web/webgpu` is left alone.
 */
const ortWasmOnly: esbuild.Plugin = {
  name: "ort-wasm-only",
  setup(build) {
    // The SDK imports npm packages by full `npm:name@version[/subpath]` specifiers (so that it works
    // from any Deno project without an import map); for esbuild they are plain package paths.
    build.onResolve({ filter: /^npm:/ }, (args) => {
      const m = /^npm:((?:@[^/]+\/)?[^@/]+)(?:@[^/]+)?(\/.*)?$/.exec(args.path);
      if (!m) return undefined;
      const bare = m[1] + (m[2] ?? "");
      if (m[1] === "onnxruntime-node") return { path: bare, external: true };
      return build.resolve(bare === "onnxruntime-web" ? "onnxruntime-web/wasm" : bare, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
      });
    });
    build.onResolve(
      { filter: /^onnxruntime-web$/ },
      (args) =>
        build.resolve("onnxruntime-web/wasm", {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
        }),
    );
  },
};

/** Builds the demo. */
export async function buildDemo(
  options: BuildOptions = {},
): Promise<BuildResult> {
  const t0 = performance.now();
  const modelDirs = options.models?.length ? options.models : await defaultModelDirs();
  const outDir = options.out
    ? (isAbsolute(options.out) ? options.out : `${Deno.cwd()}/${options.out}`)
    : new URL("dist", HERE).pathname;

  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${outDir}/model`, { recursive: true });
  const catalog: CatalogModel[] = [];
  for (const model of modelDirs) {
    const dir = isAbsolute(model) ? model : rootPath(model);
    const source = dir.startsWith(rootPath() + "/") ? dir.slice(rootPath().length + 1) : model;
    const entry = await copyModel(dir, source, `${outDir}/model/${source.split("/").filter((s) => s).pop()}`);
    if (catalog.some((c) => c.id === entry.id)) throw new Error(`two models named ${entry.id}`);
    catalog.push(entry);
  }
  await Deno.writeTextFile(`${outDir}/models.json`, JSON.stringify(catalog, null, 2) + "\n");

  const pkgs = await packageDir();
  const files: { path: string; bytes: number }[] = [];
  try {
    const result = await esbuild.build({
      entryPoints: {
        main: new URL("main.ts", HERE).pathname,
        worker: new URL("worker.ts", HERE).pathname,
      },
      outdir: outDir,
      bundle: true,
      format: "esm",
      platform: "browser",
      target: ["es2022", "chrome113", "firefox141", "safari26"],
      minify: options.minify ?? true,
      sourcemap: "linked",
      metafile: true,
      absWorkingDir: rootPath(),
      logLevel: "warning",
      nodePaths: [pkgs.dir],
      plugins: [ortWasmOnly],
      // The native backend's addon exists only in Deno and Node; the SDK imports it dynamically and
      // never on a page, so the bundle leaves the specifier alone instead of pulling the package in.
      external: ["onnxruntime-node"],
    });
    // The page makes plans and draws; a stray import of the SDK root would pull in onnxruntime
    // (hundreds of KiB of JS) on every page load.
    for (const [out, meta] of Object.entries(result.metafile.outputs)) {
      if (!out.endsWith("/main.js")) continue;
      const ort = Object.keys(meta.inputs).filter((i) => /onnxruntime|src\/runtime\//.test(i));
      if (ort.length) {
        throw new Error(`main.js must not contain onnxruntime, but bundles ${ort.slice(0, 3).join(", ")}`);
      }
    }
    // The runtime files the worker fetches relative to import.meta.url.
    const wanted = new Set<string>();
    for (const out of Object.keys(result.metafile.outputs)) {
      if (!out.endsWith(".js")) continue;
      const text = await Deno.readTextFile(`${rootPath()}/${out}`);
      for (
        const m of text.matchAll(
          /ort-wasm-simd-threaded[a-z.]*?\.(?:wasm|mjs)/g,
        )
      ) {
        wanted.add(m[0]);
      }
    }
    if (wanted.size === 0) {
      throw new Error("the bundles name no onnxruntime runtime file");
    }
    const ortDist = await Deno.realPath(`${pkgs.dir}/onnxruntime-web/dist`);
    for (const name of [...wanted].sort()) {
      await Deno.copyFile(`${ortDist}/${name}`, `${outDir}/${name}`);
    }
  } finally {
    await esbuild.stop();
    await pkgs.cleanup();
  }
  await Deno.copyFile(
    new URL("index.html", HERE).pathname,
    `${outDir}/index.html`,
  );

  const walk = async (dir: string, prefix: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(`${dir}/${e.name}`, `${prefix}${e.name}/`);
      else {files.push({
          path: prefix + e.name,
          bytes: (await Deno.stat(`${dir}/${e.name}`)).size,
        });}
    }
  };
  await walk(outDir, "");
  files.sort((a, b) => a.path.localeCompare(b.path));
  if (options.log) {
    for (const f of files) {
      console.log(`${(f.bytes / 1024).toFixed(0).padStart(8)} KiB  ${f.path}`);
    }
    console.log(
      `built ${outDir} (models ${catalog.map((c) => c.source).join(", ")}) in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s`,
    );
  }
  return { outDir, models: catalog, files };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      model: { type: "string", multiple: true },
      out: { type: "string" },
      "no-minify": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno task browser:build [--model <model dir>]... [--out <dir>] [--no-minify]",
    );
    Deno.exit(0);
  }
  try {
    await buildDemo({
      models: values.model,
      out: values.out,
      minify: !values["no-minify"],
      log: true,
    });
  } catch (e) {
    console.error(`browser:build: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
