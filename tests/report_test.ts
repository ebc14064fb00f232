import assert from "node:assert/strict";
import { tf } from "../deps.ts";
import { initBackend } from "../core/backend.ts";
import { Rng } from "../core/rng.ts";
import { curveArea, rocCurve } from "../metrics/roc_curve.ts";
import { oodMetrics } from "../metrics/ood_metrics.ts";
import { decodeFloat32, decodeUint8, encodeArray } from "../report/encoded_array.ts";
import { imageGrid, reconstructionStrip, toUint8Pixels } from "../report/image_grid.ts";
import { fitPca, projectPca, symmetricEigen } from "../report/pca.ts";
import { decodePng, encodePng } from "../report/png.ts";
import {
  buildReportData,
  readReportData,
  reusableReportSet,
  setKind,
} from "../report/report_data.ts";
import { histogramBins, niceTicks } from "../report/svg_plots.ts";
import { parseTrainLog, writeReport } from "../tasks/report.ts";
import { makeSyntheticRun, SYNTHETIC_SETS } from "./report_fixture.ts";

await initBackend("cpu", { quiet: true });

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-9): void {
  assert.equal(actual.length, expected.length, `length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol,
      `index ${i}: ${actual[i]} vs ${expected[i]} (got [${Array.from(actual)}])`,
    );
  }
}

Deno.test("rocCurve: hand-computed points with ties, OoD positive", () => {
  // Descending: 0.9 (out), 0.8 (in), 0.4 (2 in + 1 out, one group), 0.2 (out), 0.1 (in).
  const c = rocCurve([0.1, 0.4, 0.4, 0.8], [0.4, 0.9, 0.2]);
  assert.deepEqual(Array.from(c.thresholds), [Infinity, 0.9, 0.8, 0.4, 0.2, 0.1]);
  close(c.fpr, [0, 0, 0.25, 0.75, 0.75, 1]);
  close(c.tpr, [0, 1 / 3, 1 / 3, 2 / 3, 1, 1]);
  // Pairs: out 0.4 beats 0.1 and ties two 0.4s (2), out 0.9 beats all (4), out 0.2 beats 0.1 (1).
  close([curveArea(c.fpr, c.tpr)], [7 / 12], 1e-12);
});

Deno.test("rocCurve: dropIntermediate keeps the first threshold, as sklearn does", () => {
  // sklearn.metrics.roc_curve([0, 0, 0, 1], [3, 2, 1, 0]) → fpr [0, 1/3, 1, 1], tpr [0, 0, 0, 1]
  const c = rocCurve([1, 2, 3], [0], { dropIntermediate: true });
  assert.deepEqual(Array.from(c.thresholds), [Infinity, 3, 1, 0]);
  close(c.fpr, [0, 1 / 3, 1, 1]);
  close(c.tpr, [0, 0, 0, 1]);
  const full = rocCurve([1, 2, 3], [0]);
  assert.equal(full.fpr.length, 5);
});

Deno.test("rocCurve: area equals oodMetrics AUROC on random scores with ties", () => {
  const rng = new Rng(3);
  const a = Array.from({ length: 300 }, () => Math.round(rng.normal() * 4) / 4);
  const b = Array.from({ length: 200 }, () => Math.round((rng.normal() + 0.7) * 4) / 4);
  const auroc = oodMetrics(a, b).auroc;
  for (const dropIntermediate of [false, true]) {
    const c = rocCurve(a, b, { dropIntermediate });
    close([curveArea(c.fpr, c.tpr)], [auroc], 1e-12);
    assert.equal(c.fpr[c.fpr.length - 1], 1);
    assert.equal(c.tpr[c.tpr.length - 1], 1);
  }
  assert.throws(() => rocCurve([], [1]), /empty/);
  assert.throws(() => rocCurve([NaN], [1]), /NaN at index 0/);
});

Deno.test("symmetricEigen: 2 × 2 and a rotated 3 × 3 with known eigenpairs", () => {
  const two = symmetricEigen([2, 1, 1, 2], 2);
  close(two.values, [3, 1], 1e-12);
  const s = Math.SQRT1_2;
  close(two.vectors, [s, s, s, -s], 1e-12); // sign: largest-magnitude entry positive (first)

  // A = Q diag(5, 2, 0.5) Qᵀ with Q's columns (1,2,2)/3, (2,1,−2)/3, (2,−2,1)/3.
  const q = [[1, 2, 2], [2, 1, -2], [2, -2, 1]].map((v) => v.map((x) => x / 3));
  const lambda = [5, 2, 0.5];
  const a = new Float64Array(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      for (let k = 0; k < 3; k++) a[i * 3 + j] += q[k][i] * lambda[k] * q[k][j];
    }
  }
  const e = symmetricEigen(a, 3);
  close(e.values, lambda, 1e-12);
  // Expected vectors with the largest-magnitude entry made positive.
  close(e.vectors, [1 / 3, 2 / 3, 2 / 3, 2 / 3, 1 / 3, -2 / 3, -2 / 3, 2 / 3, -1 / 3], 1e-12);
});

Deno.test("fitPca: hand-made cloud along a 45° axis", () => {
  // Rows ±(1, 1) and ±0.5·(1, −1), shifted by (3, −1): mean (3, −1), population covariance
  // (2·[1 1;1 1] + 2·0.25·[1 −1;−1 1]) / 4 → eigenvalues 1 (along (1,1)/√2) and 0.25.
  const pts = [[1, 1], [-1, -1], [0.5, -0.5], [-0.5, 0.5]].map(([x, y]) => [x + 3, y - 1]);
  const pca = fitPca(pts.flat(), 4, 2, 2);
  close(pca.mean, [3, -1], 1e-12);
  close(pca.explainedVariance, [1, 0.25], 1e-12);
  close([pca.totalVariance], [1.25], 1e-12);
  const s = Math.SQRT1_2;
  close(pca.components, [s, s, s, -s], 1e-12);
  const xy = projectPca(pca, pts.flat());
  close(xy, [2 * s, 0, -2 * s, 0, 0, s, 0, -s], 1e-12);
});

Deno.test("PNG round trip through pngjs: gray and RGB pixels are exact", () => {
  const rng = new Rng(5);
  const gray = Uint8Array.from({ length: 7 * 5 }, () => rng.int(256));
  const g = decodePng(encodePng({ width: 7, height: 5, channels: 1, pixels: gray }));
  assert.equal(g.width, 7);
  assert.equal(g.height, 5);
  for (let p = 0; p < 35; p++) {
    assert.deepEqual(Array.from(g.pixels.subarray(4 * p, 4 * p + 4)), [
      gray[p],
      gray[p],
      gray[p],
      255,
    ]);
  }
  const rgb = Uint8Array.from({ length: 3 * 4 * 3 }, () => rng.int(256));
  const bytes = encodePng({ width: 3, height: 4, channels: 3, pixels: rgb });
  assert.deepEqual(Array.from(bytes.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
  const c = decodePng(bytes);
  for (let p = 0; p < 12; p++) {
    assert.deepEqual(
      Array.from(c.pixels.subarray(4 * p, 4 * p + 3)),
      Array.from(rgb.subarray(3 * p, 3 * p + 3)),
    );
  }
  assert.throws(() => encodePng({ width: 2, height: 2, channels: 1, pixels: new Uint8Array(3) }));
});

Deno.test("imageGrid and reconstructionStrip place tiles with 1-pixel gaps", () => {
  // Three 2 × 2 gray tiles with values 10·t + pixel, 2 columns → 2 rows.
  const tiles = Uint8Array.from({ length: 12 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4));
  const g = imageGrid(tiles, [3, 2, 2, 1], { cols: 2, gap: 1, fill: 99 });
  assert.equal(g.width, 2 * 2 + 3);
  assert.equal(g.height, 2 * 2 + 3);
  const at = (x: number, y: number) => g.pixels[y * g.width + x];
  assert.deepEqual([at(1, 1), at(2, 1), at(1, 2), at(2, 2)], [0, 1, 2, 3]); // tile 0
  assert.deepEqual([at(4, 1), at(5, 2)], [10, 13]); // tile 1
  assert.deepEqual([at(1, 4), at(2, 5)], [20, 23]); // tile 2
  assert.deepEqual([at(0, 0), at(3, 1), at(4, 4)], [99, 99, 99]); // gaps and the empty slot
  const strip = reconstructionStrip(new Uint8Array([1, 2]), new Uint8Array([3, 4]), [2, 1, 1, 1]);
  assert.deepEqual([strip.width, strip.height], [5, 5]);
  assert.deepEqual([strip.pixels[6], strip.pixels[8], strip.pixels[16], strip.pixels[18]], [
    1,
    2,
    3,
    4,
  ]);
  assert.deepEqual(Array.from(toUint8Pixels([0, 0.5, 1, -1, 2, NaN])), [0, 128, 255, 0, 255, 0]);
});

Deno.test("encoded arrays round-trip; damaged ones name the file", () => {
  const f = new Float32Array([1.5, -2, 1e-8, 3e38]);
  assert.deepEqual(decodeFloat32(encodeArray(f, [2, 2]), "x.json"), f);
  const u = new Uint8Array([0, 7, 255]);
  assert.deepEqual(decodeUint8(encodeArray(u, [3]), "x.json"), u);
  const bad = { ...encodeArray(f, [2, 2]), shape: [5] };
  assert.throws(
    () => decodeFloat32(bad, "run/eval/report_data.json"),
    /report_data\.json: .*16 bytes/,
  );
});

Deno.test("histogramBins: fractions per group and clipping into end bins", () => {
  const h = histogramBins([[0, 0, 1, 2, 3, 4], [4, 4]], 4);
  // Pooled 0.5% / 99.5% quantiles of [0,0,1,2,3,4,4,4]: 0 and 4 → edges 0,1,2,3,4.
  close(h.edges, [0, 1, 2, 3, 4]);
  close(h.fractions[0], [2 / 6, 1 / 6, 1 / 6, 2 / 6]);
  close(h.fractions[1], [0, 0, 0, 1]);
  assert.equal(h.nonFinite, 0);
  const inf = histogramBins([[1, 2, Infinity, NaN]], 2);
  assert.equal(inf.nonFinite, 2);
  close(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1], 1e-12);
});

Deno.test("buildReportData: ranking by WAIC, reconstructions, latent subsample", async () => {
  const x = Float32Array.from({ length: 5 * 4 }, (_, i) => (i % 4) / 4); // 5 images 2 × 2
  const waic = new Float32Array([0.5, 3, -1, 3, 2]); // tie at 3: lower index first
  const member = { reconstruct: (t: tf.Tensor) => tf.sub(1, t) };
  const data = buildReportData({
    inDistribution: "toy",
    inputShape: [2, 2, 1],
    member,
    gridCount: 3,
    reconstructionCount: 2,
    latentPerSet: 2,
    sets: [{
      name: "toy",
      x,
      scores: { waic, mean: new Float32Array(5) },
      posteriorMean: Float32Array.from({ length: 10 }, (_, i) => i),
    }, { name: "adv_normal_noise", x, scores: { waic, mean: new Float32Array(5) } }],
  });
  assert.equal(data.rankedBy, "waic");
  const s = data.sets[0];
  assert.equal(s.kind, "in");
  assert.equal(data.sets[1].kind, "adversarial");
  assert.deepEqual(s.mostAnomalous!.indices, [1, 3, 4]);
  assert.deepEqual(s.mostAnomalous!.scores, [3, 3, 2]);
  assert.deepEqual(s.leastAnomalous!.indices, [2, 0, 4]);
  assert.deepEqual(Array.from(decodeUint8(s.mostAnomalous!.images, "t").subarray(0, 4)), [
    0,
    64,
    128,
    191,
  ]);
  assert.deepEqual(s.reconstructions!.indices, [0, 2]);
  assert.deepEqual(Array.from(decodeUint8(s.reconstructions!.decoded, "t").subarray(0, 4)), [
    255,
    191,
    128,
    64,
  ]);
  assert.deepEqual(s.latent!.indices, [0, 2]);
  assert.deepEqual(Array.from(decodeFloat32(s.latent!.posteriorMean, "t")), [0, 1, 4, 5]);
  assert.equal(data.sets[1].latent, undefined);
  assert.deepEqual(decodeFloat32(s.scores.waic, "t"), waic);
  // Tabular: no images, even with a decoder.
  const tab = buildReportData({
    inDistribution: "t",
    inputShape: [4],
    member,
    sets: [{ name: "t", x, scores: { waic } }],
  });
  assert.equal(tab.sets[0].mostAnomalous, undefined);
  assert.equal(tab.sets[0].reconstructions, undefined);
  assert.equal(setKind("hflip", "mnist"), "flip");
  assert.equal(setKind("uniform_noise", "mnist"), "noise");
  const withFp = { ...data, sets: [{ ...data.sets[0], fingerprint: "abc" }] };
  assert.equal(reusableReportSet(withFp, "toy", "abc")?.name, "toy");
  assert.equal(reusableReportSet(withFp, "toy", "abd"), null);
  assert.equal(await readReportData("/nonexistent/report_data.json"), null);
});

Deno.test("parseTrainLog skips a torn last line", () => {
  const pts = parseTrainLog(
    '{"step":1,"loss":3,"rate":1,"distortion":2}\n{"step":2,"loss":2.5}\n{"st',
  );
  assert.deepEqual(pts.map((p) => p.step), [1, 2]);
  assert.ok(Number.isNaN(pts[1].rate));
});

/** Attribute values and CSS that would load something from outside the page. */
const EXTERNAL =
  /(?:src|href)\s*=\s*["']?\s*(?:https?:|\/\/)|url\(\s*["']?\s*(?:https?:|\/\/)|@import/i;

Deno.test("writeReport: image run page has every section, self-contained", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gensemble_report_" });
  try {
    const { scoreNames } = await makeSyntheticRun(dir);
    const out = await writeReport(dir, { generatedAt: "2025-01-02T00:00:00Z" });
    assert.equal(out, `${dir}/eval/report.html`);
    const html = await Deno.readTextFile(out);
    for (
      const id of [
        "results",
        "roc",
        "histograms",
        "images",
        "reconstructions",
        "latent",
        "training",
        "config",
      ]
    ) {
      assert.ok(html.includes(`<section id="${id}">`), `missing section ${id}`);
    }
    const count = (re: RegExp) => (html.match(re) ?? []).length;
    const ood = SYNTHETIC_SETS.length - 1;
    // SVGs: ROC per OoD set, histogram per OoD set × score, PCA scatter, 3 training curves.
    assert.equal(count(/<svg /g), ood + ood * scoreNames.length + 1 + 3);
    // Images: most + least per set, one reconstruction strip per set.
    assert.equal(count(/<img /g), 3 * SYNTHETIC_SETS.length);
    assert.equal(count(/src="data:image\/png;base64,/g), 3 * SYNTHETIC_SETS.length);
    assert.equal(count(/<script/gi), 0);
    assert.equal(count(/<link /g), 1); // the empty data: favicon only
    assert.ok(!EXTERNAL.test(html), "the page references an external resource");
    assert.ok(!/https?:\/\//.test(html), "no URLs in this run's text either");
    assert.ok(html.includes("Not evaluated (files not found): omniglot"));
    assert.ok(html.includes("eval run time 1.5 s"));
    // The ROC legend shows the all-member AUROC that results.json has.
    const results = JSON.parse(await Deno.readTextFile(`${dir}/eval/results.json`));
    const row = results.rows.find((r: { ood: string; score: string }) =>
      r.ood === "stripes" && r.score === "waic"
    );
    assert.ok(html.includes(`waic ${row.aurocAllMembers.toFixed(3)}`));
    // Rebuilding gives the same page (nothing recomputed, deterministic).
    await writeReport(dir, { generatedAt: "2025-01-02T00:00:00Z" });
    assert.equal(await Deno.readTextFile(out), html);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeReport: tabular run has plots but no image grids", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gensemble_report_tab_" });
  try {
    const { scoreNames } = await makeSyntheticRun(dir, { tabular: true });
    assert.ok(scoreNames.includes("posterior_mean_var"));
    const html = await Deno.readTextFile(await writeReport(dir));
    assert.equal((html.match(/<img /g) ?? []).length, 0);
    assert.ok(!html.includes(`<section id="images">`));
    assert.ok(html.includes(`<section id="roc">`) && html.includes(`<section id="latent">`));
    assert.ok(html.includes("Tabular run: no image grids"));
    assert.ok(!EXTERNAL.test(html));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeReport: missing results and missing report data give clear messages", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gensemble_report_missing_" });
  try {
    await assert.rejects(writeReport(dir), /eval\/results\.json: not found; run the eval first/);
    await makeSyntheticRun(dir);
    await Deno.remove(`${dir}/eval/report_data.json`);
    const html = await Deno.readTextFile(await writeReport(dir));
    assert.ok(html.includes("report_data.json: ROC curves, histograms"));
    assert.ok(html.includes(`<section id="results">`));
    await Deno.writeTextFile(`${dir}/eval/report_data.json`, "{ not json");
    await assert.rejects(writeReport(dir), /report_data\.json: is not valid JSON/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report CLI: writes the page; a missing run dir is a one-line error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gensemble_report_cli_" });
  try {
    await makeSyntheticRun(dir);
    const script = new URL("../tasks/report.ts", import.meta.url).pathname;
    const run = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, ...args],
        stdout: "piped",
        stderr: "piped",
      })
        .output();
    const ok = await run(["--model_dir", dir, "--out", `${dir}/r.html`]);
    assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
    assert.match(new TextDecoder().decode(ok.stdout), /Wrote .*r\.html/);
    assert.ok((await Deno.stat(`${dir}/r.html`)).size > 10_000);
    const bad = await run(["--model_dir", `${dir}/nope`]);
    assert.equal(bad.code, 1);
    assert.match(new TextDecoder().decode(bad.stderr), /^error: .*nope: run directory not found/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
