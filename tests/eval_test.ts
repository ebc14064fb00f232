/**
 * Eval end to end on a tiny generated "mnist" (real IDX files in a temp dir): eval.ts trains 2
 * smoke-preset members and scores the suite; then the results' schema and values, the cache on
 * a second run, determinism across the worker and in-thread paths, and user OoD files.
 */
import assert from "node:assert/strict";
import { Rng } from "../core/rng.ts";
import { encodeNpy } from "../data/npy.ts";
import { OOD_SUITES, oodSuiteNames, parseUserOod, subsetRows } from "../tasks/ood_suite.ts";
import type { EvalResults } from "../tasks/results_table.ts";

const EVAL = new URL("../eval.ts", import.meta.url).pathname;

/** An IDX file: magic 00 00 08 <ndim>, big-endian uint32 dims, uint8 data. */
function idx(data: Uint8Array, dims: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, 8, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** n 28×28 images of a soft blob near the centre (digit-like: dark background, bright ink). */
function blobs(n: number, rng: Rng): Uint8Array {
  const out = new Uint8Array(n * 784);
  for (let k = 0; k < n; k++) {
    const cy = 14 + 3 * rng.normal();
    const cx = 14 + 3 * rng.normal();
    for (let i = 0; i < 28; i++) {
      for (let j = 0; j < 28; j++) {
        const v = Math.exp(-((i - cy) ** 2 + (j - cx) ** 2) / 18);
        out[k * 784 + i * 28 + j] = Math.round(255 * v);
      }
    }
  }
  return out;
}

async function makeData(root: string): Promise<void> {
  const rng = new Rng(7);
  await Deno.mkdir(`${root}/mnist`, { recursive: true });
  await Deno.mkdir(`${root}/notmnist`, { recursive: true });
  const labels = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 10);
  await Deno.writeFile(`${root}/mnist/train-images-idx3-ubyte`, idx(blobs(64, rng), [64, 28, 28]));
  await Deno.writeFile(`${root}/mnist/train-labels-idx1-ubyte`, idx(labels(64), [64]));
  await Deno.writeFile(`${root}/mnist/t10k-images-idx3-ubyte`, idx(blobs(40, rng), [40, 28, 28]));
  await Deno.writeFile(`${root}/mnist/t10k-labels-idx1-ubyte`, idx(labels(40), [40]));
  // notMNIST stand-in: bright bars, 30 of them (more than --n_eval, so it is subsampled).
  const bars = new Uint8Array(30 * 784);
  for (let k = 0; k < 30; k++) {
    for (let i = 4; i < 24; i++) bars[k * 784 + i * 28 + 6 + (k % 16)] = 255;
  }
  await Deno.writeFile(
    `${root}/notmnist/notmnist_test_images.npy`,
    encodeNpy(bars, [30, 28, 28, 1]),
  );
  await Deno.writeFile(
    `${root}/notmnist/notmnist_test_labels.npy`,
    encodeNpy(labels(30), [30]),
  );
  // fashion_mnist and omniglot are absent: eval must list them as missing.
  await Deno.writeFile(`${root}/letters.npy`, encodeNpy(blobs(10, rng), [10, 28, 28]));
  await Deno.writeFile(`${root}/bad.npy`, encodeNpy(new Uint8Array(5 * 100), [5, 10, 10]));
}

async function evalCli(
  root: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", EVAL, "--model_dir", `${root}/run`, "--backend", "cpu", ...args],
    env: {
      GENSEMBLE_DATA_DIR: root,
      GENSEMBLE_CACHE_DIR: `${root}/cache`,
      GENSEMBLE_OFFLINE: "1",
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "piped",
  });
  const out = await cmd.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function readResults(root: string): Promise<EvalResults> {
  return JSON.parse(await Deno.readTextFile(`${root}/run/eval/results.json`));
}

/** results.json without the one field allowed to differ between identical runs. */
function withoutTiming(r: EvalResults): EvalResults {
  const { timing: _timing, ...rest } = r;
  return rest as EvalResults;
}

