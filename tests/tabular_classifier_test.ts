import assert from "node:assert/strict";
import { Rng } from "../core/rng.ts";
import { initBackend } from "../core/backend.ts";
import { DenseClassifier, referenceSplit } from "../models/classifier.ts";
import { oodMetrics } from "../metrics/ood_metrics.ts";
import { tf } from "../deps.ts";

/** Normal rows inside a disc of radius 0.2 around (0.5, 0.5), anomalies on a ring 0.3–0.45 out:
 * separable, but not by a line, so the hidden ReLU layers must do the work. */
function ringData(n: number, anomalyShare: number, seed: number) {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const anomalous = rng.uniform() < anomalyShare;
    const r = anomalous ? 0.3 + 0.15 * rng.uniform() : 0.2 * Math.sqrt(rng.uniform());
    const a = 2 * Math.PI * rng.uniform();
    x[2 * i] = 0.5 + r * Math.cos(a);
    x[2 * i + 1] = 0.5 + r * Math.sin(a);
    y[i] = anomalous ? 1 : 0;
  }
  return { x, y };
}

Deno.test("referenceSplit holds out 100 normal + 100 anomalous rows, disjoint, seeded", () => {
  const labels = Int32Array.from({ length: 1000 }, (_, i) => (i % 4 === 0 ? 1 : 0)); // 250 anomalous
  const { train, test } = referenceSplit(labels, 3);
  assert.equal(test.length, 200);
  assert.equal(train.length, 800);
  assert.equal(Array.from(test).filter((i) => labels[i] === 1).length, 100);
  assert.equal(new Set([...train, ...test]).size, 1000);
  assert.deepEqual(Array.from(referenceSplit(labels, 3).test), Array.from(test));
  assert.throws(() => referenceSplit(labels.slice(0, 300), 3), /75 anomalous rows/);
});

Deno.test("DenseClassifier learns a separable (non-linear) toy set: AUROC > 0.95", async () => {
  await initBackend("cpu", { quiet: true });
  const { x, y } = ringData(1200, 0.15, 1);
  const { train, test } = referenceSplit(y, 0);
  const pick = (rows: Int32Array) => {
    const xs = new Float32Array(rows.length * 2);
    rows.forEach((r, i) => xs.set(x.subarray(2 * r, 2 * r + 2), 2 * i));
    return { xs, ys: Int32Array.from(rows, (r) => y[r]) };
  };
  const tr = pick(train);
  const te = pick(test);
  const before = tf.memory().numTensors;
  const clf = new DenseClassifier(2, {
    hidden: [32, 32],
    learningRate: 1e-2,
    epochs: 50,
    maxSteps: 400,
    seed: 0,
  });
  const fit = clf.fit(tr.xs, tr.ys);
  assert.equal(fit.steps, 400); // min(maxSteps, 50 epochs × ⌊1000 / 100⌋ steps)
  const logits = clf.logits(te.xs);
  clf.dispose();
  assert.equal(tf.memory().numTensors, before); // nothing leaked
  const normal = Array.from(logits).filter((_, i) => te.ys[i] === 0);
  const anomalous = Array.from(logits).filter((_, i) => te.ys[i] === 1);
  const m = oodMetrics(normal, anomalous);
  assert.ok(m.auroc > 0.95, `AUROC ${m.auroc}`);
});
