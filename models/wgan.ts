/**
 * The WGAN-GP ensemble member (the reference's `vae_wgan/wgan_run.py`): a critic D and a
 * generator G trained as a Wasserstein GAN with gradient penalty, after which the critic is
 * trained a little longer as a real-vs-generated classifier; its logit is the member's score.
 *
 *   critic    x [B, H, W, C] in [0, 1] → 2x − 1 → the VAE encoder's conv stack (networks.ts)
 *             → dense(L) → dense(1) (the logit; higher = more like the training data), L = z size
 *   generator z ~ N(0, I) [B, 128] → the VAE decoder's transposed-conv stack → raw images
 *             (no squashing: the reference feeds the decoder's "logits" to the critic as images)
 *
 *   critic loss     mean D(G(z)) − mean D(x) + λ·mean_i (‖∇ₓ̂ D(x̂_i)‖₂ − 1)²,
 *                   x̂ = x + α(G(z) − x), α ~ U(0, 1) per example, λ = 10
 *   generator loss  −mean D(G(z))
 *   extra steps     sigmoid cross-entropy of D on [x; G(z)] with labels [1; 0]
 *
 * The penalty's weight gradient is a second-order gradient (tf.grad inside tf.variableGrads), for
 * which `grad_fixes.ts` supplies the zero gradients tfjs lacks.
 *
 * One `trainStep` is one generator iteration with its critic iterations (100 for the first 25
 * iterations and every 500th, else 5), or, for the last `extraSteps` steps of `maxSteps`, one
 * classifier step. The reference draws a fresh batch for every critic iteration: the training
 * loop asks `rowsWanted(step)` and passes that many rows, one batch per critic iteration. A
 * caller that passes a single batch still works: critic iterations beyond the rows given draw
 * their batches from a pool of the most recent real rows.
 *
 * @example
 * ```ts
 * const member = createWganMember(defaultWganConfig({ inputShape: [28, 28, 1], seed: 1 }));
 * const stats = member.trainStep(batch, 0);     // { loss, rate: critic loss, distortion: G loss }
 * const { logLik } = member.score(testBatch);   // critic logits
 * ```
 */
import "./grad_fixes.ts";
// wasm lacks Conv2DBackpropFilter and runs Conv2DBackpropInput slowly: the project's kernels.
import "../kernels/register.ts";
import { tf } from "../deps.ts";
import { Rng } from "../core/rng.ts";
import { fileError, GensembleError } from "../core/errors.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import type { Member, MemberConfig, MemberScores, StepStats } from "./member.ts";
import { featureCount, makeDecoder, makeEncoder, type Network } from "./networks.ts";
import { deriveSeed, glorotUniform, ParamStore } from "./params.ts";
import {
  makeSlotOptimizer,
  type SlotOptimizer,
  type WganOptimizerKind,
} from "./wgan_optimizers.ts";

/** WGAN-only hyperparameters (the `wgan` key of a WGAN member's config). */
export interface WganSettings {
  /** Critic iterations per generator iteration (the reference's Citers = 5). */
  criticIters: number;
  /** Critic iterations in warm-up iterations: the first `warmupSteps` and every `warmupEvery`-th. */
  warmupCriticIters: number;
  warmupSteps: number;
  warmupEvery: number;
  /** Gradient-penalty weight λ. */
  gradientPenalty: number;
  /** "rmsprop" (TF RMSProp, the reference's default) or "adam" (β₁ = 0.5, β₂ = 0.9). */
  optimizer: WganOptimizerKind;
  /** Classifier steps at the end of `maxSteps` (so generator iterations = maxSteps − extraSteps). */
  extraSteps: number;
  /** Real rows kept for drawing critic batches, in units of `batchSize`. */
  poolBatches: number;
}

/** `wgan_run.py`'s values. */
export const REFERENCE_WGAN_SETTINGS: Readonly<WganSettings> = {
  criticIters: 5,
  warmupCriticIters: 100,
  warmupSteps: 25,
  warmupEvery: 500,
  gradientPenalty: 10,
  optimizer: "rmsprop",
  extraSteps: 4001,
  poolBatches: 50,
};

/** A member config with the WGAN settings (any omitted setting takes the reference's value). */
export type WganMemberConfig = MemberConfig & { wgan?: Partial<WganSettings> };

/**
 * The reference WGAN config (28×28×1, batch 64, 20001 generator + 4001 extra steps), overridden.
 *
 * @example
 * ```ts
 * const c = defaultWganConfig({ inputShape: [32, 32, 3], maxSteps: 24002 });
 * ```
 */
