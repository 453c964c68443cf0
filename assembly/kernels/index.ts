// The CPU backends' kernels (src/backends/kernels.ts instantiates them): the register update and the
// Gaussian noise, over memory the host imports and lays out. Nothing here allocates.

export { combine, epsFromOutput, PER_PASS, SOURCE_BYTES } from "./update";
export { gaussian } from "./noise";

/** The first address the host may use (past this module's static data), 16-byte aligned. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~(<usize> 15);
}
