/**
 * Measures the bytes the browser demo fetches: for each path (`wasm`, `webgpu`) a fresh headless
 * Chromium (empty cache) loads the page and generates once on that backend; the server (serve.ts)
 * counts every response body it sent (html, js, wasm, onnx, json), compressed or not. Then the
 * same browser reloads the page and generates again: the repeat visit's bytes (revalidated from
 * the browser's cache when the server sends ETags).
 *
 * ```sh
 * deno run -A examples/browser/measure_bytes.ts [--dist <built dir>] [--model <dir>]... [--no-compress]
 *   [--no-etag] [--label after] [--note text] [--out examples/browser/bytes.json]
 * ```
 *
 * `--table <bytes.json>` prints the Markdown table of README.md from a results file and exits.
 *
 * Without `--dist` it builds the page into a temporary folder first. With `--out` the result is
 * merged into that JSON file under `--label`, so one file can hold the numbers before and after a
 * change. Needs Debian's Chromium (`/usr/bin/chromium`); WebGPU runs on SwiftShader there.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { serveDir, type ServedResponse } from "./serve.ts";
import { buildDemo } from "./build.ts";
// Pinned here rather than in deno.json's import map, which this demo does not own.
// deno-lint-ignore no-import-prefix
import * as playwright from "npm:playwright-core@1.65.1";

// page.evaluate callbacks run in the page; this file is checked without the DOM lib.
// deno-lint-ignore no-explicit-any
declare const document: any;

/** Debian's Chromium, as the browser test uses it. */
export const CHROMIUM = "/usr/bin/chromium";
/** Headless flags: WebGPU on SwiftShader, nothing fetched from the network by Chromium itself. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--enable-unsafe-webgpu",
  "--use-webgpu-adapter=swiftshader",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Bytes of one page load plus one generation on one backend. */
export interface PathBytes {
  /** The backend that ran (from the page). */
  backend: string;
  /** The page's status line (network, backend and why). */
  status: string;
  /** Body bytes sent by the server, all requests together. */
  total: number;
  /** Uncompressed sizes of the same files. */
  totalUncompressed: number;
  /** Per request, in order: path, bytes on the wire, encoding. */
  requests: { path: string; bytes: number; fileBytes: number; encoding?: string; status: number }[];
  /** The reload and second generation in the same browser. */
  repeat: { total: number; requests: number; notModified: number };
}

/** Options of {@link measureBytes}. */
export interface MeasureOptions {
  /** The built page. */
  dist: string;
  compress?: boolean;
  /** Send ETags (default true). */
  etag?: boolean;
  /** Paths to measure (default both). */
  paths?: ("wasm" | "webgpu")[];
  /** Steps of the generation (default 2: the bytes do not depend on it). */
  steps?: number;
  /** Longest wait for one generation. */
  timeoutMs?: number;
}

