/**
 * Calibrated anomaly threshold: on a held-out share of normal rows (never trained on), pick the
 * threshold on an anomaly score (higher = more anomalous) that accepts `tpr` of them, so that in
 * production about 1 − tpr of normal rows are flagged. A row is flagged when its score is
 * strictly above the threshold.
 *
 * The run stores `calibration.json`: the score the flag applies to (default waic), the TPR, the
 * number of held-out rows and a threshold for every score the run produces, so `deno task score
 * --threshold_score var` needs no recalibration.
 */
import { readJsonIfExists } from "../core/json_file.ts";
import { GensembleError } from "../core/errors.ts";
import { writeJsonAtomic } from "../core/atomic.ts";
import { Rng } from "../core/rng.ts";

/** The file name of the calibration record inside a run directory. */
export const CALIBRATION_FILE = "calibration.json";

/** A run's calibration record (`calibration.json`). */
export interface Calibration {
  version: 1;
  /** The score the `anomaly` flag uses by default (e.g. "waic"). */
  score: string;
  /** Target fraction of normal rows accepted (score ≤ threshold), e.g. 0.95. */
  tpr: number;
  /** The threshold of `score`: a row is an anomaly when its score is above it. */
  threshold: number;
  /** Number of held-out normal rows the thresholds were set on. */
  heldOut: number;
  /** Posterior samples K of the IWAE bound the scores were computed with (scoring uses it too). */
  nSamples: number;
  /** Per score name: threshold and the fraction of held-out rows it accepts (≥ tpr). */
  thresholds: Record<string, { threshold: number; acceptedShare: number }>;
  createdAt: string;
}

/**
 * The threshold on anomaly scores of normal rows that accepts (score ≤ threshold) at least `tpr`
 * of them: the ⌈tpr·n⌉-th smallest score. Ties at the threshold are all accepted.
 *
 * @example
 * ```ts
 * thresholdAtTpr([5, 1, 3, 2, 4], 0.8); // 4: accepts 1, 2, 3, 4 (4 of 5 = 0.8)
 * ```
 */
export function thresholdAtTpr(normalScores: ArrayLike<number>, tpr: number): number {
  if (!(tpr > 0 && tpr <= 1)) {
    throw new GensembleError(`TPR ${tpr} is out of range: use a value in (0, 1]`);
  }
  const n = normalScores.length;
  if (n === 0) throw new GensembleError("Cannot calibrate a threshold on zero held-out rows");
  const sorted = Float64Array.from(normalScores);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(sorted[i])) {
      throw new GensembleError(`Held-out score ${i} is NaN: the model produced non-finite scores`);
    }
  }
  sorted.sort();
  // tpr·n can land a hair above an integer (0.95·20 = 19.000000000000004); round that away.
  const k = Math.max(1, Math.ceil(tpr * n - 1e-9));
  return sorted[k - 1];
}

/** Fraction of scores accepted by a threshold (score ≤ threshold). */
export function acceptedShare(scores: ArrayLike<number>, threshold: number): number {
  let accepted = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i] <= threshold) accepted++;
  return accepted / scores.length;
}

/**
 * Anomaly flags: 1 where score > threshold, else 0.
 * @example flagAnomalies([0.5, 2], 1); // Uint8Array [0, 1]
 */
export function flagAnomalies(scores: ArrayLike<number>, threshold: number): Uint8Array {
  const flags = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) flags[i] = scores[i] > threshold ? 1 : 0;
  return flags;
}

/**
 * Split `n` normal rows into fitting rows and a held-out calibration share, seeded. The held-out
 * count is round(share·n), at least 1 when share > 0 and n ≥ 2; both index lists ascend.
 *
 * @example
 * ```ts
 * const { fit, heldOut } = calibrationSplit(1000, 0.1, 0); // 900 and 100 row indices
 * ```
 */
export function calibrationSplit(
  n: number,
  share: number,
  seed: number,
): { fit: Int32Array; heldOut: Int32Array } {
  if (!(share >= 0 && share < 1)) {
    throw new GensembleError(`Calibration share ${share} is out of range: use a value in [0, 1)`);
  }
  let nHeld = Math.round(share * n);
  if (share > 0 && nHeld === 0 && n >= 2) nHeld = 1;
  if (n - nHeld < 1) {
    throw new GensembleError(`Too few normal rows (${n}) to hold out ${nHeld} for calibration`);
  }
  // Its own stream (seed mixed with a constant), so it never repeats the training shuffle.
  const perm = new Rng(seed ^ 0x5ca1ab1e).permutation(n);
  const heldOut = Int32Array.from(perm.subarray(0, nHeld)).sort();
  const fit = Int32Array.from(perm.subarray(nHeld)).sort();
  return { fit, heldOut };
}

/**
 * Build a calibration record from the held-out rows' anomaly scores (one array per score name).
 *
 * @example
 * ```ts
 * const cal = calibrate({ waic: heldOutWaic, var: heldOutVar }, "waic", 0.95, 16);
 * cal.threshold === cal.thresholds.waic.threshold; // true
 * ```
 */
