/**
 * The VAE's encoder q(z|x) and decoder p(x|z) networks, as plain functions of named variables.
 *
 * conv (the reference's `vae_wgan/vae/model.py`, leaky ReLU 0.2, NHWC):
 *   encoder  x [B, H, W, C] → conv5 32 → conv5/2 32 → conv5 64 → conv5/2 64 → conv k×k VALID 4·L
 *            → dense 2·L                                              (k = H/4: 7 for 28×28)
 *   decoder  z [N, L] → deconv k×k VALID 64 → deconv5 64 → deconv5/2 64 → deconv5 32
 *            → deconv5/2 32 → deconv5 32 → conv5 C (logits, no activation)
 *   (32 and 64 are `baseDepth` and 2·`baseDepth`.) For CIFAR-10's 32×32×3 the same stack is
 *   used with k = 8, so the VALID layers still map 8×8 ↔ 1×1, and C = 3 output channels.
 * dense: encoder x [B, F] → (dense h, leaky ReLU)* → dense 2·L; decoder z → (dense h)* → dense F.
 *
 * Weights use the Keras layouts (conv [k, k, in, out], deconv [k, k, out, in], dense [in, out]),
 * glorot-uniform kernels with Keras's fans and zero biases. Two layers are computed as the
 * equivalent matMul (a VALID conv whose kernel covers the whole input, and a VALID deconv of a
 * 1×1 input), and stride-1 deconvs as convs with the flipped kernel, because those are the
 * kernels every backend runs fastest; the maths and the parameters are those of the reference.
 */
import { tf } from "../deps.ts";
// Side effect: replaces wasm's slow Conv2DBackpropInput (every deconv and conv input gradient).
import "../kernels/wasm_conv2d_backprop_input.ts";
import { Rng } from "../core/rng.ts";
import { dense as denseOp } from "./linear.ts";
import { deriveSeed, glorotUniform, type ParamStore } from "./params.ts";

/** tf.nn.leaky_relu's default slope, used throughout the reference. */
export const LEAKY_SLOPE = 0.2;

/** A network: a differentiable function of a batch, returning [batch, features]. */
export interface Network {
  apply(x: tf.Tensor): tf.Tensor2D;
}

/** What the encoder/decoder factories need to know (a subset of MemberConfig). */
export interface NetworkOptions {
  arch: "conv" | "dense";
  /** One input's shape: [H, W, C] for conv, any shape (flattened) for dense. */
  inputShape: number[];
  latentSize: number;
  /** Conv: depth of the first layers (32). */
  baseDepth: number;
  /** Dense: hidden sizes ([512, 512]; [] for the tabular model). */
  denseHidden: number[];
  /** Map inputs from [0, 1] to [−1, 1] before the encoder (images: yes; tabular: no). */
  scaleInput: boolean;
  seed: number;
  /**
   * Encoder only: width of its last (linear) layer; default 2·latent (a VAE's posterior mean and
   * scale). The WGAN critic uses latent, as the reference's dense(z_dim) before the logit.
   */
  headSize?: number;
}

interface Dense {
  kernel: tf.Variable; // [nIn, nOut]
  bias: tf.Variable; // [nOut]
}

interface Conv {
  kernel: tf.Variable; // conv [k, k, in, out]; deconv [k, k, out, in]
  bias: tf.Variable; // [out]
  stride: 1 | 2;
}

function dense(
  params: ParamStore,
  name: string,
  nIn: number,
  nOut: number,
  rng: Rng,
  fans: [number, number] = [nIn, nOut],
): Dense {
  return {
    kernel: params.add(`${name}/kernel`, [nIn, nOut], glorotUniform(rng, nIn * nOut, ...fans)),
    bias: params.add(`${name}/bias`, [nOut], new Float32Array(nOut)),
  };
}

