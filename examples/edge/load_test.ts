/**
 * A bounded load test of the edge service on loopback: a seeded mix of valid sampling requests
 * (small n and steps), malformed JSON, oversized bodies, invalid fields and wrong routes, sent by
 * `--concurrency` clients until `--requests` are done (or `--max-seconds` pass). Reports the status
 * counts, latency percentiles and the server's memory (from /healthz) before, during and after;
 * exits 1 on any 5xx, transport error, time-out or status other than the one a request expects.
 *
 *     deno task edge:load                                  # 300 requests, 8 at a time, models/latent-mnist
 *     deno run --allow-run --allow-net=127.0.0.1 examples/edge/load_test.ts \
 *       --model models/gmm-image --requests 40 --concurrency 4
 *     deno run --allow-net=127.0.0.1 examples/edge/load_test.ts --url http://127.0.0.1:8787
 *
 * Without `--url` it starts the server itself (`spawn.ts`: the restricted permissions, a free port
 * on 127.0.0.1) and stops it at the end. Only 127.0.0.1 / localhost targets are accepted.
 *
 * Flags: `--url`, `--model` (default models/latent-mnist, as the server), `--requests` (300), `--concurrency` (8),
 * `--seed` (1), `--timeout-ms` per request (120000), `--max-seconds` for the whole run (600),
 * `--raw-imports` (start the server with --unstable-raw-imports), `--server-arg X` (repeatable),
 * `--json` (print the summary as JSON only).
 *
 * @module
 */

import { mulberry32 } from "../../testing/reference/random.ts";
import { type ServerHandle, startServer } from "./spawn.ts";

/** What a request is meant to test, and the statuses that count as correct for it. */
type Kind = "valid" | "malformed" | "oversized" | "invalid" | "route";

const EXPECTED: Record<Kind, number[]> = {
  valid: [200, 429],
  malformed: [400],
  oversized: [400],
  invalid: [400],
  route: [200, 404, 405],
};

interface Planned {
  kind: Kind;
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | (() => ReadableStream<Uint8Array>);
}

interface Outcome {
  kind: Kind;
  label: string;
  status: number | "timeout" | "error";
  ms: number;
  problem?: string;
}

/** Summary of a run. */
export interface LoadSummary {
  target: string;
  serverCommand?: string;
  model?: string;
  requests: number;
  completed: number;
  concurrency: number;
  seconds: number;
  requestsPerSecond: number;
  statusCounts: Record<string, number>;
  byKind: Record<string, Record<string, number>>;
  latencyMs: Record<
    string,
    { p50: number; p90: number; p99: number; max: number; count: number }
  >;
  fiveXX: number;
  transportErrors: number;
  unexpected: number;
  problems: string[];
  memory: {
    before?: MemorySnapshot;
    after?: MemorySnapshot;
    peakRss?: number;
  };
  serverLogLines?: number;
  serverRequestsSeen?: number;
  stoppedEarly: boolean;
  ok: boolean;
}

