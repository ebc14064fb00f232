/**
 * `deno task datasets [--data_dir DIR]`: one row per registered dataset saying where its files
 * were found (lookup order: --data_dir, $GENSEMBLE_DATA_DIR, the cache), how many examples each
 * split has, and whether the checksums match; missing datasets say which files to put where.
 * Nothing is downloaded or cached.
 */

import { parseArgs } from "../deps.ts";
import { GensembleError, runCli } from "../core/errors.ts";
import { dataRoots, DATASET_NAMES, getDatasetSpec } from "../data/registry.ts";
import { type DatasetReport, inspectDataset } from "../data/inspect.ts";

const HELP = `Usage: deno task datasets [--data_dir DIR]

Lists every registered dataset: where it was found, examples per split, checksum status.
Datasets are looked up in --data_dir, then $GENSEMBLE_DATA_DIR, then the cache
($GENSEMBLE_CACHE_DIR or ~/.cache/gensemble). Nothing is downloaded.`;

function parse(args: string[]): { dataDir?: string; help: boolean } {
  try {
    const { values } = parseArgs({
      args,
      options: { data_dir: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    });
    return { dataDir: values.data_dir, help: values.help ?? false };
  } catch (err) {
    throw new GensembleError(`${err instanceof Error ? err.message : err}\n${HELP}`);
  }
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i < widths.length ? c.padEnd(widths[i]) : c)).join("  ").trimEnd();
}

function describe(r: DatasetReport): string[] {
  const status = r.error
    ? "ERROR"
    : Object.keys(r.located).length === 0
    ? "missing"
    : r.missing
    ? "partial"
    : "found";
  const count = (s: "train" | "test") => r.counts[s]?.toString() ?? "-";
  const loc = r.located.test ?? r.located.train;
  const where = loc ? `${loc.dir} (${loc.via})` : "";
  return [r.name, status, count("train"), count("test"), r.checksum ?? "-", where];
}

async function main(): Promise<void> {
  const { dataDir, help } = parse(Deno.args);
  if (help) {
    console.log(HELP);
    return;
  }
  if (dataDir !== undefined) {
    const stat = await Deno.stat(dataDir).catch(() => null);
    if (!stat?.isDirectory) throw new GensembleError(`--data_dir ${dataDir}: no such directory`);
  }
  const roots = dataRoots(dataDir);
  console.log(`lookup order: ${roots.map((r) => `${r.dir} (${r.via})`).join(", ") || "(none)"}`);
  const widths = [14, 8, 7, 7, 10];
  console.log(row(["dataset", "status", "train", "test", "checksum", "location"], widths));
  const reports: DatasetReport[] = [];
  for (const name of DATASET_NAMES) {
    const r = await inspectDataset(getDatasetSpec(name), roots);
    reports.push(r);
    console.log(row(describe(r), widths));
  }
  const missing = reports.filter((r) => r.missing);
  const broken = reports.filter((r) => r.error);
  const notes = reports.flatMap((r) => r.checksumNotes);
  if (notes.length > 0) {
    console.log("\nchecksums not matching a recorded copy:");
    for (const n of notes) console.log(`  ${n}`);
  }
  if (missing.length > 0) {
    console.log(`\nmissing: ${missing.map((r) => r.name).join(", ")}`);
    for (const r of missing) console.log(`  ${r.missing}`);
  } else {
    console.log("\nmissing: none");
  }
  if (broken.length > 0) {
    console.log("\nunreadable:");
    for (const r of broken) console.log(`  ${r.error}`);
    throw new GensembleError(`${broken.length} dataset(s) could not be read (see above)`);
  }
}

if (import.meta.main) await runCli(main);
