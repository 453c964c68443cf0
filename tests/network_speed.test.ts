// bench/network_speed.ts (the per-sample-evaluation timing the README and the model card quote)
// runs on the shipped model, in one process and in two, and rejects a bad setting by name.

import assert from "node:assert/strict";

async function speed(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "bench/network_speed.ts", "--seconds", "0.3", "--batch", "4", ...args],
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("network_speed: one process and two processes report finite per-sample times", async () => {
  const one = await speed();
  assert.equal(one.code, 0, one.stderr);
  const r1 = JSON.parse(one.stdout);
  assert.ok(r1.msPerSampleEval > 0 && Number.isFinite(r1.msPerSampleEval), one.stdout);

  const two = await speed("--processes", "2");
  assert.equal(two.code, 0, two.stderr);
  const r2 = JSON.parse(two.stdout);
  assert.equal(r2.msPerSampleEval.length, 2);
  assert.ok(r2.msPerSampleEval.every((ms: number) => ms > 0 && Number.isFinite(ms)), two.stdout);
  // The combined time per sample-evaluation is the harmonic combination: below each process's own.
  assert.ok(r2.combined < Math.min(...r2.msPerSampleEval), two.stdout);
});

Deno.test("network_speed: a bad setting fails naming the flag", async () => {
  const bad = await speed("--threads", "0");
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--threads must be a positive integer, got 0/);
  const half = await speed("--processes", "1.5");
  assert.notEqual(half.code, 0);
  assert.match(half.stderr, /--processes must be a positive integer, got 1\.5/);
});
