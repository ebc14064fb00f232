/**
 * Tabular anomaly-detection sets (ODDS: cardio, thyroid, satellite, shuttle, mammography, and any
 * numeric CSV with a label column): features `[N, F]` plus 0/1 anomaly labels, unscaled. Reads
 * our CSV layout (`f0,...,f{d-1},label`) or ODDS's original `.mat` (`X` n×d, `y` n×1).
 * Scaling belongs to the model code: fit `fitMinMax` on the training rows only.
 */

import { fileError } from "../core/errors.ts";
import type { Dataset } from "./types.ts";
import { columnIndices, readNumericCsv, selectColumns } from "./csv.ts";
import { columnMajorToRowMajor, matVariable, readMat } from "./mat.ts";
import { assertFinite } from "./npy.ts";

/** Labels must be 0 (normal) or 1 (anomaly). */
function toAnomalyLabels(values: ArrayLike<number>, path: string, column: string): Int32Array {
  const labels = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== 0 && v !== 1) {
      throw fileError(path, `row ${i + 1}: '${column}' is ${v}; anomaly labels must be 0 or 1`);
    }
    labels[i] = v;
  }
  return labels;
}

/**
 * Read a CSV with a header and a 0/1 label column (default `label`); every other column is a
 * feature. Returns features `[N, F]` (float32, unscaled), labels and feature names.
 * @example const ds = await loadLabelledCsv("tabular/cardio.csv.gz", "cardio"); // [1831, 21]
 */
export async function loadLabelledCsv(
  path: string,
  name: string,
  labelColumn = "label",
): Promise<Dataset> {
  const table = await readNumericCsv(path);
  const [labelIdx] = columnIndices(table, [labelColumn], path);
  const featureIdx = table.header.map((_, i) => i).filter((i) => i !== labelIdx);
  if (featureIdx.length === 0) throw fileError(path, "no feature columns besides the label");
  if (table.rows === 0) throw fileError(path, "no data rows");
  const x = Float32Array.from(selectColumns(table, featureIdx));
  const labels = toAnomalyLabels(selectColumns(table, [labelIdx]), path, labelColumn);
  return {
    name,
    x,
    shape: [table.rows, featureIdx.length],
    labels,
    featureNames: featureIdx.map((i) => table.header[i]),
  };
}

/**
 * Read an ODDS `.mat` file (`X` n×d, `y` n×1 with 1 = outlier).
 * @example const ds = await loadOddsMat("cardio.mat", "cardio");
 */
export async function loadOddsMat(path: string, name: string): Promise<Dataset> {
  const vars = await readMat(path);
  const xv = matVariable(vars, "X", path);
  const yv = matVariable(vars, "y", path);
  if (xv.dims.length !== 2) {
    throw fileError(path, `'X' has dims ${xv.dims.join("×")}, expected n×d`);
  }
  const [n, f] = xv.dims;
  if (yv.data.length !== n) {
    throw fileError(path, `'y' has ${yv.data.length} values but 'X' has ${n} rows`);
  }
  const rowMajor = columnMajorToRowMajor(Float64Array.from(xv.data), [n, f], [0, 1]);
  assertFinite(rowMajor, [n, f], path);
  return {
    name,
    x: Float32Array.from(rowMajor),
    shape: [n, f],
    labels: toAnomalyLabels(yv.data, path, "y"),
    featureNames: Array.from({ length: f }, (_, i) => `f${i}`),
  };
}

/**
 * Load a tabular anomaly set from `.csv[.gz]` or `.mat[.gz]`, chosen by the file name.
 * @example const ds = await loadTabularFile("/data/tabular/thyroid.csv.gz", "thyroid");
 */
export async function loadTabularFile(path: string, name: string): Promise<Dataset> {
  const base = path.replace(/\.gz$/, "");
  return base.endsWith(".mat") ? await loadOddsMat(path, name) : await loadLabelledCsv(path, name);
}
