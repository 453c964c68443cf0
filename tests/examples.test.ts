// Every runnable example in examples/ exits cleanly (the README's quick starts come from them).

import assert from "node:assert/strict";

const dir = new URL("../examples/", import.meta.url);
const examples = [...Deno.readDirSync(dir)].filter((e) => e.isFile && e.name.endsWith(".ts")).map((e) => e.name).sort();

for (const name of examples) {
  Deno.test(`examples/${name} runs`, async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(name, dir).pathname],
      cwd: new URL("../", import.meta.url),
      stdout: "piped",
      stderr: "piped",
      env: { XDG_RUNTIME_DIR: "/tmp" },
      signal: AbortSignal.timeout(240_000),
    }).output();
    const text = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `examples/${name} failed:\n${text.slice(-2000)}`);
  });
}
