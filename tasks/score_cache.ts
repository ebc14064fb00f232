/**
 * Per-member score cache in the run dir: `member-<i>/scores/<set>.json` (the key and layout) and
 * `member-<i>/scores/<set>.f32` (logLik, rate, posterior means as little-endian float32).
 *
 * An entry is valid only for the same set fingerprint (how the set was built), the same
 * checkpoint (step and a digest of the weights, so a retrained member invalidates it), the same
 * K and the same backend. Writes are atomic: the .f32 first, then the .json that names it, so a
 * crash never leaves a .json pointing at a half-written .f32.
 */
import { sha256Hex } from "../core/hash.ts";
import { writeFileAtomic, writeJsonAtomic } from "../core/atomic.ts";
import type { MemberScores } from "../models/member.ts";

/** What a cached entry must match to be reused. */
export interface ScoreCacheKey {
  /** The OoD set's name (also the file name). */
  set: string;
  /** Digest of how the set was built (source, n, seed, attacked checkpoint...). */
  setFingerprint: string;
  /** The member's checkpoint step and a digest of its weights. */
  checkpointStep: number;
  checkpointDigest: string;
  /** Posterior samples for the IWAE bound. */
  nSamples: number;
  backend: string;
}

interface CacheFile extends ScoreCacheKey {
  version: 1;
  n: number;
  latentSize: number;
  hasRate: boolean;
  hasPosteriorMean: boolean;
  /** Bytes in the .f32 file, checked on read. */
  bytes: number;
}

const SAFE_NAME = /^[A-Za-z0-9_.-]+$/;

function paths(memberDir: string, set: string): { json: string; bin: string } {
  if (!SAFE_NAME.test(set)) throw new Error(`Score cache: unsafe set name "${set}"`);
  const dir = `${memberDir}/scores`;
  return { json: `${dir}/${set}.json`, bin: `${dir}/${set}.f32` };
}

function sameKey(a: ScoreCacheKey, b: ScoreCacheKey): boolean {
  return a.set === b.set && a.setFingerprint === b.setFingerprint &&
    a.checkpointStep === b.checkpointStep && a.checkpointDigest === b.checkpointDigest &&
    a.nSamples === b.nSamples && a.backend === b.backend;
}

/**
 * Read a member's cached scores for a set; null on a miss (absent, stale key, or damaged file).
 *
 * @example
 * ```ts
 * const hit = await readScoreCache("runs/mnist-vae/member-0", key);
 * if (!hit) { const s = member.score(x); await writeScoreCache(dir, key, s); }
 * ```
 */
export async function readScoreCache(
  memberDir: string,
  key: ScoreCacheKey,
): Promise<MemberScores | null> {
  const p = paths(memberDir, key.set);
  let meta: CacheFile;
  try {
    meta = JSON.parse(await Deno.readTextFile(p.json));
  } catch {
    return null;
  }
  if (meta.version !== 1 || !sameKey(meta, key)) return null;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(p.bin);
  } catch {
    return null;
  }
  if (bytes.length !== meta.bytes || bytes.length % 4 !== 0) return null;
  // Copy into an aligned buffer: readFile's Uint8Array may not start at a 4-byte offset.
  const all = new Float32Array(bytes.slice().buffer);
  const n = meta.n;
  const expected = n * (1 + (meta.hasRate ? 1 : 0) + (meta.hasPosteriorMean ? meta.latentSize : 0));
  if (all.length !== expected) return null;
  const out: MemberScores = { logLik: all.slice(0, n) };
  let off = n;
  if (meta.hasRate) {
    out.rate = all.slice(off, off + n);
    off += n;
  }
  if (meta.hasPosteriorMean) out.posteriorMean = all.slice(off, off + n * meta.latentSize);
  return out;
}

/** Write a member's scores for a set, atomically (the .f32, then the .json key). */
export async function writeScoreCache(
  memberDir: string,
  key: ScoreCacheKey,
  scores: MemberScores,
): Promise<void> {
  const p = paths(memberDir, key.set);
  await Deno.mkdir(`${memberDir}/scores`, { recursive: true });
  const n = scores.logLik.length;
  const latentSize = scores.posteriorMean ? scores.posteriorMean.length / n : 0;
  const parts = [scores.logLik, scores.rate, scores.posteriorMean].filter(
    (a): a is Float32Array => a !== undefined,
  );
  const total = parts.reduce((s, a) => s + a.length, 0);
  const flat = new Float32Array(total);
  let off = 0;
  for (const a of parts) {
    flat.set(a, off);
    off += a.length;
  }
  await writeFileAtomic(p.bin, new Uint8Array(flat.buffer));
  const meta: CacheFile = {
    version: 1,
    ...key,
    n,
    latentSize,
    hasRate: scores.rate !== undefined,
    hasPosteriorMean: scores.posteriorMean !== undefined,
    bytes: flat.byteLength,
  };
  await writeJsonAtomic(p.json, meta);
}

/**
 * A digest of a member's checkpoint, so a retrained member with the same step still invalidates
 * its cache: the model.json alone when it records its weights' SHA-256 (gensemble checkpoints
 * do), else every top-level file of the dir but the training log and temp files.
 */
export async function checkpointDigest(memberDir: string): Promise<string> {
  try {
    const text = await Deno.readTextFile(`${memberDir}/model.json`);
    if (typeof JSON.parse(text)?.weightsSha256 === "string") {
      return (await sha256Hex(text)).slice(0, 16);
    }
  } catch {
    // No readable model.json: fall back to hashing the files.
  }
  const names: string[] = [];
  for await (const e of Deno.readDir(memberDir)) {
    if (e.isFile && !e.name.endsWith(".tmp") && !e.name.endsWith(".jsonl")) names.push(e.name);
  }
  names.sort();
  const parts: string[] = [];
  for (const f of names) parts.push(f, await sha256Hex(await Deno.readFile(`${memberDir}/${f}`)));
  return (await sha256Hex(parts.join(":"))).slice(0, 16);
}
