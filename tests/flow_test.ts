/**
 * MADE / MAF prior: block masks, autoregressive structure, normalisation of the density,
 * log-determinant against the autodiff Jacobian, sample ↔ density consistency, determinism.
 */
import assert from "node:assert/strict";
import { tf } from "../deps.ts";
import { initBackend } from "../core/backend.ts";
import { Rng } from "../core/rng.ts";
import { clipLogScale, LOG_SCALE_MAX, Made, madeBlockMask, MafPrior } from "../models/flow.ts";
import { ParamStore } from "../models/params.ts";

await initBackend("wasm", { quiet: true });

/** A small MAF whose weights are scaled so the density is smooth and unclipped. */
function smallPrior(dim: number, seed: number, weightScale = 0.5): [MafPrior, ParamStore] {
  const params = new ParamStore();
  const prior = new MafPrior(params, { dim, nFlows: 3, hidden: [32, 32], seed });
  params.variables.forEach((v, i) =>
    tf.tidy(() => {
      // Small non-zero biases too, so shifts and scales are not trivial at the origin.
      v.assign(
        v.rank === 1
          ? tf.randomNormal(v.shape, 0, 0.15, "float32", seed * 1000 + i)
          : tf.mul(v, weightScale),
      );
    })
  );
  return [prior, params];
}

Deno.test("madeBlockMask matches the TFP block masks on a hand-worked case", () => {
  // 2 blocks, 2 inputs, 4 outputs; layout [nIn, nOut].
  assert.deepEqual([...madeBlockMask(2, 4, 2, true)], [0, 0, 1, 1, 0, 0, 0, 0]);
  assert.deepEqual([...madeBlockMask(2, 4, 2, false)], [1, 1, 1, 1, 0, 0, 1, 1]);
  // 4 inputs in 2 blocks of 2, 2 outputs, inclusive: block 0 feeds both, block 1 feeds output 1.
  assert.deepEqual([...madeBlockMask(4, 2, 2, false)], [1, 1, 1, 1, 0, 1, 0, 1]);
});

Deno.test("MADE outputs for dimension d depend only on inputs before d", () => {
  const params = new ParamStore();
  const made = new Made(params, "m", 4, [16, 16], new Rng(7));
  for (const v of params.variables) {
    if (v.rank === 1) v.assign(tf.randomNormal(v.shape, 0, 0.5, "float32", 3));
  }
  const x = tf.randomNormal([5, 4], 0, 1, "float32", 11) as tf.Tensor2D;
  const base = made.apply(x);
  const b = [base.shift.arraySync(), base.logScale.arraySync()];
  for (let j = 0; j < 4; j++) {
    const moved = tf.tidy(() => tf.add(x, tf.mul(tf.oneHot([j], 4), 0.7))) as tf.Tensor2D;
    const out = made.apply(moved);
    const o = [out.shift.arraySync(), out.logScale.arraySync()];
    for (let part = 0; part < 2; part++) {
      for (let n = 0; n < 5; n++) {
        for (let d = 0; d <= j; d++) assert.equal(o[part][n][d], b[part][n][d]);
        // and a later dimension does react (the mask is not all zeros).
        if (j < 3) assert.notEqual(o[part][n][3], b[part][n][3]);
      }
    }
    tf.dispose([moved, out.shift, out.logScale]);
  }
  tf.dispose([x, base.shift, base.logScale]);
  made.dispose();
  params.dispose();
});

Deno.test("log-scale clipping keeps the straight-through gradient", () => {
  const x = tf.tensor2d([[-9, -1, 0, 7]]);
  assert.deepEqual([...clipLogScale(x).dataSync()], [-5, -1, 0, LOG_SCALE_MAX]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(clipLogScale(t as tf.Tensor2D), 2)))(x);
  assert.deepEqual([...g.dataSync()], [2, 2, 2, 2]);
  tf.dispose([x, g]);
});

Deno.test("MAF density on R^2 integrates to 1 and is not the base Gaussian", () => {
  const [prior, params] = smallPrior(2, 5);
  const half = 10, n = 500; // grid [−10, 10]², 500² cells
  const h = (2 * half) / n;
  const coords = new Float32Array(n * n * 2);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      coords[(i * n + j) * 2] = -half + (i + 0.5) * h;
      coords[(i * n + j) * 2 + 1] = -half + (j + 0.5) * h;
    }
  }
  const z = tf.tensor2d(coords, [n * n, 2]);
  const logp = prior.logProb(z).dataSync();
  let mass = 0, maxGap = 0;
  for (let i = 0; i < logp.length; i++) {
    mass += Math.exp(logp[i]) * h * h;
    const [a, b] = [coords[2 * i], coords[2 * i + 1]];
    if (a * a + b * b < 4) {
      maxGap = Math.max(
        maxGap,
        Math.abs(logp[i] - (-0.5 * (a * a + b * b) - Math.log(2 * Math.PI))),
      );
    }
  }
  assert.ok(Math.abs(mass - 1) < 0.01, `mass ${mass}`);
  assert.ok(maxGap > 0.1, `density is too close to N(0, I) to be a meaningful test (${maxGap})`);
  z.dispose();
  prior.dispose();
  params.dispose();
});

