// The edge HTTP service (examples/edge/): started as a subprocess with exactly the restricted
// permissions on a free port of 127.0.0.1, then probed: /healthz, PNG and JSON samples, 400s that
// name the field, 404/405, 429 with Retry-After when the queue is full, client aborts, the
// permission flags themselves, and a CI-sized run of the load-test script (zero 5xx).

import assert from "node:assert/strict";
import { classifyDigits } from "../testing/mnist_classifier.ts";
import { type ServerHandle, startServer } from "../examples/edge/spawn.ts";
import { LOG_LINE, planRequests } from "../examples/edge/load_test.ts";
import { ortWasmPath } from "../examples/edge/ort_wasm_path.ts";
import { writeClassModel } from "../testing/class_model.ts";
import { decodeReference } from "../testing/decoder.ts";
import { maxRelErr } from "./helpers.ts";
import { REQUEST_KEYS } from "../examples/edge/service.ts";
import { mulberry32 } from "../testing/reference/random.ts";

const ROOT = new URL("../", import.meta.url);
const MODEL = "models/gmm-image"; // exact Gaussian mixture, [1, 8, 8]: fast and always present
const MNIST = "models/mnist";

function post(
  url: string,
  body: unknown,
  init: RequestInit = {},
): Promise<Response> {
  return fetch(`${url}/v1/samples`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
}

async function expectError(
  res: Response,
  status: number,
  field: string,
): Promise<{ error: string; field: string; allowed: string }> {
  const text = await res.text();
  assert.equal(res.status, status, `status for field ${field}: ${text}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  const j = JSON.parse(text);
  assert.equal(j.field, field, text);
  assert.equal(typeof j.error, "string");
  assert.ok(typeof j.allowed === "string" && j.allowed.length > 0, text);
  return j;
}

function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  assert.deepEqual([...bytes.subarray(0, 8)], sig, "PNG signature");
  assert.equal(new TextDecoder().decode(bytes.subarray(12, 16)), "IHDR");
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  return { width: v.getUint32(16), height: v.getUint32(20) };
}

async function health(url: string) {
  const res = await fetch(`${url}/healthz`);
  assert.equal(res.status, 200);
  return await res.json();
}

async function waitFor(cond: () => Promise<boolean>, ms: number, what: string) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

Deno.test("edge service: endpoints, validation, queue and aborts", async (t) => {
  // concurrency 1 + 2 waiting, so that a handful of slow requests overflows it
  const server: ServerHandle = await startServer({
    model: MODEL,
    serverArgs: ["--concurrency", "1", "--queue", "2"],
  });
  const url = server.url;
  try {
    await t.step("started with exactly the restricted permissions", () => {
      const flags = server.command.filter((a) => a.startsWith("--allow") || a === "-A");
      assert.deepEqual(flags, [
        "--allow-net=127.0.0.1",
        `--allow-read=${MODEL},${ortWasmPath()}`,
      ]);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    });

    await t.step("GET /healthz", async () => {
      const h = await health(url);
      assert.equal(h.status, "ok");
      assert.equal(h.modelLoaded, true);
      assert.equal(h.model.name, "gmm-image");
      assert.deepEqual(h.model.sampleShape, [1, 8, 8]);
      assert.equal(h.backend, "wasm");
      assert.deepEqual(
        [
          h.queue.running,
          h.queue.waiting,
          h.queue.concurrency,
          h.queue.capacity,
        ],
        [0, 0, 1, 2],
      );
      assert.ok(h.memory.rss > 0);
    });

    await t.step("POST a PNG", async () => {
      const res = await post(url, {
        method: "tab",
        order: 3,
        steps: 10,
        n: 4,
        seed: 7,
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "image/png");
      assert.equal(res.headers.get("x-seed"), "7");
      assert.equal(res.headers.get("x-backend"), "wasm");
      const { width, height } = pngSize(
        new Uint8Array(await res.arrayBuffer()),
      );
      // 2 × 2 tiles of 8 px upscaled 8× (64 px) with 2 px gaps: 2·64 + 3·2
      assert.deepEqual({ width, height }, { width: 134, height: 134 });
    });

    await t.step(
      "POST JSON (and the same seed gives the same samples)",
      async () => {
        const req = {
          method: "rhork",
          rk: "heun2",
          steps: 6,
          n: 3,
          seed: 11,
          format: "json",
        };
        const a = await (await post(url, req)).json();
        assert.deepEqual(a.shape, [3, 1, 8, 8]);
        assert.equal(a.data.length, 3 * 64);
        assert.ok(a.data.every(Number.isFinite), "finite data");
        assert.ok(a.data.some((v: number) => v !== 0));
        assert.equal(a.backend, "wasm");
        assert.equal(a.nfe, 12);
        assert.ok(typeof a.ms === "number" && a.ms > 0);
        const b = await (await post(url, req)).json();
        assert.deepEqual(b.data, a.data);
        const c = await (await post(url, {
          ...req,
          method: "ddim",
          rk: undefined,
          lambda: 1,
        }))
          .json();
        assert.deepEqual(c.shape, [3, 1, 8, 8]);
      },
    );

    await t.step("400s name the field", async () => {
      await expectError(await post(url, { steps: 0 }), 400, "steps");
      await expectError(await post(url, { steps: 5000 }), 400, "steps");
      await expectError(await post(url, { steps: 2.5 }), 400, "steps");
      await expectError(await post(url, { n: 100 }), 400, "n");
      await expectError(await post(url, { n: 0 }), 400, "n");
      const order = await expectError(
        await post(url, { order: 9 }),
        400,
        "order",
      );
      assert.match(order.allowed, /\[0, 3\]/);
      const method = await expectError(
        await post(url, { method: "magic" }),
        400,
        "method",
      );
      assert.match(method.allowed, /tab/);
      await expectError(await post(url, { grid: "hexagonal" }), 400, "grid");
      await expectError(
        await post(url, { method: "tab", lambda: 1 }),
        400,
        "lambda",
      );
      await expectError(
        await post(url, { grid: "time-uniform", kappa: 2 }),
        400,
        "kappa",
      );
      await expectError(
        await post(url, { method: "rhork", rk: "rk4", steps: 400 }),
        400,
        "steps",
      );
      await expectError(await post(url, { seed: -3 }), 400, "seed");
      await expectError(await post(url, { format: "gif" }), 400, "format");
      await expectError(await post(url, { colour: "red" }), 400, "colour");
      // gmm-image has no class input: digit and guidance are refused, naming the field
      for (const field of ["digit", "guidance"]) {
        const e = await expectError(await post(url, { [field]: 3 }), 400, field);
        assert.match(e.error, /no class conditioning/);
        assert.match(e.allowed, /not class-conditional/);
      }
      await expectError(await post(url, '{"n": 2,'), 400, "body");
      await expectError(await post(url, "[1, 2]"), 400, "body");
      await expectError(await post(url, ""), 400, "body");
      const big = JSON.stringify({ n: 1, pad: "x".repeat(20_000) });
      const size = await expectError(await post(url, big), 400, "body");
      assert.match(size.allowed, /16384 bytes/);
      // a body without content-length, streamed in chunks, is counted as it arrives
      const bytes = new TextEncoder().encode(big);
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          for (let o = 0; o < bytes.length; o += 1000) {
            c.enqueue(bytes.slice(o, o + 1000));
          }
          c.close();
        },
      });
      await expectError(
        await post(url, "", { body: stream, duplex: "half" } as RequestInit),
        400,
        "body",
      );
      await expectError(
        await post(url, { n: 1 }, {
          headers: { "content-type": "text/plain" },
        }),
        400,
        "content-type",
      );
    });

    await t.step("404 and 405", async () => {
      await expectError(await fetch(`${url}/nope`), 404, "path");
      const get = await fetch(`${url}/v1/samples`);
      assert.equal(get.headers.get("allow"), "POST");
      await expectError(get, 405, "method");
      await expectError(
        await fetch(`${url}/healthz`, { method: "POST", body: "{}" }),
        405,
        "method",
      );
    });

    await t.step(
      "429 with Retry-After when the queue is full; aborts free it",
      async () => {
        const slow = {
          n: 64,
          steps: 1000,
          method: "tab",
          order: 3,
          format: "json",
          seed: 1,
        };
        const controllers = Array.from(
          { length: 8 },
          () => new AbortController(),
        );
        const settled = controllers.map((c) =>
          post(url, slow, { signal: c.signal }).then(
            async (r) => ({
              status: r.status,
              retry: r.headers.get("retry-after"),
              body: await r.text(),
            }),
            () => ({ status: 0, retry: null, body: "aborted" }),
          )
        );
        // 1 running + 2 waiting are admitted; the other 5 are refused at once
        await waitFor(
          async () => (await health(url)).queue.rejected >= 5,
          30_000,
          "five refusals",
        );
        const h = await health(url);
        assert.equal(h.queue.rejected, 5);
        assert.equal(h.queue.running, 1);
        assert.equal(h.queue.waiting, 2);
        // abort everything still pending: the running run stops at its next step, the waiters leave
        for (const c of controllers) c.abort();
        const all = await Promise.all(settled);
        const r429 = all.filter((r) => r.status === 429);
        assert.equal(r429.length, 5, JSON.stringify(all.map((r) => r.status)));
        for (const r of r429) {
          assert.ok(Number(r.retry) >= 1, `Retry-After ${r.retry}`);
          assert.equal(JSON.parse(r.body).field, "queue");
        }
        await waitFor(
          async () => {
            const q = (await health(url)).queue;
            return q.running === 0 && q.waiting === 0;
          },
          10_000,
          "the queue to drain after the aborts",
        );
        const after = await health(url);
        // the 3 admitted requests were all cut short (unless the running one finished first)
        assert.ok(after.aborted >= 2, `aborted ${after.aborted}`);
        assert.ok(
          all.every((r) => r.status === 429 || r.status === 0),
          JSON.stringify(all),
        );
        assert.equal(after.byStatus["500"], undefined);
        // and it still serves
        assert.equal(
          (await post(url, { n: 1, steps: 3, format: "json" })).status,
          200,
        );
      },
    );

    await t.step("one log line per request", async () => {
      const h = await health(url); // counts requests before this one
      await waitFor(
        () =>
          Promise.resolve(
            server.stderr.filter((l) => LOG_LINE.test(l)).length >=
              h.requests + 1,
          ),
        2000,
        "log lines",
      );
      assert.equal(
        server.stderr.filter((l) => LOG_LINE.test(l)).length,
        h.requests + 1,
      );
      assert.ok(
        !Object.keys(h.byStatus).some((s) => Number(s) >= 500),
        JSON.stringify(h.byStatus),
      );
    });
  } finally {
    const status = await server.stop();
    assert.equal(status.code, 0, server.stderr.slice(-10).join("\n"));
  }
});

Deno.test("edge service: permission flags", async (t) => {
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        ...args,
        "examples/edge/server.ts",
        "--model",
        MODEL,
        "--port",
        "0",
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
      signal: AbortSignal.timeout(60_000),
    }).output();

  await t.step(
    "without read access to onnxruntime's wasm: exits 2 naming the file",
    async () => {
      const out = await run(["--allow-net=127.0.0.1", `--allow-read=${MODEL}`]);
      assert.equal(out.code, 2);
      const err = new TextDecoder().decode(out.stderr);
      assert.ok(err.includes(ortWasmPath()), err);
    },
  );

  await t.step("without read access to the model: exits 2", async () => {
    const out = await run([
      "--allow-net=127.0.0.1",
      `--allow-read=${ortWasmPath()}`,
    ]);
    assert.equal(out.code, 2);
    assert.match(new TextDecoder().decode(out.stderr), /model directory/);
  });

  await t.step(
    "--unstable-raw-imports needs only the model directory; deadline 503",
    async () => {
      const server = await startServer({
        model: MODEL,
        rawImports: true,
        serverArgs: ["--deadline-ms", "300"],
      });
      try {
        const flags = server.command.filter((a) => a.startsWith("--allow"));
        assert.deepEqual(flags, [
          "--allow-net=127.0.0.1",
          `--allow-read=${MODEL}`,
        ]);
        const h = await health(server.url);
        assert.match(h.ortWasm, /imported as bytes/);
        const res = await post(server.url, { n: 1, steps: 5, seed: 3 });
        assert.equal(res.status, 200);
        pngSize(new Uint8Array(await res.arrayBuffer()));
        // a run past the deadline is stopped: 503 (the server's limit, not a client mistake)
        const slow = await post(server.url, {
          n: 64,
          steps: 1000,
          format: "json",
        });
        assert.equal(slow.status, 503);
        assert.ok(Number(slow.headers.get("retry-after")) >= 1);
        assert.match((await slow.json()).error, /deadline/);
        assert.equal((await health(server.url)).queue.running, 0);
      } finally {
        assert.equal((await server.stop()).code, 0);
      }
    },
  );
});

async function ciLoadTest(model: string, requests: number) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-run",
      "--allow-net=127.0.0.1",
      "examples/edge/load_test.ts",
      "--model",
      model,
      "--requests",
      String(requests),
      "--concurrency",
      "4",
      "--max-seconds",
      "90",
      "--json",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(120_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `${text}\n${err.slice(-2000)}`);
  const s = JSON.parse(text);
  assert.equal(s.fiveXX, 0);
  assert.equal(s.transportErrors, 0);
  assert.equal(s.completed, requests);
  assert.deepEqual(s.problems, []);
  assert.ok((s.statusCounts["200"] ?? 0) > 0, JSON.stringify(s.statusCounts));
  assert.ok((s.statusCounts["400"] ?? 0) > 0, JSON.stringify(s.statusCounts));
  assert.equal(s.serverLogLines, s.serverRequestsSeen);
}

Deno.test("edge service: CI-sized load test has zero 5xx", async () => {
  await ciLoadTest(MODEL, 40);
});

Deno.test("edge service: the load test's mix covers digit and guidance", () => {
  const body = (p: { body?: unknown }) => typeof p.body === "string" ? p.body : "";
  const conditional = planRequests(400, 1, 10);
  const valid = conditional.filter((p) => p.kind === "valid").map((p) => JSON.parse(body(p)));
  const withDigit = valid.filter((b) => b.digit !== undefined);
  assert.ok(withDigit.some((b) => typeof b.digit === "number"), "one digit for the batch");
  assert.ok(withDigit.some((b) => Array.isArray(b.digit) && b.digit.length === b.n), "a digit per sample");
  assert.ok(withDigit.some((b) => b.guidance !== undefined) && withDigit.some((b) => b.guidance === undefined));
  assert.ok(valid.some((b) => b.digit === undefined), "unconditional requests too");
  for (const b of withDigit) {
    for (const d of [b.digit].flat()) assert.ok(Number.isInteger(d) && d >= 0 && d <= 9, JSON.stringify(b));
  }
  const labels = (ps: { kind: string; label: string }[]) =>
    new Set(ps.filter((p) => p.kind === "invalid").map((p) => p.label));
  const bad = labels(conditional);
  const classBad = [...bad].filter((l) => /digit|guidance/.test(l));
  assert.ok(classBad.length >= 6, `${classBad}`);
  assert.ok(classBad.some((l) => l.includes("digit")) && classBad.some((l) => l.includes("guidance")), `${classBad}`);
  const plain = planRequests(400, 1);
  assert.ok(plain.every((p) => p.kind !== "valid" || !/digit|guidance/.test(body(p))));
  assert.ok(labels(plain).has("invalid digit unconditional") && labels(plain).has("invalid guidance unconditional"));
  // the classes change only the class fields: the other requests stay the same
  assert.deepEqual(
    conditional.map((p) => p.kind),
    plain.map((p) => p.kind),
  );
});

Deno.test("edge service: digit and guidance on a class-conditional model with a decoder (stand-in)", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "edge-class-" });
  await writeClassModel(dir, { classes: 10, shift: 0.05, scalingFactor: 0.5 });
  const server = await startServer({ model: dir });
  const url = server.url;
  const samples = async (req: Record<string, unknown>) => {
    const res = await post(url, { steps: 8, seed: 5, format: "json", ...req });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    return JSON.parse(text);
  };
  try {
    await t.step("/healthz describes the classes and the decoder", async () => {
      const h = await health(url);
      assert.deepEqual(h.model.classes, { input: "label", classes: 10, defaultGuidance: 2, maxGuidance: 20 });
      assert.deepEqual(h.model.decoder, { outputShape: [1, 2, 2], dataRange: [-1, 1] });
    });

    await t.step("JSON carries the latents, the decoded images, digit and guidance", async () => {
      const j = await samples({ n: 3, digit: 3, guidance: 2 });
      assert.deepEqual(j.shape, [3, 2]);
      assert.deepEqual(j.decodedShape, [3, 1, 2, 2]);
      assert.equal(j.digit, 3);
      assert.equal(j.guidance, 2);
      // the decoder is linear: (latents / scalingFactor)·W + b in closed form
      const want = decodeReference(j.data, 0.5);
      assert.ok(maxRelErr(Float32Array.from(j.decoded), want) < 1e-5, `rel ${maxRelErr(j.decoded, want)}`);
    });

    await t.step("guidance reaches the network: ε_u + w·(ε_c − ε_u) in closed form", async () => {
      // the stand-in adds 0.05·label to ε, so guidance w on digit d is the conditional output for
      // the label 10 + w·(d − 10): {digit 9, w 2} ≈ {digit 8, w 1}; {digit 4, w 0} ≈ unconditional
      const near = (a: number[], b: number[], what: string) =>
        assert.ok(maxRelErr(Float32Array.from(a), Float64Array.from(b)) < 1e-4, what);
      const g2 = await samples({ n: 2, digit: 9, guidance: 2 });
      near(g2.data, (await samples({ n: 2, digit: 8, guidance: 1 })).data, "digit 9 at w 2 = digit 8 at w 1");
      const u = await samples({ n: 2 });
      assert.equal(u.digit, undefined);
      near((await samples({ n: 2, digit: 4, guidance: 0 })).data, u.data, "w 0 = unconditional");
      const d9 = await samples({ n: 2, digit: 9, guidance: 1 });
      assert.ok(
        maxRelErr(Float32Array.from(d9.data), Float64Array.from(u.data)) > 1e-3,
        "the digit changes the samples",
      );
      // no guidance given: the default 2
      const dflt = await samples({ n: 2, digit: 9 });
      assert.equal(dflt.guidance, 2);
      assert.deepEqual(dflt.data, g2.data);
    });

    await t.step("a digit per sample; n defaults to their number", async () => {
      const mixed = await samples({ digit: [0, 9, 9], guidance: 1 });
      assert.deepEqual(mixed.shape, [3, 2]);
      assert.deepEqual(mixed.digit, [0, 9, 9]);
      const nines = await samples({ n: 3, digit: 9, guidance: 1 });
      assert.deepEqual(mixed.data.slice(2), nines.data.slice(2), "samples 1 and 2 are nines");
      assert.notDeepEqual(mixed.data.slice(0, 2), nines.data.slice(0, 2), "sample 0 is a zero");
    });

    await t.step("a diffusers-layout model samples on its own grid or on the request's", async () => {
      // its scheduler's timestep spacing belongs to the `diffusers` grid only
      for (const grid of [undefined, "diffusers", "time-quadratic", "time-uniform", "logrho", "karras"]) {
        const j = await samples({ n: 2, digit: 1, grid });
        assert.ok(j.data.every(Number.isFinite), String(grid));
      }
      await expectError(await post(url, { grid: "diffusers", kappa: 2 }), 400, "kappa");
    });

    await t.step("a PNG shows the decoded images", async () => {
      const res = await post(url, { n: 4, steps: 6, digit: 2, seed: 1 });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(res.headers.get("content-type"), "image/png");
      // 2 × 2 decoded images of 2 px upscaled 8× (16 px) with 2 px gaps: 2·16 + 3·2
      assert.deepEqual(pngSize(new Uint8Array(await res.arrayBuffer())), { width: 38, height: 38 });
    });

    await t.step("400s name digit or guidance, whether the plan is cached or not", async () => {
      assert.equal((await post(url, { n: 2, steps: 7, format: "json" })).status, 200); // caches the plan
      const cases: [unknown, string, RegExp][] = [
        [{ digit: 10 }, "digit", /\[0, 9\]/],
        [{ digit: -1 }, "digit", /\[0, 9\]/],
        [{ digit: 2.5 }, "digit", /\[0, 9\]/],
        [{ digit: "3" }, "digit", /\[0, 9\]/],
        [{ digit: null }, "digit", /\[0, 9\]/],
        [{ digit: [] }, "digit", /array/],
        [{ digit: [1, 2, 3] }, "digit", /n = 2/],
        [{ digit: [1, 10] }, "digit", /\[0, 9\]/],
        [{ digit: 1, guidance: 21 }, "guidance", /\[0, 20\]/],
        [{ digit: 1, guidance: -0.5 }, "guidance", /\[0, 20\]/],
        [{ digit: 1, guidance: "2" }, "guidance", /\[0, 20\]/],
        [{ digit: 1, guidance: null }, "guidance", /\[0, 20\]/],
        [{ guidance: 2 }, "guidance", /unless digit/],
      ];
      for (const [extra, field, allowed] of cases) {
        const body = { n: 2, steps: 7, format: "json", ...(extra as object) };
        const e = await expectError(await post(url, body), 400, field);
        assert.match(e.allowed, allowed, JSON.stringify(extra));
      }
      const inf = await expectError(await post(url, '{"n":2,"steps":7,"digit":1,"guidance":1e999}'), 400, "guidance");
      assert.match(inf.allowed, /\[0, 20\]/);
      const h = await health(url);
      assert.ok(!Object.keys(h.byStatus).some((s) => Number(s) >= 500), JSON.stringify(h.byStatus));
    });

    await t.step("fuzz: random values of the request keys give 200 or 400, never 5xx", async () => {
      const random = mulberry32(29);
      const pick = <T>(a: readonly T[]) => a[Math.floor(random() * a.length)];
      const values = [null, true, "", "3", -1, 0, 1, 2, 2.5, 9, 10, 20, 21, 1e300, [], [1], [1, 2], [0, 9, 9], {}];
      for (let i = 0; i < 40; i++) {
        const o: Record<string, unknown> = { steps: 4, format: "json" };
        for (let k = 1 + Math.floor(random() * 3); k > 0; k--) o[pick(REQUEST_KEYS)] = pick(values);
        if (random() < 0.5) o.digit = pick(values);
        const res = await post(url, o);
        const text = await res.text();
        assert.ok(res.status === 200 || res.status === 400, `${JSON.stringify(o)} → ${res.status} ${text}`);
      }
    });
  } finally {
    assert.equal((await server.stop()).code, 0, server.stderr.slice(-10).join("\n"));
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("edge service: CI-sized load test of a class-conditional model (stand-in) has zero 5xx", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-class-" });
  try {
    await writeClassModel(dir);
    await ciLoadTest(dir, 60);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "edge service: MNIST digits as a PNG (when the model exists)",
  ignore: !existsSync(new URL(`${MNIST}/model.onnx`, ROOT)) ||
    !existsSync(new URL(`${MNIST}/model.json`, ROOT)),
  async fn() {
    const server = await startServer({ model: MNIST });
    try {
      const res = await post(server.url, {
        method: "tab",
        order: 3,
        steps: 10,
        n: 4,
        seed: 1,
      });
      assert.equal(res.status, 200, await res.clone().text());
      // 2 × 2 digits of 28 px upscaled 2× (56 px) with 2 px gaps: 2·56 + 3·2
      assert.deepEqual(pngSize(new Uint8Array(await res.arrayBuffer())), {
        width: 118,
        height: 118,
      });
    } finally {
      await server.stop();
    }
  },
});

const LATENT = "models/latent-mnist";

Deno.test({
  name: "edge service: latent-mnist digits with guidance, classified (when the model exists)",
  ignore: !existsSync(new URL(`${LATENT}/model.json`, ROOT)) ||
    !existsSync(new URL("models/mnist-features/model.onnx", ROOT)),
  async fn() {
    const server = await startServer({ model: LATENT });
    try {
      const h = await health(server.url);
      // the service takes the manifest's defaultGuidance (chosen with bench:quality:pipeline)
      assert.deepEqual(h.model.classes, { input: "class_labels", classes: 10, defaultGuidance: 1.25, maxGuidance: 20 });
      assert.deepEqual(h.model.decoder.outputShape, [1, 28, 28]);
      const png = await post(server.url, { steps: 10, n: 4, digit: [1, 2, 3, 4], seed: 1 });
      assert.equal(png.status, 200, await png.clone().text());
      // 2 × 2 decoded digits of 28 px upscaled 2× (56 px) with 2 px gaps: 2·56 + 3·2
      assert.deepEqual(pngSize(new Uint8Array(await png.arrayBuffer())), { width: 118, height: 118 });

      const digits = Array.from({ length: 20 }, (_, i) => i % 10);
      const res = await post(server.url, { steps: 10, digit: digits, seed: 3, format: "json" });
      const j = await res.json();
      assert.equal(res.status, 200, JSON.stringify(j).slice(0, 300));
      assert.deepEqual(j.decodedShape, [20, 1, 28, 28]);
      assert.equal(j.guidance, 1.25); // the manifest's defaultGuidance
      // an independent judge: the MNIST classifier of models/mnist-features (trained on real digits)
      const got = Array.from((await classifyDigits(j.decoded, 20)).labels);
      const right = got.filter((c, i) => c === digits[i]).length;
      assert.ok(right >= 16, `classified ${got} for ${digits}`);
    } finally {
      assert.equal((await server.stop()).code, 0, server.stderr.slice(-10).join("\n"));
    }
  },
});

/** The classes the MNIST classifier of models/mnist-features assigns to `count` images in [-1, 1]. */
function existsSync(url: URL): boolean {
  try {
    Deno.statSync(url);
    return true;
  } catch {
    return false;
  }
}

Deno.test("edge service: self-hosted --backend native (onnxruntime-node, --allow-ffi, no WASM read grant)", async () => {
  const server = await startServer({ model: MODEL, native: true });
  try {
    const flags = server.command.filter((a) => a.startsWith("--allow") || a === "-A");
    assert.deepEqual(flags, ["--allow-net=127.0.0.1", `--allow-read=${MODEL}`, "--allow-ffi"]);
    assert.equal((await health(server.url)).backend, "native");
    const res = await fetch(`${server.url}/v1/samples`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ method: "unipc", order: 3, steps: 8, n: 3, seed: 5, format: "json" }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-backend"), "native");
    const j = await res.json();
    assert.deepEqual(j.shape, [3, 1, 8, 8]);
    assert.ok(j.data.every(Number.isFinite));
  } finally {
    await server.stop();
  }
});
