/**
 * Kernel bench: time per call of each fused WGSL op against its composed-op twin on webgpu
 * (K = 16 samples, D = 16 latents, M = 5 members, N ∈ {1e3, 1e4, 1e5}), forward and
 * forward + backward; and the wasm Conv2DBackpropFilter (kernels/wasm_conv2d_backprop_filter.ts)
 * on the reference VAE's conv layer shapes at batch 32, beside the forward conv2d of each layer;
 * and end-to-end IWAE scores/s of a default-preset member with and without the kernels.
 *
 * Each timing is the median of several calls, each ended by reading one element back (the GPU
 * queue runs in order, so that waits for all the call's work). A benchmark, never a test: it
 * reports numbers and fails on nothing.
 *
 * ```sh
 * deno run -A tasks/bench_kernels.ts --backend webgpu        # JSON on stdout
 * deno run -A tasks/bench_kernels.ts --backend webgpu --quick
 * ```
 */
import { parseArgs, tf } from "../deps.ts";
import { type BackendName, initBackend, probeAdapter } from "../core/backend.ts";
import { runCli } from "../core/errors.ts";
import { conv2dBackpropFilterComposed } from "../kernels/wasm_conv2d_backprop_filter.ts";
import { defaultVaeConfig, VaeMember } from "../models/vae.ts";
import {
  customKernelsEnabled,
  ensembleStats,
  iwaeLogMeanExp,
  mafAffine,
  setCustomKernels,
} from "../kernels/ops.ts";

/** End-to-end IWAE scoring of one default-preset VAE member, with and without the kernels. */
export interface ScoringTiming {
  inputs: number;
  k: number;
  withKernelsScoresPerSec: number | null;
  composedScoresPerSec: number;
}

/**
 * Scores/s of a default-preset member (dense 784-512-512, MAF 6×[512, 512], latent 16) at
 * K = 16 on random inputs, once with the WGSL kernels (webgpu only) and once with the twins.
 */
async function benchScoring(n: number, fused: boolean): Promise<ScoringTiming> {
  const member = new VaeMember(defaultVaeConfig({ arch: "dense", inputShape: [28, 28, 1] }));
  const x = tf.randomUniform([n, 28, 28, 1], 0, 1, "float32", 7);
  const was = customKernelsEnabled();
  const rate = async (kernels: boolean): Promise<number> => {
    setCustomKernels(kernels);
    // webgpu cannot read back synchronously in Deno, so use the async twin there.
    const score = () =>
      member.scoreAsync ? member.scoreAsync(x, K) : Promise.resolve(member.score(x, K));
    await score(); // warm-up: shader compilation, buffer pools
    const t0 = performance.now();
    await score();
    return round(n / ((performance.now() - t0) / 1000));
  };
  try {
    return {
      inputs: n,
      k: K,
      withKernelsScoresPerSec: fused ? await rate(true) : null,
      composedScoresPerSec: await rate(false),
    };
  } finally {
    setCustomKernels(was);
    x.dispose();
    member.dispose();
  }
}

/** Options of `benchKernels`. */
export interface KernelBenchOptions {
  /** Backend for the fused-vs-composed part; fused ops exist on webgpu only. Default webgpu. */
  backend?: BackendName;
  /** Column counts N. Default [1e3, 1e4, 1e5]; quick: [1e3, 1e4]. */
  sizes?: number[];
  /** Timed calls per measurement (after 2 untimed). Default 7; quick: 3. */
  repeats?: number;
  /** Fewer sizes and repeats. */
  quick?: boolean;
  /** Time end-to-end scoring even on a software adapter (slow there). Default false. */
  scoring?: boolean;
  /** Also time the wasm conv filter gradient. Default true. */
  conv?: boolean;
}

/** One op at one size: median ms per call, fused and composed. */
export interface OpTiming {
  op: string;
  shape: number[];
  fusedMs: number | null;
  composedMs: number;
  /** composedMs / fusedMs: > 1 means the WGSL kernel is faster. */
  speedup: number | null;
}

/** One conv layer on wasm: filter gradient and forward conv2d, median ms per call. */
export interface ConvTiming {
  layer: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: "same" | "valid";
  backpropFilterMs: number;
  forwardConvMs: number;
}

const K = 16;
const D = 16;
const M = 5;

