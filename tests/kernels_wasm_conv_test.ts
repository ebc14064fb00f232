/**
 * The kernels kernels/register.ts adds to the wasm backend, against the cpu backend:
 * Conv2DBackpropFilter (strides 1 and 2, SAME, VALID and explicit pads, odd sizes, NCHW), the
 * gradients of a tiny conv net (conv2d, fused conv2d with bias and activation, conv2dTranspose)
 * via tf.variableGrads, and UnsortedSegmentSum (the gradient of tf.gather). All within 1e-4
 * relative to the largest entry. The cpu backend is slow here, so the shapes are small.
 */
import assert from "node:assert/strict";
import { tf } from "../deps.ts";
import { Rng } from "../core/rng.ts";
import "../kernels/register.ts";

// PROD silences tfjs's "install tfjs-node" banner, which does not apply to Deno.
tf.env().set("PROD", true);
await tf.ready();

/** Evaluate `f` on `backend` with fresh tensors made from `inputs`; returns plain arrays. */
async function on(
  backend: "cpu" | "wasm",
  inputs: Array<{ values: Float32Array | Int32Array; shape: number[] }>,
  f: (...xs: tf.Tensor[]) => tf.Tensor[],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() =>
    f(...inputs.map((x) =>
      tf.tensor(x.values, x.shape, x.values instanceof Int32Array ? "int32" : "float32")
    ))
  );
  const values = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outs);
  return values;
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= 1e-4 * scale,
      `${what}[${i}]: ${actual[i]} vs ${expected[i]} (scale ${scale})`,
    );
  }
}

function random(rng: Rng, shape: number[]) {
  const size = shape.reduce((a, b) => a * b, 1);
  return { values: Float32Array.from({ length: size }, () => rng.normal()), shape };
}

type Pad = "same" | "valid" | number | [
  [number, number],
  [number, number],
  [number, number],
  [number, number],
];

Deno.test("wasm Conv2DBackpropFilter equals cpu: strides 1, 2, SAME, VALID, explicit, odd sizes", async () => {
  assert.ok(tf.getKernel("Conv2DBackpropFilter", "wasm"), "registered for wasm");
  const rng = new Rng(1);
  const cases: Array<[number[], number[], number | [number, number], Pad]> = [
    [[2, 7, 7, 3], [5, 5, 3, 4], 1, "same"],
    [[2, 7, 7, 3], [5, 5, 3, 4], 1, "valid"],
    [[2, 7, 7, 3], [5, 5, 3, 4], 2, "same"],
    [[2, 7, 7, 3], [5, 5, 3, 4], 2, "valid"],
    [[2, 8, 8, 3], [5, 5, 3, 4], 2, "same"],
    [[1, 9, 6, 2], [3, 2, 2, 3], [2, 1], "same"],
    [[2, 7, 7, 3], [3, 3, 3, 4], 2, 1],
    [[1, 6, 7, 2], [3, 3, 2, 2], 1, [[0, 0], [2, 0], [1, 3], [0, 0]]],
  ];
  for (const [xShape, filterShape, strides, pad] of cases) {
    const info = tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      strides,
      1,
      pad,
    );
    const dyShape = [xShape[0], info.outHeight, info.outWidth, filterShape[3]];
    const inputs = [random(rng, xShape), random(rng, dyShape)];
    const kernel = (x: tf.Tensor, dy: tf.Tensor) => [
      tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
        strides,
        pad,
        dataFormat: "NHWC",
        filterShape,
      }) as tf.Tensor,
    ];
    const [want] = await on("cpu", inputs, kernel);
    const [got] = await on("wasm", inputs, kernel);
    assertClose(
      got,
      want,
      `dW x [${xShape}] f [${filterShape}] s ${strides} ${JSON.stringify(pad)}`,
    );
  }
});

