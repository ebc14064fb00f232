/**
 * Registers the WGSL kernels of `kernels/*.wgsl` as tfjs kernels of the "webgpu" backend, with
 * their gradients, so that `kernels/ops.ts` can run them through `tf.engine().runKernel` and
 * autodiff (training through the flow and the IWAE bound) works on webgpu.
 *
 * Kernel (KERNEL_NAMES)  inputs                 outputs
 * mafAffine             z, mu, alpha [N, D]    u [N, D], logDet [N]       (two programs)
 * iwaeLogMeanExp        logWeights [K, N]      y [N]
 * ensembleStats         scores [M, N]          [3, N]: mean; variance; waic
 * Gradients: mafAffine and iwaeLogMeanExp through their backward WGSL kernels (one program per
 * input gradient); ensembleStats (used for scoring, not training) through stock ops.
 */
import { tf, type tfwebgpu } from "../deps.ts";
import { WgslProgram } from "./wgsl_program.ts";

/** tfjs kernel names of the fused ops (global in tfjs's registry, hence the prefix). */
export const KERNEL_NAMES = {
  mafAffine: "GensembleMafAffine",
  mafAffineGradZ: "GensembleMafAffineGradZ",
  mafAffineGradMu: "GensembleMafAffineGradMu",
  mafAffineGradAlpha: "GensembleMafAffineGradAlpha",
  iwaeLogMeanExp: "GensembleIwaeLogMeanExp",
  iwaeLogMeanExpGrad: "GensembleIwaeLogMeanExpGrad",
  ensembleStats: "GensembleEnsembleStats",
} as const;

type Backend = tfwebgpu.WebGPUBackend;

function checkFloat32(kernel: string, inputs: tf.NamedTensorInfoMap): void {
  for (const [name, info] of Object.entries(inputs)) {
    if (info && info.dtype !== "float32") {
      throw new Error(
        `kernels/register_webgpu.ts: ${kernel} needs float32 ${name}, got ${info.dtype}`,
      );
    }
  }
}

/** Run one WGSL section as a program with float32 output. */
function run(
  backend: Backend,
  kernel: string,
  inputs: Record<string, tf.TensorInfo>,
  outputShape: number[],
  threadDims?: number[],
): tf.TensorInfo {
  const program = new WgslProgram(kernel, Object.keys(inputs), outputShape, threadDims);
  return backend.runWebGPUProgram(program, Object.values(inputs), "float32");
}

function kernel(
  kernelName: string,
  body: (
    inputs: Record<string, tf.TensorInfo>,
    backend: Backend,
  ) => tf.TensorInfo | tf.TensorInfo[],
): tf.KernelConfig {
  return {
    kernelName,
    backendName: "webgpu",
    kernelFunc: ({ inputs, backend }) => {
      checkFloat32(kernelName, inputs);
      // The engine passes every input this kernel's op supplies.
      return body(inputs as Record<string, tf.TensorInfo>, backend as unknown as Backend);
    },
  };
}

const KERNELS: tf.KernelConfig[] = [
  kernel(KERNEL_NAMES.mafAffine, ({ z, mu, alpha }, backend) => {
    const [n] = alpha.shape;
    return [
      run(backend, "maf_affine_u", { z, mu, alpha }, alpha.shape),
      run(backend, "maf_affine_log_det", { alpha }, [n]),
    ];
  }),
  kernel(
    KERNEL_NAMES.mafAffineGradZ,
    ({ dU, alpha }, backend) => run(backend, "maf_affine_grad_z", { dU, alpha }, alpha.shape),
  ),
  kernel(
    KERNEL_NAMES.mafAffineGradMu,
    ({ dU, alpha }, backend) => run(backend, "maf_affine_grad_mu", { dU, alpha }, alpha.shape),
  ),
  kernel(
    KERNEL_NAMES.mafAffineGradAlpha,
    ({ dU, u, dLogDet }, backend) =>
      run(backend, "maf_affine_grad_alpha", { dU, u, dLogDet }, u.shape),
  ),
  kernel(KERNEL_NAMES.iwaeLogMeanExp, ({ logWeights }, backend) => {
    const [, n] = logWeights.shape;
    return run(backend, "iwae_logmeanexp", { logWeights }, [n]);
  }),
  kernel(KERNEL_NAMES.iwaeLogMeanExpGrad, ({ logWeights, dy }, backend) =>
    // One invocation per column (output dim 1), each writing its K gradients.
    run(backend, "iwae_logmeanexp_grad", { logWeights, dy }, logWeights.shape, [1])),
  kernel(KERNEL_NAMES.ensembleStats, ({ scores }, backend) => {
    const [, n] = scores.shape;
    return run(backend, "ensemble_stats", { scores }, [3, n], [1]);
  }),
];

const runKernel = (name: string, inputs: tf.NamedTensorMap) =>
  tf.engine().runKernel(name, inputs, {}) as tf.Tensor;

const GRADIENTS: tf.GradConfig[] = [
  {
    kernelName: KERNEL_NAMES.mafAffine,
    inputsToSave: ["alpha"],
    outputsToSave: [true, false],
    gradFunc: (dys, saved) => {
      const [dU, dLogDet] = dys as tf.Tensor[];
      const [alpha, u] = saved;
      return {
        z: () => runKernel(KERNEL_NAMES.mafAffineGradZ, { dU, alpha }),
        mu: () => runKernel(KERNEL_NAMES.mafAffineGradMu, { dU, alpha }),
        alpha: () => runKernel(KERNEL_NAMES.mafAffineGradAlpha, { dU, u, dLogDet }),
      };
    },
  },
  {
    kernelName: KERNEL_NAMES.iwaeLogMeanExp,
    inputsToSave: ["logWeights"],
    gradFunc: (dy, saved) => ({
      logWeights: () =>
        runKernel(KERNEL_NAMES.iwaeLogMeanExpGrad, { logWeights: saved[0], dy: dy as tf.Tensor }),
    }),
  },
  {
    // mean = Σ s/M, variance = Σ (s − mean)²/M, waic = mean − variance, so with dy = [3, N]
    // (dMean; dVar; dWaic): ds = (dMean + dWaic)/M + (dVar − dWaic)·2(s − mean)/M.
    kernelName: KERNEL_NAMES.ensembleStats,
    // The mean is recomputed with tf.mean rather than read from the output: s − mean cancels
    // (|s| ~ 10³, spread ~ 1), and this way it matches the composed twin's to the bit.
    inputsToSave: ["scores"],
    gradFunc: (dy, saved) => ({
      scores: () => {
        const [scores] = saved;
        const m = scores.shape[0];
        const [dMean, dVar, dWaic] = tf.unstack(dy as tf.Tensor);
        const mean = tf.mean(scores, 0, true); // [1, N]
        const viaMean = tf.div(tf.add(dMean, dWaic), m);
        const viaVar = tf.mul(tf.sub(dVar, dWaic), tf.mul(tf.sub(scores, mean), 2 / m));
        return tf.add(viaMean, viaVar);
      },
    }),
  },
];

for (const config of KERNELS) tf.registerKernel(config);
for (const config of GRADIENTS) tf.registerGradient(config);
