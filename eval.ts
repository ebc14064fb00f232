/**
 * Train (unless --skip_train) and evaluate a generative ensemble on its OoD suite, as the
 * reference's `vae_run.py --train_dataset=mnist` did. Progress goes to stderr; the results
 * table to stdout; `<model_dir>/eval/results.json` and `results.md` are written.
 *
 *   deno run -A eval.ts --skip_train                      # evaluate runs/mnist-vae
 *   deno run -A eval.ts --train_dataset fashion_mnist     # train, then evaluate
 *   deno run -A eval.ts --skip_train --ood letters=letters.npy
 */
import { GensembleError, runCli } from "./core/errors.ts";
import { BACKEND_NAMES, type BackendName } from "./core/backend.ts";
import { type CommandSpec, parseCliOrHelp, type ParsedCli } from "./tasks/cli_flags.ts";
import { evaluateRun } from "./tasks/evaluate.ts";
import { formatResultsText } from "./tasks/results_table.ts";
import { PRESET_NAMES } from "./tasks/presets.ts";
import { ADVERSARIAL_RECIPES, type AdversarialRecipe } from "./data/adversarial.ts";
import { defaultModelDir } from "./tasks/run_config.ts";
import { summaryTable, trainEnsemble, trainOptionsFromArgs } from "./tasks/train.ts";

/** Flags eval reads itself; any other flag is passed to training (tasks/train.ts). */
const EVAL_FLAGS: CommandSpec["flags"] = {
  train_dataset: {
    type: "string",
    default: "mnist",
    placeholder: "NAME",
    help: "Dataset the ensemble is (or was) trained on: mnist, fashion_mnist, cifar10, creditcard.",
  },
  model: { type: "string", default: "vae", placeholder: "vae|wgan", help: "Member model." },
  model_dir: {
    type: "string",
    placeholder: "DIR",
    defaultText: "runs/<train_dataset>-<model>",
    help: "Run directory (config.json, member-<i>/, eval/).",
  },
  skip_train: { type: "boolean", help: "Evaluate the members that exist; do not train first." },
  ood: {
    type: "string",
    multiple: true,
    placeholder: "NAME=PATH",
    help: "An extra OoD set from a .npy, IDX or .csv file (optionally .gz).",
  },
  n_eval: {
    type: "int",
    min: 0,
    defaultText: "preset: default 2000, paper 10000; 0 = all",
    help: "Inputs per set (smaller sets are used whole).",
  },
  bootstrap: {
    type: "int",
    min: 0,
    default: 10,
    help: "Bootstrap resamples of the members (0 = none).",
  },
  workers: {
    type: "int",
    min: 1,
    defaultText: "min(M, cores)",
    help: "Parallel Deno Workers for training and scoring; 1 = in this process.",
  },
  adv_recipe: {
    type: "string",
    choices: ADVERSARIAL_RECIPES,
    default: "fgsm",
    help: "Adversarial noise: fgsm = clip(noise − 0.3·sign(∇ at the noise), 0, 1); reference = " +
      "the paper code's noise − 0.3·sign(∇ at the test inputs), unclipped.",
  },
  eval_batch: { type: "int", min: 1, default: 500, help: "Inputs per scoring batch." },
  backend: {
    type: "string",
    choices: BACKEND_NAMES,
    default: "auto",
    help: "tfjs backend (auto = webgpu on a hardware GPU, else wasm).",
  },
  preset: {
    type: "string",
    choices: PRESET_NAMES,
    defaultText: "the run's preset, else default",
    help: "Hyperparameter preset (training) and eval sizes; default is sized for a 2-core CPU.",
  },
  data_dir: {
    type: "string",
    placeholder: "DIR",
    help: "Look for datasets here first (then $GENSEMBLE_DATA_DIR, then the cache).",
  },
  seed: {
    type: "int",
    defaultText: "the run's seed (0)",
    help: "Seed of noise sets and the bootstrap.",
  },
};

