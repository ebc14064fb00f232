/**
 * VAE member (dense arch, wasm backend): the bound's terms against a hand computation, IWAE vs
 * ELBO, chunked scoring, training progress, the FGSM input gradient, determinism, tabular config.
 */
import assert from "node:assert/strict";
import { tf } from "../deps.ts";
import { initBackend, probeAdapter } from "../core/backend.ts";
import { iwaeLogMeanExp } from "../kernels/ops.ts";
import type { MemberConfig } from "../models/member.ts";
import { deriveSeed } from "../models/params.ts";
import {
  bernoulliDistortion,
  createVaeMember,
  defaultVaeConfig,
  SOFTPLUS_INV_1,
  tabularVaeConfig,
  VaeMember,
} from "../models/vae.ts";
import { GensembleError } from "../core/errors.ts";

await initBackend("wasm", { quiet: true });

/** A VAE small enough to train in milliseconds: 6 features, linear enc/dec, latent 2. */
function tinyConfig(over: Partial<MemberConfig> = {}): MemberConfig {
  return defaultVaeConfig({
    arch: "dense",
    inputShape: [6],
    latentSize: 2,
    nFlows: 2,
    flowHidden: [8, 8],
    denseHidden: [],
    nSamples: 4,
    learningRate: 3e-3,
    maxSteps: 200,
    batchSize: 16,
    seed: 1,
    ...over,
  });
}

/** Inputs in [0, 1] with structure: two prototypes plus noise. */
function syntheticData(n: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const protos = tf.tensor2d([[0.9, 0.8, 0.9, 0.1, 0.2, 0.1], [0.1, 0.2, 0.1, 0.9, 0.8, 0.9]]);
    const which = tf.cast(tf.greater(tf.randomUniform([n], 0, 1, "float32", seed), 0.5), "int32");
    const noise = tf.randomNormal([n, 6], 0, 0.05, "float32", seed + 1);
    return tf.clipByValue(tf.add(tf.gather(protos, which), noise), 0, 1) as tf.Tensor2D;
  });
}

const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));

Deno.test("Bernoulli distortion matches a hand computation, also for extreme logits", () => {
  const logits = tf.tensor2d([[0, 2, -3], [60, -60, 0]]);
  const x = tf.tensor2d([[1, 0.5, 0], [1, 1, 0.25]]);
  const d = bernoulliDistortion(logits, x).dataSync();
  const expected = [
    Math.log(2) + (Math.log(1 + Math.exp(2)) - 1) + Math.log(1 + Math.exp(-3)),
    0 + 60 + Math.log(2), // softplus(60) − 60 ≈ 0, softplus(−60) + 60 ≈ 60
  ];
  assert.ok(Math.abs(d[0] - expected[0]) < 1e-5, `${d[0]} vs ${expected[0]}`);
  assert.ok(Math.abs(d[1] - expected[1]) < 1e-4, `${d[1]} vs ${expected[1]}`);
  tf.dispose([logits, x]);
});

