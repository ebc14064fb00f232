/**
 * A small, strict CSV reader for numeric tables with a header row (ODDS sets, the Kaggle
 * credit-card file, users' own files). Every cell must be a finite number; the first bad cell is
 * reported with its line number and column. Quoted cells (`"0"`, OpenML's `'0'`) are unquoted;
 * quoted commas are not supported, since numeric tables never need them.
 *
 * Kept behind this one module so that switching to a full parser (@std/csv, csv-parse) later is a
 * one-file change.
 */

import { fileError } from "../core/errors.ts";
import { readMaybeGzip } from "./read_bytes.ts";

/** A parsed numeric table: `rows × header.length` values, row-major. */
export interface NumericTable {
  header: string[];
  rows: number;
  values: Float64Array;
}

function unquote(cell: string): string {
  const t = cell.trim();
  if (t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0]) {
    return t.slice(1, -1).trim();
  }
  return t;
}

/**
 * Parse CSV text with a header row into a numeric table; `path` is used in error messages.
 * @example const t = parseNumericCsv("a,label\n1,0\n", "x.csv"); // t.rows === 1
 */
export function parseNumericCsv(text: string, path: string): NumericTable {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // UTF-8 byte-order mark
  const lines = text.split("\n");
  let lineNo = 0;
  while (lineNo < lines.length && lines[lineNo].trim() === "") lineNo++;
  if (lineNo === lines.length) throw fileError(path, "empty CSV file (no header row)");
  const header = lines[lineNo].split(",").map(unquote);
  header.forEach((name, c) => {
    if (name === "") throw fileError(path, `empty column name at position ${c + 1} of the header`);
  });
  const cols = header.length;
  // At most one row per remaining line; trimmed to the rows actually read at the end.
  const values = new Float64Array((lines.length - lineNo - 1) * cols);
  let rows = 0;
  for (let i = lineNo + 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    const cells = line.split(",");
    if (cells.length !== cols) {
      throw fileError(
        path,
        `line ${
          i + 1
        } has ${cells.length} fields but the header has ${cols} (missing or extra column)`,
      );
    }
    for (let c = 0; c < cols; c++) {
      const cell = unquote(cells[c]);
      const v = cell === "" ? NaN : Number(cell);
      if (!Number.isFinite(v)) {
        const what = cell === ""
          ? "empty cell"
          : /^[+-]?(nan|inf(inity)?)$/i.test(cell)
          ? `${cell} value (NaN or infinite values are not allowed)`
          : `non-numeric value ${JSON.stringify(cell)}`;
        throw fileError(path, `line ${i + 1}, column '${header[c]}': ${what}`);
      }
      values[rows * cols + c] = v;
    }
    rows++;
  }
  return { header, rows, values: values.slice(0, rows * cols) };
}

/**
 * Read a `.csv` or `.csv.gz` numeric table.
 * @example const t = await readNumericCsv("tabular/cardio.csv.gz"); // t.rows === 1831
 */
export async function readNumericCsv(path: string): Promise<NumericTable> {
  const bytes = await readMaybeGzip(path);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw fileError(path, "not UTF-8 text (is it really a CSV file?)");
  }
  return parseNumericCsv(text, path);
}

/** Index of each named column, or an error naming the file, the missing column and the header. */
export function columnIndices(table: NumericTable, names: string[], path: string): number[] {
  return names.map((name) => {
    const i = table.header.indexOf(name);
    if (i < 0) {
      throw fileError(path, `missing column '${name}' (the header has: ${table.header.join(",")})`);
    }
    return i;
  });
}

/** Copy the given columns of a table into a row-major float64 `[rows, columns.length]` array. */
export function selectColumns(table: NumericTable, columns: number[]): Float64Array {
  const cols = table.header.length;
  const out = new Float64Array(table.rows * columns.length);
  for (let r = 0; r < table.rows; r++) {
    for (let j = 0; j < columns.length; j++) {
      out[r * columns.length + j] = table.values[r * cols + columns[j]];
    }
  }
  return out;
}
