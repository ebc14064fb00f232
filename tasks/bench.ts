/**
 * `deno task bench`: throughput and memory of training and scoring, per backend, for the default
 * and paper configurations (VAE; WGAN generator iterations/s in tasks/bench_wgan.ts), beside the PyTorch peer's published numbers for the same models on
 * this machine kind. JSON on stdout and in `runs/bench.json`. A benchmark, not a test: it records
 * what it measures (and any error) and never fails on a number.
 *
 *   deno task bench                      # wasm (+ webgpu on a hardware GPU); a few minutes
 *   deno task bench --quick              # fewer steps and inputs, default config only
 *   deno task bench --backend webgpu     # ask for a backend (cpu: the slow pure-JS one)
 *   deno task bench --sizing             # the measurements behind the default preset
 *   deno task bench --wgan_only          # WGAN generator iterations/s only
 *
 * Times are wall-clock and, on Linux, thread CPU time (`cpuMsPerStep`): on a shared machine the
 * wall time grows with other processes' load, CPU time much less, so it is the better estimate
 * of an idle machine. The load average is recorded beside them.
 */
import { tf } from "../deps.ts";
import { type BackendInfo, initBackend, probeAdapter } from "../core/backend.ts";
import { runCli } from "../core/errors.ts";
import { setCustomKernels } from "../kernels/ops.ts";
import type { MemberConfig } from "../models/member.ts";
import { writeJsonAtomic } from "../core/atomic.ts";
import { type CommandSpec, parseCliOrHelp } from "./cli_flags.ts";
import { createMember } from "./member_factory.ts";
import { benchKernels } from "./bench_kernels.ts";
import { benchWgan, WGAN_BENCH_CONFIGS } from "./bench_wgan.ts";
import { type PresetMemberValues, resolveMemberConfig } from "./presets.ts";
import { GENSEMBLE_VERSION } from "./run_config.ts";
import {
  BENCH_WORKER_NAME,
  type BenchJob,
  type BenchReply,
  type StepTiming,
  syntheticBatch,
  timed,
  timeTrainSteps,
} from "./bench_worker.ts";

/** A configuration the bench measures: a preset plus overrides, on MNIST-shaped inputs. */
interface BenchConfig {
  preset: string;
  overrides?: Partial<PresetMemberValues>;
  /** The peer's model with the same configuration, if any. */
  peerModel?: "A" | "B";
  note: string;
}

const BENCH_CONFIGS: Record<string, BenchConfig> = {
  default: { preset: "default", note: "the default preset (2-core CPU)" },
  paper: {
    preset: "paper",
    peerModel: "A",
    note: "the reference: conv, K = 16, batch 32 (peer model A)",
  },
  dense_k16: {
    preset: "paper",
    overrides: { arch: "dense", denseHidden: [512, 512] },
    peerModel: "B",
    note: "dense 784-512-512, K = 16, batch 32 (peer model B)",
  },
};

// Candidates for the default preset (`--sizing`): the dense arch with fewer posterior samples
// in the training loss, and a smaller prior.
const SIZING_CONFIGS: Record<string, BenchConfig> = {
  dense_k16: BENCH_CONFIGS.dense_k16,
  dense_k8: { preset: "paper", overrides: { arch: "dense", nSamples: 8 }, note: "dense, K = 8" },
  dense_k4: { preset: "paper", overrides: { arch: "dense", nSamples: 4 }, note: "dense, K = 4" },
  dense_k2: { preset: "paper", overrides: { arch: "dense", nSamples: 2 }, note: "dense, K = 2" },
  dense_k1: { preset: "paper", overrides: { arch: "dense", nSamples: 1 }, note: "dense, K = 1" },
  dense_k4_flow256: {
    preset: "paper",
    overrides: { arch: "dense", nSamples: 4, flowHidden: [256, 256] },
    note: "dense, K = 4, MADE 256×256",
  },
};

/**
 * The PyTorch peer's numbers as published in ../shared/peers/README.md (torch 1.13, tcmalloc,
 * 2-core machine of this kind). They are the peer's figures, copied, not measured by this bench.
 */
export const PEER_PUBLISHED = {
  source: "../shared/peers/README.md: PyTorch 1.13 re-implementation of the reference " +
    "(bench_torch.py), medians of 5, measured by the peer on this machine kind (2 cores)",
  trainMsPerStep: {
    A: { model: "conv VAE + MAF, K = 16, batch 32", threads1: 2807, threads2: 1671 },
    B: { model: "dense 784-512-512 VAE + MAF, K = 16, batch 32", threads1: 124, threads2: 92 },
    C: { model: "WGAN-GP, 1 generator + 5 critic steps, batch 64", threads1: 4569, threads2: 2874 },
    D: { model: "tabular VAE (30 features), K = 16, batch 32", threads1: 87, threads2: 73 },
  },
  iwaeScoresPerSecK16: {
    A: { threads1: 33.5, threads2: 70.7 },
    B: { threads1: 785, threads2: 1319 },
  },
} as const;

