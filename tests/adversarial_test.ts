import assert from "node:assert/strict";
import { tf } from "../deps.ts";
import { fgsm, referenceAdversarialNoise } from "../data/adversarial.ts";
import { Rng } from "../core/rng.ts";
import { initBackend } from "../core/backend.ts";

await initBackend("cpu", { quiet: true });

/** A stand-in member whose loss is linear in x: ∇ₓ = w / B, so sign(∇ₓ) = sign(w) exactly. */
function linearMember(w: Float32Array, shape: number[]) {
  return {
    inputLoss: (x: tf.Tensor): tf.Scalar =>
      tf.tidy(() => {
        const weighted = tf.reshape(tf.mul(x, tf.tensor(w, shape)), [x.shape[0], -1]);
        return tf.mean(tf.sum(weighted, 1));
      }),
  };
}

Deno.test("fgsm moves each input by -0.3·sign(w) and clips to [0, 1]", async () => {
  const shape = [2, 2, 1];
  const w = new Float32Array([1, -1, 0, 2]); // sign: +, −, 0, +
  const x = new Float32Array([
    0.5,
    0.5,
    0.5,
    0.2, // first input
    0.1,
    0.9,
    0.7,
    1.0, // second input
  ]);
  const before = tf.memory().numTensors;
  const adv = await fgsm(linearMember(w, shape), x, shape, { batchSize: 1 });
  assert.equal(tf.memory().numTensors, before);
  const expected = [
    0.5 - 0.3,
    0.5 + 0.3,
    0.5,
    0, // 0.2 − 0.3 clipped to 0
    0,
    1,
    0.7,
    0.7, // 0.1 − 0.3 → 0, 0.9 + 0.3 → 1, zero gradient leaves 0.7, 1.0 − 0.3
  ];
  assert.equal(adv.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(adv[i] - expected[i]) < 1e-6, `index ${i}: ${adv[i]} vs ${expected[i]}`);
  }
});

Deno.test("fgsm decreases a quadratic loss: inputs step towards its minimum", async () => {
  // loss = mean_b Σ (x − c)²: the gradient sign is sign(x − c), so x moves 0.3 towards c.
  const shape = [3];
  const c = tf.tensor1d([0.5, 0.5, 0.5]);
  const member = {
    inputLoss: (x: tf.Tensor): tf.Scalar =>
      tf.tidy(() => tf.mean(tf.sum(tf.square(tf.sub(x, c)), 1))),
  };
  const x = new Float32Array([0.0, 0.9, 0.45, 1.0, 0.55, 0.2]);
  // Batches of 4 over 2 inputs: one partial batch.
  const adv = await fgsm(member, x, shape, { batchSize: 4, epsilon: 0.3 });
  const expected = [0.3, 0.6, 0.75, 0.7, 0.25, 0.5];
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(adv[i] - expected[i]) < 1e-6, `index ${i}: ${adv[i]} vs ${expected[i]}`);
  }
  c.dispose();
});

Deno.test("fgsm rejects data that is not whole inputs", async () => {
  const member = linearMember(new Float32Array([1, 1]), [2]);
  await assert.rejects(fgsm(member, new Float32Array(3), [2]), /not a whole number/);
});

Deno.test("reference recipe: fresh noise minus 0.3·sign(∇ at the inputs), unclipped", async () => {
  const shape = [4];
  const w = new Float32Array([2, -1, 0, 0.5]); // gradient signs +, −, 0, + at every input
  const inputs = new Float32Array([0.1, 0.2, 0.3, 0.4, 0.9, 0.8, 0.7, 0.6]); // 2 inputs
  for (const noise of ["uniform", "normal"] as const) {
    const adv = await referenceAdversarialNoise(linearMember(w, shape), inputs, shape, noise, 42, {
      batchSize: 1,
    });
    const rng = new Rng(42);
    const signs = [1, -1, 0, 1];
    for (let i = 0; i < adv.length; i++) {
      const u = noise === "uniform" ? rng.uniform() : rng.normal();
      const expected = Math.fround(u - 0.3 * signs[i % 4]);
      assert.equal(adv[i], expected, `${noise} index ${i}`);
    }
    if (noise === "normal") {
      // N(0, 1) noise is not clipped: with 8 draws and ±0.3 some value leaves [0, 1].
      assert.ok(adv.some((v) => v < 0 || v > 1));
    }
  }
});
