/**
 * WGAN-GP member: the penalty's second-order weight gradient against float64 finite differences
 * of an independent re-implementation of the critic, the critic schedule, TF's RMSProp/Adam
 * updates, the classifier loss, reference shapes, training without NaN or leaks, checkpoints.
 */
import assert from "node:assert/strict";
import { tf } from "../deps.ts";
import { initBackend, probeAdapter } from "../core/backend.ts";
import { Rng } from "../core/rng.ts";
import { resolveMemberConfig } from "../tasks/presets.ts";
import { trainOptionsFromArgs } from "../tasks/train.ts";
import { BatchOrder, stepIndices } from "../tasks/train_loop.ts";
import {
  createWganMember,
  criticItersAt,
  defaultWganConfig,
  generatorSteps,
  gradientPenalty,
  REFERENCE_WGAN_SETTINGS,
  sigmoidCrossEntropy,
  WganMember,
  type WganMemberConfig,
  wganSettings,
} from "../models/wgan.ts";
import { makeSlotOptimizer } from "../models/wgan_optimizers.ts";

await tf.setBackend("cpu");
tf.env().set("PROD", true);

const LEAK = 0.2;

function tinyConfig(overrides: Partial<WganMemberConfig> = {}): WganMemberConfig {
  return defaultWganConfig({
    inputShape: [8, 8, 1],
    baseDepth: 2,
    latentSize: 2,
    batchSize: 4,
    maxSteps: 6,
    seed: 3,
    ...overrides,
    wgan: { extraSteps: 2, ...overrides.wgan },
  });
}

// ---------------------------------------------------------------------------------------------
// A float64 oracle of the conv critic (written from the architecture, not from networks.ts):
// 2x − 1 → 4 'SAME' 5×5 convs (strides 1, 2, 1, 2) → dense → dense → dense 1, leaky ReLU 0.2 on
// all but the last two. It returns D(x) and ∇ₓD exactly (D is piecewise linear in x).
// ---------------------------------------------------------------------------------------------
interface ConvSpec {
  kind: "conv";
  w: Float64Array; // [k, k, cin, cout]
  b: Float64Array;
  k: number;
  cin: number;
  cout: number;
  stride: number;
  leaky: boolean;
}
interface DenseSpec {
  kind: "dense";
  w: Float64Array; // [nin, nout]
  b: Float64Array;
  nin: number;
  nout: number;
  leaky: boolean;
}
type LayerSpec = ConvSpec | DenseSpec;

