/**
 * Samples → pictures: tile a batch of images into one grayscale or RGB grid, and encode it as PNG
 * (with fast-png, a maintained pure-JS encoder that runs in Deno, browsers and edge runtimes).
 *
 * @module
 */

// A full npm: specifier so that no import map is needed (see src/runtime/ort.ts).
// deno-lint-ignore no-import-prefix
import { encode } from "npm:fast-png@8.0.0";
import { ConfigError } from "../errors.ts";

/** An 8-bit image, row-major, `channels` values per pixel. */
export interface Image {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** 1 (grayscale) or 3 (RGB). */
  channels: 1 | 3;
  /** `width · height · channels` bytes, row-major, channels interleaved. */
  pixels: Uint8Array;
}

/** Options of {@link tileSamples}. */
export interface TileOptions {
  /** Columns of the grid (default: ceil(sqrt(n))). */
  cols?: number;
  /** Each sample pixel becomes a `scale × scale` block (default 1). */
  scale?: number;
  /** Pixels between tiles (default 2), filled with `background`. */
  gap?: number;
  /** Data value range mapped to 0..255 (default [-1, 1]); values outside are clipped. */
  range?: readonly [number, number];
  /** Gap colour, 0..255 (default 255). */
  background?: number;
}

/**
 * Tiles `n` samples of shape `[C, H, W]` (C = 1 or 3) or `[H, W]` into one image.
 *
 * @example
 * ```ts
 * import { encodePng, tileSamples } from "@seed/deis";
 * const data = new Float32Array(4 * 28 * 28); // four blank digits
 * const png = encodePng(tileSamples(data, [4, 1, 28, 28], { scale: 2 }));
 * ```
 */
export function tileSamples(
  data: ArrayLike<number>,
  shape: readonly number[],
  options: TileOptions = {},
): Image {
  const [n, ...sample] = shape;
  const [c, h, w] = sample.length === 2 ? [1, sample[0], sample[1]] : sample.length === 3 ? sample : [0, 0, 0];
  if (!(c === 1 || c === 3) || !(h > 0 && w > 0)) {
    throw new ConfigError(
      "shape",
      "[n, C, H, W] with C = 1 or 3, or [n, H, W]",
      shape,
    );
  }
  if (data.length !== n * c * h * w) {
    throw new ConfigError(
      "data",
      `${n * c * h * w} values for shape [${shape}]`,
      data,
    );
  }
  const cols = options.cols ?? Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const scale = options.scale ?? 1;
  const gap = options.gap ?? 2;
  const [lo, hi] = options.range ?? [-1, 1];
  const tw = w * scale, th = h * scale;
  const width = cols * tw + (cols + 1) * gap;
  const height = rows * th + (rows + 1) * gap;
  const pixels = new Uint8Array(width * height * c).fill(
    options.background ?? 255,
  );
  for (let i = 0; i < n; i++) {
    const x0 = gap + (i % cols) * (tw + gap);
    const y0 = gap + Math.floor(i / cols) * (th + gap);
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        const sy = Math.floor(y / scale), sx = Math.floor(x / scale);
        for (let ch = 0; ch < c; ch++) {
          const v = data[((i * c + ch) * h + sy) * w + sx];
          const byte = Number.isFinite(v) ? Math.round((255 * (v - lo)) / (hi - lo)) : 0;
          pixels[((y0 + y) * width + x0 + x) * c + ch] = Math.min(
            255,
            Math.max(0, byte),
          );
        }
      }
    }
  }
  return { width, height, channels: c as 1 | 3, pixels };
}

/** Whether samples of this shape can be drawn as a picture: `[C, H, W]` with C = 1 or 3, or `[H, W]`. */
export function isImageShape(shape: readonly number[]): boolean {
  return shape.length === 2 || (shape.length === 3 && (shape[0] === 1 || shape[0] === 3));
}

/**
 * Encodes an image as PNG bytes.
 *
 * @example
 * ```ts
 * import { encodePng } from "@seed/deis";
 * const png = encodePng({ width: 1, height: 1, channels: 1, pixels: new Uint8Array([128]) });
 * ```
 */
export function encodePng(image: Image): Uint8Array<ArrayBuffer> {
  // fast-png returns bytes over a plain ArrayBuffer; the type says so, so a Response can take them.
  return encode({
    width: image.width,
    height: image.height,
    data: image.pixels,
    channels: image.channels,
    depth: 8,
  }) as Uint8Array<ArrayBuffer>;
}
