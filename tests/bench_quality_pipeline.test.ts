/**
 * bench:quality:pipeline --quick writes its JSON, markdown and picture, every cell has a finite FD
 * and an accuracy in [0, 1], and guidance does what it should: at w = 2 more digits are of the
 * requested class than at w = 1 (summed over the samplers; the classifier is an independent network).
 */
import assert from "node:assert/strict";

Deno.test({
  name: "bench:quality:pipeline --quick: finite results, a picture, and guidance raises class accuracy",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "bench/quality_pipeline.ts", "--quick", "--backend", "wasm", "--out", dir],
        cwd: new URL("../", import.meta.url),
        stdout: "piped",
        stderr: "piped",
        env: { XDG_RUNTIME_DIR: "/tmp" },
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const r = JSON.parse(await Deno.readTextFile(`${dir}/quality_pipeline-quick.json`));
      assert.equal(r.cells.length, 4 * 2 * 2);
      for (const c of r.cells) {
        assert.ok(Number.isFinite(c.fd) && c.fd > 0, JSON.stringify(c));
        assert.ok(c.accuracy >= 0 && c.accuracy <= 1, JSON.stringify(c));
      }
      const acc = (w: number) =>
        r.cells.filter((c: { guidance: number }) => c.guidance === w).reduce(
          (s: number, c: { accuracy: number }) => s + c.accuracy,
          0,
        );
      assert.ok(acc(2) > acc(1), `accuracy with guidance 2 (${acc(2)}) should beat w = 1 (${acc(1)})`);
      assert.match(await Deno.readTextFile(`${dir}/quality_pipeline-quick.md`), /\| tab3 \| 10 \|/);
      assert.ok((await Deno.stat(`${dir}/quality_pipeline_grid-quick.png`)).size > 1000);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
