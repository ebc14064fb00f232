/**
 * Throughput and memory of `deno task score` on a large generated file in the Kaggle credit-card
 * schema: rows/s end to end (parse, scale, 5 members, aggregate, format, write), the parse-only
 * rate for comparison, and the resident memory as the file is read (it should stay flat).
 *
 *   deno run -A tasks/tabular_bench.ts --rows 1000000 [--preset default] [--dir /tmp/gbench]
 *
 * The members are trained for a few steps only (`--max_steps`, default 20): the throughput does
 * not depend on the weights. Prints one JSON object (and writes it to `<dir>/bench.json`).
 */
import process from "node:process";
import type { BackendName } from "../core/backend.ts";
import { writeJsonAtomic } from "../core/atomic.ts";
import { runCli } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { CREDITCARD_COLUMNS } from "../data/creditcard.ts";
import { streamCsvBatches } from "../data/csv_stream.ts";
import { type CommandSpec, parseCliOrHelp } from "./cli_flags.ts";
import { PRESET_NAMES } from "./presets.ts";
import { scoreFile } from "./score.ts";
import { loadEnsemble } from "./score_ensemble.ts";
import { calibrateTabularRun, prepareTabularRun } from "./tabular_train.ts";
import { trainEnsemble } from "./train.ts";

/** Memory of this process from /proc (Linux): resident now and peak, in MiB; null elsewhere. */
export function memoryMiB(): { rss: number; peak: number } | null {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
    return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
  } catch {
    return null;
  }
}

/**
 * Write `rows` rows in the Kaggle schema (Time, V1..V28, Amount, Class; ~1% frauds shifted in
 * V1..V4) to `path`, seeded, in chunks (memory stays small).
 */
