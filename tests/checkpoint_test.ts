/**
 * Checkpoints: the tfjs weights format round trip, damage detection, and exact resume of a VAE
 * member (same scores after loading, the same next training steps as an uninterrupted run).
 */
import assert from "node:assert/strict";
import { tf } from "../deps.ts";
import { initBackend } from "../core/backend.ts";
import { GensembleError } from "../core/errors.ts";
import {
  checkpointExists,
  checkpointWeightsPath,
  loadCheckpoint,
  MODEL_JSON,
  saveCheckpoint,
} from "../models/checkpoint.ts";
import { defaultVaeConfig, VaeMember } from "../models/vae.ts";

await initBackend("wasm", { quiet: true });

const config = defaultVaeConfig({
  arch: "dense",
  inputShape: [12],
  latentSize: 3,
  nFlows: 2,
  flowHidden: [12, 12],
  denseHidden: [16],
  nSamples: 4,
  maxSteps: 10,
  seed: 3,
});

Deno.test("saveCheckpoint/loadCheckpoint round-trip tensors and metadata in tfjs format", async () => {
  const dir = await Deno.makeTempDir();
  const a = tf.tensor2d([[1.5, -2], [3, 4.25]]);
  const b = tf.tensor1d([7, 8, 9], "int32");
  await saveCheckpoint(`${dir}/ck`, [{ name: "layer/a", tensor: a }, { name: "b", tensor: b }], {
    step: 12,
    note: "hi",
  });
  assert.ok(await checkpointExists(`${dir}/ck`));
  assert.ok(!(await checkpointExists(`${dir}/none`)));
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/ck/${MODEL_JSON}`));
  const weightsBin = manifest.weightsManifest[0].paths[0];
  assert.match(weightsBin, /^weights-[0-9a-f]{16}\.bin$/);
  assert.deepEqual(manifest.weightsManifest[0].weights.map((w: { name: string }) => w.name), [
    "layer/a",
    "b",
  ]);
  assert.equal((await Deno.stat(`${dir}/ck/${weightsBin}`)).size, 4 * 4 + 3 * 4);
  const { tensors, metadata } = await loadCheckpoint(`${dir}/ck`);
  assert.deepEqual(tensors["layer/a"].arraySync(), [[1.5, -2], [3, 4.25]]);
  assert.equal(tensors["b"].dtype, "int32");
  assert.deepEqual([...tensors["b"].dataSync()], [7, 8, 9]);
  assert.deepEqual(metadata, { step: 12, note: "hi" });
  // No temp files are left behind.
  const names = [...Deno.readDirSync(`${dir}/ck`)].map((e) => e.name).sort();
  assert.deepEqual(names, [MODEL_JSON, weightsBin]);
  tf.dispose([a, b, ...Object.values(tensors)]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a damaged or missing checkpoint is a clear error naming the file", async () => {
  const dir = await Deno.makeTempDir();
  const t = tf.ones([10]);
  await saveCheckpoint(dir, [{ name: "t", tensor: t }], {});
  const bin = await checkpointWeightsPath(dir);
  const bytes = await Deno.readFile(bin);
  await Deno.writeFile(bin, bytes.slice(0, 20));
  await assert.rejects(loadCheckpoint(dir), (e: Error) => {
    assert.ok(e instanceof GensembleError);
    assert.match(e.message, /weights-[0-9a-f]+\.bin: has 20 bytes but model\.json expects 40/);
    return true;
  });
  bytes[3] ^= 0xff;
  await Deno.writeFile(bin, bytes);
  await assert.rejects(loadCheckpoint(dir), /SHA-256 differs/);
  await Deno.remove(bin);
  await assert.rejects(loadCheckpoint(dir), /weights-[0-9a-f]+\.bin: missing/);
  await assert.rejects(loadCheckpoint(`${dir}/nowhere`), /model\.json: no checkpoint here/);
  t.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a member resumed from a checkpoint scores and trains exactly as without the break", async () => {
  const dir = await Deno.makeTempDir();
  const data = tf.randomUniform([40, 12], 0, 1, "float32", 5);
  const batch = (step: number) => tf.slice(data, (step * 8) % 40, 8);
  const train = (m: VaeMember, from: number, to: number) => {
    const out = [];
    for (let s = from; s < to; s++) {
      const b = batch(s);
      out.push(m.trainStep(b, s));
      b.dispose();
    }
    return out;
  };
  const a = new VaeMember(config);
  train(a, 0, 3);
  await a.save(`${dir}/member-0`, 3);
  const scoresAtSave = a.score(data).logLik;
  const statsA = train(a, 3, 6);
  const finalA = a.score(data).logLik;

  const b = new VaeMember({ ...config }); // fresh weights from the same seed, moments zero
  assert.equal(await b.load(`${dir}/member-0`), 3);
  assert.deepEqual(b.score(data).logLik, scoresAtSave);
  const statsB = train(b, 3, 6);
  assert.deepEqual(statsB, statsA);
  assert.deepEqual(b.score(data).logLik, finalA);
  for (const name of a.params.names) {
    assert.deepEqual(b.params.get(name).dataSync(), a.params.get(name).dataSync(), name);
  }

  // Without the optimizer state the continuation would differ: the moments matter.
  const c = new VaeMember(config);
  train(c, 0, 3);
  const d = new VaeMember(config);
  for (const name of c.params.names) d.params.get(name).assign(c.params.get(name));
  train(d, 3, 4);
  train(c, 3, 4);
  assert.notDeepEqual(d.score(data).logLik, c.score(data).logLik);

  for (const m of [a, b, c, d]) m.dispose();
  data.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loading a checkpoint of another configuration is refused clearly", async () => {
  const dir = await Deno.makeTempDir();
  const a = new VaeMember(config);
  await a.save(dir, 0);
  const other = new VaeMember({ ...config, latentSize: 4 });
  await assert.rejects(other.load(dir), (e: Error) => {
    assert.ok(e instanceof GensembleError);
    assert.match(e.message, /different model configuration/);
    return true;
  });
  a.dispose();
  other.dispose();
  await Deno.remove(dir, { recursive: true });
});