// The reference conv VAE (models/networks.ts) at batch 32: every conv2d's filter gradient, and
// the stride-2 conv2dTranspose layers, whose filter gradient has the same shape as conv1's.
const CONV_LAYERS: Array<Omit<ConvTiming, "backpropFilterMs" | "forwardConvMs">> = [
  {
    layer: "encoder conv0 5×5 28×28 1→32",
    x: [32, 28, 28, 1],
    filter: [5, 5, 1, 32],
    strides: 1,
    pad: "same",
  },
  {
    layer: "encoder conv1 5×5/2 28×28 32→32 (= decoder deconv4)",
    x: [32, 28, 28, 32],
    filter: [5, 5, 32, 32],
    strides: 2,
    pad: "same",
  },
  {
    layer: "encoder conv2 5×5 14×14 32→64",
    x: [32, 14, 14, 32],
    filter: [5, 5, 32, 64],
    strides: 1,
    pad: "same",
  },
  {
    layer: "encoder conv3 5×5/2 14×14 64→64 (= decoder deconv2)",
    x: [32, 14, 14, 64],
    filter: [5, 5, 64, 64],
    strides: 2,
    pad: "same",
  },
  {
    layer: "decoder deconv1 5×5 7×7 64→64",
    x: [32, 7, 7, 64],
    filter: [5, 5, 64, 64],
    strides: 1,
    pad: "same",
  },
  {
    layer: "decoder deconv5 5×5 28×28 32→32",
    x: [32, 28, 28, 32],
    filter: [5, 5, 32, 32],
    strides: 1,
    pad: "same",
  },
  {
    layer: "decoder conv_out 5×5 28×28 32→1",
    x: [32, 28, 28, 32],
    filter: [5, 5, 32, 1],
    strides: 1,
    pad: "same",
  },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Median wall ms of `f`, each call synchronised by reading back one element of its output.
 * Up to `repeats` timed calls after warm-up, but stops once `budgetMs` is spent (at least one
 * timed call), so that slow composed ops on a software adapter cannot stall the bench.
 */
async function timeCalls(f: () => tf.Tensor[], repeats: number, budgetMs = 3000): Promise<number> {
  const once = async () => {
    const start = performance.now();
    const outs = tf.tidy(f);
    const probe = tf.tidy(() => tf.slice(tf.reshape(outs[outs.length - 1], [-1]), 0, 1));
    await probe.data();
    const ms = performance.now() - start;
    tf.dispose([...outs, probe]);
    return ms;
  };
  // Warm-up compiles the shaders and fills the buffer pools; a second one if the first was cheap.
  if (await once() < budgetMs / 10) await once();
  const times: number[] = [];
  const started = performance.now();
  while (times.length < repeats && (times.length === 0 || performance.now() - started < budgetMs)) {
    times.push(await once());
  }
  return median(times);
}

interface OpCase {
  op: string;
  shape: number[];
  run: () => tf.Tensor[];
}

/** The ops to time, each a closure over random inputs of N columns (returned for disposal). */
function opCases(n: number): { inputs: tf.Tensor[]; cases: OpCase[] } {
  const z = tf.randomNormal([n, D], 0, 1, "float32", 1) as tf.Tensor2D;
  const mu = tf.randomNormal([n, D], 0, 1, "float32", 2) as tf.Tensor2D;
  const alpha = tf.randomNormal([n, D], 0, 0.5, "float32", 3) as tf.Tensor2D;
  const logWeights = tf.randomNormal([K, n], -100, 5, "float32", 4) as tf.Tensor2D;
  const scores = tf.randomNormal([M, n], -100, 5, "float32", 5) as tf.Tensor2D;
  const mafLoss = (a: tf.Tensor) => {
    const { u, logDet } = mafAffine(z, mu, a as tf.Tensor2D);
    return tf.add(tf.sum(tf.square(u)), tf.sum(logDet));
  };
  const cases: OpCase[] = [
    {
      op: "mafAffine forward",
      shape: [n, D],
      run: () => {
        const { u, logDet } = mafAffine(z, mu, alpha);
        return [u, logDet];
      },
    },
    { op: "mafAffine forward+backward", shape: [n, D], run: () => [tf.grad(mafLoss)(alpha)] },
    { op: "iwaeLogMeanExp forward", shape: [K, n], run: () => [iwaeLogMeanExp(logWeights)] },
    {
      op: "iwaeLogMeanExp forward+backward",
      shape: [K, n],
      run: () => [tf.grad((w: tf.Tensor) => tf.sum(iwaeLogMeanExp(w as tf.Tensor2D)))(logWeights)],
    },
    {
      op: "ensembleStats forward",
      shape: [M, n],
      run: () => {
        const { mean, variance, waic } = ensembleStats(scores);
        return [mean, variance, waic];
      },
    },
  ];
  return { inputs: [z, mu, alpha, logWeights, scores], cases };
}

async function benchOps(sizes: number[], repeats: number, fused: boolean): Promise<OpTiming[]> {
  const rows: OpTiming[] = [];
  const previous = customKernelsEnabled();
  try {
    for (const n of sizes) {
      const { inputs, cases } = opCases(n);
      for (const c of cases) {
        setCustomKernels(true);
        const fusedMs = fused ? await timeCalls(c.run, repeats) : null;
        setCustomKernels(false);
        const composedMs = await timeCalls(c.run, repeats);
        rows.push({
          op: c.op,
          shape: c.shape,
          fusedMs: fusedMs === null ? null : round(fusedMs),
          composedMs: round(composedMs),
          speedup: fusedMs === null ? null : round(composedMs / fusedMs),
        });
        console.error(`bench_kernels: ${c.op} [${c.shape}] ${JSON.stringify(rows.at(-1))}`);
      }
      tf.dispose(inputs);
    }
  } finally {
    setCustomKernels(previous);
  }
  return rows;
}

async function benchConv(repeats: number): Promise<ConvTiming[]> {
  const rows: ConvTiming[] = [];
  for (const layer of CONV_LAYERS) {
    const x = tf.randomNormal(layer.x, 0, 1, "float32", 6) as tf.Tensor4D;
    const filter = tf.randomNormal(layer.filter, 0, 0.1, "float32", 7) as tf.Tensor4D;
    const y = tf.conv2d(x, filter, layer.strides, layer.pad);
    const dy = tf.randomNormal(y.shape, 0, 1, "float32", 8) as tf.Tensor4D;
    const attrs = {
      strides: layer.strides,
      pad: layer.pad,
      dataFormat: "NHWC" as const,
      filterShape: layer.filter,
    };
    const backpropFilterMs = await timeCalls(
      () => [conv2dBackpropFilterComposed(x, dy, attrs)],
      repeats,
    );
    const forwardConvMs = await timeCalls(
      () => [tf.conv2d(x, filter, layer.strides, layer.pad)],
      repeats,
    );
    rows.push({
      ...layer,
      backpropFilterMs: round(backpropFilterMs),
      forwardConvMs: round(forwardConvMs),
    });
    console.error(`bench_kernels: wasm ${layer.layer} ${JSON.stringify(rows.at(-1))}`);
    tf.dispose([x, filter, y, dy]);
  }
  return rows;
}

/**
 * Run the kernel bench; returns a JSON-able object. Leaves the active backend as it found it.
 *
 * @example
 * ```ts
 * const report = await benchKernels({ quick: true });
 * console.log(JSON.stringify(report, null, 2));
 * ```
 */
export async function benchKernels(
  options: KernelBenchOptions = {},
): Promise<Record<string, unknown>> {
  const quick = options.quick ?? false;
  const sizes = options.sizes ?? (quick ? [1e3, 1e4] : [1e3, 1e4, 1e5]);
  const repeats = options.repeats ?? (quick ? 3 : 7);
  const requested = options.backend ?? "webgpu";
  const previousBackend = tf.getBackend();
  const adapter = await probeAdapter();
  const report: Record<string, unknown> = {
    adapter: adapter
      ? `${adapter.description}${adapter.isFallback ? " (software fallback)" : ""}`
      : "none",
    k: K,
    d: D,
    m: M,
    repeats,
    timing: "median wall ms per call, synchronised by reading back one element",
  };
  const started = performance.now();
  try {
    let opsBackend: string | null = null;
    try {
      opsBackend = (await initBackend(requested, { quiet: true })).backend;
    } catch (err) {
      report.ops = { skipped: `backend ${requested} unavailable: ${(err as Error).message}` };
    }
    if (opsBackend) {
      report.opsBackend = opsBackend;
      report.ops = await benchOps(sizes, repeats, opsBackend === "webgpu");
      // On llvmpipe a 784-512-512 member's first passes spend minutes compiling and running
      // shaders, which would break the 5-minute budget: end-to-end scoring runs on hardware
      // adapters (or when asked with --scoring).
      const hardware = opsBackend === "webgpu" && adapter !== null && !adapter.isFallback;
      report.scoring = hardware || options.scoring
        ? await benchScoring(quick ? 50 : 500, opsBackend === "webgpu")
        : { skipped: "software adapter: pass --scoring to time end-to-end scoring anyway" };
    }
    if (options.conv ?? true) {
      try {
        await initBackend("wasm", { quiet: true });
        report.wasmConv2dBackpropFilter = await benchConv(repeats);
      } catch (err) {
        report.wasmConv2dBackpropFilter = { skipped: `wasm: ${(err as Error).message}` };
      }
    }
  } finally {
    if (previousBackend && tf.getBackend() !== previousBackend) {
      await tf.setBackend(previousBackend);
    }
  }
  report.seconds = round((performance.now() - started) / 1000);
  return report;
}

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseArgs({
      options: {
        backend: { type: "string", default: "webgpu" },
        quick: { type: "boolean", default: false },
        sizes: { type: "string" },
        repeats: { type: "string" },
        no_conv: { type: "boolean", default: false },
        scoring: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
    if (values.help) {
      console.log(
        "deno run -A tasks/bench_kernels.ts [--backend webgpu|wasm|cpu] [--quick] " +
          "[--sizes 1000,10000,100000] [--repeats 7] [--no_conv] [--scoring]\n" +
          "Times the fused WGSL ops against their composed twins and the wasm conv filter " +
          "gradient; prints JSON.",
      );
      return;
    }
    const report = await benchKernels({
      backend: values.backend as BackendName,
      quick: values.quick,
      sizes: values.sizes?.split(",").map(Number),
      repeats: values.repeats ? Number(values.repeats) : undefined,
      conv: !values.no_conv,
      scoring: values.scoring,
    });
    console.log(JSON.stringify(report, null, 2));
  });
}
