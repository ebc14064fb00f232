import assert from "node:assert/strict";
import {
  acceptedShare,
  calibrate,
  calibrationSplit,
  flagAnomalies,
  loadCalibration,
  saveCalibration,
  thresholdAtTpr,
} from "../tasks/calibrate.ts";

Deno.test("thresholdAtTpr is the ⌈tpr·n⌉-th smallest held-out score", () => {
  const scores = [5, 1, 3, 2, 4, 10, 9, 8, 7, 6]; // sorted: 1..10
  assert.equal(thresholdAtTpr(scores, 0.95), 10); // ⌈9.5⌉ = 10th
  assert.equal(thresholdAtTpr(scores, 0.9), 9); // exactly 9 of 10 accepted
  assert.equal(thresholdAtTpr(scores, 0.5), 5);
  assert.equal(thresholdAtTpr(scores, 0.01), 1);
  // 0.95·20 = 19.000000000000004 in floating point: still the 19th, not the 20th
  const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
  assert.equal(thresholdAtTpr(twenty, 0.95), 19);
  assert.equal(acceptedShare(twenty, 19), 0.95);
});

Deno.test("ties at the threshold are all accepted; flags are score > threshold", () => {
  const scores = [1, 2, 2, 2, 3];
  const t = thresholdAtTpr(scores, 0.6); // 3rd smallest = 2
  assert.equal(t, 2);
  assert.equal(acceptedShare(scores, t), 0.8); // four rows ≤ 2
  assert.deepEqual(Array.from(flagAnomalies([1.5, 2, 2.0001, -7], t)), [0, 0, 1, 0]);
});

Deno.test("calibrate records a threshold per score and the chosen one", async () => {
  const cal = calibrate({ waic: [3, 1, 2, 4], var: [0.1, 0.4, 0.3, 0.2] }, "waic", 0.75, 16);
  assert.equal(cal.threshold, 3);
  assert.equal(cal.thresholds.var.threshold, 0.3);
  assert.equal(cal.thresholds.waic.acceptedShare, 0.75);
  assert.equal(cal.heldOut, 4);
  assert.equal(cal.nSamples, 16);
  assert.throws(() => calibrate({ waic: [1] }, "rate", 0.95, 1), /produces waic/);
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await loadCalibration(dir), null);
    await saveCalibration(dir, cal);
    assert.deepEqual(await loadCalibration(dir), cal);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("calibrationSplit holds out round(share·n) rows, disjoint, seeded", () => {
  const a = calibrationSplit(1000, 0.1, 7);
  assert.equal(a.heldOut.length, 100);
  assert.equal(a.fit.length, 900);
  const all = new Set([...a.fit, ...a.heldOut]);
  assert.equal(all.size, 1000);
  const b = calibrationSplit(1000, 0.1, 7);
  assert.deepEqual(Array.from(a.heldOut), Array.from(b.heldOut));
  const c = calibrationSplit(1000, 0.1, 8);
  assert.notDeepEqual(Array.from(a.heldOut), Array.from(c.heldOut));
  assert.equal(calibrationSplit(10, 0, 1).heldOut.length, 0);
  assert.equal(calibrationSplit(5, 0.01, 1).heldOut.length, 1); // at least one when share > 0
});

Deno.test("calibrate CLI: --help prints usage; a missing --model_dir is a one-line error", async () => {
  // The CLI imports modules that import it back; it once hung on that cycle before printing.
  const run = async (args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../tasks/calibrate.ts", import.meta.url).pathname, ...args],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  };
  const help = await run(["--help"]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: .*calibrate\.ts --model_dir RUN/);
  const missing = await run([]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr.trim(), /^error: Missing --model_dir/);
});
