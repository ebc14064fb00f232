/**
 * The WGSL kernels against their composed-op twins on the webgpu backend (the llvmpipe software
 * adapter in CI): forward values and gradients within 1e-5 relative, on random inputs whose
 * sizes are not multiples of the workgroup size (64), and at the edges: K = 1, M = 1 (variance
 * exactly 0), log-weights of −1e4, +80 and −∞. Skipped where Deno finds no WebGPU adapter.
 *
 * Tolerance: |fused − composed| ≤ 1e-5·(|composed| + mean |composed|), the mean over the
 * compared tensor, so that entries that cancel to ≈ 0 are judged on the tensor's scale.
 */
import assert from "node:assert/strict";
import { tf } from "../deps.ts";
import { initBackend, probeAdapter } from "../core/backend.ts";
import { Rng } from "../core/rng.ts";
import {
  customKernelsEnabled,
  ensembleStats,
  iwaeLogMeanExp,
  mafAffine,
  setCustomKernels,
} from "../kernels/ops.ts";

const adapter = await probeAdapter();
const ignore = adapter === null;
if (!ignore) await initBackend("webgpu", { quiet: true });

const RTOL = 1e-5;

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    if (Number.isFinite(expected[i])) scale += Math.abs(expected[i]) / expected.length;
  }
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [actual[i], expected[i]];
    if (!Number.isFinite(e)) {
      assert.ok(
        Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)),
        `${what}[${i}]: ${a} vs ${e}`,
      );
      continue;
    }
    assert.ok(Math.abs(a - e) <= RTOL * (Math.abs(e) + scale), `${what}[${i}]: ${a} vs ${e}`);
  }
}

function randomArray(rng: Rng, size: number, mean = 0, std = 1): Float32Array {
  return Float32Array.from({ length: size }, () => mean + std * rng.normal());
}

/** Run `f` with the custom kernels on and off; returns both results' values. */
async function fusedAndComposed(
  f: () => tf.Tensor[],
): Promise<{ fused: Float32Array[]; composed: Float32Array[] }> {
  const results: Float32Array[][] = [];
  for (const enabled of [true, false]) {
    setCustomKernels(enabled);
    const outs = tf.tidy(f);
    results.push(await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>)));
    tf.dispose(outs);
  }
  setCustomKernels(true);
  return { fused: results[0], composed: results[1] };
}

async function compare(f: () => tf.Tensor[], names: string[]): Promise<Float32Array[]> {
  const { fused, composed } = await fusedAndComposed(f);
  names.forEach((name, i) => assertClose(fused[i], composed[i], name));
  return fused;
}

/** Outputs and the gradients of Σ (outputs ⊙ random weights), so every output gets a gradient. */
function withGradients(
  inputs: tf.Tensor[],
  op: (...xs: tf.Tensor[]) => tf.Tensor[],
  seed: number,
): tf.Tensor[] {
  const outs = op(...inputs);
  const rng = new Rng(seed);
  const weights = outs.map((o) => tf.tensor(randomArray(rng, o.size), o.shape));
  const grads = tf.grads((...xs: tf.Tensor[]) =>
    tf.addN(op(...xs).map((o, i) => tf.sum(tf.mul(o, weights[i]))))
  )(inputs);
  return [...outs, ...grads];
}

const maf = (z: tf.Tensor, mu: tf.Tensor, alpha: tf.Tensor) => {
  const { u, logDet } = mafAffine(z as tf.Tensor2D, mu as tf.Tensor2D, alpha as tf.Tensor2D);
  return [u, logDet];
};
const iwae = (w: tf.Tensor) => [iwaeLogMeanExp(w as tf.Tensor2D)];
const stats = (s: tf.Tensor) => {
  const { mean, variance, waic } = ensembleStats(s as tf.Tensor2D);
  return [mean, variance, waic];
};

Deno.test({
  name: "mafAffine fused: forward and gradients equal the composed twin",
  ignore,
  async fn() {
    const rng = new Rng(1);
    for (const [n, d] of [[1, 1], [67, 5], [130, 16]]) {
      const size = n * d;
      const [z, mu, alpha] = [
        randomArray(rng, size, 0, 2),
        randomArray(rng, size),
        randomArray(rng, size, 0, 1.5),
      ];
      await compare(
        () =>
          withGradients(
            [tf.tensor2d(z, [n, d]), tf.tensor2d(mu, [n, d]), tf.tensor2d(alpha, [n, d])],
            maf,
            n,
          ),
        ["u", "logDet", "dz", "dmu", "dalpha"].map((s) => `${s} [${n}, ${d}]`),
      );
    }
  },
});

Deno.test({
  name: "mafAffine fused: hand-computed values; a gradient through u alone",
  ignore,
  async fn() {
    // z = 3, μ = 1, α = log 2: u = (3 − 1)/2 = 1; logDet = −(log 2 + 0) over the row [log 2, 0].
    const z = tf.tensor2d([[3, 5]]);
    const mu = tf.tensor2d([[1, 4]]);
    const alpha = tf.tensor2d([[Math.log(2), 0]]);
    const { u, logDet } = mafAffine(z, mu, alpha);
    assertClose(await u.data(), [1, 1], "u");
    assertClose(await logDet.data(), [-Math.log(2)], "logDet");
    // d(Σ u)/dα = −u and no logDet term: the engine passes zeros for logDet's gradient.
    const dAlpha = tf.grad((a: tf.Tensor) => tf.sum(mafAffine(z, mu, a as tf.Tensor2D).u))(alpha);
    assertClose(await dAlpha.data(), [-1, -1], "dalpha");
    tf.dispose([z, mu, alpha, u, logDet, dAlpha]);
  },
});

