/**
 * Deno Worker entry for training members in parallel on CPU. The main thread (tasks/train.ts)
 * posts one `TrainJob` at a time; the worker initialises its own tfjs backend once, loads the
 * training data itself once (or takes it from the job), trains the member with `trainMember`,
 * and answers with progress messages and a final `done` or `error`.
 */
import { initBackend } from "../core/backend.ts";
import { GensembleError } from "../core/errors.ts";
import { setCustomKernels } from "../kernels/ops.ts";
import type { MemberConfig } from "../models/member.ts";
import { type MemberProgress, type MemberSummary, trainMember } from "./train_loop.ts";
import { loadTrainData, type TrainData } from "./train_data.ts";

/** What the main thread asks a worker to do. */
export interface TrainJob {
  type: "train";
  member: number;
  config: MemberConfig;
  memberDir: string;
  saveSteps: number;
  logSteps: number;
  progressEverySec: number;
  /** The backend the main thread resolved ("wasm", "cpu", "webgpu"). */
  backend: "webgpu" | "wasm" | "cpu";
  customKernels: boolean;
  /** Dataset to load with the data registry, unless `data` is given. */
  dataset: string;
  dataDir: string | null;
  runDir: string;
  data?: TrainData;
  /** Shared with the main thread (a SharedArrayBuffer): non-zero = checkpoint and stop now. */
  stopFlag?: Int32Array;
}

/** What a worker answers. */
export type WorkerMessage =
  | { type: "progress"; progress: MemberProgress }
  | { type: "done"; summary: MemberSummary }
  | { type: "error"; message: string; userError: boolean; stack?: string };

// deno-lint-ignore no-explicit-any
const scope = self as any;
let ready: Promise<void> | null = null;
let cached: { key: string; data: TrainData } | null = null;

async function dataFor(job: TrainJob): Promise<TrainData> {
  if (job.data) return job.data;
  const key = `${job.dataset}\n${job.dataDir ?? ""}\n${job.runDir}`;
  if (!cached || cached.key !== key) {
    cached = { key, data: await loadTrainData(job.dataset, job) };
  }
  return cached.data;
}

scope.onmessage = async (event: MessageEvent<TrainJob>) => {
  const job = event.data;
  const post = (msg: WorkerMessage) => scope.postMessage(msg);
  try {
    ready ??= initBackend(job.backend, { quiet: true }).then(() => {
      setCustomKernels(job.customKernels);
    });
    await ready;
    const summary = await trainMember({
      member: job.member,
      config: job.config,
      memberDir: job.memberDir,
      saveSteps: job.saveSteps,
      logSteps: job.logSteps,
      progressEverySec: job.progressEverySec,
      loadData: () => dataFor(job),
      onProgress: (progress) => post({ type: "progress", progress }),
      shouldStop: job.stopFlag ? () => Atomics.load(job.stopFlag!, 0) !== 0 : undefined,
    });
    post({ type: "done", summary });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({
      type: "error",
      message: e.message,
      userError: err instanceof GensembleError,
      stack: e.stack,
    });
  }
};
