// The committed WASM module must be what `deno task build:wasm` builds from assembly/ today.

import assert from "node:assert/strict";
import { compileEngine, renderModule } from "../tools/build_wasm.ts";

Deno.test("src/coefficients/wasm_bytes.ts matches a fresh build of assembly/", async () => {
  const fresh = renderModule(await compileEngine());
  const committed = await Deno.readTextFile(
    new URL("../src/coefficients/wasm_bytes.ts", import.meta.url),
  );
  assert.ok(
    fresh === committed,
    "the committed engine is stale: run `deno task build:wasm`",
  );
});
