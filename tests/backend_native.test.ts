/**
 * The native backend (onnxruntime-node): the same run contract as wasm — every method agrees with
 * wasm, float64 models follow the exact float64 loop, the same Philox noise, typed errors for bad
 * networks and guidance as one batched call — plus how `auto` chooses it, and that neither the
 * browser bundle nor `@seed/deis/plan` pulls it in.
 */
import assert from "node:assert/strict";
import { BackendUnavailableError, ConfigError, ModelError } from "../src/errors.ts";
import { loadModel, type Model } from "../src/model/mod.ts";
import { gaussianModel } from "../testing/synthetic.ts";
import { sample, sampleFunction } from "../src/sampling/mod.ts";
import { makePlan } from "../src/plan/make_plan.ts";
import { METHODS, RK_NAMES } from "../src/plan/registry.ts";
import type { PlanConfig } from "../src/plan/config.ts";
import { gmmEpsBatch, gmmFromSpec, type GmmSpec, referenceSde } from "../testing/reference/mod.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const MODELS = new URL("../models/", import.meta.url);

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Every registry method (each order, variant and tableau once), with final denoising on every other. */
function everyMethod(): [PlanConfig, boolean][] {
  const out: [PlanConfig, boolean][] = [];
  for (const m of METHODS) {
    for (let order = m.orders[0]; order <= m.orders[1]; order++) {
      for (
        const extra of m.name === "rhork" ? RK_NAMES.map((rk) => ({ rk })) : m.variants.map((variant) => ({ variant }))
      ) {
        out.push([
          { method: m.name, ...(m.orders[1] ? { order } : {}), ...extra, steps: 8 } as PlanConfig,
          out.length % 2 === 1,
        ]);
      }
      if (m.name !== "rhork" && m.variants.length === 0) {
        out.push([{ method: m.name, ...(m.orders[1] ? { order } : {}), steps: 8 } as PlanConfig, out.length % 2 === 1]);
      }
    }
  }
  out.push([{ method: "ddim", lambda: 1, steps: 8 }, true]);
  return out;
}

Deno.test({
  name: "native and wasm agree for every method (gmm-2d, gmm-image), stochastic DDIM included",
  ...opts,
  async fn() {
    const models: Model[] = [];
    try {
      for (const name of ["gmm-2d", "gmm-image"]) {
        const model = await loadModel(new URL(`${name}/`, MODELS));
        models.push(model);
        for (const [cfg, denoiseFinal] of everyMethod()) {
          const plan = makePlan(cfg);
          const common = { model, plan, n: 6, seed: 21, denoiseFinal };
          const nat = await sample({ ...common, backend: "native" });
          const wasm = await sample({ ...common, backend: "wasm" });
          assert.equal(nat.backend, "native");
          assert.equal(nat.nfe, wasm.nfe);
          const scale = Math.max(...Array.from(wasm.data, Math.abs));
          const d = maxAbs(nat.data, wasm.data) / scale;
          assert.ok(d <= 1e-4, `${name} ${JSON.stringify(cfg)}: scaled difference ${d.toExponential(2)}`);
        }
      }
    } finally {
      for (const m of models) await m.dispose();
    }
  },
});

Deno.test({
  name: "native on a float64 model follows the exact float64 loop (same x_T, same noise)",
  ...opts,
  async fn() {
    const model = await loadModel(new URL("gmm-2d-f64/", MODELS));
    try {
      const g = gmmFromSpec(model.manifest.extra.gmm as GmmSpec);
      const sde = referenceSde({ name: "vp-linear", betaMin: 0.1, betaMax: 20 });
      for (const cfg of [{ method: "tab", order: 3 }, { method: "unipc", order: 3 }, { method: "ddim", lambda: 1 }]) {
        const plan = makePlan({ ...cfg, steps: 10 } as PlanConfig);
        const nat = await sample({ model, plan, n: 5, seed: 4, backend: "native" });
        assert.ok(nat.data instanceof Float64Array);
        const exact = await sampleFunction({
          plan,
          n: 5,
          seed: 4,
          sampleShape: [2],
          eps: (x, t) => gmmEpsBatch(g, sde, x, t),
        });
        const d = maxAbs(nat.data, exact.data);
        assert.ok(d <= 1e-10, `${JSON.stringify(cfg)}: ${d.toExponential(2)} from the float64 loop`);
      }
    } finally {
      await model.dispose();
    }
  },
});