/** Peak RSS: sampled `Deno.memoryUsage().rss` (fires while the main thread waits on workers). */
class RssSampler {
  private peak = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  start(): void {
    this.peak = Deno.memoryUsage().rss;
    this.timer = setInterval(() => this.sample(), 100);
  }

  sample(): void {
    this.peak = Math.max(this.peak, Deno.memoryUsage().rss);
  }

  /** Peak in MiB since `start`. */
  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return Math.round(this.peak / 2 ** 20);
  }
}

function loadAverage(): number[] | null {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).map(Number);
  } catch {
    return null;
  }
}

function round(x: number | null | undefined, digits = 1): number | null {
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function errorText(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n")[0];
}

function benchMemberConfig(bc: BenchConfig): MemberConfig {
  return {
    ...resolveMemberConfig({
      preset: bc.preset,
      model: "vae",
      inputShape: [28, 28, 1],
      overrides: bc.overrides,
    }),
    seed: 0,
  };
}

/** Score `n` inputs at K = 16 once (after a small warm-up call). */
async function timeScoring(
  config: MemberConfig,
  n: number,
): Promise<{ n: number; k: number; scoresPerSec: number; cpuScoresPerSec: number | null }> {
  const member = await createMember(config);
  const x = syntheticBatch(config.inputShape, n, 1);
  try {
    const warm = tf.slice(x, 0, Math.min(8, n));
    member.score(warm, 16);
    warm.dispose();
    const { sec, cpuSec } = await timed(() => {
      member.score(x, 16);
    });
    return {
      n,
      k: 16,
      scoresPerSec: n / sec,
      cpuScoresPerSec: cpuSec && cpuSec > 0 ? n / cpuSec : null,
    };
  } finally {
    x.dispose();
    member.dispose();
  }
}

/** Train `workers` members concurrently in Deno Workers; per-worker timings. */
async function timeWorkers(
  config: MemberConfig,
  workers: number,
  steps: number,
  warmup: number,
  backend: BackendInfo["backend"],
  customKernels: boolean,
): Promise<StepTiming[]> {
  const pool = Array.from(
    { length: workers },
    () =>
      new Worker(new URL("./bench_worker.ts", import.meta.url).href, {
        type: "module",
        name: BENCH_WORKER_NAME,
      }),
  );
  try {
    return await Promise.all(pool.map((w, i) =>
      new Promise<StepTiming>((resolve, reject) => {
        w.onmessage = (e: MessageEvent<BenchReply>) =>
          e.data.ok ? resolve(e.data.timing) : reject(new Error(e.data.error));
        w.onerror = (e: ErrorEvent) => {
          e.preventDefault();
          reject(new Error(e.message));
        };
        const job: BenchJob = {
          config: { ...config, seed: i },
          steps,
          warmup,
          backend,
          customKernels,
        };
        w.postMessage(job);
      })
    ));
  } finally {
    for (const w of pool) w.terminate();
  }
}

interface RunOptions {
  steps: number;
  warmup: number;
  workers: number;
  scoreN: number;
  customKernels: boolean;
  skipWorkers: boolean;
}

/** Everything measured for one configuration on one backend; failures become `error` fields. */
async function benchConfig(
  name: string,
  bc: BenchConfig,
  backend: BackendInfo["backend"],
  opts: RunOptions,
): Promise<Record<string, unknown>> {
  const config = benchMemberConfig(bc);
  const conv = config.arch === "conv";
  // Conv steps take seconds on a CPU: fewer of them, and fewer inputs to score.
  const steps = conv && backend !== "webgpu" ? Math.max(2, Math.ceil(opts.steps / 4)) : opts.steps;
  const warmup = conv ? 1 : opts.warmup;
  const out: Record<string, unknown> = {
    note: bc.note,
    member: {
      arch: config.arch,
      nSamples: config.nSamples,
      batchSize: config.batchSize,
      latentSize: config.latentSize,
      nFlows: config.nFlows,
      flowHidden: config.flowHidden,
      denseHidden: config.arch === "dense" ? config.denseHidden : undefined,
      baseDepth: conv ? config.baseDepth : undefined,
    },
    loadAverageBefore: loadAverage(),
  };
  const rss = new RssSampler();
  rss.start();
  console.error(`bench: ${backend} ${name}: ${steps} training steps in this process`);
  try {
    const t = await timeTrainSteps(config, steps, warmup);
    out.train = {
      steps: t.steps,
      msPerStep: round(t.msPerStep),
      cpuMsPerStep: round(t.cpuMsPerStep),
      examplesPerSec: round(t.examplesPerSec),
    };
  } catch (err) {
    out.train = { error: errorText(err) };
  }
  rss.sample();
  const scoreN = conv && backend !== "webgpu"
    ? Math.max(16, Math.floor(opts.scoreN / 8))
    : opts.scoreN;
  console.error(`bench: ${backend} ${name}: scoring ${scoreN} inputs at K = 16`);
  try {
    const s = await timeScoring(config, scoreN);
    out.score = {
      n: s.n,
      k: s.k,
      scoresPerSec: round(s.scoresPerSec),
      cpuScoresPerSec: round(s.cpuScoresPerSec),
    };
  } catch (err) {
    out.score = { error: errorText(err) };
  }
  rss.sample();
  if (!opts.skipWorkers && backend !== "webgpu" && opts.workers > 1) {
    console.error(`bench: ${backend} ${name}: ${opts.workers} workers × ${steps} steps`);
    try {
      const timings = await timeWorkers(
        config,
        opts.workers,
        steps,
        warmup,
        backend,
        opts.customKernels,
      );
      const cpu = timings.map((t) => t.cpuMsPerStep);
      out.trainWorkers = {
        workers: opts.workers,
        steps,
        msPerStepPerWorker: timings.map((t) => round(t.msPerStep)),
        cpuMsPerStepPerWorker: cpu.every((c) => c !== null) ? cpu.map((c) => round(c)) : null,
        totalExamplesPerSec: round(timings.reduce((a, t) => a + t.examplesPerSec, 0)),
      };
    } catch (err) {
      out.trainWorkers = { error: errorText(err) };
    }
  }
  out.peakRssMb = rss.stop();
  out.loadAverageAfter = loadAverage();
  return out;
}

/** Ours beside the peer for the configurations both measured (ratio > 1: we are faster). */
function comparisons(backends: Record<string, Record<string, unknown>>): unknown[] {
  const rows: unknown[] = [];
  for (const [backend, result] of Object.entries(backends)) {
    const configs = result.configs as Record<string, Record<string, unknown>> | undefined;
    if (!configs) continue;
    for (const [name, r] of Object.entries(configs)) {
      const peerModel = (BENCH_CONFIGS[name] ?? SIZING_CONFIGS[name])?.peerModel;
      if (!peerModel) continue;
      const peerTrain = PEER_PUBLISHED.trainMsPerStep[peerModel];
      const peerScore = PEER_PUBLISHED.iwaeScoresPerSecK16[peerModel];
      const train = r.train as { msPerStep?: number; cpuMsPerStep?: number | null } | undefined;
      const workers = r.trainWorkers as { totalExamplesPerSec?: number; workers?: number };
      const score = r.score as { scoresPerSec?: number; cpuScoresPerSec?: number | null };
      const peer2ThreadExPerSec = (32 * 1000) / peerTrain.threads2;
      rows.push({
        backend,
        config: name,
        peerModel,
        trainMsPerStep: { ours: train?.msPerStep ?? null, oursCpu: train?.cpuMsPerStep ?? null },
        peerTrainMsPerStep1Thread: peerTrain.threads1,
        trainSpeedVsPeer1Thread: round(peerTrain.threads1 / (train?.msPerStep ?? NaN), 3),
        trainSpeedVsPeer1ThreadByCpuTime: round(
          peerTrain.threads1 / (train?.cpuMsPerStep ?? NaN),
          3,
        ),
        workersExamplesPerSec: workers?.totalExamplesPerSec ?? null,
        peerExamplesPerSec2Threads: round(peer2ThreadExPerSec),
        workersSpeedVsPeer2Threads: round(
          (workers?.totalExamplesPerSec ?? NaN) / peer2ThreadExPerSec,
          3,
        ),
        scoresPerSec: score?.scoresPerSec ?? null,
        peerScoresPerSec1Thread: peerScore.threads1,
        scoreSpeedVsPeer1Thread: round((score?.scoresPerSec ?? NaN) / peerScore.threads1, 3),
        scoreSpeedVsPeer1ThreadByCpuTime: round(
          (score?.cpuScoresPerSec ?? NaN) / peerScore.threads1,
          3,
        ),
      });
    }
  }
  return rows;
}

// `deno task train mnist` runs 5 members on 2 workers in 3 rounds within ~12 min: ~240 s each.
const SIZING_BUDGET_SEC_PER_MEMBER = 240;

/** For `--sizing`: training steps each candidate fits in one member's share of the budget. */
function sizingSummary(results: Record<string, Record<string, unknown>>): unknown {
  const rows: unknown[] = [];
  for (const [backend, result] of Object.entries(results)) {
    const configs = result.configs as Record<string, Record<string, unknown>> | undefined;
    for (const [name, r] of Object.entries(configs ?? {})) {
      const w = r.trainWorkers as { cpuMsPerStepPerWorker?: number[] | null } | undefined;
      const cpu = w?.cpuMsPerStepPerWorker;
      const ms = cpu && cpu.length > 0 ? Math.max(...cpu) : null;
      rows.push({
        backend,
        config: name,
        cpuMsPerStepWithWorkers: ms,
        stepsInBudget: ms ? Math.floor((1000 * SIZING_BUDGET_SEC_PER_MEMBER) / ms) : null,
      });
    }
  }
  return { budgetSecPerMember: SIZING_BUDGET_SEC_PER_MEMBER, rows };
}

/** The kernel bench (tasks/bench_kernels.ts: fused WGSL vs composed ops, wasm conv filter grad). */
async function kernelBench(quick: boolean): Promise<unknown> {
  try {
    return await benchKernels({ quick });
  } catch (err) {
    return { error: errorText(err) };
  }
}

const BENCH_CLI: CommandSpec = {
  usage: "deno task bench [flags]",
  description: "Measure training examples/s (one member, and M members in parallel workers), " +
    "IWAE scores/s at K = 16 and peak RSS per backend for the default and paper configurations, " +
    "beside the PyTorch peer's published numbers. Writes JSON to stdout and runs/bench.json.",
  flags: {
    backend: {
      type: "string",
      placeholder: "LIST",
      defaultText: "wasm, plus webgpu on a hardware GPU",
      help: "Comma-separated backends (wasm, cpu, webgpu).",
    },
    configs: {
      type: "string",
      placeholder: "LIST",
      defaultText: "default,paper,dense_k16",
      help: `Configurations: ${Object.keys({ ...BENCH_CONFIGS, ...SIZING_CONFIGS }).join(", ")}.`,
    },
    quick: { type: "boolean", help: "Fewer steps and inputs, the default config only." },
    sizing: {
      type: "boolean",
      help: "Measure the default preset's candidates (2 workers at once) instead.",
    },
    steps: { type: "int", min: 1, defaultText: "10; quick: 3", help: "Timed training steps." },
    warmup: { type: "int", min: 0, default: 2, help: "Untimed steps first." },
    workers: { type: "int", min: 1, defaultText: "min(5, cores)", help: "Parallel members." },
    score_n: {
      type: "int",
      min: 1,
      defaultText: "500; quick: 100",
      help: "Inputs to score (conv: an eighth).",
    },
    out: { type: "string", placeholder: "FILE", default: "runs/bench.json", help: "JSON file." },
    no_kernels: { type: "boolean", help: "Skip the kernel bench (tasks/bench_kernels.ts)." },
    no_wgan: { type: "boolean", help: "Skip the WGAN generator-iteration bench (bench_wgan.ts)." },
    wgan_only: { type: "boolean", help: "Only the WGAN bench (with --quick: its default config)." },
    no_custom_kernels: { type: "boolean", help: "Use composed tfjs ops instead of WGSL kernels." },
  },
};

/**
 * Run the bench with parsed options and return the JSON object.
 *
 * @example
 * ```ts
 * const report = await runBench({ quick: true, backends: ["wasm"] });
 * ```
 */
export async function runBench(options: {
  backends?: string[];
  configs?: string[];
  quick?: boolean;
  sizing?: boolean;
  steps?: number;
  warmup?: number;
  workers?: number;
  scoreN?: number;
  kernels?: boolean;
  customKernels?: boolean;
  /** Time the WGAN configurations too (default true; never with `sizing`). */
  wgan?: boolean;
  /** Only the WGAN configurations (no VAE configurations, no kernel bench). */
  wganOnly?: boolean;
}): Promise<Record<string, unknown>> {
  const quick = options.quick ?? false;
  const cores = navigator.hardwareConcurrency ?? 1;
  const adapter = await probeAdapter();
  const hardwareGpu = adapter !== null && !adapter.isFallback;
  const backends = options.backends ?? (hardwareGpu ? ["wasm", "webgpu"] : ["wasm"]);
  const table = options.sizing ? SIZING_CONFIGS : { ...BENCH_CONFIGS, ...SIZING_CONFIGS };
  const configNames = options.wganOnly ? [] : options.configs ??
    (options.sizing ? Object.keys(SIZING_CONFIGS) : quick ? ["default"] : [
      "default",
      "paper",
      "dense_k16",
    ]);
  const runOpts: RunOptions = {
    steps: options.steps ?? (quick ? 3 : 10),
    warmup: options.warmup ?? 2,
    // Sizing measures what `deno task train` does on this machine: min(M, cores) workers at once.
    workers: options.workers ?? Math.min(5, cores),
    scoreN: options.scoreN ?? (quick ? 100 : 500),
    customKernels: options.customKernels ?? true,
    skipWorkers: false,
  };
  const started = performance.now();
  const results: Record<string, Record<string, unknown>> = {};
  for (const backend of backends) {
    if (backend === "cpu" && !options.backends) continue;
    let info: BackendInfo;
    try {
      info = await initBackend(backend as "wasm");
      setCustomKernels(runOpts.customKernels);
    } catch (err) {
      results[backend] = { error: errorText(err) };
      continue;
    }
    const configs: Record<string, unknown> = {};
    for (const name of configNames) {
      const bc = table[name];
      if (!bc) {
        configs[name] = { error: `unknown bench configuration "${name}"` };
        continue;
      }
      configs[name] = await benchConfig(name, bc, info.backend, runOpts);
    }
    const wgan = options.sizing || options.wgan === false ? undefined : await benchWgan(
      quick ? ["wgan_default"] : Object.keys(WGAN_BENCH_CONFIGS),
      quick ? 2 : 5,
      quick ? 200 : 1000,
      (line) => console.error(line),
    );
    results[backend] = {
      adapter: info.adapter,
      fallbackAdapter: info.fallbackAdapter,
      configs,
      wgan,
    };
  }
  if (!backends.includes("cpu")) {
    results.cpu = {
      skipped: "the pure-JS cpu backend is far slower than wasm; pass --backend cpu to measure it",
    };
  }
  if (!backends.includes("webgpu")) {
    results.webgpu = {
      skipped: adapter
        ? `only a software adapter (${adapter.description}); pass --backend webgpu to measure it`
        : "no WebGPU adapter",
    };
  }
  return {
    notes: [
      "msPerStep: wall clock; cpuMsPerStep: CPU time of the training thread (Linux), the better " +
      "estimate of an idle machine when the cores are shared (see loadAverage*)",
      "peakRssMb: the process's peak while measuring that configuration, workers included; " +
      "wasm heaps never shrink, so it includes what earlier configurations grew",
      "peer: published figures copied from ../shared/peers/README.md, not measured here; ratios " +
      "> 1 mean gensemble is faster",
    ],
    gensembleVersion: GENSEMBLE_VERSION,
    date: new Date().toISOString(),
    machine: {
      cores,
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      os: Deno.build.os,
      loadAverage: loadAverage(),
    },
    options: { ...runOpts, quick, sizing: options.sizing ?? false, configs: configNames },
    backends: results,
    peer: PEER_PUBLISHED,
    comparison: comparisons(results),
    sizing: options.sizing ? sizingSummary(results) : undefined,
    kernels: options.kernels === false || options.wganOnly
      ? { skipped: options.wganOnly ? "--wgan_only" : "--no_kernels" }
      : await kernelBench(quick),
    seconds: round((performance.now() - started) / 1000),
  };
}

/** CLI entry: parse flags, run, print JSON and write it to --out. */
export async function main(args: string[]): Promise<void> {
  const cli = parseCliOrHelp(args, BENCH_CLI);
  if (!cli) return;
  const list = (s: string | undefined) =>
    s?.split(",").map((x) => x.trim()).filter((x) => x.length > 0);
  const report = await runBench({
    backends: list(cli.string("backend")),
    configs: list(cli.string("configs")),
    quick: cli.bool("quick"),
    sizing: cli.bool("sizing"),
    steps: cli.int("steps"),
    warmup: cli.int("warmup"),
    workers: cli.int("workers"),
    scoreN: cli.int("score_n"),
    kernels: !cli.bool("no_kernels"),
    wgan: !cli.bool("no_wgan"),
    wganOnly: cli.bool("wgan_only"),
    customKernels: !cli.bool("no_custom_kernels"),
  });
  const out = cli.string("out")!;
  const dir = out.includes("/") ? out.slice(0, out.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  await writeJsonAtomic(out, report);
  console.log(JSON.stringify(report, null, 2));
  console.error(`bench: written to ${out}`);
}

if (import.meta.main) await runCli(() => main(Deno.args));
