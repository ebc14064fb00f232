/**
 * Training a tabular ensemble (`deno task train creditcard`, `deno task train csv --file x.csv`):
 * the data source the train task plugs in, and the calibration at the end.
 *
 * 1. `prepareTabularRun` (before training, once): reads the file, keeps the normal rows, holds out
 *    a seeded share of them for calibration (`--calibration 0.1`), fits the min-max scaling and
 *    writes `preprocess.json` into the run (feature names, scaling, and where the rows came from).
 * 2. `loadTabularTrainRows` (the train-data loader, in every worker): re-reads the file and returns
 *    the scaled fitting rows, deterministically, from what `preprocess.json` records.
 * 3. `calibrateTabularRun` (after the last member): scores the held-out normals with the trained
 *    ensemble and writes `calibration.json` (thresholds at `--tpr` for every score; the flag uses
 *    `--threshold_score`, default waic). With labelled anomalies in the file it also records how
 *    many of them the threshold flags.
 *
 * Sources:
 * - `creditcard`: the Kaggle file through the data registry, split and scaled exactly as the
 *   reference (data/creditcard.ts: 492 normals held out for eval, min-max over all rows). The
 *   scaling saved for scoring is the equivalent raw-space min-max over all rows (the reference
 *   z-scores Amount first, which min-max scaling undoes).
 * - `csv`: any numeric CSV with a header; `--label_column` (default `label` or `Class` when the
 *   header has one; optional) and
 *   `--normal_value` (default 0) pick the normal rows, all rows are normal without a label column;
 *   every other column is a feature. The scaling is fit on the fitting rows only.
 */
import { GensembleError } from "../core/errors.ts";
import type { BackendName } from "../core/backend.ts";
import { columnIndices, readNumericCsv, selectColumns } from "../data/csv.ts";
import { CREDITCARD_COLUMNS, creditcardSplits } from "../data/creditcard.ts";
import { getDatasetSpec, locateDataset } from "../data/registry.ts";
import { fitMinMax } from "../data/scale.ts";
import { oodMetrics } from "../metrics/ood_metrics.ts";
import type { FlagSpec, ParsedCli } from "./cli_flags.ts";
import {
  acceptedShare,
  calibrate,
  type Calibration,
  calibrationSplit,
  saveCalibration,
} from "./calibrate.ts";
import {
  loadEnsemble,
  scoreScaledRows,
  TABULAR_SCORE_NAMES,
  type TabularScoreName,
} from "./score_ensemble.ts";
import {
  applyPreprocess,
  loadPreprocess,
  type Preprocess,
  savePreprocess,
} from "./tabular_prep.ts";
import type { TrainData, TrainDataOptions } from "./train_data.ts";

/** Flags the train task adds for tabular datasets. */
export const TABULAR_TRAIN_FLAGS: Record<string, FlagSpec> = {
  file: { type: "string", placeholder: "PATH", help: "CSV file to train on (with dataset `csv`)." },
  label_column: {
    type: "string",
    placeholder: "NAME",
    help: "Label column of the CSV; rows with --normal_value are normal (default: label or " +
      "Class, if present; all rows are normal without one).",
  },
  normal_value: {
    type: "number",
    default: 0,
    help: "Label value of normal rows.",
  },
  calibration: {
    type: "number",
    default: 0.1,
    min: 0,
    max: 0.9,
    help: "Share of normal rows held out to calibrate the anomaly threshold (0: none).",
  },
  tpr: {
    type: "number",
    default: 0.95,
    min: 0.5,
    max: 1,
    help: "Share of held-out normal rows the calibrated threshold accepts.",
  },
  threshold_score: {
    type: "string",
    default: "waic",
    choices: TABULAR_SCORE_NAMES,
    help: "Score the anomaly flag thresholds.",
  },
};

/** Label columns recognised without `--label_column`: ours/ODDS's, then Kaggle's. */
export const DEFAULT_LABEL_COLUMNS: readonly string[] = ["label", "Class"];

/** Whether a dataset argument is tabular: `creditcard`, `csv`, or a path to a .csv(.gz) file. */
export function isTabularDataset(dataset: string): boolean {
  return dataset === "creditcard" || dataset === "csv" || /\.csv(\.gz)?$/i.test(dataset);
}

/**
 * The dataset name a tabular run records: `creditcard`, or the CSV's path (`train csv --file x`
 * and `train x.csv` are the same run).
 */
export function resolveTabularDataset(positional: string, file: string | undefined): string {
  if (positional === "csv") {
    if (!file) throw new GensembleError("Dataset csv needs --file <path to a .csv or .csv.gz>");
    return file;
  }
  if (file && positional !== file) {
    throw new GensembleError(`--file is only for dataset csv (got dataset "${positional}")`);
  }
  return positional;
}

