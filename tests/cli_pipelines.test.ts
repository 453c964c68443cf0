// The sampling CLI's pipeline flags: a decoder model writes its decoded images (PNG and JSON),
// --image/--strength/--mask reproduce the API's img2img and inpainting, and misuse exits 2 naming the flag.

import assert from "node:assert/strict";
import { runTask } from "./helpers.ts";
import { decode } from "fast-png";
import { loadModel, makePlan, sample } from "../mod.ts";

const root = new URL("../", import.meta.url);

const run = (args: string[]) => runTask("sample", args);

Deno.test("sample CLI with a decoder model: the PNG and --out-json hold the decoded images", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await run([
      "--model",
      "tests/fixtures/byom/latent/model.json",
      "--method",
      "tab",
      "--order",
      "2",
      "--steps",
      "5",
      "--n",
      "6",
      "--seed",
      "3",
      "--backend",
      "wasm",
      "--cols",
      "3",
      "--out",
      `${dir}/d.png`,
      "--out-json",
      `${dir}/d.json`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/d.json`));
    assert.deepEqual(json.shape, [6, 4, 4, 4]);
    assert.deepEqual(json.decodedShape, [6, 1, 16, 16]);
    assert.equal(json.decoded.length, 6 * 256);
    const png = decode(await Deno.readFile(`${dir}/d.png`));
    // 16×16 images scaled ×4, 3 columns × 2 rows (plus the grid's gaps): wider than a latent grid could be
    assert.ok(png.width >= 3 * 64 && png.height >= 2 * 64, `${png.width}×${png.height}`);
    // the API gives the same decoded values
    const model = await loadModel(new URL("tests/fixtures/byom/latent/model.json", root));
    try {
      const plan = makePlan({ method: "tab", order: 2, steps: 5 });
      const api = await sample({ model, plan, n: 6, seed: 3, backend: "wasm" });
      assert.deepEqual(json.decoded, Array.from(api.decoded!));
    } finally {
      await model.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sample CLI --image/--strength/--mask equal the API's img2img and inpainting; misuse exits 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/image.json`, JSON.stringify({ shape: [1, 2], data: [0.5, -1.25] }));
    await Deno.writeTextFile(`${dir}/mask.json`, JSON.stringify({ shape: [1, 2], data: [1, 0] }));
    const base = ["--model", "models/gmm-2d", "--method", "ddim", "--steps", "10", "--n", "3", "--seed", "2"];
    const model = await loadModel(new URL("models/gmm-2d/", root));
    try {
      const plan = makePlan({ method: "ddim", steps: 10 });
      for (
        const [flags, opts] of [
          [["--strength", "0.6"], { strength: 0.6 }],
          [["--mask", `${dir}/mask.json`], { mask: [1, 0] }],
        ] as const
      ) {
        const r = await run([
          ...base,
          "--backend",
          "wasm",
          "--image",
          `${dir}/image.json`,
          ...flags,
          "--out-json",
          "-",
        ]);
        assert.equal(r.code, 0, r.stderr);
        const api = await sample({ model, plan, n: 3, seed: 2, backend: "wasm", image: [0.5, -1.25], ...opts });
        assert.deepEqual(JSON.parse(r.stdout).data, Array.from(api.data), flags.join(" "));
      }
    } finally {
      await model.dispose();
    }
    const bad = await run([...base, "--strength", "0.5", "--out-json", "-"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /strength/);
    const badShape = await run([...base, "--image", `${dir}/mask.json`, "--strength", "1.5", "--out-json", "-"]);
    assert.equal(badShape.code, 2);
    assert.match(badShape.stderr, /strength/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
