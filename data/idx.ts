/**
 * IDX reader (LeCun's MNIST format): big-endian header `00 00 <type> <ndim>`, ndim uint32
 * dimensions, then the values in row-major order. Only unsigned bytes (type 0x08) occur in the
 * datasets we read, so only those are accepted.
 */

import { fileError } from "../core/errors.ts";
import { readMaybeGzip } from "./read_bytes.ts";

/** A decoded IDX array: dims (e.g. `[60000, 28, 28]`) and its uint8 values. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const IDX_UBYTE = 0x08;

/**
 * Parse the bytes of an (uncompressed) IDX file; `path` is only used in error messages.
 * Checks the magic number, the data type and that the byte count matches the header.
 * @example const { dims, data } = parseIdx(bytes, "t10k-labels-idx1-ubyte");
 */
export function parseIdx(bytes: Uint8Array, path: string): IdxArray {
  if (bytes.length < 4) {
    throw fileError(path, `too short for an IDX file (${bytes.length} bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const ndim = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || ndim === 0) {
    const hex = magic.toString(16).padStart(8, "0");
    throw fileError(path, `wrong magic number 0x${hex} (an IDX file starts with 0x000008nn)`);
  }
  if (bytes[2] !== IDX_UBYTE) {
    const type = bytes[2].toString(16).padStart(2, "0");
    throw fileError(path, `unsupported IDX data type 0x${type} (only unsigned byte, 0x08)`);
  }
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw fileError(path, `truncated IDX header (${bytes.length} of ${headerBytes} bytes)`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerBytes;
  if (actual < expected) {
    throw fileError(
      path,
      `truncated IDX data: the header says ${dims.join("×")} (${expected} bytes), ` +
        `the file has ${actual}`,
    );
  }
  if (actual > expected) {
    throw fileError(
      path,
      `IDX data has ${actual - expected} bytes more than the header's ${dims.join("×")}`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/**
 * Read an IDX file, raw or gzip-compressed.
 * @example const labels = await readIdx("mnist/t10k-labels-idx1-ubyte.gz"); // dims [10000]
 */
export async function readIdx(path: string): Promise<IdxArray> {
  return parseIdx(await readMaybeGzip(path), path);
}