/** What `preprocess.json` records about where the training rows came from. */
export interface TabularSource {
  /** "creditcard" or "csv". */
  kind: "creditcard" | "csv";
  /** The CSV path (csv) or the located Kaggle file (creditcard). */
  file: string;
  /** Label column and normal value (csv; absent when all rows are normal). */
  labelColumn: string | null;
  normalValue: number;
  /** Held-out share and the seed of the split. */
  calibrationShare: number;
  seed: number;
  /** Row counts: normal rows used for fitting, held out, labelled anomalies. */
  fitRows: number;
  heldOutRows: number;
  anomalyRows: number;
  /** Which rows the scaling was fit on. */
  scalingFitOn: string;
}

/** A tabular run's preprocessing record with its source (what `prepareTabularRun` writes). */
export interface TabularPreprocess extends Preprocess {
  training: TabularSource;
}

/** A tabular source's rows, split into fitting, held-out and anomalous rows. */
interface SourceRows {
  featureNames: string[];
  labelColumn: string | null;
  file: string;
  counts: { fit: number; heldOut: number; anomalies: number };
  /** The scaling the source implies (csv: fit on the fitting rows; creditcard: the reference's). */
  scaling: { min: number[]; max: number[]; fitOn: string; fitRows: number };
  /** The rows as model inputs in [0, 1] (float32 `[n, F]`) under a preprocessing record. */
  scaled(pre: Preprocess): { fit: Float32Array; heldOut: Float32Array; anomalies: Float32Array };
}

function gather<T extends Float32Array | Float64Array>(
  values: T,
  cols: number,
  rows: ArrayLike<number>,
  make: (n: number) => T,
): T {
  const out = make(rows.length * cols);
  for (let i = 0; i < rows.length; i++) {
    out.set(values.subarray(rows[i] * cols, (rows[i] + 1) * cols), i * cols);
  }
  return out;
}

/** Read and split a source's rows; deterministic in (file, options). */
async function readSourceRows(
  kind: "creditcard" | "csv",
  file: string | null,
  opts: {
    labelColumn?: string | null;
    normalValue: number;
    calibrationShare: number;
    seed: number;
    dataDir: string | null;
  },
): Promise<SourceRows> {
  if (kind === "creditcard") {
    const path = file ?? (await locateDataset(getDatasetSpec("creditcard"), "train", {
      dataDir: opts.dataDir ?? undefined,
    })).paths[0];
    const table = await readNumericCsv(path);
    const idx = columnIndices(table, CREDITCARD_COLUMNS, path);
    const featureNames = CREDITCARD_COLUMNS.slice(0, -1);
    const f = featureNames.length;
    // The reference's all-row min-max in raw units: what scoring applies to new raw rows.
    const scaler = fitMinMax(selectColumns(table, idx.slice(0, f)), [table.rows, f]);
    // The reference's split and scaled rows (data/creditcard.ts), so the eval's 492 held-out
    // normals never reach training or calibration.
    const { train, testAnomaly } = creditcardSplits(table, path);
    const { fit, heldOut } = calibrationSplit(train.shape[0], opts.calibrationShare, opts.seed);
    const make = (n: number) => new Float32Array(n);
    return {
      featureNames,
      labelColumn: "Class",
      file: path,
      counts: { fit: fit.length, heldOut: heldOut.length, anomalies: testAnomaly.shape[0] },
      scaling: {
        min: Array.from(scaler.min),
        max: Array.from(scaler.max),
        fitOn: "all rows of the file, frauds included (the reference's scaling)",
        fitRows: table.rows,
      },
      scaled: () => ({
        fit: gather(train.x, f, fit, make),
        heldOut: gather(train.x, f, heldOut, make),
        anomalies: testAnomaly.x,
      }),
    };
  }
  if (!file) throw new GensembleError("Dataset csv needs --file <path to a .csv or .csv.gz>");
  const table = await readNumericCsv(file);
  let labelColumn = opts.labelColumn ?? null;
  if (opts.labelColumn === undefined) {
    labelColumn = DEFAULT_LABEL_COLUMNS.find((c) => table.header.includes(c)) ?? null;
  }
  if (labelColumn !== null && !table.header.includes(labelColumn)) {
    throw new GensembleError(
      `${file}: no label column "${labelColumn}" (the header has: ${table.header.join(",")})`,
    );
  }
  const featureIdx = table.header.map((_, i) => i).filter((i) => table.header[i] !== labelColumn);
  if (featureIdx.length === 0) throw new GensembleError(`${file}: no feature columns`);
  const featureNames = featureIdx.map((i) => table.header[i]);
  const f = featureNames.length;
  const values = selectColumns(table, featureIdx); // [N, F] raw
  const normalRows: number[] = [];
  const anomalyRows: number[] = [];
  if (labelColumn === null) {
    for (let i = 0; i < table.rows; i++) normalRows.push(i);
  } else {
    const labels = selectColumns(table, [table.header.indexOf(labelColumn)]);
    labels.forEach((v, i) => (v === opts.normalValue ? normalRows : anomalyRows).push(i));
  }
  if (normalRows.length < 2) {
    throw new GensembleError(
      `${file}: ${normalRows.length} rows have ${labelColumn} = ${opts.normalValue}; ` +
        `need normal rows to train on (check --label_column and --normal_value)`,
    );
  }
  const split = calibrationSplit(normalRows.length, opts.calibrationShare, opts.seed);
  const make = (n: number) => new Float64Array(n);
  const fit = gather(values, f, Array.from(split.fit, (i) => normalRows[i]), make);
  const heldOut = gather(values, f, Array.from(split.heldOut, (i) => normalRows[i]), make);
  const anomalies = gather(values, f, anomalyRows, make);
  const scaler = fitMinMax(fit, [fit.length / f, f]);
  return {
    featureNames,
    labelColumn,
    file,
    counts: { fit: split.fit.length, heldOut: split.heldOut.length, anomalies: anomalyRows.length },
    scaling: {
      min: Array.from(scaler.min),
      max: Array.from(scaler.max),
      fitOn: "the fitting rows (normal rows not held out for calibration)",
      fitRows: split.fit.length,
    },
    scaled: (pre) => ({
      fit: applyPreprocess(pre, fit),
      heldOut: applyPreprocess(pre, heldOut),
      anomalies: applyPreprocess(pre, anomalies),
    }),
  };
}

