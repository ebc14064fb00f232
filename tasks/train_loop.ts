/**
 * Train one ensemble member: seeded batches, the step that drives the member's learning-rate
 * schedule, checkpoints every `saveSteps` and at the end, resumption from the last checkpoint,
 * a JSON-lines log and throttled progress reports. Runs the same in the main thread and in a
 * worker (tasks/train_worker.ts).
 *
 * Data order is a function of (member seed, step) only: step s uses positions
 * [b·B, (b+1)·B) of epoch e's permutation (e = ⌊s / stepsPerEpoch⌋, b = s mod stepsPerEpoch),
 * and each epoch's permutation comes from its own seeded Rng. So a resumed run sees exactly the
 * batches an uninterrupted one would, without replaying anything.
 */
import { tf } from "../deps.ts";
import { Rng } from "../core/rng.ts";
import { writeTextAtomic } from "../core/atomic.ts";
import { GensembleError } from "../core/errors.ts";
import type { Member, MemberConfig } from "../models/member.ts";
import { deriveSeed } from "../models/params.ts";
import { cosineDecay } from "../models/adam.ts";
import { createMember } from "./member_factory.ts";
import type { TrainData } from "./train_data.ts";

/** A progress report of one member (also what each log line is built from). */
export interface MemberProgress {
  member: number;
  /** Steps completed. */
  step: number;
  maxSteps: number;
  /** The step this run started from (0, or the checkpoint it resumed). */
  startStep: number;
  /** Means over the steps since the previous report. */
  loss: number;
  rate: number;
  distortion: number;
  lr: number;
  examplesPerSec: number;
  /** Seconds since this run of the member started; estimated seconds to its max steps. */
  elapsedSec: number;
  etaSec: number;
}

/** How training one member went. */
export interface MemberSummary {
  member: number;
  seed: number;
  /**
   * "trained" from scratch, "resumed" from a checkpoint, already "complete", or "interrupted"
   * (stopped early on request, with a checkpoint at `endStep`).
   */
  status: "trained" | "resumed" | "complete" | "interrupted";
  startStep: number;
  /** The step of the member's checkpoint now on disk. */
  endStep: number;
  maxSteps: number;
  /** The last logged means (from the log when nothing was trained in this run). */
  loss: number | null;
  rate: number | null;
  distortion: number | null;
  /** Mean training throughput of this run (null when nothing was trained). */
  examplesPerSec: number | null;
  seconds: number;
}

/** One line of `train_log.jsonl`. */
export interface TrainLogLine {
  step: number;
  loss: number;
  rate: number;
  distortion: number;
  lr: number;
  examplesPerSec: number;
  /** Wall-clock time, ISO 8601. */
  time: string;
}

/** Options of `trainMember`. */
export interface TrainMemberOptions {
  /** Member index (for logs and messages). */
  member: number;
  /** The member's config, seed included. */
  config: MemberConfig;
  /** `runs/<name>/member-<i>`: checkpoint and log go here. */
  memberDir: string;
  /** Called only when there is training to do (a complete member never loads its data). */
  loadData: () => TrainData | Promise<TrainData>;
  /** Checkpoint every this many steps (and always at the end). */
  saveSteps: number;
  /** Log means every this many steps (default 10, and always at the end). */
  logSteps?: number;
  /** Called at most every `progressEverySec` seconds (default 2) and once at the end. */
  onProgress?: (progress: MemberProgress) => void;
  progressEverySec?: number;
  /**
   * Polled after every step: when it returns true, the member logs, checkpoints the step it is
   * at and returns ("interrupted"), so that Ctrl-C loses no work and never cuts a write short.
   */
  shouldStop?: () => boolean;
  /** Builds the member (default: the registry in member_factory.ts). */
  create?: (config: MemberConfig) => Member | Promise<Member>;
}

/**
 * The example indices of training step `step` (0-based) for a member seed: epoch-wise
 * permutations, the last incomplete batch of each epoch dropped.
 *
 * @example
 * ```ts
 * const order = new BatchOrder(7, 60000, 32);
 * order.indices(0); // Int32Array(32) of distinct indices in [0, 60000)
 * ```
 */
export class BatchOrder {
  readonly stepsPerEpoch: number;
  private epoch = -1;
  private perm: Int32Array = new Int32Array(0);

