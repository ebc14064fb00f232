/**
 * Checkpoints in the tfjs weights format: `model.json` (a weights manifest plus our metadata)
 * and a weights file (the raw tensors, `tf.io.encodeWeights`), in one directory.
 *
 * The weights go to a new file named by their content (`weights-<sha256 prefix>.bin`), then
 * `model.json`, which names that file, is renamed into place: that one rename commits the
 * checkpoint, so a kill at any moment leaves either the old checkpoint or the new one, whole.
 * Superseded weight files are removed afterwards. `model.json` also records the byte length and
 * SHA-256 of the weights, so a truncated or hand-mixed copy is a clear error.
 */
import { tf } from "../deps.ts";
import { writeFileAtomic, writeJsonAtomic } from "../core/atomic.ts";
import { fileError } from "../core/errors.ts";
import { sha256Hex } from "../core/hash.ts";

/** The manifest's file name inside a checkpoint directory. */
export const MODEL_JSON = "model.json";
/** Prefix and suffix of the weight files a manifest names (`weights-<hash>.bin`). */
const WEIGHTS_PREFIX = "weights";
const WEIGHTS_SUFFIX = ".bin";
const FORMAT = "gensemble-checkpoint-v1";

/** A checkpoint's contents: named tensors plus JSON-serialisable metadata. */
export interface Checkpoint {
  tensors: Record<string, tf.Tensor>;
  metadata: Record<string, unknown>;
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
  const sha = await sha256Hex(bytes);
  const weightsFile = `${WEIGHTS_PREFIX}-${sha.slice(0, 16)}${WEIGHTS_SUFFIX}`;
  await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(`${dir}/${weightsFile}`, bytes);
  // This rename is the commit point: before it the old manifest (and its weights) still stand.
  await writeJsonAtomic(`${dir}/${MODEL_JSON}`, {
    format: FORMAT,
    generatedBy: "gensemble",
    weightsManifest: [{ paths: [weightsFile], weights: specs }],
    weightsBytes: bytes.byteLength,
    weightsSha256: sha,
    userDefinedMetadata: metadata,
  });
  for await (const entry of Deno.readDir(dir)) {
    const stale = entry.isFile && entry.name !== weightsFile &&
      entry.name.startsWith(WEIGHTS_PREFIX) && entry.name.endsWith(WEIGHTS_SUFFIX);
    if (stale) await Deno.remove(`${dir}/${entry.name}`).catch(() => {});
  }
}

/** Whether `dir` holds a checkpoint (its model.json exists). */
export async function checkpointExists(dir: string): Promise<boolean> {
  try {
    return (await Deno.stat(`${dir}/${MODEL_JSON}`)).isFile;
  } catch {
    return false;
  }
}

/** The path of the weights file that `dir`'s model.json names (`weights-<hash>.bin`). */
export async function checkpointWeightsPath(dir: string): Promise<string> {
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/${MODEL_JSON}`));
  return `${dir}/${manifest.weightsManifest[0].paths[0]}`;
}

/** Read a checkpoint written by `saveCheckpoint`; the caller owns (and disposes) the tensors. */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const jsonPath = `${dir}/${MODEL_JSON}`;
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
  const paths = manifest.weightsManifest.flatMap((group) => group.paths);
  const weightsName = paths[0];
  if (paths.length !== 1 || !/^[\w.-]+$/.test(weightsName)) {
    throw fileError(jsonPath, "must name exactly one weights file in this directory");
  }
  const binPath = `${dir}/${weightsName}`;
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
