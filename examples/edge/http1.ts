/**
 * A small HTTP/1.1 server on `Deno.listen`, in front of a `(Request) → Response` handler, that
 * bounds what one client can hold: `Deno.serve` (Deno 2.9) has no header or body read timeout and
 * no connection limit, and it ends the process when `accept` fails with "Too many open files".
 *
 * - at most `maxConnections` open connections; one more is answered `503` + `Retry-After` and
 *   closed at once (never queued);
 * - the request head (line + headers, at most `maxHeaderBytes`) must arrive within
 *   `headerTimeoutMs` of the connection opening or of the previous response (`408`, closed);
 * - the body must arrive within `bodyTimeoutMs` of the head (the handler sees its body stream
 *   fail; the service answers `408`), `content-length` or `chunked`, never both;
 * - a response must be written within `writeTimeoutMs` (else the connection is dropped);
 * - `accept` failing for lack of file descriptors (EMFILE/ENFILE) is counted and retried after a
 *   pause, while the timeouts above free descriptors; it never ends the server;
 * - the request's `signal` aborts when the client closes its side while the handler runs.
 *
 * Keep-alive is supported (requests on one connection are handled one after another); HTTP/1.0
 * and `connection: close` close after the response. Responses are buffered (the service's are
 * small) and sent with `content-length`.
 *
 * @module
 */

/** Limits of {@link serveHttp1}. */
export interface Http1Options {
  hostname: string;
  port: number;
  /** Open connections at most (default 256); keep it below the process's open-file limit. */
  maxConnections?: number;
  /** Time for a request head to arrive (default 10 000 ms). */
  headerTimeoutMs?: number;
  /** Time for a request body to arrive after its head (default 10 000 ms). */
  bodyTimeoutMs?: number;
  /** Time to write a response (default 30 000 ms). */
  writeTimeoutMs?: number;
  /** Largest request head in bytes (default 16 384); larger: 431. */
  maxHeaderBytes?: number;
  /** Called once listening. */
  onListen?: (addr: Deno.NetAddr) => void;
  /**
   * A response the layer itself gave (framing errors, time-outs, refusals), for the log and the
   * counters: `status` 0 means the connection was dropped without a response.
   */
  onEvent?: (e: Http1Event) => void;
}

/** A response made (or a connection dropped) by the HTTP layer, not the handler. */
export interface Http1Event {
  status: number;
  method: string;
  path: string;
  remote: string;
  ms: number;
  note: string;
}

/** Counters of the layer. */
export interface Http1Stats {
  open: number;
  maxConnections: number;
  accepted: number;
  refused: number;
  headerTimeouts: number;
  bodyTimeouts: number;
  badRequests: number;
  acceptErrors: number;
  fdExhausted: number;
}

/** The running server. */
export interface Http1Server {
  addr: Deno.NetAddr;
  /** Resolves once stopped. */
  finished: Promise<void>;
  /** Stops accepting, closes idle connections, waits for the requests in flight (at most `graceMs`). */
  shutdown(graceMs?: number): Promise<void>;
  stats(): Http1Stats;
}

/** Why a body stream failed: the client was too slow. */
export class BodyTimeoutError extends Error {
  constructor(ms: number) {
    super(`the request body did not arrive within ${ms} ms`);
    this.name = "BodyTimeoutError";
  }
}

/** Why a body stream failed: the client closed the connection (or sent a malformed chunk). */
export class ClientGoneError extends Error {
  constructor(message = "the client closed the connection before the body ended") {
    super(message);
    this.name = "ClientGoneError";
  }
}

/** Why a body stream failed: its chunked framing is malformed (a 400). */
export class BadBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadBodyError";
  }
}

