/**
 * The ODDS tabular evaluation (issue 6, item 6): for each of cardio, thyroid, satellite, shuttle
 * and mammography, train a VAE ensemble on a seeded 60% of the normal rows (min-max scaling fit on
 * those rows), score the remaining normals against all anomalies, and put the unsupervised scores
 * (waic, posterior_mean_var, single, and mean, var, rate) beside the supervised baseline
 * (models/classifier.ts) trained with the reference's split.
 *
 * The entropy-corrected scores (waic_ec, single_ec, mean_ec; tasks/score_ensemble.ts) are reported
 * too, and the comparison with the classifier is made both with and without them.
 *
 * So that both are also compared on the same rows, the classifier's held-out test rows are drawn
 * from the ensemble's test rows: 100 of the test normals and min(100, ⌊anomalies/2⌋) anomalies
 * (the reference held out 100 + 100); the classifier trains on every other row. Both test sets
 * are reported: "all" (remaining normals vs all anomalies) and "clf" (the classifier's rows).
 *
 *   deno task tabular-eval                         # all five sets, the default preset
 *   deno run -A tasks/tabular_eval.ts --sets cardio,thyroid --preset paper
 *
 * Writes `<out_dir>/results.json` and `<out_dir>/results.md`; each set's ensemble is a normal run
 * directory (`<out_dir>/<set>/`, with preprocess.json), so `deno task score` can use it.
 */
import { type BackendName, initBackend } from "../core/backend.ts";
import { writeJsonAtomic, writeTextAtomic } from "../core/atomic.ts";
import { GensembleError, runCli } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { loadDataset } from "../data/registry.ts";
import type { Dataset } from "../data/types.ts";
import { oodMetrics } from "../metrics/ood_metrics.ts";
import { type ClassifierConfig, DenseClassifier } from "../models/classifier.ts";
import { deriveSeed } from "../models/params.ts";
import { type CommandSpec, parseCliOrHelp } from "./cli_flags.ts";
import { PRESET_NAMES, type PresetMemberValues } from "./presets.ts";
import { loadEnsemble, scoreScaledRows, type TabularScoreName } from "./score_ensemble.ts";
import { applyPreprocess, fitPreprocess, savePreprocess } from "./tabular_prep.ts";
import { trainEnsemble } from "./train.ts";
import { readRunConfig } from "./run_config.ts";

/** The five ODDS sets of the evaluation, in report order. */
export const ODDS_SETS: readonly string[] = [
  "cardio",
  "thyroid",
  "satellite",
  "shuttle",
  "mammography",
];

/** The unsupervised scores reported. */
const REPORTED: readonly TabularScoreName[] = [
  "waic",
  "posterior_mean_var",
  "single",
  "mean",
  "var",
  "rate",
  "waic_ec",
  "single_ec",
  "mean_ec",
];
/** The paper's scores the issue compares with the classifier... */
const COMPARED_PAPER: readonly TabularScoreName[] = ["waic", "posterior_mean_var", "single"];
/** ...and the same with the entropy-corrected scores (tasks/score_ensemble.ts) added. */
const COMPARED_ALL: readonly TabularScoreName[] = [
  ...COMPARED_PAPER,
  "waic_ec",
  "single_ec",
  "mean_ec",
];

/** AUROC, AP (anomaly positive) and FPR at 95% TPR (DESIGN.md: TPR on the normal rows). */
export interface DetectionNumbers {
  auroc: number;
  ap: number;
  fpr95: number;
}

/** One set's results. */
export interface OddsSetResult {
  name: string;
  rows: number;
  features: number;
  anomalies: number;
  split: {
    trainNormal: number;
    testNormal: number;
    testAnomalous: number;
    classifierTrain: number;
    classifierTestNormal: number;
    classifierTestAnomalous: number;
  };
  /** Unsupervised scores on "all" test rows and on the classifier's test rows. */
  unsupervised: Record<string, { all: DetectionNumbers; clf: DetectionNumbers }>;
  classifier: DetectionNumbers & { steps: number; seconds: number };
  /** The best of waic / posterior_mean_var / single by AUROC, on each test set... */
  best: { all: { score: string; auroc: number }; clf: { score: string; auroc: number } };
  /** ...and the best with the entropy-corrected scores included. */
  bestWithEc: { all: { score: string; auroc: number }; clf: { score: string; auroc: number } };
  /** classifier AUROC − best unsupervised AUROC on the classifier's rows (target: ≤ 0.05). */
  gapClf: number;
  gapClfWithEc: number;
  trainSeconds: number;
  scoreSeconds: number;
}