function conv(
  params: ParamStore,
  name: string,
  k: number,
  cIn: number,
  cOut: number,
  stride: 1 | 2,
  rng: Rng,
  transposed = false,
): Conv {
  const size = k * k * cIn * cOut;
  // Keras fans: receptive field × the last two kernel axes, which the deconv layout swaps.
  const shape = transposed ? [k, k, cOut, cIn] : [k, k, cIn, cOut];
  return {
    kernel: params.add(
      `${name}/kernel`,
      shape,
      glorotUniform(rng, size, k * k * cIn, k * k * cOut),
    ),
    bias: params.add(`${name}/bias`, [cOut], new Float32Array(cOut)),
    stride,
  };
}

function applyDense(layer: Dense, x: tf.Tensor2D, leaky: boolean): tf.Tensor2D {
  const activation = leaky ? "leakyrelu" : "linear";
  return denseOp(
    x,
    layer.kernel as tf.Tensor2D,
    layer.bias as tf.Tensor1D,
    activation,
    LEAKY_SLOPE,
  );
}

function applyConv(layer: Conv, x: tf.Tensor4D, leaky: boolean): tf.Tensor4D {
  return tf.fused.conv2d({
    x,
    filter: layer.kernel as tf.Tensor4D,
    strides: layer.stride,
    pad: "same",
    bias: layer.bias,
    activation: leaky ? "leakyrelu" : "linear",
    leakyreluAlpha: LEAKY_SLOPE,
  });
}

/** A 'SAME' transposed conv (Keras Conv2DTranspose) followed by leaky ReLU. */
function applyDeconv(layer: Conv, x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const kernel = layer.kernel as tf.Tensor4D; // [k, k, out, in]
  if (layer.stride === 1) {
    // A stride-1 transposed conv is a conv with the kernel flipped and its channel axes swapped.
    const flipped = tf.reverse(tf.transpose(kernel, [0, 1, 3, 2]), [0, 1]) as tf.Tensor4D;
    return tf.leakyRelu(tf.add(tf.conv2d(x, flipped, 1, "same"), layer.bias), LEAKY_SLOPE);
  }
  const cOut = kernel.shape[2];
  const y = tf.conv2dTranspose(x, kernel, [n, 2 * h, 2 * w, cOut], 2, "same");
  return tf.leakyRelu(tf.add(y, layer.bias), LEAKY_SLOPE);
}

function checkConvShape(inputShape: number[]): [number, number, number] {
  const [h, w, c] = inputShape;
  if (inputShape.length !== 3 || h !== w || h % 4 !== 0 || !(c >= 1)) {
    throw new Error(
      `The conv architecture needs square [H, H, C] inputs with H divisible by 4, ` +
        `got [${inputShape.join(", ")}]; use --arch dense for other shapes`,
    );
  }
  return [h, w, c];
}

/** Features per input (product of the input shape). */
export function featureCount(inputShape: number[]): number {
  return inputShape.reduce((a, b) => a * b, 1);
}

/**
 * Encoder x [B, ...inputShape] in [0, 1] → [B, 2·latent] (loc and raw scale, concatenated).
 *
 * @example
 * ```ts
 * const enc = makeEncoder(params, { arch: "dense", inputShape: [784], latentSize: 16,
 *   baseDepth: 32, denseHidden: [512, 512], scaleInput: true, seed: 1 });
 * ```
 */
