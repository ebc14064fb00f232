/**
 * ROC curve points for anomaly scores, in the conventions of `oodMetrics`: OoD is the positive
 * class and a higher score is more anomalous, so at each threshold t
 *
 *   TPR(t) = fraction of OoD inputs with score ≥ t        (OoD correctly flagged)
 *   FPR(t) = fraction of in-distribution inputs with score ≥ t   (normal inputs flagged)
 *
 * The thresholds are the distinct scores, highest first, preceded by +Infinity (flag nothing),
 * exactly as `sklearn.metrics.roc_curve(isOod, score, drop_intermediate=False)` returns them;
 * `dropIntermediate: true` drops the collinear points as sklearn's default does. The trapezoidal
 * area under these points equals `oodMetrics(...).auroc` (ties count half).
 */
import { GensembleError } from "../core/errors.ts";

/** An ROC curve: `fpr[i]`, `tpr[i]` for flagging every input with score ≥ `thresholds[i]`. */
export interface RocCurve {
  /** [P] fraction of in-distribution inputs flagged, non-decreasing, from 0 to 1. */
  fpr: Float64Array;
  /** [P] fraction of OoD inputs flagged, non-decreasing, from 0 to 1. */
  tpr: Float64Array;
  /** [P] decreasing thresholds; the first is +Infinity. */
  thresholds: Float64Array;
}

function descending(scores: ArrayLike<number>, which: string): Float64Array {
  if (scores.length === 0) {
    throw new GensembleError(`${which} scores are empty: need at least one score for an ROC curve`);
  }
  const sorted = Float64Array.from(scores);
  for (let i = 0; i < sorted.length; i++) {
    if (Number.isNaN(sorted[i])) {
      throw new GensembleError(
        `${which} scores contain NaN at index ${i}: remove or fix non-finite scores first`,
      );
    }
  }
  return sorted.sort().reverse();
}

/**
 * ROC curve of in-distribution vs OoD anomaly scores (higher = more anomalous, OoD positive).
 *
 * @example
 * ```ts
 * const { fpr, tpr } = rocCurve([0.1, 0.4], [0.35, 0.8]);
 * // thresholds [Inf, 0.8, 0.4, 0.35, 0.1] → fpr [0, 0, 0.5, 0.5, 1], tpr [0, 0.5, 0.5, 1, 1]
 * ```
 */
export function rocCurve(
  inScores: ArrayLike<number>,
  outScores: ArrayLike<number>,
  options: { dropIntermediate?: boolean } = {},
): RocCurve {
  const a = descending(inScores, "In-distribution");
  const b = descending(outScores, "Out-of-distribution");
  const fps: number[] = [0];
  const tps: number[] = [0];
  const thr: number[] = [Infinity];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const v = i >= a.length ? b[j] : j >= b.length ? a[i] : Math.max(a[i], b[j]);
    while (i < a.length && a[i] === v) i++;
    while (j < b.length && b[j] === v) j++;
    fps.push(i);
    tps.push(j);
    thr.push(v);
  }
  let keep = fps.map((_, k) => k);
  if (options.dropIntermediate) {
    // sklearn: among the real thresholds (index ≥ 1; the (0, 0) start is prepended after), keep
    // the first, the last and every one where either cumulative count changes slope.
    const last = fps.length - 1;
    keep = keep.filter((k) =>
      k <= 1 || k === last ||
      fps[k + 1] - 2 * fps[k] + fps[k - 1] !== 0 || tps[k + 1] - 2 * tps[k] + tps[k - 1] !== 0
    );
  }
  return {
    fpr: Float64Array.from(keep, (k) => fps[k] / a.length),
    tpr: Float64Array.from(keep, (k) => tps[k] / b.length),
    thresholds: Float64Array.from(keep, (k) => thr[k]),
  };
}

/**
 * Trapezoidal area under a curve given by increasing x (an ROC curve's fpr) and y (its tpr).
 *
 * @example
 * ```ts
 * const c = rocCurve(inScores, outScores);
 * curveArea(c.fpr, c.tpr) === oodMetrics(inScores, outScores).auroc; // up to rounding
 * ```
 */
export function curveArea(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) {
    throw new Error(`curveArea: x has ${x.length} points but y has ${y.length}`);
  }
  let area = 0;
  for (let k = 1; k < x.length; k++) area += (x[k] - x[k - 1]) * (y[k] + y[k - 1]) / 2;
  return area;
}
