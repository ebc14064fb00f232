/**
 * Out-of-distribution sets built from the in-distribution test set (noise, flips) or read from
 * the user's own files (`--ood name=path`, NPY, IDX or CSV) with a shape check against the
 * training data. Adversarial noise needs a trained member and lives in `adversarial.ts`.
 */

import { fileError, GensembleError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { type Dataset, exampleSize, formatShape } from "./types.ts";
import { readMaybeGzip } from "./read_bytes.ts";
import { imagesToDataset, parseArray, type RawArray } from "./images.ts";
import { parseNumericCsv, selectColumns } from "./csv.ts";

/** The OoD sets that are built rather than read. */
export const BUILT_OOD_SETS = ["uniform_noise", "normal_noise", "hflip", "vflip"] as const;
export type BuiltOodSet = typeof BUILT_OOD_SETS[number];

/** Indices of `n` test examples: all of them in order if n ≥ N, else a seeded random subset. */
function pickRows(total: number, n: number, rng: Rng): Int32Array {
  if (n >= total) return Int32Array.from({ length: total }, (_, i) => i);
  return rng.permutation(total).slice(0, n).sort();
}

/**
 * Build an OoD set shaped like `inTest`: `uniform_noise` (U[0,1)), `normal_noise` (N(0,1) clipped
 * to [0, 1]), or `hflip` / `vflip` of `n` in-distribution test images (all of them if n ≥ N).
 * @example const noise = buildOodSet("normal_noise", mnistTest, 1000, 0); // [1000, 28, 28, 1]
 */
export function buildOodSet(
  name: BuiltOodSet,
  inTest: Dataset,
  n: number,
  seed: number,
): Dataset {
  if (!Number.isInteger(n) || n <= 0) {
    throw new GensembleError(`${name}: count must be a positive integer, got ${n}`);
  }
  const per = inTest.shape.slice(1);
  const size = exampleSize(per);
  const rng = new Rng(seed);
  switch (name) {
    case "uniform_noise": {
      const x = new Float32Array(n * size);
      for (let i = 0; i < x.length; i++) x[i] = rng.uniform();
      return { name, x, shape: [n, ...per] };
    }
    case "normal_noise": {
      const x = new Float32Array(n * size);
      for (let i = 0; i < x.length; i++) x[i] = Math.min(1, Math.max(0, rng.normal()));
      return { name, x, shape: [n, ...per] };
    }
    case "hflip":
    case "vflip": {
      if (per.length !== 3) {
        throw new GensembleError(
          `${name}: flips need images [N, H, W, C], but '${inTest.name}' is ${
            formatShape(inTest.shape)
          }`,
        );
      }
      const [h, w, c] = per;
      const rows = pickRows(inTest.shape[0], n, rng);
      const x = new Float32Array(rows.length * size);
      rows.forEach((r, k) => {
        const src = r * size;
        const dst = k * size;
        for (let i = 0; i < h; i++) {
          for (let j = 0; j < w; j++) {
            // hflip mirrors columns (left-right), vflip mirrors rows (upside down).
            const si = name === "vflip" ? h - 1 - i : i;
            const sj = name === "hflip" ? w - 1 - j : j;
            for (let ch = 0; ch < c; ch++) {
              x[dst + (i * w + j) * c + ch] = inTest.x[src + (si * w + sj) * c + ch];
            }
          }
        }
      });
      const labels = inTest.labels ? Int32Array.from(rows, (r) => inTest.labels![r]) : undefined;
      return { name, x, shape: [rows.length, ...per], labels };
    }
    default:
      throw new GensembleError(
        `unknown OoD set '${name}' (built sets: ${BUILT_OOD_SETS.join(", ")})`,
      );
  }
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Columns that hold labels, not features, in a user's CSV. */
const LABEL_COLUMNS = ["label", "Class"];

/**
 * Load a user's OoD file (NPY, IDX or CSV, optionally `.gz`) and check each example has the
 * training data's shape `exampleShape` (`[H, W, C]` or `[F]`). Single-channel images may come as
 * `[N, H, W]`; uint8 values are scaled by 1/255; float images must lie in [0, 1]. CSV files have a
 * header; a `label` or `Class` column becomes the labels, every other column is a feature.
 * @example const ds = await loadUserOodSet("letters", "letters.npy", [28, 28, 1]);
 */
export async function loadUserOodSet(
  name: string,
  path: string,
  exampleShape: number[],
): Promise<Dataset> {
  const bytes = await readMaybeGzip(path);
  const isCsv = path.replace(/\.gz$/, "").toLowerCase().endsWith(".csv");
  let arr: RawArray;
  let labels: Int32Array | undefined;
  let featureNames: string[] | undefined;
  if (isCsv) {
    const table = parseNumericCsv(new TextDecoder().decode(bytes), path);
    const labelCol = table.header.findIndex((h) => LABEL_COLUMNS.includes(h));
    const features = table.header.map((_, i) => i).filter((i) => i !== labelCol);
    const values = selectColumns(table, features);
    arr = { shape: [table.rows, features.length], data: values };
    if (labelCol >= 0) labels = Int32Array.from(selectColumns(table, [labelCol]));
    featureNames = features.map((i) => table.header[i]);
    // A flat CSV of images: reshape rows of H·W·C values to the training shape.
    if (exampleShape.length > 1 && features.length === exampleSize(exampleShape)) {
      arr = { shape: [table.rows, ...exampleShape], data: values };
      featureNames = undefined;
    }
  } else {
    arr = parseArray(bytes, path);
  }

  const [n, ...per] = arr.shape;
  const grayscale = exampleShape.length === 3 && exampleShape[2] === 1 &&
    sameShape(per, exampleShape.slice(0, 2));
  if (!sameShape(per, exampleShape) && !grayscale) {
    throw fileError(
      path,
      `examples have shape ${formatShape(per)} (file shape ${formatShape(arr.shape)}) but the ` +
        `training data's examples are ${formatShape(exampleShape)}`,
    );
  }
  if (exampleShape.length === 3) {
    const ds = imagesToDataset(name, { shape: [n, ...exampleShape], data: arr.data }, path);
    if (labels) ds.labels = labels;
    return ds;
  }
  const x = arr.data instanceof Uint8Array
    ? Float32Array.from(arr.data, (v) => v / 255)
    : Float32Array.from(arr.data);
  return { name, x, shape: [n, ...exampleShape], labels, featureNames };
}
