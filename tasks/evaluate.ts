/**
 * Evaluate a trained ensemble on its OoD suite, as the reference's `vae_run.py` did after
 * training: score every input of every set with every member (IWAE, K = 16, and the rate; cached
 * per member in the run dir), aggregate into the anomaly scores (single, mean, var, waic, rate),
 * and report AUROC, AUPR-In, AUPR-Out and FPR@95 per OoD set and score, with a bootstrap over
 * members (B resamples of M member indices with replacement: mean ± std).
 *
 * @example
 * ```ts
 * const results = await evaluateRun({ modelDir: "runs/mnist-vae" });
 * console.log(formatResultsText(results));
 * ```
 */
import { type BackendName, initBackend } from "../core/backend.ts";
import { GensembleError } from "../core/errors.ts";
import { bootstrapMembers } from "../metrics/bootstrap.ts";
import { oodMetrics } from "../metrics/ood_metrics.ts";
import type { MemberScores } from "../models/member.ts";
import type { Dataset } from "../data/types.ts";
import type { AdversarialRecipe } from "../data/adversarial.ts";
import { aggregateScores, availableScores, type ScoreName } from "./aggregate.ts";
import {
  buildSuiteSet,
  parseUserOod,
  planSuite,
  type SuitePlan,
  type SuiteSet,
} from "./ood_suite.ts";
import { getPreset, presetSummary } from "./presets.ts";
import {
  assembleReportData,
  readReportData,
  type ReportSet,
  reportSetEntry,
  reusableReportSet,
  writeReportData,
} from "../report/report_data.ts";
import { writeReport } from "./report.ts";
import { createScorePool, type MemberRef } from "./score_pool.ts";
import {
  type EvalResults,
  formatResultsText,
  type ResultRow,
  writeResults,
} from "./results_table.ts";
import {
  listCheckpointedMembers,
  memberConfig,
  readRunConfig,
  type RunConfig,
  runPaths,
} from "./run_config.ts";
import {
  checkpointDigest,
  readScoreCache,
  type ScoreCacheKey,
  writeScoreCache,
} from "./score_cache.ts";

/** Options of `evaluateRun`; everything but `modelDir` has a default. */
export interface EvaluateOptions {
  /** The run directory (config.json, member-<i>/). */
  modelDir: string;
  /** Expected training dataset / model; a mismatch with config.json is a user error. */
  trainDataset?: string;
  model?: string;
  /** tfjs backend (default "auto"). */
  backend?: BackendName;
  /** Eval sizes from this preset instead of the run's (inputs per set, K). */
  preset?: string;
  dataDir?: string;
  /** Seed of noise sets, subsets and the bootstrap (default: the run's seed). */
  seed?: number;
  /** Inputs per set (default: the preset's; null or 0 = all). */
  nEval?: number | null;
  /** Bootstrap resamples B (default 10; 0 = no resampling, std 0). */
  bootstrap?: number;
  /** Adversarial noise recipe: "fgsm" (default) or "reference" (see data/adversarial.ts). */
  advRecipe?: AdversarialRecipe;
  /** Inputs per scoring / FGSM batch (default 500). */
  batchSize?: number;
  /** `--ood name=path` values. */
  ood?: string[];
  /** Score workers (default min(members, cores)); 1 scores in this thread. */
  workers?: number;
  /** Extra entries for the results' `timing` field (e.g. the training time). */
  extraTiming?: Record<string, number>;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Write eval/results.json and results.md (default true). */
  write?: boolean;
}

interface MemberInfo {
  index: number;
  dir: string;
  step: number;
  digest: string;
}

const stderr = (line: string) => console.error(line);

async function checkpointStep(dir: string): Promise<number> {
  const path = `${dir}/model.json`;
  try {
    const meta = JSON.parse(await Deno.readTextFile(path));
    const step = Number(meta?.userDefinedMetadata?.step);
    if (!Number.isFinite(step)) throw new Error("no step");
    return step;
  } catch {
    throw new GensembleError(`${path}: not a readable checkpoint (no step in its metadata)`);
  }
}

