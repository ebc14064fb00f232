/**
 * OoD set builders: seeded noise in [0, 1], exact flips of a hand-made image set, and users' own
 * files (NPY, IDX, CSV) with the shape check against the training data.
 */

import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { GensembleError } from "../core/errors.ts";
import { buildOodSet, loadUserOodSet } from "../data/ood_sets.ts";
import { encodeNpy } from "../data/npy.ts";
import type { Dataset } from "../data/types.ts";

/** Two 2×3 single-channel images: pixel (i, j) of image n is (10n + 3i + j) / 100. */
function tinyImages(): Dataset {
  const x = new Float32Array(12);
  for (let n = 0; n < 2; n++) {
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) x[n * 6 + i * 3 + j] = (10 * n + 3 * i + j) / 100;
    }
  }
  return { name: "tiny", x, shape: [2, 2, 3, 1], labels: Int32Array.from([4, 9]) };
}

const f = (values: number[]) => values.map((v) => Math.fround(v / 100));

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gensemble_ood_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("hflip mirrors columns, vflip mirrors rows, labels follow", () => {
  const h = buildOodSet("hflip", tinyImages(), 5, 0); // n ≥ N: every image, in order
  assert.deepEqual(h.shape, [2, 2, 3, 1]);
  assert.deepEqual(Array.from(h.x), f([2, 1, 0, 5, 4, 3, 12, 11, 10, 15, 14, 13]));
  assert.deepEqual(Array.from(h.labels!), [4, 9]);
  const v = buildOodSet("vflip", tinyImages(), 2, 0);
  assert.deepEqual(Array.from(v.x), f([3, 4, 5, 0, 1, 2, 13, 14, 15, 10, 11, 12]));
  const one = buildOodSet("vflip", tinyImages(), 1, 7);
  assert.equal(one.shape[0], 1);
  const which = one.labels![0] === 4 ? 0 : 1;
  assert.deepEqual(Array.from(one.x), Array.from(v.x.subarray(which * 6, which * 6 + 6)));
  const tab: Dataset = { name: "t", x: new Float32Array(6), shape: [2, 3] };
  assert.throws(() => buildOodSet("hflip", tab, 2, 0), /flips need images \[N, H, W, C\]/);
});

Deno.test("uniform and clipped normal noise: shape, range, moments, seeded", () => {
  const inTest: Dataset = { name: "m", x: new Float32Array(4 * 784), shape: [4, 28, 28, 1] };
  const u = buildOodSet("uniform_noise", inTest, 200, 1);
  assert.deepEqual(u.shape, [200, 28, 28, 1]);
  let sum = 0;
  for (const x of u.x) {
    assert.ok(x >= 0 && x < 1);
    sum += x;
  }
  assert.ok(Math.abs(sum / u.x.length - 0.5) < 0.005); // 156,800 draws: std of mean ≈ 0.0007
  assert.deepEqual(buildOodSet("uniform_noise", inTest, 200, 1).x, u.x);
  assert.notDeepEqual(
    buildOodSet("uniform_noise", inTest, 200, 2).x.subarray(0, 10),
    u.x.subarray(0, 10),
  );

  const g = buildOodSet("normal_noise", inTest, 200, 1);
  let zeros = 0, ones = 0;
  for (const x of g.x) {
    assert.ok(x >= 0 && x <= 1);
    if (x === 0) zeros++;
    if (x === 1) ones++;
  }
  // P(Z ≤ 0) = 0.5 and P(Z ≥ 1) = 0.1587 for Z ~ N(0, 1).
  assert.ok(Math.abs(zeros / g.x.length - 0.5) < 0.005);
  assert.ok(Math.abs(ones / g.x.length - 0.1587) < 0.005);
  assert.throws(() => buildOodSet("uniform_noise", inTest, 0, 1), GensembleError);
});

