/**
 * The report's plots as inline SVG strings (no scripts, no fonts, no network): ROC curves,
 * overlaid histograms, line charts (training curves) and scatter plots (the latent PCA view).
 * Each plot is a fixed-size frame with nice ticks; data are mapped to pixels here, and long
 * curves are thinned to points at least half a pixel apart, so a page stays small.
 */

/** A colour-blind-friendly categorical palette (Tableau 10). */
export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];

/** Escape text for HTML/SVG content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  )
    .replace(/'/g, "&#39;");
}

/** Ticks at 1, 2 or 5 × 10^k spacing covering [min, max], about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return ticks;
}

/** A tick label: fixed decimals matching the spacing, exponent form for huge or tiny values. */
export function formatTick(v: number, step: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace("e+", "e");
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals);
}

const FONT = `font-family="sans-serif" font-size="11"`;

interface Frame {
  width: number;
  height: number;
  left: number;
  top: number;
  plotW: number;
  plotH: number;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

function makeFrame(
  x: [number, number],
  y: [number, number],
  size: { width: number; height: number },
): Frame {
  const left = 52;
  const top = 26;
  const right = 12;
  const bottom = 40;
  const pad = (lo: number, hi: number): [number, number] => {
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
    if (lo === hi) return [lo - 0.5, hi + 0.5];
    return [lo, hi];
  };
  const [x0, x1] = pad(...x);
  const [y0, y1] = pad(...y);
  return {
    ...size,
    left,
    top,
    plotW: size.width - left - right,
    plotH: size.height - top - bottom,
    x0,
    x1,
    y0,
    y1,
  };
}

function px(f: Frame, v: number): number {
  return f.left + ((v - f.x0) / (f.x1 - f.x0)) * f.plotW;
}

function py(f: Frame, v: number): number {
  return f.top + f.plotH - ((v - f.y0) / (f.y1 - f.y0)) * f.plotH;
}

function r1(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** Axes, ticks, grid, title and axis labels of a frame. */
function axes(f: Frame, title: string, xLabel: string, yLabel: string): string {
  const parts: string[] = [];
  const bottom = f.top + f.plotH;
  parts.push(
    `<rect x="${f.left}" y="${f.top}" width="${f.plotW}" height="${f.plotH}" fill="#fff" ` +
      `stroke="#888"/>`,
  );
  const xt = niceTicks(f.x0, f.x1, 5);
  const xs = xt.length > 1 ? xt[1] - xt[0] : 1;
  for (const t of xt) {
    const x = r1(px(f, t));
    parts.push(`<line x1="${x}" y1="${f.top}" x2="${x}" y2="${bottom}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x}" y="${bottom + 14}" text-anchor="middle" ${FONT}>${
        escapeXml(formatTick(t, xs))
      }</text>`,
    );
  }
  const yt = niceTicks(f.y0, f.y1, 5);
  const ys = yt.length > 1 ? yt[1] - yt[0] : 1;
  for (const t of yt) {
    const y = r1(py(f, t));
    parts.push(`<line x1="${f.left}" y1="${y}" x2="${f.left + f.plotW}" y2="${y}" stroke="#eee"/>`);
    parts.push(
      `<text x="${f.left - 4}" y="${y}" dy="0.35em" text-anchor="end" ${FONT}>${
        escapeXml(formatTick(t, ys))
      }</text>`,
    );
  }
  parts.push(
    `<text x="${f.left + f.plotW / 2}" y="15" text-anchor="middle" font-family="sans-serif" ` +
      `font-size="12" font-weight="bold">${escapeXml(title)}</text>`,
  );
  parts.push(
    `<text x="${f.left + f.plotW / 2}" y="${f.height - 6}" text-anchor="middle" ${FONT}>${
      escapeXml(xLabel)
    }</text>`,
  );
  parts.push(
    `<text transform="translate(12 ${f.top + f.plotH / 2}) rotate(-90)" text-anchor="middle" ` +
      `${FONT}>${escapeXml(yLabel)}</text>`,
  );
  return parts.join("");
}

/** A legend box in a corner of the plot area. */
function legend(
  f: Frame,
  items: { label: string; color: string }[],
  corner: "top-right" | "bottom-right" | "top-left",
): string {
  if (items.length === 0) return "";
  const lineH = 14;
  const w = Math.min(f.plotW - 8, 14 + 6.2 * Math.max(...items.map((i) => i.label.length)) + 12);
  const h = items.length * lineH + 6;
  const x = corner === "top-left" ? f.left + 4 : f.left + f.plotW - w - 4;
  const y = corner === "bottom-right" ? f.top + f.plotH - h - 4 : f.top + 4;
  const rows = items.map((it, i) => {
    const cy = y + 3 + lineH * i + lineH / 2;
    return `<rect x="${r1(x + 5)}" y="${r1(cy - 4)}" width="10" height="8" fill="${it.color}"/>` +
      `<text x="${r1(x + 19)}" y="${r1(cy)}" dy="0.35em" ${FONT}>${escapeXml(it.label)}</text>`;
  });
  return `<g><rect x="${r1(x)}" y="${r1(y)}" width="${r1(w)}" height="${h}" fill="#fff" ` +
    `fill-opacity="0.85" stroke="#ccc"/>${rows.join("")}</g>`;
}

function svg(f: Frame, label: string, body: string): string {
  return `<svg class="plot" viewBox="0 0 ${f.width} ${f.height}" width="${f.width}" ` +
    `height="${f.height}" role="img" aria-label="${escapeXml(label)}">${body}</svg>`;
}

/** Polyline points in pixels, dropping points closer than half a pixel to the last kept one. */
function thinnedPoints(f: Frame, x: ArrayLike<number>, y: ArrayLike<number>): string {
  const out: string[] = [];
  let lx = NaN;
  let ly = NaN;
  for (let i = 0; i < x.length; i++) {
    const X = px(f, x[i]);
    const Y = py(f, y[i]);
    if (!Number.isFinite(X) || !Number.isFinite(Y)) continue;
    const last = i === x.length - 1;
    if (!last && Math.abs(X - lx) < 0.5 && Math.abs(Y - ly) < 0.5) continue;
    out.push(`${r1(X)},${r1(Y)}`);
    lx = X;
    ly = Y;
  }
  return out.join(" ");
}

/** One ROC curve of `rocPlot`. */
export interface RocSeries {
  label: string;
  fpr: ArrayLike<number>;
  tpr: ArrayLike<number>;
  auroc: number;
  color?: string;
}

/**
 * ROC curves (in-distribution flagged vs OoD flagged) with AUROC in the legend.
 *
 * @example
 * ```ts
 * const c = rocCurve(inScores, outScores);
 * rocPlot([{ label: "waic", fpr: c.fpr, tpr: c.tpr, auroc: 0.97 }], "fashion_mnist");
 * ```
 */
export function rocPlot(series: readonly RocSeries[], title: string): string {
  const f = makeFrame([0, 1], [0, 1], { width: 300, height: 300 });
  const body = [
    axes(f, title, "false positive rate (normal inputs flagged)", "true positive rate"),
  ];
  body.push(
    `<line x1="${px(f, 0)}" y1="${py(f, 0)}" x2="${px(f, 1)}" y2="${py(f, 1)}" stroke="#bbb" ` +
      `stroke-dasharray="4 3"/>`,
  );
  const items = series.map((s, i) => ({
    label: `${s.label} ${Number.isFinite(s.auroc) ? s.auroc.toFixed(3) : "n/a"}`,
    color: s.color ?? PALETTE[i % PALETTE.length],
  }));
  series.forEach((s, i) => {
    body.push(
      `<polyline fill="none" stroke="${items[i].color}" stroke-width="1.6" ` +
        `points="${thinnedPoints(f, s.fpr, s.tpr)}"/>`,
    );
  });
  body.push(legend(f, items, "bottom-right"));
  return svg(f, `ROC curves: ${title}`, body.join(""));
}

/** Value at quantile q (0..1) of sorted finite values. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function finiteSorted(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).filter(Number.isFinite).sort();
}

/** One group of values in `histogramPlot`. */
export interface HistogramSeries {
  label: string;
  values: ArrayLike<number>;
  color?: string;
}

/** Bin edges and per-group fractions of `histogramPlot`, exposed for tests. */
export interface HistogramBins {
  edges: Float64Array; // [B + 1]
  fractions: Float64Array[]; // per group [B], each summing to 1 (clipped values in the end bins)
  clipped: number; // values outside the [0.5%, 99.5%] range, put in the end bins
  nonFinite: number; // ±Infinity and NaN values, left out
}

/**
 * Shared bins for several groups: the range spans the pooled 0.5%–99.5% quantiles, so one wild
 * outlier (adversarial noise can have huge scores) does not squash everything into one bar.
 */
export function histogramBins(groups: readonly ArrayLike<number>[], bins = 40): HistogramBins {
  const pooled = finiteSorted(groups.flatMap((g) => Array.from(g)));
  let lo = quantile(pooled, 0.005);
  let hi = quantile(pooled, 0.995);
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
  const edges = Float64Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  let clipped = 0;
  let nonFinite = 0;
  const fractions = groups.map((g) => {
    const counts = new Float64Array(bins);
    let total = 0;
    for (let i = 0; i < g.length; i++) {
      const v = g[i];
      if (!Number.isFinite(v)) {
        nonFinite++;
        continue;
      }
      if (v < lo || v > hi) clipped++;
      const b = Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)));
      counts[b]++;
      total++;
    }
    return counts.map((c) => (total > 0 ? c / total : 0));
  });
  return { edges, fractions, clipped, nonFinite };
}

