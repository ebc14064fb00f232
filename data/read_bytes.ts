/**
 * Read a data file into memory, gunzipping it when it is gzip data (decided by the magic bytes,
 * not the name, so `.gz` and raw copies of the same file both work).
 */

import { gunzipSync } from "../deps.ts";
import { fileError } from "../core/errors.ts";

/** True when the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Gunzip `bytes` read from `path`, turning zlib's errors into one line naming the file.
 * @example const raw = gunzipBytes(await Deno.readFile("a.gz"), "a.gz");
 */
export function gunzipBytes(bytes: Uint8Array, path: string): Uint8Array {
  try {
    const out = gunzipSync(bytes);
    // node:zlib returns a Buffer; hand back a plain Uint8Array view of the same memory.
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw fileError(path, `truncated or corrupt gzip data (${why})`);
  }
}

/**
 * Read a file, decompressing it if it is gzip data. Missing or unreadable files give a
 * `GensembleError` naming the path.
 * @example const raw = await readMaybeGzip("mnist/t10k-labels-idx1-ubyte.gz");
 */
export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw fileError(path, "file not found");
    if (err instanceof Deno.errors.IsADirectory) {
      throw fileError(path, "is a directory, not a file");
    }
    const why = err instanceof Error ? err.message : String(err);
    throw fileError(path, `cannot read file (${why})`);
  }
  if (isGzip(bytes)) return gunzipBytes(bytes, path);
  if (path.endsWith(".gz")) throw fileError(path, "name ends in .gz but the file is not gzip data");
  return bytes;
}

/** Precomputed uint8 → float32 in [0, 1] (a table lookup is faster than dividing per pixel). */
const BYTE_TO_UNIT = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = i / 255;
  return t;
})();

/** Convert uint8 pixels to float32 in [0, 1]. */
export function bytesToUnitFloat(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = BYTE_TO_UNIT[bytes[i]];
  return out;
}
