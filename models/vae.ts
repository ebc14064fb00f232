/**
 * The VAE ensemble member: encoder q(z|x), Bernoulli decoder p(x|z), MAF prior p(z).
 *
 * For an input x and K reparameterised posterior samples z_k = μ(x) + σ(x)·ε_k, ε_k ~ N(0, I):
 *
 *   rate_k       = log q(z_k|x) − log p(z_k)                        (nats)
 *   distortion_k = −log p(x|z_k) = Σ_f softplus(ℓ_f) − x_f·ℓ_f       (ℓ = decoder logits; x ∈ [0,1])
 *   ELBO_k       = −(rate_k + distortion_k)  ≤  log p(x)
 *   loss         = mean over k and the batch of (β·rate_k + distortion_k)
 *   IWAE         = log (1/K) Σ_k exp(ELBO_k)  (a tighter bound; equals the ELBO for K = 1)
 *
 * The scale is softplus(raw + softplus⁻¹(1)), so a zero-initialised raw output starts at σ = 1.
 * Images are scaled to [−1, 1] before the encoder; the tabular member skips that (`scaleInput`).
 * All randomness is seeded from the member seed: the training noise of step s depends only on
 * (seed, s), so a resumed run repeats exactly the steps an uninterrupted run would take.
 *
 * @example
 * ```ts
 * const member = createVaeMember(defaultVaeConfig({ arch: "dense", inputShape: [784], seed: 1 }));
 * const stats = member.trainStep(batch, 0);      // { loss, rate, distortion }
 * const { logLik } = member.score(testBatch);    // IWAE log p̂(x), K = 16
 * ```
 */
import { tf } from "../deps.ts";
import { fileError, GensembleError } from "../core/errors.ts";
import { iwaeLogMeanExp } from "../kernels/ops.ts";
import { Adam } from "./adam.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { MafPrior } from "./flow.ts";
import type { Member, MemberConfig, MemberScores, StepStats } from "./member.ts";
import { featureCount, makeDecoder, makeEncoder, type Network } from "./networks.ts";
import { deriveSeed, ParamStore } from "./params.ts";

/** softplus⁻¹(1) = log(e − 1): the offset that makes a zero raw scale mean σ = 1. */
export const SOFTPLUS_INV_1 = Math.log(Math.expm1(1));
const LOG_2PI = Math.log(2 * Math.PI);

/**
 * The reference hyperparameters (conv MNIST VAE), with `overrides` applied.
 *
 * @example
 * ```ts
 * const tabular = defaultVaeConfig({ arch: "dense", inputShape: [30], denseHidden: [],
 *   scaleInput: false, learningRate: 1e-4 });
 * ```
 */
export function defaultVaeConfig(overrides: Partial<MemberConfig> = {}): MemberConfig {
  return {
    model: "vae",
    arch: "conv",
    inputShape: [28, 28, 1],
    latentSize: 16,
    nFlows: 6,
    flowHidden: [512, 512],
    baseDepth: 32,
    denseHidden: [512, 512],
    scaleInput: true,
    nSamples: 16,
    beta: 1,
    learningRate: 1e-3,
    maxSteps: 5001,
    batchSize: 32,
    seed: 0,
    ...overrides,
  };
}

/**
 * The reference's tabular member (`anomaly_run.py`): dense encoder/decoder with no hidden layers,
 * features min-max scaled to [0, 1] and fed unscaled, learning rate 1e-4.
 *
 * @example
 * ```ts
 * const config = tabularVaeConfig(30, { seed: 7 });
 * ```
 */
export function tabularVaeConfig(
  features: number,
  overrides: Partial<MemberConfig> = {},
): MemberConfig {
  return defaultVaeConfig({
    arch: "dense",
    inputShape: [features],
    denseHidden: [],
    scaleInput: false,
    learningRate: 1e-4,
    ...overrides,
  });
}

/** Per-sample terms of the bound, each [K, N], plus the posterior mean [N, L]. */
export interface ElboTerms {
  elbo: tf.Tensor2D;
  rate: tf.Tensor2D;
  distortion: tf.Tensor2D;
  posteriorMean: tf.Tensor2D;
}

/** Bernoulli negative log-likelihood Σ_f softplus(ℓ) − x·ℓ over the last axis (x may be in [0,1]). */
export function bernoulliDistortion(logits: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sum(tf.sub(tf.softplus(logits), tf.mul(x, logits)), -1));
}

/** A VAE with a MAF prior, trained by Adam, implementing the ensemble `Member` contract. */
export class VaeMember implements Member {
  readonly config: MemberConfig;
  readonly params = new ParamStore();
  readonly encoder: Network;
  readonly decoder: Network;
  readonly prior: MafPrior;
  private readonly adam: Adam;
  private readonly features: number;
  /** Inputs × samples pushed through the decoder at once while scoring (bounds memory). */
  private readonly scoreRows: number;