Deno.test("user OoD files: NPY [N,H,W] uint8, IDX .gz and flat CSV become [N,H,W,1] in [0,1]", async () => {
  await withTempDir(async (dir) => {
    const pixels = Uint8Array.from({ length: 2 * 6 }, (_, i) => i * 20); // 2 images 2×3
    await Deno.writeFile(`${dir}/a.npy`, encodeNpy(pixels, [2, 2, 3]));
    const a = await loadUserOodSet("mine", `${dir}/a.npy`, [2, 3, 1]);
    assert.equal(a.name, "mine");
    assert.deepEqual(a.shape, [2, 2, 3, 1]);
    assert.deepEqual(Array.from(a.x), Array.from(pixels, (p) => Math.fround(p / 255)));

    const idx = new Uint8Array(16 + 12);
    idx.set([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3]);
    idx.set(pixels, 16);
    await Deno.writeFile(`${dir}/b-idx3-ubyte.gz`, gzipSync(idx));
    const b = await loadUserOodSet("b", `${dir}/b-idx3-ubyte.gz`, [2, 3, 1]);
    assert.deepEqual(b.x, a.x);

    const header = "p0,p1,p2,p3,p4,p5,label";
    await Deno.writeTextFile(`${dir}/c.csv`, `${header}\n0,0.5,1,0,0,0.25,3\n1,1,1,1,1,1,8\n`);
    const c = await loadUserOodSet("c", `${dir}/c.csv`, [2, 3, 1]);
    assert.deepEqual(c.shape, [2, 2, 3, 1]);
    assert.deepEqual(Array.from(c.x.subarray(0, 6)), [0, 0.5, 1, 0, 0, 0.25]);
    assert.deepEqual(Array.from(c.labels!), [3, 8]);
  });
});

Deno.test("user OoD files: tabular CSV keeps features, drops the Class column", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/t.csv`, "a,b,Class\n0.1,0.2,1\n0.3,0.4,0\n");
    const t = await loadUserOodSet("t", `${dir}/t.csv`, [2]);
    assert.deepEqual(t.shape, [2, 2]);
    assert.deepEqual(Array.from(t.x), [0.1, 0.2, 0.3, 0.4].map(Math.fround));
    assert.deepEqual(t.featureNames, ["a", "b"]);
    assert.deepEqual(Array.from(t.labels!), [1, 0]);
  });
});

Deno.test("user OoD files: wrong shape, out-of-range floats, NaN and unknown formats", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(
      `${dir}/rgb.npy`,
      encodeNpy(new Uint8Array(2 * 32 * 32 * 3), [2, 32, 32, 3]),
    );
    await assert.rejects(
      () => loadUserOodSet("rgb", `${dir}/rgb.npy`, [28, 28, 1]),
      (err: unknown) => {
        assert.ok(err instanceof GensembleError);
        assert.equal(
          err.message,
          `${dir}/rgb.npy: examples have shape [32, 32, 3] (file shape [2, 32, 32, 3]) but the ` +
            `training data's examples are [28, 28, 1]`,
        );
        return true;
      },
    );
    await Deno.writeTextFile(`${dir}/narrow.csv`, "a,label\n1,0\n");
    await assert.rejects(
      () => loadUserOodSet("n", `${dir}/narrow.csv`, [30]),
      /narrow\.csv: examples have shape \[1\] .* are \[30\]/,
    );
    await Deno.writeFile(`${dir}/big.npy`, encodeNpy(Float32Array.from([0, 255, 3, 4]), [1, 2, 2]));
    await assert.rejects(
      () => loadUserOodSet("big", `${dir}/big.npy`, [2, 2, 1]),
      /big\.npy: float pixel value 255 at flat index 1 is outside \[0, 1\]/,
    );
    await Deno.writeFile(`${dir}/nan.npy`, encodeNpy(Float32Array.from([0, NaN]), [1, 2]));
    await assert.rejects(
      () => loadUserOodSet("nan", `${dir}/nan.npy`, [2]),
      /nan\.npy: NaN value at element \[0, 1\]/,
    );
    await Deno.writeTextFile(`${dir}/x.txt`, "hello");
    await assert.rejects(
      () => loadUserOodSet("x", `${dir}/x.txt`, [2]),
      /x\.txt: not an NPY or IDX file/,
    );
  });
});