for (const scaleInput of [true, false]) {
  Deno.test(`ELBO terms match a hand computation (scaleInput ${scaleInput})`, () => {
    const member = new VaeMember(tinyConfig({ scaleInput, seed: 4 }));
    // Non-zero biases so every term is exercised.
    for (const name of member.params.names.filter((n) => n.endsWith("/bias"))) {
      const v = member.params.get(name);
      v.assign(tf.tidy(() => tf.randomNormal(v.shape, 0, 0.3, "float32", name.length)));
    }
    const x = syntheticData(3, 8);
    const eps = tf.randomNormal([2, 3, 2], 0, 1, "float32", 9) as tf.Tensor3D;
    const terms = member.elboTerms(x, eps);
    const xs = x.arraySync(), e = eps.arraySync();
    const we = member.params.get("encoder/head/kernel").arraySync() as number[][]; // [6, 4]
    const be = member.params.get("encoder/head/bias").arraySync() as number[];
    const wd = member.params.get("decoder/head/kernel").arraySync() as number[][]; // [2, 6]
    const bd = member.params.get("decoder/head/bias").arraySync() as number[];
    const elbo = terms.elbo.arraySync(), rate = terms.rate.arraySync();
    const dist = terms.distortion.arraySync();
    for (let k = 0; k < 2; k++) {
      for (let n = 0; n < 3; n++) {
        const inp = xs[n].map((v) => scaleInput ? 2 * v - 1 : v);
        const net = [0, 1, 2, 3].map((j) => be[j] + inp.reduce((s, v, f) => s + v * we[f][j], 0));
        const scale = [0, 1].map((l) => softplus(net[2 + l] + SOFTPLUS_INV_1));
        const z = [0, 1].map((l) => net[l] + scale[l] * e[k][n][l]);
        const logQ = [0, 1].reduce(
          (s, l) => s - 0.5 * e[k][n][l] ** 2 - Math.log(scale[l]) - 0.5 * Math.log(2 * Math.PI),
          0,
        );
        const logP = tf.tidy(() => member.prior.logProb(tf.tensor2d([z])).dataSync()[0]);
        const logits = bd.map((b, f) => b + z[0] * wd[0][f] + z[1] * wd[1][f]);
        const d = logits.reduce((s, l, f) => s + softplus(l) - xs[n][f] * l, 0);
        assert.ok(Math.abs(rate[k][n] - (logQ - logP)) < 1e-4, `rate ${rate[k][n]}`);
        assert.ok(Math.abs(dist[k][n] - d) < 1e-4, `distortion ${dist[k][n]} vs ${d}`);
        assert.ok(Math.abs(elbo[k][n] + (logQ - logP) + d) < 2e-4, `elbo ${elbo[k][n]}`);
      }
    }
    assert.deepEqual(terms.posteriorMean.shape, [3, 2]);
    tf.dispose([x, eps, terms.elbo, terms.rate, terms.distortion, terms.posteriorMean]);
    member.dispose();
  });
}

Deno.test("IWAE with K = 1 is the ELBO; with K > 1 it is above the mean ELBO", () => {
  const member = new VaeMember(tinyConfig());
  const x = syntheticData(5, 3);
  const eps1 = tf.randomNormal([1, 5, 2], 0, 1, "float32", 1) as tf.Tensor3D;
  const t1 = member.elboTerms(x, eps1);
  const iwae1 = iwaeLogMeanExp(t1.elbo).dataSync();
  const elbo1 = t1.elbo.dataSync();
  for (let n = 0; n < 5; n++) assert.ok(Math.abs(iwae1[n] - elbo1[n]) < 1e-4);
  const eps8 = tf.randomNormal([8, 5, 2], 0, 1, "float32", 2) as tf.Tensor3D;
  const t8 = member.elboTerms(x, eps8);
  const iwae8 = iwaeLogMeanExp(t8.elbo).dataSync();
  const meanElbo = tf.mean(t8.elbo, 0).dataSync();
  for (let n = 0; n < 5; n++) assert.ok(iwae8[n] >= meanElbo[n] - 1e-5);
  tf.dispose([x, eps1, eps8, ...Object.values(t1), ...Object.values(t8)]);
  member.dispose();
});

