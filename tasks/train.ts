/**
 * `deno task train <dataset>`: train an ensemble of M independent members (VAEs with a MAF prior,
 * or WGAN critics) on a dataset, the way the reference's `vae_run.py` did, into a run directory
 * (tasks/run_config.ts) that eval and score read.
 *
 * Members train in parallel Deno Workers on CPU (`--workers`, default min(M, cores)); each worker
 * initialises its own backend and loads the data itself. `--member i` trains only member i in this
 * process (for cluster schedulers). Re-running resumes every member from its last checkpoint;
 * `--fresh` starts over.
 *
 *   deno task train mnist                       # the default preset, sized for a 2-core CPU
 *   deno task train mnist --preset paper        # the reference's hyperparameters (for a GPU)
 *   deno task train fashion_mnist --member 3    # only member 3 (seed + 3)
 *
 * As a library: `trainEnsemble({ dataset: "mnist" })`.
 */
import { exists } from "../core/fs.ts";
import { type BackendName, initBackend } from "../core/backend.ts";
import { GensembleError, runCli } from "../core/errors.ts";
import { setCustomKernels } from "../kernels/ops.ts";
import type { MemberConfig } from "../models/member.ts";
import { type CommandSpec, helpText, parseCli } from "./cli_flags.ts";
import { memberModels } from "./member_factory.ts";
import {
  getPreset,
  type MemberOverrides,
  PRESET_NAMES,
  type PresetMemberValues,
  presetMemberValues,
  presetSummary,
  resolveMemberConfig,
} from "./presets.ts";
import {
  defaultModelDir,
  GENSEMBLE_VERSION,
  incompatibilities,
  listMemberDirs,
  memberConfig,
  readRunConfig,
  type RunConfig,
  runPaths,
  writeRunConfig,
} from "./run_config.ts";
import { loadTrainData, type TrainData } from "./train_data.ts";
import { type MemberProgress, type MemberSummary, trainMember } from "./train_loop.ts";
import { formatDuration, ProgressPrinter, summaryTable } from "./train_progress.ts";
import { type WganMemberConfig, wganSettings } from "../models/wgan.ts";
import {
  calibrateTabularRun,
  isTabularDataset,
  prepareTabularRun,
  resolveTabularDataset,
  TABULAR_TRAIN_FLAGS,
  tabularOptionsFromCli,
  type TabularTrainOptions,
} from "./tabular_train.ts";
import { PREPROCESS_FILE } from "./tabular_prep.ts";
import { CALIBRATION_FILE } from "./calibrate.ts";
import type { TrainJob, WorkerMessage } from "./train_worker.ts";

export { summaryTable };

/** Options of `trainEnsemble`; everything but `dataset` is optional. */
export interface TrainOptions {
  /** Registered dataset name (`mnist`) or a file the tabular loaders accept. */
  dataset: string;
  model?: MemberConfig["model"];
  /** Preset name; default: the run's existing preset, else "default". */
  preset?: string;
  /** Run directory; default `runs/<dataset>-<model>`. */
  modelDir?: string;
  numModels?: number;
  /** Run seed; member i uses seed + i. Default: the run's existing seed, else 0. */
  seed?: number;
  /** Member hyperparameters that override the preset (e.g. `{ latentSize: 8 }`). */
  overrides?: MemberOverrides;
  saveSteps?: number;
  /** Train only this member, in this process. */
  member?: number;
  /** Parallel workers; default min(members to train, cores). 1 trains in this process. */
  workers?: number;
  backend?: BackendName;
  /** Looked up before `$GENSEMBLE_DATA_DIR` and the cache. */
  dataDir?: string;
  /** Delete the members' checkpoints and logs (and, for a full run, config.json) first. */
  fresh?: boolean;
  /** Use the WGSL custom kernels on webgpu (default true). */
  customKernels?: boolean;
  /** Log means every this many steps (default 10). */
  logSteps?: number;
  /** Progress on stderr: at most one line per member every this many seconds (default 5; 0 = off). */
  progressEverySec?: number;
  /** Training examples already in memory (skips the data registry; sent to workers). */
  data?: TrainData;
  /** Tabular datasets (creditcard, a .csv): which rows are normal, held-out share, threshold. */
  tabular?: TabularTrainOptions;
  /**
   * Abort to stop early: every running member checkpoints the step it is at and returns
   * ("interrupted"); members not started yet are skipped. A rerun resumes them.
   */
  signal?: AbortSignal;
  /** Called with every progress report (in addition to, or with progressEverySec 0 instead of, stderr). */
  onProgress?: (progress: MemberProgress) => void;
}