/** D(x) and dD/dx for one image x [h, w, c] (row-major, NHWC without N). */
function oracleCritic(layers: LayerSpec[], x: Float64Array, size: number): [number, Float64Array] {
  let h = x.map((v) => 2 * v - 1);
  let side = size;
  const masks: Float64Array[] = [];
  const sides: number[] = [];
  for (const layer of layers) {
    sides.push(side);
    let pre: Float64Array;
    if (layer.kind === "conv") {
      const out = Math.ceil(side / layer.stride);
      const pad = Math.floor(Math.max((out - 1) * layer.stride + layer.k - side, 0) / 2);
      pre = new Float64Array(out * out * layer.cout);
      for (let oi = 0; oi < out; oi++) {
        for (let oj = 0; oj < out; oj++) {
          for (let co = 0; co < layer.cout; co++) {
            let s = layer.b[co];
            for (let ki = 0; ki < layer.k; ki++) {
              const i = oi * layer.stride + ki - pad;
              if (i < 0 || i >= side) continue;
              for (let kj = 0; kj < layer.k; kj++) {
                const j = oj * layer.stride + kj - pad;
                if (j < 0 || j >= side) continue;
                for (let ci = 0; ci < layer.cin; ci++) {
                  s += h[(i * side + j) * layer.cin + ci] *
                    layer.w[((ki * layer.k + kj) * layer.cin + ci) * layer.cout + co];
                }
              }
            }
            pre[(oi * out + oj) * layer.cout + co] = s;
          }
        }
      }
      side = out;
    } else {
      pre = new Float64Array(layer.nout);
      for (let o = 0; o < layer.nout; o++) {
        let s = layer.b[o];
        for (let i = 0; i < layer.nin; i++) s += h[i] * layer.w[i * layer.nout + o];
        pre[o] = s;
      }
    }
    const mask = pre.map((v) => (layer.leaky ? (v > 0 ? 1 : LEAK) : 1));
    masks.push(mask);
    h = pre.map((v, i) => v * mask[i]);
  }
  const value = h[0];
  // Reverse pass from dD/dD = 1.
  let g = new Float64Array([1]);
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l];
    g = g.map((v, i) => v * masks[l][i]);
    const inSide = sides[l];
    if (layer.kind === "dense") {
      const gin = new Float64Array(layer.nin);
      for (let i = 0; i < layer.nin; i++) {
        let s = 0;
        for (let o = 0; o < layer.nout; o++) s += layer.w[i * layer.nout + o] * g[o];
        gin[i] = s;
      }
      g = gin;
    } else {
      const out = Math.ceil(inSide / layer.stride);
      const pad = Math.floor(Math.max((out - 1) * layer.stride + layer.k - inSide, 0) / 2);
      const gin = new Float64Array(inSide * inSide * layer.cin);
      for (let oi = 0; oi < out; oi++) {
        for (let oj = 0; oj < out; oj++) {
          for (let co = 0; co < layer.cout; co++) {
            const go = g[(oi * out + oj) * layer.cout + co];
            for (let ki = 0; ki < layer.k; ki++) {
              const i = oi * layer.stride + ki - pad;
              if (i < 0 || i >= inSide) continue;
              for (let kj = 0; kj < layer.k; kj++) {
                const j = oj * layer.stride + kj - pad;
                if (j < 0 || j >= inSide) continue;
                for (let ci = 0; ci < layer.cin; ci++) {
                  gin[(i * inSide + j) * layer.cin + ci] += go *
                    layer.w[((ki * layer.k + kj) * layer.cin + ci) * layer.cout + co];
                }
              }
            }
          }
        }
      }
      g = gin;
    }
  }
  return [value, g.map((v) => 2 * v)]; // chain rule through 2x − 1
}

function oracleLayers(member: WganMember): LayerSpec[] {
  const f64 = (name: string) => Float64Array.from(member.params.get(name).dataSync());
  const { baseDepth: b, latentSize: latent } = member.config;
  const [size, , c] = member.config.inputShape;
  const k = size / 4;
  const conv = (i: number, cin: number, cout: number, stride: number): ConvSpec => ({
    kind: "conv",
    w: f64(`encoder/conv${i}/kernel`),
    b: f64(`encoder/conv${i}/bias`),
    k: 5,
    cin,
    cout,
    stride,
    leaky: true,
  });
  const dense = (name: string, nin: number, nout: number, leaky: boolean): DenseSpec => ({
    kind: "dense",
    w: f64(`${name}/kernel`),
    b: f64(`${name}/bias`),
    nin,
    nout,
    leaky,
  });
  return [
    conv(0, c, b, 1),
    conv(1, b, b, 2),
    conv(2, b, 2 * b, 1),
    conv(3, 2 * b, 2 * b, 2),
    dense("encoder/conv4", k * k * 2 * b, 4 * latent, true),
    dense("encoder/head", 4 * latent, latent, false), // the reference's dense(z_dim)
    dense("critic/logit", latent, 1, false),
  ];
}

/** Penalty mean_n (‖∇ₓD(x_n)‖ − 1)² in float64. */
function oraclePenalty(layers: LayerSpec[], points: Float64Array, n: number, size: number): number {
  const d = points.length / n;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const [, g] = oracleCritic(layers, points.subarray(i * d, (i + 1) * d), size);
    total += (Math.sqrt(g.reduce((s, v) => s + v * v, 0)) - 1) ** 2;
  }
  return total / n;
}

