/**
 * Bit-exactness across refactors: every method × backend × λ × final denoising gives exactly the
 * samples recorded from the code before plans became programs (tools/regression/record.ts).
 */
import assert from "node:assert/strict";
import { regressionCases, runRegressionCase } from "../tools/regression/cases.ts";
import { decodeBase64 } from "../src/util/base64.ts";

const recorded = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/regression_samples.json", import.meta.url)),
).samples as Record<string, string>;

Deno.test({
  name: "every existing method gives bit-identical samples on cpu, wasm and webgpu",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const differing: string[] = [];
    let ran = 0;
    for (const c of regressionCases()) {
      const got = await runRegressionCase(c);
      if (got === undefined) continue; // no WebGPU adapter on this runtime
      ran++;
      const want = recorded[c.id];
      assert.ok(want, `no recording for ${c.id}`);
      if (got !== want) {
        const a = new Float32Array(decodeBase64(got).buffer), b = new Float32Array(decodeBase64(want).buffer);
        differing.push(`${c.id} (first values ${a.slice(0, 2).join(", ")} vs ${b.slice(0, 2).join(", ")})`);
      }
    }
    assert.ok(ran >= 104, `only ${ran} cases ran`);
    assert.deepEqual(differing, [], `samples changed:\n${differing.join("\n")}`);
  },
});
