/**
 * Kaggle credit-card fraud (`creditcard.csv`: Time, V1..V28, Amount, Class), prepared as the
 * reference code did (rich_latent `credit_dataset_helper`): features Time, V1..V28 and Amount
 * standardised (sample std), then every feature min-max scaled to [0, 1] over all rows; normals
 * shuffled with a fixed seed; as many normals as there are frauds (492) held out for test; the
 * frauds are the anomalies.
 */

import { fileError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import type { Dataset } from "./types.ts";
import { columnIndices, type NumericTable, readNumericCsv, selectColumns } from "./csv.ts";
import { applyMinMax, fitMinMax, standardize } from "./scale.ts";

/** Seed of the normal-row shuffle, fixed so every run and every member sees the same split. */
export const CREDITCARD_SPLIT_SEED = 0;

/** Kaggle's column names, in order. */
export const CREDITCARD_COLUMNS = [
  "Time",
  ...Array.from({ length: 28 }, (_, i) => `V${i + 1}`),
  "Amount",
  "Class",
];

/** The three credit-card sets: training normals, held-out normals, frauds. All `[N, 30]`. */
export interface CreditcardSplits {
  train: Dataset;
  testNormal: Dataset;
  testAnomaly: Dataset;
}

/**
 * Split a parsed credit-card table as the reference did.
 * @example const { train, testNormal, testAnomaly } = creditcardSplits(table, "creditcard.csv");
 */
export function creditcardSplits(
  table: NumericTable,
  path: string,
  seed = CREDITCARD_SPLIT_SEED,
): CreditcardSplits {
  const idx = columnIndices(table, CREDITCARD_COLUMNS, path);
  const n = table.rows;
  const f = 30; // Time, V1..V28, standardised Amount
  const raw = selectColumns(table, idx.slice(0, f)); // [N, 30]
  const cls = selectColumns(table, [idx[f]]);
  const amount = new Float64Array(n);
  for (let i = 0; i < n; i++) amount[i] = raw[i * f + f - 1];
  standardize(amount);
  for (let i = 0; i < n; i++) raw[i * f + f - 1] = amount[i];
  const scaled = applyMinMax(raw, [n, f], fitMinMax(raw, [n, f]), false); // [N, 30] in [0, 1]

  const normals: number[] = [];
  const frauds: number[] = [];
  for (let i = 0; i < n; i++) {
    if (cls[i] === 0) normals.push(i);
    else if (cls[i] === 1) frauds.push(i);
    else throw fileError(path, `row ${i + 1}: Class is ${cls[i]}; expected 0 or 1`);
  }
  if (frauds.length === 0 || normals.length <= frauds.length) {
    throw fileError(
      path,
      `needs more normal rows than frauds (found ${normals.length} normal, ${frauds.length} fraud)`,
    );
  }
  const perm = new Rng(seed).permutation(normals.length);
  const shuffled = Array.from(perm, (p) => normals[p]);
  const featureNames = CREDITCARD_COLUMNS.slice(0, f);
  const pick = (name: string, rows: number[], label: number): Dataset => {
    const x = new Float32Array(rows.length * f);
    rows.forEach((r, i) => x.set(scaled.subarray(r * f, (r + 1) * f), i * f));
    return {
      name,
      x,
      shape: [rows.length, f],
      labels: new Int32Array(rows.length).fill(label),
      featureNames,
    };
  };
  const nTest = frauds.length;
  return {
    train: pick("creditcard", shuffled.slice(nTest), 0),
    testNormal: pick("creditcard", shuffled.slice(0, nTest), 0),
    testAnomaly: pick("creditcard_fraud", frauds, 1),
  };
}

/**
 * Read `creditcard.csv` (or `.csv.gz`) and split it.
 * @example const { train } = await loadCreditcardFile("data/creditcard/creditcard.csv");
 */
export async function loadCreditcardFile(
  path: string,
  seed = CREDITCARD_SPLIT_SEED,
): Promise<CreditcardSplits> {
  return creditcardSplits(await readNumericCsv(path), path, seed);
}
