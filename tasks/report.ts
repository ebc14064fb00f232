/**
 * `deno task report --model_dir RUN`: rebuild `RUN/eval/report.html` from what the eval left in
 * the run directory (results.json, report_data.json, config.json, the members' training logs)
 * without loading data or models or recomputing any score. Eval calls `writeReport` at its end.
 *
 * @example
 * ```sh
 * deno task report --model_dir runs/mnist-vae      # → runs/mnist-vae/eval/report.html
 * ```
 */
import { writeFileAtomic, writeTextAtomic } from "../core/atomic.ts";
import { fileError, GensembleError, runCli } from "../core/errors.ts";
import { HeadlessChromium } from "../report/headless_chromium.ts";
import { readReportData } from "../report/report_data.ts";
import { renderReportHtml, type TrainLogPoint } from "../report/html.ts";
import type { EvalResults } from "./results_table.ts";
import { listMemberDirs, readRunConfig, runPaths } from "./run_config.ts";
import { type CommandSpec, parseCliOrHelp } from "./cli_flags.ts";

/** Options of `writeReport`. */
export interface WriteReportOptions {
  /** Output path (default `<modelDir>/eval/report.html`). */
  out?: string;
  /** Time shown as "report generated" (default now). */
  generatedAt?: string;
}

async function readResults(path: string): Promise<EvalResults> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw fileError(path, "not found; run the eval first (deno task eval ... --skip_train)");
    }
    throw err;
  }
  let r: EvalResults;
  try {
    r = JSON.parse(text);
  } catch {
    throw fileError(path, "is not valid JSON; re-run the eval to rewrite it");
  }
  if (!Array.isArray(r?.rows) || !Array.isArray(r.scores) || typeof r.dataset !== "string") {
    throw fileError(path, "is not an eval results file (no rows/scores); re-run the eval");
  }
  return r;
}

/** Parse a train_log.jsonl; lines that are not complete JSON records (a torn write) are skipped. */
export function parseTrainLog(text: string): TrainLogPoint[] {
  const points: TrainLogPoint[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const o = JSON.parse(line);
      if (typeof o?.step === "number" && typeof o.loss === "number") {
        points.push({
          step: o.step,
          loss: o.loss,
          rate: typeof o.rate === "number" ? o.rate : NaN,
          distortion: typeof o.distortion === "number" ? o.distortion : NaN,
        });
      }
    } catch {
      // A line cut short by an interrupted run: the rest of the log is still good.
    }
  }
  return points;
}