Deno.test("the float64 oracle reproduces the tfjs critic's logits and input gradients", () => {
  const member = new WganMember(tinyConfig());
  try {
    const rng = new Rng(1);
    const img = Float64Array.from({ length: 64 }, () => rng.uniform());
    const layers = oracleLayers(member);
    const [value, grad] = oracleCritic(layers, img, 8);
    const [tfValue, tfGrad] = tf.tidy(() => {
      const xt = tf.tensor(Float32Array.from(img), [1, 8, 8, 1]);
      const v = member.critic(xt).dataSync()[0];
      const g = tf.grad((t: tf.Tensor) => tf.sum(member.critic(t)))(xt).dataSync();
      return [v, g];
    });
    assert.ok(
      Math.abs(value - tfValue) < 1e-5 * Math.max(1, Math.abs(value)),
      `${value} ${tfValue}`,
    );
    const scale = Math.max(...grad.map(Math.abs));
    for (let i = 0; i < grad.length; i++) assert.ok(Math.abs(grad[i] - tfGrad[i]) < 1e-5 * scale);
  } finally {
    member.dispose();
  }
});

for (const backend of ["cpu", "wasm"]) {
  Deno.test(`${backend}: penalty weight gradient (second order) matches float64 central differences`, async () => {
    await tf.setBackend(backend);
    const member = new WganMember(tinyConfig());
    const n = 3;
    const rng = new Rng(11);
    const points = Float64Array.from({ length: n * 64 }, () => rng.uniform());
    // Scale the critic up so ‖∇ₓD‖ is of order 1 and every term of the penalty matters.
    const criticNames = member.params.names.filter((name) => !name.startsWith("decoder/"));
    for (const name of criticNames) {
      const v = member.params.get(name);
      if (name.endsWith("kernel")) v.assign(tf.tidy(() => tf.mul(v, 2.5)));
    }
    try {
      const pts = tf.tensor(Float32Array.from(points), [n, 64]);
      const vars = criticNames.map((name) => member.params.get(name));
      const { value, grads } = tf.variableGrads(() => gradientPenalty(member.critic, pts), vars);
      const layers = oracleLayers(member);
      const p64 = oraclePenalty(layers, points, n, 8);
      assert.ok(p64 > 0.05, `penalty ${p64} is too small to test`);
      assert.ok(Math.abs(value.dataSync()[0] - p64) < 1e-5 * p64);

      const h = 1e-6;
      let checked = 0;
      let worst = 0;
      for (const name of criticNames) {
        const g = grads[member.params.get(name).name]?.dataSync();
        const target = name.endsWith("bias") ? "b" : "w";
        const li = layerIndex(name);
        const arr = layers[li][target];
        // Biases only move the activation pattern, so the penalty is flat in them: gradient 0.
        const picks = target === "b" ? [0] : [0, 1, 2, 3].map(() => rng.int(arr.length));
        for (const i of picks) {
          const saved = arr[i];
          arr[i] = saved + h;
          const plus = oraclePenalty(layers, points, n, 8);
          arr[i] = saved - h;
          const minus = oraclePenalty(layers, points, n, 8);
          arr[i] = saved;
          const fd = (plus - minus) / (2 * h);
          const an = g ? g[i] : 0;
          if (target === "b") {
            assert.ok(Math.abs(an) < 1e-6 && Math.abs(fd) < 1e-6, `${name}: ${an} vs ${fd}`);
            continue;
          }
          const rel = Math.abs(an - fd) / Math.max(Math.abs(fd), 1e-3);
          worst = Math.max(worst, rel);
          assert.ok(rel < 1e-3, `${name}[${i}]: analytic ${an}, finite difference ${fd}`);
          checked++;
        }
      }
      assert.equal(checked, 4 * 7);
      assert.ok(worst < 1e-3);
      console.log(`${backend}: worst relative error ${worst.toExponential(2)} over ${checked}`);
      tf.dispose([pts, value, ...Object.values(grads)]);
    } finally {
      member.dispose();
      await tf.setBackend("cpu");
    }
  });
}

function layerIndex(name: string): number {
  const order = [
    "encoder/conv0",
    "encoder/conv1",
    "encoder/conv2",
    "encoder/conv3",
    "encoder/conv4",
    "encoder/head",
    "critic/logit",
  ];
  return order.indexOf(name.slice(0, name.lastIndexOf("/")));
}

Deno.test("critic iterations follow wgan_run.py: 100 warm-up, every 500th, else 5", () => {
  const s = REFERENCE_WGAN_SETTINGS;
  const expected: Array<[number, number]> = [
    [0, 100],
    [24, 100],
    [25, 5],
    [499, 5],
    [500, 100],
    [501, 5],
    [1000, 100],
  ];
  for (const [step, iters] of expected) assert.equal(criticItersAt(s, step), iters, `step ${step}`);
  assert.equal(generatorSteps(defaultWganConfig()), 20001);
});

