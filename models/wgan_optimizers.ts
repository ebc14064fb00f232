/**
 * The WGAN's optimizers, with TensorFlow 1's update rules and checkpointable state.
 *
 * tfjs's own `tf.train.rmsprop` starts its mean-square accumulator at zero, which makes the first
 * steps ≈ lr·√10·sign(g); `tf.train.RMSPropOptimizer` (the reference's) starts it at one, so early
 * steps are ≈ lr·g. The WGAN-GP schedule was tuned with the latter, so we implement it here:
 *
 *   RMSProp (TF):  ms ← ρ·ms + (1 − ρ)·g²,  θ ← θ − lr·g / √(ms + ε)      ms₀ = 1, ρ = 0.9, ε = 1e-10
 *   Adam (TF):     m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,
 *                  θ ← θ − lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m / (√v + ε)           β₁ = 0.5, β₂ = 0.9, ε = 1e-8
 *
 * Slots are named `<optimizer>/<parameter>/<slot>` so they save next to the weights.
 */
import { tf } from "../deps.ts";

/** Which update rule. */
export type WganOptimizerKind = "rmsprop" | "adam";

/** An optimizer over a fixed, named set of variables. */
export interface SlotOptimizer {
  /** Apply one update; `grads` is keyed like the `params` it was built with. */
  apply(grads: Record<string, tf.Tensor>): void;
  /** Every state variable, by checkpoint name. */
  readonly slots: Record<string, tf.Variable>;
  /** Re-read host-side state after `slots` were assigned from a checkpoint. */
  restore(): Promise<void>;
  dispose(): void;
}

/** Hyperparameters; defaults are the reference's. */
export interface SlotOptimizerOptions {
  learningRate: number;
  /** RMSProp decay ρ (0.9). */
  decay?: number;
  /** Adam β₁ (0.5) and β₂ (0.9), as wgan_run.py's `is_adam` option. */
  beta1?: number;
  beta2?: number;
  /** ε (RMSProp 1e-10, Adam 1e-8). */
  epsilon?: number;
}

function slotVariable(shape: number[], value: number): tf.Variable {
  return tf.tidy(() => tf.variable(tf.fill(shape, value, "float32"), false));
}

/**
 * Build an optimizer for `params` (name → variable), named `name` in checkpoints.
 *
 * @example
 * ```ts
 * const opt = makeSlotOptimizer("rmsprop", "critic_opt", { w }, { learningRate: 5e-5 });
 * tf.tidy(() => opt.apply(tf.variableGrads(loss, [w]).grads as any)); // keyed by "w"
 * ```
 */
export function makeSlotOptimizer(
  kind: WganOptimizerKind,
  name: string,
  params: Record<string, tf.Variable>,
  options: SlotOptimizerOptions,
): SlotOptimizer {
  const lr = options.learningRate;
  const slots: Record<string, tf.Variable> = {};
  const names = Object.keys(params);
  if (kind === "rmsprop") {
    const decay = options.decay ?? 0.9;
    const eps = options.epsilon ?? 1e-10;
    for (const p of names) slots[`${name}/${p}/ms`] = slotVariable(params[p].shape, 1);
    return {
      slots,
      apply(grads) {
        tf.tidy(() => {
          for (const p of names) {
            const g = grads[p];
            if (!g) continue;
            const ms = slots[`${name}/${p}/ms`];
            const newMs = tf.add(tf.mul(ms, decay), tf.mul(tf.square(g), 1 - decay));
            ms.assign(newMs);
            params[p].assign(tf.sub(params[p], tf.div(tf.mul(g, lr), tf.sqrt(tf.add(newMs, eps)))));
          }
        });
      },
      restore: () => Promise.resolve(),
      dispose: () => Object.values(slots).forEach((v) => v.dispose()),
    };
  }
  const beta1 = options.beta1 ?? 0.5;
  const beta2 = options.beta2 ?? 0.9;
  const eps = options.epsilon ?? 1e-8;
  const t = slotVariable([], 0);
  slots[`${name}/iterations`] = t;
  // A host copy of the step count: reading `t` back every update would stall a GPU, and
  // tfjs-webgpu in Deno cannot read synchronously at all.
  let step = 0;
  for (const p of names) {
    slots[`${name}/${p}/m`] = slotVariable(params[p].shape, 0);
    slots[`${name}/${p}/v`] = slotVariable(params[p].shape, 0);
  }
  return {
    slots,
    apply(grads) {
      tf.tidy(() => {
        step++;
        t.assign(tf.scalar(step));
        const lrT = lr * Math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step);
        for (const p of names) {
          const g = grads[p];
          if (!g) continue;
          const m = slots[`${name}/${p}/m`];
          const v = slots[`${name}/${p}/v`];
          const newM = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
          const newV = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
          m.assign(newM);
          v.assign(newV);
          params[p].assign(
            tf.sub(params[p], tf.div(tf.mul(newM, lrT), tf.add(tf.sqrt(newV), eps))),
          );
        }
      });
    },
    restore: async () => {
      step = (await t.data())[0];
    },
    dispose: () => Object.values(slots).forEach((v) => v.dispose()),
  };
}
