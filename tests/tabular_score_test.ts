/**
 * End to end on a small generated CSV in the Kaggle credit-card schema: prepare, train a tiny
 * (smoke preset) ensemble, calibrate, then score with the streaming CLI and with `scoreEnsemble`.
 */
import assert from "node:assert/strict";
import { Rng } from "../core/rng.ts";
import { GensembleError } from "../core/errors.ts";
import { CREDITCARD_COLUMNS } from "../data/creditcard.ts";
import { trainEnsemble } from "../tasks/train.ts";
import { calibrateTabularRun, prepareTabularRun } from "../tasks/tabular_train.ts";
import { loadCalibration } from "../tasks/calibrate.ts";
import { bernoulliEntropy, loadEnsemble, scoreEnsemble } from "../tasks/score_ensemble.ts";
import { formatFloat32, scoreFile } from "../tasks/score.ts";
import { applyPreprocess, loadPreprocess } from "../tasks/tabular_prep.ts";

/** Rows in the Kaggle layout: Time, V1..V28, Amount, Class (frauds shifted in V1..V4). */
function kaggleRows(n: number, fraudShare: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const fraud = rng.uniform() < fraudShare ? 1 : 0;
    const v = Array.from({ length: 28 }, (_, j) => rng.normal() + (fraud && j < 4 ? 4 : 0));
    const amount = Math.round(Math.exp(3 + rng.normal()) * 100) / 100;
    return [i * 7, ...v.map((x) => Math.round(x * 1e6) / 1e6), amount, fraud];
  });
}

/** Kaggle quotes its header and the Class values. */
function kaggleCsv(rows: number[][]): string {
  const header = CREDITCARD_COLUMNS.map((c) => `"${c}"`).join(",");
  const body = rows.map((r) => r.slice(0, -1).join(",") + `,"${r[r.length - 1]}"`);
  return [header, ...body].join("\n") + "\n";
}

const features = (rows: number[][]) => rows.map((r) => r.slice(0, 30));

async function trainedRun(dir: string) {
  const trainCsv = `${dir}/transactions.csv`;
  await Deno.writeTextFile(trainCsv, kaggleCsv(kaggleRows(400, 0.05, 1)));
  const runDir = `${dir}/run`;
  const pre = await prepareTabularRun({ dataset: trainCsv, runDir, seed: 0 });
  await trainEnsemble({
    dataset: trainCsv,
    modelDir: runDir,
    preset: "smoke",
    numModels: 2,
    workers: 1,
    backend: "cpu",
    progressEverySec: 0,
  });
  const cal = await calibrateTabularRun(runDir, { tpr: 0.9, backend: "cpu" });
  return { runDir, pre, cal: cal! };
}

