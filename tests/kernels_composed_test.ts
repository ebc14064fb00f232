/**
 * The composed-op twins (kernels/composed.ts), which are the WGSL kernels' oracle, against
 * hand-computed values, a float64 oracle, autodiff of the naive formula and finite differences;
 * and the op dispatch in kernels/ops.ts off webgpu. Runs on the cpu backend.
 */
import assert from "node:assert/strict";
import { tf } from "../deps.ts";
import { initBackend } from "../core/backend.ts";
import { Rng } from "../core/rng.ts";
import {
  ensembleStatsComposed,
  iwaeLogMeanExpComposed,
  mafAffineComposed,
} from "../kernels/composed.ts";
import { ensembleStats, iwaeLogMeanExp, mafAffine } from "../kernels/ops.ts";

await initBackend("cpu", { quiet: true });

function assertNear(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [actual[i], expected[i]];
    if (!Number.isFinite(e)) {
      assert.ok(
        Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)),
        `${what}[${i}]: ${a} vs ${e}`,
      );
    } else {
      assert.ok(Math.abs(a - e) <= tol * (1 + Math.abs(e)), `${what}[${i}]: ${a} vs ${e}`);
    }
  }
}

const data = (t: tf.Tensor) => t.dataSync() as Float32Array;

Deno.test("iwaeLogMeanExpComposed: hand values, ±∞, NaN and K = 1", () => {
  const inf = Infinity;
  tf.tidy(() => {
    // Columns: log((1 + 3)/2) = log 2; all −∞ → −∞; −∞ beside 5 → 5 − log 2; +∞ → +∞;
    // −1e4 and +80 stay finite (max shift); a NaN weight gives NaN.
    const w = tf.tensor2d([
      [0, -inf, -inf, inf, -1e4, 80, NaN],
      [Math.log(3), -inf, 5, 0, -1e4, 80, 0],
    ]);
    const y = data(iwaeLogMeanExpComposed(w));
    assertNear(y, [Math.log(2), -inf, 5 - Math.log(2), inf, -1e4, 80, NaN], 1e-6, "y");
    // tf.logSumExp, by contrast, gives NaN for the all −∞ column.
    assert.ok(Number.isNaN(data(tf.logSumExp(w, 0))[1]));
    // K = 1: the identity.
    const single = tf.tensor2d([[-1e4, 80, -inf, 0.5]]);
    assert.deepEqual(Array.from(data(iwaeLogMeanExpComposed(single))), Array.from(data(single)));
  });
});

Deno.test("iwaeLogMeanExpComposed: gradient = softmax, naive autodiff and finite differences", () => {
  const rng = new Rng(4);
  const [k, n] = [5, 7];
  const values = Float32Array.from({ length: k * n }, () => 2 * rng.normal());
  const upstream = Float32Array.from({ length: n }, () => rng.normal());
  tf.tidy(() => {
    const w = tf.tensor2d(values, [k, n]);
    const dy = tf.tensor1d(upstream);
    const loss = (f: (x: tf.Tensor2D) => tf.Tensor) => (x: tf.Tensor) =>
      tf.sum(tf.mul(f(x as tf.Tensor2D), dy));
    const got = data(tf.grad(loss(iwaeLogMeanExpComposed))(w));
    // Naive log(mean(exp(w))) is exact enough for |w| ~ 2 and differentiates with stock grads.
    const naive = data(tf.grad(loss((x) => tf.log(tf.mean(tf.exp(x), 0))))(w));
    assertNear(got, naive, 1e-6, "vs naive autodiff");
    // Central differences in float64 on the definition.
    const f64 = (vals: Float64Array) => {
      let total = 0;
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let i = 0; i < k; i++) s += Math.exp(vals[i * n + j]);
        total += upstream[j] * Math.log(s / k);
      }
      return total;
    };
    const h = 1e-5;
    const fd = Array.from(values, (_, i) => {
      const plus = Float64Array.from(values);
      const minus = Float64Array.from(values);
      plus[i] += h;
      minus[i] -= h;
      return (f64(plus) - f64(minus)) / (2 * h);
    });
    assertNear(got, fd, 1e-5, "vs finite differences");
  });
});

