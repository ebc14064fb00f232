/**
 * `eval/report_data.json`: what the HTML report needs from an eval, so that `deno task report`
 * rebuilds the page without loading data or models. Eval builds it from its in-memory results
 * with `buildReportData` and saves it with `writeReportData`; per set it holds
 *
 * - every anomaly score of every input (exact float32; ROC curves and histograms),
 * - the 64 most and 64 least anomalous inputs by WAIC, as uint8 images (image runs),
 * - a few inputs and their reconstructions by member 0 (image runs whose member can decode),
 * - member 0's posterior means for a strided subsample (the PCA view of the latent space).
 */
import { readJsonIfExists } from "../core/json_file.ts";
import { tf } from "../deps.ts";
import { writeJsonAtomic } from "../core/atomic.ts";
import { fileError } from "../core/errors.ts";
import { encodeArray, type EncodedArray } from "./encoded_array.ts";
import { toUint8Pixels } from "./image_grid.ts";

/** How a set was made (the names of `SuiteSet.kind` in tasks/ood_suite.ts). */
export type SetKind = "in" | "dataset" | "noise" | "flip" | "adversarial" | "user" | "anomalies";

/** Classify an eval set by its name, for callers that do not pass a kind. */
export function setKind(name: string, inDistribution: string): SetKind {
  if (name === inDistribution) return "in";
  if (name === "hflip" || name === "vflip") return "flip";
  if (name.startsWith("adv_")) return "adversarial";
  if (name.endsWith("_noise")) return "noise";
  return "dataset";
}

/** Inputs picked from a set, with their anomaly scores and pixels. */
export interface RankedImages {
  /** [K] indices into the set, most anomalous first (or least anomalous first). */
  indices: number[];
  /** [K] the ranking score of each. */
  scores: number[];
  /** [K, H, W, C] uint8 pixels. */
  images: EncodedArray;
}

/** One set's entry in report_data.json. */
export interface ReportSet {
  name: string;
  kind: SetKind;
  n: number;
  /** What the entry was built from (eval's choice: set fingerprint + member digests), if given. */
  fingerprint?: string;
  /** Score name → [N] anomaly scores (higher = more anomalous), all members aggregated. */
  scores: Record<string, EncodedArray>;
  /** Image runs: the inputs with the highest and the lowest `rankedBy` score. */
  mostAnomalous?: RankedImages;
  leastAnomalous?: RankedImages;
  /** Image runs with a decoding member: inputs [K, H, W, C] and decoded means, uint8. */
  reconstructions?: {
    member: number;
    indices: number[];
    inputs: EncodedArray;
    decoded: EncodedArray;
  };
  /** Posterior means [K, L] of a strided subsample, from one member. */
  latent?: { member: number; indices: number[]; posteriorMean: EncodedArray };
}

/** The whole of `eval/report_data.json`. */
export interface ReportData {
  version: 1;
  inDistribution: string;
  /** One input's shape: [H, W, C] (images) or [F] (tabular). */
  inputShape: number[];
  /** Score the image grids are sorted by ("waic" when the run has it). */
  rankedBy: string;
  scoreConvention: string;
  sets: ReportSet[];
}

/** One evaluated set as eval holds it in memory. */
export interface ReportSetInput {
  name: string;
  /** How the set was made (default: guessed from the name). */
  kind?: SetKind;
  /** Optional key for `reusableReportSet`: e.g. the set fingerprint and the member digests. */
  fingerprint?: string;
  /** [N, ...inputShape] the inputs as scored, in [0, 1]. */
  x: Float32Array;
  /** Score name → [N] anomaly scores (e.g. `aggregateScores` over all members). */
  scores: Partial<Record<string, Float32Array>>;
  /** [N, L] posterior means of member 0, when the model has them. */
  posteriorMean?: Float32Array;
}

/** A member that can decode: the decoder's mean for the posterior mean of each input. */
export interface Reconstructor {
  /** x [K, ...inputShape] in [0, 1] → reconstructions, same shape, in [0, 1]; caller disposes. */
  reconstruct(x: tf.Tensor): tf.Tensor;
}

/** Whether a member implements `reconstruct` (VAEs do; WGAN critics do not). */
export function canReconstruct(member: unknown): member is Reconstructor {
  return typeof (member as Partial<Reconstructor> | null)?.reconstruct === "function";
}