  constructor(readonly seed: number, readonly n: number, readonly batchSize: number) {
    if (n < batchSize) {
      throw new GensembleError(
        `The training set has ${n} examples, fewer than the batch size ${batchSize}; ` +
          "use a smaller --batch_size",
      );
    }
    this.stepsPerEpoch = Math.floor(n / batchSize);
  }

  indices(step: number): Int32Array {
    const epoch = Math.floor(step / this.stepsPerEpoch);
    if (epoch !== this.epoch) {
      this.perm = new Rng(deriveSeed(this.seed, "batches", epoch)).permutation(this.n);
      this.epoch = epoch;
    }
    const start = (step % this.stepsPerEpoch) * this.batchSize;
    return this.perm.subarray(start, start + this.batchSize);
  }
}

/**
 * The example indices of step `step`: its batch from `order`, then, when the member wants more
 * rows than a batch (`wanted`), rows drawn uniformly with replacement (as the reference's
 * np.random.choice does for each critic batch) from a generator seeded by (seed, step), so a
 * resumed run draws the same rows.
 *
 * @example
 * ```ts
 * stepIndices(new BatchOrder(7, 60000, 64), 3, 5 * 64).length; // 320
 * ```
 */
export function stepIndices(order: BatchOrder, step: number, wanted?: number): Int32Array {
  const first = order.indices(step);
  if (wanted === undefined || wanted <= first.length) return first;
  const out = new Int32Array(wanted);
  out.set(first);
  const rng = new Rng(deriveSeed(order.seed, "extra-rows", step));
  for (let i = first.length; i < wanted; i++) out[i] = rng.int(order.n);
  return out;
}

/** Copy the rows `indices` of `[N, D]` values into a new `[B, D]` buffer. */
export function gatherRows(x: Float32Array, rowSize: number, indices: Int32Array): Float32Array {
  const out = new Float32Array(indices.length * rowSize);
  for (let b = 0; b < indices.length; b++) {
    const r = indices[b] * rowSize;
    out.set(x.subarray(r, r + rowSize), b * rowSize);
  }
  return out;
}

/** Read a member's training log; an absent log is empty. Unparsable lines are skipped. */
export async function readTrainLog(path: string): Promise<TrainLogLine[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  const lines: TrainLogLine[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      lines.push(JSON.parse(line));
    } catch {
      // A line cut short by a kill is dropped; the checkpoint decides where training resumes.
    }
  }
  return lines;
}

/** Remove temp files that an interrupted atomic write left behind. */
async function removeStaleTempFiles(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".tmp")) {
      await Deno.remove(`${dir}/${entry.name}`).catch(() => {});
    }
  }
}

/**
 * Train one member to `config.maxSteps`, resuming from the checkpoint in `memberDir` if there
 * is one. The log is cut back to the checkpoint's step on resume, so its steps continue, never
 * repeat.
 *
 * @example
 * ```ts
 * const summary = await trainMember({
 *   member: 0, config, memberDir: "runs/mnist-vae/member-0", saveSteps: 250,
 *   loadData: () => ({ x, shape: [60000, 28, 28, 1] }),
 * });
 * ```
 */
