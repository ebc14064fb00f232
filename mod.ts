/**
 * gensemble: out-of-distribution detection with generative ensembles (WAIC, but Why?).
 *
 * Everything public is re-exported here and nothing else lives in this file. It names no
 * third-party specifier itself (deps.ts does), so it can be imported by URL from a project
 * that has no import map or deno.json.
 *
 * @example
 * ```ts
 * import { initBackend, oodMetrics } from "https://<host>/<path>/mod.ts";
 * await initBackend("auto");
 * const m = oodMetrics([0.1, 0.2, 0.3], [0.25, 0.9]); // anomaly scores, higher = more anomalous
 * console.log(m.auroc, m.fpr95);
 * ```
 *
 * @module
 */
export { type BackendInfo, type BackendName, initBackend } from "./core/backend.ts";
export { GensembleError } from "./core/errors.ts";
export {
  auroc,
  fprAtTpr,
  type OodMetrics,
  oodMetrics,
  type PositiveClass,
} from "./metrics/ood_metrics.ts";
export {
  bootstrapMembers,
  bootstrapOodMetrics,
  type BootstrapOodOptions,
  type BootstrapOptions,
  type BootstrapResult,
} from "./metrics/bootstrap.ts";

// Data: readers, registry, OoD set builders.
export type { Dataset } from "./data/types.ts";
export {
  cacheDir,
  dataRoots,
  DATASET_NAMES,
  DATASETS,
  type DatasetSpec,
  loadCreditcard,
  loadDataset,
  type LoadOptions,
  loadTabular,
  type Split,
} from "./data/registry.ts";
export { buildOodSet, BUILT_OOD_SETS, loadUserOodSet } from "./data/ood_sets.ts";
export { applyMinMax, fitMinMax } from "./data/scale.ts";
export { encodeNpy, readNpy } from "./data/npy.ts";

// Members: the contract, the VAE with a MAF prior, the WGAN-GP critic, checkpoints.
export type { Member, MemberConfig, MemberScores, StepStats } from "./models/member.ts";
export { createVaeMember, defaultVaeConfig, tabularVaeConfig, VaeMember } from "./models/vae.ts";
export { MafPrior } from "./models/flow.ts";
export { createWganMember, defaultWganConfig, gradientPenalty } from "./models/wgan.ts";
export { registerMissingGradients } from "./models/grad_fixes.ts";
export { loadCheckpoint, saveCheckpoint } from "./models/checkpoint.ts";
export { DenseClassifier, referenceSplit } from "./models/classifier.ts";

// Fused ops: WGSL kernels on webgpu, composed tfjs twins elsewhere.
export {
  customKernelsEnabled,
  ensembleStats,
  iwaeLogMeanExp,
  mafAffine,
  setCustomKernels,
} from "./kernels/ops.ts";

// Training.
export { trainEnsemble, type TrainOptions, type TrainResult } from "./tasks/train.ts";
export { getPreset, type Preset, PRESETS, resolveMemberConfig } from "./tasks/presets.ts";
export { readRunConfig, type RunConfig, runPaths } from "./tasks/run_config.ts";
export { createMember } from "./tasks/member_factory.ts";

// Tabular scoring: preprocessing, calibrated thresholds, streaming CSV.
export {
  type EnsembleScores,
  loadEnsemble,
  scoreEnsemble,
  TABULAR_SCORE_NAMES,
} from "./tasks/score_ensemble.ts";
export { scoreFile } from "./tasks/score.ts";
export { calibrate, type Calibration, thresholdAtTpr } from "./tasks/calibrate.ts";
export { applyPreprocess, fitPreprocess, type Preprocess } from "./tasks/tabular_prep.ts";
export { streamCsvBatches } from "./data/csv_stream.ts";
export { evaluateOdds } from "./tasks/tabular_eval.ts";

// Reports and benchmarks.
export { curveArea, rocCurve } from "./metrics/roc_curve.ts";
export { writeReport } from "./tasks/report.ts";
export { runBench } from "./tasks/bench.ts";

// Evaluation: the OoD suites, adversarial noise, aggregation into anomaly scores, results.
export { type EvaluateOptions, evaluateRun } from "./tasks/evaluate.ts";
export { type EvalResults, type ResultRow } from "./tasks/results_table.ts";
export { aggregateScores, SCORE_NAMES, type ScoreName } from "./tasks/aggregate.ts";
export { OOD_SUITES } from "./tasks/ood_suite.ts";
export { fgsm, referenceAdversarialNoise } from "./data/adversarial.ts";
