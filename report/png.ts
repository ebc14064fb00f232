/**
 * PNG encoding and decoding through pngjs (deps.ts), and `data:` URIs, so report images are
 * embedded in the HTML and the page opens offline.
 */
import { Buffer } from "node:buffer";
import { PNG } from "../deps.ts";
import { toBase64 } from "./encoded_array.ts";

/** Raw 8-bit pixels, row-major, `channels` values per pixel (1 gray, 3 RGB, 4 RGBA). */
export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  /** [height, width, channels] uint8 values. */
  pixels: Uint8Array;
}

// pngjs color types: 0 grayscale, 2 RGB, 6 RGBA.
const COLOR_TYPE = { 1: 0, 3: 2, 4: 6 } as const;

/**
 * Encode pixels as a PNG file (grayscale, RGB or RGBA, 8 bits per channel).
 *
 * @example
 * ```ts
 * const bytes = encodePng({ width: 2, height: 1, channels: 1, pixels: new Uint8Array([0, 255]) });
 * ```
 */
export function encodePng(image: RawImage): Uint8Array {
  const { width, height, channels, pixels } = image;
  if (pixels.length !== width * height * channels) {
    throw new Error(
      `encodePng: ${pixels.length} values are not ${height} × ${width} × ${channels} pixels`,
    );
  }
  // pngjs takes RGBA input and converts it to the requested color type while writing.
  const png = new PNG({ width, height });
  const rgba = png.data;
  for (let p = 0; p < width * height; p++) {
    const src = p * channels;
    if (channels === 1) {
      rgba[4 * p] = rgba[4 * p + 1] = rgba[4 * p + 2] = pixels[src];
      rgba[4 * p + 3] = 255;
    } else {
      rgba[4 * p] = pixels[src];
      rgba[4 * p + 1] = pixels[src + 1];
      rgba[4 * p + 2] = pixels[src + 2];
      rgba[4 * p + 3] = channels === 4 ? pixels[src + 3] : 255;
    }
  }
  const buf = PNG.sync.write(png, { colorType: COLOR_TYPE[channels] });
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Decode a PNG file to RGBA pixels (used by tests to check a round trip).
 *
 * @example
 * ```ts
 * const { width, height, pixels } = decodePng(bytes); // pixels: [H, W, 4]
 * ```
 */
export function decodePng(bytes: Uint8Array): RawImage {
  // pngjs parses with Node Buffer methods (readUInt32BE), so wrap the bytes without copying.
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return {
    width: png.width,
    height: png.height,
    channels: 4,
    pixels: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength),
  };
}

/** A `data:image/png;base64,...` URI for an `<img src>`. */
export function pngDataUri(png: Uint8Array): string {
  return `data:image/png;base64,${toBase64(png)}`;
}