export async function writeKaggleLikeCsv(path: string, rows: number, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const enc = new TextEncoder();
  try {
    const header = CREDITCARD_COLUMNS.map((c) => `"${c}"`).join(",") + "\n";
    await file.write(enc.encode(header));
    const chunk = 20000;
    for (let start = 0; start < rows; start += chunk) {
      const lines: string[] = [];
      for (let i = start; i < Math.min(rows, start + chunk); i++) {
        const fraud = rng.uniform() < 0.01;
        const cells = [String(i)];
        for (let j = 0; j < 28; j++) {
          cells.push((rng.normal() + (fraud && j < 4 ? 4 : 0)).toFixed(6));
        }
        cells.push((Math.exp(3 + rng.normal())).toFixed(2), fraud ? '"1"' : '"0"');
        lines.push(cells.join(","));
      }
      const bytes = enc.encode(lines.join("\n") + "\n");
      let off = 0;
      while (off < bytes.length) off += await file.write(bytes.subarray(off));
    }
  } finally {
    file.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

const SPEC: CommandSpec = {
  usage: "deno run -A tasks/tabular_bench.ts [flags]",
  description: "Measure deno task score's rows/s and memory on a generated Kaggle-schema file.",
  flags: {
    rows: { type: "int", min: 1, default: 1000000, help: "Rows in the scored file." },
    preset: { type: "string", choices: PRESET_NAMES, default: "default", help: "Member preset." },
    max_steps: {
      type: "int",
      min: 1,
      default: 20,
      help: "Training steps (weights do not matter).",
    },
    samples: { type: "int", min: 1, help: "K for scoring.", defaultText: "the run's eval K" },
    workers: { type: "int", min: 0, default: 0, help: "Score workers (0: in this thread)." },
    latent_size: { type: "int", min: 1, defaultText: "preset", help: "Latent size." },
    n_flows: { type: "int", min: 0, defaultText: "preset", help: "MADE layers in the prior." },
    flow_hidden: { type: "int_list", min: 1, defaultText: "preset", help: "MADE hidden sizes." },
    dense_hidden: {
      type: "int_list",
      min: 1,
      defaultText: "preset",
      help: "Encoder/decoder sizes.",
    },
    no_dense_hidden: {
      type: "boolean",
      help: "No hidden encoder/decoder layers (the reference's).",
    },
    dir: { type: "string", default: "/tmp/gensemble-score-bench", help: "Work directory." },
    backend: {
      type: "string",
      choices: ["auto", "wasm", "cpu", "webgpu"],
      default: "auto",
      help: "tfjs backend.",
    },
    keep_output: { type: "boolean", help: "Keep the scored file (it is as big as the input)." },
  },
};

async function main(): Promise<void> {
  const cli = parseCliOrHelp(Deno.args, SPEC);
  if (!cli) return;
  const dir = cli.string("dir")!;
  const rows = cli.int("rows")!;
  const backend = cli.string("backend") as BackendName;
  await Deno.mkdir(dir, { recursive: true });
  const trainCsv = `${dir}/train.csv`;
  const big = `${dir}/rows_${rows}.csv`;
  if (!(await exists(trainCsv))) await writeKaggleLikeCsv(trainCsv, 20000, 1);
  if (!(await exists(big))) {
    console.error(`writing ${rows} rows to ${big}`);
    await writeKaggleLikeCsv(big, rows, 2);
  }
  const runDir = `${dir}/run-${cli.string("preset")}`;
  await prepareTabularRun({ dataset: trainCsv, runDir, seed: 0 });
  const trained = await trainEnsemble({
    dataset: trainCsv,
    modelDir: runDir,
    preset: cli.string("preset"),
    overrides: {
      maxSteps: cli.int("max_steps"),
      latentSize: cli.int("latent_size"),
      nFlows: cli.int("n_flows"),
      flowHidden: cli.intList("flow_hidden"),
      denseHidden: cli.bool("no_dense_hidden") ? [] : cli.intList("dense_hidden"),
    },
    backend,
    fresh: true,
    progressEverySec: 0,
  });
  await calibrateTabularRun(runDir, { nSamples: cli.int("samples"), backend });

  const memStart = memoryMiB();
  // Parse only: the reader's share of the time.
  let parsed = 0;
  const t0 = performance.now();
  const features = CREDITCARD_COLUMNS.slice(0, 30);
  for await (const b of streamCsvBatches(big, { features, allowedExtra: ["Class"] })) {
    parsed += b.rows;
  }
  const parseSeconds = (performance.now() - t0) / 1000;

  const ens = await loadEnsemble(runDir, {
    backend,
    quiet: true,
    nSamples: cli.int("samples"),
    workers: cli.int("workers"),
  });
  const rssAt: Array<{ rows: number; rssMiB: number }> = [];
  let nextMark = 0;
  const out = `${dir}/scored.csv`;
  const cpuBefore = process.cpuUsage(); // this process, all threads (score workers included)
  let summary;
  try {
    summary = await scoreFile(ens, {
      input: big,
      out,
      onProgress: (done) => {
        if (done >= nextMark) {
          rssAt.push({ rows: done, rssMiB: Math.round(memoryMiB()?.rss ?? NaN) });
          nextMark += Math.max(1, Math.floor(rows / 10));
        }
      },
    });
  } finally {
    ens.dispose();
  }
  const cpu = process.cpuUsage(cpuBefore);
  const memEnd = memoryMiB();
  const outBytes = (await Deno.stat(out)).size;
  if (!cli.bool("keep_output")) await Deno.remove(out);
  const result = {
    rows: summary.rows,
    inputBytes: (await Deno.stat(big)).size,
    outputBytes: outBytes,
    preset: cli.string("preset"),
    member: trained.config.member,
    numModels: trained.config.numModels,
    nSamples: ens.nSamples,
    workers: cli.int("workers"),
    loadAverage: Deno.loadavg(),
    backend: trained.config.backend,
    scoreSeconds: summary.seconds,
    rowsPerSec: Math.round(summary.rowsPerSec),
    // Load-independent: rows per second of CPU time this process used (user + system).
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rowsPerCpuSec: Math.round(summary.rows / ((cpu.user + cpu.system) / 1e6)),
    parseOnlyRowsPerSec: Math.round(parsed / parseSeconds),
    anomalies: summary.anomalies,
    rssMiBBeforeScoring: memStart ? Math.round(memStart.rss) : null,
    rssMiBDuringScoring: rssAt,
    peakRssMiB: memEnd ? Math.round(memEnd.peak) : null,
    createdAt: new Date().toISOString(),
  };
  await writeJsonAtomic(`${dir}/bench.json`, result);
  console.log(JSON.stringify(result, null, 2));
}

if (import.meta.main) await runCli(main);