/** Complete members (checkpoint at maxSteps); incomplete ones are listed and skipped. */
async function findMembers(
  dir: string,
  run: RunConfig,
  log: (line: string) => void,
): Promise<{ members: MemberInfo[]; incomplete: EvalResults["incompleteMembers"] }> {
  const paths = runPaths(dir);
  const maxSteps = run.member.maxSteps;
  const members: MemberInfo[] = [];
  const incomplete: EvalResults["incompleteMembers"] = [];
  for (const i of await listCheckpointedMembers(dir)) {
    const mdir = paths.memberDir(i);
    const step = await checkpointStep(mdir);
    if (step < maxSteps) {
      incomplete.push({ member: i, step, maxSteps });
      log(`warning: member-${i} is incomplete (step ${step} of ${maxSteps}); not evaluated`);
      continue;
    }
    members.push({ index: i, dir: mdir, step, digest: await checkpointDigest(mdir) });
  }
  if (members.length === 0) {
    const detail = incomplete.length > 0
      ? ` (${
        incomplete.map((m) => `member-${m.member} at step ${m.step}`).join(", ")
      } of ${maxSteps})`
      : "";
    throw new GensembleError(
      `${dir}: no complete member checkpoints${detail}; finish training first ` +
        `(deno task train ${run.dataset} --model_dir ${dir})`,
    );
  }
  const missing = Array.from({ length: run.numModels }, (_, i) => i)
    .filter((i) => !members.some((m) => m.index === i) && !incomplete.some((m) => m.member === i));
  if (missing.length > 0) {
    log(
      `warning: ${missing.map((i) => `member-${i}`).join(", ")} of ${run.numModels} ` +
        "have no checkpoint; evaluating the members that exist",
    );
  }
  return { members, incomplete };
}

/** Replace NaN/±Infinity by ±1e10 (NaN counts as anomalous), as the reference clipped. */
function finiteScores(scores: Float32Array): { values: Float32Array; nonFinite: number } {
  let nonFinite = 0;
  const values = scores.map((v) => {
    if (Number.isFinite(v)) return v;
    nonFinite++;
    return v === -Infinity ? -1e10 : 1e10;
  });
  return { values, nonFinite };
}

function seconds(t0: number): number {
  return Math.round((performance.now() - t0) / 100) / 10;
}

/**
 * Evaluate the run in `opts.modelDir` on its OoD suite; writes `eval/results.json` and
 * `eval/results.md` and returns the results.
 */
