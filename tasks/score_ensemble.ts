/**
 * Score tabular rows with a trained ensemble: the library face of `deno task score`.
 *
 * `loadEnsemble(runDir)` rebuilds the members from the run's config.json and checkpoints and reads
 * its preprocessing (`preprocess.json`) and calibration (`calibration.json`); `scoreEnsemble` takes
 * raw rows (unscaled, columns in the training feature order), scales them as training did, runs
 * every member on batches of `SCORE_BATCH_ROWS` rows and returns the ensemble's anomaly scores
 * (higher = more anomalous, see tasks/aggregate.ts) and the calibrated `anomaly` flag.
 *
 * The IWAE noise is drawn per batch position (models/vae.ts), so a row's scores depend on where
 * it falls in its batch; the CLI and this function batch the same way, so for the same rows in the
 * same order they give the same numbers.
 *
 * @example
 * ```ts
 * const ens = await loadEnsemble("runs/creditcard-vae");
 * const { scores, anomaly } = await scoreEnsemble(ens, [[0, -1.36, ...], [1, 1.19, ...]]);
 * ens.dispose();
 * ```
 */
import { tf } from "../deps.ts";
import { type BackendName, initBackend } from "../core/backend.ts";
import { GensembleError } from "../core/errors.ts";
import { aggregateScores, availableScores, SCORE_NAMES, type ScoreName } from "./aggregate.ts";
import { type Calibration, loadCalibration, thresholdFor } from "./calibrate.ts";
import { memberConfig, readRunConfig, type RunConfig, runPaths } from "./run_config.ts";
import { createScorePool, type MemberRef, type ScorePool } from "./score_pool.ts";
import { applyPreprocess, loadPreprocess, type Preprocess } from "./tabular_prep.ts";

/** Rows per batch through the members (the CLI streams in batches of this size too). */
export const SCORE_BATCH_ROWS = 4096;

/**
 * Entropy-corrected scores and the score each corrects. The Bernoulli decoder's −log p(x|z) on a
 * continuous x ∈ [0, 1] is Σ_f H(x_f) + KL(x_f ‖ p_f): a floor Σ_f H(x_f) (binary entropy) that
 * depends on the input alone and favours values near 0 or 1 (where clipped anomalies land).
 * `<score>_ec = <score> − Σ_f H(x_f)` removes it; var, rate and posterior_mean_var do not
 * contain it. This is an addition to the paper's scores (in the spirit of Serrà et al.'s
 * input-complexity correction), reported beside them.
 */
export const ENTROPY_CORRECTED = { single_ec: "single", mean_ec: "mean", waic_ec: "waic" } as const;

/** The anomaly scores of a tabular ensemble: the aggregate ones plus the entropy-corrected. */
export type TabularScoreName = ScoreName | keyof typeof ENTROPY_CORRECTED;

/** All tabular score names, in output order. */
export const TABULAR_SCORE_NAMES: readonly TabularScoreName[] = [
  ...SCORE_NAMES,
  ...(Object.keys(ENTROPY_CORRECTED) as Array<keyof typeof ENTROPY_CORRECTED>),
];

/** Scores per name, each [n]. */
export type TabularScores = Partial<Record<TabularScoreName, Float32Array>>;

/**
 * Σ_f H(x_f) per row of `[n, F]` inputs in [0, 1], H(p) = −p ln p − (1 − p) ln(1 − p), 0 ln 0 = 0.
 *
 * @example
 * ```ts
 * bernoulliEntropy(new Float32Array([0.5, 1, 0, 0]), 2); // [ln 2, 0]
 * ```
 */
export function bernoulliEntropy(x01: Float32Array, features: number): Float64Array {
  const n = x01.length / features;
  const h = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < features; j++) {
      const p = x01[i * features + j];
      if (p > 0 && p < 1) sum -= p * Math.log(p) + (1 - p) * Math.log(1 - p);
    }
    h[i] = sum;
  }
  return h;
}

/** A run loaded for scoring. */
export interface LoadedEnsemble {
  runDir: string;
  config: RunConfig;
  /** The members (config and checkpoint dir); they are loaded by `pool` on first use. */
  members: MemberRef[];
  /** Scores members in this thread (`workers: 0`) or in Deno Workers. */
  pool: ScorePool;
  preprocess: Preprocess;
  /** Null when the run was trained without a calibration share. */
  calibration: Calibration | null;
  /** Posterior samples K of the IWAE bound (the calibration's K unless overridden). */
  nSamples: number;
  /** The anomaly scores this ensemble produces, in output order. */
  scoreNames: TabularScoreName[];
  /** Release the members' tensors and stop the workers. */
  dispose(): void;
}

/** Options of `loadEnsemble`. */
export interface LoadEnsembleOptions {
  /** tfjs backend; default: keep the one already initialised, else "auto". */
  backend?: BackendName;
  /** Posterior samples K for scoring (default: the calibration's K, else the run's eval K). */
  nSamples?: number;
  /** Print nothing (no backend line). */
  quiet?: boolean;
  /**
   * Score members in this many Deno Workers (members are independent; the wasm backend uses one
   * core per worker). 0 (the default) scores in this thread. The numbers are the same either way.
   */
  workers?: number;
}

