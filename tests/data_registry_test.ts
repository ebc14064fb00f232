/**
 * The dataset registry: lookup order, raw/.gz and flat/sub-directory layouts, the one-line error
 * for a dataset missing offline, verified downloads (local server), tar unpacking, credit-card
 * splits and scaling, the real MNIST when `$GENSEMBLE_DATA_DIR` has it, and the `datasets` CLI.
 */

import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { GensembleError } from "../core/errors.ts";
import { downloadInto, fetchVerified, untar } from "../data/download.ts";
import { sha256Hex } from "../core/hash.ts";
import { gunzipBytes } from "../data/read_bytes.ts";
import {
  type DataRoot,
  dataRoots,
  getDatasetSpec,
  loadCreditcard,
  loadDataset,
  type LoadOptions,
  locateDataset,
} from "../data/registry.ts";
import { creditcardSplits } from "../data/creditcard.ts";
import { parseNumericCsv } from "../data/csv.ts";
import { applyMinMax, fitMinMax, standardize } from "../data/scale.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const REPO = new URL("../", import.meta.url).pathname;

function idxBytes(dims: number[], values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + values.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(values, 4 + 4 * dims.length);
  return out;
}

/** Write a 3-image MNIST test split (pixel value = image index · 10 + 1) into `dir`. */
async function writeTinyMnistTest(dir: string, gz = true, labels = [7, 2, 1]): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const pixels = new Uint8Array(3 * 784);
  for (let n = 0; n < 3; n++) pixels.fill(n * 10 + 1, n * 784, (n + 1) * 784);
  const images = idxBytes([3, 28, 28], pixels);
  const labelBytes = idxBytes([3], labels);
  const suffix = gz ? ".gz" : "";
  await Deno.writeFile(`${dir}/t10k-images-idx3-ubyte${suffix}`, gz ? gzipSync(images) : images);
  await Deno.writeFile(
    `${dir}/t10k-labels-idx1-ubyte${suffix}`,
    gz ? gzipSync(labelBytes) : labelBytes,
  );
}

/**
 * Options that look only in `dataDir` then `cache`, so the tests do not depend on the caller's
 * $GENSEMBLE_DATA_DIR (the CLI tests below cover the environment variable).
 */
function isolated(dataDir: string, cache: string, extra: LoadOptions = {}): LoadOptions {
  const roots: DataRoot[] = [{ dir: dataDir, via: "--data_dir" }, { dir: cache, via: "cache" }];
  return { dataDir, cacheDir: cache, roots, ...extra };
}

async function withTempDirs(n: number, fn: (...dirs: string[]) => Promise<void>): Promise<void> {
  const dirs: string[] = [];
  for (let i = 0; i < n; i++) dirs.push(await Deno.makeTempDir({ prefix: "gensemble_reg_" }));
  try {
    await fn(...dirs);
  } finally {
    for (const d of dirs) await Deno.remove(d, { recursive: true });
  }
}

Deno.test("registry: loads a split from <data_dir>/<name>/ (gz) or flat raw files", async () => {
  await withTempDirs(2, async (root, cache) => {
    await writeTinyMnistTest(`${root}/mnist`);
    const ds = await loadDataset("mnist", "test", isolated(root, cache, { download: false }));
    assert.deepEqual(ds.shape, [3, 28, 28, 1]);
    assert.deepEqual(Array.from(ds.labels!), [7, 2, 1]);
    assert.equal(ds.x[0], Math.fround(1 / 255));
    assert.equal(ds.x[784 * 2 + 500], Math.fround(21 / 255));
    const limited = await loadDataset("mnist", "test", isolated(root, cache, { limit: 2 }));
    assert.deepEqual(limited.shape, [2, 28, 28, 1]);
    assert.deepEqual(Array.from(limited.labels!), [7, 2]);
    assert.equal(limited.x.length, 2 * 784);

    const flat = `${root}/flat`;
    await writeTinyMnistTest(flat, false, [4, 5, 6]);
    const ds2 = await loadDataset("mnist", "test", isolated(flat, cache, { download: false }));
    assert.deepEqual(Array.from(ds2.labels!), [4, 5, 6]);
  });
});