Deno.test({
  name: "iwaeLogMeanExp fused: forward and gradient equal the composed twin (K = 16, K = 1)",
  ignore,
  async fn() {
    const rng = new Rng(2);
    for (const [k, n] of [[16, 67], [16, 130], [1, 70], [3, 1]]) {
      const w = randomArray(rng, k * n, -50, 10);
      await compare(
        () => withGradients([tf.tensor2d(w, [k, n])], iwae, k + n),
        ["y", "dw"].map((s) => `${s} [${k}, ${n}]`),
      );
    }
  },
});

Deno.test({
  name: "iwaeLogMeanExp fused: −1e4, +80 and −∞ log-weights, all −∞ columns, exact K = 1",
  ignore,
  async fn() {
    const inf = Infinity;
    // Columns: large negative; one +80 among small; −∞ beside finite; all −∞; −1e4 beside +80.
    const w = tf.tensor2d([
      [-1e4, 80, -inf, -inf, -1e4],
      [-1e4 + 1, 0, 2, -inf, 80],
      [-1e4 - 3, -1, -inf, -inf, -1e4],
    ]);
    const [y] = await compare(() => withGradients([w], iwae, 3), ["y", "dw"]);
    // Hand values: log((e⁰ + e¹ + e⁻³)/3) − 1e4; 80 + log((1 + e⁻⁸⁰ + e⁻⁸¹)/3); 2 − log 3; −∞.
    const expected = [
      Math.log((1 + Math.E + Math.exp(-3)) / 3) - 1e4,
      80 - Math.log(3),
      2 - Math.log(3),
      -Infinity,
      80 - Math.log(3),
    ];
    assertClose(y, expected, "y by hand");
    // The all −∞ column's gradient is 0, not NaN.
    const dw = tf.grad((x: tf.Tensor) => tf.sum(iwaeLogMeanExp(x as tf.Tensor2D)))(w);
    const dwv = await dw.data();
    for (const row of [0, 1, 2]) assert.equal(dwv[row * 5 + 3], 0, `dw[${row}, 3]`);
    // K = 1 is the identity, bit for bit, and its gradient is 1.
    const single = tf.tensor2d([[-1e4, 80, -inf, 0.123456]]);
    assert.deepEqual(
      Array.from(await iwaeLogMeanExp(single).data()),
      Array.from(await single.data()),
    );
    tf.dispose([w, dw, single]);
  },
});

Deno.test({
  name: "ensembleStats fused: forward and gradient equal the composed twin (M = 5, 2, 1)",
  ignore,
  async fn() {
    const rng = new Rng(3);
    for (const [m, n] of [[5, 67], [2, 130], [1, 65]]) {
      // Member log-likelihoods of one magnitude with a small spread, as in real ensembles. The
      // gradient's s − mean cancels, so its f32 noise is ~ulp(|s|): compare it at |s| ~ 30.
      const s = randomArray(rng, m * n, -30, 3);
      const [, variance] = await compare(
        () => withGradients([tf.tensor2d(s, [m, n])], stats, m * n),
        ["mean", "variance", "waic", "ds"].map((x) => `${x} [${m}, ${n}]`),
      );
      if (m === 1) assert.ok(variance.every((v) => v === 0), "M = 1: variance exactly 0");
    }
    // Forward at image-scale log-likelihoods (|s| ~ 700, spread 3): Welford keeps the variance.
    const large = randomArray(rng, 5 * 129, -700, 3);
    await compare(() => stats(tf.tensor2d(large, [5, 129])), ["mean", "variance", "waic"]);
    // Hand values: scores 1 and 3 → mean 2, variance 1, WAIC 1.
    const { mean, variance, waic } = ensembleStats(tf.tensor2d([[1, -10], [3, -10]]));
    assertClose(await mean.data(), [2, -10], "mean");
    assertClose(await variance.data(), [1, 0], "variance");
    assertClose(await waic.data(), [1, -10], "waic");
    tf.dispose([mean, variance, waic]);
  },
});

Deno.test({
  name: "fused ops leak no tensors, forward or backward",
  ignore,
  async fn() {
    const z = tf.randomNormal([33, 4]) as tf.Tensor2D;
    const w = tf.randomNormal([5, 33]) as tf.Tensor2D;
    const run = () =>
      tf.tidy(() => {
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
          const { u, logDet } = mafAffine(a as tf.Tensor2D, a as tf.Tensor2D, a as tf.Tensor2D);
          const { waic } = ensembleStats(b as tf.Tensor2D);
          return tf.addN([
            tf.sum(u),
            tf.sum(logDet),
            tf.sum(iwaeLogMeanExp(b as tf.Tensor2D)),
            tf.sum(waic),
          ]);
        })([z, w]);
        return tf.addN(g.map((t) => tf.sum(t)));
      });
    const first = run();
    await first.data();
    first.dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const r = run();
      await r.data();
      r.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
    assert.ok(customKernelsEnabled());
    tf.dispose([z, w]);
  },
});
