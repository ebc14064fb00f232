/**
 * The train task end to end on a tiny MNIST-format dataset (IDX .gz files generated into a temp
 * --data_dir) with the smoke preset's tiny networks: config.json, checkpoints and logs; resume
 * continues the log and equals an uninterrupted run; --fresh; --member; determinism; workers
 * equal in-process training; one-line errors for bad flags and changed configs; SIGINT.
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { tf } from "../deps.ts";
import { initBackend } from "../core/backend.ts";
import { GensembleError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import type { Member, MemberConfig } from "../models/member.ts";
import { createMember } from "../tasks/member_factory.ts";
import { trainEnsemble, type TrainOptions } from "../tasks/train.ts";
import { readTrainLog, trainMember } from "../tasks/train_loop.ts";
import { readRunConfig } from "../tasks/run_config.ts";
import { checkpointWeightsPath } from "../models/checkpoint.ts";

await initBackend("wasm", { quiet: true });

const N = 64; // 8 steps per epoch at the smoke batch size 8

function idx(dims: number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return gzipSync(out);
}

/** A temp data dir with `mnist/train-{images,labels}` in the real IDX .gz format. */
async function tinyMnist(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "gensemble_train_" });
  const rng = new Rng(42);
  const pixels = new Uint8Array(N * 28 * 28);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.uniform() < 0.2 ? rng.int(256) : 0;
  const labels = Uint8Array.from({ length: N }, (_, i) => i % 10);
  await Deno.mkdir(`${root}/mnist`);
  await Deno.writeFile(`${root}/mnist/train-images-idx3-ubyte.gz`, idx([N, 28, 28], pixels));
  await Deno.writeFile(`${root}/mnist/train-labels-idx1-ubyte.gz`, idx([N], labels));
  return root;
}

const dataDir = await tinyMnist();
globalThis.addEventListener("unload", () => Deno.removeSync(dataDir, { recursive: true }));
let runCounter = 0;
const newRunDir = () => `${dataDir}/run-${runCounter++}`;

function options(modelDir: string, extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    dataset: "mnist",
    preset: "smoke",
    modelDir,
    dataDir,
    backend: "wasm",
    workers: 1,
    progressEverySec: 0,
    logSteps: 2,
    saveSteps: 2,
    ...extra,
    overrides: { maxSteps: 4, ...extra.overrides },
  };
}

async function checkpointStep(memberDir: string): Promise<number> {
  const json = JSON.parse(await Deno.readTextFile(`${memberDir}/model.json`));
  return json.userDefinedMetadata.step;
}

const weights = async (memberDir: string) => Deno.readFile(await checkpointWeightsPath(memberDir));
const logSteps = async (memberDir: string) =>
  (await readTrainLog(`${memberDir}/train_log.jsonl`)).map((l) => l.step);

Deno.test("train: config.json, checkpoints and logs of every member", async () => {
  const dir = newRunDir();
  const result = await trainEnsemble(options(dir));
  assert.deepEqual(result.members.map((m) => [m.member, m.seed, m.status, m.endStep]), [
    [0, 0, "trained", 4],
    [1, 1, "trained", 4],
  ]);
  const config = await readRunConfig(dir);
  assert.ok(config);
  assert.equal(config.dataset, "mnist");
  assert.equal(config.model, "vae");
  assert.equal(config.preset, "smoke");
  assert.equal(config.numModels, 2);
  assert.equal(config.seed, 0);
  assert.equal(config.backend, "wasm");
  assert.deepEqual(config.overrides, { maxSteps: 4 });
  assert.equal(config.presetValues.maxSteps, 3, "the preset's own values are recorded");
  assert.deepEqual(config.member.inputShape, [28, 28, 1]);
  assert.equal(config.member.maxSteps, 4);
  assert.equal(config.member.latentSize, 2);
  assert.ok(!("seed" in config.member));
  for (const i of [0, 1]) {
    assert.equal(await checkpointStep(`${dir}/member-${i}`), 4);
    const log = await readTrainLog(`${dir}/member-${i}/train_log.jsonl`);
    assert.deepEqual(log.map((l) => l.step), [2, 4]);
    for (const line of log) {
      for (const key of ["loss", "rate", "distortion", "lr", "examplesPerSec"] as const) {
        assert.ok(Number.isFinite(line[key]), `${key} is finite`);
      }
      assert.ok(Math.abs(line.loss - (line.rate + line.distortion)) < 1e-3 * line.loss, "β = 1");
      assert.ok(!Number.isNaN(Date.parse(line.time)));
    }
    // Cosine decay over 4 steps: the lr of step index 3 is lr0·½(1 + cos(3π/4)).
    assert.ok(Math.abs(log[1].lr - 1e-3 * 0.5 * (1 + Math.cos((3 * Math.PI) / 4))) < 1e-12);
  }
  assert.notDeepEqual(await weights(`${dir}/member-0`), await weights(`${dir}/member-1`));
});