Deno.test("tabular run: preprocess, calibration, streaming scores = scoreEnsemble", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const { runDir, pre, cal } = await trainedRun(dir);

    await t.step("prepare found the Kaggle label column and held out 10% of normal rows", () => {
      assert.equal(pre.labelColumn, "Class");
      assert.deepEqual(pre.featureNames, CREDITCARD_COLUMNS.slice(0, 30));
      const normal = pre.training.fitRows + pre.training.heldOutRows;
      assert.equal(pre.training.heldOutRows, Math.round(0.1 * normal));
      assert.equal(pre.fitRows, pre.training.fitRows);
      assert.ok(pre.training.anomalyRows > 0);
    });

    await t.step("calibration keeps ≥ 90% of held-out normals and is saved", async () => {
      assert.equal(cal.score, "waic");
      assert.equal(cal.tpr, 0.9);
      assert.equal(cal.heldOut, pre.training.heldOutRows);
      assert.ok(cal.thresholds.waic.acceptedShare >= 0.9);
      assert.ok(cal.thresholds.waic.acceptedShare < 0.9 + 2 / cal.heldOut);
      assert.deepEqual(Object.keys(cal.thresholds).sort(), [
        "mean",
        "mean_ec",
        "posterior_mean_var",
        "rate",
        "single",
        "single_ec",
        "var",
        "waic",
        "waic_ec",
      ]);
      assert.deepEqual(await loadCalibration(runDir), cal);
    });

    // New rows, with the Class column (allowed and passed through) in the middle of the header.
    const rows = kaggleRows(5000, 0.1, 2); // more than one 4096-row batch
    const input = `${dir}/new.csv`;
    await Deno.writeTextFile(input, kaggleCsv(rows));
    const out = `${dir}/scored.csv`;
    const ens = await loadEnsemble(runDir, { backend: "cpu", quiet: true });
    try {
      const summary = await scoreFile(ens, { input, out });
      const fromArrays = await scoreEnsemble(ens, features(rows));

      await t.step("the CLI writes every row with its scores and flags", async () => {
        assert.equal(summary.rows, 5000);
        assert.equal(summary.skipped, 0);
        const lines = (await Deno.readTextFile(out)).trimEnd().split("\n");
        assert.equal(lines.length, 5001);
        const inputLines = (await Deno.readTextFile(input)).trimEnd().split("\n");
        assert.equal(
          lines[0],
          inputLines[0] +
            ",single,mean,var,waic,rate,posterior_mean_var,single_ec,mean_ec,waic_ec,anomaly",
        );
        const names = [
          "single",
          "mean",
          "var",
          "waic",
          "rate",
          "posterior_mean_var",
          "single_ec",
          "mean_ec",
          "waic_ec",
        ] as const;
        let flagged = 0;
        for (let i = 1; i <= 5000; i++) {
          const cells = lines[i].split(",");
          assert.equal(cells.slice(0, 31).join(","), inputLines[i]); // the row, unchanged
          const values = cells.slice(31).map(Number);
          names.forEach((name, j) => {
            // formatFloat32 round-trips: the printed value is the float32 scoreEnsemble returns
            assert.equal(
              Math.fround(values[j]),
              fromArrays.scores[name]![i - 1],
              `${name} row ${i}`,
            );
          });
          const anomaly = values[9];
          assert.equal(anomaly, values[3] > cal.threshold ? 1 : 0);
          assert.equal(anomaly, fromArrays.anomaly![i - 1]);
          flagged += anomaly;
        }
        assert.equal(summary.anomalies, flagged);
        assert.equal(summary.threshold, cal.threshold);
      });

      await t.step("<score>_ec = <score> − Σ_f H(x_f) of the scaled row", () => {
        const x01 = applyPreprocess(ens.preprocess, features(rows).slice(0, 50).flat());
        const h = bernoulliEntropy(x01, 30);
        for (let i = 0; i < 50; i++) {
          for (
            const [ec, base] of [["waic_ec", "waic"], ["mean_ec", "mean"], ["single_ec", "single"]]
          ) {
            const want = fromArrays.scores[base as "waic"]![i] - h[i];
            assert.ok(
              Math.abs(fromArrays.scores[ec as "waic_ec"]![i] - want) <=
                1e-5 * (1 + Math.abs(want)),
            );
          }
        }
      });

      await t.step("--threshold_score var uses the calibrated var threshold", async () => {
        const r = await scoreEnsemble(ens, features(rows).slice(0, 100), { thresholdScore: "var" });
        assert.equal(r.threshold, cal.thresholds.var.threshold);
        r.scores.var!.forEach((v, i) => assert.equal(r.anomaly![i], v > r.threshold! ? 1 : 0));
      });

      await t.step(
        "bad rows: error by default (no output left), or skipped and counted",
        async () => {
          const lines = (await Deno.readTextFile(input)).split("\n");
          lines[3] = lines[3].split(",").slice(0, 20).join(","); // line 4: too few columns
          lines[7] = lines[7].replace(/^[^,]*,[^,]*/, "7,abc"); // line 8: V1 is not a number
          const bad = `${dir}/bad.csv`;
          await Deno.writeTextFile(bad, lines.join("\n"));
          const badOut = `${dir}/bad_scored.csv`;
          await assert.rejects(
            () => scoreFile(ens, { input: bad, out: badOut }),
            (err: Error) =>
              err instanceof GensembleError &&
              err.message.startsWith(`${bad}: line 4: expected 31 columns, found 20`),
          );
          const left = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
            n.startsWith("bad_")
          );
          assert.deepEqual(left, []); // neither the output nor its temp file
          const skipped: number[] = [];
          const s = await scoreFile(ens, {
            input: bad,
            out: badOut,
            onBadRow: "skip",
            onSkip: (b) => skipped.push(b.line),
          });
          assert.deepEqual(skipped, [4, 8]);
          assert.equal(s.skipped, 2);
          assert.equal(s.rows, 4998);
        },
      );

      await t.step("a header without the training features is rejected, naming them", async () => {
        const wrong = `${dir}/wrong.csv`;
        await Deno.writeTextFile(wrong, "Time,V1,V2,Extra\n1,2,3,4\n");
        await assert.rejects(
          () => scoreFile(ens, { input: wrong, out: `${dir}/wrong_scored.csv` }),
          /missing columns V3, V4, .*V28, Amount; extra columns Extra/,
        );
      });
    } finally {
      ens.dispose();
    }

    await t.step("the deno task score CLI: summary line, and a one-line error", async () => {
      const run = (args: string[]) =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "tasks/score.ts", "--model_dir", runDir, "--backend", "cpu", ...args],
          stdout: "piped",
          stderr: "piped",
        }).output();
      const small = `${dir}/small.csv`;
      await Deno.writeTextFile(small, kaggleCsv(rows.slice(0, 50)));
      // Scored in a Deno Worker: the same numbers as scoreEnsemble in this thread.
      const ok = await run([small, "--out", `${dir}/small_scored.csv`, "--workers", "1"]);
      const okErr = new TextDecoder().decode(ok.stderr);
      assert.equal(ok.code, 0, okErr);
      assert.match(okErr, /scored 50 rows in .* flagged \d+ \(.*%\) as anomalies \(waic > /);
      const lines = (await Deno.readTextFile(`${dir}/small_scored.csv`)).trimEnd().split("\n");
      assert.equal(lines.length, 51);
      const expected = await scoreEnsemble(runDir, features(rows.slice(0, 50)), { backend: "cpu" });
      lines.slice(1).forEach((line, i) => {
        const cells = line.split(",");
        assert.equal(formatFloat32(Math.fround(Number(cells[34]))), cells[34]);
        assert.equal(Math.fround(Number(cells[34])), expected.scores.waic![i]);
        assert.equal(Number(cells[40]), expected.anomaly![i]);
      });
      await Deno.writeTextFile(small, kaggleCsv(rows.slice(0, 5)) + "1,2,3\n");
      const bad = await run([small, "--out", `${dir}/small_bad.csv`]);
      const badErr = new TextDecoder().decode(bad.stderr).trim();
      assert.equal(bad.code, 1);
      const errLines = badErr.split("\n").filter((l) => !l.startsWith("gensemble: backend"));
      assert.equal(errLines.length, 1, badErr); // one line, no stack trace
      assert.match(errLines[0], /^error: .*small\.csv: line 7: expected 31 columns, found 3/);
    });

    assert.equal((await loadPreprocess(runDir)).featureNames.length, 30);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bernoulliEntropy sums the binary entropy of each row's features, 0 at 0 and 1", () => {
  const h = bernoulliEntropy(new Float32Array([0.5, 1, 0, 0, 0.25, 0.75]), 2);
  assert.equal(h[0], Math.log(2));
  assert.equal(h[1], 0);
  const h25 = -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75));
  assert.ok(Math.abs(h[2] - 2 * h25) < 1e-12);
});

Deno.test("formatFloat32 prints the shortest decimal that reads back to the same float32", () => {
  for (const v of [0.1, 1 / 3, -123456.789, 1e-7, 3.4e38, 0, -2.5]) {
    const f = Math.fround(v);
    const s = formatFloat32(f);
    assert.equal(Math.fround(Number(s)), f);
    assert.ok(
      s.replace(/^-/, "").replace(/e.*$/, "").replace(".", "").replace(/^0+/, "").length <= 9,
    );
  }
  assert.equal(formatFloat32(Math.fround(0.1)), "0.1");
  assert.equal(formatFloat32(Math.fround(-2.5)), "-2.5");
});
