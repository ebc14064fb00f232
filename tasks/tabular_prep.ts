/**
 * Tabular preprocessing record: which columns are features, and the min-max scaling (data/scale.ts)
 * that maps them into [0, 1] for the VAE's Bernoulli decoder. The scaling is fit on the training
 * rows, saved in the run (`preprocess.json`, with the feature names) and applied unchanged at
 * scoring time, where values outside the training range are clipped to [0, 1].
 *
 * Credit-card preprocessing (the reference's `credit_dataset_helper`, data/creditcard.ts): the
 * features are every column of the Kaggle file but `Class`, in file order (Time, V1..V28,
 * Amount); Amount is z-scored, then every feature is min-max scaled over all rows, frauds
 * included. A z-score is affine and min-max scaling undoes any affine map with a positive scale,
 * so the record saved for scoring is simply the raw min and max over all rows
 * (tasks/tabular_train.ts). For any other CSV the scaling is fit on the training rows only.
 */
import { GensembleError } from "../core/errors.ts";
import { writeJsonAtomic } from "../core/atomic.ts";
import { applyMinMax, fitMinMax, type MinMaxScaler } from "../data/scale.ts";

/** The file name of the preprocessing record inside a run directory. */
export const PREPROCESS_FILE = "preprocess.json";

/** How raw rows become model inputs; saved as `preprocess.json` in the run. */
export interface Preprocess {
  /** Format version of this record. */
  version: 1;
  /** "minmax": x' = clip((x − min) / (max − min), 0, 1) per feature. */
  scaling: "minmax";
  /** Feature column names, in model-input order. */
  featureNames: string[];
  /** Per-feature minimum and maximum over the rows the scaling was fit on. */
  min: number[];
  max: number[];
  /** Number of rows the scaling was fit on. */
  fitRows: number;
  /** The label column of the training file, if any; a scoring file may carry it (ignored). */
  labelColumn?: string;
  /** The label value of normal rows in the training file (with `labelColumn`). */
  normalValue?: number;
  /** Where the training rows came from: "creditcard", "csv", or an ODDS set name. */
  source: string;
}

/**
 * The scaling record of `[n, F]` training rows (min-max over those rows; see data/scale.ts).
 *
 * @example
 * ```ts
 * const p = fitPreprocess(new Float64Array([0, 10, 2, 30]), ["a", "b"], { source: "csv" });
 * // p.min = [0, 10], p.max = [2, 30]
 * ```
 */
export function fitPreprocess(
  values: ArrayLike<number>,
  featureNames: readonly string[],
  extra: Partial<Pick<Preprocess, "labelColumn" | "normalValue" | "source">> = {},
): Preprocess {
  const f = featureNames.length;
  if (f === 0) throw new GensembleError("Cannot fit scaling: no feature columns");
  if (values.length % f !== 0) {
    throw new Error(`fitPreprocess: ${values.length} values are not rows of ${f} features`);
  }
  const n = values.length / f;
  if (n === 0) throw new GensembleError("Cannot fit scaling: no training rows");
  const scaler = fitMinMax(values, [n, f]);
  return {
    version: 1,
    scaling: "minmax",
    featureNames: [...featureNames],
    min: Array.from(scaler.min),
    max: Array.from(scaler.max),
    fitRows: n,
    source: extra.source ?? "csv",
    ...(extra.labelColumn !== undefined ? { labelColumn: extra.labelColumn } : {}),
    ...(extra.normalValue !== undefined ? { normalValue: extra.normalValue } : {}),
  };
}

/** The data/scale.ts scaler a record describes. */
export function scalerOf(pre: Preprocess): MinMaxScaler {
  return { min: Float64Array.from(pre.min), max: Float64Array.from(pre.max) };
}

/**
 * Apply a record to `[n, F]` raw values: min-max scaled and clipped to [0, 1], float32 model
 * inputs. A feature that was constant in training maps to 0.
 *
 * @example
 * ```ts
 * const p = fitPreprocess([0, 10, 2, 30], ["a", "b"]);
 * applyPreprocess(p, [1, 40]); // Float32Array [0.5, 1] (40 is clipped)
 * ```
 */
export function applyPreprocess(pre: Preprocess, values: ArrayLike<number>): Float32Array {
  const f = pre.featureNames.length;
  if (values.length % f !== 0) {
    throw new Error(`applyPreprocess: ${values.length} values are not rows of ${f} features`);
  }
  return applyMinMax(values, [values.length / f, f], scalerOf(pre), true);
}

function checkPreprocess(value: unknown, path: string): Preprocess {
  const p = value as Preprocess;
  const ok = p && typeof p === "object" && p.version === 1 && p.scaling === "minmax" &&
    Array.isArray(p.featureNames) && p.featureNames.length > 0 &&
    Array.isArray(p.min) && Array.isArray(p.max) &&
    p.min.length === p.featureNames.length && p.max.length === p.featureNames.length &&
    p.min.every(Number.isFinite) && p.max.every(Number.isFinite);
  if (!ok) {
    throw new GensembleError(
      `${path}: not a valid preprocessing record (needs version 1, minmax scaling, and min/max ` +
        `for every feature name); retrain the run or restore the file`,
    );
  }
  return p;
}

/** Save the preprocessing record into a run directory, atomically. */
export async function savePreprocess(runDir: string, pre: Preprocess): Promise<void> {
  await Deno.mkdir(runDir, { recursive: true });
  await writeJsonAtomic(`${runDir}/${PREPROCESS_FILE}`, pre);
}

/**
 * Load a run's preprocessing record; a missing or malformed file is a one-line error.
 * @example const pre = await loadPreprocess("runs/creditcard-vae");
 */
export async function loadPreprocess(runDir: string): Promise<Preprocess> {
  const path = `${runDir}/${PREPROCESS_FILE}`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new GensembleError(
        `${path}: file not found; is ${runDir} a tabular run (deno task train csv|creditcard)?`,
      );
    }
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GensembleError(`${path}: not valid JSON`);
  }
  return checkPreprocess(value, path);
}
