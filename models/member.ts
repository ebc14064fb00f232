/**
 * The contract between one ensemble member (VAE, WGAN critic, tabular VAE) and the code that
 * trains, checkpoints and scores it. Training loops, workers and eval only speak this interface.
 */
import type { tf } from "../deps.ts";

/** Hyperparameters of one member; stored in the run's config.json. */
export interface MemberConfig {
  /** "vae" (likelihood model) or "wgan" (critic). */
  model: "vae" | "wgan";
  /** Encoder/decoder family: "conv" (images) or "dense" (images flattened, or tabular). */
  arch: "conv" | "dense";
  /** One input's shape without the batch axis: [28, 28, 1], [32, 32, 3] or [F]. */
  inputShape: number[];
  /** Latent size (VAE: 16; WGAN generator input: 128). */
  latentSize: number;
  /** MAF prior: number of MADE layers (6) and their hidden sizes ([512, 512]). */
  nFlows: number;
  flowHidden: number[];
  /** Conv base depth (32 in the reference); dense hidden sizes for the dense arch. */
  baseDepth: number;
  denseHidden: number[];
  /**
   * Map inputs from [0, 1] to [−1, 1] before the encoder, as the reference does for images
   * (default true); the tabular member sets false.
   */
  scaleInput?: boolean;
  /** Posterior samples K per input, for the training loss and the IWAE bound. */
  nSamples: number;
  /** Weight on the rate in the training loss. */
  beta: number;
  learningRate: number;
  maxSteps: number;
  batchSize: number;
  /** This member's seed (run seed + member index). */
  seed: number;
}

/** What one training step reports. */
export interface StepStats {
  loss: number;
  /** Mean rate log q(z|x) − log p(z) (VAE); critic loss for WGAN. */
  rate: number;
  /** Mean distortion −log p(x|z) (VAE); generator loss for WGAN. */
  distortion: number;
}

/** Per-input scores of one member, higher log-likelihood = more normal. */
export interface MemberScores {
  /** [N] IWAE estimate log p̂(x) (VAE) or critic logit (WGAN). */
  logLik: Float32Array;
  /** [N] rate log q(z|x) − log p(z), averaged over the K samples (VAE only). */
  rate?: Float32Array;
  /** [N, latent] posterior means (VAE only), for posterior_mean_var and latent plots. */
  posteriorMean?: Float32Array;
}

/** One trainable, checkpointable, scorable ensemble member. */
export interface Member {
  readonly config: MemberConfig;
  /** One optimizer step on a batch [B, ...inputShape] in [0, 1]; `step` drives the LR schedule. */
  trainStep(batch: tf.Tensor, step: number): StepStats;
  /** Scores for a batch [N, ...inputShape]; K = `nSamples` unless given. */
  score(x: tf.Tensor, nSamples?: number): MemberScores;
  /**
   * Asynchronous twins of `trainStep` and `score` (same numbers), for backends that cannot read
   * tensors synchronously (tfjs-backend-webgpu in Deno has no dataSync). Optional for now.
   */
  trainStepAsync?(batch: tf.Tensor, step: number): Promise<StepStats>;
  /**
   * Rows of training data step `step` wants (default `batchSize`): a WGAN wants one fresh batch
   * per critic iteration. The loop then passes that many rows as the step's batch.
   */
  rowsWanted?(step: number): number;
  /** The learning rate of step `step` (0-based), for logs; default: the VAE's cosine decay. */
  learningRateAt?(step: number): number;
  scoreAsync?(x: tf.Tensor, nSamples?: number): Promise<MemberScores>;
  /**
   * A differentiable per-batch loss in the input (mean negative log-likelihood estimate for a VAE,
   * negative logit for a critic): FGSM moves inputs by −0.3·sign(∇ₓ loss) to look *more* normal.
   */
  inputLoss(x: tf.Tensor): tf.Scalar;
  /** Write weights and optimizer state to `dir` (tfjs model.json + its weights file), atomically. */
  save(dir: string, step: number): Promise<void>;
  /** Load a checkpoint written by `save`; returns the step it was taken at. */
  load(dir: string): Promise<number>;
  /** Release all tensors. */
  dispose(): void;
}
