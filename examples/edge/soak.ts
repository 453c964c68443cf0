/**
 * The soak test of the edge service (loopback only, bounded in count and time): the server runs
 * under a low open-file limit (`ulimit -n`, default 256) and receives a seeded mix of at least
 * `--requests` requests from `--concurrency` clients: the load test's mix (valid, malformed,
 * oversized, invalid fields, wrong routes), plus requests aborted mid-body and bursts of idle
 * connections that send half a request head and wait (the server closes them with 408). It
 * records the status counts per kind, transport errors, whether the server stayed up, and its
 * memory (`/healthz`) at the start, every `--memory-every` requests, the middle and the end.
 *
 *     deno task edge:soak                          # 10 000 requests, writes examples/edge/results/soak.{json,md}
 *     deno task edge:soak --requests 600 --no-write
 *
 * Passes (exit 0) when: no 5xx, no transport error on a request that expected an answer, the
 * server still answers and exits on SIGTERM, and the end RSS is within `--rss-margin` (default
 * 15%) of the start RSS.
 *
 * Flags: `--model` (models/gmm-image), `--requests` (10000, after `--warmup` 3000 more of the same
 * mix, which come first; memory "start" is read after them), `--concurrency` (8), `--seed` (13),
 * `--fd-limit` (256), `--max-connections` (160), `--idle-every` (400), `--idle-burst` (40),
 * `--abort-share` (0.05), `--memory-every` (500), `--max-seconds` (900), `--rss-margin` (0.15),
 * `--out-dir` (examples/edge/results), `--no-write`, `--json`.
 *
 * @module
 */

import { mulberry32 as rng } from "../../testing/reference/random.ts";
import { parseArgs } from "node:util";
import { modelClasses, planRequests } from "./load_test.ts";
import { startServer } from "./spawn.ts";

interface MemoryPoint {
  request: number;
  rss: number;
  heapUsed: number;
  external: number;
}

/** The soak's result (written as soak.json). */
export interface SoakResult {
  date: string;
  command: string;
  server: string[];
  model: string;
  fdLimit: number;
  maxConnections: number;
  requests: number;
  warmup: number;
  completed: number;
  seconds: number;
  byKind: Record<string, Record<string, number>>;
  statusCounts: Record<string, number>;
  fiveXX: number;
  transportErrors: number;
  transportErrorSamples: string[];
  idleConnections: number;
  idleClosedWith: Record<string, number>;
  aborted: number;
  serverAliveAtEnd: boolean;
  serverExit: { code: number; signal: string | null } | null;
  serverStatusCounts: Record<string, number>;
  serverHttp: unknown;
  /** Readings: after 20 warm-up samples (initial), after the warm-up requests (start), mid-run, end. */
  memory: { initial: MemoryPoint; start: MemoryPoint; middle: MemoryPoint; end: MemoryPoint; series: MemoryPoint[] };
  rssMargin: number;
  rssChange: number;
  ok: boolean;
  failures: string[];
}

const enc = new TextEncoder();

/** Reads a connection until the peer closes it or `ms` pass (then closes it); returns what came. */
export async function readAll(conn: Deno.Conn, ms: number): Promise<string> {
  const buf = new Uint8Array(8192);
  // One streaming decoder, so that a character split across two reads stays whole.
  const decoder = new TextDecoder();
  let text = "";
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch {
      // closed
    }
  }, ms);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += decoder.decode(buf.subarray(0, n), { stream: true });
    }
  } catch {
    // closed or reset
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed
    }
  }
  return text + decoder.decode();
}