Deno.test("eval.ts trains, scores the suite, caches, and is deterministic", async () => {
  const root = await Deno.makeTempDir({ prefix: "gensemble_eval_" });
  try {
    await makeData(root);
    const common = ["--preset", "smoke", "--n_eval", "24", "--bootstrap", "4"];
    // 1. Train 2 smoke members, then evaluate with 2 score workers and a user OoD set.
    const first = await evalCli(root, [
      ...common,
      "--workers",
      "2",
      "--ood",
      `letters=${root}/letters.npy`,
    ]);
    assert.equal(first.code, 0, first.stderr);
    const r = await readResults(root);

    // Schema and values.
    assert.equal(r.dataset, "mnist");
    assert.equal(r.model, "vae");
    assert.equal(r.preset, "smoke");
    assert.equal(r.backend, "cpu");
    assert.equal(r.members, 2);
    assert.deepEqual(r.memberIndices, [0, 1]);
    assert.deepEqual(r.missing, ["fashion_mnist", "omniglot"]);
    assert.match(r.missingReasons.fashion_mnist, /not found/);
    const expectedSets = [
      "notmnist",
      "hflip",
      "vflip",
      "uniform_noise",
      "normal_noise",
      "adv_normal_noise",
      "adv_uniform_noise",
      "letters",
    ];
    assert.deepEqual(r.nPerSet, {
      mnist: 24,
      notmnist: 24,
      hflip: 24,
      vflip: 24,
      uniform_noise: 24,
      normal_noise: 24,
      adv_normal_noise: 24,
      adv_uniform_noise: 24,
      letters: 10,
    });
    assert.deepEqual(r.scores, ["single", "mean", "var", "waic", "rate"]);
    assert.equal(r.rows.length, expectedSets.length * r.scores.length);
    for (const set of expectedSets) {
      for (const score of r.scores) {
        const row = r.rows.find((x) => x.ood === set && x.score === score);
        assert.ok(row, `row ${set} × ${score}`);
        for (const key of ["auroc", "auprIn", "auprOut", "fpr95"] as const) {
          assert.ok(row[key] >= 0 && row[key] <= 1, `${set} ${score} ${key} = ${row[key]}`);
        }
        assert.ok(row.aurocStd >= 0 && row.aurocStd <= 0.5);
        if (score === "single") assert.equal(row.aurocStd, 0); // always member 0
      }
    }
    assert.match(first.stdout, /AUROC/);
    assert.match(first.stdout, /Missing OoD sets.*fashion_mnist/);
    const md = await Deno.readTextFile(`${root}/run/eval/results.md`);
    assert.match(md, /\| adv_uniform_noise \|/);
    assert.equal(r.timing?.cacheHits, 0);
    assert.equal(r.timing?.cacheMisses, 2 * 9);

    // 2. The second eval computes nothing: every member's scores come from the cache.
    const second = await evalCli(root, [
      ...common,
      "--skip_train",
      "--ood",
      `letters=${root}/letters.npy`,
    ]);
    assert.equal(second.code, 0, second.stderr);
    const r2 = await readResults(root);
    assert.equal(r2.timing?.cacheMisses, 0);
    assert.equal(r2.timing?.cacheHits, 2 * 9);
    assert.deepEqual(withoutTiming(r2), withoutTiming(r));

    // 3. Recomputed from scratch in this thread (no workers): the same results.
    for (const m of [0, 1]) {
      await Deno.remove(`${root}/run/member-${m}/scores`, { recursive: true });
    }
    const third = await evalCli(root, [
      ...common,
      "--skip_train",
      "--workers",
      "1",
      "--ood",
      `letters=${root}/letters.npy`,
    ]);
    assert.equal(third.code, 0, third.stderr);
    const r3 = await readResults(root);
    assert.equal(r3.timing?.cacheMisses, 2 * 9);
    assert.deepEqual(withoutTiming(r3), withoutTiming(r));

    // 4. A user OoD file of the wrong shape: one line naming the file and the problem.
    const bad = await evalCli(root, [...common, "--skip_train", "--ood", `bad=${root}/bad.npy`]);
    assert.equal(bad.code, 1);
    const lines = bad.stderr.trim().split("\n");
    const last = lines.at(-1)!;
    assert.match(last, /^error: .*bad\.npy.*\[10, 10\].*\[28, 28, 1\]/);
    assert.ok(!/ at .*\.ts:\d+/.test(bad.stderr), "no stack trace");
    const missingFile = await evalCli(root, [...common, "--skip_train", "--ood", "x=nope.npy"]);
    assert.equal(missingFile.code, 1);
    assert.match(missingFile.stderr.trim().split("\n").at(-1)!, /^error: nope\.npy: not found/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("OoD suite names follow DESIGN.md's table", () => {
  assert.deepEqual(OOD_SUITES.mnist, [
    "fashion_mnist",
    "omniglot",
    "notmnist",
    "hflip",
    "vflip",
    "uniform_noise",
    "normal_noise",
    "adv_normal_noise",
    "adv_uniform_noise",
  ]);
  assert.equal(OOD_SUITES.fashion_mnist[0], "mnist");
  assert.deepEqual(OOD_SUITES.cifar10.slice(0, 3), ["svhn", "celeba", "imagenet32"]);
  assert.deepEqual(OOD_SUITES.creditcard, ["creditcard_fraud", "uniform_noise", "normal_noise"]);
  assert.deepEqual(oodSuiteNames("my_images", [32, 32, 3]).slice(0, 2), ["hflip", "vflip"]);
  assert.throws(() => oodSuiteNames("my_table", [7]), /No OoD suite/);
});

Deno.test("--ood values are parsed strictly", () => {
  assert.deepEqual(parseUserOod(["a=x.npy", "b.c=dir/y=z.csv"]), [
    { name: "a", path: "x.npy" },
    { name: "b.c", path: "dir/y=z.csv" },
  ]);
  assert.throws(() => parseUserOod(["x.npy"]), /name=path/);
  assert.throws(() => parseUserOod(["../a=x.npy"]), /letters, digits/);
  assert.throws(() => parseUserOod(["a=x", "a=y"]), /twice/);
});

Deno.test("subsetRows picks a seeded subset in file order", () => {
  const ds = {
    name: "t",
    x: Float32Array.from({ length: 20 }, (_, i) => i), // 10 rows of 2
    shape: [10, 2],
    labels: Int32Array.from({ length: 10 }, (_, i) => i),
  };
  const a = subsetRows(ds, 4, 3);
  const b = subsetRows(ds, 4, 3);
  assert.deepEqual(a, b);
  assert.deepEqual(a.shape, [4, 2]);
  const rows = Array.from(a.labels!);
  assert.deepEqual(rows, [...rows].sort((p, q) => p - q));
  assert.equal(new Set(rows).size, 4);
  rows.forEach((r, i) =>
    assert.deepEqual(Array.from(a.x.subarray(2 * i, 2 * i + 2)), [2 * r, 2 * r + 1])
  );
  assert.equal(subsetRows(ds, null, 0), ds);
  assert.equal(subsetRows(ds, 10, 0), ds);
});

Deno.test("eval.ts --model wgan: critic logits through the same suite; its config is fixed", async () => {
  const root = await Deno.makeTempDir({ prefix: "gensemble_eval_wgan_" });
  try {
    await makeData(root);
    const common = ["--model", "wgan", "--preset", "smoke", "--n_eval", "16", "--bootstrap", "3"];
    const run = await evalCli(root, [...common, "--max_steps", "3", "--extra_steps", "2"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /z 4, 3 generator iterations \+ 2 classifier steps, batch 8/);
    const r = await readResults(root);
    assert.equal(r.model, "wgan");
    assert.deepEqual(r.scores, ["single", "mean", "var", "waic"]); // no rate for a critic
    assert.match(r.presetSummary ?? "", /tiny critic/); // the WGAN preset text, not the VAE one
    // 3 generator iterations + 2 classifier steps per member.
    assert.equal(r.trainedWith?.maxSteps, 5);
    for (const m of [0, 1]) {
      const log = (await Deno.readTextFile(`${root}/run/member-${m}/train_log.jsonl`)).trim();
      const last = JSON.parse(log.split("\n").at(-1)!);
      assert.equal(last.step, 5);
      assert.equal(last.lr, 5e-5); // constant, as the reference's optimizers (no cosine decay)
    }
    for (const row of r.rows) assert.ok(row.auroc >= 0 && row.auroc <= 1, JSON.stringify(row));
    assert.equal(r.nPerSet.adv_uniform_noise, 16);
    const md = await Deno.readTextFile(`${root}/run/eval/results.md`);
    assert.match(md, /single = −D of member 0 \(D: the critic's logit\)/);
    assert.match(md, /Flags over the preset: maxSteps 3, extraSteps 2\./);
    assert.doesNotMatch(md, /K = \d/); // a critic has no posterior samples
    // Moving a trained WGAN's step count would put generator steps after classifier steps.
    const more = await evalCli(root, [...common, "--max_steps", "4", "--extra_steps", "2"]);
    assert.equal(more.code, 1);
    assert.match(more.stderr, /maxSteps 5 → 6.*--fresh/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
