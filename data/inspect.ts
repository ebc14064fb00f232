/**
 * Inspect what is on disk for each registered dataset without loading it into float arrays:
 * where its files are, how many examples each split has (headers and byte counts are checked),
 * and whether each file's sha256 matches a recorded copy. Used by `deno task datasets`.
 */

import { GensembleError } from "../core/errors.ts";
import { gunzipBytes, isGzip } from "./read_bytes.ts";
import { sha256Hex } from "../core/hash.ts";
import { parseIdx } from "./idx.ts";
import { cifarRecordCount } from "./cifar.ts";
import { parseArray } from "./images.ts";
import { matVariable, parseMat } from "./mat.ts";
import { columnIndices, parseNumericCsv } from "./csv.ts";
import {
  type DataFile,
  type DataRoot,
  type DatasetSpec,
  findFiles,
  type Located,
  missingDatasetError,
  type Split,
} from "./registry.ts";

/** "ok": matches a recorded copy; "unverified": no record for this copy; "mismatch": wrong. */
export type ChecksumStatus = "ok" | "unverified" | "mismatch";

/** What `inspectDataset` found for one dataset. */
export interface DatasetReport {
  name: string;
  /** Where the files are (per split), absent when missing. */
  located: Partial<Record<Split, Located>>;
  /** Examples per split that was found. */
  counts: Partial<Record<Split, number>>;
  /** Worst checksum status over the files found. */
  checksum?: ChecksumStatus;
  /** Files whose checksum is not "ok", with their status. */
  checksumNotes: string[];
  /** The "put these files there" message when a split is missing. */
  missing?: string;
  /** A file that was found but could not be read (corrupt, truncated, wrong format). */
  error?: string;
}

interface FileFacts {
  status: ChecksumStatus;
  raw: Uint8Array;
}

async function fileFacts(path: string, f: DataFile): Promise<FileFacts> {
  const bytes = await Deno.readFile(path);
  const known = new Set(f.sha256);
  let ok = known.has(await sha256Hex(bytes));
  const raw = isGzip(bytes) ? gunzipBytes(bytes, path) : bytes;
  if (!ok && raw !== bytes) ok = known.has(await sha256Hex(raw));
  return { status: ok ? "ok" : f.hashesComplete ? "mismatch" : "unverified", raw };
}

/** Count the examples of a split from the decompressed bytes of its files. */
function countExamples(
  spec: DatasetSpec,
  split: Split,
  paths: string[],
  raws: Uint8Array[],
): number {
  switch (spec.loader) {
    case "idx": {
      const n = parseIdx(raws[0], paths[0]).dims[0];
      const m = parseIdx(raws[1], paths[1]).dims[0];
      if (n !== m) throw new GensembleError(`${paths[1]}: ${m} labels for ${n} images`);
      return n;
    }
    case "cifar":
      return raws.reduce((sum, raw, i) => sum + cifarRecordCount(raw.length, paths[i]), 0);
    case "npy": {
      const n = parseArray(raws[0], paths[0]).shape[0];
      if (raws[1]) {
        const m = parseArray(raws[1], paths[1]).shape[0];
        if (n !== m) throw new GensembleError(`${paths[1]}: ${m} labels for ${n} images`);
      }
      return n;
    }
    case "svhn_mat":
      return matVariable(parseMat(raws[0], paths[0]), "X", paths[0]).dims[3];
    case "tabular": {
      if (paths[0].replace(/\.gz$/, "").endsWith(".mat")) {
        return matVariable(parseMat(raws[0], paths[0]), "X", paths[0]).dims[0];
      }
      return parseNumericCsv(new TextDecoder().decode(raws[0]), paths[0]).rows;
    }
    case "creditcard": {
      const table = parseNumericCsv(new TextDecoder().decode(raws[0]), paths[0]);
      const [cls] = columnIndices(table, ["Class"], paths[0]);
      let frauds = 0;
      for (let r = 0; r < table.rows; r++) frauds += table.values[r * table.header.length + cls];
      return split === "train" ? table.rows - 2 * frauds : 2 * frauds;
    }
  }
}

const WORST: ChecksumStatus[] = ["ok", "unverified", "mismatch"];

/**
 * Inspect one dataset along the lookup order (never downloads).
 * @example const r = await inspectDataset(getDatasetSpec("mnist"), dataRoots());
 */
export async function inspectDataset(spec: DatasetSpec, roots: DataRoot[]): Promise<DatasetReport> {
  const report: DatasetReport = { name: spec.name, located: {}, counts: {}, checksumNotes: [] };
  // Facts per path, for this call only (credit card's splits share one file).
  const facts = new Map<string, FileFacts>();
  const splits = Object.entries(spec.splits) as [Split, DataFile[]][];
  const missingFiles: DataFile[] = [];
  try {
    for (const [split, files] of splits) {
      const located = await findFiles(spec, files, roots);
      if (!located) {
        for (const f of files) if (!missingFiles.includes(f)) missingFiles.push(f);
        report.missing = missingDatasetError(spec, missingFiles, roots).message;
        continue;
      }
      report.located[split] = located;
      const raws: Uint8Array[] = [];
      for (let i = 0; i < files.length; i++) {
        const path = located.paths[i];
        let f = facts.get(path);
        if (!f) {
          f = await fileFacts(path, files[i]);
          facts.set(path, f);
          if (f.status !== "ok") report.checksumNotes.push(`${path}: ${f.status}`);
          if (!report.checksum || WORST.indexOf(f.status) > WORST.indexOf(report.checksum)) {
            report.checksum = f.status;
          }
        }
        raws.push(f.raw);
      }
      report.counts[split] = countExamples(spec, split, located.paths, raws);
    }
  } catch (err) {
    if (!(err instanceof GensembleError)) throw err;
    report.error = err.message;
  }
  return report;
}