interface MemorySnapshot {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

const JSON_HEADERS: Record<string, string> = {
  "content-type": "application/json",
};

/**
 * The request mix: ~60% valid, 10% malformed, 8% oversized, 15% invalid fields, 7% routes. With
 * `classes` (a class-conditional model, from /healthz) about half the valid requests ask for a
 * `digit` (one, or one per sample) and most of those for a `guidance` scale, and the invalid ones
 * include out-of-range digits and scales; without it, `digit` and `guidance` are invalid fields.
 */
export function planRequests(count: number, seed: number, classes?: number): Planned[] {
  const rnd = mulberry32(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  const cond = mulberry32(seed + 0x5eed);
  const pick2 = <T>(a: readonly T[]): T => a[Math.floor(cond() * a.length)];
  const classCases: [string, unknown][] = classes
    ? [
      [`digit ${classes}`, { digit: classes }],
      ["digit -1", { digit: -1 }],
      ["digit 2.5", { digit: 2.5 }],
      ["digit string", { digit: "3" }],
      ["digit null", { digit: null }],
      ["digits for n", { n: 2, digit: [1, 2, 3] }],
      ["digits bad", { n: 2, digit: [1, classes + 50] }],
      ["digits empty", { digit: [] }],
      ["guidance 50", { digit: 1, guidance: 50 }],
      ["guidance -1", { digit: 1, guidance: -1 }],
      ["guidance string", { digit: 1, guidance: "2" }],
      ["guidance alone", { guidance: 2 }],
    ]
    : [
      ["digit unconditional", { digit: 3 }],
      ["guidance unconditional", { guidance: 2 }],
    ];
  const post = (
    kind: Kind,
    label: string,
    body: Planned["body"],
    headers = JSON_HEADERS,
  ) => ({
    kind,
    label,
    method: "POST",
    path: "/v1/samples",
    headers,
    body,
  });
  const out: Planned[] = [];
  for (let i = 0; i < count; i++) {
    const r = rnd();
    if (r < 0.60) {
      const method = pick(
        [
          "tab",
          "tab",
          "rhoab",
          "logrho",
          "ipndm",
          "ddim",
          "ddim-sde",
          "rhork",
          "euler",
        ] as const,
      );
      const req: Record<string, unknown> = {
        n: pick([1, 2, 4]),
        steps: pick([5, 8, 10, 12]),
        seed: Math.floor(rnd() * 1e9),
        format: pick(["png", "json"]),
        grid: pick(["time-quadratic", "time-uniform", "logrho", "karras"]),
      };
      if (method === "ddim-sde") {
        Object.assign(req, { method: "ddim", lambda: pick([0.5, 1]) });
      } else if (method === "rhork") {
        Object.assign(req, { method, rk: pick(["heun2", "midpoint2"]) });
      } else req.method = method;
      if (["tab", "rhoab", "logrho", "ipndm"].includes(method)) {
        req.order = pick([1, 2, 3]);
      }
      // its own generator, so that the rest of the mix is the same with and without classes
      if (classes && cond() < 0.5) {
        const digit = () => Math.floor(cond() * classes);
        req.digit = cond() < 0.5 ? digit() : Array.from({ length: req.n as number }, digit);
        if (cond() < 0.7) req.guidance = pick2([0, 1, 1.5, 2, 4, 7.5, 20]);
      }
      out.push(post("valid", `valid ${req.method}`, JSON.stringify(req)));
    } else if (r < 0.70) {
      const bodies: [string, string | Uint8Array][] = [
        ["truncated", '{"n": 2, "steps": 10'],
        ["trailing", '{"n": 2} xyz'],
        ["text", "hello"],
        ["array", "[1, 2, 3]"],
        ["null", "null"],
        ["empty", ""],
        [
          "bad-utf8",
          new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
        ],
      ];
      const [label, body] = pick(bodies);
      out.push(post("malformed", `malformed ${label}`, body));
    } else if (r < 0.78) {
      const size = 16_385 + Math.floor(rnd() * 48_000);
      const big = JSON.stringify({ n: 1, pad: "x".repeat(size) });
      if (rnd() < 0.3) {
        // no content-length: the server must count while streaming
        const bytes = new TextEncoder().encode(big);
        out.push(
          post("oversized", "oversized chunked", () =>
            new ReadableStream({
              start(c) {
                for (let o = 0; o < bytes.length; o += 4096) {
                  c.enqueue(bytes.slice(o, o + 4096));
                }
                c.close();
              },
            })),
        );
      } else out.push(post("oversized", "oversized", big));
    } else if (r < 0.93) {
      const cases: [string, unknown, Record<string, string>?][] = [
        ["steps 0", { steps: 0 }],
        ["steps 5000", { steps: 5000 }],
        ["n 100", { n: 100 }],
        ["n 0", { n: 0 }],
        ["order 9", { order: 9 }],
        ["method foo", { method: "foo" }],
        ["grid bar", { grid: "bar" }],
        ["lambda -1", { method: "ddim", lambda: -1 }],
        ["lambda tab", { method: "tab", lambda: 1 }],
        ["seed -1", { seed: -1 }],
        ["format gif", { format: "gif" }],
        ["unknown key", { size: 3 }],
        ["kappa grid", { grid: "time-uniform", kappa: 2 }],
        ["rhork 400", { method: "rhork", rk: "rk4", steps: 400 }],
        ["steps string", { steps: "10" }],
        ["text/plain", { n: 1 }, { "content-type": "text/plain" }],
      ];
      // the class cases come up about as often as each older field's; `rnd` is drawn from either
      // way, so that the kinds of the later requests do not depend on the classes
      const older = pick(cases);
      const [label, body, headers] = cond() < 0.25 ? pick2(classCases) : older;
      out.push(
        post(
          "invalid",
          `invalid ${label}`,
          JSON.stringify(body),
          headers ?? JSON_HEADERS,
        ),
      );
    } else {
      const routes: [string, string, string][] = [
        ["GET /v1/samples", "GET", "/v1/samples"],
        ["GET /nope", "GET", "/nope"],
        ["DELETE /healthz", "DELETE", "/healthz"],
        ["GET /healthz", "GET", "/healthz"],
        ["PUT /v1/samples", "PUT", "/v1/samples"],
      ];
      const [label, method, path] = pick(routes);
      out.push({ kind: "route", label, method, path, headers: {} });
    }
  }
  return out;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(
    sorted.length - 1,
    Math.max(0, Math.ceil((p / 100) * sorted.length) - 1),
  );
  return Math.round(sorted[i] * 10) / 10;
}

async function checkBody(
  p: Planned,
  res: Response,
): Promise<string | undefined> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  const type = res.headers.get("content-type") ?? "";
  if (res.status === 200 && p.kind === "valid") {
    if (type === "image/png") {
      const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
      if (!sig.every((b, i) => bytes[i] === b)) {
        return "200 image/png without a PNG signature";
      }
      return undefined;
    }
    const j = JSON.parse(new TextDecoder().decode(bytes));
    const size = (j.shape as number[]).reduce((a, b) => a * b, 1);
    if (j.data.length !== size) {
      return `JSON data has ${j.data.length} values for [${j.shape}]`;
    }
    if (!j.data.every(Number.isFinite)) {
      return "JSON data has non-finite values";
    }
    if (j.decoded !== undefined) {
      const size = (j.decodedShape as number[]).reduce((a, b) => a * b, 1);
      if (j.decoded.length !== size || !j.decoded.every(Number.isFinite)) {
        return `JSON decoded has ${j.decoded.length} values for [${j.decodedShape}] or non-finite ones`;
      }
    }
    const sent = JSON.parse(typeof p.body === "string" ? p.body : "{}");
    if (sent.digit !== undefined && JSON.stringify(j.digit) !== JSON.stringify(sent.digit)) {
      return `JSON digit ${JSON.stringify(j.digit)} for ${JSON.stringify(sent.digit)}`;
    }
    return undefined;
  }
  if (res.status >= 400 && res.status < 500) {
    try {
      const j = JSON.parse(new TextDecoder().decode(bytes));
      if (typeof j.error !== "string" || typeof j.field !== "string") {
        return `${res.status} without {error, field}`;
      }
      if (res.status === 429 && !res.headers.get("retry-after")) {
        return "429 without Retry-After";
      }
    } catch {
      return `${res.status} with a non-JSON body`;
    }
  }
  return undefined;
}

async function memory(url: string): Promise<MemorySnapshot | undefined> {
  try {
    const res = await fetch(`${url}/healthz`, {
      signal: AbortSignal.timeout(30_000),
    });
    const j = await res.json();
    const m = j.memory;
    return {
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
    };
  } catch {
    return undefined;
  }
}

/** The number of classes of the served model (/healthz `model.classes`), if it is class-conditional. */
export async function modelClasses(url: string): Promise<number | undefined> {
  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(30_000) });
  const j = await res.json();
  return j.model?.classes?.classes ?? undefined;
}

