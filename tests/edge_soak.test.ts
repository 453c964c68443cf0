// A CI-sized run of the edge soak test (examples/edge/soak.ts): the server under ulimit -n 256,
// a mixed load with requests aborted mid-body and bursts of idle connections; zero 5xx, zero
// transport errors, the server up to the end. (The full run, `deno task edge:soak`, is 10 000
// requests; its result is committed in examples/edge/results/.) Memory flatness needs the long
// run, so it is not asserted here.

import assert from "node:assert/strict";
import { runSoak } from "../examples/edge/soak.ts";

Deno.test("edge soak (CI size): 700 mixed requests, idle and aborted connections, low fd limit: no 5xx, no crash", async () => {
  const r = await runSoak({
    model: "models/gmm-image",
    requests: 600,
    warmup: 100,
    concurrency: 6,
    seed: 5,
    fdLimit: 256,
    maxConnections: 160,
    idleEvery: 150,
    idleBurst: 30,
    abortShare: 0.05,
    memoryEvery: 200,
    maxSeconds: 50,
    rssMargin: 10, // not judged at this size
  });
  assert.equal(r.fiveXX, 0, JSON.stringify(r.statusCounts));
  assert.equal(r.transportErrors, 0, r.transportErrorSamples.join("\n"));
  assert.ok(r.serverAliveAtEnd);
  assert.equal(r.completed, 700);
  assert.ok(r.aborted > 0 && r.idleConnections > 0);
  assert.equal(r.serverStatusCounts["499"], r.aborted, "every mid-body abort is counted as 499");
  assert.ok(r.ok, r.failures.join("; "));
});
