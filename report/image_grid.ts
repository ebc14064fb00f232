/**
 * Tiles of images in one picture: the report's sorted-by-WAIC grids (8 × 8 for 64 inputs) and
 * reconstruction strips (inputs above, decoded means below), as raw pixels for `encodePng`.
 */
import type { RawImage } from "./png.ts";

/** Options of `imageGrid`. */
export interface GridOptions {
  /** Tiles per row (default 8). */
  cols?: number;
  /** Pixels between tiles and around the edge (default 1). */
  gap?: number;
  /** Gray value of the gaps (default 128, visible against black and white backgrounds). */
  fill?: number;
}

/**
 * Lay out K images [K, H, W, C] (uint8, C = 1 or 3) in a grid, row by row.
 *
 * @example
 * ```ts
 * const grid = imageGrid(images, [64, 28, 28, 1]); // 8 × 8 tiles: 233 × 233 pixels
 * const png = encodePng(grid);
 * ```
 */
export function imageGrid(
  images: Uint8Array,
  shape: number[],
  options: GridOptions = {},
): RawImage {
  if (shape.length !== 4 || (shape[3] !== 1 && shape[3] !== 3)) {
    throw new Error(`imageGrid: shape [${shape}] is not [K, H, W, 1 or 3]`);
  }
  const [k, h, w, c] = shape;
  if (images.length !== k * h * w * c) {
    throw new Error(`imageGrid: ${images.length} values do not fill shape [${shape}]`);
  }
  const cols = Math.max(1, Math.min(options.cols ?? 8, k));
  const rows = Math.max(1, Math.ceil(k / cols));
  const gap = options.gap ?? 1;
  const width = cols * w + (cols + 1) * gap;
  const height = rows * h + (rows + 1) * gap;
  const pixels = new Uint8Array(width * height * c).fill(options.fill ?? 128);
  for (let t = 0; t < k; t++) {
    const x0 = gap + (t % cols) * (w + gap);
    const y0 = gap + Math.floor(t / cols) * (h + gap);
    for (let y = 0; y < h; y++) {
      const src = ((t * h + y) * w) * c; // start of row y of tile t
      const dst = ((y0 + y) * width + x0) * c;
      pixels.set(images.subarray(src, src + w * c), dst);
    }
  }
  return { width, height, channels: c as 1 | 3, pixels };
}

/**
 * A two-row strip: K inputs above their K reconstructions (both [K, H, W, C] uint8).
 *
 * @example
 * ```ts
 * const strip = reconstructionStrip(inputs, decoded, [8, 28, 28, 1]); // 2 rows of 8
 * ```
 */
export function reconstructionStrip(
  inputs: Uint8Array,
  decoded: Uint8Array,
  shape: number[],
): RawImage {
  if (inputs.length !== decoded.length) {
    throw new Error(
      `reconstructionStrip: ${inputs.length} input values but ${decoded.length} decoded`,
    );
  }
  const both = new Uint8Array(inputs.length * 2);
  both.set(inputs, 0);
  both.set(decoded, inputs.length);
  return imageGrid(both, [shape[0] * 2, ...shape.slice(1)], { cols: shape[0] });
}

/**
 * Pixels in [0, 1] to uint8 (rounded, clipped), the form the report stores images in.
 *
 * @example
 * ```ts
 * toUint8Pixels(new Float32Array([0, 0.5, 1])); // Uint8Array [0, 128, 255]
 * ```
 */
export function toUint8Pixels(x: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = Math.round(x[i] * 255);
    out[i] = Number.isNaN(v) ? 0 : v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}