/** Make sure a tfjs backend is up: the requested one, or auto when none was initialised yet. */
async function ensureBackend(requested: BackendName | undefined, quiet: boolean): Promise<void> {
  // deno-lint-ignore no-explicit-any
  const current = (tf.engine() as any).backendName as string | null | undefined;
  if (requested) await initBackend(requested, { quiet });
  else if (!current) await initBackend("auto", { quiet });
}

/**
 * Load a trained tabular run for scoring: members, preprocessing, calibration.
 *
 * @example
 * ```ts
 * const ens = await loadEnsemble("runs/creditcard-vae", { quiet: true });
 * ens.preprocess.featureNames; // ["Time", "V1", ..., "Amount"]
 * ```
 */
export async function loadEnsemble(
  runDir: string,
  options: LoadEnsembleOptions = {},
): Promise<LoadedEnsemble> {
  const paths = runPaths(runDir);
  const config = await readRunConfig(paths.dir);
  if (!config) {
    throw new GensembleError(
      `${paths.config}: file not found; is ${paths.dir} a trained run (deno task train ...)?`,
    );
  }
  const preprocess = await loadPreprocess(paths.dir);
  const features = preprocess.featureNames.length;
  if (config.member.inputShape.length !== 1 || config.member.inputShape[0] !== features) {
    throw new GensembleError(
      `${paths.config}: the members take inputs of shape [${config.member.inputShape}] but ` +
        `preprocess.json names ${features} features; the run directory is inconsistent`,
    );
  }
  const calibration = await loadCalibration(paths.dir);
  await ensureBackend(options.backend, options.quiet ?? false);
  const members: MemberRef[] = [];
  for (let i = 0; i < config.numModels; i++) {
    const dir = paths.memberDir(i);
    let step: number;
    try {
      step = JSON.parse(await Deno.readTextFile(paths.checkpoint(i)))?.userDefinedMetadata?.step;
    } catch {
      throw new GensembleError(
        `${dir}: member ${i} has no readable checkpoint; finish training (deno task train) first`,
      );
    }
    if (typeof step === "number" && step < config.member.maxSteps) {
      console.error(
        `gensemble: warning: member ${i} is at step ${step} of ${config.member.maxSteps}`,
      );
    }
    members.push({ index: i, config: memberConfig(config, i), dir });
  }
  const pool = createScorePool(
    Math.min(options.workers ?? 0, members.length),
    tf.getBackend(),
    members.map((m) => m.index),
  );
  const nSamples = options.nSamples ?? calibration?.nSamples ?? config.eval?.nSamples ??
    config.member.nSamples;
  const hasPosterior = config.model === "vae";
  const aggregateNames = availableScores(
    [{
      logLik: new Float32Array(0),
      ...(hasPosterior ? { rate: new Float32Array(0), posteriorMean: new Float32Array(0) } : {}),
    }],
    { posteriorMeanVar: hasPosterior },
  );
  const scoreNames: TabularScoreName[] = [
    ...aggregateNames,
    ...(Object.entries(ENTROPY_CORRECTED) as Array<[keyof typeof ENTROPY_CORRECTED, ScoreName]>)
      .filter(([, base]) => hasPosterior && aggregateNames.includes(base))
      .map(([name]) => name),
  ];
  return {
    runDir: paths.dir,
    config,
    members,
    pool,
    preprocess,
    calibration,
    nSamples,
    scoreNames,
    dispose: () => pool.close(),
  };
}

/**
 * Anomaly scores of already-scaled inputs `[n, F]` in [0, 1], one batch: every member scores
 * them with K = `ens.nSamples` (in one call per member, so keep a batch at most
 * `SCORE_BATCH_ROWS` rows to match the CLI), then the scores are aggregated.
 */
export async function scoreScaledBatch(
  ens: LoadedEnsemble,
  x01: Float32Array,
  n: number,
): Promise<TabularScores> {
  const f = ens.preprocess.featureNames.length;
  const ds = { x: x01, shape: [n, f] };
  const perMember = await Promise.all(
    ens.members.map((m) => ens.pool.score(m, ds, ens.nSamples, Math.max(1, n))),
  );
  const base = ens.scoreNames.filter((s): s is ScoreName => !(s in ENTROPY_CORRECTED));
  const scores: TabularScores = aggregateScores(perMember, base);
  const corrected = Object.entries(ENTROPY_CORRECTED).filter(([s]) =>
    ens.scoreNames.includes(s as TabularScoreName)
  );
  if (corrected.length > 0) {
    const h = bernoulliEntropy(x01, f); // [n]
    for (const [name, of] of corrected) {
      const v = scores[of as ScoreName]!;
      scores[name as TabularScoreName] = v.map((s, i) => s - h[i]);
    }
  }
  return scores;
}

/**
 * Anomaly scores of scaled inputs `[n, F]` in [0, 1], any n: batches of `SCORE_BATCH_ROWS` rows
 * through `scoreScaledBatch`, so the numbers equal the CLI's for the same rows in the same order.
 */
