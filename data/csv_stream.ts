/**
 * Streaming reader for numeric CSV files that may be larger than memory (`deno task score` on a
 * day of transactions). It reads the file in chunks (gunzipping `.gz` on the fly), checks the
 * header against the feature names a run was trained on, and hands back rows in batches: the
 * feature values in the training order plus each row's original text and line number, so the
 * scorer can echo the row with its scores appended.
 *
 * A row with the wrong number of cells or a non-numeric feature cell is a bad row: either fatal
 * (a `GensembleError` naming the file and line) or skipped and reported through `onSkip`.
 *
 * Cells may be quoted (`"0.5"`, as in the Kaggle credit-card file); a quoted cell may contain a
 * comma, but not a line break. For whole-file reads of small tables see `data/csv.ts`.
 */
import { fileError } from "../core/errors.ts";

/** What to do with a row that has the wrong column count or a non-numeric feature cell. */
export type BadRowPolicy = "skip" | "error";

/** A skipped row: its 1-based line number in the file and why it was rejected. */
export interface BadRow {
  line: number;
  reason: string;
}

/** One batch of good rows. */
export interface CsvBatch {
  /** Number of rows in this batch. */
  rows: number;
  /** [rows, F] feature values in the order of `options.features` (float64: raw, unscaled). */
  values: Float64Array;
  /** The original text of each row (without its line end), to echo into an output file. */
  lines: string[];
  /** The 1-based line number of each row in the file (the header is usually line 1). */
  lineNumbers: Int32Array;
}

/** Options of `streamCsvBatches`. */
export interface CsvStreamOptions {
  /** Columns that must be in the header and numeric in every row, in the order to return them. */
  features: readonly string[];
  /** Other columns the header may contain (e.g. the training label column); never checked. */
  allowedExtra?: readonly string[];
  /** Rows per batch (default 4096). */
  batchRows?: number;
  /** Bad-row policy (default "error"). */
  onBadRow?: BadRowPolicy;
  /** Called for every skipped row when `onBadRow` is "skip". */
  onSkip?: (bad: BadRow) => void;
  /** Called once with the parsed header (column names, unquoted) before any batch. */
  onHeader?: (header: string[], headerLine: string) => void;
}

/** Strip surrounding whitespace and one pair of matching quotes. */
function unquote(cell: string): string {
  const t = cell.trim();
  if (t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0]) {
    return t.slice(1, -1).trim();
  }
  return t;
}

/**
 * Split one CSV line into cells. Lines without a double quote take a fast path; quoted cells may
 * contain commas and doubled quotes (`""`). Returns null for an unterminated quote.
 *
 * @example
 * ```ts
 * splitCsvLine('1,"a,b",3'); // ["1", "a,b", "3"]
 * ```
 */
export function splitCsvLine(line: string): string[] | null {
  if (line.indexOf('"') < 0) return line.split(",");
  const cells: string[] = [];
  let cell = "";
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (inQuotes) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          cell += '"';
          i++;
        } else {
          inQuotes = false;
        }
      } else {
        cell += ch;
      }
    } else if (ch === '"') {
      inQuotes = true;
    } else if (ch === ",") {
      cells.push(cell);
      cell = "";
    } else {
      cell += ch;
    }
  }
  if (inQuotes) return null;
  cells.push(cell);
  return cells;
}

/**
 * Match a file's header against the training features: returns, for each feature, its column
 * index in the file. Columns may come in any order. Missing features, extra columns (other than
 * `allowedExtra`) and duplicate names are one error that lists them all.
 *
 * @example
 * ```ts
 * matchHeader(["b", "a", "label"], ["a", "b"], ["label"], "x.csv"); // Int32Array [1, 0]
 * ```
 */
export function matchHeader(
  header: readonly string[],
  features: readonly string[],
  allowedExtra: readonly string[],
  path: string,
): Int32Array {
  const position = new Map<string, number>();
  const duplicates: string[] = [];
  header.forEach((name, i) => {
    if (position.has(name)) duplicates.push(name);
    else position.set(name, i);
  });
  const missing = features.filter((f) => !position.has(f));
  const extra = header.filter((h) => !features.includes(h) && !allowedExtra.includes(h));
  if (missing.length > 0 || extra.length > 0 || duplicates.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing columns ${missing.join(", ")}`);
    if (extra.length > 0) parts.push(`extra columns ${extra.join(", ")}`);
    if (duplicates.length > 0) parts.push(`duplicate columns ${duplicates.join(", ")}`);
    throw fileError(
      path,
      `the header does not match the model's features (${parts.join("; ")}); ` +
        `expected ${features.join(",")}` +
        (allowedExtra.length > 0 ? ` (optionally also ${allowedExtra.join(", ")})` : ""),
    );
  }
  return Int32Array.from(features, (f) => position.get(f)!);
}

/** Open a file as a byte stream, gunzipping it when it starts with the gzip magic number. */
async function openBytes(path: string): Promise<ReadableStream<Uint8Array>> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw fileError(path, "file not found");
    const why = err instanceof Error ? err.message : String(err);
    throw fileError(path, `cannot read file (${why})`);
  }
  const magic = new Uint8Array(2);
  const n = await file.read(magic);
  await file.seek(0, Deno.SeekMode.Start);
  const gzip = n === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  return gzip ? file.readable.pipeThrough(new DecompressionStream("gzip")) : file.readable;
}