Deno.test("score() in chunks equals one IWAE pass with the same noise", () => {
  const config = tinyConfig({ nSamples: 4 });
  const member = new VaeMember(config, { scoreRows: 64 }); // 16 inputs per chunk
  const x = syntheticData(50, 5);
  const scores = member.score(x);
  const eps = tf.randomNormal([4, 50, 2], 0, 1, "float32", deriveSeed(config.seed, "score"));
  const terms = member.elboTerms(x, eps as tf.Tensor3D);
  const iwae = iwaeLogMeanExp(terms.elbo).dataSync();
  const rate = tf.mean(terms.rate, 0).dataSync();
  const pm = terms.posteriorMean.dataSync();
  for (let n = 0; n < 50; n++) {
    assert.ok(Math.abs(scores.logLik[n] - iwae[n]) < 1e-4, `logLik ${n}`);
    assert.ok(Math.abs(scores.rate![n] - rate[n]) < 1e-4, `rate ${n}`);
  }
  assert.equal(scores.posteriorMean!.length, 100);
  for (let i = 0; i < 100; i++) assert.ok(Math.abs(scores.posteriorMean![i] - pm[i]) < 1e-5);
  // A second call gives the same numbers (fixed scoring noise).
  assert.deepEqual(member.score(x).logLik, scores.logLik);
  tf.dispose([x, eps, ...Object.values(terms)]);
  member.dispose();
});

Deno.test("the training loss falls over 50 steps on a tiny dataset", () => {
  const member = createVaeMember(tinyConfig());
  const data = syntheticData(256, 11);
  const losses: number[] = [];
  const before = member.score(data).logLik.reduce((a, b) => a + b, 0) / 256;
  for (let step = 0; step < 50; step++) {
    const batch = tf.slice(data, (step * 16) % 256, 16);
    const stats = member.trainStep(batch, step);
    assert.ok(Math.abs(stats.loss - (stats.rate + stats.distortion)) < 1e-3); // β = 1
    losses.push(stats.loss);
    batch.dispose();
  }
  const after = member.score(data).logLik.reduce((a, b) => a + b, 0) / 256;
  const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
  const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(last < first - 1, `loss ${first} → ${last}`);
  assert.ok(after > before + 0.5, `IWAE ${before} → ${after}`);
  data.dispose();
  member.dispose();
});

Deno.test("β weights the rate in the loss", () => {
  const x = syntheticData(16, 2);
  const step = (beta: number) => {
    const member = createVaeMember(tinyConfig({ beta }));
    const stats = member.trainStep(x, 0);
    member.dispose();
    return stats;
  };
  const a = step(1), b = step(0.25);
  // Same seed → same first-step noise and weights, so rate and distortion agree.
  assert.ok(Math.abs(a.rate - b.rate) < 1e-5 && Math.abs(a.distortion - b.distortion) < 1e-4);
  assert.ok(Math.abs(b.loss - (0.25 * b.rate + b.distortion)) < 1e-3);
  x.dispose();
});

Deno.test("inputLoss is differentiable in x and matches finite differences", () => {
  const member = new VaeMember(tinyConfig({ denseHidden: [8] }));
  const x = syntheticData(4, 6);
  const grad = tf.grad((t: tf.Tensor) => member.inputLoss(t))(x).arraySync() as number[][];
  const base = x.arraySync();
  for (const [n, f] of [[0, 0], [1, 3], [3, 5]]) {
    const h = 1e-2;
    const at = (delta: number) =>
      tf.tidy(() => {
        const moved = base.map((row) => [...row]);
        moved[n][f] += delta;
        return member.inputLoss(tf.tensor2d(moved)).dataSync()[0];
      });
    const fd = (at(h) - at(-h)) / (2 * h);
    assert.ok(
      Math.abs(fd - grad[n][f]) < 2e-2 * Math.max(1, Math.abs(fd)),
      `${fd} vs ${grad[n][f]}`,
    );
  }
  x.dispose();
  member.dispose();
});

Deno.test("the same seed gives the same weights and scores; another seed does not", () => {
  const x = syntheticData(8, 1);
  const run = (seed: number) => {
    const m = new VaeMember(tinyConfig({ seed, denseHidden: [8] }));
    m.trainStep(x, 0);
    m.trainStep(x, 1);
    const w = m.params.get("decoder/head/kernel").dataSync().slice();
    const s = m.score(x).logLik;
    m.dispose();
    return { w, s };
  };
  const a = run(5), b = run(5), c = run(6);
  assert.deepEqual(a.w, b.w);
  assert.deepEqual(a.s, b.s);
  assert.notDeepEqual(a.s, c.s);
  x.dispose();
});