export function defaultWganConfig(overrides: Partial<WganMemberConfig> = {}): WganMemberConfig {
  return {
    model: "wgan",
    arch: "conv",
    inputShape: [28, 28, 1],
    latentSize: 128,
    nFlows: 0,
    flowHidden: [],
    baseDepth: 32,
    denseHidden: [512, 512],
    nSamples: 1,
    beta: 1,
    learningRate: 5e-5,
    maxSteps: 20001 + 4001,
    batchSize: 64,
    seed: 0,
    ...overrides,
  };
}

/** The config's WGAN settings with the reference's values filled in. */
export function wganSettings(config: WganMemberConfig): WganSettings {
  return { ...REFERENCE_WGAN_SETTINGS, ...(config.wgan ?? {}) };
}

/** Generator iterations of a config: `maxSteps − extraSteps`. */
export function generatorSteps(config: WganMemberConfig): number {
  return Math.max(0, config.maxSteps - wganSettings(config).extraSteps);
}

/**
 * Critic iterations before generator iteration `step` (0-based): the reference's schedule.
 *
 * @example
 * ```ts
 * criticItersAt(REFERENCE_WGAN_SETTINGS, 24); // 100
 * criticItersAt(REFERENCE_WGAN_SETTINGS, 25); // 5
 * criticItersAt(REFERENCE_WGAN_SETTINGS, 500); // 100
 * ```
 */
export function criticItersAt(settings: WganSettings, step: number): number {
  const warm = step < settings.warmupSteps ||
    (settings.warmupEvery > 0 && step % settings.warmupEvery === 0);
  return warm ? settings.warmupCriticIters : settings.criticIters;
}

/** A differentiable critic: x [N, ...inputShape] (or [N, F]) → logits [N]. */
export type CriticFn = (x: tf.Tensor) => tf.Tensor1D;

/**
 * The gradient penalty mean_i (‖∇ₓ D(x_i)‖₂ − 1)² at `points` [N, ...]: differentiable in the
 * critic's weights (a second-order gradient when taken inside tf.variableGrads).
 */
export function gradientPenalty(critic: CriticFn, points: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const dx = tf.grad((x: tf.Tensor) => tf.sum(critic(x)))(points); // [N, ...]
    const axes = Array.from({ length: dx.rank - 1 }, (_, i) => i + 1);
    const norm = tf.sqrt(tf.sum(tf.square(dx), axes)); // [N]
    return tf.mean(tf.square(tf.sub(norm, 1))) as tf.Scalar;
  });
}

/**
 * The WGAN-GP critic loss for real and fake [N, ...] and mixing weights alpha [N, 1, ...]:
 * mean D(fake) − mean D(real) + λ·penalty at real + α(fake − real).
 */
export function criticLoss(
  critic: CriticFn,
  real: tf.Tensor,
  fake: tf.Tensor,
  alpha: tf.Tensor,
  lambda: number,
): tf.Scalar {
  return tf.tidy(() => {
    const n = real.shape[0];
    const logits = critic(tf.concat([real, fake], 0)); // [2N] one pass for both halves
    const wasserstein = tf.sub(tf.mean(logits.slice(n, n)), tf.mean(logits.slice(0, n)));
    const interpolates = tf.add(real, tf.mul(alpha, tf.sub(fake, real)));
    return tf.add(wasserstein, tf.mul(gradientPenalty(critic, interpolates), lambda)) as tf.Scalar;
  });
}

/** Mean sigmoid cross-entropy of logits [N] against labels [N] in {0, 1} (numerically stable). */
export function sigmoidCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    // max(ℓ, 0) − ℓ·y + log(1 + e^−|ℓ|)
    const terms = tf.add(
      tf.sub(tf.relu(logits), tf.mul(logits, labels)),
      tf.log1p(tf.exp(tf.neg(tf.abs(logits)))),
    );
    return tf.mean(terms) as tf.Scalar;
  });
}

/** A WGAN-GP critic and generator, implementing the ensemble `Member` contract. */
export class WganMember implements Member {
  readonly config: WganMemberConfig;
  readonly settings: WganSettings;
  readonly params = new ParamStore();
  /** Critic body: the VAE encoder stack (its parameters are named "encoder/…"). */
  readonly criticBody: Network;
  /** Generator: the VAE decoder stack ("decoder/…"). */
  readonly generator: Network;
  private readonly logitLayer: { kernel: tf.Variable; bias: tf.Variable };
  private readonly criticParams: Record<string, tf.Variable> = {};
  private readonly generatorParams: Record<string, tf.Variable> = {};
  private readonly optimizers: SlotOptimizer[];
  private readonly criticOpt: SlotOptimizer;
  private readonly generatorOpt: SlotOptimizer;
  private readonly classifierOpt: SlotOptimizer;
  private readonly features: number;
  private readonly pool: Float32Array;
  private poolRows = 0;
  private poolNext = 0;