function numbers(normal: ArrayLike<number>, anomalous: ArrayLike<number>): DetectionNumbers {
  const m = oodMetrics(normal, anomalous);
  return { auroc: m.auroc, ap: m.auprOut, fpr95: m.fpr95 };
}

function rowsOf(ds: Dataset, rows: ArrayLike<number>): Float32Array {
  const f = ds.shape[1];
  const out = new Float32Array(rows.length * f);
  for (let i = 0; i < rows.length; i++) {
    out.set(ds.x.subarray(rows[i] * f, (rows[i] + 1) * f), i * f);
  }
  return out;
}

function pick(values: Float32Array, idx: ArrayLike<number>): Float32Array {
  return Float32Array.from({ length: idx.length }, (_, i) => values[idx[i]]);
}

/** The seeded splits of one set (see the module doc). */
export function oddsSplits(labels: Int32Array, seed: number, name: string) {
  const normal: number[] = [];
  const anomalous: number[] = [];
  labels.forEach((l, i) => (l === 1 ? anomalous : normal).push(i));
  const rng = new Rng(deriveSeed(seed, "odds-split", name));
  const perm = rng.permutation(normal.length);
  const nTrain = Math.round(0.6 * normal.length);
  const trainNormal = Array.from(perm.subarray(0, nTrain), (p) => normal[p]).sort((a, b) => a - b);
  const testNormal = Array.from(perm.subarray(nTrain), (p) => normal[p]).sort((a, b) => a - b);
  // The classifier's test rows: 100 of the test normals and up to 100 anomalies.
  const nClfAnom = Math.min(100, Math.floor(anomalous.length / 2));
  const nClfNormal = Math.min(100, testNormal.length);
  const pn = rng.permutation(testNormal.length);
  const pa = rng.permutation(anomalous.length);
  const clfTestNormal = new Set(Array.from(pn.subarray(0, nClfNormal), (p) => testNormal[p]));
  const clfTestAnom = new Set(Array.from(pa.subarray(0, nClfAnom), (p) => anomalous[p]));
  const clfTrain: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (!clfTestNormal.has(i) && !clfTestAnom.has(i)) clfTrain.push(i);
  }
  return {
    trainNormal,
    testNormal,
    anomalous,
    clfTrain,
    clfTestNormal: [...clfTestNormal].sort((a, b) => a - b),
    clfTestAnom: [...clfTestAnom].sort((a, b) => a - b),
  };
}

async function existingRun(runDir: string) {
  const config = await readRunConfig(runDir);
  if (!config) throw new GensembleError(`${runDir}: no trained run there (drop --skip_train)`);
  return config;
}

/** Options of `evaluateOdds`. */
export interface OddsEvalOptions {
  sets?: readonly string[];
  preset?: string;
  numModels?: number;
  seed?: number;
  outDir?: string;
  workers?: number;
  backend?: BackendName;
  dataDir?: string;
  overrides?: Partial<PresetMemberValues>;
  /** K for scoring (default: the run's eval K from the preset). */
  scoreSamples?: number;
  classifier?: Partial<ClassifierConfig>;
  fresh?: boolean;
  /** Score the runs already in `outDir` (the split and scaling are recomputed, seeded). */
  skipTrain?: boolean;
  quiet?: boolean;
}

/** Everything `evaluateOdds` measured. */
export interface OddsEvalResults {
  command: string;
  preset: string;
  numModels: number;
  seed: number;
  member: Record<string, unknown>;
  scoreSamples: number;
  classifier: ClassifierConfig;
  backend: string;
  sets: OddsSetResult[];
  /** Sets where the best unsupervised AUROC is within 0.05 of the classifier's (clf rows):
   * with the paper's scores, and with the entropy-corrected ones too. */
  withinTarget: string[];
  withinTargetWithEc: string[];
  totalSeconds: number;
  createdAt: string;
}

