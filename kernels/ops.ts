/**
 * The fused ops the models call. On the webgpu backend (with custom kernels enabled) each runs a
 * hand-written WGSL kernel; everywhere else it runs its composed-op twin from `composed.ts`,
 * which is also the test oracle.
 */
import { tf } from "../deps.ts";
import { ensembleStatsComposed, iwaeLogMeanExpComposed, mafAffineComposed } from "./composed.ts";

let customKernels = true;

/** Enable or disable the WGSL custom kernels (disabled = always use the composed twins). */
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

/** One MAF layer, density direction: u = (z − μ)·exp(−α), logDet = −Σ_d α. [N, D] inputs. */
export function mafAffine(
  z: tf.Tensor2D,
  mu: tf.Tensor2D,
  alpha: tf.Tensor2D,
): { u: tf.Tensor2D; logDet: tf.Tensor1D } {
  if (useFused()) {
    // Filled in by the WGSL kernel registration (kernels/register_webgpu.ts).
    return mafAffineComposed(z, mu, alpha);
  }
  return mafAffineComposed(z, mu, alpha);
}

/** Per column of [K, N] log-weights: logsumexp over k minus log K → [N]. */
export function iwaeLogMeanExp(logWeights: tf.Tensor2D): tf.Tensor1D {
  if (useFused()) return iwaeLogMeanExpComposed(logWeights);
  return iwaeLogMeanExpComposed(logWeights);
}

/** Per column of [M, N] member scores: mean, population variance, WAIC = mean − variance. */
export function ensembleStats(
  scores: tf.Tensor2D,
): { mean: tf.Tensor1D; variance: tf.Tensor1D; waic: tf.Tensor1D } {
  if (useFused()) return ensembleStatsComposed(scores);
  return ensembleStatsComposed(scores);
}
