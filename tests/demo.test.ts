/**
 * `deno task demo`, the README's main command: its flags map to the sample CLI as documented, and
 * the PNG it writes shows the requested digits row by row — read back from the picture and
 * classified with models/mnist-features (an independent network, not the sampler's own output).
 */
import assert from "node:assert/strict";
import { decode } from "fast-png";
import { demoArgs } from "../src/cli/demo.ts";
import { classifyDigits } from "../testing/mnist_classifier.ts";
import { runTask } from "./helpers.ts";

Deno.test("demo flags: one row per digit by default, --digit fills the grid, --model mnist is unconditional", () => {
  const byRow = demoArgs([]);
  const cond = byRow[byRow.indexOf("--cond") + 1];
  assert.equal(cond, `class_labels=${Array.from({ length: 80 }, (_, i) => Math.floor(i / 8)).join(",")}`);
  assert.ok(!byRow.includes("--guidance"), "the model's defaultGuidance applies");
  assert.deepEqual(byRow.slice(byRow.indexOf("--method"), byRow.indexOf("--method") + 6), [
    "--method",
    "tab",
    "--order",
    "3",
    "--steps",
    "10",
  ]);
  const seven = demoArgs(["--digit", "7", "--guidance", "4"]);
  assert.equal(seven[seven.indexOf("--cond") + 1], `class_labels=${new Array(64).fill(7).join(",")}`);
  assert.equal(seven[seven.indexOf("--guidance") + 1], "4");
  const mnist = demoArgs(["--model", "models/mnist"]);
  assert.ok(!mnist.includes("--cond") && mnist.includes("time-quadratic"));
  assert.throws(() => demoArgs(["--digit", "12"]), /--digit/);
  assert.throws(() => demoArgs(["--colour", "red"]), /--colour|Unknown option/);
});

/** The 28×28 tiles of a demo PNG (scale ×2, gap 2, 8 columns), back in [-1, 1]. */
function tiles(png: { width: number; height: number; data: ArrayLike<number>; channels: number }, count: number) {
  const scale = 2, gap = 2, cols = 8, side = 28 * scale;
  const out = new Float32Array(count * 784);
  for (let k = 0; k < count; k++) {
    const x0 = gap + (k % cols) * (side + gap), y0 = gap + Math.floor(k / cols) * (side + gap);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const p = ((y0 + y * scale) * png.width + x0 + x * scale) * png.channels;
        out[k * 784 + y * 28 + x] = png.data[p] / 127.5 - 1;
      }
    }
  }
  return out;
}

Deno.test({
  name: "deno task demo writes one row per digit class 0–9, and a classifier reads them back as asked",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const r = await runTask("demo", ["--out", `${dir}/digits.png`, "--backend", "wasm"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /samples: .*digits\.png \(\d+\.\d s including model load\)/);
      const png = decode(await Deno.readFile(`${dir}/digits.png`));
      assert.equal(png.width, 8 * 56 + 9 * 2);
      assert.equal(png.height, 10 * 56 + 11 * 2);
      const images = tiles(png, 80);
      const { labels } = await classifyDigits(images, 80);
      let right = 0;
      const perRow = new Array(10).fill(0);
      for (let k = 0; k < 80; k++) {
        if (labels[k] === Math.floor(k / 8)) {
          right++;
          perRow[Math.floor(k / 8)]++;
        }
      }
      // the pipeline's measured accuracy at tab3, 10 NFE, the model's defaultGuidance: bench/results/quality_pipeline.md
      assert.ok(right >= 0.85 * 80, `${right}/80 digits of the requested class (per row: ${perRow.join(" ")})`);
      assert.ok(perRow.every((c) => c >= 5), `every row mostly its digit: ${perRow.join(" ")}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