Deno.test({
  name: "native: wrong output shape, NaN output and missing inputs are typed errors; guidance is one 2n call",
  ...opts,
  async fn() {
    const plan = makePlan({ method: "tab", order: 2, steps: 6 });
    const shape = gaussianModel({ name: "bad-shape", fault: "shape" });
    const shapeModel = await loadModel(shape.bytes, { manifest: shape.manifest });
    await assert.rejects(sample({ model: shapeModel, plan, n: 3, seed: 1, backend: "native" }), (e: unknown) => {
      assert.ok(e instanceof ModelError && /shape \[3, 4\].*expected \[3, 2\]/.test(e.message), String(e));
      return true;
    });
    await shapeModel.dispose();
    const nan = gaussianModel({ name: "bad-nan", fault: "nan", nanBelow: 0.5 });
    const nanModel = await loadModel(nan.bytes, { manifest: nan.manifest });
    const firstBad = plan.timesteps.findIndex((t) => t < 0.5);
    await assert.rejects(sample({ model: nanModel, plan, n: 3, seed: 1, backend: "native" }), (e: unknown) => {
      assert.ok(e instanceof ModelError && new RegExp(`at evaluation ${firstBad} `).test(e.message), String(e));
      return true;
    });
    await nanModel.dispose();
    const labelled = gaussianModel({ name: "guided", label: { shift: 0.3 } });
    const model = await loadModel(labelled.bytes, { manifest: labelled.manifest });
    const batches: number[] = [];
    const orig = model.runInto.bind(model);
    model.runInto = (kind, feeds, into) => {
      batches.push(feeds.x.dims[0]);
      return orig(kind, feeds, into);
    };
    const common = { model, plan, n: 3, seed: 2, conditioning: { label: [1, 2, 3] }, guidance: 2.5 };
    const nat = await sample({ ...common, backend: "native" });
    assert.deepEqual([...new Set(batches)], [6]);
    const wasm = await sample({ ...common, backend: "wasm" });
    assert.ok(maxAbs(nat.data, wasm.data) <= 1e-5);
    await assert.rejects(
      sample({ ...common, conditioning: { nope: 1 }, backend: "native" }),
      (e: unknown) => e instanceof ConfigError && e.field === "conditioning.nope",
    );
    await model.dispose();
  },
});

async function runSnippet(code: string, permissions: string[]): Promise<string> {
  const file = await Deno.makeTempFile({ dir: new URL("../", import.meta.url).pathname, suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, code);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...permissions, file],
      cwd: new URL("../", import.meta.url),
      stdout: "piped",
      stderr: "piped",
      env: { XDG_RUNTIME_DIR: "/tmp", NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, text + new TextDecoder().decode(out.stderr));
    return text.trim();
  } finally {
    await Deno.remove(file);
  }
}

Deno.test({
  name: "auto picks native in a Deno process that may load it, and WASM (saying why) without --allow-ffi",
  ...opts,
  async fn() {
    const code = `import { createBackend } from "./src/backends/mod.ts";
const b = await createBackend("auto", { allowFallbackAdapter: false });
console.log(JSON.stringify({ name: b.name, reason: b.reason }));`;
    const withFfi = JSON.parse(await runSnippet(code, ["--allow-read", "--allow-env", "--allow-ffi", "--allow-write"]));
    const hardwareGpu = withFfi.name === "webgpu";
    if (!hardwareGpu) {
      assert.equal(withFfi.name, "native", withFfi.reason);
      assert.match(withFfi.reason, /onnxruntime-node loaded/);
    }
    const noFfi = JSON.parse(await runSnippet(code, ["--allow-read", "--allow-env", "--allow-write"]));
    if (!hardwareGpu) {
      assert.equal(noFfi.name, "wasm");
      assert.match(noFfi.reason, /--allow-ffi/);
    }
    await assert.rejects(
      runSnippet(`import { createBackend } from "./src/backends/mod.ts"; await createBackend("native");`, [
        "--allow-read",
        "--allow-env",
      ]),
      /BackendUnavailableError|native backend unavailable/,
    );
    assert.ok(BackendUnavailableError);
  },
});

Deno.test({
  name: "the browser bundle and the ./plan entry never pull in onnxruntime-node",
  ...opts,
  async fn() {
    const info = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "src/plan/mod.ts"],
      cwd: new URL("../", import.meta.url),
      stdout: "piped",
    }).output();
    const modules = JSON.parse(new TextDecoder().decode(info.stdout)).modules as { specifier: string }[];
    assert.ok(modules.length > 5 && !modules.some((m) => /onnxruntime/.test(m.specifier)));
    const { buildDemo } = await import("../examples/browser/build.ts");
    const out = await Deno.makeTempDir();
    try {
      await buildDemo({ out });
      let sawDynamicImport = false;
      for await (const f of Deno.readDir(out)) {
        if (!f.name.endsWith(".js")) continue;
        const text = await Deno.readTextFile(`${out}/${f.name}`);
        // Only the external specifier of the dynamic import may appear, never the package's code.
        assert.ok(
          !/onnxruntime_binding|napi-v\d|bin\/napi/.test(text),
          `${f.name} bundles onnxruntime-node`,
        );
        sawDynamicImport ||= text.includes("onnxruntime-node");
      }
      assert.ok(sawDynamicImport, "the worker bundle should keep the (never taken) external import");
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