Deno.test("train: rerun resumes (log continues), complete members are left alone", async () => {
  const dir = newRunDir();
  await trainEnsemble(options(dir, { numModels: 1 }));
  const longer = await trainEnsemble(options(dir, { numModels: 1, overrides: { maxSteps: 6 } }));
  assert.deepEqual(longer.members.map((m) => [m.status, m.startStep, m.endStep]), [
    ["resumed", 4, 6],
  ]);
  assert.deepEqual(await logSteps(`${dir}/member-0`), [2, 4, 6]);
  assert.equal(await checkpointStep(`${dir}/member-0`), 6);
  // A plain rerun keeps the run's settings (max_steps 6 is remembered) and trains nothing.
  const before = await weights(`${dir}/member-0`);
  const again = await trainEnsemble({
    dataset: "mnist",
    modelDir: dir,
    dataDir,
    workers: 1,
    progressEverySec: 0,
  });
  assert.deepEqual(again.members.map((m) => [m.status, m.endStep]), [["complete", 6]]);
  assert.deepEqual(await weights(`${dir}/member-0`), before);
});

Deno.test("train: a crash after a checkpoint resumes to the same weights as no crash", async () => {
  const straight = newRunDir();
  await trainEnsemble(options(straight, { numModels: 1, overrides: { maxSteps: 6 } }));

  const crashed = newRunDir();
  const config = (await readRunConfig(straight))!;
  const memberCfg: MemberConfig = { ...config.member, seed: 0 };
  const loadData = async () => {
    const { loadTrainData } = await import("../tasks/train_data.ts");
    return await loadTrainData("mnist", { dataDir, runDir: crashed });
  };
  const crashAt = (step: number) => async (c: MemberConfig): Promise<Member> => {
    const m = await createMember(c);
    const trainStep = m.trainStep.bind(m);
    m.trainStep = (batch: tf.Tensor, s: number) => {
      if (s === step) throw new Error("simulated crash");
      return trainStep(batch, s);
    };
    return m;
  };
  const memberDir = `${crashed}/member-0`;
  const common = { member: 0, config: memberCfg, memberDir, loadData, saveSteps: 2, logSteps: 1 };
  // Step index 4 fails after steps 1..4 were logged and step 4 was checkpointed; index 3 (the
  // 4th step) is logged but its checkpoint is step 4: the log is cut back to the checkpoint.
  await assert.rejects(trainMember({ ...common, create: crashAt(4) }), /simulated crash/);
  assert.deepEqual(await logSteps(memberDir), [1, 2, 3, 4]);
  await assert.rejects(trainMember({ ...common, create: crashAt(5) }), /simulated crash/);
  assert.deepEqual(await logSteps(memberDir), [1, 2, 3, 4, 5], "step 5 logged, not saved");
  const summary = await trainMember(common);
  assert.equal(summary.status, "resumed");
  assert.equal(summary.startStep, 4);
  assert.deepEqual(await logSteps(memberDir), [1, 2, 3, 4, 5, 6], "no step twice");
  assert.deepEqual(await weights(memberDir), await weights(`${straight}/member-0`));
});

Deno.test("train: --fresh starts over; a changed config is refused with advice", async () => {
  const dir = newRunDir();
  await trainEnsemble(options(dir, { numModels: 1 }));
  await assert.rejects(
    trainEnsemble(options(dir, { numModels: 1, overrides: { latentSize: 3 } })),
    (e: Error) =>
      e instanceof GensembleError && /latentSize 2 → 3/.test(e.message) &&
      /--fresh/.test(e.message) && /--model_dir/.test(e.message),
  );
  // An eval and a calibration of the old members are stale after --fresh.
  await Deno.mkdir(`${dir}/eval`);
  await Deno.writeTextFile(`${dir}/eval/results.json`, "{}");
  await Deno.writeTextFile(`${dir}/calibration.json`, "{}");
  const fresh = await trainEnsemble(
    options(dir, { numModels: 1, fresh: true, overrides: { latentSize: 3, maxSteps: 2 } }),
  );
  for (const stale of ["eval", "calibration.json"]) {
    await assert.rejects(Deno.stat(`${dir}/${stale}`), Deno.errors.NotFound, stale);
  }
  assert.deepEqual(fresh.members.map((m) => [m.status, m.startStep, m.endStep]), [
    ["trained", 0, 2],
  ]);
  assert.deepEqual(await logSteps(`${dir}/member-0`), [2]);
  assert.equal((await readRunConfig(dir))?.member.latentSize, 3);
});

