/**
 * The supervised baseline of the tabular experiments (the reference's `NNclassifier.py`): a dense
 * network trained on labelled normal and anomalous rows with a class-weighted sigmoid
 * cross-entropy and Adam, whose logit is the anomaly score (higher = more anomalous).
 *
 *   x [B, F] → (dense h, ReLU)* → dense 1 → logit ℓ
 *   loss = mean_b w_b · (softplus(ℓ_b) − y_b·ℓ_b),   w_b = 1 + (positiveWeight − 1)·y_b
 *
 * Split (the reference's): 100 normal and 100 anomalous rows held out for test, the rest for
 * training. Two deliberate differences from the reference, both to make the baseline a fair,
 * strong one: its hidden layers had no activation (so the network was linear), ours use ReLU;
 * its anomaly weight was the constant 581 (the credit-card class ratio), ours is the class ratio
 * of the training rows, which is that same idea for any data set.
 *
 * @example
 * ```ts
 * const clf = new DenseClassifier(30, { seed: 0 });
 * clf.fit(x01, labels);          // x01: [N, 30] in [0, 1], labels: 0 normal / 1 anomaly
 * const scores = clf.logits(test01);
 * clf.dispose();
 * ```
 */
import { tf } from "../deps.ts";
import { Rng } from "../core/rng.ts";
import { GensembleError } from "../core/errors.ts";
import { Adam } from "./adam.ts";
import { deriveSeed, glorotUniform, ParamStore } from "./params.ts";

/** Classifier hyperparameters. */
export interface ClassifierConfig {
  /** Hidden layer sizes (the reference: [512, 512]). */
  hidden: number[];
  learningRate: number;
  batchSize: number;
  /** Passes over the training rows (the reference: 10)... */
  epochs: number;
  /** ...but at most this many steps (keeps big sets affordable on a CPU). */
  maxSteps: number;
  /** Loss weight of an anomalous row; default: #normal / #anomalous of the training rows. */
  positiveWeight?: number;
  seed: number;
}

/** The defaults: the reference's width, epochs and batch size, Adam 1e-3, at most 3000 steps. */
export const DEFAULT_CLASSIFIER_CONFIG: ClassifierConfig = {
  hidden: [512, 512],
  learningRate: 1e-3,
  batchSize: 100,
  epochs: 10,
  maxSteps: 3000,
  seed: 0,
};

/** What `fit` reports. */
export interface ClassifierFitSummary {
  steps: number;
  /** Mean loss over the last epoch's steps (or the last 100 steps). */
  finalLoss: number;
  positiveWeight: number;
  seconds: number;
}

interface DenseLayer {
  kernel: tf.Variable; // [nIn, nOut]
  bias: tf.Variable; // [nOut]
}

/** A dense binary classifier; its logit is an anomaly score. */
export class DenseClassifier {
  readonly config: ClassifierConfig;
  readonly inputSize: number;
  private readonly params = new ParamStore();
  private readonly layers: DenseLayer[] = [];

  constructor(inputSize: number, config: Partial<ClassifierConfig> = {}) {
    this.config = { ...DEFAULT_CLASSIFIER_CONFIG, ...config };
    this.inputSize = inputSize;
    const rng = new Rng(deriveSeed(this.config.seed, "classifier"));
    const sizes = [inputSize, ...this.config.hidden, 1];
    for (let i = 0; i + 1 < sizes.length; i++) {
      const [nIn, nOut] = [sizes[i], sizes[i + 1]];
      this.layers.push({
        kernel: this.params.add(
          `dense${i}/kernel`,
          [nIn, nOut],
          glorotUniform(rng, nIn * nOut, nIn, nOut),
        ),
        bias: this.params.add(`dense${i}/bias`, [nOut], new Float32Array(nOut)),
      });
    }
  }