/** Options of `prepareTabularRun`. */
export interface PrepareTabularOptions {
  /** `creditcard`, or the CSV path (see `resolveTabularDataset`). */
  dataset: string;
  runDir: string;
  /** `--label_column`; undefined = `label` or `Class` when the file has one (else all normal). */
  labelColumn?: string;
  normalValue?: number;
  calibrationShare?: number;
  seed: number;
  dataDir?: string | null;
}

/**
 * Read a tabular source, fit the scaling and write `preprocess.json` into the run (step 1).
 * Returns the record; `featureNames.length` is the members' input size.
 *
 * @example
 * ```ts
 * const pre = await prepareTabularRun({ dataset: "data.csv", runDir: "runs/data-vae", seed: 0 });
 * pre.training.fitRows; // normal rows the members train on
 * ```
 */
export async function prepareTabularRun(opts: PrepareTabularOptions): Promise<TabularPreprocess> {
  const kind = opts.dataset === "creditcard" ? "creditcard" : "csv";
  const calibrationShare = opts.calibrationShare ?? 0.1;
  const normalValue = opts.normalValue ?? 0;
  const rows = await readSourceRows(kind, kind === "csv" ? opts.dataset : null, {
    labelColumn: opts.labelColumn,
    normalValue,
    calibrationShare,
    seed: opts.seed,
    dataDir: opts.dataDir ?? null,
  });
  const pre: TabularPreprocess = {
    version: 1,
    scaling: "minmax",
    featureNames: rows.featureNames,
    min: rows.scaling.min,
    max: rows.scaling.max,
    fitRows: rows.scaling.fitRows,
    source: kind,
    ...(rows.labelColumn !== null ? { labelColumn: rows.labelColumn, normalValue } : {}),
    training: {
      kind,
      file: rows.file,
      labelColumn: rows.labelColumn,
      normalValue,
      calibrationShare,
      seed: opts.seed,
      fitRows: rows.counts.fit,
      heldOutRows: rows.counts.heldOut,
      anomalyRows: rows.counts.anomalies,
      scalingFitOn: rows.scaling.fitOn,
    },
  };
  await savePreprocess(opts.runDir, pre);
  return pre;
}

async function loadTabularPreprocess(runDir: string): Promise<TabularPreprocess> {
  const pre = await loadPreprocess(runDir) as TabularPreprocess;
  if (!pre.training) {
    throw new GensembleError(
      `${runDir}/preprocess.json: records no training source; rerun deno task train`,
    );
  }
  return pre;
}

/**
 * The run's record; when the train task did not prepare the run (step 1), prepare it here with
 * the default options (label column `label` or `Class` if present, normal value 0, calibration share 0.1,
 * split seed 0). The train task's first call (its shape probe) runs before any worker starts.
 */
async function preparedOrDefault(
  dataset: string,
  options: TrainDataOptions,
): Promise<TabularPreprocess> {
  try {
    const pre = await loadTabularPreprocess(options.runDir);
    const kind = dataset === "creditcard" ? "creditcard" : "csv";
    if (pre.training.kind === kind && (kind === "creditcard" || pre.training.file === dataset)) {
      return pre;
    }
  } catch (err) {
    if (!(err instanceof GensembleError)) throw err;
  }
  if (dataset === "csv") {
    throw new GensembleError("Dataset csv needs --file <path to a .csv or .csv.gz>");
  }
  return await prepareTabularRun({
    dataset,
    runDir: options.runDir,
    seed: 0,
    dataDir: options.dataDir,
  });
}