export async function evaluateRun(opts: EvaluateOptions): Promise<EvalResults> {
  const t0 = performance.now();
  const log = opts.log ?? stderr;
  const dir = runPaths(opts.modelDir).dir;
  const run = await readRunConfig(dir);
  if (!run) {
    throw new GensembleError(
      `${runPaths(dir).config}: not found; train first (deno task train <dataset> ` +
        `--model_dir ${dir}) or run eval.ts without --skip_train`,
    );
  }
  if (opts.trainDataset && opts.trainDataset !== run.dataset) {
    throw new GensembleError(
      `${runPaths(dir).config}: the run was trained on ${run.dataset}, not ` +
        `${opts.trainDataset}; pass --model_dir for the ${opts.trainDataset} run`,
    );
  }
  if (opts.model && opts.model !== run.model) {
    throw new GensembleError(
      `${runPaths(dir).config}: the run's model is ${run.model}, not ${opts.model}`,
    );
  }
  const userSets = parseUserOod(opts.ood ?? []);
  const backend = await initBackend(opts.backend ?? "auto");
  const evalCfg = opts.preset ? getPreset(opts.preset).eval : run.eval ??
    getPreset(run.preset).eval;
  const nPerSet = opts.nEval === undefined ? evalCfg.maxPerSet : (opts.nEval || null);
  const nSamples = evalCfg.nSamples;
  const seed = opts.seed ?? run.seed;
  const resamples = opts.bootstrap ?? 10;
  const batchSize = opts.batchSize ?? 500;
  const exampleShape = run.member.inputShape;
  const dataDir = opts.dataDir ?? run.dataDir ?? undefined;

  const { members, incomplete } = await findMembers(dir, run, log);
  const attacked = members[0];
  log(
    `eval: ${run.dataset} ${run.model} (${dir}), ${members.length} members, preset ` +
      `${opts.preset ?? run.preset}, ${nPerSet ?? "all"} inputs per set, K = ${nSamples}`,
  );

  const plan: SuitePlan = await planSuite({
    trainDataset: run.dataset,
    exampleShape,
    nPerSet,
    seed,
    dataDir,
    userSets,
    attackedDigest: attacked.digest,
    attackedMember: attacked.index,
    fgsmBatch: batchSize,
    advRecipe: opts.advRecipe,
  });
  for (const m of plan.missing) log(`warning: OoD set ${m.name} is missing: ${m.reason}`);

  // Members are built and loaded only when some score is not cached.
  const workers = Math.min(members.length, opts.workers ?? (navigator.hardwareConcurrency || 1));
  const refs = new Map<number, MemberRef>();
  for (const m of members) {
    refs.set(m.index, { index: m.index, config: memberConfig(run, m.index), dir: m.dir });
  }
  let pool: ReturnType<typeof createScorePool> | null = null;
  const getPool = () =>
    pool ??= createScorePool(
      workers > 1 ? workers : 0,
      backend.backend,
      members.map((m) => m.index),
    );

  const tScore = performance.now();
  let hits = 0;
  let misses = 0;
  let inDistData: Dataset | undefined;
  const allSets: SuiteSet[] = [plan.inDist, ...plan.sets];
  const scores = new Map<string, MemberScores[]>(); // set name → [M] member scores
  const buildSeconds: Record<string, number> = {};
  // Report data (report/report_data.ts): per set, built while its inputs are in memory; a set
  // whose scores all came from the cache reuses its previous entry when the fingerprint matches.
  const writing = opts.write ?? true;
  const evalDir = runPaths(dir).evalDir;
  const previousReport = writing
    ? await readReportData(`${evalDir}/report_data.json`).catch(() => null)
    : null;
  const reportEntries: ReportSet[] = [];
  const reportCtx = { inDistribution: plan.inDist.name, inputShape: exampleShape };
  const membersKey = members.map((m) => `${m.index}:${m.step}:${m.digest}`).join(",");
  const addReportEntry = async (set: SuiteSet, perMember: MemberScores[], ds?: Dataset) => {
    if (!writing) return;
    const fingerprint =
      `${set.fingerprint}|b${batchSize}|K${nSamples}|${backend.backend}|${membersKey}`;
    const reused = reusableReportSet(previousReport, set.name, fingerprint);
    if (reused) return void reportEntries.push(reused);
    if (!ds) {
      if (set.kind !== "in" && !inDistData && needsInputs(set)) {
        inDistData = await buildSuiteSet(plan.inDist, { exampleShape, dataDir });
      }
      ds = await buildSuiteSet(set, {
        exampleShape,
        dataDir,
        inDist: inDistData,
        attacked: () => getPool().local(refs.get(attacked.index)!),
      });
      if (set.kind === "in") inDistData = ds;
    }
    const names = availableScores(perMember, { posteriorMeanVar: exampleShape.length === 1 });
    // Member 0 decodes the reconstructions shown for image runs.
    const member = exampleShape.length === 3
      ? await getPool().local(refs.get(attacked.index)!)
      : undefined;
    reportEntries.push(reportSetEntry({
      name: set.name,
      kind: set.kind,
      fingerprint,
      x: ds.x,
      scores: aggregateScores(perMember, names),
      posteriorMean: perMember[0].posteriorMean,
    }, { ...reportCtx, member }));
  };
  // First pass: what the cache already has, so progress can give an ETA over what is left.
  const cached = new Map<string, (MemberScores | null)[]>();
  for (const set of allSets) {
    const perMember: (MemberScores | null)[] = [];
    for (const m of members) {
      perMember.push(
        await readScoreCache(m.dir, cacheKey(set, m, nSamples, batchSize, backend.backend)),
      );
    }
    cached.set(set.name, perMember);
    hits += perMember.filter((s) => s !== null).length;
    misses += perMember.filter((s) => s === null).length;
  }
  log(`score cache: ${hits} member-set scores cached, ${misses} to compute`);
  let computed = 0;
  try {
    for (const set of allSets) {
      const perMember = cached.get(set.name)!;
      const todo = members.filter((_, j) => perMember[j] === null);
      if (todo.length === 0) {
        scores.set(set.name, perMember as MemberScores[]);
        await addReportEntry(set, perMember as MemberScores[]);
        continue;
      }
      const tb = performance.now();
      // Flips, noise and adversarial noise derive from the in-distribution inputs.
      if (set.kind !== "in" && !inDistData && needsInputs(set)) {
        inDistData = await buildSuiteSet(plan.inDist, { exampleShape, dataDir });
      }
      const ds = await buildSuiteSet(set, {
        exampleShape,
        dataDir,
        inDist: inDistData,
        attacked: () => getPool().local(refs.get(attacked.index)!),
      });
      if (set.kind === "in") inDistData = ds;
      buildSeconds[set.name] = seconds(tb);
      const n = ds.shape[0];
      const ts = performance.now();
      let lastLog = ts;
      const done = new Map<number, number>();
      await Promise.all(todo.map(async (m) => {
        const s = await getPool().score(refs.get(m.index)!, ds, nSamples, batchSize, (d) => {
          done.set(m.index, d);
          const now = performance.now();
          if (now - lastLog > 15_000) {
            lastLog = now;
            const total = [...done.values()].reduce((a, b) => a + b, 0);
            log(`  ${set.name}: ${total}/${n * todo.length} member-inputs scored`);
          }
        });
        await writeScoreCache(m.dir, cacheKey(set, m, nSamples, batchSize, backend.backend), s);
        perMember[members.indexOf(m)] = s;
      }));
      const secs = (performance.now() - ts) / 1000;
      computed += todo.length;
      const elapsed = (performance.now() - tScore) / 1000;
      const eta = (elapsed / computed) * (misses - computed);
      log(
        `scored ${set.name} (n = ${n}) with ${todo.length} member${todo.length > 1 ? "s" : ""} ` +
          `in ${secs.toFixed(1)} s (${((n * todo.length) / secs).toFixed(0)} inputs/s; ` +
          `built in ${buildSeconds[set.name]} s); ${computed}/${misses} done, ` +
          `ETA ${eta.toFixed(0)} s`,
      );
      scores.set(set.name, perMember as MemberScores[]);
      await addReportEntry(set, perMember as MemberScores[], ds);
    }
  } finally {
    (pool as ReturnType<typeof createScorePool> | null)?.close();
  }
  const scoringSeconds = seconds(tScore);

  // Aggregate and bootstrap.
  const tMetrics = performance.now();
  const inScores = scores.get(plan.inDist.name)!;
  const scoreNames = availableScores(inScores, { posteriorMeanVar: exampleShape.length === 1 });
  const rows = bootstrapRows(scores, plan, scoreNames, members.length, resamples, seed, log);
  const nPerSetOut: Record<string, number> = {};
  for (const set of allSets) nPerSetOut[set.name] = scores.get(set.name)![0].logLik.length;

  const results: EvalResults = {
    dataset: run.dataset,
    model: run.model,
    preset: run.preset,
    // What the run was trained with (config.json), not what the preset says today.
    presetSummary: typeof run.presetValues?.summary === "string"
      ? run.presetValues.summary
      : knownPresetSummary(run.preset, run.model),
    trainedWith: { ...run.member },
    overrides: { ...(run.overrides ?? {}) },
    ...(opts.preset && opts.preset !== run.preset ? { evalPreset: opts.preset } : {}),
    backend: backend.backend,
    members: members.length,
    memberIndices: members.map((m) => m.index),
    memberSteps: members.map((m) => m.step),
    incompleteMembers: incomplete,
    nPerSet: nPerSetOut,
    missing: plan.missing.map((m) => m.name),
    missingReasons: Object.fromEntries(plan.missing.map((m) => [m.name, m.reason])),
    inDistribution: plan.inDist.name,
    adversarial: {
      recipe: opts.advRecipe ?? "fgsm",
      epsilon: 0.3,
      attackedMember: attacked.index,
    },
    nSamples,
    seed,
    bootstrap: {
      resamples,
      seed,
      note: `Metrics are means (± population std) over ${resamples} bootstrap resamples of the ` +
        `${members.length} members with replacement; "single" is always member ` +
        `${attacked.index}, the member adversarial noise attacks, so its std is 0; ` +
        `aurocAllMembers uses every member once.`,
    },
    scores: scoreNames,
    scoreConvention: run.model === "wgan"
      ? "anomaly scores, higher = more anomalous: single = −D of member 0 (D: the critic's " +
        "logit), mean = −E[D], var = Var[D], waic = −(E[D] − Var[D])"
      : "anomaly scores, higher = more anomalous: single = −log p̂ of member 0, " +
        "mean = −E[log p̂], var = Var[log p̂], waic = −(E − Var), rate = E[log q − log p]",
    rows,
    timing: {
      ...opts.extraTiming,
      scoreWorkers: workers,
      scoringSeconds,
      metricsSeconds: seconds(tMetrics),
      totalSeconds: seconds(t0),
      cacheHits: hits,
      cacheMisses: misses,
      ...Object.fromEntries(Object.entries(buildSeconds).map(([k, v]) => [`build_${k}`, v])),
    },
  };
  if (writing) {
    await writeResults(evalDir, results);
    await writeReportData(evalDir, assembleReportData(reportEntries, reportCtx));
    log(`report: ${await writeReport(dir)}`);
  }
  return results;
}