/** What every set's entry depends on besides the set itself. */
export interface ReportSetContext {
  inDistribution: string;
  /** One input's shape: [H, W, C] for images (grids, reconstructions) or [F] for tabular. */
  inputShape: number[];
  /** Member 0, used for reconstructions when it implements `reconstruct`. */
  member?: unknown;
  /** Images per grid (default 64), reconstructions per set (8), latent points per set (300). */
  gridCount?: number;
  reconstructionCount?: number;
  latentPerSet?: number;
}

/** Options of `buildReportData`: the context plus every evaluated set. */
export interface ReportDataInput extends ReportSetContext {
  /** Every evaluated set, the in-distribution test set included. */
  sets: readonly ReportSetInput[];
}

/** Score order for ranking: WAIC first, as in the reference's sorted grids. */
const RANK_PREFERENCE = ["waic", "mean", "single", "var", "rate"];

/** Indices of the k largest (or smallest) scores, ties by index; NaN last. */
function topK(scores: Float32Array, k: number, largest: boolean): number[] {
  const idx = Array.from(scores, (_, i) => i);
  const key = (i: number) => {
    const v = scores[i];
    return Number.isNaN(v) ? -Infinity : largest ? v : -v;
  };
  idx.sort((a, b) => key(b) - key(a) || a - b);
  return idx.slice(0, Math.min(k, scores.length));
}

/** Rows `indices` of an [N, ...] array with `per` values per row. */
function gatherRows(x: Float32Array, per: number, indices: readonly number[]): Float32Array {
  const out = new Float32Array(indices.length * per);
  indices.forEach((r, k) => out.set(x.subarray(r * per, (r + 1) * per), k * per));
  return out;
}

function strided(n: number, k: number): number[] {
  const m = Math.min(n, k);
  return Array.from({ length: m }, (_, i) => Math.floor((i * n) / m));
}

function ranked(
  set: ReportSetInput,
  scores: Float32Array,
  indices: number[],
  inputShape: number[],
  per: number,
): RankedImages {
  return {
    indices,
    scores: indices.map((i) => scores[i]),
    images: encodeArray(toUint8Pixels(gatherRows(set.x, per, indices)), [
      indices.length,
      ...inputShape,
    ]),
  };
}

function reconstructRows(member: Reconstructor, rows: Float32Array, shape: number[]): Float32Array {
  const input = tf.tensor(rows, shape);
  try {
    const out = member.reconstruct(input);
    try {
      const values = out.dataSync() as Float32Array;
      if (values.length !== rows.length) {
        throw new Error(
          `reconstruct returned ${values.length} values for an input of shape [${shape}]`,
        );
      }
      return Float32Array.from(values);
    } finally {
      out.dispose();
    }
  } finally {
    input.dispose();
  }
}

/** The score the grids are sorted by: WAIC when present, as in the reference's figures. */
export function rankingScore(scoreNames: readonly string[]): string {
  return RANK_PREFERENCE.find((s) => scoreNames.includes(s)) ?? scoreNames[0] ?? "";
}

/**
 * One set's entry of report_data.json, built while its inputs are in memory (so eval can drop
 * each set's inputs before building the next). Image runs get sorted grids and reconstructions.
 *
 * @example
 * ```ts
 * entries.push(reportSetEntry({ name: set.name, kind: set.kind, x: ds.x,
 *   scores: aggregateScores(perMember, names), posteriorMean: perMember[0].posteriorMean }, ctx));
 * ```
 */