/** What `trainEnsemble` did. */
export interface TrainResult {
  modelDir: string;
  config: RunConfig;
  /** One summary per member trained (or found complete) in this call, by member index. */
  members: MemberSummary[];
  seconds: number;
  /** Tabular runs: the anomaly threshold calibrated on held-out normal rows (calibration.json). */
  calibration?: unknown;
}

function runJob(
  worker: Worker,
  job: TrainJob,
  onProgress: (p: MemberProgress) => void,
): Promise<MemberSummary> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const msg = event.data;
      if (msg.type === "progress") onProgress(msg.progress);
      else if (msg.type === "done") resolve(msg.summary);
      else if (msg.userError) reject(new GensembleError(msg.message));
      else reject(Object.assign(new Error(msg.message), { stack: msg.stack }));
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      reject(new Error(`Training worker for member ${job.member} failed: ${event.message}`));
    };
    worker.postMessage(job);
  });
}

/** Train jobs on a pool of `n` workers; the first failure stops the pool and is rethrown. */
async function trainInWorkers(
  jobs: TrainJob[],
  n: number,
  onProgress: (p: MemberProgress) => void,
  signal?: AbortSignal,
): Promise<MemberSummary[]> {
  // One flag shared by all workers (they poll it after every step, without waiting for a message).
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  const queue = jobs.map((job) => ({ ...job, stopFlag }));
  const onAbort = () => {
    Atomics.store(stopFlag, 0, 1);
    queue.length = 0;
  };
  signal?.addEventListener("abort", onAbort);
  const results: MemberSummary[] = [];
  const workers: Worker[] = [];
  let failed = false;
  const slot = async () => {
    const worker = new Worker(new URL("./train_worker.ts", import.meta.url).href, {
      type: "module",
    });
    workers.push(worker);
    while (queue.length > 0 && !failed) {
      results.push(await runJob(worker, queue.shift()!, onProgress));
    }
  };
  try {
    await Promise.all(Array.from({ length: n }, slot));
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    for (const w of workers) w.terminate();
  }
  return results.sort((a, b) => a.member - b.member);
}

