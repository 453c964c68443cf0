/**
 * Where a native run's non-network time goes: `deno run -A bench/overhead.ts [--backend native]`.
 * MNIST, tab3, 10 steps, time-quadratic; for n = 16, 64, 256 the median of 7 warm runs of the run's
 * own timings: total, the share outside network calls, `update` (prior noise, ε conversions and the
 * updates) and the rest (setup, readback).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadModel, makePlan, modelPlanConfig, sample } from "../mod.ts";

const { values } = parseArgs({ args: Deno.args, options: { backend: { type: "string", default: "native" } } });
const backend = values.backend as "native" | "wasm";
const model = await loadModel(new URL("../models/mnist/", import.meta.url));
const plan = makePlan(modelPlanConfig(model, { method: "tab", order: 3, steps: 10, grid: "time-quadratic" }));
for (const n of [16, 64, 256]) {
  for (let r = 0; r < 2; r++) await sample({ model, plan, n, seed: 1, backend });
  const rows: number[][] = [];
  for (let r = 0; r < 7; r++) {
    const t = (await sample({ model, plan, n, seed: r, backend })).timings;
    rows.push([t.total, t.network, t.update, t.total - t.network - t.update]);
  }
  rows.sort((a, b) => a[0] - b[0]);
  const [total, network, update, rest] = rows[3];
  console.log(
    `n ${n}: total ${total.toFixed(1)} ms, non-network ${(100 * (1 - network / total)).toFixed(2)} % ` +
      `(update ${update.toFixed(2)} ms, rest ${rest.toFixed(2)} ms)`,
  );
}
await model.dispose();
