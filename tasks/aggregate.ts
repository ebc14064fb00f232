/**
 * Ensemble aggregation: from per-member scores to the named anomaly scores. This is where WAIC
 * is computed (through the `ensembleStats` op, a WGSL kernel on webgpu).
 *
 * Every returned score is an *anomaly score*, higher = more anomalous (DESIGN.md):
 *   single = −log p̂_0(x)               (member 0, the member adversarial noise attacks)
 *   mean   = −E_m[log p̂_m(x)]
 *   var    = Var_m[log p̂_m(x)]         (population variance, ddof 0)
 *   waic   = −(E_m[log p̂] − Var_m[log p̂])
 *   rate   = E_m[rate_m(x)]             (VAE only)
 *   posterior_mean_var = Σ_d Var_m[μ_m(x)_d]   (tabular VAE only)
 * For WGAN members log p̂ is the critic logit and there is no rate.
 */
import { tf } from "../deps.ts";
import { ensembleStats } from "../kernels/ops.ts";
import type { MemberScores } from "../models/member.ts";

/** The names of the anomaly scores eval reports. */
export type ScoreName = "single" | "mean" | "var" | "waic" | "rate" | "posterior_mean_var";

/** All score names, in report order. */
export const SCORE_NAMES: readonly ScoreName[] = [
  "single",
  "mean",
  "var",
  "waic",
  "rate",
  "posterior_mean_var",
];

/** Which scores a run can report, given what its members produce. */
export function availableScores(
  members: readonly MemberScores[],
  options: { posteriorMeanVar?: boolean } = {},
): ScoreName[] {
  const names: ScoreName[] = ["single", "mean", "var", "waic"];
  if (members.length > 0 && members.every((m) => m.rate !== undefined)) names.push("rate");
  if (
    options.posteriorMeanVar && members.length > 0 &&
    members.every((m) => m.posteriorMean !== undefined)
  ) {
    names.push("posterior_mean_var");
  }
  return names;
}

/** Stack the chosen members' [N] arrays into one [M, N] tensor (caller disposes). */
function stackRows(rows: readonly Float32Array[], n: number): tf.Tensor2D {
  const flat = new Float32Array(rows.length * n);
  rows.forEach((r, i) => flat.set(r, i * n));
  return tf.tensor2d(flat, [rows.length, n]);
}

/**
 * Aggregate per-member scores into the named anomaly scores (higher = more anomalous).
 *
 * `memberIdx` picks (and may repeat) members, as the bootstrap over members does; by default all
 * members in order. `single` is always member 0, the member the adversarial noise attacks.
 *
 * @example
 * ```ts
 * const members = [{ logLik: new Float32Array([-1, -5]) }, { logLik: new Float32Array([-3, -5]) }];
 * const s = aggregateScores(members, ["mean", "var", "waic"]);
 * // s.mean = [2, 5], s.var = [1, 0], s.waic = [3, 5]
 * ```
 */
export function aggregateScores(
  members: readonly MemberScores[],
  names: readonly ScoreName[],
  memberIdx: readonly number[] = members.map((_, i) => i),
): Partial<Record<ScoreName, Float32Array>> {
  if (members.length === 0) throw new Error("aggregateScores: no members");
  if (memberIdx.length === 0) throw new Error("aggregateScores: empty member selection");
  const n = members[0].logLik.length;
  for (const m of members) {
    if (m.logLik.length !== n) {
      throw new Error(`aggregateScores: members disagree on N (${m.logLik.length} vs ${n})`);
    }
  }
  const chosen = memberIdx.map((i) => {
    if (!(i >= 0 && i < members.length)) throw new Error(`aggregateScores: no member ${i}`);
    return members[i];
  });
  const out: Partial<Record<ScoreName, Float32Array>> = {};

  if (names.includes("single")) {
    out.single = members[0].logLik.map((v) => -v);
  }
  if (names.some((s) => s === "mean" || s === "var" || s === "waic")) {
    const [mean, variance, waic] = tf.tidy(() => {
      const scores = stackRows(chosen.map((m) => m.logLik), n); // [M, N] log-likelihoods
      const st = ensembleStats(scores);
      return [tf.neg(st.mean), st.variance, tf.neg(st.waic)];
    });
    if (names.includes("mean")) out.mean = mean.dataSync() as Float32Array;
    if (names.includes("var")) out.var = variance.dataSync() as Float32Array;
    if (names.includes("waic")) out.waic = waic.dataSync() as Float32Array;
    tf.dispose([mean, variance, waic]);
  }
  if (names.includes("rate")) {
    const rate = new Float32Array(n);
    for (const m of chosen) {
      if (!m.rate) throw new Error("aggregateScores: rate requested but a member has no rate");
      for (let j = 0; j < n; j++) rate[j] += m.rate[j];
    }
    for (let j = 0; j < n; j++) rate[j] /= chosen.length;
    out.rate = rate;
  }
  if (names.includes("posterior_mean_var")) {
    const pm = chosen.map((m) => {
      if (!m.posteriorMean) {
        throw new Error("aggregateScores: posterior_mean_var needs every member's posteriorMean");
      }
      return m.posteriorMean;
    });
    const d = pm[0].length / n;
    if (!Number.isInteger(d) || pm.some((p) => p.length !== n * d)) {
      throw new Error("aggregateScores: posterior means are not [N, latent] for every member");
    }
    const summed = tf.tidy(() => {
      const stacked = stackRows(pm, n * d); // [M, N·D] posterior means
      const { variance } = ensembleStats(stacked); // [N·D]
      return tf.sum(tf.reshape(variance, [n, d]), 1); // [N]
    });
    out.posterior_mean_var = summed.dataSync() as Float32Array;
    summed.dispose();
  }
  return out;
}
