/**
 * Conv encoder/decoder (cpu backend, where every conv gradient exists): the matMul and
 * flipped-kernel shortcuts equal the reference's conv2d / conv2dTranspose stack for 28×28×1 and
 * 32×32×3, the gradient matches finite differences, and a conv VAE member trains without leaks.
 */
import assert from "node:assert/strict";
import { tf } from "../deps.ts";
import { initBackend } from "../core/backend.ts";
import { LEAKY_SLOPE, makeDecoder, makeEncoder, type NetworkOptions } from "../models/networks.ts";
import { ParamStore } from "../models/params.ts";
import { defaultVaeConfig, VaeMember } from "../models/vae.ts";

await initBackend("cpu", { quiet: true });

const leaky = (t: tf.Tensor) => tf.leakyRelu(t, LEAKY_SLOPE);

/** The reference stack written with stock conv2d / conv2dTranspose on the same weights. */
function referenceDecoder(p: ParamStore, z: tf.Tensor2D, size: number, b: number): tf.Tensor {
  return tf.tidy(() => {
    const k = size / 4;
    const n = z.shape[0];
    const w = (name: string) => p.get(`decoder/${name}/kernel`) as tf.Tensor4D;
    const bias = (name: string) => p.get(`decoder/${name}/bias`);
    const z4 = tf.reshape(z, [n, 1, 1, z.shape[1]]) as tf.Tensor4D;
    let h = leaky(
      tf.add(tf.conv2dTranspose(z4, w("deconv0"), [n, k, k, 2 * b], 1, "valid"), bias("deconv0")),
    ) as tf.Tensor4D;
    const layers: Array<[string, number, number]> = [
      ["deconv1", 2 * b, 1],
      ["deconv2", 2 * b, 2],
      ["deconv3", b, 1],
      ["deconv4", b, 2],
      ["deconv5", b, 1],
    ];
    for (const [name, c, s] of layers) {
      const [hh, ww] = [h.shape[1] * s, h.shape[2] * s];
      h = leaky(
        tf.add(tf.conv2dTranspose(h, w(name), [n, hh, ww, c], s, "same"), bias(name)),
      ) as tf.Tensor4D;
    }
    const out = tf.add(tf.conv2d(h, w("conv_out"), 1, "same"), bias("conv_out"));
    return tf.reshape(out, [n, -1]);
  });
}

function referenceEncoder(p: ParamStore, x: tf.Tensor, size: number, c: number): tf.Tensor {
  return tf.tidy(() => {
    const w = (name: string) => p.get(`encoder/${name}/kernel`);
    const bias = (name: string) => p.get(`encoder/${name}/bias`);
    let h = tf.sub(tf.mul(tf.reshape(x, [-1, size, size, c]), 2), 1) as tf.Tensor4D;
    for (const [i, s] of [[0, 1], [1, 2], [2, 1], [3, 2]]) {
      h = leaky(
        tf.add(tf.conv2d(h, w(`conv${i}`) as tf.Tensor4D, s as 1 | 2, "same"), bias(`conv${i}`)),
      ) as tf.Tensor4D;
    }
    const k = size / 4;
    const kernel = tf.reshape(w("conv4"), [k, k, h.shape[3], -1]) as tf.Tensor4D;
    const v = leaky(tf.add(tf.conv2d(h, kernel, 1, "valid"), bias("conv4")));
    return tf.add(
      tf.matMul(tf.reshape(v, [h.shape[0], -1]), w("head") as tf.Tensor2D),
      bias("head"),
    );
  });
}

