/**
 * `Conv2DBackpropFilter` for the wasm backend, which ships none (tfjs issue 8474), so that conv
 * nets (conv2d, fused conv2d and conv2dTranspose filters) train on wasm.
 *
 * The filter gradient of a convolution is itself a convolution (the dilated-convolution
 * identity): with the padded input xp [B, Hp, Wp, C] and dy [B, OH, OW, OC],
 *   dW[i, j, c, o] = Σ_{b, p, q} xp[b, i + s·p, j + s·q, c] · dy[b, p, q, o],
 * which is a VALID conv2d of xp with batch and channels swapped ([C, Hp, Wp, B]) by the filter
 * dy as [OH, OW, B, OC], dilated by the stride s. wasm runs that dilated conv2d through XNNPACK,
 * about 2× faster here than slicing the input per filter tap and calling matMul 25 times.
 * Supports NHWC (and NCHW by transposing), any strides, 'same', 'valid', numeric and explicit
 * pads; dilation is always 1 (tfjs's conv2d gradient rejects dilated convs before this point).
 * Import for the side effect; it registers only when wasm has no such kernel.
 */
import { tf } from "../deps.ts";

interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
  filterShape: [number, number, number, number];
}

/**
 * dW [fh, fw, C, OC] of a conv2d, from its input x and upstream gradient dy (NHWC or NCHW),
 * composed of pad, slice, transpose and a dilated conv2d.
 *
 * @example
 * ```ts
 * const dW = conv2dBackpropFilterComposed(x, dy, {
 *   strides: 2, pad: "same", dataFormat: "NHWC", filterShape: [5, 5, 3, 4] });
 * ```
 */
export function conv2dBackpropFilterComposed(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  attrs: BackpropFilterAttrs,
): tf.Tensor4D {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  return tf.tidy(() => {
    const channelsFirst = dataFormat === "NCHW";
    const xs = channelsFirst ? tf.transpose(x, [0, 2, 3, 1]) : x; // [B, H, W, C]
    const dys = channelsFirst ? tf.transpose(dy, [0, 2, 3, 1]) : dy; // [B, OH, OW, OC]
    const info = tf.backend_util.computeConv2DInfo(
      xs.shape,
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      "channelsLast",
    );
    const [batch, height, width, channels] = xs.shape;
    const { outHeight, outWidth, outChannels, strideHeight, strideWidth } = info;
    const [filterHeight, filterWidth] = filterShape;
    if (!tf.util.arraysEqual(dys.shape, [batch, outHeight, outWidth, outChannels])) {
      throw new Error(
        `kernels/wasm_conv2d_backprop_filter.ts: dy has shape [${dys.shape}], the conv's ` +
          `output is [${[batch, outHeight, outWidth, outChannels]}]`,
      );
    }
    // Pad (or crop) x to exactly the rows and columns the filter taps reach:
    // Hp = (OH − 1)·s + fh, so that the dilated conv's VALID output is fh × fw.
    const { top, left } = info.padInfo;
    const bottom = (outHeight - 1) * strideHeight + filterHeight - top - height;
    const right = (outWidth - 1) * strideWidth + filterWidth - left - width;
    let xp = xs;
    if (bottom < 0 || right < 0) {
      const keep = [batch, height + Math.min(bottom, 0), width + Math.min(right, 0), channels];
      xp = tf.slice(xp, [0, 0, 0, 0], keep);
    }
    if (top > 0 || left > 0 || bottom > 0 || right > 0) {
      xp = tf.pad(xp, [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]]);
    }
    const xSwapped = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D; // [C, Hp, Wp, B]
    const dyFilter = tf.transpose(dys, [1, 2, 0, 3]) as tf.Tensor4D; // [OH, OW, B, OC]
    const dilations: [number, number] = [strideHeight, strideWidth];
    const out = tf.conv2d(xSwapped, dyFilter, 1, "valid", "NHWC", dilations); // [C, fh, fw, OC]
    return tf.transpose(out, [1, 2, 0, 3]) as tf.Tensor4D; // [fh, fw, C, OC]
  });
}

if (!tf.getKernel("Conv2DBackpropFilter", "wasm")) {
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    // Composed of tensor ops: nested ops run as ordinary wasm kernels, off the gradient tape.
    kernelFunc: ({ inputs, attrs }) =>
      conv2dBackpropFilterComposed(
        inputs.x as tf.Tensor4D,
        inputs.dy as tf.Tensor4D,
        attrs as unknown as BackpropFilterAttrs,
      ),
  });
}
