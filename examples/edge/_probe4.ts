console.log(import.meta.resolve("onnxruntime-web"), import.meta.resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm"));
