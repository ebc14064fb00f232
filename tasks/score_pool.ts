/**
 * Scoring members on a set of inputs, in batches, either in this thread or in a pool of Deno
 * Workers (members are independent, and the wasm backend runs one thread per worker, so W workers
 * use up to W cores). Each worker keeps the members it was given loaded; member j of the
 * evaluated list always goes to worker j mod W. Results are identical either way: the same
 * backend runs the same ops on the same batches.
 */
import { tf } from "../deps.ts";
import { GensembleError } from "../core/errors.ts";
import type { Member, MemberConfig, MemberScores } from "../models/member.ts";
import type { Dataset } from "../data/types.ts";
import { customKernelsEnabled } from "../kernels/ops.ts";
import { createMember } from "./member_factory.ts";

/**
 * Score `ds` [N, ...shape] with one member in batches of `batchSize` (the member's score noise is
 * drawn per call, so the batching is part of the result); `tick(done)` after each batch.
 */
export async function scoreInBatches(
  member: Member,
  ds: Pick<Dataset, "x" | "shape">,
  nSamples: number,
  batchSize: number,
  tick: (done: number) => void = () => {},
): Promise<MemberScores> {
  // tfjs-webgpu cannot read tensors back synchronously in Deno: use the async twin there.
  const useAsync = tf.getBackend() === "webgpu" && member.scoreAsync !== undefined;
  const n = ds.shape[0];
  const per = n === 0 ? 0 : ds.x.length / n;
  const exampleShape = ds.shape.slice(1);
  const parts: MemberScores[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const b = Math.min(batchSize, n - start);
    const xb = tf.tensor(ds.x.subarray(start * per, (start + b) * per), [b, ...exampleShape]);
    try {
      parts.push(useAsync ? await member.scoreAsync!(xb, nSamples) : member.score(xb, nSamples));
    } finally {
      xb.dispose();
    }
    tick(start + b);
  }
  const join = (pick: (s: MemberScores) => Float32Array | undefined): Float32Array | undefined => {
    if (parts.length === 0 || parts.some((p) => pick(p) === undefined)) return undefined;
    const out = new Float32Array(parts.reduce((s, p) => s + pick(p)!.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(pick(p)!, off);
      off += pick(p)!.length;
    }
    return out;
  };
  return {
    logLik: join((s) => s.logLik) ?? new Float32Array(0),
    rate: join((s) => s.rate),
    posteriorMean: join((s) => s.posteriorMean),
  };
}

/** A member to score with: its config (seed included) and checkpoint directory. */
export interface MemberRef {
  index: number;
  config: MemberConfig;
  dir: string;
}

/** A request to a score worker. */
export type ScoreRequest =
  | { type: "init"; backend: string; customKernels: boolean }
  | {
    type: "score";
    id: number;
    member: MemberRef;
    x: Float32Array;
    shape: number[];
    nSamples: number;
    batchSize: number;
  };

/** A score worker's answer. */
export type ScoreReply =
  | { type: "ready" }
  | { type: "progress"; id: number; done: number }
  | { type: "scored"; id: number; scores: MemberScores }
  | { type: "error"; id: number; message: string; userError: boolean; stack?: string };

/** Scores members on sets, in this thread (workers = 0) or in worker threads. */
export interface ScorePool {
  /** Score `ds` with `member`; `tick(done)` reports progress. */
  score(
    member: MemberRef,
    ds: Pick<Dataset, "x" | "shape">,
    nSamples: number,
    batchSize: number,
    tick?: (done: number) => void,
  ): Promise<MemberScores>;
  /** The member loaded in this thread (for FGSM), loading it on first use. */
  local(member: MemberRef): Promise<Member>;
  close(): void;
}

async function loadMember(ref: MemberRef): Promise<Member> {
  const m = await createMember(ref.config);
  try {
    await m.load(ref.dir);
  } catch (err) {
    m.dispose();
    throw err;
  }
  return m;
}

/**
 * A pool of `workers` score workers (0 = score in this thread). Worker j serves the members whose
 * position in `order` is j mod workers.
 */
export function createScorePool(
  workers: number,
  backend: string,
  order: readonly number[],
): ScorePool {
  const locals = new Map<number, Member>();
  const local = async (ref: MemberRef): Promise<Member> => {
    let m = locals.get(ref.index);
    if (!m) {
      m = await loadMember(ref);
      locals.set(ref.index, m);
    }
    return m;
  };
  if (workers <= 0) {
    return {
      async score(ref, ds, nSamples, batchSize, tick) {
        return scoreInBatches(await local(ref), ds, nSamples, batchSize, tick);
      },
      local,
      close() {
        for (const m of locals.values()) m.dispose();
        locals.clear();
      },
    };
  }

  const pending = new Map<
    number,
    { resolve: (s: MemberScores) => void; reject: (e: Error) => void; tick?: (d: number) => void }
  >();
  let nextId = 0;
  let failed: Error | null = null; // a worker died: later requests fail at once instead of hanging
  const pool: Worker[] = [];
  for (let w = 0; w < workers; w++) {
    const worker = new Worker(new URL("./score_worker.ts", import.meta.url).href, {
      type: "module",
    });
    worker.onmessage = (e: MessageEvent<ScoreReply>) => {
      const msg = e.data;
      if (msg.type === "ready") return;
      const p = pending.get(msg.id);
      if (!p) return;
      if (msg.type === "progress") {
        p.tick?.(msg.done);
      } else if (msg.type === "scored") {
        pending.delete(msg.id);
        p.resolve(msg.scores);
      } else {
        pending.delete(msg.id);
        const err = msg.userError ? new GensembleError(msg.message) : new Error(msg.message);
        if (msg.stack && !msg.userError) err.stack = msg.stack;
        p.reject(err);
      }
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      failed = new Error(`Score worker failed: ${e.message}`);
      for (const [id, p] of pending) {
        pending.delete(id);
        p.reject(new Error(`Score worker failed: ${e.message}`));
      }
    };
    worker.postMessage(
      { type: "init", backend, customKernels: customKernelsEnabled() } satisfies ScoreRequest,
    );
    pool.push(worker);
  }
  const workerFor = (index: number): Worker => {
    const pos = order.indexOf(index);
    return pool[(pos < 0 ? index : pos) % pool.length];
  };
  return {
    score(ref, ds, nSamples, batchSize, tick) {
      const id = nextId++;
      if (failed) return Promise.reject(failed);
      return new Promise<MemberScores>((resolve, reject) => {
        pending.set(id, { resolve, reject, tick });
        const req: ScoreRequest = {
          type: "score",
          id,
          member: ref,
          x: ds.x,
          shape: ds.shape,
          nSamples,
          batchSize,
        };
        workerFor(ref.index).postMessage(req);
      });
    },
    local,
    close() {
      for (const w of pool) w.terminate();
      for (const m of locals.values()) m.dispose();
      locals.clear();
    },
  };
}
