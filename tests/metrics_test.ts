/**
 * OoD metrics against hand-computed cases and scikit-learn fixtures
 * (tests/fixtures/sklearn_metrics.json, made by tests/fixtures/make_sklearn_fixtures.py).
 */
import assert from "node:assert/strict";
import { GensembleError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { auroc, fprAtTpr, type OodMetrics, oodMetrics } from "../metrics/ood_metrics.ts";

const FIELDS: (keyof OodMetrics)[] = [
  "auroc",
  "auprIn",
  "auprOut",
  "fpr95",
  "fpr99",
  "fpr95OodPositive",
  "fpr99OodPositive",
];

function assertClose(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what}: got ${actual}, expected ${expected} (tolerance ${tol})`,
  );
}

function assertMetrics(actual: OodMetrics, expected: OodMetrics, tol: number, what: string) {
  for (const f of FIELDS) assertClose(actual[f], expected[f], tol, `${what} ${f}`);
}

Deno.test("oodMetrics: hand-computed case without ties", () => {
  // Anomaly scores, highest first: 0.9 out, 0.3 in, 0.25 out, 0.2 in, 0.1 in.
  const m = oodMetrics([0.1, 0.2, 0.3], [0.25, 0.9]);
  assertMetrics(
    m,
    {
      // Pairs (out, in) with out > in: 0.25 > 0.1, 0.2; 0.9 > all three → 5 of 6.
      auroc: 5 / 6,
      // In positive, lowest score first: 0.1 (P=1, ΔR=1/3), 0.2 (P=1, ΔR=1/3), 0.25 out,
      // 0.3 (P=3/4, ΔR=1/3) → 1/3 + 1/3 + 1/4 = 11/12.
      auprIn: 11 / 12,
      // OoD positive, highest first: 0.9 (P=1, ΔR=1/2), 0.3 in, 0.25 (P=2/3, ΔR=1/2) → 5/6.
      auprOut: 1 / 2 + 1 / 3,
      // Accepting 95% (and 99%) of 3 normals needs all 3, threshold 0.3: OoD 0.25 accepted → 1/2.
      fpr95: 1 / 2,
      fpr99: 1 / 2,
      // Flagging 95% of 2 OoD needs both, threshold 0.25: normal 0.3 flagged → 1/3.
      fpr95OodPositive: 1 / 3,
      fpr99OodPositive: 1 / 3,
    },
    1e-15,
    "no ties",
  );
});

Deno.test("oodMetrics: hand-computed case with ties across the sets", () => {
  // in = {0, 1, 1, 2}, out = {1, 2, 3}. Groups (score: in, out): 3: 0,1  2: 1,1  1: 2,1  0: 1,0.
  const m = oodMetrics([0, 1, 1, 2], [1, 2, 3]);
  assertMetrics(
    m,
    {
      // 12 pairs. out 3 beats 4; out 2 beats 3, ties 1 (½); out 1 beats 1, ties 2 (1) → 9.5 / 12.
      auroc: 9.5 / 12,
      // In positive, lowest first: g0 tp1 fp0 (P=1, ΔR=1/4); g1 tp3 fp1 (P=3/4, ΔR=2/4);
      // g2 tp4 fp2 (P=4/6, ΔR=1/4) → 1/4 + 3/8 + 1/6 = 19/24.
      auprIn: 19 / 24,
      // OoD positive, highest first: g3 tp1 fp0 (P=1, ΔR=1/3); g2 tp2 fp1 (P=2/3);
      // g1 tp3 fp3 (P=1/2) → 1/3 + 2/9 + 1/6 = 13/18.
      auprOut: 13 / 18,
      // Accepting ≥ 95% of 4 normals: TPR 1/4, 3/4, then 1 at threshold 2; OoD ≤ 2: {1, 2} → 2/3.
      fpr95: 2 / 3,
      fpr99: 2 / 3,
      // Flagging ≥ 95% of 3 OoD: TPR 1/3, 2/3, then 1 at threshold 1; normals ≥ 1: 3 of 4.
      fpr95OodPositive: 3 / 4,
      fpr99OodPositive: 3 / 4,
    },
    1e-15,
    "ties",
  );
});

Deno.test("oodMetrics: TPR exactly 0.95 reaches the threshold (19 of 20 normals)", () => {
  const normals = Array.from({ length: 20 }, (_, i) => i); // 0..19
  // 19/20 accepted at threshold 18 (19 / 20 >= 0.95 in floating point, as in numpy):
  // OoD 18.5 and 19.5 are both above it → fpr95 = 0. 99% needs all 20 (threshold 19): 18.5 in.
  const m = oodMetrics(normals, [18.5, 19.5]);
  assert.equal(m.fpr95, 0);
  assert.equal(m.fpr99, 1 / 2);
});

Deno.test("oodMetrics: degenerate cases", () => {
  // All equal: one threshold admits everything; AP = prevalence of the positive class.
  assertMetrics(
    oodMetrics([7, 7, 7], [7]),
    {
      auroc: 0.5,
      auprIn: 3 / 4,
      auprOut: 1 / 4,
      fpr95: 1,
      fpr99: 1,
      fpr95OodPositive: 1,
      fpr99OodPositive: 1,
    },
    0,
    "all equal",
  );
  // Perfect separation and its reverse.
  assertMetrics(
    oodMetrics([0, 1], [2, 3, 4]),
    {
      auroc: 1,
      auprIn: 1,
      auprOut: 1,
      fpr95: 0,
      fpr99: 0,
      fpr95OodPositive: 0,
      fpr99OodPositive: 0,
    },
    0,
    "separated",
  );
  // Reversed: OoD looks more normal than every normal input.
  // auprOut: the normals come first (2 groups, no positive), then OoD 1 (P=1/3, ΔR=1/2) and
  // OoD 0 (P=2/4, ΔR=1/2) → 1/6 + 1/4 = 5/12. auprIn symmetric: 1/3·1/2 + 2/4·1/2 = 5/12.
  assertMetrics(
    oodMetrics([3, 2], [1, 0]),
    {
      auroc: 0,
      auprIn: 5 / 12,
      auprOut: 5 / 12,
      fpr95: 1,
      fpr99: 1,
      fpr95OodPositive: 1,
      fpr99OodPositive: 1,
    },
    1e-15,
    "reversed",
  );
});

Deno.test("oodMetrics: infinite scores rank first and last", () => {
  // out +∞ beats all 3; out 1 beats −∞ and 0, ties 1 (½) → 5.5 / 6.
  assert.equal(auroc([-Infinity, 0, 1], [Infinity, 1]), 5.5 / 6);
  assert.equal(oodMetrics([-Infinity, 0, 1], [Infinity, 1]).auroc, 5.5 / 6);
});

Deno.test("oodMetrics: scikit-learn fixtures agree to 1e-9", async () => {
  const url = new URL("./fixtures/sklearn_metrics.json", import.meta.url);
  const doc = JSON.parse(await Deno.readTextFile(url));
  assert.ok(doc.cases.length >= 20, "fixture file has its cases");
  let compared = 0;
  for (const c of doc.cases) {
    const m = oodMetrics(c.inScores, c.outScores);
    assertMetrics(m, c.expected, 1e-9, c.name);
    assertClose(auroc(c.inScores, c.outScores), c.expected.auroc, 1e-9, `${c.name} auroc()`);
    // Float32 input must give the same answer when the values are representable.
    const f32 = Float32Array.from(c.inScores as number[]);
    if (f32.every((v, i) => v === c.inScores[i])) {
      assert.deepEqual(oodMetrics(f32, c.outScores), m);
    }
    const e = c.expected;
    assertClose(fprAtTpr(c.inScores, c.outScores, 0.95, "in"), e.fpr95, 1e-9, c.name);
    assertClose(fprAtTpr(c.inScores, c.outScores, 0.99, "ood"), e.fpr99OodPositive, 1e-9, c.name);
    compared++;
  }
  assert.equal(compared, doc.cases.length);
});

Deno.test("oodMetrics: on a collinear ROC run we match drop_intermediate=False, not the default", async () => {
  const url = new URL("./fixtures/sklearn_metrics.json", import.meta.url);
  const doc = JSON.parse(await Deno.readTextFile(url));
  const c = doc.cases.find((x: { name: string }) => x.name === "paired_ties");
  // in = out = 0..39: each score ties one normal with one OoD input, so TPR = FPR at every
  // threshold; accepting 38 of 40 normals (0.95) accepts 38 of 40 OoD → 0.95.
  const m = oodMetrics(c.inScores, c.outScores);
  assert.equal(m.fpr95, 38 / 40);
  assert.equal(c.expected.fpr95, 38 / 40);
  // sklearn's default roc_curve drops the collinear points and lands on TPR = 1 instead.
  assert.equal(c.expected.fpr95Default, 1);
});

Deno.test("oodMetrics: symmetries and permutation invariance on random tied data", () => {
  const rng = new Rng(3);
  const a = Array.from({ length: 300 }, () => Math.round(rng.normal() * 4));
  const b = Array.from({ length: 170 }, () => Math.round(rng.normal() * 4 + 2));
  const m = oodMetrics(a, b);
  // Swapping the roles of the sets and negating the scores swaps the conventions.
  const negated = oodMetrics(b.map((v) => -v), a.map((v) => -v));
  assertClose(negated.auprOut, m.auprIn, 1e-12, "auprIn via auprOut");
  assertClose(negated.auprIn, m.auprOut, 1e-12, "auprOut via auprIn");
  assert.equal(negated.fpr95OodPositive, m.fpr95);
  assert.equal(negated.fpr99OodPositive, m.fpr99);
  assertClose(negated.auroc, m.auroc, 1e-12, "auroc under negation and swap");
  // Swapping the sets alone mirrors AUROC.
  assertClose(auroc(b, a), 1 - m.auroc, 1e-12, "swapped auroc");
  // Order of the inputs does not matter.
  const pa = rng.permutation(a.length);
  const pb = rng.permutation(b.length);
  assert.deepEqual(oodMetrics(Array.from(pa, (i) => a[i]), Array.from(pb, (i) => b[i])), m);
  // AUROC against the O(n²) pair count.
  let twice = 0;
  for (const x of a) for (const y of b) twice += y > x ? 2 : y === x ? 1 : 0;
  assertClose(m.auroc, twice / (2 * a.length * b.length), 1e-12, "pair count");
});

Deno.test("oodMetrics: rejects empty sets and NaN with a GensembleError", () => {
  assert.throws(() => oodMetrics([], [1]), GensembleError);
  assert.throws(() => oodMetrics([1], []), /Out-of-distribution scores are empty/);
  assert.throws(
    () => oodMetrics([1, NaN], [2]),
    (e: unknown) =>
      e instanceof GensembleError && /In-distribution.*NaN at index 1/.test(e.message),
  );
  assert.throws(() => auroc(new Float32Array([1]), new Float32Array([NaN])), /NaN at index 0/);
  assert.throws(() => fprAtTpr([1], [2], 0), /out of range/);
  assert.throws(() => fprAtTpr([1], [2], 1.5), /out of range/);
});

Deno.test("oodMetrics: 200k scores in under two seconds", () => {
  const rng = new Rng(11);
  const a = Float32Array.from({ length: 100_000 }, () => rng.normal());
  const b = Float32Array.from({ length: 100_000 }, () => rng.normal() + 1);
  const t0 = performance.now();
  const m = oodMetrics(a, b);
  const ms = performance.now() - t0;
  // Two unit-variance normals one apart: AUROC = Φ(1/√2) = 0.7602.
  assertClose(m.auroc, 0.7602, 0.005, "normal shift AUROC");
  assert.ok(ms < 2000, `oodMetrics on 200k scores took ${ms.toFixed(0)} ms`);
});