async function readTrainLogs(dir: string): Promise<{ member: number; points: TrainLogPoint[] }[]> {
  const paths = runPaths(dir);
  const logs = [];
  for (const member of await listMemberDirs(paths.dir)) {
    try {
      logs.push({ member, points: parseTrainLog(await Deno.readTextFile(paths.trainLog(member))) });
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return logs;
}

/**
 * Write `<modelDir>/eval/report.html` from the run dir's eval results, report data, config and
 * training logs; returns the path written. Recomputes nothing.
 *
 * @example
 * ```ts
 * // at the end of eval, after writeResults and writeReportData:
 * const path = await writeReport("runs/mnist-vae");
 * ```
 */
export async function writeReport(
  modelDir: string,
  options: WriteReportOptions = {},
): Promise<string> {
  const paths = runPaths(modelDir);
  const results = await readResults(`${paths.evalDir}/results.json`);
  const dataPath = `${paths.evalDir}/report_data.json`;
  const html = renderReportHtml({
    results,
    config: await readRunConfig(paths.dir),
    data: await readReportData(dataPath),
    dataPath,
    trainLogs: await readTrainLogs(paths.dir),
    modelDir: paths.dir,
    generatedAt: options.generatedAt ?? new Date().toISOString(),
  });
  const out = options.out ?? `${paths.evalDir}/report.html`;
  await writeTextAtomic(out, html);
  return out;
}

/** Options of `screenshotReport`. */
export interface ScreenshotOptions {
  /** Section id the picture starts at (default: the top of the page). */
  from?: string;
  /** Picture size in CSS pixels (default 1280 × 1600). */
  width?: number;
  height?: number;
}

/**
 * Render a report page in headless Chromium and save a PNG of part of it (for the README).
 * Returns the PNG's size in bytes.
 *
 * @example
 * ```ts
 * await screenshotReport("runs/mnist-vae/eval/report.html", "docs/report_mnist.png",
 *   { from: "images", height: 1400 });
 * ```
 */
export async function screenshotReport(
  htmlPath: string,
  pngPath: string,
  options: ScreenshotOptions = {},
): Promise<number> {
  const width = options.width ?? 1280;
  const browser = await HeadlessChromium.launch({ width, height: 900 });
  try {
    await browser.open(new URL(`file://${await Deno.realPath(htmlPath)}`).href);
    const y = options.from
      ? await browser.evaluate<number | null>(
        `(() => { const e = document.getElementById(${JSON.stringify(options.from)}); ` +
          `return e ? e.getBoundingClientRect().top + window.scrollY : null; })()`,
      )
      : 0;
    if (y === null) {
      throw new GensembleError(
        `${htmlPath}: has no section "${options.from}" to start the screenshot at`,
      );
    }
    const png = await browser.screenshot({ x: 0, y, width, height: options.height ?? 1600 });
    const parent = pngPath.includes("/") ? pngPath.slice(0, pngPath.lastIndexOf("/")) : ".";
    await Deno.mkdir(parent || "/", { recursive: true });
    await writeFileAtomic(pngPath, png);
    return png.length;
  } finally {
    await browser.close();
  }
}

const SPEC: CommandSpec = {
  usage: "deno task report --model_dir RUN [--out FILE] [--screenshot FILE]",
  description: "Rebuild a run's HTML report (RUN/eval/report.html) from the eval's saved results " +
    "and scores, without recomputing anything. The page is self-contained and opens offline.",
  flags: {
    model_dir: { type: "string", help: "Run directory, e.g. runs/mnist-vae.", placeholder: "DIR" },
    out: { type: "string", help: "Where to write the page.", defaultText: "RUN/eval/report.html" },
    screenshot: {
      type: "string",
      help: "Also save a PNG of the rendered page here (needs Chromium).",
      placeholder: "FILE",
    },
    screenshot_from: {
      type: "string",
      help: "Section the screenshot starts at: results, roc, histograms, images, " +
        "reconstructions, latent, training, config.",
      defaultText: "top of the page",
    },
    screenshot_height: {
      type: "int",
      min: 100,
      max: 20000,
      default: 1600,
      help: "Screenshot height in CSS pixels (width 1280).",
    },
  },
  epilog: "The eval writes the report itself; run this after changing the report code, or to " +
    "rebuild a report that was deleted.",
};

async function main(): Promise<void> {
  const cli = parseCliOrHelp(Deno.args, SPEC);
  if (!cli) return;
  const dir = cli.string("model_dir");
  if (!dir) {
    throw new GensembleError("Flag --model_dir is required (e.g. --model_dir runs/mnist-vae)");
  }
  try {
    await Deno.stat(dir);
  } catch {
    throw fileError(dir, "run directory not found; train and evaluate first");
  }
  const started = performance.now();
  const out = await writeReport(dir, { out: cli.string("out") });
  const kb = (await Deno.stat(out)).size / 1024;
  console.log(
    `Wrote ${out} (${kb.toFixed(0)} KB) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const shot = cli.string("screenshot");
  if (shot) {
    const bytes = await screenshotReport(out, shot, {
      from: cli.string("screenshot_from"),
      height: cli.int("screenshot_height"),
    });
    console.log(`Wrote ${shot} (${(bytes / 1024).toFixed(0)} KB)`);
  }
}

if (import.meta.main) await runCli(main);
