/**
 * Detection metrics for an in-distribution set against an out-of-distribution (OoD) set, computed
 * from ANOMALY scores (higher = more anomalous, the convention of every gensemble detector).
 *
 * Every metric is a walk down the distinct score values (the thresholds), so ties are grouped
 * exactly as scikit-learn's `_binary_clf_curve` groups them: inputs with equal scores are accepted
 * or flagged together. Both sets are sorted once, O(n log n).
 *
 * Two conventions exist for "FPR at 95% TPR", and papers mix them up:
 *
 * - ODIN / "WAIC, but Why?" (`fpr95`, `fpr99`): in-distribution is the positive class. Choose the
 *   strictest threshold that still accepts (calls normal) at least 95% of the in-distribution
 *   inputs; report the fraction of OoD inputs accepted there. Equals
 *   `fpr[argmax(tpr >= 0.95)]` of `sklearn.metrics.roc_curve(isIn, -score,
 *   drop_intermediate=False)`.
 * - OpenOOD (`fpr95OodPositive`, `fpr99OodPositive`): OoD is the positive class. Choose the
 *   strictest threshold that flags at least 95% of the OoD inputs; report the fraction of
 *   in-distribution inputs flagged there. Equals `fpr[argmax(tpr >= 0.95)]` of
 *   `roc_curve(isOod, score, drop_intermediate=False)`.
 *
 * `drop_intermediate=False` matters only when several consecutive thresholds lie on one straight
 * ROC segment (e.g. a run of groups that each tie one in- and one out-of-distribution input):
 * sklearn's default then drops the first threshold that reaches the target TPR and reports a
 * larger FPR. Lower is better for both FPRs; higher is better for AUROC and both AUPRs.
 */
import { GensembleError } from "../core/errors.ts";

/**
 * The detection metrics of one in-distribution vs OoD comparison; see the module doc. (A type
 * alias, not an interface, so that it is a `Record<string, number>` for `bootstrapMembers`.)
 */
export type OodMetrics = {
  /** P(out > in) + ½ P(out = in): area under the ROC curve, OoD positive, ties count half. */
  auroc: number;
  /** Average precision with in-distribution positive (decision value −score), as sklearn. */
  auprIn: number;
  /** Average precision with OoD positive (decision value score), as sklearn. */
  auprOut: number;
  /** ODIN convention: fraction of OoD accepted where ≥ 95% of in-distribution is accepted. */
  fpr95: number;
  /** ODIN convention: fraction of OoD accepted where ≥ 99% of in-distribution is accepted. */
  fpr99: number;
  /** OpenOOD convention: fraction of in-distribution flagged where ≥ 95% of OoD is flagged. */
  fpr95OodPositive: number;
  /** OpenOOD convention: fraction of in-distribution flagged where ≥ 99% of OoD is flagged. */
  fpr99OodPositive: number;
};

/** Which class counts as positive in `fprAtTpr`: "in" (ODIN) or "ood" (OpenOOD). */
export type PositiveClass = "in" | "ood";

/** Distinct score values, highest first, with how many inputs of each set have that score. */
interface ScoreGroups {
  inCounts: Float64Array; // [G] in-distribution inputs per distinct score
  outCounts: Float64Array; // [G] OoD inputs per distinct score
  nIn: number;
  nOut: number;
}

function sortedScores(scores: ArrayLike<number>, which: string): Float64Array {
  if (scores.length === 0) {
    throw new GensembleError(`${which} scores are empty: need at least one score`);
  }
  const sorted = Float64Array.from(scores);
  for (let i = 0; i < sorted.length; i++) {
    if (Number.isNaN(sorted[i])) {
      throw new GensembleError(
        `${which} scores contain NaN at index ${i}: remove or fix non-finite scores first`,
      );
    }
  }
  return sorted.sort(); // typed-array sort is numeric, ascending
}

/** Merge the two ascending score lists into groups of equal score, highest score first. */
function groupScores(inScores: ArrayLike<number>, outScores: ArrayLike<number>): ScoreGroups {
  const a = sortedScores(inScores, "In-distribution");
  const b = sortedScores(outScores, "Out-of-distribution");
  const inCounts = new Float64Array(a.length + b.length);
  const outCounts = new Float64Array(a.length + b.length);
  let i = a.length - 1;
  let j = b.length - 1;
  let g = 0;
  while (i >= 0 || j >= 0) {
    const v = i < 0 ? b[j] : j < 0 ? a[i] : Math.max(a[i], b[j]);
    let ci = 0;
    let co = 0;
    while (i >= 0 && a[i] === v) {
      ci++;
      i--;
    }
    while (j >= 0 && b[j] === v) {
      co++;
      j--;
    }
    inCounts[g] = ci;
    outCounts[g] = co;
    g++;
  }
  return {
    inCounts: inCounts.subarray(0, g),
    outCounts: outCounts.subarray(0, g),
    nIn: a.length,
    nOut: b.length,
  };
}

