/**
 * Named trainable parameters and their seeded initialisers.
 *
 * Every network in a member registers its weights here under a stable, readable name
 * ("encoder/dense0/kernel", "prior/made3/out/bias"); checkpoints and the optimizer key on those
 * names, while the underlying tf.Variables keep tfjs's auto-generated (globally unique) names so
 * that several members can live in one process. Initial values come from `core/rng.ts`, not from
 * tfjs's random ops, so the same seed gives the same weights on every backend.
 */
import { tf } from "../deps.ts";
import type { Rng } from "../core/rng.ts";

/** An ordered collection of named tf.Variables (one member's trainable weights). */
export class ParamStore {
  private readonly byName = new Map<string, tf.Variable>();

  /** Register a new trainable variable holding `values` (copied) with the given shape. */
  add(name: string, shape: number[], values: Float32Array): tf.Variable {
    if (this.byName.has(name)) throw new Error(`Parameter "${name}" is registered twice`);
    const variable = tf.tidy(() => tf.variable(tf.tensor(values, shape, "float32"), true));
    this.byName.set(name, variable);
    return variable;
  }

  /** Parameter names in registration order. */
  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** Variables in registration order (the order gradients and optimizer slots use). */
  get variables(): tf.Variable[] {
    return [...this.byName.values()];
  }

  /** The variable registered under `name`. */
  get(name: string): tf.Variable {
    const v = this.byName.get(name);
    if (!v) throw new Error(`No parameter named "${name}"`);
    return v;
  }

  /** Total number of scalar weights. */
  get size(): number {
    let n = 0;
    for (const v of this.byName.values()) n += v.size;
    return n;
  }

  /** Release every variable. */
  dispose(): void {
    for (const v of this.byName.values()) v.dispose();
    this.byName.clear();
  }
}

/** A 32-bit seed derived from a base seed and a label, so that sub-streams are unrelated. */
export function deriveSeed(seed: number, ...labels: Array<string | number>): number {
  // FNV-1a over the decimal seed and the labels.
  let h = 0x811c9dc5;
  for (const ch of [String(seed), ...labels.map(String)].join("/")) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // Never 0: tfjs's random ops treat seed 0 as "no seed" and draw from Math.random.
  return (h >>> 0) || 1;
}

/** Glorot (Xavier) uniform values in ±sqrt(6 / (fanIn + fanOut)): the Keras default kernel init. */
export function glorotUniform(rng: Rng, size: number, fanIn: number, fanOut: number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (2 * rng.uniform() - 1) * limit;
  return out;
}

/** Glorot normal values, N(0, 2 / (fanIn + fanOut)), untruncated (as torch's xavier_normal_). */
export function glorotNormal(rng: Rng, size: number, fanIn: number, fanOut: number): Float32Array {
  const std = Math.sqrt(2 / (fanIn + fanOut));
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.normal() * std;
  return out;
}