async function requestCount(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${url}/healthz`, {
      signal: AbortSignal.timeout(30_000),
    });
    return (await res.json()).requests;
  } catch {
    return undefined;
  }
}

/** Options of {@link runLoadTest}. */
export interface LoadOptions {
  url: string;
  requests: number;
  concurrency: number;
  seed: number;
  timeoutMs: number;
  maxSeconds: number;
}

/** Runs the load against a server at `url` (127.0.0.1 only). */
export async function runLoadTest(o: LoadOptions): Promise<LoadSummary> {
  const host = new URL(o.url).hostname;
  if (!["127.0.0.1", "localhost", "[::1]"].includes(host)) {
    throw new Error(`refusing to load ${host}: loopback targets only`);
  }
  const planned = planRequests(o.requests, o.seed, await modelClasses(o.url));
  // warm-up (not counted): the first PNG and JSON responses compile their code paths
  for (const format of ["png", "json"]) {
    const r = await fetch(`${o.url}/v1/samples`, {
      method: "POST",
      headers: JSON_HEADERS,
      body: JSON.stringify({ n: 1, steps: 5, seed: 0, format }),
      signal: AbortSignal.timeout(o.timeoutMs),
    });
    await r.arrayBuffer();
  }
  const before = await memory(o.url);
  let peakRss = before?.rss ?? 0;
  const stop = new AbortController();
  const overall = setTimeout(
    () => stop.abort("max-seconds reached"),
    o.maxSeconds * 1000,
  );
  let polling = true;
  const poller = (async () => {
    while (polling) {
      await new Promise((r) => setTimeout(r, 1000));
      if (!polling) break;
      const m = await memory(o.url);
      if (m) peakRss = Math.max(peakRss, m.rss);
    }
  })();

  const outcomes: Outcome[] = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (!stop.signal.aborted) {
      const i = next++;
      if (i >= planned.length) return;
      const p = planned[i];
      const start = performance.now();
      const signal = AbortSignal.any([
        stop.signal,
        AbortSignal.timeout(o.timeoutMs),
      ]);
      try {
        const body = typeof p.body === "function" ? p.body() : p.body;
        const res = await fetch(`${o.url}${p.path}`, {
          method: p.method,
          headers: p.headers,
          body: body as BodyInit | undefined,
          signal,
          ...(typeof p.body === "function" ? { duplex: "half" } : {}),
        } as RequestInit);
        const problem = await checkBody(p, res);
        const ms = performance.now() - start;
        const unexpected = !EXPECTED[p.kind].includes(res.status)
          ? `${p.label}: status ${res.status}, expected ${EXPECTED[p.kind].join("/")}`
          : undefined;
        outcomes.push({
          kind: p.kind,
          label: p.label,
          status: res.status,
          ms,
          problem: unexpected ??
            (problem ? `${p.label}: ${problem}` : undefined),
        });
      } catch (e) {
        const ms = performance.now() - start;
        if (stop.signal.aborted) return;
        const timeout = (e as Error).name === "TimeoutError";
        outcomes.push({
          kind: p.kind,
          label: p.label,
          status: timeout ? "timeout" : "error",
          ms,
          problem: `${p.label}: ${timeout ? "timed out" : (e as Error).message}`,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  clearTimeout(overall);
  polling = false;
  await poller;
  const after = await memory(o.url);
  if (after) peakRss = Math.max(peakRss, after.rss);

  const statusCounts: Record<string, number> = {};
  const byKind: Record<string, Record<string, number>> = {};
  for (const r of outcomes) {
    statusCounts[r.status] = (statusCounts[r.status] ?? 0) + 1;
    byKind[r.kind] ??= {};
    byKind[r.kind][r.status] = (byKind[r.kind][r.status] ?? 0) + 1;
  }
  const latencyMs: LoadSummary["latencyMs"] = {};
  const groups: Record<string, number[]> = { all: [] };
  for (const r of outcomes) {
    groups.all.push(r.ms);
    const g = r.status === 200 && r.kind === "valid" ? "valid 200" : `${r.kind}`;
    (groups[g] ??= []).push(r.ms);
  }
  for (const [g, arr] of Object.entries(groups)) {
    arr.sort((a, b) => a - b);
    latencyMs[g] = {
      p50: percentile(arr, 50),
      p90: percentile(arr, 90),
      p99: percentile(arr, 99),
      max: percentile(arr, 100),
      count: arr.length,
    };
  }
  const fiveXX = outcomes.filter((r) => typeof r.status === "number" && r.status >= 500)
    .length;
  const transportErrors = outcomes.filter((r) => typeof r.status !== "number").length;
  const problems = outcomes.filter((r) => r.problem).map((r) => r.problem!);
  const stoppedEarly = stop.signal.aborted;
  return {
    target: o.url,
    requests: o.requests,
    completed: outcomes.length,
    concurrency: o.concurrency,
    seconds: Math.round(seconds * 100) / 100,
    requestsPerSecond: Math.round((outcomes.length / seconds) * 10) / 10,
    statusCounts,
    byKind,
    latencyMs,
    fiveXX,
    transportErrors,
    unexpected: problems.length,
    problems: problems.slice(0, 20),
    memory: { before, after, peakRss },
    stoppedEarly,
    ok: fiveXX === 0 && transportErrors === 0 && problems.length === 0 &&
      !stoppedEarly &&
      outcomes.length === o.requests,
  };
}

const MB = (b?: number) => b === undefined ? "?" : `${(b / 1048576).toFixed(1)} MB`;

/** The human-readable report. */
export function formatSummary(s: LoadSummary): string {
  const lines: string[] = [];
  lines.push(
    `target        ${s.target}${s.model ? ` (model ${s.model})` : ""}`,
  );
  if (s.serverCommand) lines.push(`server        ${s.serverCommand}`);
  lines.push(
    `requests      ${s.completed}/${s.requests} at concurrency ${s.concurrency} in ${s.seconds} s ` +
      `(${s.requestsPerSecond} req/s)${s.stoppedEarly ? " — STOPPED EARLY (max-seconds)" : ""}`,
  );
  lines.push(
    `statuses      ${
      Object.entries(s.statusCounts).sort().map(([k, v]) => `${k}: ${v}`).join(
        ", ",
      )
    }`,
  );
  for (const [k, v] of Object.entries(s.byKind)) {
    lines.push(
      `  ${k.padEnd(11)} ${Object.entries(v).sort().map(([c, n]) => `${c}: ${n}`).join(", ")}`,
    );
  }
  lines.push(
    "latency (ms)  group          count    p50     p90     p99     max",
  );
  for (const [g, l] of Object.entries(s.latencyMs)) {
    lines.push(
      `              ${g.padEnd(14)} ${String(l.count).padStart(5)} ${
        [l.p50, l.p90, l.p99, l.max].map((x) => String(x).padStart(7)).join(" ")
      }`,
    );
  }
  const m = s.memory;
  lines.push(
    `server RSS    before ${MB(m.before?.rss)}, after ${MB(m.after?.rss)}, peak ${MB(m.peakRss)}` +
      ` (heap used ${MB(m.before?.heapUsed)} → ${MB(m.after?.heapUsed)}, external ${MB(m.before?.external)} → ${
        MB(m.after?.external)
      })`,
  );
  if (s.serverLogLines !== undefined) {
    lines.push(
      `server log    ${s.serverLogLines} request lines for ${s.serverRequestsSeen} requests served`,
    );
  }
  lines.push(
    `5xx           ${s.fiveXX}; transport errors ${s.transportErrors}; unexpected ${s.unexpected}`,
  );
  for (const p of s.problems) lines.push(`  ! ${p}`);
  lines.push(s.ok ? "RESULT        ok (zero 5xx)" : "RESULT        FAILED");
  return lines.join("\n");
}

/** A request line of the server log: ISO time, address, method, path, status. */
export const LOG_LINE = /^\d{4}-\d\d-\d\dT\S+Z \S+ ([A-Z]+|-) \S+ (\d{3}|---) /;

function parseArgs(args: string[]) {
  const o = {
    url: undefined as string | undefined,
    model: "models/latent-mnist",
    requests: 300,
    concurrency: 8,
    seed: 1,
    timeoutMs: 120_000,
    maxSeconds: 600,
    rawImports: false,
    serverArgs: [] as string[],
    json: false,
  };
  const num = (flag: string, v: string | undefined, lo: number, hi: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi) {
      console.error(`${flag} must be an integer in [${lo}, ${hi}]`);
      Deno.exit(2);
    }
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (a) {
      case "--url":
        o.url = args[++i]?.replace(/\/$/, "");
        break;
      case "--model":
        o.model = args[++i];
        break;
      case "--requests":
        o.requests = num(a, args[++i], 1, 100_000);
        break;
      case "--concurrency":
        o.concurrency = num(a, args[++i], 1, 256);
        break;
      case "--seed":
        o.seed = num(a, args[++i], 0, 2 ** 31);
        break;
      case "--timeout-ms":
        o.timeoutMs = num(a, args[++i], 100, 3_600_000);
        break;
      case "--max-seconds":
        o.maxSeconds = num(a, args[++i], 1, 86_400);
        break;
      case "--raw-imports":
        o.rawImports = true;
        break;
      case "--server-arg":
        o.serverArgs.push(args[++i]);
        break;
      case "--json":
        o.json = true;
        break;
      default:
        console.error(`unknown flag ${a}`);
        Deno.exit(2);
    }
  }
  return o;
}

async function main(): Promise<number> {
  const o = parseArgs(Deno.args);
  let server: ServerHandle | undefined;
  let summary: LoadSummary;
  try {
    if (!o.url) {
      server = await startServer({
        model: o.model,
        rawImports: o.rawImports,
        serverArgs: o.serverArgs,
      });
    }
    const url = o.url ?? server!.url;
    summary = await runLoadTest({ ...o, url });
    if (server) {
      summary.serverCommand = server.command.join(" ");
      summary.model = o.model;
      summary.serverRequestsSeen = await requestCount(url);
      // the /healthz that asked for the count is logged after it answers: wait for its line
      const want = (summary.serverRequestsSeen ?? 0) + 1;
      const until = Date.now() + 2000;
      while (
        server.stderr.filter((l) => LOG_LINE.test(l)).length < want &&
        Date.now() < until
      ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      summary.serverLogLines = server.stderr.filter((l) => LOG_LINE.test(l)).length - 1;
      if (
        server.process && summary.serverLogLines !== summary.serverRequestsSeen
      ) {
        summary.problems.push(
          `server logged ${summary.serverLogLines} request lines for ${summary.serverRequestsSeen} requests`,
        );
        summary.ok = false;
      }
    }
  } finally {
    if (server) {
      const status = await server.stop();
      if (!o.json) console.error(`server stopped (exit ${status.code})`);
    }
  }
  console.log(o.json ? JSON.stringify(summary) : formatSummary(summary));
  return summary.ok ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
