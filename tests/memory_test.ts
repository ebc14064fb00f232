/**
 * No tensor leaks: `tf.memory().numTensors` stays flat across training steps, scoring calls and
 * FGSM input gradients (DESIGN.md: every step runs in tf.tidy or disposes).
 */
import assert from "node:assert/strict";
import { tf } from "../deps.ts";
import { initBackend } from "../core/backend.ts";
import { defaultVaeConfig, VaeMember } from "../models/vae.ts";

await initBackend("wasm", { quiet: true });

Deno.test("numTensors does not grow over 20 training steps, scores and input gradients", () => {
  const member = new VaeMember(
    defaultVaeConfig({
      arch: "dense",
      inputShape: [20],
      latentSize: 4,
      nFlows: 3,
      flowHidden: [16, 16],
      denseHidden: [16],
      nSamples: 4,
      maxSteps: 20,
    }),
    { scoreRows: 32 }, // several chunks per score call
  );
  const data = tf.randomUniform([64, 20], 0, 1, "float32", 1);
  const batch = tf.slice(data, 0, 8);
  member.trainStep(batch, 0);
  const afterFirst = tf.memory().numTensors;
  for (let step = 1; step <= 20; step++) member.trainStep(batch, step);
  assert.equal(tf.memory().numTensors, afterFirst, "training steps leak tensors");

  member.score(data);
  const afterScore = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) member.score(data, 8);
  assert.equal(tf.memory().numTensors, afterScore, "score calls leak tensors");
  assert.equal(afterScore, afterFirst);

  for (let i = 0; i < 3; i++) tf.grad((x: tf.Tensor) => member.inputLoss(x))(batch).dispose();
  assert.equal(tf.memory().numTensors, afterFirst, "input gradients leak tensors");

  const before = tf.memory().numTensors;
  const owned = member.params.variables.length; // at least the weights (moments may be host-side)
  member.dispose();
  assert.ok(before - tf.memory().numTensors >= owned, "dispose() releases the member's tensors");
  tf.dispose([data, batch]);
});
