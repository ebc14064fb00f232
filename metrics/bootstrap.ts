/**
 * Bootstrap over ensemble members: how much do the metrics depend on which M members we
 * happened to train? Resample M member indices with replacement B times, re-aggregate the
 * ensemble score from the resampled members, recompute the metrics, and report mean ± std.
 *
 * The std is the population std (ddof 0) over the B resamples, i.e. the bootstrap standard
 * error of each metric; there is no small-sample correction.
 */
import { GensembleError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { type OodMetrics, oodMetrics } from "./ood_metrics.ts";

/** Resampling options. */
export interface BootstrapOptions {
  /** Number of resamples B (default 100). */
  resamples?: number;
  /** Seed of the `Rng` that draws member indices (default 0). */
  seed?: number;
}

/** Mean and population std (ddof 0) of every metric field, and the per-resample values. */
export interface BootstrapResult<T extends Record<string, number>> {
  mean: T;
  std: T;
  /** [B] the metrics of each resample, in drawing order. */
  samples: T[];
}

const DEFAULT_RESAMPLES = 100;

/**
 * Run `evaluate` on B resampled member lists (M indices in [0, M), drawn with replacement by a
 * seeded `Rng`, resample after resample) and summarise each numeric field it returns.
 *
 * @example
 * ```ts
 * const { mean, std } = bootstrapMembers(5, (idx) => ({ first: idx[0] }), { resamples: 200 });
 * ```
 */
export function bootstrapMembers<T extends Record<string, number>>(
  nMembers: number,
  evaluate: (memberIdx: number[]) => T,
  opts: BootstrapOptions = {},
): BootstrapResult<T> {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  if (!Number.isInteger(nMembers) || nMembers < 1) {
    throw new GensembleError(`Bootstrap needs at least one member, got ${nMembers}`);
  }
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new GensembleError(`Bootstrap resamples must be a positive integer, got ${resamples}`);
  }
  const rng = new Rng(opts.seed ?? 0);
  const samples: T[] = [];
  for (let b = 0; b < resamples; b++) {
    const memberIdx = Array.from({ length: nMembers }, () => rng.int(nMembers));
    samples.push(evaluate(memberIdx));
  }
  const keys = Object.keys(samples[0]) as (keyof T & string)[];
  const mean = {} as Record<string, number>;
  const std = {} as Record<string, number>;
  for (const key of keys) {
    let sum = 0;
    for (const s of samples) sum += s[key];
    const m = sum / resamples;
    let sq = 0;
    for (const s of samples) sq += (s[key] - m) ** 2;
    mean[key] = m;
    std[key] = Math.sqrt(sq / resamples); // population std, ddof 0
  }
  return { mean: mean as T, std: std as T, samples };
}

/** Options of `bootstrapOodMetrics`. */
export interface BootstrapOodOptions<T extends Record<string, number>> extends BootstrapOptions {
  /** Metric of (inScores, outScores) anomaly scores; default `oodMetrics`. */
  metric?: (inScores: ArrayLike<number>, outScores: ArrayLike<number>) => T;
}

/**
 * Bootstrap OoD metrics over members: `aggregate` turns a resampled list of per-member score
 * arrays ([M'][N]) into one anomaly score per input (higher = more anomalous), applied to the
 * in-distribution and OoD sets alike.
 *
 * @example
 * ```ts
 * // members' log-likelihoods → −WAIC anomaly scores
 * const negWaic = (ms: Float32Array[]) => ms[0].map((_, i) => {
 *   const v = ms.map((m) => m[i]);
 *   const mu = v.reduce((a, b) => a + b) / v.length;
 *   return -(mu - v.reduce((a, b) => a + (b - mu) ** 2, 0) / v.length);
 * });
 * const { mean, std } = bootstrapOodMetrics(inLogLik, outLogLik, negWaic, { resamples: 100 });
 * console.log(`AUROC ${mean.auroc} ± ${std.auroc}`);
 * ```
 */
export function bootstrapOodMetrics<T extends Record<string, number> = OodMetrics>(
  inMemberScores: readonly Float32Array[],
  outMemberScores: readonly Float32Array[],
  aggregate: (memberScores: Float32Array[]) => ArrayLike<number>,
  opts: BootstrapOodOptions<T> = {},
): BootstrapResult<T> {
  const nMembers = inMemberScores.length;
  if (outMemberScores.length !== nMembers) {
    throw new GensembleError(
      `Bootstrap got ${nMembers} members' in-distribution scores but ` +
        `${outMemberScores.length} members' OoD scores: pass the same members for both`,
    );
  }
  // The default only type-checks for T = OodMetrics, which is what a caller without `metric` gets.
  const metric = opts.metric ??
    (oodMetrics as unknown as (a: ArrayLike<number>, b: ArrayLike<number>) => T);
  return bootstrapMembers(nMembers, (idx) => {
    const inScores = aggregate(idx.map((m) => inMemberScores[m]));
    const outScores = aggregate(idx.map((m) => outMemberScores[m]));
    return metric(inScores, outScores);
  }, opts);
}