/** Loads the page in a fresh browser per path, generates once, and sums what the server sent. */
export async function measureBytes(options: MeasureOptions): Promise<Record<string, PathBytes>> {
  const out: Record<string, PathBytes> = {};
  for (const path of options.paths ?? ["wasm", "webgpu"]) {
    const served: ServedResponse[] = [];
    const server = await serveDir({
      root: options.dist,
      compress: options.compress ?? true,
      etag: options.etag ?? true,
      onResponse: (r) => served.push(r),
    });
    const profile = await Deno.makeTempDir({ prefix: "deis-chromium-bytes-" });
    let context: playwright.BrowserContext | undefined;
    try {
      context = await playwright.chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        timeout: 60_000,
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const visit = async () => {
        await page.waitForFunction(() => document.body.dataset.state !== "loading", null, { timeout: 60_000 });
        await page.selectOption("#backend", path);
        await page.fill("#steps", String(options.steps ?? 2));
        await page.fill("#n", "1");
        await page.click("#generate");
        await page.waitForFunction(
          () => ["done", "error"].includes(document.body.dataset.state ?? ""),
          null,
          { timeout: options.timeoutMs ?? 300_000, polling: 200 },
        );
        const state = await page.evaluate(() => document.body.dataset.state);
        if (state !== "done") {
          throw new Error(`${path}: generation failed: ${await page.locator("#error").textContent()}`);
        }
        // let the last bodies finish being counted
        await new Promise((r) => setTimeout(r, 300));
      };
      await page.goto(server.url);
      await visit();
      const backend = (await page.locator("#backend-used").textContent()) ?? "";
      const status = ((await page.locator("#status").textContent()) ?? "").trim();
      const first = served.splice(0);
      await page.reload();
      await visit();
      await context.close();
      context = undefined;
      const again = served.splice(0);
      const requests = first.map((r) => ({
        path: r.path,
        bytes: r.bytes,
        fileBytes: r.fileBytes,
        ...(r.encoding ? { encoding: r.encoding } : {}),
        status: r.status,
      }));
      out[path] = {
        backend,
        status,
        total: requests.reduce((s, r) => s + r.bytes, 0),
        totalUncompressed: requests.reduce((s, r) => s + (r.status === 200 ? r.fileBytes : 0), 0),
        requests,
        repeat: {
          total: again.reduce((s, r) => s + r.bytes, 0),
          requests: again.length,
          notModified: again.filter((r) => r.status === 304).length,
        },
      };
    } finally {
      await context?.close().catch(() => {});
      await server.shutdown();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  }
  return out;
}

function mib(n: number): string {
  return `${(n / 2 ** 20).toFixed(2)} MiB`;
}

/** A results file (labels → runs) as a Markdown table: one column per label, one row per path. */
export function markdownTable(results: Record<string, { paths: Record<string, PathBytes>; note?: string }>): string {
  const labels = Object.keys(results);
  const cell = (n: number) => `${n.toLocaleString("en-US")} B (${mib(n)})`;
  const lines = [
    `| bytes fetched | ${labels.join(" | ")} |`,
    `| --- | ${labels.map(() => "---:").join(" | ")} |`,
  ];
  for (const path of ["wasm", "webgpu"]) {
    lines.push(`| ${path}, first visit | ${labels.map((l) => cell(results[l].paths[path].total)).join(" | ")} |`);
  }
  for (const path of ["wasm", "webgpu"]) {
    lines.push(
      `| ${path}, repeat visit | ${labels.map((l) => cell(results[l].paths[path].repeat.total)).join(" | ")} |`,
    );
  }
  return lines.join("\n") + "\n\n" + labels.map((l) => `- ${l}: ${results[l].note ?? ""}`).join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      dist: { type: "string" },
      model: { type: "string", multiple: true },
      "no-compress": { type: "boolean", default: false },
      "no-etag": { type: "boolean", default: false },
      label: { type: "string", default: "after" },
      out: { type: "string" },
      note: { type: "string" },
      path: { type: "string", multiple: true },
      table: { type: "string" },
    },
  });
  if (values.table) {
    console.log(markdownTable(JSON.parse(await Deno.readTextFile(values.table))));
    Deno.exit(0);
  }
  let dist = values.dist;
  let tmp: string | undefined;
  let models: string[] | undefined = values.model;
  if (!dist) {
    tmp = dist = await Deno.makeTempDir({ prefix: "deis-browser-bytes-" });
    const built = await buildDemo({ out: dist, models: values.model });
    models = built.models.map((m) => m.source);
  }
  try {
    const result = await measureBytes({
      dist,
      compress: !values["no-compress"],
      etag: !values["no-etag"],
      paths: values.path as ("wasm" | "webgpu")[] | undefined,
    });
    for (const [path, r] of Object.entries(result)) {
      console.log(
        `${path} (ran ${r.backend}): ${r.total} B = ${mib(r.total)} (uncompressed ${mib(r.totalUncompressed)}); ` +
          `repeat visit ${r.repeat.total} B (${r.repeat.notModified}/${r.repeat.requests} not modified)`,
      );
      for (const q of r.requests) {
        console.log(`  ${String(q.bytes).padStart(10)}  ${q.path}${q.encoding ? ` (${q.encoding})` : ""}`);
      }
    }
    if (values.out) {
      let all: Record<string, unknown> = {};
      try {
        all = JSON.parse(await Deno.readTextFile(values.out));
      } catch {
        // a new file
      }
      all[values.label!] = {
        models: models ?? "(prebuilt)",
        compressed: !values["no-compress"],
        etag: !values["no-etag"],
        ...(values.note ? { note: values.note } : {}),
        date: new Date().toISOString().slice(0, 10),
        paths: result,
      };
      await Deno.writeTextFile(values.out, JSON.stringify(all, null, 2) + "\n");
      console.log(`wrote ${values.out} [${values.label}]`);
    }
  } finally {
    if (tmp) await Deno.remove(tmp, { recursive: true });
  }
}