Deno.test("train: --member 1 trains only member 1, with seed + 1", async () => {
  const dir = newRunDir();
  const result = await trainEnsemble(options(dir, { member: 1, seed: 10 }));
  assert.deepEqual(result.members.map((m) => [m.member, m.seed]), [[1, 11]]);
  const entries = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(entries, ["config.json", "member-1"]);
  await assert.rejects(trainEnsemble(options(dir, { member: 2 })), /out of range/);
});

Deno.test("train: same seed → same weights; workers equal in-process training", async () => {
  const a = newRunDir();
  const b = newRunDir();
  const w = newRunDir();
  await trainEnsemble(options(a));
  await trainEnsemble(options(b));
  const inWorkers = await trainEnsemble(options(w, { workers: 2 }));
  assert.deepEqual(inWorkers.members.map((m) => m.endStep), [4, 4]);
  for (const i of [0, 1]) {
    const wa = await weights(`${a}/member-${i}`);
    assert.deepEqual(await weights(`${b}/member-${i}`), wa, `member ${i}: rerun`);
    assert.deepEqual(await weights(`${w}/member-${i}`), wa, `member ${i}: workers`);
    assert.deepEqual(
      await Deno.readTextFile(`${w}/member-${i}/train_log.jsonl`).then((t) =>
        t.split("\n").filter(Boolean).map((l) => JSON.parse(l).loss)
      ),
      (await readTrainLog(`${a}/member-${i}/train_log.jsonl`)).map((l) => l.loss),
    );
  }
});