/**
 * Overlaid histograms (fraction of each group per bin), for in-distribution vs OoD scores.
 * Values beyond the pooled 0.5–99.5% range are counted in the end bins ("n clipped").
 *
 * @example
 * ```ts
 * histogramPlot([{ label: "mnist", values: inScores }, { label: "omniglot", values: outScores }],
 *   "omniglot", "waic anomaly score");
 * ```
 */
export function histogramPlot(
  series: readonly HistogramSeries[],
  title: string,
  xLabel: string,
  bins = 40,
): string {
  const h = histogramBins(series.map((s) => s.values), bins);
  const top = Math.max(1e-9, ...h.fractions.flatMap((fr) => Array.from(fr)));
  const f = makeFrame([h.edges[0], h.edges[bins]], [0, top * 1.05], { width: 300, height: 210 });
  const note = [
    h.clipped > 0 ? `${h.clipped} clipped` : "",
    h.nonFinite > 0 ? `${h.nonFinite} non-finite left out` : "",
  ].filter((s) => s).join(", ");
  const body = [axes(f, title, note ? `${xLabel} (${note})` : xLabel, "fraction of set")];
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const fr = h.fractions[i];
    let d = `M${r1(px(f, h.edges[0]))},${r1(py(f, 0))}`;
    for (let b = 0; b < bins; b++) {
      d += `V${r1(py(f, fr[b]))}H${r1(px(f, h.edges[b + 1]))}`;
    }
    d += `V${r1(py(f, 0))}Z`;
    body.push(
      `<path d="${d}" fill="${color}" fill-opacity="0.35" stroke="${color}" stroke-width="1.2"/>`,
    );
  });
  body.push(
    legend(
      f,
      series.map((s, i) => ({ label: s.label, color: s.color ?? PALETTE[i % PALETTE.length] })),
      "top-right",
    ),
  );
  return svg(f, `Histogram: ${title}`, body.join(""));
}