Deno.test("registry: --data_dir is searched before the cache, the cache is the fallback", async () => {
  await withTempDirs(2, async (dataDir, cache) => {
    await writeTinyMnistTest(`${dataDir}/mnist`, true, [1, 1, 1]);
    await writeTinyMnistTest(`${cache}/mnist`, true, [2, 2, 2]);
    const spec = getDatasetSpec("mnist");
    const first = await locateDataset(spec, "test", isolated(dataDir, cache, { download: false }));
    assert.equal(first.via, "--data_dir");
    assert.equal(first.paths[0], `${dataDir}/mnist/t10k-images-idx3-ubyte.gz`);
    const ds = await loadDataset("mnist", "test", isolated(dataDir, cache, { download: false }));
    assert.deepEqual(Array.from(ds.labels!), [1, 1, 1]);
    await Deno.remove(`${dataDir}/mnist`, { recursive: true });
    const second = await locateDataset(spec, "test", isolated(dataDir, cache, { download: false }));
    assert.equal(second.via, "cache");
    // The default roots: --data_dir first, the cache last ($GENSEMBLE_DATA_DIR, if set, between).
    const roots = dataRoots(dataDir, cache);
    assert.deepEqual(roots[0], { dir: dataDir, via: "--data_dir" });
    assert.deepEqual(roots[roots.length - 1], { dir: cache, via: "cache" });
  });
});

Deno.test("registry: a dataset missing offline is one error naming files and where to put them", async () => {
  await withTempDirs(2, async (dataDir, cache) => {
    await assert.rejects(
      () => loadDataset("svhn", "test", isolated(dataDir, cache, { download: false })),
      (err: unknown) => {
        assert.ok(err instanceof GensembleError);
        const m = err.message;
        assert.ok(!m.includes("\n"), m);
        assert.ok(m.includes("dataset 'svhn' not found"), m);
        assert.ok(m.includes("test_32x32.mat[.gz]"), m);
        assert.ok(m.includes(`in ${dataDir}/svhn/ (--data_dir)`), m);
        assert.ok(m.includes(`${cache}/svhn`), m);
        assert.ok(m.includes("downloads are off"), m);
        return true;
      },
    );
    // A failing network (as offline) reports the download problem in the same one line.
    const offline = () => Promise.reject(new TypeError("error sending request: dns error"));
    await assert.rejects(
      () => loadDataset("mnist", "train", isolated(dataDir, cache, { fetch: offline })),
      (err: unknown) => {
        assert.ok(err instanceof GensembleError);
        assert.ok(
          err.message.includes("train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]"),
        );
        assert.ok(err.message.includes("Download failed"), err.message);
        assert.ok(err.message.includes("dns error"), err.message);
        return true;
      },
    );
    await assert.rejects(() => loadDataset("omniglot", "train"), /has no 'train' split/);
    await assert.rejects(() => loadDataset("nope", "test"), /unknown dataset 'nope'/);
  });
});