export function reportSetEntry(set: ReportSetInput, ctx: ReportSetContext): ReportSet {
  const { inputShape } = ctx;
  const per = inputShape.reduce((a, b) => a * b, 1);
  const n = set.x.length / per;
  if (!Number.isInteger(n)) {
    throw new Error(
      `reportSetEntry: set "${set.name}" has ${set.x.length} values, not [N, ${inputShape}]`,
    );
  }
  const scores: Record<string, EncodedArray> = {};
  for (const [name, values] of Object.entries(set.scores)) {
    if (!values) continue;
    if (values.length !== n) {
      throw new Error(
        `reportSetEntry: set "${set.name}" has ${values.length} ${name} scores for ${n} inputs`,
      );
    }
    scores[name] = encodeArray(values, [n]);
  }
  const out: ReportSet = {
    name: set.name,
    kind: set.kind ?? setKind(set.name, ctx.inDistribution),
    n,
    ...(set.fingerprint ? { fingerprint: set.fingerprint } : {}),
    scores,
  };
  const isImage = inputShape.length === 3;
  const rankScores = set.scores[rankingScore(Object.keys(scores))];
  if (isImage && rankScores) {
    const k = ctx.gridCount ?? 64;
    out.mostAnomalous = ranked(set, rankScores, topK(rankScores, k, true), inputShape, per);
    out.leastAnomalous = ranked(set, rankScores, topK(rankScores, k, false), inputShape, per);
  }
  if (isImage && canReconstruct(ctx.member)) {
    const indices = strided(n, ctx.reconstructionCount ?? 8);
    const shape = [indices.length, ...inputShape];
    const rows = gatherRows(set.x, per, indices);
    out.reconstructions = {
      member: 0,
      indices,
      inputs: encodeArray(toUint8Pixels(rows), shape),
      decoded: encodeArray(toUint8Pixels(reconstructRows(ctx.member, rows, shape)), shape),
    };
  }
  if (set.posteriorMean) {
    const latent = set.posteriorMean.length / n;
    const indices = strided(n, ctx.latentPerSet ?? 300);
    out.latent = {
      member: 0,
      indices,
      posteriorMean: encodeArray(gatherRows(set.posteriorMean, latent, indices), [
        indices.length,
        latent,
      ]),
    };
  }
  return out;
}

/** Put per-set entries (from `reportSetEntry` or `reusableReportSet`) into a ReportData. */
export function assembleReportData(
  entries: readonly ReportSet[],
  ctx: Pick<ReportSetContext, "inDistribution" | "inputShape">,
): ReportData {
  if (!entries.some((s) => s.name === ctx.inDistribution)) {
    throw new Error(`assembleReportData: no set named "${ctx.inDistribution}" (in-distribution)`);
  }
  return {
    version: 1,
    inDistribution: ctx.inDistribution,
    inputShape: [...ctx.inputShape],
    rankedBy: rankingScore(Object.keys(entries[0].scores)),
    scoreConvention: "anomaly scores, higher = more anomalous",
    sets: [...entries],
  };
}

/**
 * Build `report_data.json` from eval's in-memory sets and scores in one call. Image runs
 * (inputShape [H, W, C]) get sorted grids and reconstructions; tabular runs scores and latents.
 *
 * @example
 * ```ts
 * const data = buildReportData({
 *   inDistribution: "mnist", inputShape: [28, 28, 1], member: members[0],
 *   sets: [{ name: "mnist", x: test.x, scores: aggregateScores(perMember, names),
 *            posteriorMean: perMember[0].posteriorMean }, ...],
 * });
 * await writeReportData(runPaths(dir).evalDir, data);
 * ```
 */
export function buildReportData(input: ReportDataInput): ReportData {
  return assembleReportData(input.sets.map((set) => reportSetEntry(set, input)), input);
}

/**
 * A set's entry from a previous report_data.json when its fingerprint matches, so a fully cached
 * eval need not rebuild that set's inputs; null otherwise.
 */
export function reusableReportSet(
  previous: ReportData | null,
  name: string,
  fingerprint: string,
): ReportSet | null {
  return previous?.sets.find((s) => s.name === name && s.fingerprint === fingerprint) ?? null;
}

/** Write `<evalDir>/report_data.json` atomically (creating the directory). */
export async function writeReportData(evalDir: string, data: ReportData): Promise<void> {
  await Deno.mkdir(evalDir, { recursive: true });
  await writeJsonAtomic(`${evalDir}/report_data.json`, data);
}

/**
 * Read `report_data.json`; null when absent. Damaged or from another version: a user error that
 * names the file.
 */
export async function readReportData(path: string): Promise<ReportData | null> {
  const data = await readJsonIfExists(
    path,
    "is not valid JSON; re-run the eval to rewrite it",
  ) as ReportData | null;
  if (data === null) return null;
  if (data?.version !== 1 || !Array.isArray(data.sets) || !Array.isArray(data.inputShape)) {
    throw fileError(path, "is not a version 1 report data file; re-run the eval to rewrite it");
  }
  return data;
}