  constructor(config: WganMemberConfig) {
    if (config.model !== "wgan") throw new Error(`WganMember got model "${config.model}"`);
    this.config = config;
    this.settings = wganSettings(config);
    if (this.settings.extraSteps >= config.maxSteps) {
      throw new GensembleError(
        `A WGAN member needs max steps (${config.maxSteps}) above its extra classifier steps ` +
          `(${this.settings.extraSteps}): max steps = generator iterations + extra steps`,
      );
    }
    this.features = featureCount(config.inputShape);
    const net = {
      arch: config.arch,
      inputShape: config.inputShape,
      latentSize: config.latentSize,
      baseDepth: config.baseDepth,
      denseHidden: config.denseHidden,
      scaleInput: config.scaleInput ?? true,
      seed: config.seed,
    };
    // The encoder's conv stack ends in conv k×k → 4·L; with L = z size (128) it is the reference
    // critic's exactly, and its linear head of width L is the reference's dense(z_dim), before
    // the dense(1) logit.
    const width = config.latentSize;
    this.criticBody = makeEncoder(this.params, { ...net, headSize: width });
    const rng = new Rng(deriveSeed(config.seed, "critic-logit"));
    this.logitLayer = {
      kernel: this.params.add(
        "critic/logit/kernel",
        [width, 1],
        glorotUniform(rng, width, width, 1),
      ),
      bias: this.params.add("critic/logit/bias", [1], new Float32Array(1)),
    };
    this.generator = makeDecoder(this.params, net);
    for (const name of this.params.names) {
      const target = name.startsWith("decoder/") ? this.generatorParams : this.criticParams;
      target[name] = this.params.get(name);
    }
    const opts = { learningRate: config.learningRate };
    const kind = this.settings.optimizer;
    this.criticOpt = makeSlotOptimizer(kind, "critic_opt", this.criticParams, opts);
    this.generatorOpt = makeSlotOptimizer(kind, "generator_opt", this.generatorParams, opts);
    // wgan_run.py builds a separate optimizer (fresh slots) for the extra classifier steps.
    this.classifierOpt = makeSlotOptimizer(kind, "classifier_opt", this.criticParams, opts);
    this.optimizers = [this.criticOpt, this.generatorOpt, this.classifierOpt];
    this.pool = new Float32Array(
      Math.max(1, this.settings.poolBatches) * config.batchSize * this.features,
    );
  }

  /** Critic logits [N] for x [N, ...inputShape] (or flattened [N, F]). */
  readonly critic: CriticFn = (x) =>
    tf.tidy(() => {
      const h = this.criticBody.apply(x); // [N, L]
      const logit = tf.add(
        tf.matMul(h, this.logitLayer.kernel as tf.Tensor2D),
        this.logitLayer.bias,
      );
      return tf.reshape(logit, [-1]) as tf.Tensor1D;
    });

  /** Generated examples [N, F] (flattened, NHWC order) for latent codes z [N, L]. */
  generate(z: tf.Tensor2D): tf.Tensor2D {
    return this.generator.apply(z);
  }

  /** Rows of real data step `step` can use fresh: one batch per critic iteration, or one. */
  rowsWanted(step: number): number {
    if (step >= generatorSteps(this.config)) return this.config.batchSize;
    return criticItersAt(this.settings, step) * this.config.batchSize;
  }

  /** The reference's optimizers run at a constant learning rate (no decay). */
  learningRateAt(_step: number): number {
    return this.config.learningRate;
  }

  /** One generator iteration with its critic iterations, or one extra classifier step. */
  trainStep(batch: tf.Tensor, step: number): StepStats {
    const host = this.needsHostRows(batch, step)
      ? (batch.dataSync() as Float32Array).slice() // a copy: wasm views can detach
      : null;
    const losses = this.stepLosses(batch, step, host);
    try {
      return this.stats(losses.map((t) => t ? t.dataSync()[0] : null));
    } finally {
      tf.dispose(losses.filter((t): t is tf.Scalar => t !== null));
    }
  }

