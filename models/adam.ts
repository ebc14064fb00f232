/**
 * Adam with the reference's cosine learning-rate decay, with its state in plain named tensors so
 * that a checkpoint holds it and a resumed run takes exactly the step it would have taken.
 *
 *   lr(step) = lr₀ · ½ (1 + cos(π · min(step, maxSteps) / maxSteps))   (tf.train.cosine_decay, α = 0)
 *   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  θ ← θ − lr/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + ε)
 *
 * (the update of torch.optim.Adam and tf.train.AdamOptimizer, ε outside the bias correction).
 */
import { tf } from "../deps.ts";

/** Adam hyperparameters. */
export interface AdamOptions {
  learningRate: number;
  /** Steps of the cosine decay; the rate is 0 from here on. */
  maxSteps: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** The cosine-decayed learning rate at `step`. */
export function cosineDecay(learningRate: number, step: number, maxSteps: number): number {
  const s = Math.min(Math.max(step, 0), maxSteps);
  return learningRate * 0.5 * (1 + Math.cos(Math.PI * s / Math.max(maxSteps, 1)));
}

/**
 * Where the moments live and the update runs. "host": Float32Arrays updated in a JS loop, which on
 * the cpu and wasm backends is ~3× faster than 13 elementwise tensor kernels per weight (one pass
 * instead of thirteen over 3M weights). "tensor": tf ops, so GPU weights never leave the device.
 */
export type AdamMode = "host" | "tensor";

/** Adam over a fixed list of variables. */
export class Adam {
  /** Number of updates applied so far (Adam's t before the next update). */
  updates = 0;
  readonly mode: AdamMode;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly m: Array<tf.Variable | Float32Array>;
  private readonly v: Array<tf.Variable | Float32Array>;

  constructor(
    private readonly variables: tf.Variable[],
    readonly options: AdamOptions,
    mode?: AdamMode,
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.mode = mode ?? (tf.getBackend() === "webgpu" ? "tensor" : "host");
    // Slots exist from the start, so the tensor count never changes across steps.
    const slot = (v: tf.Variable) =>
      this.mode === "host"
        ? new Float32Array(v.size)
        : tf.tidy(() => tf.variable(tf.zerosLike(v), false));
    this.m = variables.map(slot);
    this.v = variables.map(slot);
  }

  /** Apply one update with gradients in the variables' order, at schedule position `step`. */
  apply(grads: Array<tf.Tensor | undefined>, step: number): void {
    const lr = cosineDecay(this.options.learningRate, step, this.options.maxSteps);
    const t = this.updates + 1;
    const stepSize = lr / (1 - Math.pow(this.beta1, t));
    const sqrtBias2 = Math.sqrt(1 - Math.pow(this.beta2, t));
    const { beta1, beta2, epsilon } = this;
    this.variables.forEach((variable, i) => {
      const g = grads[i];
      if (!g) return; // a weight the loss does not reach keeps its value
      if (this.mode === "host") {
        const m = this.m[i] as Float32Array, v = this.v[i] as Float32Array;
        const gs = g.dataSync() as Float32Array;
        const p = variable.dataSync().slice() as Float32Array;
        for (let j = 0; j < p.length; j++) {
          const gj = gs[j];
          const mj = (m[j] = beta1 * m[j] + (1 - beta1) * gj);
          const vj = (v[j] = beta2 * v[j] + (1 - beta2) * gj * gj);
          p[j] -= stepSize * mj / (Math.sqrt(vj) / sqrtBias2 + epsilon);
        }
        tf.tidy(() => variable.assign(tf.tensor(p, variable.shape)));
        return;
      }
      tf.tidy(() => {
        const mi = this.m[i] as tf.Variable, vi = this.v[i] as tf.Variable;
        const m = tf.add(tf.mul(mi, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(vi, beta2), tf.mul(tf.square(g), 1 - beta2));
        const denom = tf.add(tf.div(tf.sqrt(v), sqrtBias2), epsilon);
        variable.assign(tf.sub(variable, tf.mul(tf.div(m, denom), stepSize)));
        mi.assign(m);
        vi.assign(v);
      });
    });
    this.updates = t;
  }

  /** The moment tensors, named after `names` (the variables' parameter names); caller disposes. */
  state(names: string[]): Array<{ name: string; tensor: tf.Tensor }> {
    const asTensor = (s: tf.Variable | Float32Array, i: number) =>
      s instanceof Float32Array ? tf.tensor(s, this.variables[i].shape) : tf.clone(s);
    return [
      ...names.map((n, i) => ({ name: `adam/m/${n}`, tensor: asTensor(this.m[i], i) })),
      ...names.map((n, i) => ({ name: `adam/v/${n}`, tensor: asTensor(this.v[i], i) })),
    ];
  }

  /** Restore moments from named tensors (as written by `state`) and the update count. */
  setState(names: string[], tensors: Record<string, tf.Tensor>, updates: number): void {
    const restore = (slots: Array<tf.Variable | Float32Array>, i: number, t: tf.Tensor) => {
      const s = slots[i];
      if (s instanceof Float32Array) s.set(t.dataSync() as Float32Array);
      else s.assign(t);
    };
    names.forEach((n, i) => {
      restore(this.m, i, tensors[`adam/m/${n}`]);
      restore(this.v, i, tensors[`adam/v/${n}`]);
    });
    this.updates = updates;
  }

  /** Release the moment variables. */
  dispose(): void {
    for (const s of [...this.m, ...this.v]) if (!(s instanceof Float32Array)) s.dispose();
  }
}