/**
 * Read a text file in chunks of whole lines: yields `{ lines, firstLine }` where `firstLine` is
 * the 1-based number of `lines[0]`. Line ends (`\n` or `\r\n`) are removed, a UTF-8 byte-order
 * mark is dropped.
 */
export async function* readLineChunks(
  path: string,
): AsyncGenerator<{ lines: string[]; firstLine: number }> {
  const stream = await openBytes(path);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let carry = "";
  let nextLine = 1;
  let first = true;
  const decode = (bytes?: Uint8Array): string => {
    try {
      return bytes ? decoder.decode(bytes, { stream: true }) : decoder.decode();
    } catch (err) {
      if (err instanceof TypeError) throw fileError(path, "not UTF-8 text (is it a CSV file?)");
      throw err;
    }
  };
  const emit = (text: string, final: boolean) => {
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const lines = (carry + text).split("\n");
    carry = final ? "" : lines.pop()!;
    if (final && lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i];
      if (l.length > 0 && l.charCodeAt(l.length - 1) === 13) lines[i] = l.slice(0, -1);
    }
    const out = { lines, firstLine: nextLine };
    nextLine += lines.length;
    return out;
  };
  try {
    for await (const bytes of stream) {
      const chunk = emit(decode(bytes), false);
      if (chunk.lines.length > 0) yield chunk;
    }
  } catch (err) {
    if (err instanceof TypeError && /gzip|deflate|corrupt|invalid/i.test(err.message)) {
      throw fileError(path, `truncated or corrupt gzip data (${err.message})`);
    }
    throw err;
  }
  const last = emit(decode(), true);
  if (last.lines.length > 0) yield last;
}

/**
 * Stream a numeric CSV file in batches of good rows, checking the header against `features`.
 * Blank lines are ignored. See the module doc for the bad-row rules.
 *
 * @example
 * ```ts
 * for await (const b of streamCsvBatches("new.csv", { features: ["V1", "V2"] })) {
 *   console.log(b.rows, b.values[0]); // first row's V1
 * }
 * ```
 */
export async function* streamCsvBatches(
  path: string,
  options: CsvStreamOptions,
): AsyncGenerator<CsvBatch> {
  const features = options.features;
  const f = features.length;
  const batchRows = options.batchRows ?? 4096;
  const policy = options.onBadRow ?? "error";
  let columnOf: Int32Array | null = null; // file column of each feature
  let nColumns = 0;

  let values = new Float64Array(batchRows * f);
  let lines: string[] = [];
  let lineNumbers = new Int32Array(batchRows);
  let rows = 0;

  const bad = (line: number, reason: string) => {
    if (policy === "error") {
      throw fileError(path, `line ${line}: ${reason} (use --on_bad_row skip to skip such rows)`);
    }
    options.onSkip?.({ line, reason });
  };

  for await (const chunk of readLineChunks(path)) {
    for (let i = 0; i < chunk.lines.length; i++) {
      const text = chunk.lines[i];
      const lineNo = chunk.firstLine + i;
      if (text.length === 0 || text.trim().length === 0) continue;
      if (columnOf === null) {
        const cells = splitCsvLine(text);
        if (cells === null) {
          throw fileError(path, `line ${lineNo}: unterminated quote in the header`);
        }
        const header = cells.map(unquote);
        columnOf = matchHeader(header, features, options.allowedExtra ?? [], path);
        nColumns = header.length;
        options.onHeader?.(header, text);
        continue;
      }
      const cells = splitCsvLine(text);
      if (cells === null) {
        bad(lineNo, "unterminated quoted cell");
        continue;
      }
      if (cells.length !== nColumns) {
        bad(lineNo, `expected ${nColumns} columns, found ${cells.length}`);
        continue;
      }
      const base = rows * f;
      let ok = true;
      for (let j = 0; j < f; j++) {
        const raw = cells[columnOf[j]];
        let v = raw.length === 0 ? NaN : Number(raw);
        // Retry unquoted; and Number(" ") is 0, so a blank cell must not pass as a zero.
        if (v !== v || (v === 0 && raw.trim().length === 0)) {
          const cell = unquote(raw);
          v = cell.length === 0 ? NaN : Number(cell);
        }
        if (!Number.isFinite(v)) {
          const what = unquote(raw) === ""
            ? "an empty cell"
            : `a non-numeric value ${JSON.stringify(raw.slice(0, 40))}`;
          bad(lineNo, `column "${features[j]}" has ${what}`);
          ok = false;
          break;
        }
        values[base + j] = v;
      }
      if (!ok) continue;
      lines.push(text);
      lineNumbers[rows] = lineNo;
      rows++;
      if (rows === batchRows) {
        yield { rows, values, lines, lineNumbers };
        values = new Float64Array(batchRows * f);
        lines = [];
        lineNumbers = new Int32Array(batchRows);
        rows = 0;
      }
    }
  }
  if (columnOf === null) throw fileError(path, "empty CSV file (no header row)");
  if (rows > 0) {
    yield {
      rows,
      values: values.subarray(0, rows * f),
      lines,
      lineNumbers: lineNumbers.subarray(0, rows),
    };
  }
}
