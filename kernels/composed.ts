/**
 * Composed-op twins of the WGSL kernels: built from stock tfjs ops, so they run (and
 * differentiate) on every backend. They are the reference the kernels are tested against.
 */
import { tf } from "../deps.ts";

/** u = (z − μ)·exp(−α); logDet = −Σ_d α.   z, μ, α: [N, D] → u [N, D], logDet [N]. */
export function mafAffineComposed(
  z: tf.Tensor2D,
  mu: tf.Tensor2D,
  alpha: tf.Tensor2D,
): { u: tf.Tensor2D; logDet: tf.Tensor1D } {
  return tf.tidy(() => {
    const u = tf.mul(tf.sub(z, mu), tf.exp(tf.neg(alpha))) as tf.Tensor2D;
    const logDet = tf.neg(tf.sum(alpha, 1)) as tf.Tensor1D;
    return { u, logDet };
  });
}

/** [K, N] log-weights → [N]: logsumexp over k − log K (max-shifted inside tf.logSumExp). */
export function iwaeLogMeanExpComposed(logWeights: tf.Tensor2D): tf.Tensor1D {
  const k = logWeights.shape[0];
  return tf.tidy(() => tf.sub(tf.logSumExp(logWeights, 0), Math.log(k)) as tf.Tensor1D);
}

/** [M, N] member scores → mean, population variance (ddof 0) and WAIC = mean − variance. */
export function ensembleStatsComposed(
  scores: tf.Tensor2D,
): { mean: tf.Tensor1D; variance: tf.Tensor1D; waic: tf.Tensor1D } {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(scores, 0);
    const waic = tf.sub(mean, variance) as tf.Tensor1D;
    return { mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, waic };
  });
}