  /** `options.scoreRows` overrides how many inputs × samples one scoring chunk holds. */
  constructor(config: MemberConfig, options: { scoreRows?: number } = {}) {
    this.config = config;
    const opts = { ...config, scaleInput: config.scaleInput ?? true };
    this.encoder = makeEncoder(this.params, opts);
    this.decoder = makeDecoder(this.params, opts);
    this.prior = new MafPrior(this.params, {
      dim: config.latentSize,
      nFlows: config.nFlows,
      hidden: config.flowHidden,
      seed: config.seed,
    });
    this.adam = new Adam(this.params.variables, {
      learningRate: config.learningRate,
      maxSteps: config.maxSteps,
    });
    this.features = featureCount(config.inputShape);
    this.scoreRows = options.scoreRows ?? (config.arch === "conv" ? 512 : 8192);
  }

  /** Decoder mean at the posterior mean μ(x): x [N, ...inputShape] → same shape, in [0, 1]. */
  reconstruct(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [loc] = tf.split(this.encoder.apply(x), 2, 1); // [N, L]
      return tf.reshape(tf.sigmoid(this.decoder.apply(loc)), x.shape);
    });
  }

  /** The bound's terms for x [N, ...inputShape] with given noise eps [K, N, L]. */
  elboTerms(x: tf.Tensor, eps: tf.Tensor3D): ElboTerms {
    return tf.tidy(() => {
      const [k, n, latent] = eps.shape;
      const net = this.encoder.apply(x); // [N, 2L]
      const [loc, raw] = tf.split(net, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
      const scale = tf.softplus(tf.add(raw, SOFTPLUS_INV_1)); // [N, L]
      const z = tf.reshape(tf.add(loc, tf.mul(scale, eps)), [k * n, latent]) as tf.Tensor2D;
      // log q(z|x) with (z − loc)/scale = ε: same value and gradient as the density at z.
      const logQ = tf.sub(
        tf.mul(tf.sum(tf.square(eps), 2), -0.5), // [K, N]
        tf.add(tf.sum(tf.log(scale), 1), 0.5 * latent * LOG_2PI), // [N]
      );
      const logP = tf.reshape(this.prior.logProb(z), [k, n]);
      const rate = tf.sub(logQ, logP) as tf.Tensor2D;
      const logits = tf.reshape(this.decoder.apply(z), [k, n, this.features]);
      const distortion = bernoulliDistortion(
        logits,
        tf.reshape(x, [1, n, this.features]),
      ) as tf.Tensor2D;
      const elbo = tf.neg(tf.add(rate, distortion)) as tf.Tensor2D;
      return { elbo, rate, distortion, posteriorMean: loc };
    });
  }

  /** Reject a batch whose per-input size is not this member's, before tfjs fails obscurely. */
  private checkBatch(x: tf.Tensor, what: string): void {
    const perInput = x.shape.slice(1).reduce((a, b) => a * b, 1);
    if (x.rank < 2 || perInput !== this.features) {
      throw new GensembleError(
        `${what}: got inputs of shape [${x.shape.join(", ")}], but this member was built for ` +
          `[N, ${this.config.inputShape.join(", ")}] (${this.features} values per input)`,
      );
    }
  }

  private noise(k: number, n: number, seed: number): tf.Tensor3D {
    return tf.randomNormal([k, n, this.config.latentSize], 0, 1, "float32", seed);
  }

  /** One Adam step; returns [loss, mean rate, mean distortion] as a tensor (caller disposes). */
  private step(batch: tf.Tensor, step: number): tf.Tensor1D {
    this.checkBatch(batch, "trainStep");
    const k = this.config.nSamples;
    const beta = this.config.beta;
    return tf.tidy(() => {
      const eps = this.noise(k, batch.shape[0], deriveSeed(this.config.seed, "train", step));
      let kept: tf.Tensor1D | null = null;
      const { grads } = tf.variableGrads(() => {
        const { rate, distortion } = this.elboTerms(batch, eps);
        const loss = tf.mean(tf.add(tf.mul(rate, beta), distortion)) as tf.Scalar;
        kept = tf.keep(tf.stack([loss, tf.mean(rate), tf.mean(distortion)]) as tf.Tensor1D);
        return loss;
      }, this.params.variables);
      this.adam.apply(this.params.variables.map((v) => grads[v.name]), step);
      return kept!;
    });
  }

  /** One Adam step on batch [B, ...inputShape]; the noise and learning rate depend on `step`. */
  trainStep(batch: tf.Tensor, step: number): StepStats {
    const stats = this.step(batch, step);
    const [loss, rate, distortion] = stats.dataSync();
    stats.dispose();
    return { loss, rate, distortion };
  }

  /** `trainStep` that reads its result asynchronously (needed on webgpu, which has no dataSync). */
  async trainStepAsync(batch: tf.Tensor, step: number): Promise<StepStats> {
    const stats = this.step(batch, step);
    const [loss, rate, distortion] = await stats.data();
    stats.dispose();
    return { loss, rate, distortion };
  }

  /**
   * Scoring chunk by chunk (bounded memory): yields each chunk's offset and its
   * [logLik [n], rate [n], posteriorMean [n, L]] tensors, which the consumer reads and disposes.
   */
  private *scoreChunks(x: tf.Tensor, k: number): Generator<{ start: number; parts: tf.Tensor[] }> {
    this.checkBatch(x, "score");
    const n = x.shape[0];
    const latent = this.config.latentSize;
    // One noise draw for the whole call, sliced per chunk: scores do not depend on the chunking.
    const eps = this.noise(k, n, deriveSeed(this.config.seed, "score"));
    const chunk = Math.max(1, Math.floor(this.scoreRows / k));
    try {
      for (let start = 0; start < n; start += chunk) {
        const size = Math.min(chunk, n - start);
        const parts = tf.tidy(() => {
          const terms = this.elboTerms(
            tf.slice(x, start, size),
            tf.slice(eps, [0, start, 0], [k, size, latent]),
          );
          return [iwaeLogMeanExp(terms.elbo), tf.mean(terms.rate, 0), terms.posteriorMean];
        });
        yield { start, parts };
      }
    } finally {
      eps.dispose();
    }
  }

  private emptyScores(n: number): Required<MemberScores> {
    const latent = this.config.latentSize;
    return {
      logLik: new Float32Array(n),
      rate: new Float32Array(n),
      posteriorMean: new Float32Array(n * latent),
    };
  }

  /** IWAE log p̂(x) [N], mean rate [N] and posterior means [N, L] for x [N, ...inputShape]. */
  score(x: tf.Tensor, nSamples?: number): MemberScores {
    const out = this.emptyScores(x.shape[0]);
    const latent = this.config.latentSize;
    for (const { start, parts } of this.scoreChunks(x, nSamples ?? this.config.nSamples)) {
      try {
        out.logLik.set(parts[0].dataSync(), start);
        out.rate.set(parts[1].dataSync(), start);
        out.posteriorMean.set(parts[2].dataSync(), start * latent);
      } finally {
        tf.dispose(parts);
      }
    }
    return out;
  }

  /** `score` that reads results asynchronously (needed on webgpu, which has no dataSync). */
  async scoreAsync(x: tf.Tensor, nSamples?: number): Promise<MemberScores> {
    const out = this.emptyScores(x.shape[0]);
    const latent = this.config.latentSize;
    for (const { start, parts } of this.scoreChunks(x, nSamples ?? this.config.nSamples)) {
      try {
        out.logLik.set(await parts[0].data(), start);
        out.rate.set(await parts[1].data(), start);
        out.posteriorMean.set(await parts[2].data(), start * latent);
      } finally {
        tf.dispose(parts);
      }
    }
    return out;
  }

  /** Mean negative IWAE bound of x (differentiable in x, fixed noise): the FGSM objective. */
  inputLoss(x: tf.Tensor): tf.Scalar {
    this.checkBatch(x, "inputLoss");
    return tf.tidy(() => {
      const k = this.config.nSamples;
      const eps = this.noise(k, x.shape[0], deriveSeed(this.config.seed, "input-loss"));
      return tf.neg(tf.mean(iwaeLogMeanExp(this.elboTerms(x, eps).elbo))) as tf.Scalar;
    });
  }

  /** Save weights, Adam moments, the update count and the config to `dir`. */
  async save(dir: string, step: number): Promise<void> {
    const names = this.params.names;
    const moments = this.adam.state(names);
    try {
      await saveCheckpoint(
        dir,
        [
          ...names.map((name) => ({ name, tensor: this.params.get(name) as tf.Tensor })),
          ...moments,
        ],
        { step, adamUpdates: this.adam.updates, config: this.config },
      );
    } finally {
      tf.dispose(moments.map((m) => m.tensor));
    }
  }

  /** Restore a checkpoint written by `save`; returns its step. */
  async load(dir: string): Promise<number> {
    const { tensors, metadata } = await loadCheckpoint(dir);
    try {
      const names = this.params.names;
      const expected = [...names, ...names.flatMap((n) => [`adam/m/${n}`, `adam/v/${n}`])];
      for (const name of expected) {
        const t = tensors[name];
        const shape = name.startsWith("adam/")
          ? this.params.get(name.slice(7)).shape
          : this.params.get(name).shape;
        if (!t || t.shape.join() !== shape.join()) {
          throw fileError(
            dir,
            `checkpoint ${t ? `has shape [${t.shape}] for` : "lacks"} "${name}" ` +
              `(expected [${shape}]): it was written for a different model configuration`,
          );
        }
      }
      for (const name of names) this.params.get(name).assign(tensors[name]);
      this.adam.setState(names, tensors, Number(metadata.adamUpdates ?? 0));
      return Number(metadata.step ?? 0);
    } finally {
      tf.dispose(Object.values(tensors));
    }
  }

  /** Release every tensor this member owns. */
  dispose(): void {
    this.adam.dispose();
    this.prior.dispose();
    this.params.dispose();
  }
}

/**
 * Build a VAE member from its config (weights initialised from `config.seed`).
 *
 * @example
 * ```ts
 * const member = createVaeMember(defaultVaeConfig({ seed: 3 }));
 * ```
 */
export function createVaeMember(config: MemberConfig): Member {
  if (config.model !== "vae") throw new Error(`createVaeMember got model "${config.model}"`);
  return new VaeMember(config);
}
