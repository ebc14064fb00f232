/**
 * Missing gradients that second-order differentiation needs (WGAN-GP's gradient penalty).
 *
 * tfjs registers no gradient for comparison and logical kernels: they are piecewise constant, so
 * first-order code never differentiates through them. But the *backward* pass of `leakyRelu`
 * computes `where(greater(x, 0), dy, alpha·dy)`, and differentiating that backward pass again (the
 * penalty's d‖∇ₓD‖/dθ) walks into `Greater` and fails with "gradient function not found for
 * Greater". Their true derivative is zero almost everywhere, so we register zero gradients.
 *
 * Import this module for its side effect. Registration is idempotent and only fills gaps: a kernel
 * that already has a gradient (from tfjs or from another module) is left alone.
 */
import { tf } from "../deps.ts";

/** Piecewise-constant kernels and the names of their inputs (tfjs kernel_names.ts). */
export const ZERO_GRADIENT_KERNELS: Readonly<Record<string, readonly string[]>> = {
  Greater: ["a", "b"],
  GreaterEqual: ["a", "b"],
  Less: ["a", "b"],
  LessEqual: ["a", "b"],
  Equal: ["a", "b"],
  NotEqual: ["a", "b"],
  LogicalAnd: ["a", "b"],
  LogicalOr: ["a", "b"],
  LogicalXor: ["a", "b"],
  LogicalNot: ["x"],
};

/**
 * Register a zero gradient for every kernel in `ZERO_GRADIENT_KERNELS` that has none yet.
 * Returns the kernel names registered by this call (empty on the second call).
 *
 * @example
 * ```ts
 * registerMissingGradients();
 * const d2 = tf.grad((x) => tf.grad((u) => tf.leakyRelu(u, 0.2).square().sum())(x).sum());
 * ```
 */
export function registerMissingGradients(): string[] {
  const added: string[] = [];
  for (const [kernelName, inputNames] of Object.entries(ZERO_GRADIENT_KERNELS)) {
    if (tf.getGradient(kernelName)) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: [...inputNames],
      // The tape requires float32 gradients of each input's own shape (inputs may be bool/int).
      gradFunc: (_dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const grads: Record<string, () => tf.Tensor> = {};
        inputNames.forEach((name, i) => {
          grads[name] = () => tf.zeros(saved[i].shape, "float32");
        });
        return grads;
      },
    });
    added.push(kernelName);
  }
  return added;
}

/** The kernels this module's import registered (those tfjs itself left without a gradient). */
export const REGISTERED_AT_IMPORT: readonly string[] = registerMissingGradients();