class TimedOut extends Error {}
class Framing extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const enc = new TextEncoder();
const STATUS_TEXT: Record<number, string> = {
  100: "Continue",
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  499: "Client Closed Request",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

function isFdExhaustion(e: unknown): boolean {
  const m = String((e as Error)?.message ?? e);
  return /too many open files|os error 24|os error 23/i.test(m);
}

/** A connection with a read buffer; at most one read in flight. */
class Conn {
  buf = new Uint8Array(0);
  eof = false;
  closed = false;
  #pending: Promise<void> | undefined;
  constructor(readonly conn: Deno.Conn) {}

  /** Reads more bytes into `buf` (joins the read in flight). */
  fill(): Promise<void> {
    this.#pending ??= (async () => {
      const chunk = new Uint8Array(16_384);
      let n: number | null;
      try {
        n = await this.conn.read(chunk);
      } catch {
        n = null;
      }
      if (n === null) this.eof = true;
      else if (this.buf.length === 0) this.buf = chunk.subarray(0, n); // the common case: no copy
      else {
        const next = new Uint8Array(this.buf.length + n);
        next.set(this.buf);
        next.set(chunk.subarray(0, n), this.buf.length);
        this.buf = next;
      }
    })().finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  take(n: number): Uint8Array {
    const out = this.buf.slice(0, n);
    this.buf = n >= this.buf.length ? new Uint8Array(0) : this.buf.subarray(n);
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

function withTimeout<T>(p: Promise<T>, deadline: number): Promise<T> {
  const left = deadline - performance.now();
  if (left <= 0) return Promise.reject(new TimedOut());
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new TimedOut()), left);
    }),
  ]).finally(() => clearTimeout(timer));
}

