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

/** Column max with ±∞ (and NaN) maxima replaced by 0, so that w − shift never forms ∞ − ∞. */
function finiteColumnShift(logWeights: tf.Tensor2D): tf.Tensor1D {
  const max = tf.max(logWeights, 0); // [N]
  return tf.where(tf.isFinite(max), max, tf.zerosLike(max)) as tf.Tensor1D;
}

/** Forward of `iwaeLogMeanExpComposed`; see there. */
function logMeanExpForward(logWeights: tf.Tensor2D): tf.Tensor1D {
  const shift = finiteColumnShift(logWeights);
  const total = tf.sum(tf.exp(tf.sub(logWeights, shift)), 0); // [N]; 0 for an all −∞ column
  // log(0) = −∞ is the right answer for an all −∞ column, and a NaN weight keeps its NaN.
  const y = tf.sub(tf.add(tf.log(total), shift), Math.log(logWeights.shape[0]));
  return y as tf.Tensor1D;
}

/** dy/dw = softmax over k, set to 0 in columns whose max is not finite (the kernel's choice). */
function logMeanExpWeights(logWeights: tf.Tensor2D): tf.Tensor2D {
  const max = tf.max(logWeights, 0);
  const shift = finiteColumnShift(logWeights);
  const unnormalised = tf.exp(tf.sub(logWeights, shift)); // [K, N]
  const total = tf.sum(unnormalised, 0);
  const weights = tf.div(unnormalised, tf.where(tf.isFinite(max), total, tf.onesLike(total)));
  return tf.where(tf.isFinite(max), weights, tf.zerosLike(weights)) as tf.Tensor2D;
}

// tf.customGrad because autodiff through the ±∞ guards (isFinite, where) reaches kernels that
// tfjs gives no gradient; the softmax gradient is also cheaper than differentiating the shift.
const logMeanExpWithGrad = tf.customGrad((...args) => {
  const [logWeights, save] = args as unknown as [tf.Tensor2D, tf.GradSaveFunc];
  save([logWeights]);
  return {
    value: logMeanExpForward(logWeights),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
      tf.mul(dy, logMeanExpWeights(saved[0] as tf.Tensor2D)),
    ],
  };
});

/**
 * [K, N] log-weights → [N]: log((1/K) Σ_k exp(w_k)), shifted by the column max; gradient
 * dy·softmax_k(w).
 *
 * Unlike `tf.logSumExp`, exact when a column is all −∞ (→ −∞, gradient 0, where logSumExp gives
 * NaN from −∞ − (−∞)) or holds +∞ (→ +∞, gradient 0).
 *
 * @example
 * ```ts
 * iwaeLogMeanExpComposed(tf.tensor2d([[0, -Infinity], [Math.log(3), -Infinity]])); // [log 2, −∞]
 * ```
 */
export function iwaeLogMeanExpComposed(logWeights: tf.Tensor2D): tf.Tensor1D {
  return logMeanExpWithGrad(logWeights) as tf.Tensor1D;
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
