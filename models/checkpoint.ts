/**
 * Checkpoints in the tfjs weights format: `model.json` (a weights manifest plus our metadata)
 * and `weights.bin` (the raw tensors, `tf.io.encodeWeights`), in one directory.
 *
 * Both files are written atomically (temp file + rename), weights first. `model.json` records
 * the byte length and SHA-256 of `weights.bin`, so a crash between the two renames, or a
 * truncated copy, is reported as a clear error instead of loading mismatched weights.
 */
import { tf } from "../deps.ts";
import { writeFileAtomic, writeJsonAtomic } from "../core/atomic.ts";
import { fileError } from "../core/errors.ts";

/** The file names inside a checkpoint directory. */
export const MODEL_JSON = "model.json";
export const WEIGHTS_BIN = "weights.bin";
const FORMAT = "gensemble-checkpoint-v1";

/** A checkpoint's contents: named tensors plus JSON-serialisable metadata. */
export interface Checkpoint {
  tensors: Record<string, tf.Tensor>;
  metadata: Record<string, unknown>;
}

async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Write named tensors and metadata to `dir` (created if missing), atomically per file.
 *
 * @example
 * ```ts
 * await saveCheckpoint("runs/mnist-vae/member-0", [{ name: "w", tensor: w }], { step: 100 });
 * ```
 */
export async function saveCheckpoint(
  dir: string,
  tensors: Array<{ name: string; tensor: tf.Tensor }>,
  metadata: Record<string, unknown>,
): Promise<void> {
  const seen = new Set<string>();
  for (const { name } of tensors) {
    if (seen.has(name)) throw new Error(`Checkpoint tensor name "${name}" is used twice`);
    seen.add(name);
  }
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const bytes = new Uint8Array(data);
  await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(`${dir}/${WEIGHTS_BIN}`, bytes);
  await writeJsonAtomic(`${dir}/${MODEL_JSON}`, {
    format: FORMAT,
    generatedBy: "gensemble",
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: specs }],
    weightsBytes: bytes.byteLength,
    weightsSha256: await sha256Hex(bytes),
    userDefinedMetadata: metadata,
  });
}

/** Whether `dir` holds a checkpoint (its model.json exists). */
export async function checkpointExists(dir: string): Promise<boolean> {
  try {
    return (await Deno.stat(`${dir}/${MODEL_JSON}`)).isFile;
  } catch {
    return false;
  }
}

/** Read a checkpoint written by `saveCheckpoint`; the caller owns (and disposes) the tensors. */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const jsonPath = `${dir}/${MODEL_JSON}`;
  const binPath = `${dir}/${WEIGHTS_BIN}`;
  let manifest: {
    format?: string;
    weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
    weightsBytes?: number;
    weightsSha256?: string;
    userDefinedMetadata?: Record<string, unknown>;
  };
  try {
    manifest = JSON.parse(await Deno.readTextFile(jsonPath));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw fileError(jsonPath, "no checkpoint here");
    throw fileError(jsonPath, `not a readable checkpoint manifest (${(err as Error).message})`);
  }
  if (manifest.format !== FORMAT || !Array.isArray(manifest.weightsManifest)) {
    throw fileError(jsonPath, `not a gensemble checkpoint (expected format "${FORMAT}")`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(binPath);
  } catch {
    throw fileError(binPath, "missing: the checkpoint is incomplete");
  }
  if (bytes.byteLength !== manifest.weightsBytes) {
    throw fileError(
      binPath,
      `has ${bytes.byteLength} bytes but model.json expects ${manifest.weightsBytes}; ` +
        "the checkpoint is truncated or from another run",
    );
  }
  if ((await sha256Hex(bytes)) !== manifest.weightsSha256) {
    throw fileError(binPath, "does not match model.json (SHA-256 differs): checkpoint is damaged");
  }
  const specs = manifest.weightsManifest.flatMap((group) => group.weights);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const tensors = tf.io.decodeWeights(buffer as ArrayBuffer, specs);
  return { tensors, metadata: manifest.userDefinedMetadata ?? {} };
}
