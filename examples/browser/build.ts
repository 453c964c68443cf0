/**
 * Builds the browser demo into `examples/browser/dist/`:
 *
 * - `main.js` (the page) and `worker.js` (the sampler, in a module worker), bundled with esbuild
 *   from `main.ts` / `worker.ts`, which import the SDK from `../../mod.ts`;
 * - `index.html`;
 * - `model/`: the model's `model.json` and the ONNX file it names;
 * - onnxruntime-web's runtime files (`ort-wasm-simd-threaded*.wasm` / `.mjs`) that the bundles
 *   fetch at run time, relative to themselves: nothing is loaded from a CDN.
 *
 * ```sh
 * deno task browser:build [--model models/mnist] [--out examples/browser/dist] [--no-minify]
 * ```
 *
 * Without `--model` the build uses `models/mnist` when it holds a `model.json`, else
 * `models/gmm-image`.
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

const HERE = new URL("./", import.meta.url);
const ROOT = new URL("../../", import.meta.url);

/** Options of {@link buildDemo}. */
export interface BuildOptions {
  /** Model directory (holding model.json), relative to the repository root or absolute. */
  model?: string;
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
  /** The model directory used, relative to the repository root when inside it. */
  model: string;
  /** The model's name (from its manifest). */
  modelName: string;
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

/** The default model: models/mnist once it exists, else the exact Gaussian-mixture images. */
export async function defaultModelDir(): Promise<string> {
  return (await exists(rootPath("models/mnist/model.json"))) ? "models/mnist" : "models/gmm-image";
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
  const model = options.model ?? (await defaultModelDir());
  const modelDir = isAbsolute(model) ? model : rootPath(model);
  const outDir = options.out
    ? (isAbsolute(options.out) ? options.out : `${Deno.cwd()}/${options.out}`)
    : new URL("dist", HERE).pathname;
  const manifestText = await Deno.readTextFile(`${modelDir}/model.json`);
  const manifest = JSON.parse(manifestText) as { name?: string; onnx?: string };
  if (typeof manifest.onnx !== "string" || manifest.onnx.includes("..")) {
    throw new Error(
      `${modelDir}/model.json: "onnx" must name a file beside it`,
    );
  }

  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${outDir}/model`, { recursive: true });

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
      define: {
        DEMO_MODEL_DIR: JSON.stringify(
          model.startsWith(rootPath()) ? model.slice(rootPath().length + 1) : model,
        ),
      },
    });
    // The runtime files the bundles fetch relative to import.meta.url.
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
  await Deno.writeTextFile(`${outDir}/model/model.json`, manifestText);
  await Deno.copyFile(
    `${modelDir}/${manifest.onnx}`,
    `${outDir}/model/${manifest.onnx}`,
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
      `built ${outDir} (model ${model}: ${manifest.name}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  return { outDir, model, modelName: String(manifest.name), files };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      model: { type: "string" },
      out: { type: "string" },
      "no-minify": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno task browser:build [--model <model dir>] [--out <dir>] [--no-minify]",
    );
    Deno.exit(0);
  }
  try {
    await buildDemo({
      model: values.model,
      out: values.out,
      minify: !values["no-minify"],
      log: true,
    });
  } catch (e) {
    console.error(`browser:build: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