for (const shape of [[28, 28, 1], [32, 32, 3]]) {
  Deno.test(`conv encoder/decoder equal the reference conv stack for ${shape.join("×")}`, () => {
    const opts: NetworkOptions = {
      arch: "conv",
      inputShape: shape,
      latentSize: 3,
      baseDepth: 4,
      denseHidden: [],
      scaleInput: true,
      seed: 2,
    };
    const params = new ParamStore();
    const enc = makeEncoder(params, opts);
    const dec = makeDecoder(params, opts);
    for (const v of params.variables) {
      if (v.rank === 1) v.assign(tf.tidy(() => tf.randomNormal(v.shape, 0, 0.1, "float32", 1)));
    }
    const x = tf.randomUniform([2, ...shape], 0, 1, "float32", 3);
    const z = tf.randomNormal([2, 3], 0, 1, "float32", 4) as tf.Tensor2D;
    const e = enc.apply(x), eRef = referenceEncoder(params, x, shape[0], shape[2]);
    const d = dec.apply(z), dRef = referenceDecoder(params, z, shape[0], 4);
    assert.deepEqual(e.shape, [2, 6]);
    assert.deepEqual(d.shape, [2, shape[0] * shape[1] * shape[2]]);
    const gap = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
    assert.ok(gap(e, eRef) < 1e-5, `encoder gap ${gap(e, eRef)}`);
    assert.ok(gap(d, dRef) < 1e-5, `decoder gap ${gap(d, dRef)}`);
    tf.dispose([x, z, e, eRef, d, dRef]);
    params.dispose();
  });
}

Deno.test("conv decoder weight gradients match finite differences", () => {
  const opts: NetworkOptions = {
    arch: "conv",
    inputShape: [28, 28, 1],
    latentSize: 2,
    baseDepth: 2,
    denseHidden: [],
    scaleInput: true,
    seed: 5,
  };
  const params = new ParamStore();
  const dec = makeDecoder(params, opts);
  const z = tf.randomNormal([2, 2], 0, 1, "float32", 6) as tf.Tensor2D;
  const r = tf.randomNormal([2, 784], 0, 1, "float32", 7);
  const loss = () => tf.sum(tf.mul(dec.apply(z), r)) as tf.Scalar;
  const { grads } = tf.variableGrads(loss, params.variables);
  for (
    const name of ["decoder/deconv1/kernel", "decoder/deconv2/kernel", "decoder/deconv0/kernel"]
  ) {
    const v = params.get(name);
    const g = grads[v.name].dataSync();
    const values = v.dataSync().slice();
    for (const i of [0, Math.floor(values.length / 2), values.length - 1]) {
      const h = 1e-2;
      const at = (delta: number) => {
        const moved = values.slice();
        moved[i] += delta;
        v.assign(tf.tensor(moved, v.shape));
        return tf.tidy(() => loss().dataSync()[0]);
      };
      const fd = (at(h) - at(-h)) / (2 * h);
      v.assign(tf.tensor(values, v.shape));
      assert.ok(
        Math.abs(fd - g[i]) < 2e-2 * Math.max(1, Math.abs(fd)),
        `${name}[${i}]: ${fd} vs ${g[i]}`,
      );
    }
  }
  tf.dispose([z, r, ...Object.values(grads)]);
  params.dispose();
});

Deno.test("a conv VAE member trains on cpu without leaking tensors", () => {
  const member = new VaeMember(
    defaultVaeConfig({ baseDepth: 4, nSamples: 2, flowHidden: [16, 16], nFlows: 2, seed: 8 }),
  );
  const x = tf.randomUniform([2, 28, 28, 1], 0, 1, "float32", 9);
  const before = member.params.get("decoder/deconv4/kernel").dataSync().slice();
  const first = member.trainStep(x, 0);
  const count = tf.memory().numTensors;
  const second = member.trainStep(x, 1);
  member.trainStep(x, 2);
  assert.equal(tf.memory().numTensors, count);
  assert.ok(Number.isFinite(first.loss) && Number.isFinite(second.loss));
  assert.notDeepEqual(member.params.get("decoder/deconv4/kernel").dataSync(), before);
  const s = member.score(x, 2);
  assert.equal(s.logLik.length, 2);
  assert.ok(s.logLik.every(Number.isFinite));
  x.dispose();
  member.dispose();
});