Deno.test("max steps must leave room for generator iterations before the extra steps", () => {
  assert.throws(() => new WganMember(tinyConfig({ maxSteps: 2 })), /above its extra classifier/);
});

Deno.test("TF RMSProp (accumulator starts at 1) and Adam(0.5, 0.9) take hand-computed steps", () => {
  const w = tf.variable(tf.tensor1d([1, -2]));
  const rms = makeSlotOptimizer("rmsprop", "o", { w }, { learningRate: 0.1 });
  const g = tf.tensor1d([0.5, -3]);
  rms.apply({ w: g });
  // ms = 0.9 + 0.1·g²; w −= 0.1·g/√ms
  const ms = [0.9 + 0.1 * 0.25, 0.9 + 0.1 * 9];
  const want = [1 - 0.1 * 0.5 / Math.sqrt(ms[0]), -2 + 0.1 * 3 / Math.sqrt(ms[1])];
  const got = w.dataSync();
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-6);
  assert.deepEqual([...rms.slots["o/w/ms"].dataSync()].map((v) => +v.toFixed(5)), ms);

  const v = tf.variable(tf.tensor1d([1]));
  const adam = makeSlotOptimizer("adam", "a", { v }, { learningRate: 0.01 });
  adam.apply({ v: tf.tensor1d([2]) });
  adam.apply({ v: tf.tensor1d([-1]) });
  // t=1: m=1, v=0.4, lr_t = 0.01·√0.1/0.5, step = lr_t·1/(√0.4+1e-8)
  let m1 = 0.5 * 2, v1 = 0.1 * 4;
  let x = 1 - 0.01 * Math.sqrt(1 - 0.9) / (1 - 0.5) * m1 / (Math.sqrt(v1) + 1e-8);
  m1 = 0.5 * m1 + 0.5 * -1;
  v1 = 0.9 * v1 + 0.1 * 1;
  x -= 0.01 * Math.sqrt(1 - 0.81) / (1 - 0.25) * m1 / (Math.sqrt(v1) + 1e-8);
  assert.ok(Math.abs(v.dataSync()[0] - x) < 1e-6, `${v.dataSync()[0]} vs ${x}`);
  assert.equal(adam.slots["a/iterations"].dataSync()[0], 2);
  rms.dispose();
  adam.dispose();
  tf.dispose([w, v, g]);
});

Deno.test("sigmoid cross-entropy matches hand values, also for large logits", () => {
  const loss = sigmoidCrossEntropy(tf.tensor1d([0, 2, -3, 100]), tf.tensor1d([1, 0, 1, 1]));
  const sp = (z: number) => Math.log1p(Math.exp(z));
  const want = (Math.log(2) + sp(2) + sp(3) + 0) / 4;
  assert.ok(Math.abs(loss.dataSync()[0] - want) < 1e-6);
  loss.dispose();
});

Deno.test("reference shapes: 28×28×1 and 32×32×3 critics and generators", () => {
  for (const shape of [[28, 28, 1], [32, 32, 3]]) {
    const member = new WganMember(defaultWganConfig({ inputShape: shape }));
    try {
      const k = shape[0] / 4;
      // The VALID k×k conv of the critic: 4·z = 512 channels; the generator's first deconv k×k.
      assert.deepEqual(member.params.get("encoder/conv4/kernel").shape, [k * k * 64, 512]);
      // Then dense(128) → dense(1), as wgan_run.py's critic.
      assert.deepEqual(member.params.get("encoder/head/kernel").shape, [512, 128]);
      assert.deepEqual(member.params.get("critic/logit/kernel").shape, [128, 1]);
      assert.deepEqual(member.params.get("decoder/deconv0/kernel").shape, [k, k, 64, 128]);
      assert.deepEqual(member.params.get("decoder/conv_out/kernel").shape, [5, 5, 32, shape[2]]);
      const [logits, images] = tf.tidy(() => {
        const z = tf.randomNormal([2, 128], 0, 1, "float32", 1) as tf.Tensor2D;
        const g = member.generate(z);
        return [member.critic(g), g];
      });
      assert.deepEqual(logits.shape, [2]);
      assert.deepEqual(images.shape, [2, shape[0] * shape[1] * shape[2]]);
      tf.dispose([logits, images]);
    } finally {
      member.dispose();
    }
  }
});

