import { createBackend, loadModel, makePlan, modelPlanConfig, sample } from "../mod.ts";
import type { Backend, Run } from "../src/backends/types.ts";
const kind = (Deno.args[0] ?? "native") as "native" | "wasm";
const model = await loadModel("models/mnist");
const plan = makePlan(modelPlanConfig(model, { method: "tab", order: 3, steps: 10, grid: "time-quadratic" }));
const inner = await createBackend(kind);
let acc: Record<string, number> = {};
const add = (k: string, v: number) => (acc[k] = (acc[k] ?? 0) + v);
const wrapped: Backend = {
  ...inner,
  async open(spec) {
    const t0 = performance.now();
    const run: Run = await inner.open(spec);
    add("open", performance.now() - t0);
    let firstCombine = true;
    return {
      get backend() { return run.backend; }, get length() { return run.length; }, get dtype() { return run.dtype; },
      get timings() { return run.timings; }, get gpu() { return run.gpu; },
      upload: (s, d) => run.upload(s, d),
      async evaluate(e, x, ev) {
        const net0 = run.timings.network;
        const t = performance.now();
        await run.evaluate(e, x, ev);
        add("evaluate minus network", performance.now() - t - (run.timings.network - net0));
      },
      combine(spec2) {
        const t = performance.now();
        run.combine(spec2);
        add(firstCombine ? "combine: init noise" : "combine: steps", performance.now() - t);
        firstCombine = false;
      },
      async read(s) { const t = performance.now(); const r = await run.read(s); add("read", performance.now() - t); return r; },
      dispose: () => run.dispose(),
    };
  },
};
for (const n of [16, 64, 256]) {
  for (let w = 0; w < 2; w++) await sample({ model, plan, n, seed: w, backend: wrapped });
  const rows: Record<string, number>[] = [];
  for (let r = 0; r < 5; r++) {
    acc = {};
    const res = await sample({ model, plan, n, seed: r, backend: wrapped });
    const known = Object.values(acc).reduce((a, b) => a + b, 0) + res.timings.network;
    rows.push({ total: res.timings.total, network: res.timings.network, ...acc, "sample() rest": res.timings.total - known });
  }
  const med = (k: string) => rows.map((r) => r[k]).sort((a, b) => a - b)[2];
  const tot = med("total");
  console.log(`${kind} n=${n}: total ${tot.toFixed(1)} ms, non-network ${(100 * (1 - med("network") / tot)).toFixed(2)} %: ` +
    Object.keys(rows[0]).filter((k) => k !== "total" && k !== "network").map((k) => `${k} ${med(k).toFixed(2)} ms (${(100 * med(k) / tot).toFixed(2)} %)`).join(", "));
}
await model.dispose();
