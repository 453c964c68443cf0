// The edge service's bounded admission queue (examples/edge/queue.ts), in isolation.

import assert from "node:assert/strict";
import { BoundedQueue, QueueAbortError } from "../examples/edge/queue.ts";

Deno.test("queue: runs `concurrency` at once, queues `capacity`, refuses the rest", async () => {
  const q = new BoundedQueue(2, 1);
  const r1 = await q.acquire()!;
  const r2 = await q.acquire()!;
  const p3 = q.acquire()!;
  assert.ok(p3 instanceof Promise);
  assert.equal(q.acquire(), undefined, "full: refused");
  assert.deepEqual([q.running, q.waiting], [2, 1]);
  let started = false;
  const p3done = p3.then((release) => {
    started = true;
    return release;
  });
  await Promise.resolve();
  assert.equal(started, false);
  r1();
  r1(); // idempotent
  const r3 = await p3done;
  assert.equal(started, true);
  assert.deepEqual([q.running, q.waiting], [2, 0]);
  r2();
  r3();
  const s = q.stats();
  assert.deepEqual([s.running, s.waiting, s.admitted, s.rejected], [
    0,
    0,
    3,
    1,
  ]);
  assert.ok(q.retryAfterSeconds() >= 1);
});

Deno.test("queue: a waiter whose signal aborts leaves without running", async () => {
  const q = new BoundedQueue(1, 2);
  const release = await q.acquire()!;
  const c = new AbortController();
  const waiting = q.acquire(c.signal)!;
  const next = q.acquire()!;
  assert.equal(q.waiting, 2);
  c.abort("client went away");
  await assert.rejects(waiting, QueueAbortError);
  assert.equal(q.waiting, 1);
  release();
  (await next)();
  const s = q.stats();
  assert.deepEqual([s.running, s.waiting, s.abandoned, s.admitted], [
    0,
    0,
    1,
    2,
  ]);
  // an already-aborted signal is refused at once
  await assert.rejects(q.acquire(AbortSignal.abort("gone"))!, QueueAbortError);
});

Deno.test("queue: an abandoned waiter leaves no timer holding the process", async () => {
  // (regression) with a `once` listener, a waiter that left on AbortSignal.any([client,
  // AbortSignal.timeout(deadline)]) kept the deadline's timer referenced: the process could not
  // exit until the deadline passed. Run it in a subprocess and time its exit.
  const queueUrl = new URL("../examples/edge/queue.ts", import.meta.url).href;
  const code = `
    import { BoundedQueue } from ${JSON.stringify(queueUrl)};
    const q = new BoundedQueue(1, 1);
    const release = await q.acquire();
    const c = new AbortController();
    const waiting = q.acquire(AbortSignal.any([c.signal, AbortSignal.timeout(30000)]));
    c.abort("gone");
    await waiting.catch(() => {});
    release();
  `;
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const ms = performance.now() - t0;
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.ok(ms < 15_000, `the process took ${ms.toFixed(0)} ms to exit`);
});

Deno.test("issue 13 case 9: Retry-After comes from the work queued and the measured throughput", async () => {
  // a burst of 20 × {n: 8, steps: 40} (320 sample-evaluations each) at 0.05 per ms: 6.4 s per job
  // alone; two running share the CPU, so the first leaves after 12.8 s
  const q = new BoundedQueue(2, 6, 0.05);
  const running = [await q.acquire(undefined, 320)!, await q.acquire(undefined, 320)!];
  const waiting = Array.from({ length: 6 }, () => q.acquire(undefined, 320)!);
  assert.equal(q.acquire(undefined, 320), undefined);
  assert.equal(q.retryAfterSeconds(), 13, "the first refused client: the first departure");
  assert.equal(Math.round(q.departureMs(3)), 25_600);
  for (let i = 1; i < 12; i++) assert.equal(q.acquire(undefined, 320), undefined);
  // the 12th refused client is told when the whole backlog (8 × 320 units) has drained
  assert.equal(q.retryAfterSeconds(), 52);
  // progress shortens the estimate; a departure resets the count of refusals
  running[0].progress(160);
  running[1].progress(160);
  assert.equal(Math.round(q.departureMs(1)), 6_400);
  running[0]();
  const next = await waiting[0];
  const extra = q.acquire(undefined, 320)!; // a waiting place came free
  assert.equal(q.acquire(undefined, 320), undefined);
  assert.ok(q.retryAfterSeconds() >= 1);
  for (const r of [running[1], next]) r();
  for (const w of waiting.slice(1)) (await w)();
  (await extra)();
});

Deno.test("queue: the throughput is measured from the progress of running jobs", async () => {
  const q = new BoundedQueue(1, 0, 1000); // a wildly optimistic prior
  const release = await q.acquire(undefined, 100)!;
  await new Promise((r) => setTimeout(r, 120));
  release.progress(100);
  release();
  const rate = q.stats().unitsPerSecond;
  assert.ok(rate > 200 && rate < 1000, `measured ${rate} units/s for 100 units in ~120 ms`);
});
