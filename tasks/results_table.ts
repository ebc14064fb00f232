/**
 * The eval's outputs: `eval/results.json` (the schema below), `eval/results.md`, and the table
 * printed on stdout. Everything here is deterministic except the separate `timing` field.
 */
import { writeJsonAtomic, writeTextAtomic } from "../core/atomic.ts";

/** One OoD set × one anomaly score; metric values are bootstrap means over members. */
export interface ResultRow {
  ood: string;
  score: string;
  auroc: number;
  aurocStd: number;
  auprIn: number;
  auprInStd: number;
  auprOut: number;
  auprOutStd: number;
  /** ODIN convention: fraction of OoD accepted where 95% of in-distribution is accepted. */
  fpr95: number;
  fpr95Std: number;
  fpr99: number;
  /** AUROC with all members in order (no resampling). */
  aurocAllMembers: number;
}

/** The whole of `eval/results.json`. */
export interface EvalResults {
  dataset: string;
  model: string;
  preset: string;
  /** What the preset is for (the default one says it is sized for a 2-core CPU). */
  presetSummary?: string;
  /** The members' shared config from config.json (architecture, steps, K while training...). */
  trainedWith?: Record<string, unknown>;
  /** Member values given by flags over the preset's (`--scale_input false`, ...). */
  overrides?: Record<string, unknown>;
  /** The preset eval took its sizes from, when `--preset` differs from the run's. */
  evalPreset?: string;
  backend: string;
  /** Number of complete members evaluated. */
  members: number;
  memberIndices: number[];
  memberSteps: number[];
  /** Members skipped because their checkpoint is not at the final step. */
  incompleteMembers: { member: number; step: number; maxSteps: number }[];
  /** Inputs scored per set, the in-distribution test set included. */
  nPerSet: Record<string, number>;
  /** OoD sets of the suite whose files were not found: not evaluated. */
  missing: string[];
  missingReasons: Record<string, string>;
  inDistribution: string;
  /** How adv_* sets were made: recipe (data/adversarial.ts), step size, attacked member. */
  adversarial: { recipe: string; epsilon: number; attackedMember: number };
  nSamples: number;
  seed: number;
  bootstrap: { resamples: number; seed: number; note: string };
  scores: string[];
  scoreConvention: string;
  rows: ResultRow[];
  /** Wall-clock seconds; the one field that differs between identical runs. */
  timing?: Record<string, number>;
}

function fmt(v: number, digits = 3): string {
  return Number.isFinite(v) ? v.toFixed(digits) : String(v);
}

function pad(s: string, w: number, right = false): string {
  return right ? s.padStart(w) : s.padEnd(w);
}