/** One line of `linePlot`. */
export interface LineSeries {
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color?: string;
}

/**
 * Line chart, e.g. a training curve per member. The y range stops at the 98th percentile so the
 * first steps' large losses do not flatten the rest; higher values are drawn at the top edge.
 *
 * @example
 * ```ts
 * linePlot([{ label: "member-0", x: steps, y: losses }], "loss", "step", "loss");
 * ```
 */
export function linePlot(
  series: readonly LineSeries[],
  title: string,
  xLabel: string,
  yLabel: string,
): string {
  const xs = finiteSorted(series.flatMap((s) => Array.from(s.x)));
  const ys = finiteSorted(series.flatMap((s) => Array.from(s.y)));
  const yTop = quantile(ys, 0.98);
  const f = makeFrame([xs[0], xs[xs.length - 1]], [ys[0], yTop], { width: 320, height: 220 });
  const body = [axes(f, title, xLabel, yLabel)];
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const y = Array.from(s.y, (v) => Math.min(v, f.y1));
    body.push(
      `<polyline fill="none" stroke="${color}" stroke-width="1.3" ` +
        `points="${thinnedPoints(f, s.x, y)}"/>`,
    );
  });
  body.push(
    legend(
      f,
      series.map((s, i) => ({ label: s.label, color: s.color ?? PALETTE[i % PALETTE.length] })),
      "top-right",
    ),
  );
  return svg(f, `Line chart: ${title}`, body.join(""));
}

/** One group of points of `scatterPlot`. */
export interface ScatterSeries {
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color?: string;
}

/**
 * Scatter plot of point groups (e.g. PCA coordinates of normal vs OoD posterior means).
 *
 * @example
 * ```ts
 * scatterPlot([{ label: "mnist", x: pc1, y: pc2 }], "latent space", "PC 1", "PC 2");
 * ```
 */
export function scatterPlot(
  series: readonly ScatterSeries[],
  title: string,
  xLabel: string,
  yLabel: string,
): string {
  const xs = finiteSorted(series.flatMap((s) => Array.from(s.x)));
  const ys = finiteSorted(series.flatMap((s) => Array.from(s.y)));
  const padded = (v: Float64Array): [number, number] => {
    const lo = v[0];
    const hi = v[v.length - 1];
    const m = (hi - lo) * 0.04;
    return [lo - m, hi + m];
  };
  const f = makeFrame(padded(xs), padded(ys), { width: 460, height: 400 });
  const body = [axes(f, title, xLabel, yLabel)];
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const dots: string[] = [];
    for (let k = 0; k < s.x.length; k++) {
      if (!Number.isFinite(s.x[k]) || !Number.isFinite(s.y[k])) continue;
      dots.push(`<circle cx="${r1(px(f, s.x[k]))}" cy="${r1(py(f, s.y[k]))}" r="2"/>`);
    }
    body.push(`<g fill="${color}" fill-opacity="0.55">${dots.join("")}</g>`);
  });
  body.push(
    legend(
      f,
      series.map((s, i) => ({ label: s.label, color: s.color ?? PALETTE[i % PALETTE.length] })),
      "top-right",
    ),
  );
  return svg(f, `Scatter plot: ${title}`, body.join(""));
}
