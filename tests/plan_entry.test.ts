// `@seed/deis/plan` (src/plan/mod.ts) gives plans without loading onnxruntime-web: its module graph
// holds no npm package, and it exports the same plan functions as the root.

import assert from "node:assert/strict";
import * as root from "../mod.ts";
import * as planOnly from "../src/plan/mod.ts";

Deno.test("the ./plan entry point loads no npm package", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "src/plan/mod.ts"],
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  const specifiers: string[] = info.modules.map((m: { specifier: string }) => m.specifier);
  assert.ok(specifiers.some((s) => s.endsWith("/src/coefficients/engine.ts")));
  assert.deepEqual(specifiers.filter((s) => !s.startsWith("file:")), []);
});

Deno.test("the ./plan entry point exports the root's plan API", () => {
  const deno = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  assert.equal(deno.exports["./plan"], "./src/plan/mod.ts");
  for (const [name, value] of Object.entries(planOnly)) {
    assert.equal((root as Record<string, unknown>)[name], value, name);
  }
  assert.deepEqual(planOnly.makePlan({ steps: 7 }).rows, root.makePlan({ steps: 7 }).rows);
});