async function removeIfExists(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** Whether member dir `i` holds anything training wrote (a checkpoint or a log). */
async function hasTrainingState(dir: string, i: number): Promise<boolean> {
  const paths = runPaths(dir);
  for (const p of [paths.checkpoint(i), paths.trainLog(i)]) {
    try {
      await Deno.stat(p);
      return true;
    } catch {
      // absent
    }
  }
  return false;
}

/**
 * Train (or resume) an ensemble into a run directory and return per-member summaries.
 *
 * @example
 * ```ts
 * const { modelDir, members } = await trainEnsemble({ dataset: "mnist", numModels: 5 });
 * ```
 */
export async function trainEnsemble(options: TrainOptions): Promise<TrainResult> {
  const started = performance.now();
  const model = options.model ?? "vae";
  if (!memberModels().includes(model)) {
    throw new GensembleError(`Unknown model "${model}": use one of ${memberModels().join(", ")}`);
  }
  const modelDir = options.modelDir ?? defaultModelDir(options.dataset, model);
  const paths = runPaths(modelDir);
  const existing = options.fresh && options.member === undefined
    ? null
    : await readRunConfig(modelDir);
  // A rerun without flags continues the run on disk: its preset, seed, size and overrides.
  const presetName = options.preset ?? existing?.preset ?? "default";
  const preset = getPreset(presetName);
  const seed = options.seed ?? existing?.seed ?? 0;
  const numModels = options.numModels ?? existing?.numModels ?? preset.numModels;
  const saveSteps = options.saveSteps ?? existing?.saveSteps ?? preset.saveSteps;
  const sameBase = existing !== null && existing.preset === presetName;
  const overrides: MemberOverrides = {
    ...(sameBase ? existing.overrides as MemberOverrides : {}),
    ...Object.fromEntries(
      Object.entries(options.overrides ?? {}).filter(([, v]) => v !== undefined),
    ),
  };
  if (options.member !== undefined && (options.member < 0 || options.member >= numModels)) {
    throw new GensembleError(
      `--member ${options.member} is out of range: the run has ${numModels} members (0–${
        numModels - 1
      })`,
    );
  }

  const dataDir = options.dataDir ?? existing?.dataDir ?? null;
  const tabular = isTabularDataset(options.dataset) && !options.data;
  const wholeRunFresh = options.fresh && options.member === undefined;
  if (tabular && (wholeRunFresh || !(await exists(`${modelDir}/${PREPROCESS_FILE}`)))) {
    // Choose the normal rows, hold some out for calibration, fit the scaling: preprocess.json.
    await prepareTabularRun({
      dataset: options.dataset,
      runDir: modelDir,
      labelColumn: options.tabular?.labelColumn,
      normalValue: options.tabular?.normalValue,
      calibrationShare: options.tabular?.calibrationShare,
      seed,
      dataDir,
    });
  }
  // The data's example shape decides the member's input; a few rows are enough to learn it.
  const probe = options.data ??
    await loadTrainData(options.dataset, { dataDir, runDir: modelDir, limit: 64 });
  const inputShape = probe.shape.slice(1);
  const member = resolveMemberConfig({ preset: presetName, model, inputShape, overrides });

  const now = new Date().toISOString();
  const config: RunConfig = {
    dataset: options.dataset,
    model,
    preset: presetName,
    presetValues: {
      summary: presetSummary(preset, model),
      numModels: preset.numModels,
      saveSteps: preset.saveSteps,
      ...presetMemberValues(preset, model, inputShape),
    },
    overrides,
    numModels,
    seed,
    member,
    saveSteps,
    backend: options.backend ?? "auto", // replaced by the backend actually chosen, below
    dataDir,
    eval: inputShape.length === 1 ? (preset.tabularEval ?? preset.eval) : preset.eval,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    gensembleVersion: GENSEMBLE_VERSION,
  };

  const toTrain = options.member !== undefined
    ? [options.member]
    : Array.from({ length: numModels }, (_, i) => i);
  if (existing) {
    const others = (await listMemberDirs(modelDir)).filter((i) =>
      !options.fresh || !toTrain.includes(i)
    );
    let trained = false;
    for (const i of others) trained ||= await hasTrainingState(modelDir, i);
    const problems = incompatibilities(existing, config);
    if (trained && problems.length > 0) {
      throw new GensembleError(
        `${paths.config}: the run there was trained with a different configuration ` +
          `(${problems.join(", ")}); use --fresh to start over or --model_dir for a new run`,
      );
    }
  }
  if (options.fresh) {
    const doomed = options.member !== undefined ? toTrain : await listMemberDirs(modelDir);
    for (const i of doomed) await removeIfExists(paths.memberDir(i));
    if (options.member === undefined) await removeIfExists(paths.config);
    // Results and the threshold describe the old members: stale once any member starts over.
    await removeIfExists(paths.evalDir);
    await removeIfExists(`${modelDir}/${CALIBRATION_FILE}`);
  }
  const backendInfo = await initBackend(options.backend ?? "auto");
  setCustomKernels(options.customKernels ?? true);
  config.backend = backendInfo.backend;
  await writeRunConfig(modelDir, config);

  const workers = Math.max(
    1,
    Math.min(options.workers ?? navigator.hardwareConcurrency ?? 1, toTrain.length),
  );
  const progressEverySec = options.progressEverySec ?? 5;
  const printer = new ProgressPrinter(
    progressEverySec * 1000,
    toTrain.length * member.maxSteps,
    toTrain,
    member.maxSteps,
    workers,
  );
  const onProgress = (p: MemberProgress) => {
    printer.report(p);
    options.onProgress?.(p);
  };
  if (progressEverySec > 0) {
    const arch = member.arch === "conv"
      ? `conv (depth ${member.baseDepth})`
      : `dense ${JSON.stringify(member.denseHidden)}`;
    const extra = model === "wgan" ? wganSettings(member as WganMemberConfig).extraSteps : 0;
    const shape = model === "wgan"
      ? `z ${member.latentSize}, ${member.maxSteps - extra} generator iterations + ${extra} ` +
        "classifier steps"
      : `latent ${member.latentSize}, ${member.nFlows} flows ${
        JSON.stringify(member.flowHidden)
      }, ` +
        `K ${member.nSamples}, ${member.maxSteps} steps`;
    console.error(
      `gensemble: training ${
        toTrain.length === numModels ? `${numModels} members` : `member ${toTrain.join(", ")}`
      } of ${options.dataset}-${model} (preset ${presetName}: ${arch}, ${shape}, ` +
        `batch ${member.batchSize}) into ${modelDir} ` +
        `on ${backendInfo.backend} with ${workers} worker${workers > 1 ? "s" : ""}`,
    );
  }
  // Progress is reported at least as often as it is printed.
  const reportEverySec = Math.min(2, progressEverySec > 0 ? progressEverySec : 2);
  const logSteps = options.logSteps ?? 10;

  let members: MemberSummary[];
  if (workers <= 1) {
    let data: TrainData | undefined = options.data;
    members = [];
    for (const i of toTrain) {
      if (options.signal?.aborted) break;
      members.push(
        await trainMember({
          member: i,
          config: memberConfig(config, i),
          memberDir: paths.memberDir(i),
          saveSteps,
          logSteps,
          progressEverySec: reportEverySec,
          onProgress,
          shouldStop: () => options.signal?.aborted ?? false,
          loadData: async () =>
            data ??= await loadTrainData(options.dataset, { dataDir, runDir: modelDir }),
        }),
      );
    }
  } else {
    const jobs: TrainJob[] = toTrain.map((i) => ({
      type: "train",
      member: i,
      config: memberConfig(config, i),
      memberDir: paths.memberDir(i),
      saveSteps,
      logSteps,
      progressEverySec: reportEverySec,
      backend: backendInfo.backend,
      customKernels: options.customKernels ?? true,
      dataset: options.dataset,
      dataDir,
      runDir: modelDir,
      data: options.data,
    }));
    members = await trainInWorkers(jobs, workers, onProgress, options.signal);
  }
  let calibration: unknown;
  const complete = members.filter((m) => m.endStep >= m.maxSteps).length;
  if (tabular && options.member === undefined && complete === numModels) {
    // The anomaly threshold needs the whole ensemble: calibrate once every member is done.
    calibration = await calibrateTabularRun(modelDir, {
      tpr: options.tabular?.tpr,
      thresholdScore: options.tabular?.thresholdScore,
      backend: backendInfo.backend,
      dataDir,
    });
  }
  return {
    modelDir,
    config,
    members,
    seconds: (performance.now() - started) / 1000,
    calibration,
  };
}

/** "1500; paper preset: 5001": a preset value for `--help`. */
function presetDefault(key: keyof PresetMemberValues | "numModels" | "saveSteps"): string {
  const value = (name: string) => {
    const p = getPreset(name);
    const v = key === "numModels" || key === "saveSteps" ? p[key] : p.member[key];
    return Array.isArray(v) ? v.join(",") : String(v);
  };
  const [d, p] = [value("default"), value("paper")];
  return d === p ? `${d} in both presets` : `${d}; paper preset: ${p}`;
}

const TRAIN_CLI: CommandSpec = {
  usage: "deno task train <dataset> [flags]",
  description: [
    "Train an ensemble of generative models (VAE + MAF prior, or WGAN critics) on <dataset>",
    "(mnist, fashion_mnist, cifar10, creditcard, or `csv --file rows.csv`) into a run dir.",
    "Rerunning the same command resumes from the last checkpoints; --fresh starts over.",
    "",
    "Presets (--preset):",
    ...PRESET_NAMES.map((n) => `  ${n}: ${getPreset(n).summary}.`),
    "With --model wgan:",
    ...PRESET_NAMES.map((n) => `  ${n}: ${presetSummary(getPreset(n), "wgan")}.`),
  ].join("\n"),
  positionals: { names: "<dataset>", min: 1, max: 1 },
  flags: {
    model: {
      type: "string",
      choices: ["vae", "wgan"],
      default: "vae",
      help: "Member model: VAE with a MAF prior, or WGAN-GP critic.",
    },
    preset: {
      type: "string",
      choices: PRESET_NAMES,
      defaultText: "the run's preset, else default",
      help: "Hyperparameter preset; flags below override it.",
    },
    model_dir: {
      type: "string",
      placeholder: "DIR",
      defaultText: "runs/<dataset>-<model>",
      help: "Run directory.",
    },
    num_models: {
      type: "int",
      min: 1,
      defaultText: presetDefault("numModels"),
      help: "Ensemble size M.",
    },
    member: { type: "int", min: 0, help: "Train only member i (seed + i) in this process." },
    max_steps: {
      type: "int",
      min: 1,
      defaultText: presetDefault("maxSteps"),
      help: "Training steps per member (WGAN: generator iterations; default 600, paper 20001).",
    },
    extra_steps: {
      type: "int",
      min: 0,
      defaultText: "200; paper preset: 4001",
      help: "WGAN only: critic steps as a real-vs-generated classifier after the GAN training.",
    },
    batch_size: {
      type: "int",
      min: 1,
      defaultText: presetDefault("batchSize"),
      help: "Batch size.",
    },
    n_samples: {
      type: "int",
      min: 1,
      defaultText: presetDefault("nSamples"),
      help: "Posterior samples K per input in the training loss.",
    },
    latent_size: {
      type: "int",
      min: 1,
      defaultText: presetDefault("latentSize"),
      help: "Latent size.",
    },
    n_flows: {
      type: "int",
      min: 0,
      defaultText: presetDefault("nFlows"),
      help: "MADE layers in the prior.",
    },
    flow_hidden: {
      type: "int_list",
      min: 1,
      placeholder: "H,H",
      defaultText: presetDefault("flowHidden"),
      help: "Hidden sizes of each MADE.",
    },
    arch: {
      type: "string",
      choices: ["conv", "dense"],
      defaultText: presetDefault("arch"),
      help: "Encoder/decoder family.",
    },
    base_depth: {
      type: "int",
      min: 1,
      defaultText: presetDefault("baseDepth"),
      help: "Conv base depth.",
    },
    dense_hidden: {
      type: "int_list",
      min: 1,
      placeholder: "H,H",
      defaultText: presetDefault("denseHidden"),
      help: "Hidden sizes of the dense encoder/decoder.",
    },
    scale_input: {
      type: "string",
      choices: ["true", "false"],
      defaultText: "true for images, per preset for tabular data",
      help: "Map inputs from [0, 1] to [−1, 1] before the encoder or critic.",
    },
    learning_rate: {
      type: "number",
      min: 0,
      defaultText: presetDefault("learningRate"),
      help: "Adam learning rate (cosine decay to 0 over max_steps).",
    },
    beta: {
      type: "number",
      min: 0,
      defaultText: presetDefault("beta"),
      help: "Weight on the rate.",
    },
    seed: { type: "int", defaultText: "0", help: "Run seed; member i uses seed + i." },
    save_steps: {
      type: "int",
      min: 1,
      defaultText: presetDefault("saveSteps"),
      help: "Checkpoint every N steps.",
    },
    log_steps: { type: "int", min: 1, default: 10, help: "Log means every N steps." },
    workers: {
      type: "int",
      min: 1,
      defaultText: "min(M, cores)",
      help: "Parallel Deno Workers; 1 trains in this process.",
    },
    backend: {
      type: "string",
      choices: ["auto", "webgpu", "wasm", "cpu"],
      default: "auto",
      help: "tfjs backend.",
    },
    data_dir: {
      type: "string",
      placeholder: "DIR",
      help: "Look for datasets here first (then $GENSEMBLE_DATA_DIR, the cache).",
    },
    fresh: { type: "boolean", help: "Delete old checkpoints and logs and start over." },
    no_custom_kernels: { type: "boolean", help: "Use composed tfjs ops instead of WGSL kernels." },
    quiet: { type: "boolean", help: "No progress lines." },
    ...TABULAR_TRAIN_FLAGS,
  },
  epilog: "Example: deno task train mnist --num_models 5 --max_steps 2000",
};

/** Flag name → MemberConfig field, for the flags that override preset values. */
const OVERRIDE_FLAGS: Array<
  [string, keyof MemberOverrides, "int" | "number" | "string" | "int_list" | "bool"]
> = [
  ["max_steps", "maxSteps", "int"],
  ["extra_steps", "extraSteps", "int"],
  ["batch_size", "batchSize", "int"],
  ["n_samples", "nSamples", "int"],
  ["latent_size", "latentSize", "int"],
  ["n_flows", "nFlows", "int"],
  ["flow_hidden", "flowHidden", "int_list"],
  ["arch", "arch", "string"],
  ["base_depth", "baseDepth", "int"],
  ["dense_hidden", "denseHidden", "int_list"],
  ["learning_rate", "learningRate", "number"],
  ["scale_input", "scaleInput", "bool"],
  ["beta", "beta", "number"],
];

/** The train command line → `TrainOptions` (exported for eval, which trains unless --skip_train). */
export function trainOptionsFromArgs(args: string[]): TrainOptions | null {
  const cli = parseCli(args, TRAIN_CLI);
  if (cli.help) return null;
  const overrides: Record<string, unknown> = {};
  for (const [flag, key, type] of OVERRIDE_FLAGS) {
    if (!cli.given(flag)) continue;
    overrides[key] = type === "int"
      ? cli.int(flag)
      : type === "number"
      ? cli.number(flag)
      : type === "int_list"
      ? cli.intList(flag)
      : type === "bool"
      ? cli.string(flag) === "true"
      : cli.string(flag);
  }
  const positional = cli.positionals[0];
  const file = cli.string("file");
  return {
    dataset: isTabularDataset(positional) || file
      ? resolveTabularDataset(positional, file)
      : positional,
    tabular: tabularOptionsFromCli(cli),
    model: cli.string("model") as MemberConfig["model"],
    preset: cli.string("preset"),
    modelDir: cli.string("model_dir"),
    numModels: cli.int("num_models"),
    member: cli.int("member"),
    seed: cli.int("seed"),
    saveSteps: cli.int("save_steps"),
    logSteps: cli.int("log_steps"),
    workers: cli.int("workers"),
    backend: cli.string("backend") as BackendName,
    dataDir: cli.string("data_dir"),
    fresh: cli.bool("fresh"),
    customKernels: !cli.bool("no_custom_kernels"),
    progressEverySec: cli.bool("quiet") ? 0 : 5,
    overrides: overrides as MemberOverrides,
  };
}

/** The `--help` text of `deno task train`. */
export function trainHelp(): string {
  return helpText(TRAIN_CLI);
}

/** CLI entry: parse flags, train, print the summary table. */
export async function main(args: string[]): Promise<void> {
  const options = trainOptionsFromArgs(args);
  if (!options) {
    console.log(trainHelp());
    return;
  }
  // Ctrl-C: every member checkpoints the step it is at and stops (a checkpoint write is never
  // cut short); a second Ctrl-C quits at once.
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) Deno.exit(130);
    controller.abort();
    console.error(
      "\ninterrupting: saving a checkpoint of every running member (Ctrl-C again to quit now)",
    );
  };
  Deno.addSignalListener("SIGINT", onSigint);
  try {
    const result = await trainEnsemble({ ...options, signal: controller.signal });
    const done = result.members.filter((m) => m.endStep >= m.maxSteps).length;
    console.log(summaryTable(result.members));
    if (controller.signal.aborted) {
      console.error(
        `interrupted: checkpoints are saved in ${result.modelDir}; ` +
          "run the same command again to resume",
      );
      Deno.exit(130);
    }
    const isDefaultDir =
      result.modelDir === defaultModelDir(options.dataset, options.model ?? "vae");
    const next = isTabularDataset(options.dataset) && options.dataset !== "creditcard"
      ? `deno task score --model_dir ${result.modelDir} <new rows.csv>`
      : `deno run -A eval.ts --skip_train ` +
        (isDefaultDir ? `--train_dataset ${options.dataset}` : `--model_dir ${result.modelDir}`) +
        (options.model === "wgan" ? " --model wgan" : "");
    console.log(
      `${done}/${result.members.length} members complete in ${result.modelDir} ` +
        `(${formatDuration(result.seconds)})` +
        (result.calibration ? "; anomaly threshold calibrated (calibration.json)" : "") +
        `; next: ${next}`,
    );
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }
}

if (import.meta.main) await runCli(() => main(Deno.args));
