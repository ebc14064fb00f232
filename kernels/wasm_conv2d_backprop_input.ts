/**
 * A fast `Conv2DBackpropInput` for the wasm backend. tfjs-backend-wasm ships one, but it is a
 * plain loop outside XNNPACK: on this machine it took 85 ms per call in a small conv VAE step
 * where the equivalent conv2d takes ~7 ms. This kernel runs every conv2d input gradient and every
 * conv2dTranspose (the VAE decoder, the WGAN generator) on wasm.
 *
 * The input gradient of a convolution is a stride-1 convolution of the stride-dilated upstream
 * gradient with the flipped filter (channel axes swapped):
 *   dx[b, o, c] = Σ_{i, t : s·i + t − pad = o} dy[b, i, :] · W[t, c, :]
 *               = VALID conv2d( pad(dilate_s(dy)), reverse(W)ᵀ )[b, o, c].
 * Zero insertion wastes 1 − 1/s² of the multiply-adds at stride s > 1, yet XNNPACK still beats the
 * stock loop several times over. NHWC and NCHW (by transposing); dilation is always 1 here.
 * Import for the side effect: it replaces the stock wasm kernel (once).
 */
import { tf } from "../deps.ts";

interface BackpropInputAttrs {
  strides: [number, number] | number;
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
  inputShape: [number, number, number, number];
}

/** Insert s − 1 zeros between the rows (and columns) of x [B, H, W, C]: [B, (H−1)s+1, …]. */
function dilate(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [b, h, w, c] = x.shape;
  const spread = tf.pad(tf.reshape(x, [b, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  const full = tf.reshape(spread, [b, h * sh, w * sw, c]);
  return tf.slice(full, [0, 0, 0, 0], [b, (h - 1) * sh + 1, (w - 1) * sw + 1, c]) as tf.Tensor4D;
}

/** Pad (negative = crop) the two spatial axes of x [B, H, W, C]. */
function padSpatial(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number) {
  const [b, h, w, c] = x.shape;
  const cropped = tf.slice(
    x,
    [0, Math.max(-top, 0), Math.max(-left, 0), 0],
    [
      b,
      h - Math.max(-top, 0) - Math.max(-bottom, 0),
      w - Math.max(-left, 0) - Math.max(-right, 0),
      c,
    ],
  );
  return tf.pad(cropped, [
    [0, 0],
    [Math.max(top, 0), Math.max(bottom, 0)],
    [Math.max(left, 0), Math.max(right, 0)],
    [0, 0],
  ]) as tf.Tensor4D;
}

/**
 * dx of a conv2d with input shape `inputShape`, from dy and the filter [fh, fw, C, OC],
 * composed of pad, reshape, reverse, transpose and a stride-1 conv2d.
 *
 * @example
 * ```ts
 * const dx = conv2dBackpropInputComposed(dy, filter, {
 *   strides: 2, pad: "same", dataFormat: "NHWC", inputShape: [1, 28, 28, 32] });
 * ```
 */
export function conv2dBackpropInputComposed(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  attrs: BackpropInputAttrs,
): tf.Tensor4D {
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  return tf.tidy(() => {
    const channelsFirst = dataFormat === "NCHW";
    const xShape = (channelsFirst
      ? [inputShape[0], inputShape[2], inputShape[3], inputShape[1]]
      : inputShape) as [number, number, number, number];
    const dys = (channelsFirst ? tf.transpose(dy, [0, 2, 3, 1]) : dy) as tf.Tensor4D;
    const info = tf.backend_util.computeConv2DInfo(
      xShape,
      filter.shape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      "channelsLast",
    );
    const [, height, width] = xShape;
    const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
    const dilated = dilate(dys, strideHeight, strideWidth);
    const top = filterHeight - 1 - info.padInfo.top;
    const left = filterWidth - 1 - info.padInfo.left;
    const bottom = height + filterHeight - 1 - dilated.shape[1] - top;
    const right = width + filterWidth - 1 - dilated.shape[2] - left;
    const padded = padSpatial(dilated, top, bottom, left, right);
    const flipped = tf.reverse(tf.transpose(filter, [0, 1, 3, 2]), [0, 1]) as tf.Tensor4D;
    const dx = tf.conv2d(padded, flipped, 1, "valid"); // [B, H, W, C]
    return (channelsFirst ? tf.transpose(dx, [0, 3, 1, 2]) : dx) as tf.Tensor4D;
  });
}

const REGISTERED = Symbol.for("gensemble.wasmConv2dBackpropInput");
// deno-lint-ignore no-explicit-any
const registry = globalThis as any;
if (!registry[REGISTERED]) {
  registry[REGISTERED] = true;
  if (tf.getKernel("Conv2DBackpropInput", "wasm")) {
    tf.unregisterKernel("Conv2DBackpropInput", "wasm");
  }
  tf.registerKernel({
    kernelName: "Conv2DBackpropInput",
    backendName: "wasm",
    // Composed of tensor ops: nested ops run as ordinary wasm kernels, off the gradient tape.
    kernelFunc: ({ inputs, attrs }) =>
      conv2dBackpropInputComposed(
        inputs.dy as tf.Tensor4D,
        inputs.filter as tf.Tensor4D,
        attrs as unknown as BackpropInputAttrs,
      ),
  });
}
