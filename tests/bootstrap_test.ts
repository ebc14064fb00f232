/** Bootstrap over ensemble members: draws, summary statistics (ddof 0), and the OoD wrapper. */
import assert from "node:assert/strict";
import { GensembleError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { bootstrapMembers, bootstrapOodMetrics } from "../metrics/bootstrap.ts";
import { oodMetrics } from "../metrics/ood_metrics.ts";

Deno.test("bootstrapMembers: mean and population std (ddof 0) of each field", () => {
  let call = 0;
  // The b-th resample returns x = b, y = 2: x over 4 resamples is 0, 1, 2, 3.
  const r = bootstrapMembers(5, () => ({ x: call++, y: 2 }), { resamples: 4 });
  assert.equal(r.mean.x, 1.5);
  // Deviations −1.5, −0.5, 0.5, 1.5 → squares sum 5 → /4 = 1.25 (ddof 1 would be 5/3).
  assert.equal(r.std.x, Math.sqrt(1.25));
  assert.equal(r.mean.y, 2);
  assert.equal(r.std.y, 0);
  assert.deepEqual(r.samples.map((s) => s.x), [0, 1, 2, 3]);
});

Deno.test("bootstrapMembers: draws M indices with replacement from the seeded Rng", () => {
  const drawn: number[][] = [];
  bootstrapMembers(5, (idx) => {
    drawn.push(idx);
    return { n: idx.length };
  }, { resamples: 3, seed: 42 });
  // The documented order: resample after resample, M draws of rng.int(M) each.
  const rng = new Rng(42);
  const expected = Array.from({ length: 3 }, () => Array.from({ length: 5 }, () => rng.int(5)));
  assert.deepEqual(drawn, expected);
});

Deno.test("bootstrapMembers: seeded, and the draws have the bootstrap's statistics", () => {
  const distinct = (idx: number[]) => ({ distinct: new Set(idx).size, first: idx[0] });
  const a = bootstrapMembers(5, distinct, { resamples: 4000, seed: 7 });
  const b = bootstrapMembers(5, distinct, { resamples: 4000, seed: 7 });
  const c = bootstrapMembers(5, distinct, { resamples: 4000, seed: 8 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.samples, c.samples);
  // Distinct members in a resample of 5: E = 5·(1 − (4/5)^5) = 3.3616; std of the mean ≈ 0.012.
  assert.ok(Math.abs(a.mean.distinct - 3.3616) < 0.05, `mean distinct ${a.mean.distinct}`);
  // A uniform index in 0..4: mean 2, population std √2.
  assert.ok(Math.abs(a.mean.first - 2) < 0.1, `mean first ${a.mean.first}`);
  assert.ok(Math.abs(a.std.first - Math.SQRT2) < 0.05, `std first ${a.std.first}`);
  // Default B = 100.
  assert.equal(bootstrapMembers(3, distinct).samples.length, 100);
});

Deno.test("bootstrapOodMetrics: identical members give zero spread", () => {
  const inScores = new Float32Array([0.1, 0.2, 0.3]);
  const outScores = new Float32Array([0.25, 0.9]);
  const mean = (ms: Float32Array[]) =>
    ms[0].map((_, i) => ms.reduce((s, m) => s + m[i], 0) / ms.length);
  const r = bootstrapOodMetrics(
    [inScores, inScores, inScores],
    [outScores, outScores, outScores],
    mean,
    {
      resamples: 10,
    },
  );
  // Averaging copies of one member gives that member's scores back (up to float rounding,
  // which does not reorder these well-separated values): AUROC 5/6, as hand-computed in
  // metrics_test.ts.
  // The mean of 10 equal values may be off by an ulp, hence the tolerance.
  const expected = oodMetrics(inScores, outScores);
  for (const [k, v] of Object.entries(expected)) {
    assert.ok(Math.abs(r.mean[k as keyof typeof expected] - v) < 1e-15, k);
    assert.deepEqual(r.samples.map((s) => s[k as keyof typeof expected]), Array(10).fill(v));
  }
  assert.equal(expected.auroc, 5 / 6);
  for (const v of Object.values(r.std)) assert.ok(v < 1e-15);
});

Deno.test("bootstrapOodMetrics: each resample aggregates the drawn members", () => {
  const rng = new Rng(5);
  const nMembers = 4;
  // [M][N] per-member anomaly scores: member m shifts the OoD set by m / 2.
  const inM = Array.from(
    { length: nMembers },
    () => Float32Array.from({ length: 40 }, () => rng.normal()),
  );
  const outM = Array.from(
    { length: nMembers },
    (_, m) => Float32Array.from({ length: 30 }, () => rng.normal() + m / 2),
  );
  const meanOf = (ms: Float32Array[]) =>
    ms[0].map((_, i) => ms.reduce((s, m) => s + m[i], 0) / ms.length);
  const r = bootstrapOodMetrics(inM, outM, meanOf, { resamples: 20, seed: 9 });
  const draws = new Rng(9);
  for (const sample of r.samples) {
    const idx = Array.from({ length: nMembers }, () => draws.int(nMembers));
    const expected = oodMetrics(meanOf(idx.map((m) => inM[m])), meanOf(idx.map((m) => outM[m])));
    assert.deepEqual(sample, expected);
  }
  // Members differ, so the metrics vary across resamples.
  assert.ok(r.std.auroc > 0);
  // A custom metric replaces oodMetrics.
  const custom = bootstrapOodMetrics(inM, outM, meanOf, {
    resamples: 20,
    seed: 9,
    metric: (a, b) => ({ nIn: a.length, nOut: b.length }),
  });
  assert.deepEqual(custom.mean, { nIn: 40, nOut: 30 });
});

Deno.test("bootstrap: bad arguments give a GensembleError", () => {
  assert.throws(() => bootstrapMembers(0, () => ({ x: 0 })), GensembleError);
  assert.throws(() => bootstrapMembers(3, () => ({ x: 0 }), { resamples: 0 }), /positive integer/);
  const one = new Float32Array([1]);
  assert.throws(
    () => bootstrapOodMetrics([one, one], [one], (ms) => ms[0]),
    /2 members' in-distribution scores but 1/,
  );
});