/** AUROC from groups: Σ_groups out·(2·inBelow + inTied) / (2·nIn·nOut), exact integer sums. */
function aurocFromGroups({ inCounts, outCounts, nIn, nOut }: ScoreGroups): number {
  let inBelow = 0;
  let twiceWins = 0; // 2 × (pairs with out > in) + pairs tied
  for (let g = inCounts.length - 1; g >= 0; g--) { // lowest score first
    twiceWins += outCounts[g] * (2 * inBelow + inCounts[g]);
    inBelow += inCounts[g];
  }
  return twiceWins / (2 * nIn * nOut);
}

/**
 * sklearn's average precision: Σ_k (R_k − R_{k−1}) P_k over thresholds in decreasing decision
 * value, where a threshold admits a whole tie group. `pos`/`neg` are in that order.
 */
function averagePrecision(pos: Float64Array, neg: Float64Array, nPos: number): number {
  let tp = 0;
  let fp = 0;
  let ap = 0;
  for (let g = 0; g < pos.length; g++) {
    tp += pos[g];
    fp += neg[g];
    if (pos[g] > 0) ap += (pos[g] / nPos) * (tp / (tp + fp));
  }
  return ap;
}

/** FPR at the first threshold (decreasing decision value) where TPR ≥ target. */
function fprAtTprFromGroups(
  pos: Float64Array,
  neg: Float64Array,
  nPos: number,
  nNeg: number,
  targetTpr: number,
): number {
  let tp = 0;
  let fp = 0;
  for (let g = 0; g < pos.length; g++) {
    tp += pos[g];
    fp += neg[g];
    // tp / nPos, not tp >= target·nPos, so the float comparison is the one numpy makes.
    if (tp / nPos >= targetTpr) return fp / nNeg;
  }
  return 1; // unreachable for targetTpr ≤ 1: the last group admits everything
}

function reversed(a: Float64Array): Float64Array {
  return a.slice().reverse();
}

/**
 * All detection metrics for in-distribution vs OoD anomaly scores (higher = more anomalous).
 * Throws a `GensembleError` on an empty set or a NaN score; ±Infinity is allowed and ranks
 * last/first.
 *
 * @example
 * ```ts
 * const m = oodMetrics([0.1, 0.2, 0.3], [0.25, 0.9]);
 * m.auroc; // out 0.25 beats 0.1 and 0.2, out 0.9 beats all three: 5 of 6 pairs = 0.8333…
 * ```
 */
export function oodMetrics(inScores: ArrayLike<number>, outScores: ArrayLike<number>): OodMetrics {
  const groups = groupScores(inScores, outScores);
  const { inCounts, outCounts, nIn, nOut } = groups;
  // In-distribution positive: decision value −score, i.e. lowest score first.
  const inAsc = reversed(inCounts);
  const outAsc = reversed(outCounts);
  return {
    auroc: aurocFromGroups(groups),
    auprIn: averagePrecision(inAsc, outAsc, nIn),
    auprOut: averagePrecision(outCounts, inCounts, nOut),
    fpr95: fprAtTprFromGroups(inAsc, outAsc, nIn, nOut, 0.95),
    fpr99: fprAtTprFromGroups(inAsc, outAsc, nIn, nOut, 0.99),
    fpr95OodPositive: fprAtTprFromGroups(outCounts, inCounts, nOut, nIn, 0.95),
    fpr99OodPositive: fprAtTprFromGroups(outCounts, inCounts, nOut, nIn, 0.99),
  };
}

/**
 * AUROC alone: P(out > in) + ½ P(out = in) for anomaly scores, O(n log n).
 *
 * @example
 * ```ts
 * auroc([0, 1], [1, 2]); // pairs (out, in): 1>0, 1=1 (½), 2>0, 2>1 → 3.5 / 4 = 0.875
 * ```
 */
export function auroc(inScores: ArrayLike<number>, outScores: ArrayLike<number>): number {
  return aurocFromGroups(groupScores(inScores, outScores));
}

/**
 * FPR at a target TPR in either convention (see the module doc): `positive = "in"` is ODIN's
 * (fraction of OoD accepted), `"ood"` is OpenOOD's (fraction of in-distribution flagged).
 *
 * @example
 * ```ts
 * fprAtTpr(inScores, outScores, 0.95, "in") === oodMetrics(inScores, outScores).fpr95;
 * ```
 */
export function fprAtTpr(
  inScores: ArrayLike<number>,
  outScores: ArrayLike<number>,
  targetTpr: number,
  positive: PositiveClass = "in",
): number {
  if (!(targetTpr > 0 && targetTpr <= 1)) {
    throw new GensembleError(`Target TPR ${targetTpr} is out of range: use a value in (0, 1]`);
  }
  if (positive !== "in" && positive !== "ood") {
    throw new GensembleError(`Unknown positive class "${positive}": use "in" or "ood"`);
  }
  const { inCounts, outCounts, nIn, nOut } = groupScores(inScores, outScores);
  return positive === "in"
    ? fprAtTprFromGroups(reversed(inCounts), reversed(outCounts), nIn, nOut, targetTpr)
    : fprAtTprFromGroups(outCounts, inCounts, nOut, nIn, targetTpr);
}
