/**
 * The VAE prior: a Masked Autoregressive Flow (MAF) over N(0, I).
 *
 * MADE (Germain et al. 2015) with the block masks of TFP's `masked_dense`: hidden layers of ReLU
 * units, the first mask exclusive (output block i sees input dims < i), later ones inclusive, and
 * an output of (shift, log-scale) per dimension whose log-scale is clipped to [−5, 3] in the forward
 * pass with its gradient passed straight through (as TFP's default template does).
 *
 * The MAF is TFP's `TransformedDistribution(N(0, I), Chain([MAF_0, Perm_0, …, MAF_{n−1}]))`:
 *
 *   log p(z) = log N(u; 0, I) + Σ_layers logDet,   u_l = (x_l − shift(x_l))·exp(−logScale(x_l))
 *
 * so `logProb` costs one parallel MADE pass per layer (through `mafAffine` of kernels/ops.ts),
 * and `sample` inverts each layer sequentially (D passes per layer).
 */
import { tf } from "../deps.ts";
import { Rng } from "../core/rng.ts";
import { mafAffine } from "../kernels/ops.ts";
import { dense } from "./linear.ts";
import { deriveSeed, glorotNormal, type ParamStore } from "./params.ts";

export const LOG_SCALE_MIN = -5;
export const LOG_SCALE_MAX = 3;
const LOG_2PI = Math.log(2 * Math.PI);

/**
 * TFP `masked_dense` block mask in tfjs kernel layout [nIn, nOut] (row-major): input block j
 * feeds output blocks i > j (exclusive) or i ≥ j (inclusive).
 *
 * @example
 * ```ts
 * madeBlockMask(2, 4, 2, true); // input 0 feeds outputs 2, 3; input 1 feeds nothing
 * ```
 */
export function madeBlockMask(
  nIn: number,
  nOut: number,
  numBlocks: number,
  exclusive: boolean,
): Float32Array {
  const dIn = Math.floor(nIn / numBlocks);
  const dOut = Math.floor(nOut / numBlocks);
  const mask = new Float32Array(nIn * nOut);
  let row = exclusive ? dOut : 0; // first output unit of the blocks input block j feeds
  for (let j = 0; j < numBlocks; j++) {
    for (let i = j * dIn; i < (j + 1) * dIn; i++) {
      for (let o = row; o < nOut; o++) mask[i * nOut + o] = 1;
    }
    row += dOut;
  }
  return mask;
}

/** clip(x, −5, 3) forward, identity backward (the reference's straight-through estimator). */
export const clipLogScale = tf.customGrad((...inputs) => ({
  value: tf.clipByValue(inputs[0] as tf.Tensor, LOG_SCALE_MIN, LOG_SCALE_MAX),
  gradFunc: (dy: tf.Tensor) => dy,
})) as (x: tf.Tensor2D) => tf.Tensor2D;

interface MaskedLayer {
  kernel: tf.Variable; // [nIn, nOut]
  bias: tf.Variable; // [nOut]
  mask: tf.Tensor2D; // [nIn, nOut] constant 0/1
}

/** One MADE network: x [N, D] → shift, log-scale [N, D], autoregressive in x. */
export class Made {
  readonly dim: number;
  private readonly layers: MaskedLayer[] = [];
  private readonly out: MaskedLayer;

  constructor(params: ParamStore, prefix: string, dim: number, hidden: number[], rng: Rng) {
    this.dim = dim;
    const sizes = [dim, ...hidden];
    for (let l = 0; l < hidden.length; l++) {
      const mask = madeBlockMask(sizes[l], sizes[l + 1], dim, l === 0);
      this.layers.push(
        this.masked(params, `${prefix}/hidden${l}`, mask, sizes[l], sizes[l + 1], rng),
      );
    }
    // TFP interleaves the outputs as (shift_d, logScale_d); we store the same units with all
    // shifts first and all log-scales second, so the split is one slice, not a strided gather.
    const nH = sizes[sizes.length - 1];
    const interleaved = madeBlockMask(nH, 2 * dim, dim, hidden.length === 0);
    const mask = new Float32Array(nH * 2 * dim);
    for (let h = 0; h < nH; h++) {
      for (let d = 0; d < dim; d++) {
        mask[h * 2 * dim + d] = interleaved[h * 2 * dim + 2 * d];
        mask[h * 2 * dim + dim + d] = interleaved[h * 2 * dim + 2 * d + 1];
      }
    }
    this.out = this.masked(params, `${prefix}/out`, mask, nH, 2 * dim, rng);
  }

  private masked(
    params: ParamStore,
    name: string,
    mask: Float32Array,
    nIn: number,
    nOut: number,
    rng: Rng,
  ): MaskedLayer {
    // Glorot normal × mask, zero bias (the peer's MaskedLinear).
    const w = glorotNormal(rng, nIn * nOut, nIn, nOut);
    for (let i = 0; i < w.length; i++) w[i] *= mask[i];
    return {
      kernel: params.add(`${name}/kernel`, [nIn, nOut], w),
      bias: params.add(`${name}/bias`, [nOut], new Float32Array(nOut)),
      mask: tf.tensor2d(mask, [nIn, nOut]),
    };
  }

