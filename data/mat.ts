/**
 * MATLAB v5 `.mat` reader for numeric arrays, enough for SVHN's `test_32x32.mat` (uint8 `X` of
 * 32×32×3×N, double `y`) and ODDS's tabular `.mat` files (double `X` n×d, `y` n×1). Handles plain
 * (miMATRIX) and zlib-compressed (miCOMPRESSED) variables, little- or big-endian. Cells, structs,
 * sparse and char arrays are skipped; MATLAB v7.3 files are HDF5 and are rejected with advice.
 *
 * MATLAB stores arrays column-major (first index fastest); `columnMajorToRowMajor` converts.
 */

import { inflateSync } from "../deps.ts";
import { fileError } from "../core/errors.ts";
import { readMaybeGzip } from "./read_bytes.ts";

/** A numeric MATLAB variable, values in MATLAB's column-major order. */
export interface MatArray {
  name: string;
  /** MATLAB dimensions, e.g. `[32, 32, 3, 26032]`. */
  dims: number[];
  /** MATLAB class name: "uint8", "double", "single", "int16", ... */
  className: string;
  /** uint8 arrays stay bytes; every other class is widened to float64. */
  data: Uint8Array | Float64Array;
}

// Data element types (miXXX) and their byte sizes.
const MI_INT8 = 1, MI_UINT8 = 2, MI_INT16 = 3, MI_UINT16 = 4, MI_INT32 = 5, MI_UINT32 = 6;
const MI_SINGLE = 7, MI_DOUBLE = 9, MI_INT64 = 12, MI_UINT64 = 13;
const MI_MATRIX = 14, MI_COMPRESSED = 15;
const MI_SIZES: Record<number, number> = {
  [MI_INT8]: 1,
  [MI_UINT8]: 1,
  [MI_INT16]: 2,
  [MI_UINT16]: 2,
  [MI_INT32]: 4,
  [MI_UINT32]: 4,
  [MI_SINGLE]: 4,
  [MI_DOUBLE]: 8,
  [MI_INT64]: 8,
  [MI_UINT64]: 8,
};

// Array classes (mxXXX_CLASS) that hold plain numbers.
const NUMERIC_CLASSES: Record<number, string> = {
  6: "double",
  7: "single",
  8: "int8",
  9: "uint8",
  10: "int16",
  11: "uint16",
  12: "int32",
  13: "uint32",
  14: "int64",
  15: "uint64",
};
const COMPLEX_FLAG = 0x08;

/** One data element: its type and where its payload lies in `bytes`. */
interface Element {
  type: number;
  start: number;
  size: number;
  /** Offset of the element after this one. */
  next: number;
}

/** Reads data elements of one buffer with the file's byte order. */
class ElementReader {
  private view: DataView;
  constructor(readonly bytes: Uint8Array, readonly le: boolean, readonly path: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  element(offset: number, padded: boolean): Element {
    if (offset + 8 > this.bytes.length) {
      throw fileError(this.path, `truncated .mat file (data element at byte ${offset} is cut off)`);
    }
    const first = this.view.getUint32(offset, this.le);
    if (first >>> 16 !== 0) {
      // Small data element: type and size share the first word, payload fits in 4 bytes.
      return { type: first & 0xffff, size: first >>> 16, start: offset + 4, next: offset + 8 };
    }
    const size = this.view.getUint32(offset + 4, this.le);
    const start = offset + 8;
    if (start + size > this.bytes.length) {
      throw fileError(
        this.path,
        `truncated .mat file (data element at byte ${offset} needs ${size} bytes, ` +
          `${this.bytes.length - start} remain)`,
      );
    }
    const next = start + (padded ? Math.ceil(size / 8) * 8 : size);
    return { type: first, size, start, next };
  }

  /** Decode a numeric element as float64 values (or bytes when `keepBytes` and it is uint8). */
  numbers(el: Element, keepBytes: boolean): Uint8Array | Float64Array {
    const width = MI_SIZES[el.type];
    if (width === undefined) {
      throw fileError(this.path, `unsupported .mat data type ${el.type} in a numeric array`);
    }
    if (el.type === MI_UINT8 && keepBytes) return this.bytes.slice(el.start, el.start + el.size);
    const n = Math.floor(el.size / width);
    const out = new Float64Array(n);
    const v = this.view;
    const le = this.le;
    for (let i = 0, o = el.start; i < n; i++, o += width) {
      switch (el.type) {
        case MI_INT8:
          out[i] = v.getInt8(o);
          break;
        case MI_UINT8:
          out[i] = v.getUint8(o);
          break;
        case MI_INT16:
          out[i] = v.getInt16(o, le);
          break;
        case MI_UINT16:
          out[i] = v.getUint16(o, le);
          break;
        case MI_INT32:
          out[i] = v.getInt32(o, le);
          break;
        case MI_UINT32:
          out[i] = v.getUint32(o, le);
          break;
        case MI_SINGLE:
          out[i] = v.getFloat32(o, le);
          break;
        case MI_DOUBLE:
          out[i] = v.getFloat64(o, le);
          break;
        case MI_INT64:
          out[i] = Number(v.getBigInt64(o, le));
          break;
        case MI_UINT64:
          out[i] = Number(v.getBigUint64(o, le));
          break;
      }
    }
    return out;
  }

  int32s(el: Element): number[] {
    const out: number[] = [];
    for (let o = el.start; o + 4 <= el.start + el.size; o += 4) {
      out.push(this.view.getInt32(o, this.le));
    }
    return out;
  }
}

/** Decode one miMATRIX payload; returns null for non-numeric arrays (cells, structs, chars). */
function readMatrix(r: ElementReader, el: Element): MatArray | null {
  if (el.size === 0) return null; // an empty array
  const end = el.start + el.size;
  const flagsEl = r.element(el.start, true);
  const flagsWord = new DataView(r.bytes.buffer, r.bytes.byteOffset + flagsEl.start, 4)
    .getUint32(0, r.le);
  const classId = flagsWord & 0xff;
  const complex = ((flagsWord >>> 8) & 0xff & COMPLEX_FLAG) !== 0;
  const dimsEl = r.element(flagsEl.next, true);
  const dims = r.int32s(dimsEl);
  const nameEl = r.element(dimsEl.next, true);
  const name = new TextDecoder().decode(r.bytes.subarray(nameEl.start, nameEl.start + nameEl.size));
  const className = NUMERIC_CLASSES[classId];
  if (className === undefined) return null;
  if (complex) {
    throw fileError(r.path, `variable '${name}' is complex; only real arrays are supported`);
  }
  if (nameEl.next >= end) throw fileError(r.path, `variable '${name}' has no data`);
  const realEl = r.element(nameEl.next, true);
  const data = r.numbers(realEl, className === "uint8");
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw fileError(
      r.path,
      `variable '${name}' has ${data.length} values but its dimensions ${
        dims.join("×")
      } need ${count}`,
    );
  }
  return { name, dims, className, data };
}