Deno.test("iwaeLogMeanExpComposed: all −∞ and +∞ columns get a zero gradient, not NaN", () => {
  tf.tidy(() => {
    const w = tf.tensor2d([[-Infinity, 1, Infinity], [-Infinity, 2, 0]]);
    const g = data(tf.grad((x: tf.Tensor) => tf.sum(iwaeLogMeanExpComposed(x as tf.Tensor2D)))(w));
    const s = 1 / (Math.E + Math.exp(2));
    assertNear(g, [0, Math.E * s, 0, 0, Math.exp(2) * s, 0], 1e-6, "dw");
  });
});

Deno.test("mafAffineComposed: values, and logDet = log|det ∂u/∂z| from the autodiff Jacobian", () => {
  const rng = new Rng(5);
  const d = 3;
  const [z, mu, alpha] = [0, 1, 2].map(() => Float32Array.from({ length: d }, () => rng.normal()));
  tf.tidy(() => {
    const [zt, mut, at] = [z, mu, alpha].map((v) => tf.tensor2d(v, [1, d]));
    const { u, logDet } = mafAffineComposed(zt, mut, at);
    assertNear(data(u), Array.from(z, (zi, i) => (zi - mu[i]) * Math.exp(-alpha[i])), 1e-6, "u");
    // Jacobian rows by autodiff; u is elementwise in z, so J is diagonal and det = Π J_ii.
    let logAbsDet = 0;
    for (let i = 0; i < d; i++) {
      const row = data(
        tf.grad((x: tf.Tensor) =>
          tf.slice(mafAffineComposed(x as tf.Tensor2D, mut, at).u, [0, i], [1, 1]).sum()
        )(zt),
      );
      row.forEach((v, j) => j !== i && assert.equal(v, 0));
      logAbsDet += Math.log(Math.abs(row[i]));
    }
    assertNear(data(logDet), [logAbsDet], 1e-6, "logDet");
  });
});

Deno.test("ensembleStatsComposed: float64 oracle, population variance, M = 1", () => {
  const rng = new Rng(6);
  const [m, n] = [5, 9];
  const s = Float32Array.from({ length: m * n }, () => -50 + 2 * rng.normal());
  tf.tidy(() => {
    const { mean, variance, waic } = ensembleStatsComposed(tf.tensor2d(s, [m, n]));
    const mu = Array.from({ length: n }, (_, j) => {
      let t = 0;
      for (let i = 0; i < m; i++) t += s[i * n + j];
      return t / m;
    });
    const v = mu.map((muj, j) => {
      let t = 0;
      for (let i = 0; i < m; i++) t += (s[i * n + j] - muj) ** 2;
      return t / m; // ddof 0
    });
    assertNear(data(mean), mu, 1e-6, "mean");
    assertNear(data(variance), v, 1e-5, "variance");
    assertNear(data(waic), mu.map((x, j) => x - v[j]), 1e-5, "waic");
    const one = ensembleStatsComposed(tf.tensor2d([[3, -7]]));
    assert.deepEqual(Array.from(data(one.variance)), [0, 0]);
    assert.deepEqual(Array.from(data(one.waic)), [3, -7]);
  });
});

Deno.test("ops off webgpu run the composed twins and check shapes", () => {
  tf.tidy(() => {
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    assert.deepEqual(data(mafAffine(a, a, a).u), data(mafAffineComposed(a, a, a).u));
    assert.deepEqual(data(iwaeLogMeanExp(a)), data(iwaeLogMeanExpComposed(a)));
    assert.deepEqual(data(ensembleStats(a).waic), data(ensembleStatsComposed(a).waic));
    const b = tf.tensor2d([[1, 2, 3]]);
    assert.throws(() => mafAffine(a, b as tf.Tensor2D, a), /kernels\/ops\.ts: mafAffine needs/);
    assert.throws(
      () => iwaeLogMeanExp(tf.tensor1d([1]) as unknown as tf.Tensor2D),
      /kernels\/ops\.ts: iwaeLogMeanExp needs a rank-2 logWeights/,
    );
  });
});
