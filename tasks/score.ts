/**
 * `deno task score --model_dir RUN file.csv [--out scored.csv]`: flag new rows with a trained
 * tabular ensemble. Streams the file (memory stays flat however long it is) in batches of 4096
 * rows through every member and writes each input row with its anomaly scores appended
 * (`single,mean,var,waic,rate,posterior_mean_var,single_ec,mean_ec,waic_ec`, higher = more
 * anomalous; `_ec` = entropy-corrected, see tasks/score_ensemble.ts) and an `anomaly` 0/1 flag
 * from the run's calibrated threshold (`--threshold_score`, default the calibration's: waic).
 *
 * Bad rows (wrong column count, a non-numeric or empty feature cell) are fatal by default, with a
 * one-line error naming the file and line; `--on_bad_row skip` reports and skips them. The output
 * is written to a temporary file and renamed at the end, so a failed run leaves no half-written
 * output. The header must name the training features (any order); the training label column may
 * be present and is passed through, as are columns named with `--extra_columns`.
 *
 * Run: deno task score --model_dir runs/creditcard-vae transactions.csv --out scored.csv
 */
import { GensembleError, runCli } from "../core/errors.ts";
import { BACKEND_NAMES, type BackendName } from "../core/backend.ts";
import {
  type BadRow,
  type BadRowPolicy,
  type CsvBatch,
  streamCsvBatches,
} from "../data/csv_stream.ts";
import { type CommandSpec, parseCliOrHelp } from "./cli_flags.ts";
import {
  type LoadedEnsemble,
  loadEnsemble,
  resolveThreshold,
  SCORE_BATCH_ROWS,
  scoreScaledBatch,
  TABULAR_SCORE_NAMES,
  type TabularScoreName,
  type TabularScores,
} from "./score_ensemble.ts";
import { applyPreprocess } from "./tabular_prep.ts";

export const SCORE_SPEC: CommandSpec = {
  usage: "deno task score --model_dir RUN <file.csv> [flags]",
  description:
    "Score the rows of a CSV file with a trained tabular ensemble: writes each row with " +
    "its anomaly scores (higher = more anomalous) and a calibrated 0/1 anomaly flag.",
  positionals: { names: "<file.csv>", min: 1, max: 1 },
  flags: {
    model_dir: { type: "string", placeholder: "DIR", help: "The trained run directory." },
    out: {
      type: "string",
      placeholder: "PATH",
      help: "Output CSV; - for stdout.",
      defaultText: "<input>.scored.csv",
    },
    on_bad_row: {
      type: "string",
      choices: ["error", "skip"],
      default: "error",
      help: "A row with the wrong column count or a non-numeric cell: stop, or skip it.",
    },
    threshold_score: {
      type: "string",
      choices: TABULAR_SCORE_NAMES,
      help: "Score the anomaly flag thresholds.",
      defaultText: "the run's calibration (waic)",
    },
    threshold: {
      type: "number",
      help: "Use this threshold instead of the calibrated one.",
    },
    samples: {
      type: "int",
      min: 1,
      help: "Posterior samples K of the IWAE bound (the threshold is calibrated for the run's K).",
      defaultText: "the run's K",
    },
    extra_columns: {
      type: "string",
      placeholder: "A,B",
      help: "Columns besides the features the file may have; passed through unchanged.",
    },
    backend: { type: "string", choices: BACKEND_NAMES, default: "auto", help: "tfjs backend." },
    workers: {
      type: "int",
      min: 0,
      default: 0,
      help: "Score members in this many Deno Workers (0: in this thread); same numbers.",
    },
    quiet: { type: "boolean", help: "No progress lines." },
  },
  epilog: "Scores: single = −log p̂ of member 0, mean = −E[log p̂], var = Var[log p̂], " +
    "waic = −(E − Var), rate, posterior_mean_var; <score>_ec = <score> − Σ_f H(x_f), the " +
    "Bernoulli entropy floor of the scaled row removed.\n" +
    "Example: deno task score --model_dir runs/creditcard-vae new.csv --out scored.csv",
};

/**
 * Format a float32 value with the fewest significant digits (7 to 9) that read back to the same
 * float32: `0.1` rather than `0.10000000149011612`.
 */
