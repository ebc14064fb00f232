/**
 * The self-contained HTML report: one file with inline CSS, inline SVG plots and PNG images as
 * `data:` URIs, so it opens offline and can be mailed around. No scripts, no fonts, no links
 * outside the page. Sections: results table, ROC curves, score histograms, the most and least
 * anomalous inputs, reconstructions, the latent space (PCA), training curves, configuration.
 */
import { type EvalResults, metricCells, type ResultRow } from "../tasks/results_table.ts";
import type { RunConfig } from "../tasks/run_config.ts";
import { curveArea, rocCurve } from "../metrics/roc_curve.ts";
import { decodeFloat32, decodeUint8 } from "./encoded_array.ts";
import { imageGrid, reconstructionStrip } from "./image_grid.ts";
import { fitPca, projectPca } from "./pca.ts";
import { encodePng, pngDataUri } from "./png.ts";
import type { RankedImages, ReportData, ReportSet } from "./report_data.ts";
import { escapeXml, histogramPlot, linePlot, PALETTE, rocPlot, scatterPlot } from "./svg_plots.ts";

/** One logged training step (a line of `member-<i>/train_log.jsonl`). */
export interface TrainLogPoint {
  step: number;
  loss: number;
  rate: number;
  distortion: number;
}

/** Everything the page shows; `writeReport` gathers it from the run dir. */
export interface ReportInput {
  results: EvalResults;
  config: RunConfig | null;
  /** null when the eval wrote no report_data.json: the score plots are then left out. */
  data: ReportData | null;
  /** The file `data` came from, named in error messages. */
  dataPath: string;
  trainLogs: { member: number; points: TrainLogPoint[] }[];
  modelDir: string;
  /** ISO time the page was generated (shown; the only varying text). */
  generatedAt: string;
}

const esc = escapeXml;

/** Fixed colours per score, so a score has the same colour in every plot. */
const SCORE_COLORS: Record<string, string> = {
  waic: PALETTE[0],
  mean: PALETTE[1],
  var: PALETTE[2],
  single: PALETTE[3],
  rate: PALETTE[4],
  posterior_mean_var: PALETTE[6],
};

function scoreColor(name: string, i: number): string {
  return SCORE_COLORS[name] ?? PALETTE[(i + 7) % PALETTE.length];
}

const SCORE_TITLES: Record<string, string> = {
  waic: "−WAIC",
  mean: "−mean log p̂",
  var: "variance of log p̂",
  single: "−log p̂ (member 0)",
  rate: "rate",
  posterior_mean_var: "posterior-mean variance",
};

function scoreTitle(name: string): string {
  return SCORE_TITLES[name] ?? name;
}

function fmt(v: number | undefined, digits = 3): string {
  return v === undefined ? "" : Number.isFinite(v) ? v.toFixed(digits) : String(v);
}

const CSS = `
body { font-family: sans-serif; margin: 0 auto; max-width: 1240px; padding: 16px 24px; color: #222;
  background: #fafafa; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px;
  border-bottom: 1px solid #ddd; padding-bottom: 4px; } h3 { font-size: 14px; margin: 14px 0 6px; }
p, li { font-size: 13px; line-height: 1.45; } .meta { color: #555; }
nav a { margin-right: 12px; font-size: 13px; color: #2a5d9f; }
table { border-collapse: collapse; font-size: 12px; margin: 6px 0 12px; background: #fff; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: right; }
th:first-child, td:first-child { text-align: left; } th { background: #f0f0f0; }
td.best { font-weight: bold; background: #eef5e9; }
table.kv td { text-align: left; }
.plots { display: flex; flex-wrap: wrap; gap: 10px; }
.plots figure, .grids figure { margin: 0; background: #fff; border: 1px solid #e4e4e4;
  padding: 6px; }
figcaption { font-size: 12px; color: #444; max-width: 480px; margin-top: 4px; }
.grids { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 10px; }
img.pixels { image-rendering: pixelated; display: block; }
details { margin: 6px 0; } summary { cursor: pointer; font-size: 14px; font-weight: bold; }
pre { background: #fff; border: 1px solid #e4e4e4; padding: 8px; font-size: 12px;
  overflow-x: auto; }
.note { color: #8a5a00; }
`;

