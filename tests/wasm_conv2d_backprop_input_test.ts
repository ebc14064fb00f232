/**
 * The composed Conv2DBackpropInput (kernels/wasm_conv2d_backprop_input.ts) against the cpu
 * backend's kernel: conv2dTranspose outputs and conv2d input gradients, strides 1 and 2,
 * SAME and VALID, odd sizes, NHWC and NCHW; then the registered wasm kernel end to end.
 */
import assert from "node:assert/strict";
import { tf } from "../deps.ts";
import { initBackend } from "../core/backend.ts";
import { conv2dBackpropInputComposed } from "../kernels/wasm_conv2d_backprop_input.ts";

const cases: Array<
  { x: [number, number, number, number]; k: number; s: number; pad: "same" | "valid" }
> = [
  { x: [2, 7, 7, 3], k: 5, s: 1, pad: "same" },
  { x: [2, 14, 14, 4], k: 5, s: 2, pad: "same" },
  { x: [1, 9, 11, 2], k: 3, s: 2, pad: "same" },
  { x: [1, 9, 8, 3], k: 4, s: 2, pad: "valid" },
  { x: [3, 7, 7, 2], k: 7, s: 1, pad: "valid" },
  { x: [1, 10, 10, 2], k: 5, s: 3, pad: "same" },
];

/** The conv2d input gradient computed by the active backend's Conv2DBackpropInput kernel. */
function backendDx(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  dy: tf.Tensor4D,
  s: number,
  pad: "same" | "valid",
) {
  return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(t as tf.Tensor4D, w, s, pad), dy)))(x);
}

Deno.test("composed backprop-input equals the cpu kernel for strides 1–3, SAME/VALID, odd sizes", async () => {
  await initBackend("cpu", { quiet: true });
  for (const { x: shape, k, s, pad } of cases) {
    tf.tidy(() => {
      const x = tf.randomNormal(shape, 0, 1, "float32", 1) as tf.Tensor4D;
      const w = tf.randomNormal([k, k, shape[3], 5], 0, 1, "float32", 2) as tf.Tensor4D;
      const y = tf.conv2d(x, w, s, pad);
      const dy = tf.randomNormal(y.shape, 0, 1, "float32", 3) as tf.Tensor4D;
      const expected = backendDx(x, w, dy, s, pad);
      const got = conv2dBackpropInputComposed(dy, w, {
        strides: s,
        pad,
        dataFormat: "NHWC",
        inputShape: shape,
      });
      assert.deepEqual(got.shape, shape);
      const gap = tf.max(tf.abs(tf.sub(got, expected))).dataSync()[0];
      assert.ok(gap < 1e-3, `${JSON.stringify({ shape, k, s, pad })}: gap ${gap}`);
      // NCHW: same numbers with the axes moved.
      const nchw = conv2dBackpropInputComposed(tf.transpose(dy, [0, 3, 1, 2]), w, {
        strides: s,
        pad,
        dataFormat: "NCHW",
        inputShape: [shape[0], shape[3], shape[1], shape[2]],
      });
      const gapNchw = tf.max(tf.abs(tf.sub(tf.transpose(nchw, [0, 2, 3, 1]), expected)))
        .dataSync()[0];
      assert.ok(gapNchw < 1e-3, `NCHW gap ${gapNchw}`);
    });
  }
});

Deno.test("on wasm, conv2dTranspose and conv2d input gradients use it and agree with cpu", async () => {
  const shape: [number, number, number, number] = [2, 7, 7, 4];
  const run = () =>
    tf.tidy(() => {
      const x = tf.randomNormal(shape, 0, 1, "float32", 5) as tf.Tensor4D;
      const w = tf.randomNormal([5, 5, 3, 4], 0, 0.3, "float32", 6) as tf.Tensor4D; // [k,k,out,in]
      const up = tf.conv2dTranspose(x, w, [2, 14, 14, 3], 2, "same");
      const w2 = tf.randomNormal([5, 5, 3, 3], 0, 0.3, "float32", 7) as tf.Tensor4D;
      const dx = tf.grad((t: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(t as tf.Tensor4D, w2, 1, "same")))
      )(
        up,
      );
      return [up.arraySync(), dx.arraySync()] as number[][][][][];
    });
  await initBackend("cpu", { quiet: true });
  const cpu = run();
  await initBackend("wasm", { quiet: true });
  // The stock wasm kernel has a setup function (it binds a C++ export); the composed one has none.
  assert.equal(tf.getKernel("Conv2DBackpropInput", "wasm")?.setupFunc, undefined);
  const wasm = run();
  for (let i = 0; i < 2; i++) {
    const a = cpu[i].flat(3), b = wasm[i].flat(3);
    const gap = Math.max(...a.map((v, j) => Math.abs(v - b[j])));
    assert.ok(gap < 1e-3, `output ${i}: gap ${gap}`);
  }
});