export function formatFloat32(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  for (let p = 7; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(+s) !== v) continue;
    // "1.250000" → "1.25"; exponent forms ("1.234567e+21") go through Number's own shortest form.
    return s.indexOf("e") < 0 && s.indexOf(".") >= 0 ? s.replace(/\.?0+$/, "") : String(+s);
  }
  return String(v);
}

/** Options of `scoreFile`. */
export interface ScoreFileOptions {
  input: string;
  /** Output path; "-" writes to stdout. */
  out: string;
  onBadRow?: BadRowPolicy;
  thresholdScore?: TabularScoreName;
  threshold?: number;
  extraColumns?: string[];
  /** Called for every skipped bad row. */
  onSkip?: (bad: BadRow) => void;
  /** Called after every batch with the rows scored so far. */
  onProgress?: (rows: number, seconds: number) => void;
}

/** What `scoreFile` did. */
export interface ScoreFileSummary {
  rows: number;
  skipped: number;
  /** Rows flagged, or null without a threshold. */
  anomalies: number | null;
  thresholdScore: string;
  threshold: number | null;
  seconds: number;
  rowsPerSec: number;
}

async function writeAll(w: { write(p: Uint8Array): Promise<number> }, bytes: Uint8Array) {
  let off = 0;
  while (off < bytes.length) off += await w.write(bytes.subarray(off));
}

/**
 * Stream-score a CSV file with a loaded ensemble into `out` (atomically unless stdout).
 *
 * @example
 * ```ts
 * const ens = await loadEnsemble("runs/creditcard-vae");
 * const s = await scoreFile(ens, { input: "new.csv", out: "scored.csv" });
 * s.anomalies; // rows flagged
 * ```
 */