function stripes(n: number): tf.Tensor4D {
  // Vertical stripes: an easy "training distribution" for a few steps.
  const data = new Float32Array(n * 64);
  for (let i = 0; i < data.length; i++) data[i] = (i % 8) % 2 === 0 ? 0.9 : 0.1;
  return tf.tensor4d(data, [n, 8, 8, 1]);
}

for (const backend of ["cpu", "wasm"]) {
  Deno.test(`${backend}: the member trains without NaN or leaked tensors, on schedule`, async () => {
    await tf.setBackend(backend);
    const config = tinyConfig({
      maxSteps: 8,
      wgan: { warmupSteps: 2, warmupCriticIters: 4, criticIters: 2, warmupEvery: 0, extraSteps: 3 },
    });
    const member = new WganMember(config);
    const batch = stripes(4);
    let criticCalls = 0;
    // deno-lint-ignore no-explicit-any
    const spy = member as any;
    const inner = spy.criticStep.bind(member);
    spy.criticStep = (...args: unknown[]) => {
      criticCalls++;
      return inner(...args);
    };
    try {
      member.trainStep(batch, 0); // creates nothing persistent beyond the constructor's tensors
      const before = tf.memory().numTensors;
      const calls: number[] = [];
      for (let step = 1; step < 8; step++) {
        const c0 = criticCalls;
        const stats = member.trainStep(batch, step);
        calls.push(criticCalls - c0);
        for (const v of Object.values(stats)) assert.ok(Number.isFinite(v), `step ${step}: ${v}`);
        if (step >= 5) assert.equal(stats.distortion, 0); // classifier steps report no G loss
      }
      assert.deepEqual(calls, [4, 2, 2, 2, 0, 0, 0]);
      assert.equal(tf.memory().numTensors, before);
      // Extra steps make the critic a classifier: its loss falls, and real stripes end up
      // scoring above generated images (step 5 again and again: the same generated batch).
      const firstLoss = member.trainStep(batch, 5).loss;
      let lastLoss = firstLoss;
      for (let i = 0; i < 200; i++) lastLoss = member.trainStep(batch, 5).loss;
      assert.ok(lastLoss < firstLoss, `classifier loss ${firstLoss} → ${lastLoss}`);
      const real = member.score(batch).logLik;
      const fake = tf.tidy(() =>
        member.critic(member.generate(tf.randomNormal([4, 2]) as tf.Tensor2D))
      );
      const fakeMean = (fake.dataSync() as Float32Array).reduce((a, b) => a + b, 0) / 4;
      assert.ok(real.reduce((a, b) => a + b, 0) / 4 > fakeMean);
      fake.dispose();
    } finally {
      batch.dispose();
      member.dispose();
      await tf.setBackend("cpu");
    }
  });
}

