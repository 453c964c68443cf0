/**
 * Records bit-exact samples of every method × backend × λ × final denoising, so that a refactor of
 * the plan format and the sampling loop can be checked to change no bit (tests/plan_regression.test.ts).
 * The recording was made once, before plans became programs; rerun only when a change is meant to
 * alter samples, and say so in the commit.
 *
 *   deno run -A tools/regression/record.ts [--check]
 *
 * @module
 */

import { regressionCases, runRegressionCase } from "./cases.ts";

const OUT = new URL("../../tests/fixtures/regression_samples.json", import.meta.url);

const results: Record<string, string> = {};
for (const c of regressionCases()) {
  const r = await runRegressionCase(c);
  if (r === undefined) {
    console.error(`skipped ${c.id} (backend unavailable)`);
    continue;
  }
  results[c.id] = r;
}
if (Deno.args.includes("--check")) {
  const old = JSON.parse(await Deno.readTextFile(OUT)).samples as Record<string, string>;
  let bad = 0;
  for (const [k, v] of Object.entries(results)) if (old[k] !== v) (bad++, console.error(`differs: ${k}`));
  console.log(`${Object.keys(results).length} cases, ${bad} differ`);
} else {
  await Deno.writeTextFile(
    OUT,
    JSON.stringify(
      { note: "base64 of the little-endian sample bytes; see tools/regression/record.ts", samples: results },
      null,
      1,
    ) +
      "\n",
  );
  console.log(`${Object.keys(results).length} cases written`);
}
Deno.exit(0);
