/**
 * Adversarial noise by the fast gradient sign method: move noise one step *down* the gradient of
 * member 0's loss, so that it looks more likely to that member. Two recipes:
 *
 * - `fgsm` (default): the gradient at the noise itself, inputs kept in [0, 1]:
 *     x_adv = clip(x − ε·sign(∇ₓ loss(x)), 0, 1),   ε = 0.3.
 * - `reference`: what the paper's code (rich_latent `vae/model.py`, PREDICT mode) computes: the
 *   sign of the gradient at the *in-distribution test inputs* x_in, subtracted from fresh noise,
 *   with N(0, 1) noise unclipped and no clipping afterwards:
 *     x_adv = u − ε·sign(∇ loss(x_in)),   u ~ U[0, 1) or N(0, 1).
 *   These inputs leave [0, 1], where the Bernoulli decoder's "likelihood" of a value can exceed 1,
 *   which is what makes a single model rate them as more likely than real data.
 */
import { tf } from "../deps.ts";
import { Rng } from "../core/rng.ts";
import type { Member } from "../models/member.ts";

/** Which adversarial-noise recipe to use (see the module doc). */
export type AdversarialRecipe = "fgsm" | "reference";

/** The recipes, for flag validation. */
export const ADVERSARIAL_RECIPES: readonly AdversarialRecipe[] = ["fgsm", "reference"];

/** The reference's step size. */
export const FGSM_EPSILON = 0.3;

/** Options for `fgsm`. */
export interface FgsmOptions {
  /** Step size ε (default 0.3). */
  epsilon?: number;
  /** Inputs per gradient computation (default 500). */
  batchSize?: number;
}

/**
 * FGSM against one member: `x` is [N, ...inputShape] flattened row-major, values in [0, 1].
 * Returns a new array of the same length. The member's `inputLoss` is a per-batch mean, so the
 * sign of its gradient for each input is that of the input's own loss.
 *
 * @example
 * ```ts
 * const adv = await fgsm(member0, noise.x, [28, 28, 1]); // noise moved to look likely to member 0
 * ```
 */
export async function fgsm(
  member: Pick<Member, "inputLoss">,
  x: Float32Array,
  exampleShape: readonly number[],
  options: FgsmOptions = {},
): Promise<Float32Array> {
  const epsilon = options.epsilon ?? FGSM_EPSILON;
  const batchSize = options.batchSize ?? 500;
  const d = exampleShape.reduce((a, b) => a * b, 1);
  if (x.length % d !== 0) {
    throw new Error(`fgsm: ${x.length} values are not a whole number of [${exampleShape}] inputs`);
  }
  const signs = await gradientSigns(member, x, exampleShape, batchSize); // sign(∇ₓ loss)
  return x.map((v, i) => Math.min(1, Math.max(0, v - epsilon * signs[i])));
}

/** sign(∇ₓ loss) for every input of x [N, ...shape], in batches. */
async function gradientSigns(
  member: Pick<Member, "inputLoss">,
  x: Float32Array,
  exampleShape: readonly number[],
  batchSize: number,
): Promise<Float32Array> {
  const d = exampleShape.reduce((a, b) => a * b, 1);
  const n = x.length / d;
  const out = new Float32Array(x.length);
  const lossGrad = tf.grad((xb: tf.Tensor) => member.inputLoss(xb));
  for (let start = 0; start < n; start += batchSize) {
    const b = Math.min(batchSize, n - start);
    const signs = tf.tidy(() => {
      const xb = tf.tensor(x.subarray(start * d, (start + b) * d), [b, ...exampleShape]);
      return tf.sign(lossGrad(xb));
    });
    // Async read: tfjs-webgpu cannot read back synchronously in Deno.
    out.set(await signs.data() as Float32Array, start * d);
    signs.dispose();
  }
  return out;
}

/**
 * The reference code's adversarial noise: fresh noise (`uniform`: U[0, 1); `normal`: N(0, 1),
 * unclipped) minus ε·sign of the member's loss gradient at the in-distribution inputs `inputs`
 * [N, ...shape], one noise image per input, not clipped. Deterministic for a seed.
 *
 * @example
 * ```ts
 * const adv = await referenceAdversarialNoise(member0, mnistTest.x, [28, 28, 1], "normal", 3);
 * ```
 */
export async function referenceAdversarialNoise(
  member: Pick<Member, "inputLoss">,
  inputs: Float32Array,
  exampleShape: readonly number[],
  noise: "uniform" | "normal",
  seed: number,
  options: FgsmOptions = {},
): Promise<Float32Array> {
  const epsilon = options.epsilon ?? FGSM_EPSILON;
  const d = exampleShape.reduce((a, b) => a * b, 1);
  if (inputs.length % d !== 0) {
    throw new Error(
      `referenceAdversarialNoise: ${inputs.length} values are not [${exampleShape}] inputs`,
    );
  }
  const signs = await gradientSigns(member, inputs, exampleShape, options.batchSize ?? 500);
  const rng = new Rng(seed);
  const out = new Float32Array(inputs.length);
  for (let i = 0; i < out.length; i++) {
    const u = noise === "uniform" ? rng.uniform() : rng.normal();
    out[i] = u - epsilon * signs[i];
  }
  return out;
}
