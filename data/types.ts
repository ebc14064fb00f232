/**
 * The in-memory form every loader returns: one flat float32 buffer plus its shape, so models and
 * OoD builders never care which file format the data came from.
 */

/**
 * A dataset in memory. Images are `[N, H, W, C]` float32 in [0, 1] (C = 1 for grayscale);
 * tabular data is `[N, F]`.
 */
export interface Dataset {
  /** Dataset name as in the registry or the OoD suite (`mnist`, `hflip`, `my_set`, ...). */
  name: string;
  /** Row-major values, `shape.reduce((a, b) => a * b)` of them. */
  x: Float32Array;
  /** `[N, H, W, C]` for images, `[N, F]` for tabular data. */
  shape: number[];
  /** Class labels (images) or anomaly labels (tabular: 1 = anomaly, 0 = normal), one per row. */
  labels?: Int32Array;
  /** Column names of tabular data, one per feature. */
  featureNames?: string[];
}

/** Number of examples in a dataset (its first dimension). */
export function numExamples(ds: Dataset): number {
  return ds.shape[0];
}

/** The per-example shape: `[H, W, C]` or `[F]`. */
export function exampleShape(ds: Dataset): number[] {
  return ds.shape.slice(1);
}

/** Number of values in one example. */
export function exampleSize(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Format a shape for messages: `[10000, 28, 28, 1]`. */
export function formatShape(shape: number[]): string {
  return `[${shape.join(", ")}]`;
}
