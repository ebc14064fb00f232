/**
 * The run directory and its config.json: where a run's files live and how a run is described, so
 * that train, eval and score agree on one layout (DESIGN.md "Artifacts"):
 *
 *   runs/<dataset>-<model>/config.json                 this file's RunConfig
 *   runs/<dataset>-<model>/member-<i>/model.json        latest checkpoint (Member.save)
 *   runs/<dataset>-<model>/member-<i>/weights-<hash>.bin
 *   runs/<dataset>-<model>/member-<i>/train_log.jsonl   one JSON object per logged step
 *   runs/<dataset>-<model>/member-<i>/scores/           eval's score cache
 *   runs/<dataset>-<model>/eval/                        results.json, results.md, report
 */
import { exists } from "../core/fs.ts";
import { readJsonIfExists } from "../core/json_file.ts";
import { writeJsonAtomic } from "../core/atomic.ts";
import { fileError } from "../core/errors.ts";
import type { MemberConfig } from "../models/member.ts";
import denoJson from "../deno.json" with { type: "json" };

/** The toolkit version written into config.json. */
export const GENSEMBLE_VERSION: string = denoJson.version;

/** Everything needed to rebuild a run's members; written by train, read by eval and score. */
export interface RunConfig {
  /** Dataset name (`mnist`) or the file a tabular set came from. */
  dataset: string;
  model: MemberConfig["model"];
  /** Preset name and the values it gave for this data kind and model. */
  preset: string;
  presetValues: Record<string, unknown>;
  /** Flags that overrode the preset, as given (e.g. `{ "latentSize": 8 }`). */
  overrides: Record<string, unknown>;
  numModels: number;
  /** Run seed; member i uses seed + i. */
  seed: number;
  /** The members' shared config (member i: `{ ...member, seed: seed + i }`). */
  member: Omit<MemberConfig, "seed">;
  saveSteps: number;
  /** The tfjs backend the run last trained on. */
  backend: string;
  /** Where the data was looked up (`--data_dir`), if given. */
  dataDir: string | null;
  /** What eval should use (from the preset): inputs per OoD set (null = all), K for IWAE. */
  eval: { maxPerSet: number | null; nSamples: number };
  createdAt: string;
  updatedAt: string;
  gensembleVersion: string;
}

/** Paths inside a run directory. */
export interface RunPaths {
  dir: string;
  config: string;
  evalDir: string;
  memberDir(i: number): string;
  /** The member's checkpoint descriptor (tfjs model.json). */
  checkpoint(i: number): string;
  trainLog(i: number): string;
}

/** `runs/<dataset>-<model>`; a dataset given as a file path contributes its base name. */
export function defaultModelDir(dataset: string, model: string): string {
  let base = dataset.split(/[\\/]/).pop() || dataset;
  while (/\.(gz|csv|tsv|npy)$/.test(base)) base = base.replace(/\.(gz|csv|tsv|npy)$/, "");
  return `runs/${base}-${model}`;
}

/**
 * The file layout of a run directory.
 *
 * @example
 * ```ts
 * runPaths("runs/mnist-vae").trainLog(2); // "runs/mnist-vae/member-2/train_log.jsonl"
 * ```
 */
export function runPaths(dir: string): RunPaths {
  const d = dir.replace(/\/+$/, "") || ".";
  return {
    dir: d,
    config: `${d}/config.json`,
    evalDir: `${d}/eval`,
    memberDir: (i) => `${d}/member-${i}`,
    checkpoint: (i) => `${d}/member-${i}/model.json`,
    trainLog: (i) => `${d}/member-${i}/train_log.jsonl`,
  };
}

/** Member i's config: the shared one with seed = run seed + i. */
export function memberConfig(run: RunConfig, i: number): MemberConfig {
  return { ...run.member, inputShape: [...run.member.inputShape], seed: run.seed + i };
}

/** Whether member i has a checkpoint in the run dir. */
export function hasCheckpoint(dir: string, i: number): Promise<boolean> {
  return exists(runPaths(dir).checkpoint(i));
}

/** Indices of the `member-<i>` directories in a run dir, ascending (none if it does not exist). */
export async function listMemberDirs(dir: string): Promise<number[]> {
  const found: number[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const m = /^member-(\d+)$/.exec(entry.name);
      if (entry.isDirectory && m) found.push(Number(m[1]));
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return found.sort((a, b) => a - b);
}

/** Indices of the `member-<i>` directories that hold a checkpoint, ascending. */
export async function listCheckpointedMembers(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const i of await listMemberDirs(dir)) if (await hasCheckpoint(dir, i)) found.push(i);
  return found;
}

const REQUIRED_KEYS = ["dataset", "model", "preset", "numModels", "seed", "member"] as const;

/**
 * Read `<dir>/config.json`; null when the run dir has none. A damaged file is a user error that
 * names the file.
 */
export async function readRunConfig(dir: string): Promise<RunConfig | null> {
  const path = runPaths(dir).config;
  const parsed = await readJsonIfExists(path, "is not valid JSON; delete it or train with --fresh");
  if (parsed === null) return null;
  const obj = parsed as Record<string, unknown>;
  const missing = REQUIRED_KEYS.filter((k) => obj?.[k] === undefined);
  if (typeof parsed !== "object" || parsed === null || missing.length > 0) {
    throw fileError(path, `is missing ${missing.join(", ")}; delete it or train with --fresh`);
  }
  return parsed as RunConfig;
}

/** Write `<dir>/config.json` atomically (creating the directory). */
export async function writeRunConfig(dir: string, config: RunConfig): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await writeJsonAtomic(runPaths(dir).config, config);
}

// Fields that may change between a run and its resumption: more steps (the schedule stretches),
// more members, another backend (weights are backend-independent), checkpoint cadence.
const RESUMABLE_MEMBER_KEYS = new Set(["maxSteps"]);

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The differences between a run on disk and the run a command asks for that make resuming
 * impossible (dataset, model, seed or any member hyperparameter but a VAE's maxSteps), as readable
 * strings like `latentSize 16 → 8`. Empty when the run can resume.
 */
export function incompatibilities(onDisk: RunConfig, requested: RunConfig): string[] {
  const out: string[] = [];
  for (const key of ["dataset", "model", "seed"] as const) {
    if (!same(onDisk[key], requested[key])) {
      out.push(`${key} ${JSON.stringify(onDisk[key])} → ${JSON.stringify(requested[key])}`);
    }
  }
  const keys = new Set([...Object.keys(onDisk.member), ...Object.keys(requested.member)]);
  // A WGAN's classifier steps are the last `extraSteps` of maxSteps: moving the end would put
  // generator iterations after classifier steps, so its step count is fixed once it has started.
  const wgan = requested.model === "wgan";
  for (const key of keys) {
    if (RESUMABLE_MEMBER_KEYS.has(key) && !wgan) continue;
    const a = (onDisk.member as unknown as Record<string, unknown>)[key];
    const b = (requested.member as unknown as Record<string, unknown>)[key];
    if (!same(a, b)) out.push(`${key} ${JSON.stringify(a)} → ${JSON.stringify(b)}`);
  }
  return out;
}
