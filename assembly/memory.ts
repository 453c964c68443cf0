// A bump allocator over linear memory. The host (TypeScript) and the engine share it: the host
// allocates its input and output arrays, the engine its scratch arrays, all released at once by
// `resetScratch`. A persistent prefix (the vp-discrete table) survives resets.

let persistentEnd: usize = 0;
let top: usize = 0;

function heapStart(): usize {
  return (__heap_base + 15) & ~(<usize> 15);
}

/** Releases everything, the persistent prefix included. */
export function resetAll(): void {
  persistentEnd = heapStart();
  top = persistentEnd;
}

/** Releases everything allocated since the persistent prefix. */
export function resetScratch(): void {
  if (persistentEnd == 0) resetAll();
  top = persistentEnd;
}

/** Makes everything allocated so far persistent. */
export function markPersistent(): void {
  persistentEnd = top;
}

/** Allocates `bytes` (8-byte aligned), growing memory as needed; returns the address. */
export function alloc(bytes: i32): usize {
  if (persistentEnd == 0) resetAll();
  const ptr = top;
  top = (top + <usize> bytes + 7) & ~(<usize> 7);
  const have = (<usize> memory.size()) << 16;
  if (top > have) {
    const pages = <i32> ((top - have + 0xffff) >>> 16);
    if (memory.grow(pages) < 0) unreachable();
  }
  return ptr;
}

// @ts-ignore: decorator
export function getF(ptr: usize, i: i32): f64 {
  return load<f64>(ptr + ((<usize> i) << 3));
}

// @ts-ignore: decorator
export function setF(ptr: usize, i: i32, v: f64): void {
  store<f64>(ptr + ((<usize> i) << 3), v);
}