export async function scoreFile(
  ens: LoadedEnsemble,
  opts: ScoreFileOptions,
): Promise<ScoreFileSummary> {
  const started = performance.now();
  const pre = ens.preprocess;
  const { score, threshold } = resolveThreshold(ens, opts.thresholdScore, opts.threshold);
  const names = ens.scoreNames;
  const suffix = "," + names.join(",") + (threshold !== null ? ",anomaly" : "") + "\n";
  const toStdout = opts.out === "-";
  const tmp = toStdout ? null : `${opts.out}.${Deno.pid}.tmp`;
  const file = toStdout
    ? null
    : await Deno.open(tmp!, { write: true, create: true, truncate: true });
  const sink = file ?? Deno.stdout;
  const encoder = new TextEncoder();
  let rows = 0;
  let skipped = 0;
  let flagged = 0;
  let header = "";
  let ok = false;
  try {
    const allowedExtra = [
      ...(pre.labelColumn ? [pre.labelColumn] : []),
      ...(opts.extraColumns ?? []),
    ];
    const batches = streamCsvBatches(opts.input, {
      features: pre.featureNames,
      allowedExtra,
      batchRows: SCORE_BATCH_ROWS,
      onBadRow: opts.onBadRow ?? "error",
      onSkip: (bad) => {
        skipped++;
        opts.onSkip?.(bad);
      },
      onHeader: (_cells, line) => (header = line),
    });
    let wroteHeader = false;
    const write = async (batch: CsvBatch, s: TabularScores) => {
      const cols = names.map((n) => s[n]!);
      const flagScores = threshold !== null ? s[score as TabularScoreName]! : null;
      const parts: string[] = new Array(batch.rows);
      for (let i = 0; i < batch.rows; i++) {
        let line = batch.lines[i];
        for (const c of cols) line += "," + formatFloat32(c[i]);
        if (flagScores) {
          const a = flagScores[i] > threshold! ? 1 : 0;
          flagged += a;
          line += a ? ",1" : ",0";
        }
        parts[i] = line;
      }
      await writeAll(sink, encoder.encode(parts.join("\n") + "\n"));
      rows += batch.rows;
      opts.onProgress?.(rows, (performance.now() - started) / 1000);
    };
    // One batch in flight: with score workers, the next batch is parsed while this one scores.
    let inflight:
      | { batch: CsvBatch; scores: Promise<TabularScores> }
      | null = null;
    for await (const batch of batches) {
      if (!wroteHeader) {
        await writeAll(sink, encoder.encode(header + suffix));
        wroteHeader = true;
      }
      const next = {
        batch,
        scores: scoreScaledBatch(ens, applyPreprocess(pre, batch.values), batch.rows),
      };
      next.scores.catch(() => {}); // awaited below; this only marks a failure as handled
      if (inflight) await write(inflight.batch, await inflight.scores);
      inflight = next;
    }
    if (inflight) await write(inflight.batch, await inflight.scores);
    if (!wroteHeader) await writeAll(sink, encoder.encode(header + suffix));
    ok = true;
  } finally {
    file?.close();
    if (tmp) {
      if (ok) await Deno.rename(tmp, opts.out);
      else await Deno.remove(tmp).catch(() => {});
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    rows,
    skipped,
    anomalies: threshold !== null ? flagged : null,
    thresholdScore: score,
    threshold,
    seconds,
    rowsPerSec: rows / Math.max(seconds, 1e-9),
  };
}

/** The default output path: `<input without .csv/.gz>.scored.csv`. */
export function defaultOutPath(input: string): string {
  return input.replace(/\.gz$/i, "").replace(/\.csv$/i, "") + ".scored.csv";
}

async function main(): Promise<void> {
  const cli = parseCliOrHelp(Deno.args, SCORE_SPEC);
  if (!cli) return;
  const runDir = cli.string("model_dir");
  if (!runDir) {
    throw new GensembleError(`Missing --model_dir <run directory>; usage: ${SCORE_SPEC.usage}`);
  }
  const input = cli.positionals[0];
  const out = cli.string("out") ?? defaultOutPath(input);
  const quiet = cli.bool("quiet");
  const ens = await loadEnsemble(runDir, {
    backend: cli.string("backend") as BackendName,
    nSamples: cli.int("samples"),
    quiet,
    workers: cli.int("workers"),
  });
  const cal = ens.calibration;
  if (cli.given("samples") && cal && cal.nSamples !== ens.nSamples) {
    console.error(
      `gensemble: warning: the threshold was calibrated with K = ${cal.nSamples} samples; ` +
        `scoring with K = ${ens.nSamples} shifts the scores`,
    );
  }
  const listed = { count: 0 };
  const MAX_LISTED = 20;
  let lastProgress = 0;
  try {
    const summary = await scoreFile(ens, {
      input,
      out,
      onBadRow: cli.string("on_bad_row") as BadRowPolicy,
      thresholdScore: cli.string("threshold_score") as TabularScoreName | undefined,
      threshold: cli.number("threshold"),
      extraColumns: cli.string("extra_columns")?.split(",").map((c) => c.trim()).filter(Boolean),
      onSkip: (bad) => {
        if (listed.count < MAX_LISTED) {
          console.error(`skipped ${input}:${bad.line}: ${bad.reason}`);
        } else if (listed.count === MAX_LISTED) {
          console.error("(further skipped rows are counted, not listed)");
        }
        listed.count++;
      },
      onProgress: (rows, seconds) => {
        if (!quiet && seconds - lastProgress >= 5) {
          lastProgress = seconds;
          console.error(
            `scored ${rows.toLocaleString("en-US")} rows (${
              Math.round(rows / seconds).toLocaleString("en-US")
            } rows/s)`,
          );
        }
      },
    });
    const flagged = summary.anomalies === null
      ? "no threshold (the run has no calibration; pass --threshold)"
      : `flagged ${summary.anomalies.toLocaleString("en-US")} (${
        (100 * summary.anomalies / Math.max(1, summary.rows)).toFixed(2)
      }%) as anomalies (${summary.thresholdScore} > ${
        formatFloat32(Math.fround(summary.threshold!))
      }${
        cal && cli.number("threshold") === undefined
          ? `, calibrated to accept ${cal.tpr} of ${cal.heldOut} held-out normal rows`
          : ""
      })`;
    console.error(
      `scored ${summary.rows.toLocaleString("en-US")} rows` +
        (summary.skipped > 0 ? `, skipped ${summary.skipped} bad rows` : "") +
        ` in ${summary.seconds.toFixed(1)} s (${
          Math.round(summary.rowsPerSec).toLocaleString("en-US")
        } rows/s); ${flagged}; wrote ${out === "-" ? "stdout" : out}`,
    );
  } finally {
    ens.dispose();
  }
}

if (import.meta.main) await runCli(main);
