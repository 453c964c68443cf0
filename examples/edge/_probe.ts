import { loadModel, makePlan, sample } from "../../mod.ts";
const model = await loadModel(Deno.args[0] ?? "models/gmm-image");
const plan = makePlan({ method: "tab", order: 3, steps: 10 });
const t0 = performance.now();
const r = await sample({ model, plan, n: 4, seed: 1, backend: "wasm" });
console.log(r.shape, r.nfe, r.backend, performance.now() - t0, Deno.memoryUsage());