function indexOfCrlfCrlf(b: Uint8Array, from: number): number {
  for (let i = Math.max(0, from); i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

function indexOfCrlf(b: Uint8Array): number {
  for (let i = 0; i + 1 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10) return i;
  return -1;
}

interface Head {
  method: string;
  target: string;
  version: "HTTP/1.1" | "HTTP/1.0";
  headers: [string, string][];
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function parseHead(bytes: Uint8Array): Head {
  let text: string;
  try {
    text = new TextDecoder("latin1").decode(bytes);
  } catch {
    throw new Framing(400, "unreadable request head");
  }
  const lines = text.split("\r\n");
  const m = lines[0].match(/^([^ ]+) ([^ ]+) (HTTP\/1\.[01])$/);
  if (!m || !TOKEN.test(m[1])) throw new Framing(400, "malformed request line");
  if (!m[2].startsWith("/")) throw new Framing(400, "request target must be a path");
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    if (i <= 0) throw new Framing(400, "malformed header line");
    const name = line.slice(0, i);
    if (!TOKEN.test(name)) throw new Framing(400, "malformed header name");
    const value = line.slice(i + 1).trim();
    // no control characters other than tab
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) throw new Framing(400, "control character in a header value");
    headers.push([name.toLowerCase(), value]);
  }
  return { method: m[1], target: m[2], version: m[3] as Head["version"], headers };
}

function headerOf(h: Head, name: string): string[] {
  return h.headers.filter(([k]) => k === name).map(([, v]) => v);
}

/** Starts the server. */
export function serveHttp1(
  handler: (req: Request, info: { remoteAddr: Deno.Addr }) => Promise<Response>,
  options: Http1Options,
): Http1Server {
  const maxConnections = options.maxConnections ?? 256;
  const headerTimeoutMs = options.headerTimeoutMs ?? 10_000;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;
  const writeTimeoutMs = options.writeTimeoutMs ?? 30_000;
  const maxHeaderBytes = options.maxHeaderBytes ?? 16_384;
  const listener = Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
  const addr = listener.addr as Deno.NetAddr;
  const base = `http://${addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname}:${addr.port}`;
  const stats: Http1Stats = {
    open: 0,
    maxConnections,
    accepted: 0,
    refused: 0,
    headerTimeouts: 0,
    bodyTimeouts: 0,
    badRequests: 0,
    acceptErrors: 0,
    fdExhausted: 0,
  };
  const conns = new Set<Conn>();
  const busy = new Set<Conn>();
  let stopping = false;
  const event = (e: Http1Event) => {
    try {
      options.onEvent?.(e);
    } catch {
      // a logging failure must not take the connection down
    }
  };

  async function writeAll(c: Conn, bytes: Uint8Array): Promise<void> {
    const deadline = performance.now() + writeTimeoutMs;
    let off = 0;
    while (off < bytes.length) {
      off += await withTimeout(c.conn.write(bytes.subarray(off)), deadline);
    }
  }

  function serialize(status: number, headers: Headers, body: Uint8Array | null, close: boolean): Uint8Array {
    let head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Status"}\r\n`;
    for (const [k, v] of headers) {
      if (k === "content-length" || k === "connection" || k === "transfer-encoding") continue;
      head += `${k}: ${v}\r\n`;
    }
    head += `content-length: ${body?.length ?? 0}\r\n`;
    head += `connection: ${close ? "close" : "keep-alive"}\r\n\r\n`;
    const h = enc.encode(head);
    if (!body || body.length === 0) return h;
    const out = new Uint8Array(h.length + body.length);
    out.set(h);
    out.set(body, h.length);
    return out;
  }

  function plain(status: number, error: string, field: string, allowed: string, extra: Record<string, string> = {}) {
    const body = enc.encode(JSON.stringify({ error, field, allowed }));
    return serialize(
      status,
      new Headers({ "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...extra }),
      body,
      true,
    );
  }

  /** Reads one request head; `null` when the client closed cleanly between requests. */
  async function readHead(c: Conn, deadline: number): Promise<Head | null> {
    let scanned = 0;
    for (;;) {
      // tolerate CRLFs before a request line (RFC 9112 §2.2)
      while (c.buf.length >= 2 && c.buf[0] === 13 && c.buf[1] === 10) c.take(2);
      const end = indexOfCrlfCrlf(c.buf, scanned - 3);
      if (end >= 0) {
        if (end + 4 > maxHeaderBytes) throw new Framing(431, "request head too large");
        const head = c.take(end + 4).subarray(0, end);
        return parseHead(head);
      }
      if (c.buf.length > maxHeaderBytes) throw new Framing(431, "request head too large");
      scanned = c.buf.length;
      if (c.eof) {
        if (c.buf.length === 0) return null;
        throw new ClientGoneError("the client closed the connection in the middle of a request head");
      }
      await withTimeout(c.fill(), deadline);
    }
  }

  /** The body as a stream (content-length or chunked), failing on time-out or early close. */
  function bodyStream(c: Conn, length: number | "chunked", deadline: number, state: { done: boolean }) {
    let left = length === "chunked" ? 0 : length;
    let chunkedDone = false;
    const need = async (n: number) => {
      while (c.buf.length < n) {
        if (c.eof) throw new ClientGoneError();
        try {
          await withTimeout(c.fill(), deadline);
        } catch (e) {
          if (e instanceof TimedOut) {
            stats.bodyTimeouts++;
            throw new BodyTimeoutError(bodyTimeoutMs);
          }
          throw e;
        }
      }
    };
    const line = async (): Promise<string> => {
      for (;;) {
        const i = indexOfCrlf(c.buf);
        if (i >= 0) return new TextDecoder("latin1").decode(c.take(i + 2).subarray(0, i));
        if (c.buf.length > 4096) throw new BadBodyError("malformed chunked body: a chunk line over 4096 bytes");
        await need(c.buf.length + 1);
      }
    };
    return new ReadableStream<Uint8Array>({
      async pull(ctl) {
        try {
          if (length !== "chunked") {
            if (left === 0) {
              state.done = true;
              ctl.close();
              return;
            }
            await need(1);
            const chunk = c.take(Math.min(left, c.buf.length));
            left -= chunk.length;
            ctl.enqueue(chunk);
            if (left === 0) {
              state.done = true;
              ctl.close();
            }
            return;
          }
          if (chunkedDone) return;
          if (left === 0) {
            const sizeLine = (await line()).split(";")[0].trim();
            if (!/^[0-9a-fA-F]{1,8}$/.test(sizeLine)) throw new BadBodyError("malformed chunk size");
            left = parseInt(sizeLine, 16);
            if (left === 0) {
              // trailers, then the empty line
              while ((await line()) !== "");
              chunkedDone = true;
              state.done = true;
              ctl.close();
              return;
            }
          }
          await need(1);
          const chunk = c.take(Math.min(left, c.buf.length));
          left -= chunk.length;
          if (left === 0) {
            await need(2);
            const crlf = c.take(2);
            if (crlf[0] !== 13 || crlf[1] !== 10) throw new BadBodyError("malformed chunk: no CRLF after its data");
          }
          ctl.enqueue(chunk);
        } catch (e) {
          ctl.error(e);
        }
      },
    });
  }

  async function handleConn(c: Conn, remote: Deno.NetAddr): Promise<void> {
    const who = remote.hostname;
    let deadline = performance.now() + headerTimeoutMs;
    try {
      for (;;) {
        const t0 = performance.now();
        let head: Head | null;
        try {
          head = await readHead(c, deadline);
        } catch (e) {
          if (e instanceof TimedOut) {
            stats.headerTimeouts++;
            const partial = c.buf.length > 0;
            if (partial || !busyOnce.has(c)) {
              event({
                status: 408,
                method: "-",
                path: "-",
                remote: who,
                ms: performance.now() - t0,
                note: `request head not received within ${headerTimeoutMs} ms`,
              });
              await writeAll(
                c,
                plain(
                  408,
                  `request head not received within ${headerTimeoutMs} ms`,
                  "headers",
                  "a complete request head in time",
                ),
              ).catch(() => {});
            }
            return;
          }
          if (e instanceof Framing) {
            stats.badRequests++;
            event({
              status: e.status,
              method: "-",
              path: "-",
              remote: who,
              ms: performance.now() - t0,
              note: e.message,
            });
            await writeAll(c, plain(e.status, e.message, "headers", "an HTTP/1.1 request")).catch(() => {});
            return;
          }
          if (e instanceof ClientGoneError) {
            event({ status: 499, method: "-", path: "-", remote: who, ms: performance.now() - t0, note: e.message });
            return;
          }
          throw e;
        }
        if (head === null) return;
        busyOnce.add(c);
        // framing of the body
        const te = headerOf(head, "transfer-encoding");
        const cl = headerOf(head, "content-length");
        let length: number | "chunked" = 0;
        let framingError: string | undefined;
        if (te.length > 0) {
          if (cl.length > 0) framingError = "both transfer-encoding and content-length";
          else if (te.join(",").toLowerCase().replace(/\s/g, "") !== "chunked") {
            framingError = "unsupported transfer-encoding (only chunked)";
          } else length = "chunked";
        } else if (cl.length > 0) {
          const values = new Set(cl.flatMap((v) => v.split(",").map((s) => s.trim())));
          const v = [...values][0];
          if (values.size !== 1 || !/^\d{1,15}$/.test(v)) framingError = "malformed content-length";
          else length = Number(v);
        }
        const pathOnly = head.target.split("?")[0].slice(0, 80);
        if (framingError) {
          stats.badRequests++;
          event({ status: 400, method: head.method, path: pathOnly, remote: who, ms: 0, note: framingError });
          await writeAll(c, plain(400, framingError, "headers", "content-length or chunked")).catch(() => {});
          return;
        }
        const wantsClose = head.version === "HTTP/1.0" ||
          headerOf(head, "connection").some((v) => /(^|,)\s*close\s*(,|$)/i.test(v));
        if (headerOf(head, "expect").some((v) => v.toLowerCase() === "100-continue")) {
          await writeAll(c, enc.encode("HTTP/1.1 100 Continue\r\n\r\n"));
        }
        const state = { done: length === 0 };
        const ctl = new AbortController();
        let req: Request;
        try {
          const url = new URL(head.target, base);
          const headers = new Headers(head.headers);
          const hasBody = length !== 0 && head.method !== "GET" && head.method !== "HEAD";
          req = new Request(url, {
            method: head.method,
            headers,
            body: hasBody ? bodyStream(c, length, performance.now() + bodyTimeoutMs, state) : null,
            signal: ctl.signal,
            // @ts-ignore: duplex is required for a stream body and missing from the DOM types
            duplex: "half",
          });
        } catch (e) {
          stats.badRequests++;
          const msg = `unusable request: ${String((e as Error)?.message ?? e).slice(0, 100)}`;
          event({ status: 400, method: "-", path: pathOnly, remote: who, ms: 0, note: msg });
          await writeAll(c, plain(400, msg, "headers", "an HTTP/1.1 request")).catch(() => {});
          return;
        }
        // a client that closes its side while the handler runs aborts the request's signal
        busy.add(c);
        let handling = true;
        const watch = (async () => {
          // wait until the body has been read (or is not wanted), then watch for EOF
          while (handling && !state.done && !c.eof) await new Promise((r) => setTimeout(r, 20));
          if (!handling || c.closed) return;
          if (state.done && !c.eof) await c.fill().catch(() => {});
          if (handling && c.eof) ctl.abort(new ClientGoneError("the client closed the connection"));
        })();
        let res: Response;
        try {
          res = await handler(req, { remoteAddr: remote });
        } finally {
          handling = false;
          busy.delete(c);
        }
        void watch;
        if (c.eof && !state.done) return; // gone mid-body: nobody to answer
        // a body the handler did not read to its end leaves the connection unusable
        const close = wantsClose || !state.done || stopping || c.eof;
        let body: Uint8Array | null = null;
        if (res.body && head.method !== "HEAD") body = new Uint8Array(await res.arrayBuffer());
        else await res.body?.cancel();
        if (res.status === 499 || c.eof) return;
        await writeAll(c, serialize(res.status, res.headers, body, close));
        if (close) return;
        deadline = performance.now() + headerTimeoutMs;
      }
    } catch (e) {
      if (!(e instanceof TimedOut)) {
        event({
          status: 0,
          method: "-",
          path: "-",
          remote: who,
          ms: 0,
          note: `connection dropped: ${String((e as Error)?.message ?? e).slice(0, 120)}`,
        });
      }
    } finally {
      c.close();
    }
  }

  const busyOnce = new WeakSet<Conn>();
  const refusal = plain(
    503,
    `too many open connections (limit ${maxConnections})`,
    "connection",
    `at most ${maxConnections} open connections; retry after 1 s`,
    { "retry-after": "1" },
  );

  const finished = (async () => {
    let lastFdLog = 0;
    for (;;) {
      let raw: Deno.Conn;
      try {
        raw = await listener.accept();
      } catch (e) {
        if (stopping) break;
        stats.acceptErrors++;
        if (isFdExhaustion(e)) {
          stats.fdExhausted++;
          if (performance.now() - lastFdLog > 1000) {
            lastFdLog = performance.now();
            event({
              status: 0,
              method: "-",
              path: "-",
              remote: "-",
              ms: 0,
              note: `accept: out of file descriptors (${stats.open} open); retrying`,
            });
          }
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) break;
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const remote = raw.remoteAddr as Deno.NetAddr;
      if (stats.open >= maxConnections || stopping) {
        stats.refused++;
        event({
          status: 503,
          method: "-",
          path: "-",
          remote: remote.hostname,
          ms: 0,
          note: `connection refused: ${stats.open} open (limit ${maxConnections})`,
        });
        const c = new Conn(raw);
        // answer without reading, never waiting on a slow client for long
        void withTimeout(c.conn.write(refusal), performance.now() + 1000).catch(() => {}).finally(() => c.close());
        continue;
      }
      stats.accepted++;
      stats.open++;
      const c = new Conn(raw);
      conns.add(c);
      void handleConn(c, remote).catch(() => {}).finally(() => {
        conns.delete(c);
        stats.open--;
      });
    }
  })();

  async function shutdown(graceMs = 10_000): Promise<void> {
    if (stopping) return;
    stopping = true;
    try {
      listener.close();
    } catch {
      // closed
    }
    for (const c of conns) if (!busy.has(c)) c.close();
    const until = performance.now() + graceMs;
    while (busy.size > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const c of conns) c.close();
    await finished;
  }

  options.onListen?.(addr);
  return { addr, finished, shutdown, stats: () => ({ ...stats }) };
}