/** A fixed-width text table: first column left-aligned, the rest right-aligned. */
function textTable(header: string[], body: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((s, c) => pad(s, widths[c], c > 0)).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

function mdTable(header: string[], body: string[][]): string {
  const line = (r: string[]) => `| ${r.join(" | ")} |`;
  const sep = `|${header.map((_, c) => (c === 0 ? "---" : "---:")).join("|")}|`;
  return [line(header), sep, ...body.map(line)].join("\n");
}

function oodOrder(r: EvalResults): string[] {
  return [...new Set(r.rows.map((row) => row.ood))];
}

function find(r: EvalResults, ood: string, score: string): ResultRow | undefined {
  return r.rows.find((row) => row.ood === ood && row.score === score);
}

/** AUROC matrix: one line per OoD set, one column per score, "mean±std". */
function aurocMatrix(r: EvalResults): { header: string[]; body: string[][] } {
  const header = ["OoD set", "n", ...r.scores];
  const body = oodOrder(r).map((ood) => [
    ood,
    String(r.nPerSet[ood] ?? ""),
    ...r.scores.map((s) => {
      const row = find(r, ood, s);
      return row ? `${fmt(row.auroc)}±${fmt(row.aurocStd)}` : "";
    }),
  ]);
  return { header, body };
}

/** One row's cells of the long table: set, score, AUROC, ±, AUPR-In/Out, FPR@95/99. */
export function metricCells(row: ResultRow): string[] {
  return [
    row.ood,
    row.score,
    fmt(row.auroc),
    fmt(row.aurocStd),
    fmt(row.auprIn),
    fmt(row.auprOut),
    fmt(row.fpr95),
    fmt(row.fpr99),
  ];
}

/** Long table: every set × score with all metrics. */
function longTable(r: EvalResults): { header: string[]; body: string[][] } {
  const header = ["OoD set", "score", "AUROC", "±", "AUPR-In", "AUPR-Out", "FPR@95", "FPR@99"];
  return { header, body: r.rows.map(metricCells) };
}

function missingLine(r: EvalResults): string {
  if (r.missing.length === 0) return "";
  return "Missing OoD sets (files not found, not evaluated): " +
    r.missing.map((m) => `${m} (${r.missingReasons[m] ?? "not found"})`).join("; ");
}

/** "Flags over the preset: scaleInput false, maxSteps 900." (empty when there are none). */
function overridesLine(r: EvalResults): string {
  const entries = Object.entries(r.overrides ?? {}).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "";
  return `Flags over the preset: ${
    entries.map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(",") : v}`).join(", ")
  }.`;
}

function headline(r: EvalResults): string {
  return `${r.dataset} ${r.model}, preset ${r.preset}, backend ${r.backend}, ` +
    `${r.members} members (${r.memberIndices.map((i) => `member-${i}`).join(", ")}), ` +
    (r.model === "wgan" ? "" : `K = ${r.nSamples}, `) +
    `bootstrap B = ${r.bootstrap.resamples}; ` +
    `in-distribution: ${r.inDistribution} test (n = ${r.nPerSet[r.inDistribution]})`;
}

/**
 * The table printed on stdout: AUROC per set and score, then every metric per row.
 *
 * @example
 * ```ts
 * console.log(formatResultsText(results));
 * ```
 */
export function formatResultsText(r: EvalResults): string {
  const a = aurocMatrix(r);
  const l = longTable(r);
  const parts = [
    headline(r),
    "",
    "AUROC (bootstrap mean±std over members; anomaly scores, higher = more anomalous)",
    textTable(a.header, a.body),
    "",
    textTable(l.header, l.body),
  ];
  const miss = missingLine(r);
  if (miss) parts.push("", miss);
  return parts.join("\n");
}

/** The same tables as Markdown, for `eval/results.md`. */
export function formatResultsMarkdown(r: EvalResults): string {
  const a = aurocMatrix(r);
  const l = longTable(r);
  const parts = [
    `# OoD detection: ${r.dataset} ${r.model}`,
    "",
    headline(r) + ".",
    "",
    ...(r.presetSummary ? [`Preset ${r.preset}: ${r.presetSummary}.`, ""] : []),
    ...(overridesLine(r) ? [overridesLine(r), ""] : []),
    `Scores: ${r.scoreConvention}. ${r.bootstrap.note}`,
    "",
    `Adversarial noise: recipe ${r.adversarial.recipe}, ε = ${r.adversarial.epsilon}, ` +
    `against member-${r.adversarial.attackedMember}.`,
    "",
    "## AUROC",
    "",
    mdTable(a.header, a.body),
    "",
    "## All metrics",
    "",
    mdTable(l.header, l.body),
  ];
  const miss = missingLine(r);
  if (miss) parts.push("", miss + ".");
  if (r.incompleteMembers.length > 0) {
    parts.push(
      "",
      "Skipped incomplete members: " +
        r.incompleteMembers.map((m) => `member-${m.member} (step ${m.step} of ${m.maxSteps})`)
          .join(", ") +
        ".",
    );
  }
  return parts.join("\n") + "\n";
}

/** Write `results.json` and `results.md` into `evalDir` (created if needed), atomically. */
export async function writeResults(evalDir: string, r: EvalResults): Promise<void> {
  await Deno.mkdir(evalDir, { recursive: true });
  await writeJsonAtomic(`${evalDir}/results.json`, r);
  await writeTextAtomic(`${evalDir}/results.md`, formatResultsMarkdown(r));
}
