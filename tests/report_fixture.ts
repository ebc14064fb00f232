/**
 * A tiny synthetic run directory for the report tests, in the real file formats: config.json,
 * member-<i>/train_log.jsonl (with a torn last line), eval/results.json (metrics from the real
 * oodMetrics) and eval/report_data.json (from the real aggregateScores and buildReportData).
 * Images are 12 × 12 gray: in-distribution inputs are centred blobs, OoD sets are their flips,
 * noise and stripes; each member's log-likelihood is minus the distance to the mean blob plus
 * member noise, so OoD sets score as more anomalous.
 */
import { tf } from "../deps.ts";
import { writeJsonAtomic } from "../core/atomic.ts";
import { initBackend } from "../core/backend.ts";
import { Rng } from "../core/rng.ts";
import { oodMetrics } from "../metrics/ood_metrics.ts";
import type { MemberScores } from "../models/member.ts";
import { aggregateScores, availableScores } from "../tasks/aggregate.ts";
import type { EvalResults, ResultRow } from "../tasks/results_table.ts";
import { buildReportData, type ReportSetInput, writeReportData } from "../report/report_data.ts";

const SIDE = 12;
const N = 80;
const MEMBERS = 3;
const LATENT = 4;

/** Build one set's inputs [N, SIDE, SIDE, 1] in [0, 1]. */
function images(kind: string, rng: Rng): Float32Array {
  const x = new Float32Array(N * SIDE * SIDE);
  for (let i = 0; i < N; i++) {
    const cx = 5.5 + rng.normal() * 0.8;
    const cy = 5.5 + rng.normal() * 0.8;
    const r = 2.5 + rng.uniform() * 1.5;
    for (let y = 0; y < SIDE; y++) {
      for (let c = 0; c < SIDE; c++) {
        let v: number;
        if (kind === "uniform_noise") v = rng.uniform();
        else if (kind === "stripes") v = (c + i) % 4 < 2 ? 1 : 0;
        else {
          const yy = kind === "vflip" ? SIDE - 1 - y : y;
          const d = Math.hypot(c - cx, yy - cy * (kind === "vflip" ? 1.5 : 1));
          v = Math.max(0, Math.min(1, r - d));
        }
        x[(i * SIDE + y) * SIDE + c] = v;
      }
    }
  }
  return x;
}

function memberScores(x: Float32Array, member: number, rng: Rng, withLatent: boolean) {
  const per = x.length / N;
  const mean = new Float32Array(per); // mean blob is computed per set: close enough for a fixture
  const logLik = new Float32Array(N);
  const rate = new Float32Array(N);
  const posteriorMean = new Float32Array(N * LATENT);
  for (let i = 0; i < N; i++) {
    let d = 0;
    let mass = 0;
    for (let j = 0; j < per; j++) {
      const v = x[i * per + j];
      const centre = Math.hypot((j % SIDE) - 5.5, Math.floor(j / SIDE) - 5.5);
      mean[j] = Math.max(0, 3 - centre);
      d += (v - mean[j]) ** 2;
      mass += v;
    }
    logLik[i] = -d - (member + 1) * rng.uniform() * d * 0.1;
    rate[i] = 5 + d * 0.2 + rng.normal();
    for (let l = 0; l < LATENT; l++) {
      posteriorMean[i * LATENT + l] = (l === 0 ? d / 10 : l === 1 ? mass / 20 : 0) + rng.normal();
    }
  }
  const s: MemberScores = { logLik, rate };
  if (withLatent) s.posteriorMean = posteriorMean;
  return s;
}

/** Sets of the synthetic image run: the in-distribution set first. */
export const SYNTHETIC_SETS = ["blobs", "vflip", "uniform_noise", "adv_uniform_noise", "stripes"];

/**
 * Write a synthetic evaluated run into `dir` (image run, or a 6-feature tabular run).
 *
 * @example
 * ```ts
 * await makeSyntheticRun(await Deno.makeTempDir());
 * ```
 */
