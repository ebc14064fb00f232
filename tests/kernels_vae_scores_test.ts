/**
 * End to end on the webgpu backend: a small VAE (dense nets, MAF prior), trained a few steps on
 * wasm, gives the same IWAE scores, and the same loss gradients for every weight, on webgpu with
 * the WGSL kernels as with the composed ops. This runs the fused flow layer and IWAE bound inside
 * the real model code and autodiff. Skipped where Deno finds no WebGPU adapter.
 *
 * The model is driven through `elboTerms` and `await data()` rather than `trainStep`/`score`,
 * because those read results with `dataSync`, which tfjs-backend-webgpu cannot do in Deno.
 */
import assert from "node:assert/strict";
import { tf } from "../deps.ts";
import { initBackend, probeAdapter } from "../core/backend.ts";
import { Rng } from "../core/rng.ts";
import { iwaeLogMeanExp, setCustomKernels } from "../kernels/ops.ts";
import { defaultVaeConfig, VaeMember } from "../models/vae.ts";

const adapter = await probeAdapter();
const ignore = adapter === null;

const FEATURES = 12;
const CONFIG = defaultVaeConfig({
  arch: "dense",
  inputShape: [FEATURES],
  latentSize: 4,
  nFlows: 2,
  flowHidden: [16, 16],
  denseHidden: [16],
  nSamples: 8,
  batchSize: 16,
  maxSteps: 10,
  seed: 7,
});

/** A batch of [0, 1] "pixels": two prototypes plus noise, so training has signal. */
function batch(rng: Rng, n: number): tf.Tensor2D {
  const values = new Float32Array(n * FEATURES);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < FEATURES; f++) {
      const on = (f < FEATURES / 2) === (i % 2 === 0);
      values[i * FEATURES + f] = Math.min(1, Math.max(0, (on ? 0.8 : 0.2) + 0.1 * rng.normal()));
    }
  }
  return tf.tensor2d(values, [n, FEATURES]);
}

/** IWAE log p̂ [N] and the gradient of its negative mean for every weight, with or without. */
async function scoreAndGrads(member: VaeMember, x: tf.Tensor, eps: tf.Tensor3D, kernels: boolean) {
  setCustomKernels(kernels);
  try {
    const { value, grads } = tf.variableGrads(
      () => tf.neg(tf.mean(iwaeLogMeanExp(member.elboTerms(x, eps).elbo))) as tf.Scalar,
      member.params.variables,
    );
    const logLik = tf.tidy(() => iwaeLogMeanExp(member.elboTerms(x, eps).elbo));
    const out = {
      loss: (await value.data())[0],
      logLik: await logLik.data() as Float32Array,
      grads: await Promise.all(
        member.params.variables.map((v) => grads[v.name].data() as Promise<Float32Array>),
      ),
    };
    tf.dispose([value, logLik, ...Object.values(grads)]);
    return out;
  } finally {
    setCustomKernels(true);
  }
}

Deno.test({
  name: "VAE trained on wasm: IWAE scores and gradients on webgpu agree with and without kernels",
  ignore,
  async fn() {
    await initBackend("wasm", { quiet: true });
    const rng = new Rng(11);
    const member = new VaeMember(CONFIG);
    const train = batch(rng, 16);
    const losses = [];
    for (let step = 0; step < 5; step++) losses.push(member.trainStep(train, step).loss);
    assert.ok(losses[4] < losses[0], `training lowers the loss: ${losses}`);

    await initBackend("webgpu", { quiet: true });
    const x = batch(rng, 37);
    const eps = tf.randomNormal([CONFIG.nSamples, 37, CONFIG.latentSize], 0, 1, "float32", 3);
    const fused = await scoreAndGrads(member, x, eps as tf.Tensor3D, true);
    const composed = await scoreAndGrads(member, x, eps as tf.Tensor3D, false);
    const close = (a: number, b: number, tol: number, scale = 0) =>
      Math.abs(a - b) <= tol * (Math.abs(b) + scale);
    fused.logLik.forEach((s, i) => {
      assert.ok(Number.isFinite(s) && s < 0, `score ${i}: ${s}`);
      assert.ok(close(s, composed.logLik[i], 1e-5), `score ${i}: ${s} vs ${composed.logLik[i]}`);
    });
    assert.ok(close(fused.loss, composed.loss, 1e-5));
    // Gradients pass through six more layers of f32 arithmetic: judged on each weight's scale.
    fused.grads.forEach((g, v) => {
      const ref = composed.grads[v];
      const scale = ref.reduce((a, b) => a + Math.abs(b), 0) / ref.length;
      g.forEach((gi, i) => assert.ok(close(gi, ref[i], 1e-4, scale), `grad ${v}[${i}]`));
    });
    tf.dispose([train, x, eps]);
    member.dispose();
  },
});
