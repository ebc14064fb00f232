/**
 * Deno Worker entry for `deno task bench`: times training steps of one member in its own thread,
 * so that the bench can measure M members training concurrently the way `deno task train` runs
 * them. Also exports the timing helpers the bench uses in the main thread.
 */
import { tf } from "../deps.ts";
import { initBackend } from "../core/backend.ts";
import { Rng } from "../core/rng.ts";
import { setCustomKernels } from "../kernels/ops.ts";
import type { MemberConfig } from "../models/member.ts";
import { createMember } from "./member_factory.ts";

/**
 * CPU seconds used so far by the calling thread (user + system), from /proc/thread-self/stat;
 * null where that file does not exist. CPU time, unlike wall time, does not grow when other
 * processes share the cores, so it estimates what an idle machine would take.
 */
export function threadCpuSec(): number | null {
  try {
    const stat = Deno.readTextFileSync("/proc/thread-self/stat");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(rest[11]) + Number(rest[12]);
    return Number.isFinite(ticks) ? ticks / 100 : null; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** Wall and thread-CPU seconds of `fn` (cpuSec null where thread CPU time is unavailable). */
export async function timed(
  fn: () => void | Promise<void>,
): Promise<{ sec: number; cpuSec: number | null }> {
  const cpu0 = threadCpuSec();
  const t0 = performance.now();
  await fn();
  const sec = (performance.now() - t0) / 1000;
  const cpu1 = threadCpuSec();
  return { sec, cpuSec: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0 };
}

/** A batch of `n` uniform [0, 1] inputs of the member's shape, from a seeded Rng. */
export function syntheticBatch(shape: number[], n: number, seed: number): tf.Tensor {
  const size = n * shape.reduce((a, b) => a * b, 1);
  const rng = new Rng(seed);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.uniform();
  return tf.tensor(values, [n, ...shape], "float32");
}

/** Wall and thread-CPU time of training steps. */
export interface StepTiming {
  steps: number;
  msPerStep: number;
  /** Thread CPU ms per step (null when unavailable). */
  cpuMsPerStep: number | null;
  examplesPerSec: number;
}

/**
 * Build a member and time `steps` training steps after `warmup` untimed ones (the first steps
 * compile kernels and grow the heap).
 */
export async function timeTrainSteps(
  config: MemberConfig,
  steps: number,
  warmup: number,
): Promise<StepTiming> {
  const member = await createMember(config);
  const x = syntheticBatch(config.inputShape, config.batchSize, config.seed);
  try {
    for (let s = 0; s < warmup; s++) member.trainStep(x, s);
    const t = await timed(() => {
      for (let s = 0; s < steps; s++) member.trainStep(x, warmup + s);
    });
    const ms = (1000 * t.sec) / steps;
    return {
      steps,
      msPerStep: ms,
      cpuMsPerStep: t.cpuSec === null ? null : (1000 * t.cpuSec) / steps,
      examplesPerSec: (1000 * config.batchSize) / ms,
    };
  } finally {
    x.dispose();
    member.dispose();
  }
}

/** A bench job for one worker. */
export interface BenchJob {
  config: MemberConfig;
  steps: number;
  warmup: number;
  backend: "webgpu" | "wasm" | "cpu";
  customKernels: boolean;
}

/** A worker's answer. */
export type BenchReply = { ok: true; timing: StepTiming } | { ok: false; error: string };

// deno-lint-ignore no-explicit-any
const scope = self as any;
/** The name bench.ts gives its workers; only a worker of that name answers jobs. */
export const BENCH_WORKER_NAME = "gensemble-bench";

if (typeof scope.postMessage === "function" && scope.name === BENCH_WORKER_NAME) {
  scope.onmessage = async (event: MessageEvent<BenchJob>) => {
    const job = event.data;
    try {
      await initBackend(job.backend, { quiet: true });
      setCustomKernels(job.customKernels);
      const timing = await timeTrainSteps(job.config, job.steps, job.warmup);
      scope.postMessage({ ok: true, timing } satisfies BenchReply);
    } catch (err) {
      scope.postMessage({ ok: false, error: String((err as Error)?.message ?? err) });
    }
  };
}