Deno.test("log-determinant equals log|det| of the autodiff Jacobian (D = 3)", () => {
  const [prior, params] = smallPrior(3, 9);
  const z = tf.randomNormal([6, 3], 0, 1.5, "float32", 21) as tf.Tensor2D;
  const { logDet } = prior.inverse(z);
  // Rows are independent, so d(Σ_n u[n, i])/dz gives row n's Jacobian row i.
  const rows = [0, 1, 2].map((i) =>
    tf.grad((t: tf.Tensor) => tf.sum(tf.slice(prior.inverse(t as tf.Tensor2D).u, [0, i], [-1, 1])))(
      z,
    ).arraySync() as number[][]
  );
  const ld = logDet.dataSync();
  for (let n = 0; n < 6; n++) {
    const j = [0, 1, 2].map((i) => rows[i][n]);
    const det = j[0][0] * (j[1][1] * j[2][2] - j[1][2] * j[2][1]) -
      j[0][1] * (j[1][0] * j[2][2] - j[1][2] * j[2][0]) +
      j[0][2] * (j[1][0] * j[2][1] - j[1][1] * j[2][0]);
    assert.ok(Math.abs(Math.log(Math.abs(det)) - ld[n]) < 1e-4, `row ${n}: ${det} vs ${ld[n]}`);
  }
  // With the small weights no log-scale is clipped, so autodiff is the true Jacobian.
  tf.dispose([z, logDet]);
  prior.dispose();
  params.dispose();
});

Deno.test("sampling inverts the density direction and matches the density's moments", () => {
  const [prior, params] = smallPrior(2, 5);
  // Round trip: u → z = forward(u) → inverse(z).u == u.
  const u = tf.randomNormal([200, 2], 0, 1, "float32", 4) as tf.Tensor2D;
  const z = prior.forward(u);
  const back = prior.inverse(z);
  const err = tf.max(tf.abs(tf.sub(back.u, u))).dataSync()[0];
  assert.ok(err < 1e-4, `round-trip error ${err}`);
  // E[z] and E[z²] from 40,000 samples vs the same integrals of exp(logProb) on a grid.
  const samples = prior.sample(40000, 17).arraySync();
  const half = 10, n = 400, h = (2 * half) / n;
  const coords = new Float32Array(n * n * 2);
  for (let i = 0; i < n * n; i++) {
    coords[2 * i] = -half + (Math.floor(i / n) + 0.5) * h;
    coords[2 * i + 1] = -half + ((i % n) + 0.5) * h;
  }
  const grid = tf.tensor2d(coords, [n * n, 2]);
  const p = prior.logProb(grid).dataSync().map((l) => Math.exp(l) * h * h);
  for (let d = 0; d < 2; d++) {
    const mcMean = samples.reduce((s, r) => s + r[d], 0) / samples.length;
    const mcSq = samples.reduce((s, r) => s + r[d] * r[d], 0) / samples.length;
    let gMean = 0, gSq = 0;
    for (let i = 0; i < n * n; i++) {
      gMean += p[i] * coords[2 * i + d];
      gSq += p[i] * coords[2 * i + d] ** 2;
    }
    const sd = Math.sqrt(gSq - gMean * gMean);
    // 40,000 samples: standard error of the mean ≈ sd / 200; allow 4 standard errors.
    assert.ok(Math.abs(mcMean - gMean) < 4 * sd / 200, `dim ${d} mean ${mcMean} vs ${gMean}`);
    assert.ok(Math.abs(mcSq - gSq) / gSq < 0.03, `dim ${d} E[z²] ${mcSq} vs ${gSq}`);
  }
  tf.dispose([u, z, back.u, back.logDet, grid]);
  prior.dispose();
  params.dispose();
});

Deno.test("the same seed gives the same flow; another seed another", () => {
  const make = (seed: number) => {
    const params = new ParamStore();
    const prior = new MafPrior(params, { dim: 4, nFlows: 2, hidden: [8], seed });
    const z = tf.tensor2d([[0.1, -0.2, 0.3, 0.4]]);
    const lp = prior.logProb(z).dataSync()[0];
    const perm = [...prior.perms[0]];
    z.dispose();
    prior.dispose();
    params.dispose();
    return { lp, perm };
  };
  assert.deepEqual(make(3), make(3));
  assert.notEqual(make(3).lp, make(4).lp);
});