  /** shift and (clipped, straight-through) log-scale, each [N, D]. */
  apply(x: tf.Tensor2D): { shift: tf.Tensor2D; logScale: tf.Tensor2D } {
    return tf.tidy(() => {
      let h = x;
      for (const layer of this.layers) {
        h = dense(h, tf.mul(layer.kernel, layer.mask), layer.bias as tf.Tensor1D, "relu");
      }
      const o = dense(
        h,
        tf.mul(this.out.kernel, this.out.mask),
        this.out.bias as tf.Tensor1D,
        "linear",
      );
      const [shift, rawLogScale] = tf.split(o, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
      return { shift, logScale: clipLogScale(rawLogScale) };
    });
  }

  /** Release the mask constants (the variables belong to the ParamStore). */
  dispose(): void {
    for (const l of [...this.layers, this.out]) l.mask.dispose();
  }
}

/** A permutation as a constant [D, D] 0/1 matrix P with (x P)[:, j] = x[:, perm[j]]. */
function permutationMatrix(perm: Int32Array): tf.Tensor2D {
  // A matMul rather than tf.gather: gather's gradient needs UnsortedSegmentSum, which the wasm
  // backend lacks, and for D = 16 the product costs nothing.
  const d = perm.length;
  const m = new Float32Array(d * d);
  for (let j = 0; j < d; j++) m[perm[j] * d + j] = 1;
  return tf.tensor2d(m, [d, d]);
}

/** Options of the MAF prior. */
export interface MafOptions {
  /** Latent dimension D. */
  dim: number;
  /** Number of MADE layers (6 in the reference). */
  nFlows: number;
  /** MADE hidden sizes ([512, 512] in the reference). */
  hidden: number[];
  /** Seed of the weights and the fixed permutations. */
  seed: number;
  /** Parameter-name prefix (default "prior"). */
  prefix?: string;
}

/** Masked Autoregressive Flow density over R^D with an N(0, I) base. */
export class MafPrior {
  readonly dim: number;
  readonly mades: Made[] = [];
  /** perms[i] is applied between MADE i and MADE i+1 (nFlows − 1 of them). */
  readonly perms: Int32Array[] = [];
  private readonly permForward: tf.Tensor2D[] = []; // x ↦ x[:, perm]
  private readonly permInverse: tf.Tensor2D[] = []; // x ↦ x[:, argsort(perm)]

  constructor(params: ParamStore, options: MafOptions) {
    const { dim, nFlows, hidden, seed } = options;
    const prefix = options.prefix ?? "prior";
    this.dim = dim;
    for (let i = 0; i < nFlows; i++) {
      const rng = new Rng(deriveSeed(seed, prefix, "made", i));
      this.mades.push(new Made(params, `${prefix}/made${i}`, dim, hidden, rng));
    }
    const permRng = new Rng(deriveSeed(seed, prefix, "permutations"));
    for (let i = 0; i < nFlows - 1; i++) {
      const perm = permRng.permutation(dim);
      const inverse = new Int32Array(dim);
      for (let j = 0; j < dim; j++) inverse[perm[j]] = j;
      this.perms.push(perm);
      this.permForward.push(permutationMatrix(perm));
      this.permInverse.push(permutationMatrix(inverse));
    }
  }

  /**
   * The density direction: base noise u [N, D] and log|det ∂u/∂z| [N] for z [N, D].
   * One parallel MADE pass per layer.
   */
  inverse(z: tf.Tensor2D): { u: tf.Tensor2D; logDet: tf.Tensor1D } {
    return tf.tidy(() => {
      let x = z;
      let logDet = tf.zeros([z.shape[0]]) as tf.Tensor1D;
      const n = this.mades.length;
      for (let i = 0; i < n; i++) {
        const { shift, logScale } = this.mades[i].apply(x);
        const step = mafAffine(x, shift, logScale); // inverts x = u·exp(α) + μ
        x = step.u;
        logDet = tf.add(logDet, step.logDet);
        if (i < n - 1) x = tf.matMul(x, this.permInverse[i]); // Permute_i.inverse
      }
      return { u: x, logDet };
    });
  }

  /**
   * log p(z) = log N(u; 0, I) + log|det ∂u/∂z| for z [N, D] → [N].
   *
   * @example
   * ```ts
   * const lp = prior.logProb(tf.zeros([4, 16])); // [4]
   * ```
   */
  logProb(z: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const { u, logDet } = this.inverse(z);
      const base = tf.sub(tf.mul(tf.sum(tf.square(u), 1), -0.5), 0.5 * this.dim * LOG_2PI);
      return tf.add(base, logDet) as tf.Tensor1D;
    });
  }

  /** Map base noise u [N, D] to z [N, D] (the flow's forward direction, sequential per layer). */
  forward(u: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let x = u;
      for (let i = this.mades.length - 1; i >= 0; i--) {
        if (i < this.mades.length - 1) x = tf.matMul(x, this.permForward[i]); // Permute_i
        // Dimension d of y depends only on y_{<d}: after D passes every dimension is exact.
        let y = tf.zerosLike(x) as tf.Tensor2D;
        for (let d = 0; d < this.dim; d++) {
          const prev = y;
          y = tf.tidy(() => {
            const { shift, logScale } = this.mades[i].apply(prev);
            return tf.add(tf.mul(x, tf.exp(logScale)), shift) as tf.Tensor2D;
          });
          prev.dispose();
        }
        x = y;
      }
      return x;
    });
  }

  /** Draw n samples [n, D] (seeded: the same seed gives the same samples). */
  sample(n: number, seed: number): tf.Tensor2D {
    const noiseSeed = deriveSeed(seed, "sample");
    return tf.tidy(() => this.forward(tf.randomNormal([n, this.dim], 0, 1, "float32", noiseSeed)));
  }

  /** Release the constant tensors (masks, permutation matrices). */
  dispose(): void {
    for (const m of this.mades) m.dispose();
    for (const p of [...this.permForward, ...this.permInverse]) p.dispose();
  }
}
