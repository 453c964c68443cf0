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

async function run(args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text.slice(-2000));
  return text;
}

async function exportedNames(entry: string): Promise<string[]> {
  const doc = JSON.parse(await run(["doc", "-q", "--json", entry]));
  const modules = Object.values(doc.nodes) as { symbols: { name: string }[] }[];
  return modules.flatMap((m) => m.symbols.map((s) => s.name));
}

Deno.test("the root exports the user API; what backend authors need is under ./backend", async () => {
  const deno = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  assert.equal(deno.exports["./backend"], "./src/backends/mod.ts");
  const rootNames = await exportedNames("mod.ts");
  const backendNames = await exportedNames("src/backends/mod.ts");
  for (const internal of ["Run", "RunSpec", "CombineSpec", "EpsSource", "Evaluation", "OrtTensor", "interpret"]) {
    assert.ok(!rootNames.includes(internal), `${internal} is exported by the root`);
    assert.ok(backendNames.includes(internal), `${internal} is missing from ./backend`);
  }
  for (const api of ["makePlan", "sample", "sampleFunction", "loadModel", "checkPlan", "ConfigError", "METHODS"]) {
    assert.ok(rootNames.includes(api), `${api} is not exported by the root`);
  }
});

Deno.test("deno publish --dry-run ships no test- or tool-only file", async () => {
  const text = await run(["publish", "--dry-run", "--allow-dirty"]);
  const files = [...text.matchAll(/file:\/\/\S+/g)].map((m) => m[0]);
  assert.ok(files.some((f) => f.endsWith("/mod.ts")), "the file list was not found in the output");
  const testOnly = files.filter((f) =>
    /\/(tests|testing|tools|bench|examples)\/|\/src\/(onnx|reference)\/|synthetic/.test(f)
  );
  assert.deepEqual(testOnly, []);
});
