/**
 * Per-feature scaling for tabular data: min-max to [0, 1] (what a Bernoulli decoder needs) and
 * standardisation. A scaler is fitted on chosen rows (the training split) and applied to any rows,
 * clipping to [0, 1] so unseen extremes never leave the decoder's range.
 */

/** Per-feature minimum and maximum, fitted on some rows. */
export interface MinMaxScaler {
  min: Float64Array;
  max: Float64Array;
}

/**
 * Fit a min-max scaler on `rows` (default: all) of a row-major `[N, F]` array.
 * @example const s = fitMinMax(x, [n, f], trainRows);
 */
export function fitMinMax(
  x: ArrayLike<number>,
  shape: [number, number] | number[],
  rows?: ArrayLike<number>,
): MinMaxScaler {
  const [n, f] = shape;
  const min = new Float64Array(f).fill(Infinity);
  const max = new Float64Array(f).fill(-Infinity);
  const count = rows ? rows.length : n;
  for (let i = 0; i < count; i++) {
    const r = rows ? rows[i] : i;
    for (let j = 0; j < f; j++) {
      const v = x[r * f + j];
      if (v < min[j]) min[j] = v;
      if (v > max[j]) max[j] = v;
    }
  }
  return { min, max };
}

/**
 * Scale a row-major `[N, F]` array to [0, 1] with a fitted scaler: (v − min) / (max − min),
 * clipped to [0, 1] unless `clip` is false. Constant features map to 0.
 * @example const x01 = applyMinMax(x, [n, f], fitMinMax(x, [n, f]));
 */
export function applyMinMax(
  x: ArrayLike<number>,
  shape: [number, number] | number[],
  scaler: MinMaxScaler,
  clip = true,
): Float32Array {
  const [n, f] = shape;
  const out = new Float32Array(n * f);
  for (let j = 0; j < f; j++) {
    const lo = scaler.min[j];
    const range = scaler.max[j] - lo;
    const inv = range > 0 ? 1 / range : 0;
    for (let i = 0; i < n; i++) {
      let v = (x[i * f + j] - lo) * inv;
      if (clip) v = v < 0 ? 0 : v > 1 ? 1 : v;
      out[i * f + j] = v;
    }
  }
  return out;
}

/**
 * Standardise values in place: (v − mean) / std with the sample std (ddof 1, as pandas does).
 * @example standardize(amounts); // mean 0, sample std 1
 */
export function standardize(values: Float64Array): Float64Array {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  const std = Math.sqrt(ss / (n - 1));
  const inv = std > 0 ? 1 / std : 0;
  for (let i = 0; i < n; i++) values[i] = (values[i] - mean) * inv;
  return values;
}
