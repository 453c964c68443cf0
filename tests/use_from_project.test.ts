/**
 * The package works from a user's own Deno project, imported as users will (by path here, as from
 * JSR or a URL), with no copy of this repository's import map: the SDK names its npm packages by
 * full `npm:` specifiers. The exported onnxruntime `.wasm` helpers point at the real file.
 */
import assert from "node:assert/strict";

Deno.test("a fresh project with an empty deno.json imports the package and samples on wasm and native", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/deno.json`, "{}\n");
    const root = new URL("../", import.meta.url);
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { loadModel, makePlan, ortWasmBinaryPath, sample } from "${new URL("mod.ts", root).href}";
const model = await loadModel(new URL("models/gmm-2d/", "${root.href}"));
const plan = makePlan({ method: "unipc", order: 3, steps: 8 });
const out = [];
for (const backend of ["wasm", "native"]) {
  const r = await sample({ model, plan, n: 2, seed: 1, backend });
  out.push({ backend: r.backend, finite: Array.from(r.data).every(Number.isFinite) });
}
await model.dispose();
console.log(JSON.stringify({ out, wasm: ortWasmBinaryPath() }));
`,
    );
    const res = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-ffi", "--allow-env", "main.ts"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { XDG_RUNTIME_DIR: "/tmp", NO_COLOR: "1" },
    }).output();
    const err = new TextDecoder().decode(res.stderr);
    assert.equal(res.code, 0, err);
    const r = JSON.parse(new TextDecoder().decode(res.stdout).trim().split("\n").pop()!);
    assert.deepEqual(r.out, [{ backend: "wasm", finite: true }, { backend: "native", finite: true }]);
    assert.ok((await Deno.stat(r.wasm)).isFile, r.wasm);
    assert.match(r.wasm, /ort-wasm-simd-threaded\.wasm$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the README's permissions are exactly enough: each backend runs under --no-prompt with only its grants", async () => {
  const { ortWasmBinaryPath, ortWebGpuBinaryPath } = await import("../src/runtime/wasm_binary.ts");
  const { probeAdapter } = await import("../src/runtime/ort.ts");
  const dir = await Deno.makeTempDir();
  const root = new URL("../", import.meta.url);
  const models = new URL("models/gmm-2d", root).pathname;
  try {
    await Deno.writeTextFile(`${dir}/deno.json`, "{}\n");
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { loadModel, makePlan, sample } from "${new URL("mod.ts", root).href}";
const model = await loadModel(${JSON.stringify(models)});
const r = await sample({ model, plan: makePlan({ steps: 6 }), n: 2, seed: 1, backend: Deno.args[0] as "wasm" });
await model.dispose();
console.log(r.backend);
`,
    );
    const run = async (backend: string, grants: string[]) => {
      const res = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-prompt", ...grants, "main.ts", backend],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
        env: { XDG_RUNTIME_DIR: "/tmp", NO_COLOR: "1" },
      }).output();
      return {
        code: res.code,
        out: new TextDecoder().decode(res.stdout).trim(),
        err: new TextDecoder().decode(res.stderr),
      };
    };
    const table: [string, string[]][] = [
      ["wasm", [`--allow-read=${models},${ortWasmBinaryPath()}`]],
      ["native", [`--allow-read=${models}`, "--allow-ffi"]],
    ];
    if (await probeAdapter()) table.push(["webgpu", [`--allow-read=${models},${ortWebGpuBinaryPath()}`]]);
    for (const [backend, grants] of table) {
      const ok = await run(backend, grants);
      assert.equal(ok.code, 0, `${backend} with ${grants.join(" ")}: ${ok.err}`);
      assert.equal(ok.out.split("\n").pop(), backend);
      // and each grant is needed: without the runtime file (or FFI) the run fails with a clear reason
      const fewer = await run(backend, [`--allow-read=${models}`]);
      assert.notEqual(fewer.code, 0, `${backend} ran without ${grants.join(" ")}`);
      assert.match(fewer.err, /read access|--allow-ffi|ffi/i);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
