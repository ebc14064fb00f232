import assert from "node:assert/strict";
import {
  checkpointDigest,
  readScoreCache,
  type ScoreCacheKey,
  writeScoreCache,
} from "../tasks/score_cache.ts";

const key: ScoreCacheKey = {
  set: "uniform_noise",
  setFingerprint: "abc123",
  checkpointStep: 100,
  checkpointDigest: "d1",
  nSamples: 16,
  backend: "cpu",
};

const scores = {
  logLik: new Float32Array([-1.5, -2.25, -1e5]),
  rate: new Float32Array([3, 4, 5]),
  posteriorMean: new Float32Array([1, 2, 3, 4, 5, 6]), // [3, 2]
};

Deno.test("score cache: miss, write, hit with identical values", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await readScoreCache(dir, key), null);
    await writeScoreCache(dir, key, scores);
    const hit = await readScoreCache(dir, key);
    assert.ok(hit);
    assert.deepEqual(Array.from(hit.logLik), Array.from(scores.logLik));
    assert.deepEqual(Array.from(hit.rate!), Array.from(scores.rate));
    assert.deepEqual(Array.from(hit.posteriorMean!), Array.from(scores.posteriorMean));
    // Scores without rate or posterior means round-trip without them.
    const k2 = { ...key, set: "logits" };
    await writeScoreCache(dir, k2, { logLik: new Float32Array([0.25]) });
    const hit2 = await readScoreCache(dir, k2);
    assert.deepEqual(hit2, { logLik: new Float32Array([0.25]) });
    // No temp files are left behind.
    const names = [...Deno.readDirSync(`${dir}/scores`)].map((e) => e.name).sort();
    assert.deepEqual(names, [
      "logits.f32",
      "logits.json",
      "uniform_noise.f32",
      "uniform_noise.json",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("score cache: any key change or a damaged file is a miss", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeScoreCache(dir, key, scores);
    for (
      const changed of [
        { setFingerprint: "other" },
        { checkpointStep: 101 },
        { checkpointDigest: "d2" },
        { nSamples: 1 },
        { backend: "wasm" },
      ]
    ) {
      assert.equal(
        await readScoreCache(dir, { ...key, ...changed }),
        null,
        JSON.stringify(changed),
      );
    }
    assert.ok(await readScoreCache(dir, key));
    // A truncated .f32 (e.g. a foreign writer) is detected by its byte count.
    const bin = `${dir}/scores/uniform_noise.f32`;
    const bytes = await Deno.readFile(bin);
    await Deno.writeFile(bin, bytes.subarray(0, bytes.length - 4));
    assert.equal(await readScoreCache(dir, key), null);
    // Rewriting repairs it.
    await writeScoreCache(dir, key, scores);
    assert.ok(await readScoreCache(dir, key));
    await Deno.writeTextFile(`${dir}/scores/uniform_noise.json`, "{ not json");
    assert.equal(await readScoreCache(dir, key), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpoint digest changes when the weights change, not with the log", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/model.json`, '{"step": 5}');
    await Deno.writeFile(`${dir}/weights.bin`, new Uint8Array([1, 2, 3]));
    const d1 = await checkpointDigest(dir);
    await Deno.writeTextFile(`${dir}/train_log.jsonl`, '{"step": 5}\n');
    await Deno.mkdir(`${dir}/scores`);
    assert.equal(await checkpointDigest(dir), d1);
    await Deno.writeFile(`${dir}/weights.bin`, new Uint8Array([1, 2, 4]));
    assert.notEqual(await checkpointDigest(dir), d1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpoint digest of a gensemble checkpoint follows model.json's weights hash", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/model.json`, '{"weightsSha256": "aa", "step": 5}');
    await Deno.writeFile(`${dir}/weights.bin`, new Uint8Array([1]));
    const d1 = await checkpointDigest(dir);
    // model.json vouches for the weights (eval's loader checks the hash), so it alone is hashed.
    await Deno.writeFile(`${dir}/weights.bin`, new Uint8Array([2]));
    assert.equal(await checkpointDigest(dir), d1);
    await Deno.writeTextFile(`${dir}/model.json`, '{"weightsSha256": "bb", "step": 5}');
    assert.notEqual(await checkpointDigest(dir), d1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