/** The run's source rows again, as `preprocess.json` describes them. */
async function rowsOfRun(pre: TabularPreprocess, dataDir: string | null): Promise<SourceRows> {
  const t = pre.training;
  const rows = await readSourceRows(t.kind, t.file, {
    labelColumn: t.labelColumn,
    normalValue: t.normalValue,
    calibrationShare: t.calibrationShare,
    seed: t.seed,
    dataDir,
  });
  if (rows.featureNames.join(",") !== pre.featureNames.join(",")) {
    throw new GensembleError(
      `${t.file}: its columns changed since the run was prepared (now ${
        rows.featureNames.join(",")
      })`,
    );
  }
  return rows;
}

/**
 * The train-data loader of tabular datasets (step 2; tasks/train_data.ts registers it): the scaled
 * fitting rows `[N, F]` of the run's source.
 */
export async function loadTabularTrainRows(
  dataset: string,
  options: TrainDataOptions,
): Promise<TrainData> {
  const pre = await preparedOrDefault(dataset, options);
  const rows = await rowsOfRun(pre, options.dataDir);
  const f = pre.featureNames.length;
  let fit = rows.scaled(pre).fit;
  if (options.limit !== undefined) fit = fit.slice(0, Math.min(fit.length, options.limit * f));
  return { x: fit, shape: [fit.length / f, f] };
}

/** Options of `calibrateTabularRun`. */
export interface CalibrateRunOptions {
  tpr?: number;
  thresholdScore?: TabularScoreName;
  /** Posterior samples K for the scores (default: the existing calibration's, else the run's
   * eval K from its preset). */
  nSamples?: number;
  backend?: BackendName;
  dataDir?: string | null;
  quiet?: boolean;
}

/**
 * Score the run's held-out normal rows and write `calibration.json` (step 3). Returns null when
 * the run holds out no rows (`--calibration 0`).
 */
export async function calibrateTabularRun(
  runDir: string,
  opts: CalibrateRunOptions = {},
): Promise<(Calibration & { labelledAnomalies?: LabelledAnomalies }) | null> {
  const pre = await loadTabularPreprocess(runDir);
  const rows = await rowsOfRun(pre, opts.dataDir ?? null);
  const f = pre.featureNames.length;
  if (rows.counts.heldOut === 0) return null;
  const scaled = rows.scaled(pre);
  const ens = await loadEnsemble(runDir, {
    backend: opts.backend,
    nSamples: opts.nSamples,
    quiet: opts.quiet ?? true,
  });
  try {
    const score = opts.thresholdScore ?? "waic";
    const tpr = opts.tpr ?? 0.95;
    const held = await scoreScaledRows(ens, scaled.heldOut, rows.counts.heldOut);
    const cal: Calibration & { labelledAnomalies?: LabelledAnomalies } = calibrate(
      held as Record<string, Float32Array>,
      score,
      tpr,
      ens.nSamples,
    );
    if (rows.counts.anomalies > 0) {
      // At most 10,000 anomalies: a summary, not an evaluation.
      const cap = Math.min(rows.counts.anomalies, 10000);
      const anom = await scoreScaledRows(ens, scaled.anomalies.subarray(0, cap * f), cap);
      const s = anom[score]!;
      const m = oodMetrics(held[score]!, s);
      cal.labelledAnomalies = {
        count: cap,
        flaggedShare: 1 - acceptedShare(s, cal.threshold),
        auroc: m.auroc,
        ap: m.auprOut,
      };
    }
    await saveCalibration(runDir, cal);
    return cal;
  } finally {
    ens.dispose();
  }
}

/** How the calibrated flag does on the training file's labelled anomalies (a sanity check). */
export interface LabelledAnomalies {
  count: number;
  /** Share of them the threshold flags. */
  flaggedShare: number;
  /** Held-out normals vs these anomalies, on the threshold score. */
  auroc: number;
  ap: number;
}

/** What the train task passes for a tabular dataset (from its flags). */
export interface TabularTrainOptions {
  labelColumn?: string;
  normalValue?: number;
  calibrationShare?: number;
  tpr?: number;
  thresholdScore?: TabularScoreName;
}

/** Read the tabular flags (`TABULAR_TRAIN_FLAGS`) of a parsed train command line. */
export function tabularOptionsFromCli(cli: ParsedCli): TabularTrainOptions {
  return {
    labelColumn: cli.string("label_column"),
    normalValue: cli.number("normal_value"),
    calibrationShare: cli.number("calibration"),
    tpr: cli.number("tpr"),
    thresholdScore: cli.string("threshold_score") as TabularScoreName | undefined,
  };
}
