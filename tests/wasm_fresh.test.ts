// The committed WASM modules must be what `deno task build:wasm` builds from assembly/ today.

import assert from "node:assert/strict";
import { compileWasm, renderModule, TARGETS } from "../tools/build_wasm.ts";

for (const t of TARGETS) {
  Deno.test(`${t.target} matches a fresh build of ${t.entry}`, async () => {
    const fresh = renderModule(t, await compileWasm(t));
    const committed = await Deno.readTextFile(new URL(`../${t.target}`, import.meta.url));
    assert.ok(fresh === committed, `the committed ${t.target} is stale: run \`deno task build:wasm\``);
  });
}