/**
 * Parse a MATLAB v5 `.mat` file's bytes into its numeric variables, keyed by name.
 * @example const vars = parseMat(bytes, "test_32x32.mat"); vars.get("X")!.dims; // [32, 32, 3, N]
 */
export function parseMat(bytes: Uint8Array, path: string): Map<string, MatArray> {
  const text = new TextDecoder("latin1").decode(bytes.subarray(0, Math.min(116, bytes.length)));
  if (text.startsWith("MATLAB 7.3")) {
    throw fileError(
      path,
      "MATLAB v7.3 (HDF5) files are not supported; re-save it with save(..., '-v7')",
    );
  }
  if (bytes.length < 128) throw fileError(path, "too short for a MATLAB v5 .mat file");
  const indicator = String.fromCharCode(bytes[126], bytes[127]);
  if (indicator !== "IM" && indicator !== "MI") {
    throw fileError(path, "not a MATLAB v5 .mat file (no 'IM'/'MI' endian indicator at byte 126)");
  }
  const r = new ElementReader(bytes, indicator === "IM", path);
  const vars = new Map<string, MatArray>();
  let offset = 128;
  while (offset + 8 <= bytes.length) {
    const el = r.element(offset, false);
    if (el.type === MI_COMPRESSED) {
      let inner: Uint8Array;
      try {
        const out = inflateSync(bytes.subarray(el.start, el.start + el.size));
        inner = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw fileError(path, `corrupt compressed variable at byte ${offset} (${why})`);
      }
      const ir = new ElementReader(inner, r.le, path);
      const innerEl = ir.element(0, true);
      if (innerEl.type === MI_MATRIX) {
        const m = readMatrix(ir, innerEl);
        if (m) vars.set(m.name, m);
      }
    } else if (el.type === MI_MATRIX) {
      const m = readMatrix(r, el);
      if (m) vars.set(m.name, m);
    }
    offset = el.type === MI_COMPRESSED ? el.next : Math.max(el.next, el.start + el.size);
  }
  return vars;
}

/**
 * Read a `.mat` file (optionally gzip-compressed).
 * @example const vars = await readMat("svhn/test_32x32.mat");
 */
export async function readMat(path: string): Promise<Map<string, MatArray>> {
  return parseMat(await readMaybeGzip(path), path);
}

/** Look up a variable, or throw naming the file and the variables it does have. */
export function matVariable(vars: Map<string, MatArray>, name: string, path: string): MatArray {
  const v = vars.get(name);
  if (!v) {
    const have = [...vars.keys()].join(", ") || "none";
    throw fileError(path, `no numeric variable '${name}' (numeric variables: ${have})`);
  }
  return v;
}

/**
 * Reorder a column-major array with dims `[d0, d1, ..., dk]` into row-major order over the
 * permuted axes `order` (e.g. SVHN's X [H, W, C, N] → [N, H, W, C] is `order = [3, 0, 1, 2]`).
 * @example columnMajorToRowMajor(x.data, [32, 32, 3, n], [3, 0, 1, 2]); // NHWC bytes
 */
export function columnMajorToRowMajor<T extends Uint8Array | Float64Array>(
  data: T,
  dims: number[],
  order: number[],
): T {
  const out = new (data.constructor as { new (n: number): T })(data.length);
  // Column-major strides of the source.
  const srcStride: number[] = [];
  let s = 1;
  for (const d of dims) {
    srcStride.push(s);
    s *= d;
  }
  const outDims = order.map((a) => dims[a]);
  const strides = order.map((a) => srcStride[a]);
  const k = outDims.length;
  const idx = new Array(k).fill(0);
  let src = 0;
  for (let i = 0; i < data.length; i++) {
    out[i] = data[src];
    // Advance the row-major output index (last axis fastest), tracking the source offset.
    for (let a = k - 1; a >= 0; a--) {
      idx[a]++;
      src += strides[a];
      if (idx[a] < outDims[a]) break;
      src -= strides[a] * outDims[a];
      idx[a] = 0;
    }
  }
  return out;
}
