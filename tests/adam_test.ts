/**
 * Adam with cosine decay: a hand-computed update, the host (JS) and tensor paths agree, and the
 * state round-trips through `state`/`setState`.
 */
import assert from "node:assert/strict";
import { tf } from "../deps.ts";
import { initBackend } from "../core/backend.ts";
import { Adam, type AdamMode, cosineDecay } from "../models/adam.ts";

await initBackend("wasm", { quiet: true });

Deno.test("cosine decay follows tf.train.cosine_decay (alpha 0)", () => {
  assert.equal(cosineDecay(1e-3, 0, 100), 1e-3);
  assert.ok(Math.abs(cosineDecay(1e-3, 50, 100) - 5e-4) < 1e-12);
  assert.ok(Math.abs(cosineDecay(1e-3, 25, 100) - 1e-3 * 0.5 * (1 + Math.SQRT1_2)) < 1e-12);
  assert.equal(cosineDecay(1e-3, 100, 100), 0);
  assert.equal(cosineDecay(1e-3, 250, 100), 0);
});

for (const mode of ["host", "tensor"] as AdamMode[]) {
  Deno.test(`Adam (${mode}) matches a hand-computed two-step update`, () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const adam = new Adam([w], { learningRate: 0.1, maxSteps: 4 }, mode);
    const g1 = tf.tensor1d([0.5, -1]), g2 = tf.tensor1d([0.25, 3]);
    adam.apply([g1], 0);
    adam.apply([g2], 1);
    // By hand, element 0: m1 = .05, v1 = .00025, first step moves by lr·1 (Adam's sign step).
    const expected = [[1, 0.5, 0.25], [-2, -1, 3]].map(([p0, a, b]) => {
      let m = 0.1 * a, v = 0.001 * a * a;
      let p = p0 - 0.1 * (m / 0.1) / (Math.sqrt(v / 0.001) + 1e-8);
      m = 0.9 * m + 0.1 * b;
      v = 0.999 * v + 0.001 * b * b;
      const lr = 0.1 * 0.5 * (1 + Math.cos(Math.PI / 4));
      p -= lr / (1 - 0.81) * m / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** 2) + 1e-8);
      return p;
    });
    const got = w.dataSync();
    for (let i = 0; i < 2; i++) assert.ok(Math.abs(got[i] - expected[i]) < 1e-6, `${got[i]}`);
    assert.equal(adam.updates, 2);
    tf.dispose([w, g1, g2]);
    adam.dispose();
  });
}

Deno.test("host and tensor Adam agree, and state()/setState() resume exactly", () => {
  const shapes = [[3, 4], [4]];
  const run = (mode: AdamMode, split: boolean) => {
    const vars = shapes.map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, "float32", i + 1)));
    let adam = new Adam(vars, { learningRate: 0.01, maxSteps: 10 }, mode);
    for (let step = 0; step < 6; step++) {
      if (split && step === 3) {
        const state = adam.state(["a", "b"]);
        const tensors = Object.fromEntries(state.map((s) => [s.name, s.tensor]));
        const updates = adam.updates;
        adam.dispose();
        adam = new Adam(vars, { learningRate: 0.01, maxSteps: 10 }, mode);
        adam.setState(["a", "b"], tensors, updates);
        tf.dispose(Object.values(tensors));
      }
      const grads = shapes.map((s, i) => tf.randomNormal(s, 0, 1, "float32", 100 * step + i + 1));
      adam.apply(grads, step);
      tf.dispose(grads);
    }
    const out = vars.map((v) => [...v.dataSync()]);
    tf.dispose(vars);
    adam.dispose();
    return out;
  };
  const host = run("host", false), tensor = run("tensor", false);
  host.flat().forEach((v, i) =>
    assert.ok(Math.abs(v - tensor.flat()[i]) < 1e-5, `${v} vs ${tensor.flat()[i]}`)
  );
  assert.deepEqual(run("host", true), host);
  assert.deepEqual(run("tensor", true), tensor);
});
