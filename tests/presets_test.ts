/**
 * Presets, run config and flag parsing: the paper preset is the reference, flags override
 * presets, resuming checks the right fields, and bad flags give one-line user errors.
 */
import assert from "node:assert/strict";
import { GensembleError } from "../core/errors.ts";
import { getPreset, PRESET_NAMES, resolveMemberConfig } from "../tasks/presets.ts";
import {
  defaultModelDir,
  incompatibilities,
  memberConfig,
  type RunConfig,
  runPaths,
} from "../tasks/run_config.ts";
import { type CommandSpec, helpText, parseCli } from "../tasks/cli_flags.ts";
import { BatchOrder, gatherRows } from "../tasks/train_loop.ts";

Deno.test("paper preset is the reference's hyperparameters", () => {
  const p = getPreset("paper");
  assert.equal(p.numModels, 5);
  assert.deepEqual(
    {
      arch: p.member.arch,
      maxSteps: p.member.maxSteps,
      batchSize: p.member.batchSize,
      nSamples: p.member.nSamples,
      baseDepth: p.member.baseDepth,
      latentSize: p.member.latentSize,
      nFlows: p.member.nFlows,
      flowHidden: p.member.flowHidden,
      learningRate: p.member.learningRate,
      beta: p.member.beta,
    },
    {
      arch: "conv",
      maxSteps: 5001,
      batchSize: 32,
      nSamples: 16,
      baseDepth: 32,
      latentSize: 16,
      nFlows: 6,
      flowHidden: [512, 512],
      learningRate: 1e-3,
      beta: 1,
    },
  );
  assert.equal(p.eval.nSamples, 16);
});

Deno.test("default preset keeps the method and says what it reduced", () => {
  const d = getPreset("default");
  const paper = getPreset("paper");
  assert.deepEqual(PRESET_NAMES.slice(0, 2), ["default", "paper"]);
  // Same model family and optimizer as the paper: latent, prior depth, batch, lr, 5 members.
  assert.equal(d.numModels, 5);
  for (const k of ["latentSize", "nFlows", "batchSize", "learningRate", "beta"] as const) {
    assert.deepEqual(d.member[k], paper.member[k], k);
  }
  assert.equal(d.member.arch, "dense");
  assert.ok(d.member.maxSteps < paper.member.maxSteps);
  assert.equal(d.eval.nSamples, 16, "scoring always uses K = 16");
  assert.match(d.summary, /2-core CPU/);
});

Deno.test("resolveMemberConfig: flags override the preset, data kind picks the arch", () => {
  const img = resolveMemberConfig({
    preset: "paper",
    model: "vae",
    inputShape: [28, 28, 1],
    overrides: { latentSize: 8, maxSteps: undefined },
  });
  assert.equal(img.arch, "conv");
  assert.equal(img.latentSize, 8);
  assert.equal(img.maxSteps, 5001, "undefined overrides are ignored");
  assert.deepEqual(img.inputShape, [28, 28, 1]);

  const tab = resolveMemberConfig({ preset: "paper", model: "vae", inputShape: [30] });
  assert.equal(tab.arch, "dense");
  assert.throws(
    () =>
      resolveMemberConfig({
        preset: "paper",
        model: "vae",
        inputShape: [30],
        overrides: { arch: "conv" },
      }),
    (e: Error) => e instanceof GensembleError && /use --arch dense/.test(e.message),
  );
  assert.throws(() => getPreset("fast"), GensembleError);
});

function runConfig(member: Partial<RunConfig["member"]> = {}, seed = 0): RunConfig {
  return {
    dataset: "mnist",
    model: "vae",
    preset: "smoke",
    presetValues: {},
    overrides: {},
    numModels: 2,
    seed,
    member: {
      ...resolveMemberConfig({ preset: "smoke", model: "vae", inputShape: [28, 28, 1] }),
      ...member,
    },
    saveSteps: 2,
    backend: "wasm",
    dataDir: null,
    eval: { maxPerSet: 64, nSamples: 4 },
    createdAt: "",
    updatedAt: "",
    gensembleVersion: "0",
  };
}

Deno.test("run config: paths, member seeds and what blocks a resume", () => {
  assert.equal(defaultModelDir("mnist", "vae"), "runs/mnist-vae");
  assert.equal(defaultModelDir("data/my.table.csv.gz", "vae"), "runs/my.table-vae");
  const p = runPaths("runs/x/");
  assert.equal(p.checkpoint(3), "runs/x/member-3/model.json");
  assert.equal(p.trainLog(0), "runs/x/member-0/train_log.jsonl");
  assert.equal(p.config, "runs/x/config.json");

  const base = runConfig();
  assert.equal(memberConfig(runConfig({}, 10), 3).seed, 13);
  assert.deepEqual(incompatibilities(base, runConfig({ maxSteps: 99 })), []);
  assert.deepEqual(incompatibilities(base, runConfig({ latentSize: 3 })), ["latentSize 2 → 3"]);
  assert.deepEqual(incompatibilities(base, runConfig({}, 1)), ["seed 0 → 1"]);
  assert.deepEqual(incompatibilities(base, runConfig({ flowHidden: [8, 4] })), [
    "flowHidden [8,8] → [8,4]",
  ]);
});

