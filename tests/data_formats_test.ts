/**
 * Readers for the real file formats (IDX, CIFAR-10 binary, NPY, MATLAB v5, CSV, gzip): exact
 * decoded values on tiny fixtures written in each format, and one-line errors naming the file and
 * the problem on bad input. NPY and .mat fixtures come from NumPy / scipy
 * (tests/fixtures/make_data_fixtures.py); IDX, CIFAR and CSV are written here byte by byte.
 */

import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { GensembleError } from "../core/errors.ts";
import { readIdx } from "../data/idx.ts";
import { readCifarBatch } from "../data/cifar.ts";
import { encodeNpy, readNpy } from "../data/npy.ts";
import { columnMajorToRowMajor, readMat } from "../data/mat.ts";
import { readNumericCsv } from "../data/csv.ts";
import { loadSvhnMat } from "../data/registry.ts";
import { loadTabularFile } from "../data/tabular.ts";
import { readMaybeGzip } from "../data/read_bytes.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

/** IDX bytes: header 00 00 08 ndim, big-endian dims, then the uint8 values. */
function idxBytes(dims: number[], values: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + values.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(values, 4 + 4 * dims.length);
  return out;
}

/** Overwrite an ASCII substring of the same length (to corrupt a binary header in place). */
function replaceAscii(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const text = Array.from(bytes, (b) => String.fromCharCode(b)).join("");
  const at = text.indexOf(from);
  assert.ok(at >= 0 && from.length === to.length);
  const out = bytes.slice();
  for (let i = 0; i < to.length; i++) out[at + i] = to.charCodeAt(i);
  return out;
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gensemble_data_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Assert `fn` rejects with a GensembleError whose message contains every fragment. */
async function rejectsWith(fn: () => Promise<unknown>, ...fragments: string[]): Promise<void> {
  await assert.rejects(fn, (err: unknown) => {
    assert.ok(err instanceof GensembleError, `expected GensembleError, got ${err}`);
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" lacks "${f}"`);
    assert.ok(!err.message.includes("\n"), "error message should be one line");
    return true;
  });
}

Deno.test("IDX: raw and gzip files decode to the same dims and bytes", async () => {
  await withTempDir(async (dir) => {
    const values = [0, 1, 2, 255, 128, 7, 9, 10, 11, 12, 13, 14]; // 2 images of 2×3
    const raw = idxBytes([2, 2, 3], values);
    await Deno.writeFile(`${dir}/img-idx3-ubyte`, raw);
    await Deno.writeFile(`${dir}/img-idx3-ubyte.gz`, gzipSync(raw));
    for (const name of ["img-idx3-ubyte", "img-idx3-ubyte.gz"]) {
      const { dims, data } = await readIdx(`${dir}/${name}`);
      assert.deepEqual(dims, [2, 2, 3]);
      assert.deepEqual(Array.from(data), values);
    }
  });
});

Deno.test("IDX: wrong magic, truncated payload, extra bytes and bad type are named", async () => {
  await withTempDir(async (dir) => {
    const good = idxBytes([3], [4, 5, 6]);
    const wrongMagic = good.slice();
    wrongMagic[0] = 0x1a;
    await Deno.writeFile(`${dir}/magic`, wrongMagic);
    await rejectsWith(
      () => readIdx(`${dir}/magic`),
      `${dir}/magic`,
      "wrong magic number 0x1a000801",
    );
    await Deno.writeFile(`${dir}/short.gz`, gzipSync(good.subarray(0, good.length - 1)));
    await rejectsWith(
      () => readIdx(`${dir}/short.gz`),
      `${dir}/short.gz`,
      "truncated IDX data",
      "3 bytes",
      "the file has 2",
    );
    await Deno.writeFile(`${dir}/long`, idxBytes([2], [1, 2, 3]));
    await rejectsWith(() => readIdx(`${dir}/long`), `${dir}/long`, "1 bytes more");
    const float = good.slice();
    float[2] = 0x0d;
    await Deno.writeFile(`${dir}/float`, float);
    await rejectsWith(() => readIdx(`${dir}/float`), "unsupported IDX data type 0x0d");
  });
});

Deno.test("gzip: truncated and corrupt gzip data give one line naming the file", async () => {
  await withTempDir(async (dir) => {
    const gz = gzipSync(idxBytes([100], new Array(100).fill(3).map((v, i) => (v * i) % 256)));
    await Deno.writeFile(`${dir}/cut.gz`, gz.subarray(0, gz.length - 10));
    await rejectsWith(
      () => readIdx(`${dir}/cut.gz`),
      `${dir}/cut.gz`,
      "truncated or corrupt gzip data",
    );
    const bad = Uint8Array.from(gz);
    bad[bad.length - 6] ^= 0xff; // break the CRC
    await Deno.writeFile(`${dir}/crc.gz`, bad);
    await rejectsWith(
      () => readMaybeGzip(`${dir}/crc.gz`),
      `${dir}/crc.gz`,
      "truncated or corrupt gzip",
    );
    await Deno.writeFile(`${dir}/fake.gz`, new Uint8Array([1, 2, 3]));
    await rejectsWith(() => readMaybeGzip(`${dir}/fake.gz`), "not gzip data");
    await rejectsWith(() => readMaybeGzip(`${dir}/absent`), `${dir}/absent`, "file not found");
  });
});

Deno.test("CIFAR-10 binary: planes are interleaved to [N, 32, 32, 3], raw and .gz", async () => {
  await withTempDir(async (dir) => {
    const rec = 3073;
    const bytes = new Uint8Array(2 * rec);
    for (let n = 0; n < 2; n++) {
      bytes[n * rec] = n === 0 ? 7 : 2;
      // R plane = pixel index mod 251, G = 100 + n, B = 255 - (pixel mod 256).
      for (let p = 0; p < 1024; p++) {
        bytes[n * rec + 1 + p] = p % 251;
        bytes[n * rec + 1 + 1024 + p] = 100 + n;
        bytes[n * rec + 1 + 2048 + p] = 255 - (p % 256);
      }
    }
    await Deno.writeFile(`${dir}/b.bin`, bytes);
    await Deno.writeFile(`${dir}/b.bin.gz`, gzipSync(bytes));
    for (const name of ["b.bin", "b.bin.gz"]) {
      const batch = await readCifarBatch(`${dir}/${name}`);
      assert.equal(batch.count, 2);
      assert.deepEqual(Array.from(batch.labels), [7, 2]);
      // Image 1, row 3, column 5 → pixel 101: RGB (101, 101, 154).
      const o = 3072 + (3 * 32 + 5) * 3;
      assert.deepEqual(Array.from(batch.images.subarray(o, o + 3)), [101, 101, 154]);
      // Image 0, last pixel 1023: RGB (1023 % 251 = 19, 100, 255 - 255 = 0).
      const last = 3071 - 2;
      assert.deepEqual(Array.from(batch.images.subarray(last, last + 3)), [19, 100, 0]);
    }
    assert.equal((await readCifarBatch(`${dir}/b.bin`, 1)).count, 1);
    await Deno.writeFile(`${dir}/short.bin`, bytes.subarray(0, rec + 5));
    await rejectsWith(
      () => readCifarBatch(`${dir}/short.bin`),
      `${dir}/short.bin`,
      "3078 bytes",
      "3073-byte",
    );
  });
});

Deno.test("NPY: NumPy-written v1 uint8 and v2 float32 fixtures decode exactly", async () => {
  const u1 = await readNpy(`${FIXTURES}data_u1_v1.npy`);
  assert.equal(u1.dtype, "uint8");
  assert.deepEqual(u1.shape, [2, 2, 3]);
  assert.deepEqual(Array.from(u1.data), Array.from({ length: 12 }, (_, i) => i * 20));
  const f4 = await readNpy(`${FIXTURES}data_f4_v2.npy`);
  assert.equal(f4.dtype, "float32");
  assert.deepEqual(f4.shape, [2, 3]);
  assert.deepEqual(Array.from(f4.data), [0, 0.25, 0.5, 0.75, 1, 0.125]);
});

Deno.test("NPY: encodeNpy matches NumPy's bytes and round-trips through .gz", async () => {
  const numpyBytes = await Deno.readFile(`${FIXTURES}data_u1_v1.npy`);
  const ours = encodeNpy(Uint8Array.from({ length: 12 }, (_, i) => i * 20), [2, 2, 3]);
  assert.deepEqual(ours, numpyBytes);
  await withTempDir(async (dir) => {
    const x = Float32Array.from([0.5, -2, 3.25]);
    await Deno.writeFile(`${dir}/a.npy.gz`, gzipSync(encodeNpy(x, [3])));
    const back = await readNpy(`${dir}/a.npy.gz`);
    assert.deepEqual(back.shape, [3]);
    assert.deepEqual(Array.from(back.data), [0.5, -2, 3.25]);
  });
});

Deno.test("NPY: NaN, truncation, Fortran order and dtype errors name the file", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/nan.npy`, encodeNpy(Float32Array.from([0, 1, NaN, 0]), [2, 2]));
    await rejectsWith(
      () => readNpy(`${dir}/nan.npy`),
      `${dir}/nan.npy`,
      "NaN value at element [1, 0]",
    );
    const full = encodeNpy(new Uint8Array(10), [10]);
    await Deno.writeFile(`${dir}/cut.npy`, full.subarray(0, full.length - 3));
    await rejectsWith(
      () => readNpy(`${dir}/cut.npy`),
      "truncated NPY data",
      "needs 10 bytes",
      "has 7",
    );
    await Deno.writeFile(`${dir}/f.npy`, replaceAscii(full, "False", "True "));
    await rejectsWith(() => readNpy(`${dir}/f.npy`), "Fortran-order");
    await Deno.writeFile(`${dir}/i8.npy`, replaceAscii(full, "'|u1'", "'<i8'"));
    await rejectsWith(
      () => readNpy(`${dir}/i8.npy`),
      `${dir}/i8.npy`,
      "unsupported NPY dtype '<i8'",
    );
  });
});

Deno.test("MAT v5: scipy-written SVHN layout, plain and zlib-compressed", async () => {
  for (const name of ["data_svhn_tiny.mat", "data_svhn_tiny_zlib.mat"]) {
    const vars = await readMat(`${FIXTURES}${name}`);
    const x = vars.get("X")!;
    assert.equal(x.className, "uint8");
    assert.deepEqual(x.dims, [4, 3, 3, 2]);
    // NumPy wrote X[h, w, c, n] = h*18 + w*6 + c*2 + n; MATLAB stores it column-major.
    const nhwc = columnMajorToRowMajor(x.data, x.dims, [3, 0, 1, 2]);
    const expected: number[] = [];
    for (let n = 0; n < 2; n++) {
      for (let h = 0; h < 4; h++) {
        for (let w = 0; w < 3; w++) {
          for (let c = 0; c < 3; c++) expected.push(h * 18 + w * 6 + c * 2 + n);
        }
      }
    }
    assert.deepEqual(Array.from(nhwc), expected);
    const ds = await loadSvhnMat("svhn", `${FIXTURES}${name}`);
    assert.deepEqual(ds.shape, [2, 4, 3, 3]);
    assert.deepEqual(Array.from(ds.labels!), [0, 3]); // 10 means digit 0
    assert.equal(ds.x[1], Math.fround(2 / 255)); // n=0, h=0, w=0, c=1 holds 2
    assert.equal(ds.x[ds.x.length - 1], Math.fround(71 / 255));
  }
});

Deno.test("MAT v5: ODDS layout (double X, int16, skipped string), to row-major rows", async () => {
  const vars = await readMat(`${FIXTURES}data_odds_tiny.mat`);
  assert.deepEqual([...vars.keys()].sort(), ["X", "counts", "y"]); // the char array is skipped
  assert.deepEqual(Array.from(vars.get("counts")!.data), [-3, 7, 300]);
  const ds = await loadTabularFile(`${FIXTURES}data_odds_tiny.mat`, "tiny");
  assert.deepEqual(ds.shape, [3, 2]);
  assert.deepEqual(Array.from(ds.x), [0.5, -1.25, 2, Math.fround(1e-5), 3.5, 40]);
  assert.deepEqual(Array.from(ds.labels!), [0, 1, 0]);
});

Deno.test("MAT v5: truncated, HDF5 and non-.mat files give clear errors", async () => {
  await withTempDir(async (dir) => {
    const bytes = await Deno.readFile(`${FIXTURES}data_svhn_tiny.mat`);
    await Deno.writeFile(`${dir}/cut.mat`, bytes.subarray(0, 200));
    await rejectsWith(() => readMat(`${dir}/cut.mat`), `${dir}/cut.mat`, "truncated .mat file");
    const zbytes = await Deno.readFile(`${FIXTURES}data_svhn_tiny_zlib.mat`);
    const broken = zbytes.slice();
    broken[140] ^= 0xff; // inside the first compressed variable
    await Deno.writeFile(`${dir}/z.mat`, broken);
    await rejectsWith(() => readMat(`${dir}/z.mat`), `${dir}/z.mat`, "corrupt compressed variable");
    const hdf5 = new Uint8Array(256);
    hdf5.set(new TextEncoder().encode("MATLAB 7.3 MAT-file, Platform: GLNXA64"));
    await Deno.writeFile(`${dir}/v73.mat`, hdf5);
    await rejectsWith(() => readMat(`${dir}/v73.mat`), "MATLAB v7.3 (HDF5)");
    await Deno.writeFile(`${dir}/text.mat`, new TextEncoder().encode("x".repeat(200)));
    await rejectsWith(
      () => readMat(`${dir}/text.mat`),
      `${dir}/text.mat`,
      "not a MATLAB v5 .mat file",
    );
  });
});

Deno.test("CSV: quoted Kaggle-style and plain cells, .gz, CRLF and exponents", async () => {
  await withTempDir(async (dir) => {
    const text =
      '"Time","V1","Amount","Class"\r\n0,-1.5e-1,149.62,"0"\r\n1,2.25,2.69,\'1\'\r\n\r\n';
    await Deno.writeFile(`${dir}/cc.csv.gz`, gzipSync(new TextEncoder().encode(text)));
    const t = await readNumericCsv(`${dir}/cc.csv.gz`);
    assert.deepEqual(t.header, ["Time", "V1", "Amount", "Class"]);
    assert.equal(t.rows, 2);
    assert.deepEqual(Array.from(t.values), [0, -0.15, 149.62, 0, 1, 2.25, 2.69, 1]);
  });
});

Deno.test("CSV: missing column, non-numeric cell, NaN and empty cell name line and column", async () => {
  await withTempDir(async (dir) => {
    const cases: [string, string, string[]][] = [
      ["short.csv", "f0,f1,label\n1,2,0\n3,4\n", ["line 3 has 2 fields but the header has 3"]],
      ["word.csv", "f0,f1,label\n1,2,0\n3,abc,1\n", [
        "line 3, column 'f1'",
        'non-numeric value "abc"',
      ]],
      ["nan.csv", "f0,f1,label\n1,NaN,0\n", ["line 2, column 'f1'", "NaN value"]],
      ["empty.csv", "f0,f1,label\n1,,0\n", ["line 2, column 'f1'", "empty cell"]],
    ];
    for (const [name, text, fragments] of cases) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
      await rejectsWith(() => readNumericCsv(`${dir}/${name}`), `${dir}/${name}`, ...fragments);
    }
    await Deno.writeTextFile(`${dir}/nolabel.csv`, "f0,f1\n1,2\n");
    await rejectsWith(
      () => loadTabularFile(`${dir}/nolabel.csv`, "x"),
      `${dir}/nolabel.csv`,
      "missing column 'label'",
    );
    await Deno.writeTextFile(`${dir}/lab.csv`, "f0,label\n1,2\n");
    await rejectsWith(() => loadTabularFile(`${dir}/lab.csv`, "x"), "row 1", "must be 0 or 1");
  });
});

Deno.test("CSV: the ODDS layout loads as features [N, F] plus 0/1 labels", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/t.csv`, "f0,f1,f2,label\n1,2,3,0\n9.43396226415e-05,-5,6,1\n");
    const ds = await loadTabularFile(`${dir}/t.csv`, "t");
    assert.deepEqual(ds.shape, [2, 3]);
    assert.deepEqual(Array.from(ds.x), [1, 2, 3, Math.fround(9.43396226415e-05), -5, 6]);
    assert.deepEqual(Array.from(ds.labels!), [0, 1]);
    assert.deepEqual(ds.featureNames, ["f0", "f1", "f2"]);
  });
});