export async function trainMember(options: TrainMemberOptions): Promise<MemberSummary> {
  const { member: index, config, memberDir, saveSteps } = options;
  const logSteps = Math.max(1, options.logSteps ?? 10);
  const progressEveryMs = 1000 * (options.progressEverySec ?? 2);
  const logPath = `${memberDir}/train_log.jsonl`;
  const started = performance.now();
  await Deno.mkdir(memberDir, { recursive: true });
  await removeStaleTempFiles(memberDir);

  const member = await (options.create ?? createMember)(config);
  try {
    let startStep = 0;
    try {
      await Deno.stat(`${memberDir}/model.json`);
      startStep = await member.load(memberDir);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }

    // Keep only log lines the checkpoint covers: later ones belong to steps that will be redone.
    const oldLog = await readTrainLog(logPath);
    const kept = oldLog.filter((l) => l.step <= startStep);
    if (kept.length !== oldLog.length || (oldLog.length > 0 && startStep === 0)) {
      await writeTextAtomic(logPath, kept.map((l) => JSON.stringify(l) + "\n").join(""));
    }

    const maxSteps = config.maxSteps;
    if (startStep >= maxSteps) {
      const last = kept.at(-1);
      return {
        member: index,
        seed: config.seed,
        status: "complete",
        startStep,
        endStep: startStep,
        maxSteps,
        loss: last?.loss ?? null,
        rate: last?.rate ?? null,
        distortion: last?.distortion ?? null,
        examplesPerSec: null,
        seconds: (performance.now() - started) / 1000,
      };
    }

    const data = await options.loadData();
    const inputShape = data.shape.slice(1);
    if (JSON.stringify(inputShape) !== JSON.stringify(config.inputShape)) {
      throw new GensembleError(
        `The training data has examples of shape [${inputShape.join(", ")}], ` +
          `the member expects [${config.inputShape.join(", ")}]`,
      );
    }
    const rowSize = inputShape.reduce((a, b) => a * b, 1);
    const order = new BatchOrder(config.seed, data.shape[0], config.batchSize);

    const lrAt = (s: number) =>
      member.learningRateAt?.(s) ?? cosineDecay(config.learningRate, s, maxSteps);
    const trainStart = performance.now();
    let lastLogged = { sum: [0, 0, 0], n: 0, t: trainStart };
    let lastReport = { sum: [0, 0, 0], n: 0, t: trainStart, emitted: -Infinity };
    let lastLine: TrainLogLine | undefined = kept.at(-1);
    let step = startStep;
    let lastSaved = startStep;
    while (step < maxSteps) {
      const indices = stepIndices(order, step, member.rowsWanted?.(step));
      const batch = gatherRows(data.x, rowSize, indices);
      const xb = tf.tensor(batch, [indices.length, ...inputShape], "float32");
      let stats;
      try {
        // tfjs-webgpu cannot read tensors back synchronously in Deno: use the async twin there.
        stats = tf.getBackend() === "webgpu" && member.trainStepAsync
          ? await member.trainStepAsync(xb, step)
          : member.trainStep(xb, step);
      } finally {
        xb.dispose();
      }
      if (!Number.isFinite(stats.loss)) {
        throw new GensembleError(
          `Member ${index} diverged at step ${step + 1}: the loss is ${stats.loss}; ` +
            (lastSaved > 0 ? `its checkpoint of step ${lastSaved} is kept; ` : "") +
            "try a lower --learning_rate",
        );
      }
      step++;
      for (const acc of [lastLogged, lastReport]) {
        acc.sum[0] += stats.loss;
        acc.sum[1] += stats.rate;
        acc.sum[2] += stats.distortion;
        acc.n++;
      }
      const now = performance.now();
      const stopping = step < maxSteps && (options.shouldStop?.() ?? false);
      const done = step === maxSteps || stopping;
      if (step % logSteps === 0 || done) {
        const n = lastLogged.n;
        const line: TrainLogLine = {
          step,
          loss: lastLogged.sum[0] / n,
          rate: lastLogged.sum[1] / n,
          distortion: lastLogged.sum[2] / n,
          lr: lrAt(step - 1),
          examplesPerSec: (n * config.batchSize) / Math.max(1e-9, (now - lastLogged.t) / 1000),
          time: new Date().toISOString(),
        };
        await Deno.writeTextFile(logPath, JSON.stringify(line) + "\n", { append: true });
        lastLine = line;
        lastLogged = { sum: [0, 0, 0], n: 0, t: now };
      }
      if (step % saveSteps === 0 || done) {
        await member.save(memberDir, step);
        lastSaved = step;
      }
      if (options.onProgress && (now - lastReport.emitted >= progressEveryMs || done)) {
        const n = lastReport.n;
        const secPerStep = (now - lastReport.t) / 1000 / n;
        options.onProgress({
          member: index,
          step,
          maxSteps,
          startStep,
          loss: lastReport.sum[0] / n,
          rate: lastReport.sum[1] / n,
          distortion: lastReport.sum[2] / n,
          lr: lrAt(step - 1),
          examplesPerSec: config.batchSize / Math.max(1e-9, secPerStep),
          elapsedSec: (now - trainStart) / 1000,
          etaSec: (maxSteps - step) * secPerStep,
        });
        lastReport = { sum: [0, 0, 0], n: 0, t: now, emitted: now };
      }
      if (stopping) break;
    }
    const trainSec = (performance.now() - trainStart) / 1000;
    return {
      member: index,
      seed: config.seed,
      status: step < maxSteps ? "interrupted" : startStep > 0 ? "resumed" : "trained",
      startStep,
      endStep: step,
      maxSteps,
      loss: lastLine?.loss ?? null,
      rate: lastLine?.rate ?? null,
      distortion: lastLine?.distortion ?? null,
      examplesPerSec: ((step - startStep) * config.batchSize) / Math.max(1e-9, trainSec),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    member.dispose();
  }
}
