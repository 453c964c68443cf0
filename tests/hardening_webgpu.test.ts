// 500 consecutive WebGPU runs without GPU memory growth: every buffer created on the device
// (ours and onnxruntime's) is counted, and after a warm-up the number alive must stay flat.

import assert from "node:assert/strict";
import { gpuBufferStats, probeAdapter } from "../src/backends/mod.ts";
import { loadModel, makePlan, sample } from "../mod.ts";

const hasGpu = (await probeAdapter()) !== null;
if (!hasGpu) console.error("hardening_webgpu: no WebGPU adapter (install mesa-vulkan-drivers); test ignored");

/** Counts live GPUBuffers device-wide by wrapping createBuffer and destroy. */
function instrumentBuffers(): { live: () => number; bytes: () => number; created: () => number } {
  const live = new Map<GPUBuffer, number>();
  let created = 0;
  const proto = GPUDevice.prototype as unknown as { createBuffer: (d: GPUBufferDescriptor) => GPUBuffer };
  const create = proto.createBuffer;
  proto.createBuffer = function (this: GPUDevice, desc: GPUBufferDescriptor) {
    const b = create.call(this, desc);
    live.set(b, desc.size);
    created++;
    return b;
  };
  const bproto = GPUBuffer.prototype as unknown as { destroy: () => void };
  const destroy = bproto.destroy;
  bproto.destroy = function (this: GPUBuffer) {
    live.delete(this);
    return destroy.call(this);
  };
  return { live: () => live.size, bytes: () => [...live.values()].reduce((a, b) => a + b, 0), created: () => created };
}

Deno.test({
  name: "500 consecutive webgpu runs: no growth in live GPU buffers or bytes",
  ignore: !hasGpu,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const counter = instrumentBuffers();
    const model = await loadModel(new URL("../models/gmm-2d/", import.meta.url));
    try {
      const plans = [
        makePlan({ method: "tab", order: 3, steps: 3 }),
        makePlan({ method: "rhork", rk: "heun2", steps: 1 }),
        makePlan({ method: "ddim", lambda: 1, steps: 2 }),
      ];
      const run = (i: number) => sample({ model, plan: plans[i % 3], n: 1 + (i % 4), seed: i, backend: "webgpu" });
      for (let i = 0; i < 20; i++) await run(i);
      const warmLive = counter.live(), warmBytes = counter.bytes(), warmCreated = counter.created();
      // The instrumentation must see the buffers (onnxruntime's pool and ours), or the test proves nothing.
      assert.ok(warmLive > 0 && warmCreated > 20, `instrumentation saw ${warmLive} live / ${warmCreated} created`);
      for (let i = 20; i < 500; i++) {
        const r = await run(i);
        assert.equal(r.backend, "webgpu");
        assert.equal(r.gpu!.readbacks, 1);
      }
      assert.ok(counter.created() > warmCreated + 480, "each run creates its own buffers");
      assert.ok(counter.live() <= warmLive, `live buffers grew from ${warmLive} to ${counter.live()}`);
      assert.ok(counter.bytes() <= warmBytes, `live bytes grew from ${warmBytes} to ${counter.bytes()}`);
      const own = gpuBufferStats();
      assert.equal(own.live, 0, "the sampler's own buffers are all released");
      assert.equal(own.created, own.destroyed);
    } finally {
      await model.dispose();
    }
  },
});