function table(
  header: string[],
  rows: string[][],
  bestCells?: boolean[][],
  cls = "",
): string {
  const head = `<tr>${header.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>`;
  const body = rows.map((r, i) =>
    `<tr>${
      r.map((c, j) => `<td${bestCells?.[i]?.[j] ? ` class="best"` : ""}>${esc(c)}</td>`).join("")
    }</tr>`
  ).join("");
  return `<table${cls ? ` class="${cls}"` : ""}>${head}${body}</table>`;
}

function oodSets(r: EvalResults): string[] {
  return [...new Set(r.rows.map((row) => row.ood))];
}

function findRow(r: EvalResults, ood: string, score: string): ResultRow | undefined {
  return r.rows.find((row) => row.ood === ood && row.score === score);
}

function resultsSection(r: EvalResults): string {
  const sets = oodSets(r);
  const rows = sets.map((ood) => [
    ood,
    String(r.nPerSet[ood] ?? ""),
    ...r.scores.map((s) => {
      const row = findRow(r, ood, s);
      return row ? `${fmt(row.auroc)} ± ${fmt(row.aurocStd)}` : "";
    }),
  ]);
  const best = sets.map((ood) => {
    const values = r.scores.map((s) => findRow(r, ood, s)?.auroc ?? -Infinity);
    const top = Math.max(...values);
    return [false, false, ...values.map((v) => v === top && Number.isFinite(v))];
  });
  const long = r.rows.map((row) => [...metricCells(row), fmt(row.aurocAllMembers)]);
  const missing = r.missing.length > 0
    ? `<p class="note">Not evaluated (files not found): ${
      esc(r.missing.map((m) => `${m} (${r.missingReasons[m] ?? "not found"})`).join("; "))
    }.</p>`
    : "";
  const incomplete = r.incompleteMembers.length > 0
    ? `<p class="note">Skipped incomplete members: ${
      esc(
        r.incompleteMembers.map((m) => `member-${m.member} (step ${m.step} of ${m.maxSteps})`)
          .join(", "),
      )
    }.</p>`
    : "";
  return `<section id="results"><h2>Results</h2>
<p>AUROC of ${esc(r.inDistribution)} test (in-distribution) against each OoD set, bootstrap mean ±
std over ${r.bootstrap.resamples} resamples of the ${r.members} members; the best score per set is
in bold. Scores: ${esc(r.scoreConvention)}.</p>
${table(["OoD set", "n", ...r.scores.map(scoreTitle)], rows, best)}
<details><summary>All metrics</summary>
<p>AUPR-In/Out are average precision with the in-distribution/OoD set positive; FPR@95/99 is the
fraction of OoD inputs accepted where 95%/99% of normal inputs are accepted.
${esc(r.bootstrap.note)}</p>
${
    table(
      [
        "OoD set",
        "score",
        "AUROC",
        "±",
        "AUPR-In",
        "AUPR-Out",
        "FPR@95",
        "FPR@99",
        "AUROC (all members)",
      ],
      long,
    )
  }
</details>${missing}${incomplete}</section>`;
}

/** Wrap a plot, or the reason it could not be drawn, in a figure. */
function figure(draw: () => string, caption = ""): string {
  let body: string;
  try {
    body = draw();
  } catch (err) {
    body = `<p class="note">Could not draw this plot: ${esc((err as Error).message)}</p>`;
  }
  return `<figure>${body}${caption ? `<figcaption>${caption}</figcaption>` : ""}</figure>`;
}

function scoresOf(set: ReportSet, score: string, where: string): Float32Array | undefined {
  const e = set.scores[score];
  return e ? decodeFloat32(e, `${where}: sets.${set.name}.scores.${score}`) : undefined;
}