const SPEC: CommandSpec = {
  usage: "deno run -A eval.ts [--train_dataset mnist] [--skip_train] [flags]",
  description:
    "Train a generative ensemble (unless --skip_train), score its OoD suite with every " +
    "member (cached per member in the run dir), and report AUROC, AUPR-In, AUPR-Out and FPR@95 " +
    "for single, mean, var, waic and rate, with a bootstrap over members.",
  flags: EVAL_FLAGS,
  epilog: "Without --skip_train, other flags (--max_steps, --num_models, --workers, ...) go to " +
    "training: see deno task train --help.",
};

/** Split argv into eval's own flags and the rest (passed to training). */
function splitArgs(args: string[]): { own: string[]; rest: string[] } {
  const own: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const name = a.startsWith("--") ? a.slice(2).split("=")[0].replaceAll("-", "_") : "";
    const spec = EVAL_FLAGS[name];
    const target = name && !spec && a !== "--help" ? rest : own;
    target.push(a);
    const takesValue = !a.includes("=") && a.startsWith("--") &&
      (spec ? spec.type !== "boolean" : i + 1 < args.length && !args[i + 1].startsWith("--"));
    if (takesValue && i + 1 < args.length) target.push(args[++i]);
  }
  return { own, rest };
}

/** Train first, through the training task's own flag parsing, with eval's shared flags. */
async function train(cli: ParsedCli, modelDir: string, rest: string[]): Promise<number> {
  const args = [
    cli.string("train_dataset")!,
    "--model_dir",
    modelDir,
    "--model",
    cli.string("model")!,
  ];
  for (const f of ["backend", "preset", "data_dir"]) {
    if (cli.given(f)) args.push(`--${f}`, cli.string(f)!);
  }
  for (const f of ["seed", "workers"]) {
    if (cli.given(f)) args.push(`--${f}`, String(cli.int(f)));
  }
  args.push(...rest);
  const options = trainOptionsFromArgs(args);
  if (!options) throw new GensembleError("--help is handled by eval.ts itself");
  console.error(`eval: training first (deno task train ${args.join(" ")})`);
  const t0 = performance.now();
  const result = await trainEnsemble(options);
  console.error(summaryTable(result.members));
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const { own, rest } = splitArgs(Deno.args);
  const cli = parseCliOrHelp(own, SPEC);
  if (!cli) return;
  const dataset = cli.string("train_dataset")!;
  const model = cli.string("model")!;
  const modelDir = cli.string("model_dir") ?? defaultModelDir(dataset, model);
  let trainSeconds: number | undefined;
  if (!cli.bool("skip_train")) {
    trainSeconds = await train(cli, modelDir, rest);
  } else if (rest.length > 0) {
    // A flag neither eval nor training knows (a typo) is an error; training flags are ignored.
    trainOptionsFromArgs([dataset, ...rest]);
    const flags = rest.filter((a) => a.startsWith("--")).join(" ");
    console.error(`warning: training flags ignored with --skip_train: ${flags}`);
  }
  const results = await evaluateRun({
    modelDir,
    // Checked against the run's config.json only when given: --model_dir alone is enough.
    trainDataset: cli.given("train_dataset") ? dataset : undefined,
    model: cli.given("model") ? model : undefined,
    backend: cli.string("backend") as BackendName,
    preset: cli.string("preset"),
    dataDir: cli.string("data_dir"),
    seed: cli.int("seed"),
    nEval: cli.given("n_eval") ? cli.int("n_eval") : undefined,
    bootstrap: cli.int("bootstrap"),
    batchSize: cli.int("eval_batch"),
    advRecipe: cli.string("adv_recipe") as AdversarialRecipe,
    workers: cli.int("workers"),
    extraTiming: trainSeconds === undefined
      ? undefined
      : { trainSeconds: Math.round(trainSeconds) },
    ood: cli.list("ood"),
  });
  console.log(formatResultsText(results));
  const t = results.timing ?? {};
  console.error(
    `eval: ${t.totalSeconds} s (scoring ${t.scoringSeconds} s, ${t.cacheHits} cached / ` +
      `${t.cacheMisses} computed member scores)` +
      (trainSeconds !== undefined ? `; training ${trainSeconds.toFixed(0)} s` : "") +
      `; wrote ${modelDir}/eval/results.json and results.md`,
  );
}

if (import.meta.main) await runCli(main);
