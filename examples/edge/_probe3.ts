let bytes: Uint8Array | undefined;
try {
  bytes = (await import("onnxruntime-web/ort-wasm-simd-threaded.wasm", { with: { type: "bytes" } })).default;
} catch (e) { console.log("no raw import:", (e as Error).message.split("\n")[0]); }
console.log(bytes?.byteLength, (self as any).crossOriginIsolated);