function rocSection(data: ReportData, where: string): string {
  const inSet = data.sets.find((s) => s.name === data.inDistribution)!;
  const scoreNames = Object.keys(inSet.scores);
  const figs = data.sets.filter((s) => s !== inSet).map((set) =>
    figure(() => {
      const series = scoreNames.flatMap((score, i) => {
        const a = scoresOf(inSet, score, where);
        const b = scoresOf(set, score, where);
        if (!a || !b) return [];
        const c = rocCurve(a, b, { dropIntermediate: true });
        return [{
          label: score,
          fpr: c.fpr,
          tpr: c.tpr,
          auroc: curveArea(c.fpr, c.tpr),
          color: scoreColor(score, i),
        }];
      });
      return rocPlot(series, `${data.inDistribution} vs ${set.name}`);
    })
  );
  return `<section id="roc"><h2>ROC curves</h2>
<p>Flagging every input whose anomaly score exceeds a threshold, swept over all thresholds: the
fraction of OoD inputs flagged (true positive rate) against the fraction of normal
${esc(data.inDistribution)} test inputs flagged (false positive rate). All members, no resampling;
AUROC in the legend.</p>
<div class="plots">${figs.join("\n")}</div></section>`;
}

function histogramSection(data: ReportData, where: string): string {
  const inSet = data.sets.find((s) => s.name === data.inDistribution)!;
  const scoreNames = Object.keys(inSet.scores);
  const ordered = [data.rankedBy, ...scoreNames.filter((s) => s !== data.rankedBy)]
    .filter((s) => scoreNames.includes(s));
  const blocks = ordered.map((score, k) => {
    const figs = data.sets.filter((s) => s !== inSet).map((set) =>
      figure(() => {
        const a = scoresOf(inSet, score, where)!;
        const b = scoresOf(set, score, where);
        if (!b) return `<p class="note">No ${esc(score)} scores for ${esc(set.name)}.</p>`;
        return histogramPlot(
          [
            { label: `${data.inDistribution} (in)`, values: a, color: PALETTE[0] },
            { label: set.name, values: b, color: PALETTE[1] },
          ],
          set.name,
          `${score} anomaly score`,
        );
      })
    );
    return `<details${k === 0 ? " open" : ""}><summary>${esc(scoreTitle(score))} (${
      esc(score)
    })</summary><div class="plots">${figs.join("\n")}</div></details>`;
  });
  return `<section id="histograms"><h2>Score histograms</h2>
<p>Anomaly scores of the in-distribution test set against each OoD set (fraction of each set per
bin; higher = more anomalous). One group per score; click a score to open it.</p>
${blocks.join("\n")}</section>`;
}

function imageTag(png: Uint8Array, width: number, height: number, alt: string): string {
  const scale = Math.max(1, Math.round(440 / width));
  return `<img class="pixels" src="${pngDataUri(png)}" width="${width * scale}" ` +
    `height="${height * scale}" alt="${esc(alt)}">`;
}

function rankedFigure(r: RankedImages, title: string, where: string): string {
  const pixels = decodeUint8(r.images, where);
  const grid = imageGrid(pixels, r.images.shape, { cols: 8 });
  const lo = Math.min(...r.scores);
  const hi = Math.max(...r.scores);
  return `<figure>${imageTag(encodePng(grid), grid.width, grid.height, title)}<figcaption>${
    esc(title)
  } (${r.indices.length} inputs, scores ${fmt(lo, 2)} to ${
    fmt(hi, 2)
  }; row by row)</figcaption></figure>`;
}

function gridSection(data: ReportData, where: string): string {
  const blocks = data.sets.filter((s) => s.mostAnomalous && s.leastAnomalous).map((set) => {
    const w = `${where}: sets.${set.name}`;
    return `<h3>${esc(set.name)}${set.kind === "in" ? " (in-distribution test set)" : ""}</h3>
<div class="grids">${rankedFigure(set.mostAnomalous!, `most anomalous ${set.name}`, w)}${
      rankedFigure(set.leastAnomalous!, `least anomalous ${set.name}`, w)
    }</div>`;
  });
  return `<section id="images"><h2>Most and least anomalous inputs</h2>
<p>The inputs of each set with the highest (left) and lowest (right) ${
    esc(scoreTitle(data.rankedBy))
  } anomaly score, most extreme first.</p>
${blocks.join("\n")}</section>`;
}

const KIND_ORDER = {
  in: 0,
  flip: 1,
  adversarial: 2,
  noise: 3,
  dataset: 4,
  anomalies: 5,
  user: 6,
} as const;

