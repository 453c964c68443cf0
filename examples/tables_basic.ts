// Build a 10-step tAB-DEIS (r = 3) plan and print its grid and weights.
//
//     deno run examples/tables_basic.ts

import { makePlan } from "../mod.ts";

const plan = makePlan({ sde: "vp-linear", method: "tab", order: 3, steps: 10, grid: "time-quadratic" });
console.log(`NFE ${plan.nfe}; the network is evaluated at t =`, plan.evalTimes.map((t) => t.toFixed(4)).join(" "));
plan.rows!.forEach((row, k) => {
  const [xCoef, ...c] = row;
  console.log(
    `step ${k}: t ${plan.timesteps[k].toFixed(4)} → ${plan.timesteps[k + 1].toFixed(4)}  x·${
      xCoef.toFixed(6)
    }  ε weights ${c.map((v) => v.toFixed(6)).join(", ")}`,
  );
});
