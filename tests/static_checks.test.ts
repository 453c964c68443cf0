// `deno task check`: formatting, lint, type checks of every TypeScript file we ship or run (the
// browser page separately, with the DOM library), the public API's JSDoc, and a publish dry run.

import assert from "node:assert/strict";

Deno.test("deno task check passes (fmt, lint, type check, doc lint, publish dry run)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "check"],
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(300_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text.slice(-4000));
});
