/**
 * The affine map x·W + b with a gradient that multiplies only untransposed matrices.
 *
 * tfjs's matMul gradient calls matMul with transposeA/transposeB, and the wasm backend runs
 * those through a slow path (a 512² product: ~12 ms plain, 200–400 ms with a transpose flag on
 * this machine), while an explicit `tf.transpose` followed by a plain matMul costs ~5 ms more.
 * Likewise the bias gradient Σ_n dy is a matMul with a row of ones (wasm's column sum is slow).
 * Dense VAE training spends most of its time in these products, so every dense and masked layer
 * goes through this op.
 */
import { tf } from "../deps.ts";

/**
 * y = x·W + b for x [N, in], W [in, out], b [out]; gradients dx = dy·Wᵀ, dW = xᵀ·dy, db = Σ dy.
 *
 * @example
 * ```ts
 * const y = linear(tf.ones([2, 3]), tf.ones([3, 4]), tf.zeros([4])); // [2, 4] of 3s
 * ```
 */
export const linear = tf.customGrad((...inputs) => {
  const [x, w, b] = inputs as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
  const save = inputs[3] as tf.GradSaveFunc;
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x, b: w, bias: b }),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dy2 = dy as tf.Tensor2D;
      return [
        tf.matMul(dy2, tf.transpose(ws)),
        tf.matMul(tf.transpose(xs), dy2),
        // Σ_n dy as a [1, N]·[N, out] product: 50× faster than sum(axis 0) on wasm.
        tf.reshape(tf.matMul(tf.ones([1, dy2.shape[0]]), dy2), [dy2.shape[1]]),
      ];
    },
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/** Activations the networks use after an affine map. */
export type DenseActivation = "linear" | "relu" | "leakyrelu";

/**
 * activation(x·W + b). Outside gradient recording (scoring) it is one fused wasm/webgpu kernel;
 * under a gradient tape it is `linear` followed by the activation, as tfjs cannot differentiate
 * fused activations other than relu.
 *
 * @example
 * ```ts
 * const h = dense(x, kernel, bias, "leakyrelu", 0.2);
 * ```
 */
export function dense(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  activation: DenseActivation,
  leakyreluAlpha = 0.2,
): tf.Tensor2D {
  if (tf.engine().state.gradientDepth === 0) {
    return tf.fused.matMul({ a: x, b: w, bias: b, activation, leakyreluAlpha }) as tf.Tensor2D;
  }
  const y = linear(x, w, b);
  if (activation === "relu") return tf.relu(y);
  return activation === "leakyrelu" ? tf.leakyRelu(y, leakyreluAlpha) : y;
}
