/**
 * Probes Deno's WebGPU: requests the default adapter and prints one JSON line with its info
 * (`{"adapter": true, "fallback": false, "description": …, "info": {…}}`). Exits 0 for a hardware
 * adapter, 3 (with a one-line reason on stderr) when there is none or only a software (fallback)
 * adapter such as llvmpipe, unless `--allow-fallback` is given.
 *
 *     deno run -A bench/gpu/probe.ts [--allow-fallback]
 *
 * @module
 */

const allowFallback = Deno.args.includes("--allow-fallback");
const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
let adapter: GPUAdapter | null = null;
let error = "";
try {
  adapter = gpu ? await gpu.requestAdapter({ powerPreference: "high-performance" }) : null;
} catch (e) {
  error = (e as Error).message;
}
if (!adapter) {
  console.log(
    JSON.stringify({ adapter: false, error: error || (gpu ? "requestAdapter() gave null" : "no navigator.gpu") }),
  );
  console.error(
    `no hardware WebGPU adapter: ${
      gpu ? `requestAdapter() gave none${error ? ` (${error})` : ""}` : "this Deno has no navigator.gpu"
    }`,
  );
  Deno.exit(3);
}
const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
const fallback = Boolean(info?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter);
const description = [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => s).join(" ") ||
  "unknown adapter";
console.log(JSON.stringify({
  adapter: true,
  fallback,
  description,
  info: {
    vendor: info?.vendor,
    architecture: info?.architecture,
    device: info?.device,
    description: info?.description,
  },
  maxBufferSize: adapter.limits.maxBufferSize,
  maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
}));
if (fallback && !allowFallback) {
  console.error(
    `no hardware WebGPU adapter: only a software (fallback) adapter was found: ${description} ` +
      `(pass --allow-fallback to benchmark it anyway)`,
  );
  Deno.exit(3);
}