/**
 * Metric rows for every OoD set × score: bootstrap means and stds over resampled member lists
 * (B = `resamples`; 0 = no resampling, std 0), plus the AUROC with all members in order.
 */
function bootstrapRows(
  scores: Map<string, MemberScores[]>,
  plan: SuitePlan,
  scoreNames: ScoreName[],
  nMembers: number,
  resamples: number,
  seed: number,
  log: (line: string) => void,
): ResultRow[] {
  const oodNames = plan.sets.map((s) => s.name);
  let nonFinite = 0;
  const metricsFor = (idx: number[]) => {
    const inAgg = aggregateScores(scores.get(plan.inDist.name)!, scoreNames, idx);
    const out: Record<string, number> = {};
    for (const ood of oodNames) {
      const oodAgg = aggregateScores(scores.get(ood)!, scoreNames, idx);
      for (const s of scoreNames) {
        const a = finiteScores(inAgg[s]!);
        const b = finiteScores(oodAgg[s]!);
        nonFinite = Math.max(nonFinite, a.nonFinite + b.nonFinite);
        const m = oodMetrics(a.values, b.values);
        const k = `${ood}\u0000${s}`;
        out[`${k}\u0000auroc`] = m.auroc;
        out[`${k}\u0000auprIn`] = m.auprIn;
        out[`${k}\u0000auprOut`] = m.auprOut;
        out[`${k}\u0000fpr95`] = m.fpr95;
        out[`${k}\u0000fpr99`] = m.fpr99;
      }
    }
    return out;
  };
  const all = metricsFor(Array.from({ length: nMembers }, (_, i) => i));
  const boot = resamples > 0
    ? bootstrapMembers(nMembers, metricsFor, { resamples, seed })
    : { mean: all, std: Object.fromEntries(Object.keys(all).map((k) => [k, 0])) };
  if (nonFinite > 0) {
    log(`warning: up to ${nonFinite} non-finite scores per comparison were clipped to ±1e10`);
  }
  const r6 = (v: number) => Math.round(v * 1e6) / 1e6;
  const rows: ResultRow[] = [];
  for (const ood of oodNames) {
    for (const s of scoreNames) {
      const k = `${ood}\u0000${s}\u0000`;
      rows.push({
        ood,
        score: s,
        auroc: r6(boot.mean[`${k}auroc`]),
        aurocStd: r6(boot.std[`${k}auroc`]),
        auprIn: r6(boot.mean[`${k}auprIn`]),
        auprInStd: r6(boot.std[`${k}auprIn`]),
        auprOut: r6(boot.mean[`${k}auprOut`]),
        auprOutStd: r6(boot.std[`${k}auprOut`]),
        fpr95: r6(boot.mean[`${k}fpr95`]),
        fpr95Std: r6(boot.std[`${k}fpr95`]),
        fpr99: r6(boot.mean[`${k}fpr99`]),
        aurocAllMembers: r6(all[`${k}auroc`]),
      });
    }
  }
  return rows;
}

function knownPresetSummary(name: string, model: RunConfig["model"]): string {
  try {
    return presetSummary(getPreset(name), model);
  } catch {
    return "a preset this version does not know";
  }
}

function needsInputs(set: SuiteSet): boolean {
  return set.kind === "flip" || set.kind === "noise" || set.kind === "adversarial";
}

function cacheKey(
  set: SuiteSet,
  m: MemberInfo,
  nSamples: number,
  batchSize: number,
  backend: string,
): ScoreCacheKey {
  return {
    set: set.name,
    // The member's scoring noise is drawn per call, so the batch size is part of the recipe.
    setFingerprint: `${set.fingerprint}-b${batchSize}`,
    checkpointStep: m.step,
    checkpointDigest: m.digest,
    nSamples,
    backend,
  };
}

export { formatResultsText };