function reconstructionSection(data: ReportData, where: string): string {
  const sets = data.sets.filter((s) => s.reconstructions)
    .sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
  const figs = sets.map((set) => {
    const r = set.reconstructions!;
    const w = `${where}: sets.${set.name}.reconstructions`;
    const strip = reconstructionStrip(
      decodeUint8(r.inputs, w),
      decodeUint8(r.decoded, w),
      r.inputs.shape,
    );
    return `<figure>${
      imageTag(encodePng(strip), strip.width, strip.height, `${set.name} reconstructions`)
    }<figcaption>${esc(set.name)} (${
      esc(set.kind)
    }): inputs above, decoded means of member-${r.member} below</figcaption></figure>`;
  });
  return `<section id="reconstructions"><h2>Reconstructions</h2>
<p>Inputs and the decoder's mean for their posterior mean, for normal, flipped, adversarial and
other OoD inputs.</p><div class="grids">${figs.join("\n")}</div></section>`;
}

function latentSection(data: ReportData, where: string): string {
  const sets = data.sets.filter((s) => s.latent)
    .sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
  const dims = sets.map((s) => s.latent!.posteriorMean.shape[1]);
  const d = dims[0];
  if (dims.some((x) => x !== d)) {
    return `<section id="latent"><h2>Latent space</h2><p class="note">Posterior means have ` +
      `different sizes across sets; not plotted.</p></section>`;
  }
  const means = sets.map((s) =>
    decodeFloat32(s.latent!.posteriorMean, `${where}: sets.${s.name}.latent`)
  );
  const n = means.reduce((a, m) => a + m.length / d, 0);
  const pooled = new Float32Array(n * d);
  let off = 0;
  for (const m of means) {
    pooled.set(m, off);
    off += m.length;
  }
  const pca = fitPca(pooled, n, d, 2);
  const frac = pca.explainedVariance.map((
    v,
  ) => (pca.totalVariance > 0 ? v / pca.totalVariance : 0));
  const series = sets.map((s, i) => {
    const xy = projectPca(pca, means[i]);
    const k = xy.length / 2;
    return {
      label: s.kind === "in" ? `${s.name} (in)` : s.name,
      x: Float64Array.from({ length: k }, (_, j) => xy[2 * j]),
      y: Float64Array.from({ length: k }, (_, j) => xy[2 * j + 1]),
      color: PALETTE[i % PALETTE.length],
    };
  });
  const member = sets[0].latent!.member;
  const plot = figure(
    () =>
      scatterPlot(
        series,
        `posterior means of member-${member}, PCA`,
        `PC 1 (${(100 * frac[0]).toFixed(0)}% of variance)`,
        `PC 2 (${(100 * (frac[1] ?? 0)).toFixed(0)}% of variance)`,
      ),
    `${series[0]?.x.length ?? 0} inputs per set (evenly spaced); PCA fitted to all plotted points.`,
  );
  return `<section id="latent"><h2>Latent space</h2>
<p>Posterior means μ(x) of ${d}-dimensional latents projected on their first two principal
components: normal inputs against OoD and adversarial inputs.</p>
<div class="plots">${plot}</div></section>`;
}

function trainingSection(input: ReportInput): string {
  const logs = input.trainLogs.filter((l) => l.points.length > 0);
  if (logs.length === 0) {
    return `<section id="training"><h2>Training curves</h2><p class="note">No training logs ` +
      `(member-&lt;i&gt;/train_log.jsonl) found.</p></section>`;
  }
  const wgan = input.config?.model === "wgan";
  const fields: [keyof TrainLogPoint, string][] = [
    ["loss", "loss"],
    ["rate", wgan ? "critic loss" : "rate (nats)"],
    ["distortion", wgan ? "generator loss" : "distortion (nats)"],
  ];
  const figs = fields.map(([key, label]) =>
    figure(() =>
      linePlot(
        logs.map((l, i) => ({
          label: `member-${l.member}`,
          x: l.points.map((p) => p.step),
          y: l.points.map((p) => p[key]),
          color: PALETTE[i % PALETTE.length],
        })),
        label,
        "step",
        label,
      )
    )
  );
  return `<section id="training"><h2>Training curves</h2>
<p>Logged means per member (from member-&lt;i&gt;/train_log.jsonl); the y axis stops at the 98th
percentile so the first steps do not flatten the rest.</p><div class="plots">${
    figs.join("\n")
  }</div></section>`;
}