Deno.test("wasm Conv2DBackpropFilter: NCHW via transposes equals NHWC", async () => {
  const rng = new Rng(2);
  const inputs = [random(rng, [2, 7, 7, 3]), random(rng, [2, 4, 4, 4])];
  const attrs = { strides: 2, pad: "same", filterShape: [5, 5, 3, 4] };
  const [nhwc] = await on("wasm", inputs, (x, dy) => [
    tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
      ...attrs,
      dataFormat: "NHWC",
    }) as tf.Tensor,
  ]);
  const [nchw] = await on("wasm", inputs, (x, dy) => [
    tf.engine().runKernel("Conv2DBackpropFilter", {
      x: tf.transpose(x, [0, 3, 1, 2]),
      dy: tf.transpose(dy, [0, 3, 1, 2]),
    }, { ...attrs, dataFormat: "NCHW" }) as tf.Tensor,
  ]);
  assertClose(nchw, nhwc, "NCHW dW");
});

Deno.test("a tiny conv net's variableGrads on wasm equal cpu (conv, fused conv, conv2dTranspose)", async () => {
  const rng = new Rng(3);
  const shapes = {
    x: [2, 9, 9, 2],
    w1: [3, 3, 2, 4], // conv 3×3 stride 1 SAME
    w2: [5, 5, 4, 3], // fused conv 5×5 stride 2 SAME + bias + leaky ReLU
    b2: [3],
    w3: [3, 3, 2, 3], // conv2dTranspose 3×3 stride 2 SAME: [k, k, out, in]
    w4: [3, 3, 2, 1], // conv 3×3 stride 2 VALID
  };
  const inputs = Object.values(shapes).map((s) => random(rng, s));
  const net = (
    x: tf.Tensor,
    w1: tf.Tensor,
    w2: tf.Tensor,
    b2: tf.Tensor,
    w3: tf.Tensor,
    w4: tf.Tensor,
  ) => {
    const vars = [w1, w2, b2, w3, w4].map((t, i) => tf.variable(t, true, `tiny_conv/v${i}`));
    const { value, grads } = tf.variableGrads(() => {
      let h = tf.relu(tf.conv2d(x as tf.Tensor4D, vars[0] as tf.Tensor4D, 1, "same"));
      h = tf.fused.conv2d({
        x: h as tf.Tensor4D,
        filter: vars[1] as tf.Tensor4D,
        strides: 2,
        pad: "same",
        bias: vars[2],
        activation: "leakyrelu",
        leakyreluAlpha: 0.2,
      });
      h = tf.conv2dTranspose(h as tf.Tensor4D, vars[3] as tf.Tensor4D, [2, 10, 10, 2], 2, "same");
      h = tf.conv2d(h as tf.Tensor4D, vars[4] as tf.Tensor4D, 2, "valid");
      return tf.sum(tf.square(h)) as tf.Scalar;
    }, vars);
    const out = [value, ...vars.map((v) => grads[v.name])];
    vars.forEach((v) => v.dispose());
    return out;
  };
  const want = await on("cpu", inputs, net);
  const got = await on("wasm", inputs, net);
  ["loss", "w1", "w2", "b2", "w3", "w4"].forEach((name, i) => assertClose(got[i], want[i], name));
});

Deno.test("wasm UnsortedSegmentSum equals cpu, so tf.gather trains on wasm", async () => {
  assert.ok(tf.getKernel("UnsortedSegmentSum", "wasm"), "registered for wasm");
  const rng = new Rng(4);
  const x = random(rng, [6, 2, 3]);
  const ids = { values: Int32Array.from([2, 0, -1, 2, 7, 1]), shape: [6] }; // −1, 7 dropped
  const sums = (t: tf.Tensor, s: tf.Tensor) => [tf.unsortedSegmentSum(t, s as tf.Tensor1D, 4)];
  assertClose((await on("wasm", [x, ids], sums))[0], (await on("cpu", [x, ids], sums))[0], "sums");
  // The gradient of gather (with repeated indices) w.r.t. its params.
  const idx = { values: Int32Array.from([3, 0, 3, 1]), shape: [4] };
  const params = random(rng, [5, 3]);
  const gatherGrad = (p: tf.Tensor, i: tf.Tensor) => [
    tf.grad((q: tf.Tensor) => tf.sum(tf.square(tf.gather(q, i as tf.Tensor1D))))(p),
  ];
  const want = await on("cpu", [params, idx], gatherGrad);
  assertClose((await on("wasm", [params, idx], gatherGrad))[0], want[0], "gather grad");
});
