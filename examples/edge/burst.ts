/**
 * How good is `Retry-After`? Starts the server (loopback, `spawn.ts`) and sends two bursts of
 * 20 × `{"n": 8, "steps": 40}` (one every 20 ms), the second after the first has drained: prints
 * the `Retry-After` of every 429 and when each admitted request finished. The first burst meets
 * the throughput measured at start-up, the second the throughput measured on the first.
 *
 *     deno run --allow-run --allow-net=127.0.0.1 --allow-read examples/edge/burst.ts [--model models/mnist]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startServer } from "./spawn.ts";

const { values } = parseArgs({ args: Deno.args, options: { model: { type: "string", default: "models/mnist" } } });
const s = await startServer({ model: values.model! });
try {
  for (const round of [1, 2]) {
    const t0 = performance.now();
    const res = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * 20));
      const r = await fetch(`${s.url}/v1/samples`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ n: 8, steps: 40, format: "json", seed: i }),
        signal: AbortSignal.timeout(120_000),
      });
      await r.arrayBuffer();
      return { status: r.status, retryAfter: r.headers.get("retry-after"), at: (performance.now() - t0) / 1000 };
    }));
    console.log(
      `burst ${round}: 429 Retry-After (s): ${res.filter((r) => r.status === 429).map((r) => r.retryAfter).join(" ")}` +
        ` | 200 finished at (s): ${res.filter((r) => r.status === 200).map((r) => r.at.toFixed(1)).join(" ")}`,
    );
  }
} finally {
  await s.stop();
}
