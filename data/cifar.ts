/**
 * CIFAR-10 binary batch reader: records of 3073 bytes, one label byte then the 32×32 red, green
 * and blue planes (each row-major). We return pixels interleaved as [N, 32, 32, 3] (NHWC).
 */

import { fileError } from "../core/errors.ts";
import { readMaybeGzip } from "./read_bytes.ts";

export const CIFAR_SIDE = 32;
const PLANE = CIFAR_SIDE * CIFAR_SIDE; // 1024 pixels per colour plane
export const CIFAR_RECORD_BYTES = 1 + 3 * PLANE; // 3073

/** Decoded CIFAR batch: uint8 pixels `[N, 32, 32, 3]` and labels 0–9. */
export interface CifarBatch {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
}

/** Number of records in a batch of `byteLength` bytes, or an error naming `path`. */
export function cifarRecordCount(byteLength: number, path: string): number {
  if (byteLength === 0 || byteLength % CIFAR_RECORD_BYTES !== 0) {
    throw fileError(
      path,
      `${byteLength} bytes is not a whole number of 3073-byte CIFAR-10 records ` +
        `(truncated or not a CIFAR-10 binary batch)`,
    );
  }
  return byteLength / CIFAR_RECORD_BYTES;
}

/**
 * Parse a CIFAR-10 binary batch (uncompressed bytes). `limit` keeps only the first records.
 * @example const { images, labels } = parseCifarBatch(bytes, "test_batch.bin");
 */
export function parseCifarBatch(bytes: Uint8Array, path: string, limit?: number): CifarBatch {
  const total = cifarRecordCount(bytes.length, path);
  const count = limit === undefined ? total : Math.min(limit, total);
  const images = new Uint8Array(count * 3 * PLANE); // [N, 32, 32, 3]
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const rec = n * CIFAR_RECORD_BYTES;
    const label = bytes[rec];
    if (label > 9) {
      throw fileError(path, `record ${n} has label ${label}; CIFAR-10 labels are 0–9`);
    }
    labels[n] = label;
    const out = n * 3 * PLANE;
    for (let p = 0; p < PLANE; p++) {
      images[out + 3 * p] = bytes[rec + 1 + p];
      images[out + 3 * p + 1] = bytes[rec + 1 + PLANE + p];
      images[out + 3 * p + 2] = bytes[rec + 1 + 2 * PLANE + p];
    }
  }
  return { images, labels, count };
}

/**
 * Read a CIFAR-10 batch file (`.bin` or `.bin.gz`).
 * @example const batch = await readCifarBatch("cifar10/test_batch.bin.gz"); // count 10000
 */
export async function readCifarBatch(path: string, limit?: number): Promise<CifarBatch> {
  return parseCifarBatch(await readMaybeGzip(path), path, limit);
}