/**
 * Run the ODDS evaluation; see the module doc.
 *
 * @example
 * ```ts
 * const r = await evaluateOdds({ sets: ["thyroid"], numModels: 5 });
 * r.sets[0].unsupervised.waic.all.auroc;
 * ```
 */
export async function evaluateOdds(opts: OddsEvalOptions = {}): Promise<OddsEvalResults> {
  const started = performance.now();
  const sets = opts.sets ?? ODDS_SETS;
  const seed = opts.seed ?? 0;
  const outDir = opts.outDir ?? "runs/odds";
  const presetName = opts.preset ?? "default";
  const backend = await initBackend(opts.backend ?? "auto", { quiet: opts.quiet });
  // Per-set summary lines always; --quiet only silences the training progress.
  const log = (s: string) => console.error(s);
  const results: OddsSetResult[] = [];
  let memberValues: Record<string, unknown> = {};
  let scoreSamples = 0;
  let numModels = 0;
  let clfConfig: ClassifierConfig | null = null;
  for (const name of sets) {
    const ds = await loadDataset(name, "test", { dataDir: opts.dataDir });
    if (!ds.labels) throw new GensembleError(`${name}: the data set has no labels`);
    const f = ds.shape[1];
    const featureNames = ds.featureNames ?? Array.from({ length: f }, (_, i) => `f${i}`);
    const sp = oddsSplits(ds.labels, seed, name);
    log(
      `${name}: ${ds.shape[0]} rows × ${f} features, ${sp.anomalous.length} anomalies; training ` +
        `on ${sp.trainNormal.length} normal rows`,
    );

    // Unsupervised: the ensemble on 60% of the normals, scaling fit on those rows.
    const runDir = `${outDir}/${name}`;
    const rawTrain = rowsOf(ds, sp.trainNormal);
    const pre = fitPreprocess(rawTrain, featureNames, { source: name, labelColumn: "label" });
    await savePreprocess(runDir, { ...pre, normalValue: 0 });
    const trainStart = performance.now();
    const trained = opts.skipTrain ? { config: await existingRun(runDir) } : await trainEnsemble({
      dataset: name,
      modelDir: runDir,
      preset: presetName,
      numModels: opts.numModels,
      seed,
      overrides: opts.overrides,
      workers: opts.workers,
      backend: backend.backend,
      fresh: opts.fresh,
      progressEverySec: opts.quiet ? 0 : 10,
      data: { x: applyPreprocess(pre, rawTrain), shape: [sp.trainNormal.length, f] },
    });
    const trainSeconds = (performance.now() - trainStart) / 1000;
    memberValues = { ...trained.config.member } as Record<string, unknown>;
    numModels = trained.config.numModels;
    const scoreStart = performance.now();
    const ens = await loadEnsemble(runDir, {
      nSamples: opts.scoreSamples ?? trained.config.eval.nSamples,
      quiet: true,
    });
    scoreSamples = ens.nSamples;
    const testRows = [...sp.testNormal, ...sp.anomalous];
    let scores;
    try {
      scores = await scoreScaledRows(
        ens,
        applyPreprocess(pre, rowsOf(ds, testRows)),
        testRows.length,
      );
    } finally {
      ens.dispose();
    }
    const scoreSeconds = (performance.now() - scoreStart) / 1000;
    const position = new Map(testRows.map((r, i) => [r, i]));
    const allNormal = sp.testNormal.map((r) => position.get(r)!);
    const allAnom = sp.anomalous.map((r) => position.get(r)!);
    const clfNormal = sp.clfTestNormal.map((r) => position.get(r)!);
    const clfAnom = sp.clfTestAnom.map((r) => position.get(r)!);
    const unsupervised: OddsSetResult["unsupervised"] = {};
    for (const s of REPORTED) {
      const v = scores[s];
      if (!v) continue;
      unsupervised[s] = {
        all: numbers(pick(v, allNormal), pick(v, allAnom)),
        clf: numbers(pick(v, clfNormal), pick(v, clfAnom)),
      };
    }

    // Supervised baseline on the reference's split, scaling fit on its training rows.
    const clfTrainX = rowsOf(ds, sp.clfTrain);
    const clfPre = fitPreprocess(clfTrainX, featureNames);
    const clf = new DenseClassifier(f, {
      seed,
      // The reference's width with the paper preset; narrower on a CPU (~20× cheaper per step).
      hidden: presetName === "paper" ? [512, 512] : [128, 128],
      ...opts.classifier,
    });
    clfConfig = clf.config;
    let clfResult: OddsSetResult["classifier"];
    try {
      const fit = clf.fit(
        applyPreprocess(clfPre, clfTrainX),
        Int32Array.from(sp.clfTrain, (r) => ds.labels![r]),
      );
      const logitsN = clf.logits(applyPreprocess(clfPre, rowsOf(ds, sp.clfTestNormal)));
      const logitsA = clf.logits(applyPreprocess(clfPre, rowsOf(ds, sp.clfTestAnom)));
      clfResult = { ...numbers(logitsN, logitsA), steps: fit.steps, seconds: fit.seconds };
    } finally {
      clf.dispose();
    }

    const bestOf = (which: "all" | "clf", among: readonly TabularScoreName[]) => {
      let best = { score: "", auroc: -1 };
      for (const s of among) {
        const a = unsupervised[s]?.[which].auroc ?? -1;
        if (a > best.auroc) best = { score: s, auroc: a };
      }
      return best;
    };
    const best = { all: bestOf("all", COMPARED_PAPER), clf: bestOf("clf", COMPARED_PAPER) };
    const bestWithEc = { all: bestOf("all", COMPARED_ALL), clf: bestOf("clf", COMPARED_ALL) };
    const result: OddsSetResult = {
      name,
      rows: ds.shape[0],
      features: f,
      anomalies: sp.anomalous.length,
      split: {
        trainNormal: sp.trainNormal.length,
        testNormal: sp.testNormal.length,
        testAnomalous: sp.anomalous.length,
        classifierTrain: sp.clfTrain.length,
        classifierTestNormal: sp.clfTestNormal.length,
        classifierTestAnomalous: sp.clfTestAnom.length,
      },
      unsupervised,
      classifier: clfResult,
      best,
      bestWithEc,
      gapClf: clfResult.auroc - best.clf.auroc,
      gapClfWithEc: clfResult.auroc - bestWithEc.clf.auroc,
      trainSeconds,
      scoreSeconds,
    };
    results.push(result);
    log(
      `${name}: waic AUROC ${unsupervised.waic?.all.auroc.toFixed(3)} (waic_ec ` +
        `${unsupervised.waic_ec?.all.auroc.toFixed(3)}), posterior_mean_var ` +
        `${unsupervised.posterior_mean_var?.all.auroc.toFixed(3)}, single ` +
        `${unsupervised.single?.all.auroc.toFixed(3)}; classifier ${clfResult.auroc.toFixed(3)} ` +
        `(train ${trainSeconds.toFixed(0)} s, score ${scoreSeconds.toFixed(1)} s, classifier ` +
        `${clfResult.seconds.toFixed(0)} s)`,
    );
  }
  return {
    command: "",
    preset: presetName,
    numModels,
    seed,
    member: memberValues,
    scoreSamples,
    classifier: clfConfig!,
    backend: backend.backend,
    sets: results,
    withinTarget: results.filter((r) => r.gapClf <= 0.05).map((r) => r.name),
    withinTargetWithEc: results.filter((r) => r.gapClfWithEc <= 0.05).map((r) => r.name),
    totalSeconds: (performance.now() - started) / 1000,
    createdAt: new Date().toISOString(),
  };
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "-");

