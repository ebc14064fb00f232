/**
 * Image arrays from IDX or NPY files (decided by the magic bytes), as float32 `[N, H, W, C]` in
 * [0, 1]: uint8 pixels are divided by 255, grayscale `[N, H, W]` gains a channel axis, and float
 * pixels must already lie in [0, 1].
 */

import { fileError } from "../core/errors.ts";
import { type Dataset, formatShape } from "./types.ts";
import { bytesToUnitFloat, readMaybeGzip } from "./read_bytes.ts";
import { isNpy, parseNpy } from "./npy.ts";
import { parseIdx } from "./idx.ts";

/** A raw array from an image file, before scaling. */
export interface RawArray {
  shape: number[];
  data: Uint8Array | Float32Array | Float64Array;
}

/** Parse IDX or NPY bytes, whichever the magic number says. */
export function parseArray(bytes: Uint8Array, path: string): RawArray {
  if (isNpy(bytes)) return parseNpy(bytes, path);
  if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0) {
    const { dims, data } = parseIdx(bytes, path);
    return { shape: dims, data };
  }
  throw fileError(path, "not an NPY or IDX file (unrecognised magic number)");
}

/**
 * Read an NPY or IDX array (raw or gzip).
 * @example const { shape } = await readArray("omniglot_28x28_images.npy.gz"); // [4840, 28, 28, 1]
 */
export async function readArray(path: string): Promise<RawArray> {
  return parseArray(await readMaybeGzip(path), path);
}

/**
 * Turn a raw image array into a dataset: `[N, H, W]` → `[N, H, W, 1]`, uint8 → /255,
 * float checked to lie in [0, 1]. `limit` keeps the first examples only.
 * @example const ds = imagesToDataset("omniglot", await readArray(p), p);
 */
export function imagesToDataset(
  name: string,
  arr: RawArray,
  path: string,
  limit?: number,
): Dataset {
  let shape = arr.shape;
  if (shape.length === 3) shape = [...shape, 1];
  if (shape.length !== 4) {
    throw fileError(
      path,
      `shape ${formatShape(arr.shape)} is not images ([N, H, W] or [N, H, W, C])`,
    );
  }
  const n = limit === undefined ? shape[0] : Math.min(limit, shape[0]);
  const per = shape[1] * shape[2] * shape[3];
  const values = arr.data.subarray(0, n * per);
  let x: Float32Array;
  if (values instanceof Uint8Array) {
    x = bytesToUnitFloat(values);
  } else {
    x = values instanceof Float32Array ? values.slice() : Float32Array.from(values);
    for (let i = 0; i < x.length; i++) {
      if (x[i] < 0 || x[i] > 1) {
        throw fileError(
          path,
          `float pixel value ${
            x[i]
          } at flat index ${i} is outside [0, 1] (scale images to [0, 1], ` +
            `or save them as uint8 0–255)`,
        );
      }
    }
  }
  return { name, x, shape: [n, shape[1], shape[2], shape[3]] };
}

/** Labels from an NPY/IDX label array as int32, checked against the number of images. */
export function labelsFromArray(
  arr: RawArray,
  path: string,
  count: number,
  limit?: number,
): Int32Array {
  if (arr.shape.length !== 1 && !(arr.shape.length === 2 && arr.shape[1] === 1)) {
    throw fileError(path, `labels have shape ${formatShape(arr.shape)}, expected [N]`);
  }
  if (arr.shape[0] !== count) {
    throw fileError(path, `${arr.shape[0]} labels for ${count} images`);
  }
  const n = limit === undefined ? count : Math.min(limit, count);
  return Int32Array.from(arr.data.subarray(0, n));
}