Deno.test("download: sha256 is verified before anything is kept (local server)", async () => {
  const body = new TextEncoder().encode("dataset bytes");
  const tarGz = await Deno.readFile(`${FIXTURES}data_tiny.tar.gz`);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    if (new URL(req.url).pathname === "/a.tar.gz") return new Response(tarGz);
    return new URL(req.url).pathname === "/ok"
      ? new Response(body)
      : new Response("no", { status: 404 });
  });
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const good = await sha256Hex(body);
    assert.equal(good, "49a3c90c380643e66fcd0ce7cc4276b6802aef7fa33688b78ffe5cad85595503");
    assert.deepEqual(await fetchVerified(`${base}/ok`, good), body);
    await assert.rejects(
      () => fetchVerified(`${base}/ok`, "0".repeat(64)),
      /has sha256 .*expected 0{64}/,
    );
    await assert.rejects(() => fetchVerified(`${base}/missing`, good), /HTTP 404/);
    // An archive download is verified, then the wanted member is saved under its new name.
    await withTempDirs(1, async (dir) => {
      const extract = { "cifar-10-batches-bin/test_batch.bin": "test_batch.bin" };
      await downloadInto({ url: `${base}/a.tar.gz`, sha256: await sha256Hex(tarGz), extract }, dir);
      const saved = await Deno.readFile(`${dir}/test_batch.bin`);
      assert.equal(saved.length, 768);
      assert.equal(saved[767], 255);
      await downloadInto({ url: `${base}/ok`, sha256: good, saveAs: "x.bin" }, `${dir}/sub`);
      assert.deepEqual(await Deno.readFile(`${dir}/sub/x.bin`), body);
    });
  } finally {
    await server.shutdown();
  }
  // A registry download whose bytes do not match is refused and leaves the cache empty.
  await withTempDirs(2, async (dataDir, cache) => {
    const wrong = () => Promise.resolve(new Response(body));
    await assert.rejects(
      () => loadDataset("svhn", "test", isolated(dataDir, cache, { fetch: wrong })),
      (err: unknown) => {
        assert.ok(err instanceof GensembleError);
        assert.ok(err.message.includes("Download failed"), err.message);
        assert.ok(err.message.includes("expected cdce80df"), err.message);
        return true;
      },
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(cache)), []);
  });
  // Known vector: sha256("abc").
  assert.equal(
    await sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("download: untar reads Python-written ustar members (CIFAR archive layout)", async () => {
  const path = `${FIXTURES}data_tiny.tar.gz`;
  const members = untar(gunzipBytes(await Deno.readFile(path), path), path);
  assert.deepEqual([...members.keys()], [
    "cifar-10-batches-bin/readme.html",
    "cifar-10-batches-bin/test_batch.bin",
  ]);
  assert.equal(
    new TextDecoder().decode(members.get("cifar-10-batches-bin/readme.html")),
    "<p>hi</p>",
  );
  const bin = members.get("cifar-10-batches-bin/test_batch.bin")!;
  assert.equal(bin.length, 768);
  assert.equal(bin[300], 300 % 256);
});

Deno.test("scale: min-max fit on chosen rows, clipped apply; sample-std standardise", () => {
  const x = [0, 10, 2, 20, 4, 30, 8, 40]; // [4, 2]
  const s = fitMinMax(x, [4, 2], [0, 1, 2]);
  assert.deepEqual(Array.from(s.min), [0, 10]);
  assert.deepEqual(Array.from(s.max), [4, 30]);
  assert.deepEqual(Array.from(applyMinMax(x, [4, 2], s)), [0, 0, 0.5, 0.5, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(applyMinMax(x, [4, 2], s, false)).slice(6), [2, 1.5]);
  const v = standardize(Float64Array.from([1, 2, 3, 4]));
  const sd = Math.sqrt(5 / 3); // sample std of 1..4
  assert.deepEqual(Array.from(v), [-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd]);
});

Deno.test("creditcard: reference preprocessing and a seeded 492-style hold-out", async () => {
  // 6 normals, 2 frauds; V columns are all 0 except V1 = row index.
  const header = ["Time", ...Array.from({ length: 28 }, (_, i) => `V${i + 1}`), "Amount", "Class"];
  const rows = [
    [0, 0, 10, 0],
    [10, 1, 20, 0],
    [20, 2, 30, 1],
    [30, 3, 40, 0],
    [40, 4, 50, 0],
    [50, 5, 60, 0],
    [60, 6, 70, 1],
    [100, 7, 110, 0],
  ].map(([t, v1, amount, cls]) => [t, v1, ...new Array(27).fill(0), amount, cls]);
  const text = [header.map((h) => `"${h}"`).join(","), ...rows.map((r) => r.join(","))].join("\n");
  const table = parseNumericCsv(text, "cc.csv");
  const a = creditcardSplits(table, "cc.csv", 3);
  assert.deepEqual(a.train.shape, [4, 30]);
  assert.deepEqual(a.testNormal.shape, [2, 30]);
  assert.deepEqual(a.testAnomaly.shape, [2, 30]);
  assert.deepEqual(Array.from(a.testAnomaly.labels!), [1, 1]);
  // Frauds are rows 2 and 6. Time /100, V1 /7, Amount standardised then min-max = (a-10)/100.
  const fraud0 = a.testAnomaly.x.subarray(0, 30);
  assert.equal(fraud0[0], Math.fround(0.2));
  assert.equal(fraud0[1], Math.fround(2 / 7));
  assert.ok(Math.abs(fraud0[29] - 0.2) < 1e-6);
  assert.equal(fraud0[2], 0); // constant V2 maps to 0
  assert.ok(Math.abs(a.testAnomaly.x[30 + 29] - 0.6) < 1e-6);
  // Held-out and training normals partition the six normals (identified by V1).
  const v1 = (ds: typeof a.train) =>
    Array.from({ length: ds.shape[0] }, (_, i) => Math.round(ds.x[i * 30 + 1] * 7));
  assert.deepEqual([...v1(a.train), ...v1(a.testNormal)].sort(), [0, 1, 3, 4, 5, 7]);
  const b = creditcardSplits(table, "cc.csv", 3);
  assert.deepEqual(v1(b.testNormal), v1(a.testNormal)); // same seed, same split
  // Through the registry: "test" is the held-out normals then the frauds; "train" the rest.
  await withTempDirs(2, async (dataDir, cache) => {
    await Deno.mkdir(`${dataDir}/creditcard`);
    await Deno.writeFile(`${dataDir}/creditcard/creditcard.csv.gz`, gzipSync(text));
    const test = await loadDataset("creditcard", "test", isolated(dataDir, cache));
    assert.deepEqual(test.shape, [4, 30]);
    assert.deepEqual(Array.from(test.labels!), [0, 0, 1, 1]);
    const viaRegistry = await loadCreditcard(isolated(dataDir, cache));
    assert.equal(viaRegistry.train.shape[0], 4);
    assert.deepEqual(viaRegistry.testAnomaly.x, a.testAnomaly.x);
  });
  const missing = parseNumericCsv("Time,V1,Amount,Class\n0,1,2,0\n", "short.csv");
  assert.throws(() => creditcardSplits(missing, "short.csv"), /short\.csv: missing column 'V2'/);
});

const realDataDir = Deno.env.get("GENSEMBLE_DATA_DIR");
const hasRealMnist = realDataDir !== undefined &&
  (await Deno.stat(`${realDataDir}/mnist`).then(() => true, () => false));

Deno.test({
  name: "real MNIST test split from $GENSEMBLE_DATA_DIR: 10000 images, canonical labels",
  ignore: !hasRealMnist,
  fn: async () => {
    const ds = await loadDataset("mnist", "test", { download: false });
    assert.deepEqual(ds.shape, [10000, 28, 28, 1]);
    assert.deepEqual(Array.from(ds.labels!.subarray(0, 10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    let sum = 0;
    for (const v of ds.x) sum += v;
    assert.ok(Math.abs((sum / ds.x.length) * 255 - 33.7912) < 1e-3);
  },
});

async function runDatasetsCli(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${REPO}tasks/datasets.ts`, ...args],
    // Keep the parent's environment (Deno's own cache lives under HOME); override ours only.
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", GENSEMBLE_DATA_DIR: "", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("datasets CLI: user errors exit 1 with one line and no stack trace", async () => {
  await withTempDirs(1, async (empty) => {
    const env = { GENSEMBLE_CACHE_DIR: `${empty}/cache` };
    const bad = await runDatasetsCli(["--data_dir", `${empty}/nope`], env);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim(), `error: --data_dir ${empty}/nope: no such directory`);
    await Deno.mkdir(`${empty}/mnist`);
    await Deno.writeFile(`${empty}/mnist/t10k-images-idx3-ubyte`, new Uint8Array([9, 9, 9, 9, 9]));
    await Deno.writeFile(`${empty}/mnist/t10k-labels-idx1-ubyte`, idxBytes([1], [0]));
    const broken = await runDatasetsCli(["--data_dir", empty], env);
    assert.equal(broken.code, 1);
    assert.ok(broken.stdout.includes("wrong magic number 0x09090909"), broken.stdout);
    assert.equal(broken.stderr.trim(), "error: 1 dataset(s) could not be read (see above)");
    assert.ok(!/\n\s+at /.test(broken.stderr), "no stack trace");
  });
});

Deno.test("datasets CLI: lists found and missing datasets with counts and checksums", async () => {
  await withTempDirs(2, async (dataDir, cache) => {
    await writeTinyMnistTest(`${dataDir}/mnist`);
    const { code, stdout } = await runDatasetsCli([], {
      GENSEMBLE_DATA_DIR: dataDir,
      GENSEMBLE_CACHE_DIR: cache,
    });
    assert.equal(code, 0, stdout);
    const mnist = stdout.split("\n").find((l) => l.startsWith("mnist "))!;
    assert.match(mnist, /^mnist\s+partial\s+-\s+3\s+mismatch\s+/);
    assert.ok(mnist.includes(`${dataDir}/mnist ($GENSEMBLE_DATA_DIR)`), mnist);
    assert.match(stdout, /^svhn\s+missing/m);
    assert.ok(stdout.includes(`lookup order: ${dataDir} ($GENSEMBLE_DATA_DIR), ${cache} (cache)`));
    assert.ok(stdout.includes("missing: mnist, fashion_mnist, cifar10, svhn"), stdout);
    assert.ok(
      stdout.includes(
        `put train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz] in ${dataDir}/mnist/`,
      ),
    );
  });
});