/** The results as a markdown report. */
export function formatOddsMarkdown(r: OddsEvalResults): string {
  const m = r.member;
  const lines = [
    "# ODDS tabular evaluation",
    "",
    `Command: \`${r.command}\``,
    "",
    `Preset ${r.preset}: ${r.numModels} members, latent ${m.latentSize}, ${m.nFlows} MADE layers ` +
    `${JSON.stringify(m.flowHidden)}, dense ${JSON.stringify(m.denseHidden)}, K ${m.nSamples} ` +
    `(training) / ${r.scoreSamples} (scoring), ${m.maxSteps} steps, batch ${m.batchSize}, ` +
    `lr ${m.learningRate}; seed ${r.seed}; backend ${r.backend}; total ${
      (r.totalSeconds / 60).toFixed(1)
    } min.`,
    `Classifier: dense ${
      JSON.stringify(r.classifier.hidden)
    } ReLU, Adam ${r.classifier.learningRate}, ` +
    `batch ${r.classifier.batchSize}, ${r.classifier.epochs} epochs (at most ${r.classifier.maxSteps} steps).`,
    "",
    '"all": the 40% held-out normal rows vs all anomalies. "clf": the classifier\'s test rows ' +
    "(100 of those normals and min(100, ⌊anomalies/2⌋) anomalies). AP = average precision with " +
    "anomalies positive; FPR@95 = share of anomalies accepted where 95% of normal rows are.",
    "",
    "| set | score | AUROC (all) | AP (all) | FPR@95 (all) | AUROC (clf) | AP (clf) | FPR@95 (clf) |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const s of r.sets) {
    for (const [name, v] of Object.entries(s.unsupervised)) {
      lines.push(
        `| ${s.name} | ${name} | ${f3(v.all.auroc)} | ${f3(v.all.ap)} | ${f3(v.all.fpr95)} | ` +
          `${f3(v.clf.auroc)} | ${f3(v.clf.ap)} | ${f3(v.clf.fpr95)} |`,
      );
    }
    const c = s.classifier;
    lines.push(
      `| ${s.name} | **classifier** | | | | **${f3(c.auroc)}** | ${f3(c.ap)} | ${f3(c.fpr95)} |`,
    );
  }
  lines.push(
    "",
    'Best unsupervised AUROC vs the classifier on the same rows (clf); "paper" = the best of ' +
      'waic, posterior_mean_var, single; "+ec" also considers waic_ec, single_ec, mean_ec.',
    "",
    "| set | rows × features | anomalies | best paper (all) | best paper (clf) | best +ec (all) | " +
      "best +ec (clf) | classifier (clf) | gap paper | gap +ec | train s |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  );
  for (const s of r.sets) {
    const b = (x: { score: string; auroc: number }) => `${x.score} ${f3(x.auroc)}`;
    lines.push(
      `| ${s.name} | ${s.rows} × ${s.features} | ${s.anomalies} | ${b(s.best.all)} | ` +
        `${b(s.best.clf)} | ${b(s.bestWithEc.all)} | ${b(s.bestWithEc.clf)} | ` +
        `${f3(s.classifier.auroc)} | ${f3(s.gapClf)} | ${f3(s.gapClfWithEc)} | ` +
        `${s.trainSeconds.toFixed(0)} |`,
    );
  }
  const within = (names: string[]) =>
    `${names.length} of ${r.sets.length}` + (names.length > 0 ? ` (${names.join(", ")})` : "");
  lines.push(
    "",
    `Within 0.05 of the classifier (same test rows): paper scores ${within(r.withinTarget)}; ` +
      `with entropy-corrected scores ${within(r.withinTargetWithEc)}.`,
    "",
  );
  return lines.join("\n");
}

const SPEC: CommandSpec = {
  usage: "deno task tabular-eval [flags]",
  description: "Train and evaluate VAE ensembles and a supervised classifier on the ODDS sets " +
    "(cardio, thyroid, satellite, shuttle, mammography); writes results.json and results.md.",
  flags: {
    sets: {
      type: "string",
      placeholder: "A,B",
      help: "Sets to run.",
      defaultText: ODDS_SETS.join(","),
    },
    preset: { type: "string", choices: PRESET_NAMES, default: "default", help: "Member preset." },
    num_models: { type: "int", min: 1, defaultText: "preset", help: "Ensemble size M." },
    seed: { type: "int", default: 0, help: "Seed of the splits and the members (seed + i)." },
    out_dir: {
      type: "string",
      default: "runs/odds",
      placeholder: "DIR",
      help: "Runs and results.",
    },
    workers: { type: "int", min: 1, defaultText: "min(M, cores)", help: "Training workers." },
    backend: {
      type: "string",
      choices: ["auto", "webgpu", "wasm", "cpu"],
      default: "auto",
      help: "tfjs backend.",
    },
    data_dir: { type: "string", placeholder: "DIR", help: "Look for the data here first." },
    max_steps: { type: "int", min: 1, defaultText: "preset", help: "Training steps per member." },
    n_samples: { type: "int", min: 1, defaultText: "preset", help: "K in the training loss." },
    score_samples: {
      type: "int",
      min: 1,
      defaultText: "the preset's eval K",
      help: "K for scoring.",
    },
    latent_size: { type: "int", min: 1, defaultText: "preset", help: "Latent size." },
    n_flows: { type: "int", min: 0, defaultText: "preset", help: "MADE layers in the prior." },
    flow_hidden: {
      type: "int_list",
      min: 1,
      placeholder: "H,H",
      defaultText: "preset",
      help: "MADE hidden sizes.",
    },
    dense_hidden: {
      type: "int_list",
      min: 1,
      placeholder: "H,H",
      defaultText: "preset",
      help: "Encoder/decoder hidden sizes.",
    },
    no_dense_hidden: {
      type: "boolean",
      help: "No hidden layers in the encoder/decoder (the reference's).",
    },
    learning_rate: { type: "number", min: 0, defaultText: "preset", help: "Adam learning rate." },
    beta: {
      type: "number",
      min: 0,
      defaultText: "preset",
      help: "Weight on the rate in the loss.",
    },
    scale_input: {
      type: "string",
      choices: ["true", "false"],
      defaultText: "preset",
      help: "Map inputs to [−1, 1] before the encoder.",
    },
    batch_size: { type: "int", min: 1, defaultText: "preset", help: "Batch size." },
    classifier_hidden: {
      type: "int_list",
      min: 1,
      placeholder: "H,H",
      defaultText: "512,512 with the paper preset, else 128,128",
      help: "Classifier hidden sizes.",
    },
    classifier_steps: { type: "int", min: 1, defaultText: "3000", help: "Classifier step cap." },
    fresh: { type: "boolean", help: "Retrain the ensembles from scratch." },
    skip_train: { type: "boolean", help: "Score the runs already in --out_dir." },
    quiet: { type: "boolean", help: "No progress lines." },
  },
};

async function main(): Promise<void> {
  const cli = parseCliOrHelp(Deno.args, SPEC);
  if (!cli) return;
  const sets = cli.string("sets")?.split(",").map((s) => s.trim()).filter(Boolean) ?? ODDS_SETS;
  const unknown = sets.filter((s) => !ODDS_SETS.includes(s));
  if (unknown.length > 0) {
    throw new GensembleError(`Unknown set ${unknown.join(", ")}: use ${ODDS_SETS.join(", ")}`);
  }
  const overrides: Partial<PresetMemberValues> = {
    maxSteps: cli.int("max_steps"),
    nSamples: cli.int("n_samples"),
    latentSize: cli.int("latent_size"),
    nFlows: cli.int("n_flows"),
    flowHidden: cli.intList("flow_hidden"),
    denseHidden: cli.bool("no_dense_hidden") ? [] : cli.intList("dense_hidden"),
    learningRate: cli.number("learning_rate"),
    beta: cli.number("beta"),
    scaleInput: cli.given("scale_input") ? cli.string("scale_input") === "true" : undefined,
    batchSize: cli.int("batch_size"),
  };
  const outDir = cli.string("out_dir")!;
  const result = await evaluateOdds({
    sets,
    preset: cli.string("preset"),
    numModels: cli.int("num_models"),
    seed: cli.int("seed"),
    outDir,
    workers: cli.int("workers"),
    backend: cli.string("backend") as BackendName,
    dataDir: cli.string("data_dir"),
    overrides,
    scoreSamples: cli.int("score_samples"),
    classifier: {
      ...(cli.given("classifier_hidden") ? { hidden: cli.intList("classifier_hidden") } : {}),
      ...(cli.given("classifier_steps") ? { maxSteps: cli.int("classifier_steps") } : {}),
    },
    fresh: cli.bool("fresh"),
    skipTrain: cli.bool("skip_train"),
    quiet: cli.bool("quiet"),
  });
  result.command = ["deno task tabular-eval", ...Deno.args].join(" ");
  await Deno.mkdir(outDir, { recursive: true });
  await writeJsonAtomic(`${outDir}/results.json`, result);
  const md = formatOddsMarkdown(result);
  await writeTextAtomic(`${outDir}/results.md`, md);
  console.log(md);
}

if (import.meta.main) await runCli(main);