  /** `trainStep` for backends without synchronous read-back (tfjs-webgpu in Deno). */
  async trainStepAsync(batch: tf.Tensor, step: number): Promise<StepStats> {
    const host = this.needsHostRows(batch, step)
      ? (await batch.data() as Float32Array).slice()
      : null;
    const losses = this.stepLosses(batch, step, host);
    try {
      const values = await Promise.all(losses.map(async (t) => t ? (await t.data())[0] : null));
      return this.stats(values);
    } finally {
      tf.dispose(losses.filter((t): t is tf.Scalar => t !== null));
    }
  }

  /** [critic or classifier loss, generator loss (null for a classifier step)] → StepStats. */
  private stats([first, generator]: Array<number | null>): StepStats {
    const c = first ?? NaN;
    return { loss: c, rate: c, distortion: generator ?? 0 };
  }

  /** Whether a GAN step has fewer fresh rows than critic iterations (then it draws on the pool). */
  private needsHostRows(batch: tf.Tensor, step: number): boolean {
    if (step >= generatorSteps(this.config)) return false;
    const b = Math.min(this.config.batchSize, batch.shape[0]);
    return Math.floor(batch.shape[0] / b) < criticItersAt(this.settings, step);
  }

  /**
   * Run one step's updates; returns its loss scalars, still on the device so that the caller
   * reads them once, synchronously or not: [classifier loss, null] or [last critic loss,
   * generator loss]. `host` holds the batch's rows when the pool must supply critic batches.
   */
  private stepLosses(
    batch: tf.Tensor,
    step: number,
    host: Float32Array | null,
  ): Array<tf.Scalar | null> {
    const b = Math.min(this.config.batchSize, batch.shape[0]);
    const rows = tf.tidy(() => tf.reshape(batch, [batch.shape[0], this.features]) as tf.Tensor2D);
    try {
      if (step >= generatorSteps(this.config)) return [this.classifierStep(rows, b, step), null];
      const fresh = Math.floor(batch.shape[0] / b);
      if (host) this.addToPool(host);
      const rng = new Rng(deriveSeed(this.config.seed, "wgan-pool", step));
      const iters = criticItersAt(this.settings, step);
      let cLoss: tf.Scalar | null = null;
      for (let i = 0; i < iters; i++) {
        const real = i < fresh
          ? tf.slice(rows, i * b, b)
          : tf.tensor2d(this.samplePool(rng, b), [b, this.features]);
        cLoss?.dispose();
        cLoss = this.criticStep(real, deriveSeed(this.config.seed, "wgan-critic", step, i));
        real.dispose();
      }
      const gLoss = this.generatorStep(b, deriveSeed(this.config.seed, "wgan-generator", step));
      return [cLoss, gLoss];
    } finally {
      rows.dispose();
    }
  }

  private addToPool(data: Float32Array): void {
    const rowsIn = data.length / this.features;
    const capacity = this.pool.length / this.features;
    for (let r = 0; r < rowsIn; r++) {
      this.pool.set(
        data.subarray(r * this.features, (r + 1) * this.features),
        this.poolNext * this.features,
      );
      this.poolNext = (this.poolNext + 1) % capacity;
      this.poolRows = Math.min(capacity, this.poolRows + 1);
    }
  }

  private samplePool(rng: Rng, b: number): Float32Array {
    const out = new Float32Array(b * this.features);
    for (let r = 0; r < b; r++) {
      const src = rng.int(this.poolRows) * this.features;
      out.set(this.pool.subarray(src, src + this.features), r * this.features);
    }
    return out;
  }

  private noise(n: number, seed: number): tf.Tensor2D {
    return tf.randomNormal([n, this.config.latentSize], 0, 1, "float32", seed);
  }

  private named(grads: tf.NamedTensorMap, params: Record<string, tf.Variable>) {
    const out: Record<string, tf.Tensor> = {};
    for (const [name, v] of Object.entries(params)) out[name] = grads[v.name];
    return out;
  }

  private criticStep(real: tf.Tensor2D, seed: number): tf.Scalar {
    return tf.tidy(() => {
      const b = real.shape[0];
      const fake = this.generate(this.noise(b, seed)); // no tape here: G is a constant for D
      const alpha = tf.randomUniform([b, 1], 0, 1, "float32", seed + 1);
      const lambda = this.settings.gradientPenalty;
      const { value, grads } = tf.variableGrads(
        () => criticLoss(this.critic, real, fake, alpha, lambda),
        Object.values(this.criticParams),
      );
      this.criticOpt.apply(this.named(grads, this.criticParams));
      return value;
    });
  }

