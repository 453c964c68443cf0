// Precompute plans offline as JSON, then load them where no WASM runs (an edge function, another
// language): planFromJSON only parses and checks.
//
//     deno run examples/tables_offline.ts

// The ./plan entry point (`@seed/deis/plan`): plans without onnxruntime.
import { ConfigError, makePlan, planFromJSON, planToJSON } from "../src/plan/mod.ts";

const ddpm: number[] = [];
let prod = 1;
for (let i = 0; i < 1000; i++) ddpm.push(prod *= 1 - (1e-4 + (i * (0.02 - 1e-4)) / 999));

const configs = [
  { sde: "vp-discrete", alphasCumprod: ddpm, method: "logrho", order: 2, steps: 15, grid: "logrho" },
  { sde: "ve", method: "rhork", rk: "heun2", steps: 8, grid: "karras" },
  { method: "ddim", lambda: 1, steps: 20 },
] as const;
for (const config of configs) {
  const text = planToJSON(makePlan(config));
  const plan = planFromJSON(text);
  console.log(`${plan.sde.name} ${plan.method}: ${plan.steps} steps, ${plan.nfe} NFE, ${text.length} bytes of JSON`);
}

// Bad input raises a typed error naming the field.
try {
  makePlan({ method: "tab", order: 5 });
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.log(`rejected: ${e.message}`);
}