export function makeEncoder(params: ParamStore, opts: NetworkOptions): Network {
  const rng = new Rng(deriveSeed(opts.seed, "encoder"));
  const latent = opts.latentSize;
  const headSize = opts.headSize ?? 2 * latent;
  const prep = (x: tf.Tensor, shape: number[]) => {
    const h = tf.reshape(x, shape);
    return opts.scaleInput ? tf.sub(tf.mul(h, 2), 1) : h;
  };
  if (opts.arch === "dense") {
    const sizes = [featureCount(opts.inputShape), ...opts.denseHidden];
    const hidden = opts.denseHidden.map((_, i) =>
      dense(params, `encoder/dense${i}`, sizes[i], sizes[i + 1], rng)
    );
    const head = dense(params, "encoder/head", sizes[sizes.length - 1], headSize, rng);
    return {
      apply: (x) =>
        tf.tidy(() => {
          let h = prep(x, [-1, sizes[0]]) as tf.Tensor2D;
          for (const layer of hidden) h = applyDense(layer, h, true);
          return applyDense(head, h, false);
        }),
    };
  }
  const [size, , channels] = checkConvShape(opts.inputShape);
  const b = opts.baseDepth;
  const k = size / 4;
  const convs = [
    conv(params, "encoder/conv0", 5, channels, b, 1, rng),
    conv(params, "encoder/conv1", 5, b, b, 2, rng),
    conv(params, "encoder/conv2", 5, b, 2 * b, 1, rng),
    conv(params, "encoder/conv3", 5, 2 * b, 2 * b, 2, rng),
  ];
  // conv k×k VALID on a k×k map = dense on the flattened map, with the conv's fans.
  const valid = dense(params, "encoder/conv4", k * k * 2 * b, 4 * latent, rng, [
    k * k * 2 * b,
    k * k * 4 * latent,
  ]);
  const head = dense(params, "encoder/head", 4 * latent, headSize, rng);
  return {
    apply: (x) =>
      tf.tidy(() => {
        let h = prep(x, [-1, size, size, channels]) as tf.Tensor4D;
        for (const layer of convs) h = applyConv(layer, h, true);
        const flat = applyDense(valid, tf.reshape(h, [-1, k * k * 2 * b]), true);
        return applyDense(head, flat, false);
      }),
  };
}

/** Decoder z [N, latent] → Bernoulli logits [N, features] (NHWC order for conv). */
export function makeDecoder(params: ParamStore, opts: NetworkOptions): Network {
  const rng = new Rng(deriveSeed(opts.seed, "decoder"));
  const latent = opts.latentSize;
  if (opts.arch === "dense") {
    const sizes = [latent, ...opts.denseHidden];
    const hidden = opts.denseHidden.map((_, i) =>
      dense(params, `decoder/dense${i}`, sizes[i], sizes[i + 1], rng)
    );
    const nOut = featureCount(opts.inputShape);
    const head = dense(params, "decoder/head", sizes[sizes.length - 1], nOut, rng);
    return {
      apply: (z) =>
        tf.tidy(() => {
          let h = z as tf.Tensor2D;
          for (const layer of hidden) h = applyDense(layer, h, true);
          return applyDense(head, h, false);
        }),
    };
  }
  const [size, , channels] = checkConvShape(opts.inputShape);
  const b = opts.baseDepth;
  const k = size / 4;
  // deconv k×k VALID of a 1×1 map: out[i, j, c] = Σ_l z_l W[i, j, c, l]; kept in the deconv
  // layout [k, k, 2b, L] and applied as one matMul.
  const first = conv(params, "decoder/deconv0", k, latent, 2 * b, 1, rng, true);
  const deconvs = [
    conv(params, "decoder/deconv1", 5, 2 * b, 2 * b, 1, rng, true),
    conv(params, "decoder/deconv2", 5, 2 * b, 2 * b, 2, rng, true),
    conv(params, "decoder/deconv3", 5, 2 * b, b, 1, rng, true),
    conv(params, "decoder/deconv4", 5, b, b, 2, rng, true),
    conv(params, "decoder/deconv5", 5, b, b, 1, rng, true),
  ];
  const out = conv(params, "decoder/conv_out", 5, b, channels, 1, rng);
  return {
    apply: (z) =>
      tf.tidy(() => {
        const w = tf.transpose(tf.reshape(first.kernel, [k * k * 2 * b, latent])); // [L, k·k·2b]
        const h0 = tf.reshape(tf.matMul(z as tf.Tensor2D, w), [-1, k, k, 2 * b]);
        let h = tf.leakyRelu(tf.add(h0, first.bias), LEAKY_SLOPE) as tf.Tensor4D;
        for (const layer of deconvs) h = applyDeconv(layer, h);
        const logits = applyConv(out, h, false);
        return tf.reshape(logits, [-1, size * size * channels]) as tf.Tensor2D;
      }),
  };
}