  private generatorStep(b: number, seed: number): tf.Scalar {
    return tf.tidy(() => {
      const z = this.noise(b, seed);
      const { value, grads } = tf.variableGrads(
        () => tf.neg(tf.mean(this.critic(this.generate(z)))) as tf.Scalar,
        Object.values(this.generatorParams),
      );
      this.generatorOpt.apply(this.named(grads, this.generatorParams));
      return value;
    });
  }

  private classifierStep(rows: tf.Tensor, b: number, step: number): tf.Scalar {
    return tf.tidy(() => {
      const real = tf.slice(rows, 0, b); // [B, F]
      const fake = this.generate(this.noise(b, deriveSeed(this.config.seed, "wgan-extra", step)));
      const labels = tf.concat([tf.ones([b]), tf.zeros([b])]);
      const { value, grads } = tf.variableGrads(
        () => sigmoidCrossEntropy(this.critic(tf.concat([real, fake], 0)), labels),
        Object.values(this.criticParams),
      );
      this.classifierOpt.apply(this.named(grads, this.criticParams));
      return value;
    });
  }

  /** Critic logits for x [N, ...inputShape], as `logLik` (higher = more normal). */
  score(x: tf.Tensor): MemberScores {
    const logLik = new Float32Array(x.shape[0]);
    for (const { start, logits } of this.logitChunks(x)) {
      logLik.set(logits.dataSync(), start);
      logits.dispose();
    }
    return { logLik };
  }

  /** `score` for backends without synchronous read-back (tfjs-webgpu in Deno). */
  async scoreAsync(x: tf.Tensor): Promise<MemberScores> {
    const logLik = new Float32Array(x.shape[0]);
    for (const { start, logits } of this.logitChunks(x)) {
      logLik.set(await logits.data() as Float32Array, start);
      logits.dispose();
    }
    return { logLik };
  }

  /** Logits of x in chunks that bound memory (conv activations are large); caller disposes. */
  private *logitChunks(x: tf.Tensor): Generator<{ start: number; logits: tf.Tensor1D }> {
    const n = x.shape[0];
    const chunk = this.config.arch === "conv" ? 512 : 8192;
    for (let start = 0; start < n; start += chunk) {
      const size = Math.min(chunk, n - start);
      yield { start, logits: tf.tidy(() => this.critic(tf.slice(x, start, size))) };
    }
  }

  /** −mean logit of x: FGSM moves inputs down its gradient, i.e. towards higher logits. */
  inputLoss(x: tf.Tensor): tf.Scalar {
    return tf.tidy(() => tf.neg(tf.mean(this.critic(x))) as tf.Scalar);
  }

  /** Save both networks, all optimizer slots and the config to `dir`. */
  async save(dir: string, step: number): Promise<void> {
    await saveCheckpoint(dir, this.namedState(), { step, config: this.config });
  }

  private namedState(): Array<{ name: string; tensor: tf.Tensor }> {
    const out = this.params.names.map((name) => ({
      name,
      tensor: this.params.get(name) as tf.Tensor,
    }));
    for (const opt of this.optimizers) {
      for (const [name, v] of Object.entries(opt.slots)) out.push({ name, tensor: v });
    }
    return out;
  }

  /** Restore a checkpoint written by `save`; returns its step. */
  async load(dir: string): Promise<number> {
    const { tensors, metadata } = await loadCheckpoint(dir);
    try {
      const state = this.namedState();
      for (const { name, tensor } of state) {
        const t = tensors[name];
        if (!t || t.shape.join() !== tensor.shape.join()) {
          throw fileError(
            dir,
            `checkpoint ${t ? `has shape [${t.shape}] for` : "lacks"} "${name}" ` +
              `(expected [${tensor.shape}]): it was written for a different model configuration`,
          );
        }
      }
      for (const { name, tensor } of state) (tensor as tf.Variable).assign(tensors[name]);
      for (const opt of this.optimizers) await opt.restore();
      return Number(metadata.step ?? 0);
    } finally {
      tf.dispose(Object.values(tensors));
    }
  }

  /** Release every tensor this member owns. */
  dispose(): void {
    for (const opt of this.optimizers) opt.dispose();
    this.params.dispose();
  }
}

/**
 * Build a WGAN-GP member from its config (weights initialised from `config.seed`).
 *
 * @example
 * ```ts
 * const member = createWganMember(defaultWganConfig({ seed: 3 }));
 * ```
 */
export function createWganMember(config: MemberConfig): Member {
  return new WganMember(config as WganMemberConfig);
}
