/**
 * The fused ops the models call. On the webgpu backend (with custom kernels enabled) each runs a
 * hand-written WGSL kernel (`kernels/*.wgsl`, registered in `register_webgpu.ts`, with
 * gradients); everywhere else it runs its composed-op twin from `composed.ts`, which is also the
 * test oracle. Importing this module also fills the wasm backend's kernel gaps (`register.ts`).
 */
import { tf } from "../deps.ts";
import { ensembleStatsComposed, iwaeLogMeanExpComposed, mafAffineComposed } from "./composed.ts";
import { KERNEL_NAMES } from "./register.ts";

let customKernels = true;

/**
 * Enable or disable the WGSL custom kernels (disabled = always use the composed twins).
 *
 * @example
 * ```ts
 * setCustomKernels(false); // what --no_custom_kernels does
 * ```
 */
export function setCustomKernels(enabled: boolean): void {
  customKernels = enabled;
}

/** Whether the WGSL custom kernels are used when the backend is webgpu. */
export function customKernelsEnabled(): boolean {
  return customKernels;
}

function useFused(): boolean {
  return customKernels && tf.getBackend() === "webgpu";
}

function checkRank2(op: string, name: string, t: tf.Tensor): void {
  if (t.rank !== 2) {
    throw new Error(`kernels/ops.ts: ${op} needs a rank-2 ${name}, got shape [${t.shape}]`);
  }
}

/**
 * One MAF layer, density direction: u = (z − μ)·exp(−α), logDet = −Σ_d α. [N, D] inputs.
 *
 * @example
 * ```ts
 * const { u, logDet } = mafAffine(z, shift, logScale); // u [N, D], logDet [N]
 * ```
 */
export function mafAffine(
  z: tf.Tensor2D,
  mu: tf.Tensor2D,
  alpha: tf.Tensor2D,
): { u: tf.Tensor2D; logDet: tf.Tensor1D } {
  checkRank2("mafAffine", "z", z);
  if (!tf.util.arraysEqual(z.shape, mu.shape) || !tf.util.arraysEqual(z.shape, alpha.shape)) {
    throw new Error(
      `kernels/ops.ts: mafAffine needs z, mu and alpha of one [N, D] shape, got ` +
        `[${z.shape}], [${mu.shape}] and [${alpha.shape}]`,
    );
  }
  if (useFused()) {
    const [u, logDet] = tf.engine().runKernel(KERNEL_NAMES.mafAffine, { z, mu, alpha }, {}) as [
      tf.Tensor2D,
      tf.Tensor1D,
    ];
    return { u, logDet };
  }
  return mafAffineComposed(z, mu, alpha);
}

/**
 * Per column of [K, N] log-weights: logsumexp over k minus log K → [N] (the IWAE bound).
 *
 * @example
 * ```ts
 * const logPx = iwaeLogMeanExp(elbo); // elbo [K, N] → [N]
 * ```
 */
export function iwaeLogMeanExp(logWeights: tf.Tensor2D): tf.Tensor1D {
  checkRank2("iwaeLogMeanExp", "logWeights", logWeights);
  if (useFused()) {
    return tf.engine().runKernel(KERNEL_NAMES.iwaeLogMeanExp, { logWeights }, {}) as tf.Tensor1D;
  }
  return iwaeLogMeanExpComposed(logWeights);
}

/**
 * Per column of [M, N] member scores: mean, population variance, WAIC = mean − variance.
 *
 * @example
 * ```ts
 * const { mean, variance, waic } = ensembleStats(scores); // scores [M, N] → each [N]
 * ```
 */
export function ensembleStats(
  scores: tf.Tensor2D,
): { mean: tf.Tensor1D; variance: tf.Tensor1D; waic: tf.Tensor1D } {
  checkRank2("ensembleStats", "scores", scores);
  if (useFused()) {
    return tf.tidy(() => {
      const packed = tf.engine().runKernel(KERNEL_NAMES.ensembleStats, { scores }, {});
      const [mean, variance, waic] = tf.unstack(packed as tf.Tensor2D) as tf.Tensor1D[];
      return { mean, variance, waic };
    });
  }
  return ensembleStatsComposed(scores);
}