Deno.test("train loop does not leak tensors over 20 steps", async () => {
  const dir = newRunDir();
  const counts: number[] = [];
  const config = (await import("../tasks/presets.ts")).resolveMemberConfig({
    preset: "smoke",
    model: "vae",
    inputShape: [28, 28, 1],
    overrides: { maxSteps: 20 },
  });
  // What building and disposing a member alone leaves behind (the member's business, not the
  // loop's; 0 once every member disposes all it creates).
  let before = tf.memory().numTensors;
  (await createMember({ ...config, seed: 0 })).dispose();
  const memberResidue = tf.memory().numTensors - before;
  before = tf.memory().numTensors;
  await trainMember({
    member: 0,
    config: { ...config, seed: 0 },
    memberDir: `${dir}/member-0`,
    saveSteps: 5,
    loadData: async () =>
      (await import("../tasks/train_data.ts")).loadTrainData("mnist", { dataDir, runDir: dir }),
    progressEverySec: 0,
    onProgress: () => counts.push(tf.memory().numTensors),
  });
  assert.equal(counts.length, 20);
  assert.ok(counts.every((c) => c === counts[0]), `numTensors per step: ${counts}`);
  assert.equal(tf.memory().numTensors - before, memberResidue, "the member is disposed at the end");
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../tasks/train.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("train CLI: a run with 2 workers, the summary table, --help, one-line errors", async () => {
  const dir = newRunDir();
  const common = ["mnist", "--preset", "smoke", "--data_dir", dataDir, "--model_dir", dir];
  const run = await cli([...common, "--max_steps", "2", "--workers", "2", "--backend", "wasm"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /training 2 members of mnist-vae \(preset smoke/);
  assert.match(run.stderr, /with 2 workers/);
  assert.match(run.stderr, /member 1 +step 2\/2 +loss/);
  assert.match(run.stdout, /^member +seed +status/m);
  assert.match(run.stdout, /^0 +0 +trained +0→2\/2/m);
  assert.match(run.stdout, /2\/2 members complete/);

  const help = await cli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: deno task train <dataset>/);
  assert.match(help.stdout, /default: sized for a 2-core CPU/);
  for (const flag of ["model_dir", "num_models", "max_steps", "batch_size", "n_samples"]) {
    assert.match(help.stdout, new RegExp(`--${flag}`));
  }

  for (
    const [args, message] of [
      [["mnist", "--latent_sise", "3"], /^error: Unknown flag --latent_sise \(did you mean/],
      [["mnist", "--workers", "0"], /^error: Flag --workers must be at least 1/],
      [[...common, "--latent_size", "5"], /^error: .*config\.json: .*latentSize 2 → 5.*--fresh/],
    ] as const
  ) {
    const bad = await cli([...args]);
    assert.equal(bad.code, 1, bad.stderr);
    const lines = bad.stderr.split("\n").filter((l) => l.trim() && !l.startsWith("gensemble:"));
    assert.equal(lines.length, 1, bad.stderr);
    assert.match(lines[0], message);
    assert.doesNotMatch(bad.stderr, /\bat .*\.ts:\d+/, "no stack trace");
  }
});

Deno.test("train: an aborted run checkpoints where it stopped and resumes exactly", async () => {
  const straight = newRunDir();
  await trainEnsemble(options(straight, { numModels: 1, overrides: { maxSteps: 6 } }));
  const dir = newRunDir();
  const controller = new AbortController();
  const stopped = await trainEnsemble(
    options(dir, {
      numModels: 1,
      overrides: { maxSteps: 6 },
      logSteps: 5,
      signal: controller.signal,
      // The first report comes after step 1; the loop sees the abort after step 2.
      onProgress: () => controller.abort(),
    }),
  );
  assert.deepEqual(stopped.members.map((m) => [m.status, m.endStep]), [["interrupted", 2]]);
  assert.equal(await checkpointStep(`${dir}/member-0`), 2);
  assert.deepEqual(await logSteps(`${dir}/member-0`), [2], "the partial window is logged");
  const resumed = await trainEnsemble(
    options(dir, { numModels: 1, logSteps: 5, overrides: { maxSteps: 6 } }),
  );
  assert.deepEqual(resumed.members.map((m) => [m.status, m.startStep, m.endStep]), [
    ["resumed", 2, 6],
  ]);
  assert.deepEqual(await logSteps(`${dir}/member-0`), [2, 5, 6]);
  assert.deepEqual(await weights(`${dir}/member-0`), await weights(`${straight}/member-0`));
});

Deno.test("train CLI: Ctrl-C checkpoints every worker's member and a rerun resumes", async () => {
  const dir = newRunDir();
  const args = [
    "mnist",
    "--preset",
    "smoke",
    "--data_dir",
    dataDir,
    "--model_dir",
    dir,
    "--workers",
    "2",
    "--save_steps",
    "1000000",
    "--log_steps",
    "5",
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../tasks/train.ts", import.meta.url).pathname,
      ...args,
      "--max_steps",
      "100000",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Wait until both members are training (their first log lines), then interrupt.
  const deadline = Date.now() + 60_000;
  const started = async () =>
    (await logSteps(`${dir}/member-0`)).length > 0 &&
    (await logSteps(`${dir}/member-1`)).length > 0;
  while (Date.now() < deadline && !(await started().catch(() => false))) {
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGINT");
  const status = await child.output();
  const stderr = new TextDecoder().decode(status.stderr);
  assert.equal(status.code, 130, stderr);
  assert.match(stderr, /interrupting: saving a checkpoint/);
  assert.match(stderr, /interrupted: checkpoints are saved in .*run the same command again/);
  assert.match(new TextDecoder().decode(status.stdout), /^0 +0 +interrupted +0→\d+\/100000/m);
  // No periodic checkpoints (save_steps 1e6): the ones on disk were written on Ctrl-C.
  const saved = [await checkpointStep(`${dir}/member-0`), await checkpointStep(`${dir}/member-1`)];
  for (const [i, step] of saved.entries()) {
    assert.ok(step > 0, `member ${i} checkpointed at ${step}`);
    assert.equal((await logSteps(`${dir}/member-${i}`)).at(-1), step, "last log line = checkpoint");
  }
  // Resume both to a few steps past the later one; logs continue without repeating a step.
  const target = Math.max(...saved) + 3;
  const rerun = await cli([...args, "--max_steps", String(target)]);
  assert.equal(rerun.code, 0, rerun.stderr);
  for (const [i, step] of saved.entries()) {
    assert.match(
      rerun.stdout,
      new RegExp(`^${i} +${i} +resumed +${step}→${target}/${target}`, "m"),
    );
    const steps = await logSteps(`${dir}/member-${i}`);
    assert.ok(steps.every((s, j) => j === 0 || s > steps[j - 1]), `increasing: ${steps}`);
    assert.equal(steps.at(-1), target);
  }
});

Deno.test("train: a .csv dataset gets preprocess.json, tabular members and a calibration", async () => {
  const csv = `${dataDir}/rows.csv`;
  const rng = new Rng(3);
  const lines = ["a,b,c,label"];
  for (let i = 0; i < 200; i++) {
    lines.push(`${rng.uniform()},${10 * rng.uniform()},${rng.normal()},${i % 25 === 0 ? 1 : 0}`);
  }
  await Deno.writeTextFile(csv, lines.join("\n") + "\n");
  const dir = newRunDir();
  const result = await trainEnsemble({
    ...options(dir),
    dataset: csv,
    tabular: { calibrationShare: 0.2 },
  });
  assert.deepEqual(result.members.map((m) => m.endStep), [4, 4]);
  const config = (await readRunConfig(dir))!;
  assert.deepEqual(config.member.inputShape, [3], "features a, b, c; the label is not one");
  assert.equal(config.member.arch, "dense");
  assert.equal(config.member.scaleInput, false, "rows are min-max scaled, not mapped to [−1, 1]");
  const pre = JSON.parse(await Deno.readTextFile(`${dir}/preprocess.json`));
  assert.deepEqual(pre.featureNames, ["a", "b", "c"]);
  assert.ok(result.calibration, "every member complete → threshold calibrated");
  await Deno.stat(`${dir}/calibration.json`);
});
