import assert from "node:assert/strict";
import {
  applyPreprocess,
  fitPreprocess,
  loadPreprocess,
  PREPROCESS_FILE,
  savePreprocess,
} from "../tasks/tabular_prep.ts";
import { GensembleError } from "../core/errors.ts";

Deno.test("fitPreprocess takes per-feature min and max over the training rows", () => {
  // rows: (0, 10, 5), (2, 30, 5), (1, 20, 5)
  const pre = fitPreprocess([0, 10, 5, 2, 30, 5, 1, 20, 5], ["a", "b", "c"], { source: "csv" });
  assert.deepEqual(pre.min, [0, 10, 5]);
  assert.deepEqual(pre.max, [2, 30, 5]);
  assert.equal(pre.fitRows, 3);
  assert.deepEqual(pre.featureNames, ["a", "b", "c"]);
});

Deno.test("applyPreprocess scales to [0, 1], clips outside the training range, constant → 0", () => {
  const pre = fitPreprocess([0, 10, 5, 2, 30, 5], ["a", "b", "c"]);
  const x = applyPreprocess(pre, [1, 15, 5, -4, 40, 7, 2, 10, 3]);
  // (1-0)/2 = 0.5, (15-10)/20 = 0.25, constant → 0; -4 → 0 (clip), 40 → 1 (clip), 7 → 0
  // (+ 0 turns the constant column's −0 into 0: equal values, but deepEqual tells them apart)
  assert.deepEqual(Array.from(x, (v) => v + 0), [0.5, 0.25, 0, 0, 1, 0, 1, 0, 0]);
});

Deno.test("preprocess.json round-trips and a damaged one is a one-line error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pre = fitPreprocess([0.1, -3, 0.7, 9], ["x", "y"], {
      source: "csv",
      labelColumn: "label",
    });
    await savePreprocess(dir, { ...pre, normalValue: 0 });
    const back = await loadPreprocess(dir);
    assert.deepEqual(back, { ...pre, normalValue: 0 });
    assert.deepEqual(
      Array.from(applyPreprocess(back, [0.4, 3])),
      Array.from(applyPreprocess(pre, [0.4, 3])),
    );
    await Deno.writeTextFile(`${dir}/${PREPROCESS_FILE}`, '{"version":1,"featureNames":["x"]}');
    await assert.rejects(() => loadPreprocess(dir), GensembleError);
    await Deno.remove(`${dir}/${PREPROCESS_FILE}`);
    await assert.rejects(() => loadPreprocess(dir), /file not found/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
