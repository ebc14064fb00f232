import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import {
  type BadRow,
  type CsvBatch,
  matchHeader,
  splitCsvLine,
  streamCsvBatches,
} from "../data/csv_stream.ts";
import { GensembleError } from "../core/errors.ts";

async function collect(
  path: string,
  opts: Parameters<typeof streamCsvBatches>[1],
): Promise<CsvBatch[]> {
  const out: CsvBatch[] = [];
  for await (const b of streamCsvBatches(path, opts)) {
    out.push({ ...b, values: b.values.slice(), lineNumbers: b.lineNumbers.slice() });
  }
  return out;
}

Deno.test("splitCsvLine: plain, quoted (with commas and doubled quotes), unterminated", () => {
  assert.deepEqual(splitCsvLine("1,2.5,-3e2"), ["1", "2.5", "-3e2"]);
  assert.deepEqual(splitCsvLine('"Time","V1",3'), ["Time", "V1", "3"]);
  assert.deepEqual(splitCsvLine('1,"a,b","say ""hi"""'), ["1", "a,b", 'say "hi"']);
  assert.equal(splitCsvLine('1,"open'), null);
});

Deno.test("matchHeader maps features in any order and lists missing/extra columns", () => {
  assert.deepEqual(Array.from(matchHeader(["b", "Class", "a"], ["a", "b"], ["Class"], "f.csv")), [
    2,
    0,
  ]);
  assert.throws(
    () => matchHeader(["a", "c", "d"], ["a", "b"], [], "f.csv"),
    (err: Error) =>
      err instanceof GensembleError && /f\.csv/.test(err.message) &&
      /missing columns b/.test(err.message) && /extra columns c, d/.test(err.message),
  );
});

Deno.test("streamCsvBatches: batches, values in feature order, line numbers, CRLF, gzip", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const text = '"y","x","label"\r\n1,10,0\r\n2,20,1\r\n\r\n3,"30",0\r\n4,40,0\r\n5,50,0\r\n';
    await Deno.writeTextFile(`${dir}/a.csv`, text);
    await Deno.writeFile(`${dir}/a.csv.gz`, gzipSync(new TextEncoder().encode(text)));
    for (const name of ["a.csv", "a.csv.gz"]) {
      const batches = await collect(`${dir}/${name}`, {
        features: ["x", "y"],
        allowedExtra: ["label"],
        batchRows: 2,
      });
      assert.deepEqual(batches.map((b) => b.rows), [2, 2, 1]);
      assert.deepEqual(Array.from(batches[0].values), [10, 1, 20, 2]);
      assert.deepEqual(Array.from(batches[1].values), [30, 3, 40, 4]);
      // line 5 is blank: skipped silently, numbering continues
      assert.deepEqual(batches.flatMap((b) => Array.from(b.lineNumbers)), [2, 3, 5, 6, 7]);
      assert.equal(batches[1].lines[0], '3,"30",0');
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad rows: error names file and line; skip reports each and keeps the good rows", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/bad.csv`;
    await Deno.writeTextFile(path, "a,b\n1,2\n3\n4,x\n5,\n6,7\n8,NaN\n9,1e400\n10,11\n");
    await assert.rejects(
      () => collect(path, { features: ["a", "b"] }),
      (err: Error) =>
        err instanceof GensembleError &&
        err.message.includes(`${path}: line 3: expected 2 columns, found 1`),
    );
    const skipped: BadRow[] = [];
    const batches = await collect(path, {
      features: ["a", "b"],
      onBadRow: "skip",
      onSkip: (b) => skipped.push(b),
    });
    assert.deepEqual(skipped.map((b) => b.line), [3, 4, 5, 7, 8]);
    assert.match(skipped[1].reason, /column "b" has a non-numeric value "x"/);
    assert.match(skipped[2].reason, /empty cell/);
    assert.deepEqual(Array.from(batches[0].values), [1, 2, 6, 7, 10, 11]);
    assert.deepEqual(Array.from(batches[0].lineNumbers), [2, 6, 9]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("header mismatch and empty files are one-line errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/h.csv`, "a,zz\n1,2\n");
    await assert.rejects(
      () => collect(`${dir}/h.csv`, { features: ["a", "b"] }),
      /missing columns b; extra columns zz/,
    );
    await Deno.writeTextFile(`${dir}/e.csv`, "\n\n");
    await assert.rejects(() => collect(`${dir}/e.csv`, { features: ["a"] }), /empty CSV file/);
    await assert.rejects(() => collect(`${dir}/none.csv`, { features: ["a"] }), /file not found/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