function configSection(input: ReportInput): string {
  const r = input.results;
  const c = input.config;
  const timing = r.timing
    ? Object.entries(r.timing).map(([k, v]) =>
      /seconds$|^build_/i.test(k) ? `${k} ${fmt(v, 1)} s` : `${k} ${v}`
    ).join(", ")
    : "not recorded";
  const rows: [string, string][] = [
    ["run directory", input.modelDir],
    ["dataset", r.dataset],
    ["model", r.model],
    ["preset", r.preset],
    ["backend (eval)", r.backend],
    ["backend (training)", c?.backend ?? ""],
    ["members", `${r.members} (${r.memberIndices.map((i) => `member-${i}`).join(", ")})`],
    ["checkpoint steps", r.memberSteps.join(", ")],
    ["posterior samples K", String(r.nSamples)],
    ["seed", String(r.seed)],
    ["inputs per set", Object.entries(r.nPerSet).map(([k, v]) => `${k} ${v}`).join(", ")],
    ["eval run time", timing],
    ["trained", c ? `${c.createdAt} – ${c.updatedAt}` : ""],
    ["gensemble version", c?.gensembleVersion ?? ""],
    ["report generated", input.generatedAt],
  ];
  const member = c
    ? `<details><summary>config.json</summary><pre>${
      esc(JSON.stringify(c, null, 2))
    }</pre></details>`
    : `<p class="note">No config.json in the run directory.</p>`;
  return `<section id="config"><h2>Configuration</h2>${
    table(["setting", "value"], rows.filter(([, v]) => v !== ""), undefined, "kv")
  }${member}</section>`;
}

/** " · eval run time 12.3 s" from results.timing (totalSeconds), or nothing. */
function runTime(r: EvalResults): string {
  const total = r.timing?.totalSeconds ?? r.timing?.total;
  return total === undefined ? "" : ` · eval run time ${esc(fmt(total, 1))} s`;
}

/**
 * Render the report page from a run's results, report data, config and training logs.
 *
 * @example
 * ```ts
 * const html = renderReportHtml({ results, config, data, dataPath, trainLogs, modelDir,
 *   generatedAt: new Date().toISOString() });
 * ```
 */
export function renderReportHtml(input: ReportInput): string {
  const r = input.results;
  const data = input.data;
  const sections: string[] = [resultsSection(r)];
  const nav: [string, string][] = [["results", "Results"]];
  if (data) {
    const where = input.dataPath;
    if (!data.sets.some((s) => s.name === data.inDistribution)) {
      sections.push(
        `<p class="note">${esc(where)} has no in-distribution set; re-run the eval.</p>`,
      );
    } else {
      sections.push(rocSection(data, where), histogramSection(data, where));
      nav.push(["roc", "ROC curves"], ["histograms", "Histograms"]);
      const isImage = data.inputShape.length === 3;
      if (isImage && data.sets.some((s) => s.mostAnomalous)) {
        sections.push(gridSection(data, where));
        nav.push(["images", "Most/least anomalous"]);
      }
      if (isImage && data.sets.some((s) => s.reconstructions)) {
        sections.push(reconstructionSection(data, where));
        nav.push(["reconstructions", "Reconstructions"]);
      }
      if (!isImage) {
        sections.push(
          `<p class="meta">Tabular run: no image grids or reconstructions.</p>`,
        );
      }
      if (data.sets.some((s) => s.latent)) {
        sections.push(latentSection(data, where));
        nav.push(["latent", "Latent space"]);
      }
    }
  } else {
    sections.push(
      `<p class="note">No ${esc(input.dataPath)}: ROC curves, histograms, image grids and the ` +
        `latent view need it. Re-run the eval (cached scores make that quick).</p>`,
    );
  }
  sections.push(trainingSection(input), configSection(input));
  nav.push(["training", "Training"], ["config", "Configuration"]);
  const title = `gensemble report: ${r.dataset} ${r.model}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><header><h1>${esc(title)}</h1>
<p class="meta">Preset ${esc(r.preset)} · backend ${esc(r.backend)} · ${r.members} members ·
in-distribution ${esc(r.inDistribution)} (n = ${r.nPerSet[r.inDistribution] ?? "?"}) ·
K = ${r.nSamples}${runTime(r)}</p>
<nav>${nav.map(([id, label]) => `<a href="#${id}">${esc(label)}</a>`).join("")}</nav></header>
${sections.join("\n")}
</body></html>
`;
}