/** Runs the soak; never targets anything but 127.0.0.1. */
export async function runSoak(o: {
  model: string;
  requests: number;
  warmup: number;
  concurrency: number;
  seed: number;
  fdLimit: number;
  maxConnections: number;
  idleEvery: number;
  idleBurst: number;
  abortShare: number;
  memoryEvery: number;
  maxSeconds: number;
  rssMargin: number;
  log?: (s: string) => void;
}): Promise<SoakResult> {
  const log = o.log ?? (() => {});
  const server = await startServer({
    model: o.model,
    fdLimit: o.fdLimit,
    serverArgs: [
      "--max-connections",
      String(o.maxConnections),
      "--header-timeout-ms",
      "3000",
      "--body-timeout-ms",
      "3000",
      "--queue",
      "16",
    ],
  });
  const url = server.url;
  const port = Number(new URL(url).port);
  if (new URL(url).hostname !== "127.0.0.1") throw new Error("loopback only");
  const t0 = performance.now();
  const deadline = t0 + o.maxSeconds * 1000;
  const random = rng(o.seed);
  // the warm-up requests come first (same mix); memory "start" is read after them
  const planned = planRequests(o.warmup + o.requests, o.seed, await modelClasses(url));
  const byKind: Record<string, Record<string, number>> = {};
  const count = (kind: string, status: string) => {
    byKind[kind] ??= {};
    byKind[kind][status] = (byKind[kind][status] ?? 0) + 1;
  };
  const transportErrorSamples: string[] = [];
  let transportErrors = 0;
  let completed = 0;
  let aborted = 0;
  let idleConnections = 0;
  const idleClosedWith: Record<string, number> = {};
  const idlePending: Promise<void>[] = [];
  const series: MemoryPoint[] = [];

  const health = async () => {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(30_000) });
    return await res.json();
  };
  const memory = async (request: number) => {
    const h = await health();
    const p = { request, rss: h.memory.rss, heapUsed: h.memory.heapUsed, external: h.memory.external };
    series.push(p);
    return p;
  };
  // warm-up, then the start reading
  for (let i = 0; i < 20; i++) {
    const r = await fetch(`${url}/v1/samples`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ n: 2, steps: 8, format: i % 2 ? "png" : "json" }),
    });
    await r.body?.cancel();
  }
  const initial = await memory(0);
  let start: MemoryPoint | undefined;
  let middle: MemoryPoint | undefined;

  const idleBurst = () => {
    for (let i = 0; i < o.idleBurst; i++) {
      idleConnections++;
      idlePending.push((async () => {
        try {
          const c = await Deno.connect({ hostname: "127.0.0.1", port });
          await c.write(enc.encode("POST /v1/samples HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"));
          const text = await readAll(c, 15_000);
          const s = text.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? "closed";
          idleClosedWith[s] = (idleClosedWith[s] ?? 0) + 1;
        } catch (e) {
          idleClosedWith[`error ${(e as Error).name}`] = (idleClosedWith[`error ${(e as Error).name}`] ?? 0) + 1;
        }
      })());
    }
  };

  const abortMidBody = async () => {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    await c.write(
      enc.encode(
        "POST /v1/samples HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n" +
          '{"n": 2, "steps": 8, "pad": "',
      ),
    );
    await new Promise((r) => setTimeout(r, 5));
    c.close();
    aborted++;
    count("aborted", "closed by client");
  };

  let next = 0;
  const worker = async () => {
    while (next < planned.length && performance.now() < deadline) {
      const i = next++;
      if (i > 0 && i % o.idleEvery === 0) idleBurst();
      if (i === o.warmup) start = await memory(i);
      else if (i > 0 && i % o.memoryEvery === 0) {
        const p = await memory(i);
        if (!middle && i >= o.warmup + o.requests / 2) middle = p;
      }
      if (random() < o.abortShare) {
        await abortMidBody().catch((e) => {
          transportErrors++;
          if (transportErrorSamples.length < 10) transportErrorSamples.push(`abort: ${e}`);
        });
        completed++;
        continue;
      }
      const p = planned[i];
      try {
        const res = await fetch(`${url}${p.path}`, {
          method: p.method,
          headers: p.headers,
          body: (typeof p.body === "function" ? p.body() : p.body) as BodyInit | undefined,
          signal: AbortSignal.timeout(60_000),
          ...(typeof p.body === "function" ? { duplex: "half" } : {}),
        } as RequestInit);
        await res.arrayBuffer();
        count(p.kind, String(res.status));
      } catch (e) {
        transportErrors++;
        count(p.kind, "transport error");
        if (transportErrorSamples.length < 10) transportErrorSamples.push(`${p.label}: ${e}`);
      }
      completed++;
      if (completed % 1000 === 0) log(`${completed} requests, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  await Promise.all(idlePending);
  const end = await memory(completed);
  start ??= initial;
  middle ??= series[Math.floor(series.length / 2)];
  const h = await health();
  const serverAlive = h.status === "ok";
  const st = await server.stop();
  const statusCounts: Record<string, number> = {};
  for (const k of Object.values(byKind)) {
    for (const [s, n] of Object.entries(k)) statusCounts[s] = (statusCounts[s] ?? 0) + n;
  }
  const fiveXX = Object.entries(statusCounts).filter(([s]) => /^5\d\d$/.test(s)).reduce((a, [, n]) => a + n, 0) +
    Object.entries(h.byStatus as Record<string, number>).filter(([s]) => /^5\d\d$/.test(s)).reduce(
      (a, [, n]) => a + n,
      0,
    );
  const rssChange = (end.rss - start.rss) / start.rss;
  const failures: string[] = [];
  if (fiveXX > 0) failures.push(`${fiveXX} × 5xx`);
  if (transportErrors > 0) failures.push(`${transportErrors} transport errors`);
  if (!serverAlive) failures.push("the server stopped answering");
  if (st.signal !== null && st.signal !== "SIGTERM") failures.push(`server exit ${st.code} ${st.signal}`);
  if (Math.abs(rssChange) > o.rssMargin) {
    failures.push(`RSS changed ${(rssChange * 100).toFixed(1)}% (margin ${(o.rssMargin * 100).toFixed(0)}%)`);
  }
  if (completed < o.warmup + o.requests) {
    failures.push(`only ${completed} of ${o.warmup + o.requests} requests in ${o.maxSeconds} s`);
  }
  return {
    date: new Date().toISOString(),
    command: "",
    server: server.command,
    model: o.model,
    fdLimit: o.fdLimit,
    maxConnections: o.maxConnections,
    requests: o.requests,
    warmup: o.warmup,
    completed,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    byKind,
    statusCounts,
    fiveXX,
    transportErrors,
    transportErrorSamples,
    idleConnections,
    idleClosedWith,
    aborted,
    serverAliveAtEnd: serverAlive,
    serverExit: { code: st.code, signal: st.signal },
    serverStatusCounts: h.byStatus,
    serverHttp: h.http,
    memory: { initial, start, middle: middle!, end, series },
    rssMargin: o.rssMargin,
    rssChange: Math.round(rssChange * 1e4) / 1e4,
    ok: failures.length === 0,
    failures,
  };
}

const MB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;

/** The markdown summary. */
export function soakMarkdown(r: SoakResult): string {
  const kinds = Object.entries(r.byKind).map(([k, v]) =>
    `| ${k} | ${Object.entries(v).map(([s, n]) => `${s}: ${n}`).join(", ")} |`
  );
  return [
    "# Edge service soak test",
    "",
    `Measured with \`${r.command}\` on ${
      r.date.slice(0, 10)
    } (model \`${r.model}\`, server under \`ulimit -n ${r.fdLimit}\`, ` +
    `\`--max-connections ${r.maxConnections}\`, header/body time-outs 3 s). Raw numbers: \`soak.json\` beside this file.`,
    "",
    `- **Result: ${r.ok ? "ok" : "FAILED: " + r.failures.join("; ")}**`,
    `- ${r.completed} requests (${r.warmup} warm-up, then ${r.requests} measured) in ${r.seconds} s, plus ${r.idleConnections} idle connections (half a request head each; ` +
    `closed by the server with ${Object.entries(r.idleClosedWith).map(([s, n]) => `${s}: ${n}`).join(", ")})`,
    `- 5xx: ${r.fiveXX}; transport errors: ${r.transportErrors}; requests aborted mid-body by the client: ${r.aborted}`,
    `- server alive at the end: ${r.serverAliveAtEnd}; exit on SIGTERM: code ${r.serverExit?.code}`,
    `- server RSS: ${MB(r.memory.initial.rss)} after model warm-up, start (after the warm-up requests) ${
      MB(r.memory.start.rss)
    }, middle ${MB(r.memory.middle.rss)}, end ${MB(r.memory.end.rss)} ` +
    `(change ${(r.rssChange * 100).toFixed(1)}%, margin ±${(r.rssMargin * 100).toFixed(0)}%); heap used ` +
    `${MB(r.memory.start.heapUsed)} → ${MB(r.memory.end.heapUsed)}; peak of ${r.memory.series.length} readings ` +
    `${MB(Math.max(...r.memory.series.map((p) => p.rss)))}`,
    `- the server's own counts by status: ${
      Object.entries(r.serverStatusCounts).map(([s, n]) => `${s}: ${n}`).join(", ")
    }`,
    "",
    "| kind | statuses seen by the clients |",
    "| ---- | ---------------------------- |",
    ...kinds,
    "",
  ].join("\n");
}

async function main(): Promise<number> {
  const { values: v } = parseArgs({
    args: Deno.args,
    options: {
      model: { type: "string", default: "models/gmm-image" },
      requests: { type: "string", default: "10000" },
      warmup: { type: "string", default: "3000" },
      concurrency: { type: "string", default: "8" },
      seed: { type: "string", default: "13" },
      "fd-limit": { type: "string", default: "256" },
      "max-connections": { type: "string", default: "160" },
      "idle-every": { type: "string", default: "400" },
      "idle-burst": { type: "string", default: "40" },
      "abort-share": { type: "string", default: "0.05" },
      "memory-every": { type: "string", default: "500" },
      "max-seconds": { type: "string", default: "900" },
      "rss-margin": { type: "string", default: "0.15" },
      "out-dir": { type: "string", default: "examples/edge/results" },
      "no-write": { type: "boolean" },
      json: { type: "boolean" },
    },
    strict: true,
  });
  const num = (k: string, lo: number, hi: number) => {
    const x = Number(v[k as keyof typeof v]);
    if (!(x >= lo && x <= hi)) {
      console.error(`error: --${k}: must be a number in [${lo}, ${hi}]`);
      Deno.exit(2);
    }
    return x;
  };
  const r = await runSoak({
    model: v.model!,
    requests: num("requests", 1, 100_000),
    warmup: num("warmup", 0, 100_000),
    concurrency: num("concurrency", 1, 64),
    seed: num("seed", 0, 2 ** 31),
    fdLimit: num("fd-limit", 64, 65_536),
    maxConnections: num("max-connections", 1, 65_536),
    idleEvery: num("idle-every", 1, 1e9),
    idleBurst: num("idle-burst", 0, 1000),
    abortShare: num("abort-share", 0, 1),
    memoryEvery: num("memory-every", 10, 1e9),
    maxSeconds: num("max-seconds", 1, 3600),
    rssMargin: num("rss-margin", 0, 10),
    log: (s) => console.error(s),
  });
  r.command = `deno task edge:soak${Deno.args.length ? " " + Deno.args.join(" ") : ""}`;
  if (!v["no-write"]) {
    await Deno.mkdir(v["out-dir"]!, { recursive: true });
    await Deno.writeTextFile(`${v["out-dir"]}/soak.json`, JSON.stringify(r, null, 2) + "\n");
    await Deno.writeTextFile(`${v["out-dir"]}/soak.md`, soakMarkdown(r));
  }
  console.log(v.json ? JSON.stringify(r) : soakMarkdown(r));
  return r.ok ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