const SPEC: CommandSpec = {
  usage: "demo <name> [flags]",
  description: "A demo command.",
  positionals: { names: "<name>", min: 1, max: 1 },
  flags: {
    max_steps: { type: "int", min: 1, help: "Steps." },
    learning_rate: { type: "number", default: 0.001, help: "Rate." },
    hidden: { type: "int_list", min: 1, help: "Sizes." },
    arch: { type: "string", choices: ["conv", "dense"], help: "Arch." },
    ood: { type: "string", multiple: true, help: "Sets." },
    fresh: { type: "boolean", help: "Start over." },
  },
};

function userError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof GensembleError, `not a GensembleError: ${e}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes("\n"), "one line");
    return true;
  });
}

Deno.test("parseCli: values, defaults, lists, dashes and repeats", () => {
  const cli = parseCli(
    ["mnist", "--max-steps", "7", "--hidden=64,32", "--ood", "a=x", "--ood", "b=y", "--fresh"],
    SPEC,
  );
  assert.deepEqual(cli.positionals, ["mnist"]);
  assert.equal(cli.int("max_steps"), 7);
  assert.deepEqual(cli.intList("hidden"), [64, 32]);
  assert.deepEqual(cli.list("ood"), ["a=x", "b=y"]);
  assert.equal(cli.bool("fresh"), true);
  assert.equal(cli.number("learning_rate"), 0.001, "default applies");
  assert.equal(cli.given("learning_rate"), false);
  assert.equal(cli.string("arch"), undefined);
  assert.equal(parseCli(["x", "--bogus", "--help"], SPEC).help, true);
});

Deno.test("parseCli: bad input is a one-line user error", () => {
  userError(
    () => parseCli(["m", "--max_step", "3"], SPEC),
    /Unknown flag --max_step .*--max_steps/,
  );
  userError(() => parseCli(["m", "--max_steps", "x"], SPEC), /expects an integer, got "x"/);
  userError(() => parseCli(["m", "--max_steps", "0"], SPEC), /at least 1/);
  userError(() => parseCli(["m", "--max_steps"], SPEC), /needs a value/);
  userError(() => parseCli(["m", "--max_steps", "--fresh"], SPEC), /needs a value/);
  userError(() => parseCli(["m", "--arch", "rnn"], SPEC), /one of conv, dense/);
  userError(() => parseCli(["m", "--fresh=yes"], SPEC), /takes no value/);
  userError(() => parseCli(["m", "--hidden", "4,a"], SPEC), /expects an integer/);
  userError(() => parseCli([], SPEC), /Missing argument <name>/);
  userError(() => parseCli(["a", "b"], SPEC), /Unexpected argument "b"/);
});

Deno.test("helpText lists every flag with its default", () => {
  const text = helpText(SPEC);
  assert.match(text, /^Usage: demo <name> \[flags\]/);
  for (const name of Object.keys(SPEC.flags)) assert.match(text, new RegExp(`--${name}\\b`));
  assert.match(text, /Rate\. \(default: 0\.001\)/);
  assert.match(text, /--arch conv\|dense/);
});

Deno.test("BatchOrder: epoch permutations, seeded, resumable at any step", () => {
  const order = new BatchOrder(5, 10, 3); // 3 steps per epoch, 1 example dropped per epoch
  assert.equal(order.stepsPerEpoch, 3);
  const epoch0 = [0, 1, 2].flatMap((s) => [...order.indices(s)]);
  assert.equal(new Set(epoch0).size, 9, "no example twice in an epoch");
  assert.ok(epoch0.every((i) => i >= 0 && i < 10));
  const epoch1 = [3, 4, 5].flatMap((s) => [...order.indices(s)]);
  assert.notDeepEqual(epoch1, epoch0, "each epoch is reshuffled");
  // A fresh object (a resumed run) gives the same batch for the same step.
  assert.deepEqual([...new BatchOrder(5, 10, 3).indices(4)], [...order.indices(4)]);
  assert.notDeepEqual([...new BatchOrder(6, 10, 3).indices(0)], [...order.indices(0)]);
  assert.throws(() => new BatchOrder(0, 2, 3), GensembleError);

  const rows = gatherRows(new Float32Array([0, 1, 10, 11, 20, 21]), 2, new Int32Array([2, 0]));
  assert.deepEqual([...rows], [20, 21, 0, 1]);
});

Deno.test("progress: durations and the summary table", async () => {
  const { formatDuration, summaryTable } = await import("../tasks/train_progress.ts");
  assert.deepEqual([42, 185, 4800, NaN].map(formatDuration), ["42s", "3m05s", "1h20m", "?"]);
  const table = summaryTable([
    {
      member: 0,
      seed: 7,
      status: "resumed",
      startStep: 250,
      endStep: 1500,
      maxSteps: 1500,
      loss: 101.234,
      rate: 20,
      distortion: 81.234,
      examplesPerSec: 250.4,
      seconds: 125,
    },
    {
      member: 1,
      seed: 8,
      status: "complete",
      startStep: 1500,
      endStep: 1500,
      maxSteps: 1500,
      loss: null,
      rate: null,
      distortion: null,
      examplesPerSec: null,
      seconds: 0.2,
    },
  ]).split("\n");
  assert.match(table[0], /^member +seed +status +steps +loss +rate +distortion +ex\/s +time$/);
  assert.match(table[2], /^0 +7 +resumed +250→1500\/1500 +101\.23 +20\.00 +81\.23 +250 +2m05s$/);
  assert.match(table[3], /^1 +8 +complete +1500→1500\/1500 +- +- +- +- +0s$/);
});