for (const optimizer of ["rmsprop", "adam"] as const) {
  Deno.test(`a checkpoint restores weights and ${optimizer} state exactly`, async () => {
    const dir = await Deno.makeTempDir();
    const config = tinyConfig({
      wgan: { warmupSteps: 0, criticIters: 1, warmupEvery: 0, extraSteps: 2, optimizer },
    });
    const a = new WganMember(config);
    const b = new WganMember(config); // same seed (the noise stream), fresh weights until loaded
    const batch = stripes(4);
    try {
      a.trainStep(batch, 0);
      a.trainStep(batch, 1);
      await a.save(dir, 2);
      assert.notDeepEqual(b.score(batch).logLik, a.score(batch).logLik);
      assert.equal(await b.load(dir), 2);
      assert.deepEqual(b.score(batch).logLik, a.score(batch).logLik);
      // Same state + same step → same update (critic uses the step's own batch, no pool draw).
      for (const step of [2, 4]) {
        assert.deepEqual(b.trainStep(batch, step), a.trainStep(batch, step));
      }
      assert.deepEqual(b.score(batch).logLik, a.score(batch).logLik);
      const other = new WganMember(tinyConfig({ baseDepth: 3 }));
      await assert.rejects(() => other.load(dir), /different model configuration/);
      other.dispose();
    } finally {
      batch.dispose();
      a.dispose();
      b.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("inputLoss is −mean logit, so FGSM raises the critic's logit", () => {
  const member = new WganMember(tinyConfig());
  try {
    const x = tf.randomUniform([3, 8, 8, 1], 0, 1, "float32", 2);
    const loss = member.inputLoss(x).dataSync()[0];
    const logits = member.score(x).logLik;
    assert.ok(Math.abs(loss + logits.reduce((s, v) => s + v, 0) / 3) < 1e-6);
    const moved = tf.tidy(() => {
      const g = tf.grad((t: tf.Tensor) => member.inputLoss(t))(x);
      return tf.sub(x, tf.mul(tf.sign(g), 0.01));
    });
    assert.ok(member.inputLoss(moved).dataSync()[0] < loss);
    tf.dispose([x, moved]);
  } finally {
    member.dispose();
  }
});

Deno.test("presets carry the WGAN settings into the member config", () => {
  const paper = resolveMemberConfig({ preset: "paper", model: "wgan", inputShape: [28, 28, 1] });
  const settings = wganSettings(paper as WganMemberConfig);
  assert.equal(paper.arch, "conv");
  assert.equal(paper.learningRate, 5e-5);
  assert.equal(paper.batchSize, 64);
  assert.equal(generatorSteps(paper as WganMemberConfig), 20001);
  assert.equal(settings.extraSteps, 4001);
  assert.equal(settings.optimizer, "rmsprop");
  const smoke = resolveMemberConfig({ preset: "smoke", model: "wgan", inputShape: [28, 28, 1] });
  const member = createWganMember({ ...smoke, seed: 0 });
  const batch = tf.zeros([smoke.batchSize, 28, 28, 1]);
  try {
    for (let step = 0; step < smoke.maxSteps; step++) {
      assert.ok(Number.isFinite(member.trainStep(batch, step).loss));
    }
  } finally {
    batch.dispose();
    member.dispose();
  }
});

Deno.test("async twins give the sync numbers: trainStepAsync, scoreAsync", async () => {
  const config = tinyConfig({
    maxSteps: 5,
    wgan: { warmupSteps: 1, warmupCriticIters: 3, criticIters: 2, warmupEvery: 0, extraSteps: 2 },
  });
  const a = new WganMember(config);
  const b = new WganMember(config);
  const batch = stripes(12); // 3 batches of 4: fresh rows for up to 3 critic iterations
  const one = stripes(4); // a single batch: the pool supplies the rest
  try {
    for (let step = 0; step < 5; step++) {
      const x = step % 2 === 0 ? batch : one;
      assert.deepEqual(await b.trainStepAsync(x, step), a.trainStep(x, step), `step ${step}`);
    }
    assert.deepEqual((await b.scoreAsync(batch)).logLik, a.score(batch).logLik);
  } finally {
    tf.dispose([batch, one]);
    a.dispose();
    b.dispose();
  }
});

Deno.test("rowsWanted asks one fresh batch per critic iteration; the loop draws them", () => {
  const config = tinyConfig({
    maxSteps: 30,
    wgan: { warmupSteps: 2, warmupCriticIters: 7, criticIters: 3, warmupEvery: 10, extraSteps: 5 },
  });
  const member = new WganMember(config);
  try {
    const b = config.batchSize;
    assert.deepEqual(
      [0, 1, 2, 10, 11, 24, 25, 29].map((s) => member.rowsWanted(s)),
      [7 * b, 7 * b, 3 * b, 7 * b, 3 * b, 3 * b, b, b], // steps 25–29 are classifier steps
    );
  } finally {
    member.dispose();
  }
  const order = new BatchOrder(11, 100, 4);
  const rows = stepIndices(order, 6, 20);
  assert.equal(rows.length, 20);
  assert.deepEqual(rows.subarray(0, 4), order.indices(6)); // the step's own batch first
  assert.ok(rows.every((i) => i >= 0 && i < 100));
  assert.deepEqual(stepIndices(new BatchOrder(11, 100, 4), 6, 20), rows); // resumable
  assert.notDeepEqual(stepIndices(order, 7, 20).subarray(4), rows.subarray(4));
  assert.deepEqual(stepIndices(order, 6, 4), order.indices(6));
  assert.deepEqual(stepIndices(order, 6), order.indices(6));
});

Deno.test("train flags: --extra_steps, --scale_input reach the member's overrides", () => {
  const o = trainOptionsFromArgs([
    "mnist",
    "--model",
    "wgan",
    "--extra_steps",
    "7",
    "--scale_input",
    "false",
  ]);
  assert.equal(o?.overrides?.extraSteps, 7);
  assert.equal(o?.overrides?.scaleInput, false);
  assert.equal(
    trainOptionsFromArgs(["mnist", "--scale_input", "true"])?.overrides?.scaleInput,
    true,
  );
  assert.equal(trainOptionsFromArgs(["mnist"])?.overrides?.scaleInput, undefined);
  const unscaled = new WganMember(tinyConfig({ scaleInput: false }));
  const scaled = new WganMember(tinyConfig());
  try {
    // Same weights (same seed); the unscaled critic sees x where the scaled one sees 2x − 1.
    const x = tf.fill([1, 8, 8, 1], 0.5);
    const two = tf.fill([1, 8, 8, 1], 0); // 2·0.5 − 1 = 0
    assert.deepEqual(scaled.score(x).logLik, unscaled.score(two).logLik);
    tf.dispose([x, two]);
  } finally {
    unscaled.dispose();
    scaled.dispose();
  }
});

Deno.test("--max_steps counts generator iterations for a WGAN; --extra_steps the rest", () => {
  const shape = [28, 28, 1];
  const d = resolveMemberConfig({ preset: "default", model: "wgan", inputShape: shape });
  const dExtra = wganSettings(d as WganMemberConfig).extraSteps;
  assert.equal(d.maxSteps - dExtra, 600);
  // CIFAR-10's iterations cost 4.5× MNIST's: the default preset runs fewer of them.
  const cifar = resolveMemberConfig({ preset: "default", model: "wgan", inputShape: [32, 32, 3] });
  assert.equal(generatorSteps(cifar as WganMemberConfig), 240);
  assert.equal(wganSettings(cifar as WganMemberConfig).extraSteps, 150);
  const c = resolveMemberConfig({
    preset: "default",
    model: "wgan",
    inputShape: shape,
    overrides: { maxSteps: 100, extraSteps: 7 },
  });
  assert.equal(c.maxSteps, 107);
  assert.equal(generatorSteps(c as WganMemberConfig), 100);
  assert.equal(wganSettings(c as WganMemberConfig).extraSteps, 7);
  const onlyExtra = resolveMemberConfig({
    preset: "paper",
    model: "wgan",
    inputShape: shape,
    overrides: { extraSteps: 0 },
  });
  assert.equal(onlyExtra.maxSteps, 20001);
  assert.throws(
    () =>
      resolveMemberConfig({
        preset: "default",
        model: "vae",
        inputShape: shape,
        overrides: { extraSteps: 5 },
      }),
    /--extra_steps is for --model wgan/,
  );
});

const adapter = await probeAdapter();
Deno.test({
  name: "on webgpu (software adapter here) a WGAN trains, penalty included, and scores",
  ignore: adapter === null,
  fn: async () => {
    await initBackend("webgpu", { quiet: true });
    const config = tinyConfig({
      maxSteps: 3,
      // Adam keeps its step count on the host: no synchronous read-back, which webgpu lacks.
      wgan: { warmupSteps: 0, criticIters: 2, warmupEvery: 0, extraSteps: 1, optimizer: "adam" },
    });
    const member = new WganMember(config);
    const batch = stripes(8);
    try {
      for (let step = 0; step < 3; step++) {
        const stats = await member.trainStepAsync(batch, step);
        for (const v of Object.values(stats)) assert.ok(Number.isFinite(v), `step ${step}: ${v}`);
      }
      const { logLik } = await member.scoreAsync(batch);
      assert.equal(logLik.length, 8);
      assert.ok(logLik.every(Number.isFinite));
    } finally {
      batch.dispose();
      member.dispose();
      await tf.setBackend("cpu");
    }
  },
});
