/**
 * NPY reader (NumPy's `.npy`, format versions 1.0, 2.0 and 3.0): magic `\x93NUMPY`, a version,
 * a header length, a Python-dict header giving dtype, order and shape, then the raw values.
 * We read C-order little-endian uint8, float32 and float64 (NumPy's default float).
 */

import { fileError } from "../core/errors.ts";
import { formatShape } from "./types.ts";
import { readMaybeGzip } from "./read_bytes.ts";

/** A decoded NPY array. float64 data is kept as float64 so callers decide how to narrow it. */
export interface NpyArray {
  shape: number[];
  dtype: "uint8" | "float32" | "float64";
  data: Uint8Array | Float32Array | Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DTYPES: Record<string, { dtype: NpyArray["dtype"]; bytes: number }> = {
  "|u1": { dtype: "uint8", bytes: 1 },
  "<u1": { dtype: "uint8", bytes: 1 },
  "u1": { dtype: "uint8", bytes: 1 },
  "<f4": { dtype: "float32", bytes: 4 },
  "<f8": { dtype: "float64", bytes: 8 },
};

/** True when the bytes start with the NPY magic string. */
export function isNpy(bytes: Uint8Array): boolean {
  return MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * Parse the bytes of an (uncompressed) `.npy` file; `path` is only used in error messages.
 * Float arrays with NaN or infinite values are rejected, naming the first bad element.
 * @example const { shape, data } = parseNpy(bytes, "celeba.npy"); // shape [1000, 32, 32, 3]
 */
export function parseNpy(bytes: Uint8Array, path: string): NpyArray {
  if (!isNpy(bytes)) throw fileError(path, "not an NPY file (missing the \\x93NUMPY magic string)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw fileError(path, `unsupported NPY format version ${major}.${bytes[7]}`);
  }
  const dataStart = headerStart + headerLen;
  if (bytes.length < dataStart) throw fileError(path, "truncated NPY header");
  const header = new TextDecoder().decode(bytes.subarray(headerStart, dataStart));

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw fileError(path, `unreadable NPY header ${JSON.stringify(header.trim())}`);
  }
  const kind = DTYPES[descr];
  if (!kind) {
    throw fileError(
      path,
      `unsupported NPY dtype '${descr}' (expected uint8 '|u1', float32 '<f4' or float64 '<f8')`,
    );
  }
  if (fortran === "True") {
    throw fileError(path, "Fortran-order NPY arrays are not supported (save a C-order array)");
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw fileError(path, `bad shape (${shapeText}) in the NPY header`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = count * kind.bytes;
  const actual = bytes.length - dataStart;
  if (actual < expected) {
    throw fileError(
      path,
      `truncated NPY data: shape ${
        formatShape(shape)
      } needs ${expected} bytes, the file has ${actual}`,
    );
  }
  if (actual > expected) {
    throw fileError(
      path,
      `NPY data has ${actual - expected} bytes more than shape ${formatShape(shape)}`,
    );
  }
  // Copy the payload so float views are aligned whatever the offset inside `bytes`.
  const payload = bytes.slice(dataStart, dataStart + expected);
  let data: NpyArray["data"];
  if (kind.dtype === "uint8") data = payload;
  else if (kind.dtype === "float32") data = new Float32Array(payload.buffer);
  else data = new Float64Array(payload.buffer);
  if (kind.dtype !== "uint8") assertFinite(data as Float32Array | Float64Array, shape, path);
  return { shape, dtype: kind.dtype, data };
}

/** Throw naming the first NaN or infinite element as a multi-index, e.g. `[3, 0, 5]`. */
export function assertFinite(
  data: Float32Array | Float64Array,
  shape: number[],
  path: string,
): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const index: number[] = [];
      let rest = i;
      for (let d = shape.length - 1; d >= 0; d--) {
        index.unshift(rest % shape[d]);
        rest = Math.floor(rest / shape[d]);
      }
      throw fileError(
        path,
        `${data[i]} value at element ${
          formatShape(index)
        } (NaN or infinite values are not allowed)`,
      );
    }
  }
}

/**
 * Read an `.npy` or `.npy.gz` file.
 * @example const arr = await readNpy("omniglot/omniglot_28x28_images.npy.gz"); // [4840, 28, 28, 1]
 */
export async function readNpy(path: string): Promise<NpyArray> {
  return parseNpy(await readMaybeGzip(path), path);
}

/**
 * Encode an array as NPY version 1.0 (C order, little-endian), e.g. to save a generated OoD set.
 * @example await Deno.writeFile("noise.npy", encodeNpy(new Float32Array(6), [2, 3]));
 */
export function encodeNpy(data: Uint8Array | Float32Array, shape: number[]): Uint8Array {
  const descr = data instanceof Uint8Array ? "|u1" : "<f4";
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  // NumPy pads the header with spaces so the data starts at a multiple of 64 bytes.
  const unpadded = 10 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