export async function scoreScaledRows(
  ens: LoadedEnsemble,
  x01: Float32Array,
  n: number,
): Promise<TabularScores> {
  const f = ens.preprocess.featureNames.length;
  const scores: TabularScores = {};
  for (const name of ens.scoreNames) scores[name] = new Float32Array(n);
  for (let start = 0; start < n; start += SCORE_BATCH_ROWS) {
    const size = Math.min(SCORE_BATCH_ROWS, n - start);
    const batch = await scoreScaledBatch(ens, x01.subarray(start * f, (start + size) * f), size);
    for (const name of ens.scoreNames) scores[name]!.set(batch[name]!, start);
  }
  return scores;
}

/** What `scoreEnsemble` returns. */
export interface EnsembleScores {
  rows: number;
  /** Anomaly scores per name (higher = more anomalous), each [rows]. */
  scores: TabularScores;
  /** 1 where `scores[thresholdScore] > threshold`; null when the run has no calibration. */
  anomaly: Uint8Array | null;
  thresholdScore: string;
  threshold: number | null;
}

/** Options of `scoreEnsemble`. */
export interface ScoreEnsembleOptions extends LoadEnsembleOptions {
  /** The score the anomaly flag uses (default: the calibration's, normally waic). */
  thresholdScore?: TabularScoreName;
  /** A threshold to use instead of the calibrated one. */
  threshold?: number;
}

/** Flatten `number[][]` or a flat array of raw rows into float64 `[n·F]`, checking values. */
function flattenRows(
  rows: Float32Array | Float64Array | number[] | number[][],
  f: number,
): Float64Array {
  if (rows.length > 0 && Array.isArray(rows[0])) {
    const nested = rows as number[][];
    const flat = new Float64Array(nested.length * f);
    nested.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== f) {
        throw new GensembleError(
          `Row ${i} has ${Array.isArray(row) ? row.length : "no"} values; the model takes ${f} ` +
            `features`,
        );
      }
      flat.set(row, i * f);
    });
    return checkFinite(flat, f);
  }
  const flat = rows instanceof Float64Array ? rows : Float64Array.from(rows as ArrayLike<number>);
  if (flat.length % f !== 0) {
    throw new GensembleError(
      `${flat.length} values are not whole rows of the model's ${f} features`,
    );
  }
  return checkFinite(flat, f);
}

function checkFinite(flat: Float64Array, f: number): Float64Array {
  for (let i = 0; i < flat.length; i++) {
    if (!Number.isFinite(flat[i])) {
      throw new GensembleError(
        `Row ${Math.floor(i / f)}, feature ${i % f}: value ${flat[i]} is not a finite number`,
      );
    }
  }
  return flat;
}

/** The threshold the flag uses: an explicit one, else the calibration's for that score. */
export function resolveThreshold(
  ens: LoadedEnsemble,
  thresholdScore: string | undefined,
  explicit?: number,
): { score: string; threshold: number | null } {
  const score = thresholdScore ?? ens.calibration?.score ?? "waic";
  if (!ens.scoreNames.includes(score as TabularScoreName)) {
    throw new GensembleError(
      `Unknown threshold score "${score}": this run produces ${ens.scoreNames.join(", ")}`,
    );
  }
  if (explicit !== undefined) return { score, threshold: explicit };
  if (!ens.calibration) return { score, threshold: null };
  return {
    score,
    threshold: thresholdFor(ens.calibration, score, `${ens.runDir}/calibration.json`),
  };
}

/**
 * Score raw rows (columns in the run's feature order, unscaled) with a run or a loaded ensemble.
 * A run directory given as a string is loaded and released inside the call.
 *
 * @example
 * ```ts
 * const r = await scoreEnsemble("runs/creditcard-vae", rows);
 * r.scores.waic; // Float32Array of −WAIC per row
 * r.anomaly;     // Uint8Array of 0/1 flags (calibrated threshold on waic)
 * ```
 */
export async function scoreEnsemble(
  ensemble: string | LoadedEnsemble,
  rows: Float32Array | Float64Array | number[] | number[][],
  options: ScoreEnsembleOptions = {},
): Promise<EnsembleScores> {
  const ens = typeof ensemble === "string"
    ? await loadEnsemble(ensemble, { quiet: true, ...options })
    : ensemble;
  try {
    const f = ens.preprocess.featureNames.length;
    const raw = flattenRows(rows, f);
    const n = raw.length / f;
    const { score, threshold } = resolveThreshold(ens, options.thresholdScore, options.threshold);
    const scores = await scoreScaledRows(ens, applyPreprocess(ens.preprocess, raw), n);
    let anomaly: Uint8Array | null = null;
    if (threshold !== null) {
      const s = scores[score as TabularScoreName]!;
      anomaly = new Uint8Array(n);
      for (let i = 0; i < n; i++) anomaly[i] = s[i] > threshold ? 1 : 0;
    }
    return { rows: n, scores, anomaly, thresholdScore: score, threshold };
  } finally {
    if (typeof ensemble === "string") ens.dispose();
  }
}