export function calibrate(
  heldOutScores: Record<string, ArrayLike<number>>,
  score: string,
  tpr: number,
  nSamples: number,
): Calibration {
  if (!(score in heldOutScores)) {
    throw new GensembleError(
      `Cannot calibrate on score "${score}": the run produces ${
        Object.keys(heldOutScores).join(", ")
      }`,
    );
  }
  const thresholds: Calibration["thresholds"] = {};
  let heldOut = 0;
  for (const [name, scores] of Object.entries(heldOutScores)) {
    const threshold = thresholdAtTpr(scores, tpr);
    thresholds[name] = { threshold, acceptedShare: acceptedShare(scores, threshold) };
    heldOut = scores.length;
  }
  return {
    version: 1,
    score,
    tpr,
    threshold: thresholds[score].threshold,
    heldOut,
    nSamples,
    thresholds,
    createdAt: new Date().toISOString(),
  };
}

/** Save a calibration record into a run directory, atomically. */
export async function saveCalibration(runDir: string, cal: Calibration): Promise<void> {
  await Deno.mkdir(runDir, { recursive: true });
  await writeJsonAtomic(`${runDir}/${CALIBRATION_FILE}`, cal);
}

/** Load a run's calibration record; null when the run has none. Malformed is a user error. */
export async function loadCalibration(runDir: string): Promise<Calibration | null> {
  const path = `${runDir}/${CALIBRATION_FILE}`;
  const cal = await readJsonIfExists(
    path,
    "not valid JSON; recalibrate or retrain the run",
  ) as Calibration | null;
  if (cal === null) return null;
  if (
    !cal || cal.version !== 1 || typeof cal.score !== "string" || !cal.thresholds ||
    typeof cal.thresholds[cal.score]?.threshold !== "number" || !(cal.nSamples >= 1)
  ) {
    throw new GensembleError(`${path}: not a valid calibration record; recalibrate the run`);
  }
  return cal;
}

/**
 * The threshold a run's calibration gives for a score name; a user error naming the scores
 * available when that score was not calibrated.
 */
export function thresholdFor(cal: Calibration, score: string, path = CALIBRATION_FILE): number {
  const t = cal.thresholds[score];
  if (!t) {
    throw new GensembleError(
      `${path}: no threshold for score "${score}"; calibrated scores: ${
        Object.keys(cal.thresholds).join(", ")
      }`,
    );
  }
  return t.threshold;
}

/**
 * CLI: recalibrate a tabular run on its held-out normal rows (another `--tpr` or score).
 *   deno run -A tasks/calibrate.ts --model_dir runs/creditcard-vae --tpr 0.99
 */
async function main(): Promise<void> {
  // Imported here so that the threshold functions above stay free of tfjs and the models.
  const { runCli } = await import("../core/errors.ts");
  const { parseCliOrHelp } = await import("./cli_flags.ts");
  const { TABULAR_SCORE_NAMES } = await import("./score_ensemble.ts");
  const { calibrateTabularRun } = await import("./tabular_train.ts");
  await runCli(async () => {
    const spec = {
      usage: "deno run -A tasks/calibrate.ts --model_dir RUN [flags]",
      description: "Set a tabular run's anomaly threshold on its held-out normal rows: the " +
        "threshold accepts --tpr of them. Writes calibration.json in the run.",
      flags: {
        model_dir: { type: "string" as const, placeholder: "DIR", help: "The trained run." },
        tpr: {
          type: "number" as const,
          default: 0.95,
          min: 0.5,
          max: 1,
          help: "Share of held-out normal rows accepted.",
        },
        threshold_score: {
          type: "string" as const,
          choices: TABULAR_SCORE_NAMES,
          default: "waic",
          help: "Score the anomaly flag uses.",
        },
        samples: {
          type: "int" as const,
          min: 1,
          defaultText: "the run's eval K",
          help: "Posterior samples K for the scores (scoring then uses the same K).",
        },
        backend: {
          type: "string" as const,
          choices: ["auto", "webgpu", "wasm", "cpu"],
          default: "auto",
          help: "tfjs backend.",
        },
      },
    };
    const cli = parseCliOrHelp(Deno.args, spec);
    if (!cli) return;
    const runDir = cli.string("model_dir");
    if (!runDir) throw new GensembleError(`Missing --model_dir; usage: ${spec.usage}`);
    const cal = await calibrateTabularRun(runDir, {
      tpr: cli.number("tpr"),
      thresholdScore: cli.string("threshold_score") as "waic",
      nSamples: cli.int("samples"),
      backend: cli.string("backend") as "auto",
    });
    if (!cal) {
      throw new GensembleError(`${runDir}: the run holds out no normal rows (--calibration 0)`);
    }
    console.log(calibrationSummary(cal));
  });
}

/** One line describing a calibration record. */
export function calibrationSummary(
  cal: Calibration & { labelledAnomalies?: { count: number; flaggedShare: number } },
): string {
  const extra = cal.labelledAnomalies
    ? `; flags ${(100 * cal.labelledAnomalies.flaggedShare).toFixed(1)}% of the file's ` +
      `${cal.labelledAnomalies.count} labelled anomalies`
    : "";
  return `calibrated: anomaly when ${cal.score} > ${cal.threshold.toPrecision(6)} (accepts ` +
    `${(100 * cal.thresholds[cal.score].acceptedShare).toFixed(1)}% of ${cal.heldOut} held-out ` +
    `normal rows, target ${cal.tpr}; K = ${cal.nSamples})${extra}`;
}

// Not awaited: main() imports modules that import this one, and a pending top-level await here
// would deadlock that cycle ("Top-level await promise never resolved").
if (import.meta.main) main();
