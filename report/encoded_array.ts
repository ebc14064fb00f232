/**
 * Typed arrays as JSON: `{ dtype, shape, base64 }` (little-endian bytes in base64), so
 * `eval/report_data.json` stores scores exactly and images compactly in one readable file.
 */
import { fileError } from "../core/errors.ts";

/** A typed array stored in JSON. */
export interface EncodedArray {
  dtype: "float32" | "uint8";
  shape: number[];
  base64: string;
}

/** Base64 of bytes, in chunks so large arrays do not overflow the argument list. */
export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Bytes from base64. */
export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Encode a Float32Array or Uint8Array with its shape.
 *
 * @example
 * ```ts
 * const e = encodeArray(new Float32Array([1.5, -2]), [2]); // { dtype: "float32", shape: [2], ... }
 * ```
 */
export function encodeArray(values: Float32Array | Uint8Array, shape: number[]): EncodedArray {
  if (values.length !== size(shape)) {
    throw new Error(`encodeArray: ${values.length} values do not fill shape [${shape}]`);
  }
  const dtype = values instanceof Float32Array ? "float32" : "uint8";
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return { dtype, shape: [...shape], base64: toBase64(bytes) };
}

function decode(e: EncodedArray, dtype: EncodedArray["dtype"], where: string): Uint8Array {
  if (
    !e || e.dtype !== dtype || !Array.isArray(e.shape) || typeof e.base64 !== "string" ||
    e.shape.some((d) => !Number.isInteger(d) || d < 0)
  ) {
    throw fileError(where, `expected a ${dtype} array ({ dtype, shape, base64 })`);
  }
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(e.base64);
  } catch {
    throw fileError(where, "array data is not valid base64");
  }
  const width = dtype === "float32" ? 4 : 1;
  if (bytes.length !== size(e.shape) * width) {
    throw fileError(
      where,
      `array of shape [${e.shape}] holds ${bytes.length} bytes, expected ${size(e.shape) * width}`,
    );
  }
  return bytes;
}

/** Decode a float32 array; `where` names the file and field in errors. */
export function decodeFloat32(e: EncodedArray, where: string): Float32Array {
  const bytes = decode(e, "float32", where);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

/** Decode a uint8 array; `where` names the file and field in errors. */
export function decodeUint8(e: EncodedArray, where: string): Uint8Array {
  return decode(e, "uint8", where);
}
