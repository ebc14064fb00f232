/**
 * The zero gradients of models/grad_fixes.ts: second derivatives through leakyRelu (hand values),
 * comparison ops inside differentiated code, idempotence, and that tfjs's own gradients stay.
 */
import assert from "node:assert/strict";
import { tf } from "../deps.ts";
import {
  REGISTERED_AT_IMPORT,
  registerMissingGradients,
  ZERO_GRADIENT_KERNELS,
} from "../models/grad_fixes.ts";

await tf.setBackend("cpu");
tf.env().set("PROD", true);

Deno.test("every comparison and logical kernel has a gradient; a second call adds none", () => {
  for (const name of Object.keys(ZERO_GRADIENT_KERNELS)) {
    assert.ok(tf.getGradient(name), `no gradient for ${name}`);
  }
  assert.deepEqual(registerMissingGradients(), []);
  // tfjs ships a gradient for GreaterEqual: it must not be replaced.
  assert.ok(!REGISTERED_AT_IMPORT.includes("GreaterEqual"));
});

Deno.test("tf.grad(tf.grad(leakyRelu)) works and has the hand-computed values", () => {
  const alpha = 0.2;
  const u = tf.tensor1d([-1.5, -0.5, 0.5, 2]);
  // f(u) = leakyRelu(u)²: f'' = 2 for u > 0 and 2α² for u < 0.
  const second = tf.grad((t: tf.Tensor) =>
    tf.sum(tf.grad((s: tf.Tensor) => tf.sum(tf.square(tf.leakyRelu(s, alpha))))(t))
  )(u);
  const want = [2 * alpha * alpha, 2 * alpha * alpha, 2, 2];
  second.dataSync().forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6, `${v} ${want[i]}`));
  // The second derivative of leakyRelu itself is 0 (away from the kink).
  const flat = tf.grad((t: tf.Tensor) =>
    tf.sum(tf.grad((s: tf.Tensor) => tf.sum(tf.leakyRelu(s, alpha)))(t))
  )(u);
  assert.deepEqual([...flat.dataSync()], [0, 0, 0, 0]);
  tf.dispose([u, second, flat]);
});

Deno.test("comparison ops inside differentiated code contribute zero gradient", () => {
  const x = tf.tensor1d([-2, -1, 1, 3]);
  const ops: Array<(t: tf.Tensor) => tf.Tensor> = [
    (t) => tf.greater(t, 0),
    (t) => tf.less(tf.neg(t), 0),
    (t) => tf.notEqual(tf.relu(t), 0),
    (t) => tf.logicalAnd(tf.greater(t, 0), tf.lessEqual(t, 10)),
    (t) => tf.logicalNot(tf.lessEqual(t, 0)),
  ];
  for (const cond of ops) {
    // where(x > 0, x², 3x): derivative 2x for x > 0, else 3.
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.where(cond(t), tf.square(t), tf.mul(t, 3))))(x);
    assert.deepEqual([...g.dataSync()], [3, 3, 2, 6]);
    g.dispose();
  }
  x.dispose();
});

Deno.test("second-order gradient through a conv + leakyRelu critic runs on cpu", () => {
  // d/dW of ‖∇ₓ D‖² for D(x) = Σ leakyRelu(conv(x, W)): exercises Conv2DBackpropInput's gradient.
  const w = tf.variable(tf.tensor4d([0.5, -1, 2, 0.25], [2, 2, 1, 1]));
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
  const { value, grads } = tf.variableGrads(() => {
    const dx = tf.grad((t: tf.Tensor) =>
      tf.sum(tf.leakyRelu(tf.conv2d(t as tf.Tensor4D, w as tf.Tensor4D, 1, "valid"), 0.2))
    )(x);
    return tf.sum(tf.square(dx)) as tf.Scalar;
  }, [w]);
  // Every 2×2 window of x responds positively, so leakyRelu passes slope 1 and
  // dx[i, j] = Σ of the weights whose window covers (i, j); ‖dx‖² = Σ_ij dx_ij², whose gradient
  // in w_k is 2·Σ_{(i, j) covered by w_k} dx_ij.
  const wv = [0.5, -1, 2, 0.25];
  const cover = (i: number, j: number) => {
    const ks: number[] = [];
    for (let a = 0; a < 2; a++) {
      for (let b = 0; b < 2; b++) {
        const ki = i - a, kj = j - b;
        if (ki >= 0 && ki < 2 && kj >= 0 && kj < 2) ks.push(ki * 2 + kj);
      }
    }
    return ks;
  };
  let total = 0;
  const want = [0, 0, 0, 0];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const ks = cover(i, j);
      const d = ks.reduce((s, k) => s + wv[k], 0);
      total += d * d;
      for (const k of ks) want[k] += 2 * d;
    }
  }
  assert.ok(Math.abs(value.dataSync()[0] - total) < 1e-5);
  grads[w.name].dataSync().forEach((v, k) => assert.ok(Math.abs(v - want[k]) < 1e-5));
  tf.dispose([w, x, value, ...Object.values(grads)]);
});