Deno.test("the tabular configuration (30 features, no hidden layers, no input scaling)", () => {
  const config = tabularVaeConfig(30, { flowHidden: [32, 32], nSamples: 4 });
  assert.equal(config.scaleInput, false);
  assert.equal(config.learningRate, 1e-4);
  const member = new VaeMember(config);
  assert.deepEqual(member.params.get("encoder/head/kernel").shape, [30, 32]);
  assert.deepEqual(member.params.get("decoder/head/kernel").shape, [16, 30]);
  const x = tf.randomUniform([8, 30], 0, 1, "float32", 2);
  const stats = member.trainStep(x, 0);
  assert.ok(Number.isFinite(stats.loss));
  const s = member.score(x);
  assert.equal(s.logLik.length, 8);
  assert.equal(s.posteriorMean!.length, 8 * 16);
  x.dispose();
  member.dispose();
});

Deno.test("a batch of the wrong shape is a clear error, not a tfjs stack trace", () => {
  const member = new VaeMember(tinyConfig());
  const x = tf.zeros([4, 7]);
  for (
    const call of [() => member.trainStep(x, 0), () => member.score(x), () => member.inputLoss(x)]
  ) {
    assert.throws(call, (e: Error) => {
      assert.ok(e instanceof GensembleError);
      assert.match(e.message, /shape \[4, 7\].*\[N, 6\]/);
      return true;
    });
  }
  x.dispose();
  member.dispose();
});

Deno.test("trainStepAsync and scoreAsync give the same numbers as their sync twins", async () => {
  const x = syntheticData(40, 4);
  const a = new VaeMember(tinyConfig(), { scoreRows: 64 });
  const b = new VaeMember(tinyConfig(), { scoreRows: 64 });
  for (let step = 0; step < 3; step++) {
    assert.deepEqual(await b.trainStepAsync(x, step), a.trainStep(x, step));
  }
  assert.deepEqual(await b.scoreAsync(x), a.score(x));
  x.dispose();
  a.dispose();
  b.dispose();
});

const adapter = await probeAdapter();
Deno.test({
  name: "on webgpu (software adapter here) the async twins train and score",
  ignore: adapter === null,
  fn: async () => {
    await initBackend("webgpu", { quiet: true });
    try {
      const member = new VaeMember(tinyConfig());
      const x = syntheticData(16, 4);
      const first = await member.trainStepAsync(x, 0);
      const second = await member.trainStepAsync(x, 1);
      assert.ok(Number.isFinite(first.loss) && Number.isFinite(second.loss));
      const s = await member.scoreAsync(x);
      assert.ok(s.logLik.every(Number.isFinite));
      x.dispose();
      member.dispose();
    } finally {
      await initBackend("wasm", { quiet: true });
    }
  },
});

Deno.test("reconstruct gives the decoder mean at μ(x): in [0, 1], closer to x after training", () => {
  const member = new VaeMember(tinyConfig({ nSamples: 2 }));
  const x = syntheticData(64, 3);
  const error = () =>
    tf.tidy(() => tf.mean(tf.abs(tf.sub(member.reconstruct(x), x))).dataSync()[0]);
  const before = error();
  const tensorsBefore = tf.memory().numTensors;
  const r = member.reconstruct(x);
  assert.deepEqual(r.shape, x.shape);
  const values = r.dataSync();
  assert.ok(values.every((v) => v > 0 && v < 1));
  r.dispose();
  assert.equal(tf.memory().numTensors, tensorsBefore);
  for (let step = 0; step < 300; step++) member.trainStep(x, step);
  const after = error();
  // Two well-separated prototypes: a trained VAE reconstructs them better than at init.
  assert.ok(after < 0.8 * before, `reconstruction error ${before} → ${after}`);
  x.dispose();
  member.dispose();
});