  /** Logits [N] for x [N, F]. */
  apply(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      let h: tf.Tensor2D = x;
      this.layers.forEach((layer, i) => {
        h = tf.add(tf.matMul(h, layer.kernel), layer.bias) as tf.Tensor2D;
        if (i + 1 < this.layers.length) h = tf.relu(h);
      });
      return tf.reshape(h, [-1]) as tf.Tensor1D;
    });
  }

  /**
   * Train on `[N, F]` rows (already scaled) with 0/1 labels; deterministic for a seed.
   */
  fit(x: Float32Array, labels: ArrayLike<number>): ClassifierFitSummary {
    const started = performance.now();
    const f = this.inputSize;
    const n = labels.length;
    if (x.length !== n * f) {
      throw new Error(`DenseClassifier.fit: ${x.length} values for ${n} rows of ${f} features`);
    }
    let nPos = 0;
    for (let i = 0; i < n; i++) nPos += labels[i] === 1 ? 1 : 0;
    if (nPos === 0 || nPos === n) {
      throw new GensembleError(
        `The classifier needs both normal and anomalous training rows (got ${n - nPos} normal, ` +
          `${nPos} anomalous)`,
      );
    }
    const positiveWeight = this.config.positiveWeight ?? (n - nPos) / nPos;
    const batch = Math.min(this.config.batchSize, n);
    const stepsPerEpoch = Math.max(1, Math.floor(n / batch));
    const steps = Math.min(this.config.maxSteps, this.config.epochs * stepsPerEpoch);
    // Built inside tidy: Adam's constructor leaves the zerosLike its slots start from undisposed.
    let adam!: Adam;
    tf.tidy(() => {
      adam = new Adam(this.params.variables, {
        learningRate: this.config.learningRate,
        maxSteps: steps,
      });
    });
    const xb = new Float32Array(batch * f);
    const yb = new Float32Array(batch);
    let perm: Int32Array = new Int32Array(0);
    const recent: number[] = [];
    const window = Math.min(stepsPerEpoch, 100);
    try {
      for (let step = 0; step < steps; step++) {
        const b = step % stepsPerEpoch;
        if (b === 0) {
          perm = new Rng(deriveSeed(this.config.seed, "classifier-batches", step)).permutation(n);
        }
        for (let i = 0; i < batch; i++) {
          const r = perm[b * batch + i];
          xb.set(x.subarray(r * f, (r + 1) * f), i * f);
          yb[i] = labels[r];
        }
        const loss = tf.tidy(() => {
          const xt = tf.tensor2d(xb, [batch, f]);
          const yt = tf.tensor1d(yb);
          const w = tf.add(tf.mul(yt, positiveWeight - 1), 1); // [B] 1 or positiveWeight
          const { value, grads } = tf.variableGrads(() => {
            const logits = this.apply(xt);
            const ce = tf.sub(tf.softplus(logits), tf.mul(yt, logits)); // [B]
            return tf.mean(tf.mul(ce, w)) as tf.Scalar;
          }, this.params.variables);
          adam.apply(this.params.variables.map((v) => grads[v.name]), step);
          return value;
        });
        recent.push(loss.dataSync()[0]);
        loss.dispose();
        if (recent.length > window) recent.shift();
        if (!Number.isFinite(recent[recent.length - 1])) {
          throw new GensembleError(
            `The classifier diverged at step ${step + 1}; lower its learning rate`,
          );
        }
      }
    } finally {
      adam.dispose();
    }
    return {
      steps,
      finalLoss: recent.reduce((a, b) => a + b, 0) / Math.max(1, recent.length),
      positiveWeight,
      seconds: (performance.now() - started) / 1000,
    };
  }

  /** Anomaly scores (logits) for `[N, F]` rows, in chunks of 8192 rows. */
  logits(x: Float32Array): Float32Array {
    const f = this.inputSize;
    const n = x.length / f;
    const out = new Float32Array(n);
    const chunk = 8192;
    for (let start = 0; start < n; start += chunk) {
      const size = Math.min(chunk, n - start);
      const t = tf.tidy(() =>
        this.apply(tf.tensor2d(x.subarray(start * f, (start + size) * f), [size, f]))
      );
      out.set(t.dataSync(), start);
      t.dispose();
    }
    return out;
  }

  /** Release the weights. */
  dispose(): void {
    this.params.dispose();
  }
}

/**
 * The reference's split: `testNormal` normal and `testAnomalous` anomalous rows (seeded choice)
 * held out for test, the rest for training. Both index lists ascend.
 *
 * @example
 * ```ts
 * const { train, test } = referenceSplit(labels, 0); // test: 100 normal + 100 anomalous rows
 * ```
 */
export function referenceSplit(
  labels: ArrayLike<number>,
  seed: number,
  counts: { testNormal?: number; testAnomalous?: number } = {},
): { train: Int32Array; test: Int32Array } {
  const normal: number[] = [];
  const anomalous: number[] = [];
  for (let i = 0; i < labels.length; i++) (labels[i] === 1 ? anomalous : normal).push(i);
  const testNormal = counts.testNormal ?? 100;
  const testAnomalous = counts.testAnomalous ?? 100;
  if (normal.length <= testNormal || anomalous.length <= testAnomalous) {
    throw new GensembleError(
      `Cannot hold out ${testNormal} normal and ${testAnomalous} anomalous rows for test: the ` +
        `data has ${normal.length} normal and ${anomalous.length} anomalous rows`,
    );
  }
  const rng = new Rng(deriveSeed(seed, "reference-split"));
  const pn = rng.permutation(normal.length);
  const pa = rng.permutation(anomalous.length);
  const test: number[] = [];
  const train: number[] = [];
  pn.forEach((p, i) => (i < testNormal ? test : train).push(normal[p]));
  pa.forEach((p, i) => (i < testAnomalous ? test : train).push(anomalous[p]));
  return {
    train: Int32Array.from(train).sort(),
    test: Int32Array.from(test).sort(),
  };
}