export async function makeSyntheticRun(
  dir: string,
  options: { tabular?: boolean } = {},
): Promise<{ sets: string[]; scoreNames: string[] }> {
  await initBackend("cpu", { quiet: true });
  const tabular = options.tabular ?? false;
  const rng = new Rng(7);
  const inputShape = tabular ? [6] : [SIDE, SIDE, 1];
  const setNames = tabular ? ["creditcard", "creditcard_fraud", "uniform_noise"] : SYNTHETIC_SETS;
  const inputs: ReportSetInput[] = [];
  const perSet = new Map<string, MemberScores[]>();
  for (const name of setNames) {
    const img = images(tabular ? (name === "creditcard" ? "blobs" : "uniform_noise") : name, rng);
    // Tabular rows: the first 6 pixels of each image, as 6 features.
    const x = tabular
      ? Float32Array.from(
        { length: N * 6 },
        (_, k) => img[Math.floor(k / 6) * SIDE * SIDE + 60 + (k % 6)],
      )
      : img;
    const members = Array.from({ length: MEMBERS }, (_, m) => memberScores(img, m, rng, true));
    perSet.set(name, members);
    inputs.push({ name, x, scores: {}, posteriorMean: members[0].posteriorMean });
  }
  const scoreNames = availableScores(perSet.get(setNames[0])!, { posteriorMeanVar: tabular });
  for (const input of inputs) input.scores = aggregateScores(perSet.get(input.name)!, scoreNames);

  const rows: ResultRow[] = [];
  for (const ood of setNames.slice(1)) {
    for (const s of scoreNames) {
      const m = oodMetrics(inputs[0].scores[s]!, inputs.find((i) => i.name === ood)!.scores[s]!);
      rows.push({
        ood,
        score: s,
        auroc: m.auroc,
        aurocStd: 0.01,
        auprIn: m.auprIn,
        auprInStd: 0,
        auprOut: m.auprOut,
        auprOutStd: 0,
        fpr95: m.fpr95,
        fpr95Std: 0,
        fpr99: m.fpr99,
        aurocAllMembers: m.auroc,
      });
    }
  }
  const dataset = setNames[0];
  const results: EvalResults = {
    dataset,
    model: "vae",
    preset: "tiny",
    backend: "cpu",
    members: MEMBERS,
    memberIndices: [0, 1, 2],
    memberSteps: [20, 20, 20],
    incompleteMembers: [],
    nPerSet: Object.fromEntries(setNames.map((s) => [s, N])),
    missing: tabular ? [] : ["omniglot"],
    missingReasons: tabular ? {} : { omniglot: "omniglot_28x28_images.npy not found" },
    inDistribution: dataset,
    adversarial: { recipe: "fgsm", epsilon: 0.3, attackedMember: 0 },
    nSamples: 4,
    seed: 1,
    bootstrap: { resamples: 2, seed: 1, note: "Synthetic run." },
    scores: scoreNames,
    scoreConvention: "anomaly scores, higher = more anomalous",
    rows,
    timing: { totalSeconds: 1.5, scoringSeconds: 1.2, cacheHits: 3 },
  };
  await Deno.mkdir(`${dir}/eval`, { recursive: true });
  await writeJsonAtomic(`${dir}/eval/results.json`, results);
  await writeJsonAtomic(`${dir}/config.json`, {
    dataset,
    model: "vae",
    preset: "tiny",
    numModels: MEMBERS,
    seed: 1,
    member: { model: "vae", arch: "dense", inputShape, latentSize: LATENT, maxSteps: 20 },
    backend: "cpu",
    createdAt: "2025-01-01T00:00:00.000Z",
    updatedAt: "2025-01-01T00:01:00.000Z",
    gensembleVersion: "0.1.0",
  });
  for (let m = 0; m < MEMBERS; m++) {
    await Deno.mkdir(`${dir}/member-${m}`, { recursive: true });
    const lines = Array.from({ length: 20 }, (_, s) =>
      JSON.stringify({
        step: s + 1,
        loss: 100 / (s + 1) + m,
        rate: 10 - s * 0.2,
        distortion: 90 / (s + 1),
        lr: 1e-3,
        examplesPerSec: 500,
        time: "2025-01-01T00:00:00.000Z",
      }));
    await Deno.writeTextFile(
      `${dir}/member-${m}/train_log.jsonl`,
      lines.join("\n") + '\n{"step": 21, "lo',
    );
  }
  // A stand-in decoder: the reconstruction of x is 1 − x (easy to check).
  const member = tabular ? undefined : { reconstruct: (x: tf.Tensor) => tf.sub(1, x) };
  const data = buildReportData({ inDistribution: dataset, inputShape, sets: inputs, member });
  await writeReportData(`${dir}/eval`, data);
  return { sets: setNames, scoreNames };
}
