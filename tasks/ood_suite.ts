/**
 * The OoD suite: which sets a model trained on a dataset is evaluated against (DESIGN.md's table;
 * the names are part of the interface), and how each set is built.
 *
 * Planning is cheap and builds nothing: each set gets a fingerprint of its recipe (source files,
 * n, seed, the attacked checkpoint for adversarial noise), which keys the score cache. Inputs are
 * built only when some member has no cached scores for the set, so a fully cached eval never runs
 * FGSM or decompresses a dataset.
 */
import { GensembleError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import type { Member } from "../models/member.ts";
import { type AdversarialRecipe, fgsm, referenceAdversarialNoise } from "../data/adversarial.ts";
import { buildOodSet, loadUserOodSet } from "../data/ood_sets.ts";
import { getDatasetSpec, loadDataset, type LoadOptions, locateDataset } from "../data/registry.ts";
import { type Dataset, formatShape } from "../data/types.ts";
import { sha256Hex } from "../core/hash.ts";

/** The OoD sets of each training dataset, in report order (DESIGN.md). */
export const OOD_SUITES: Readonly<Record<string, readonly string[]>> = {
  mnist: [
    "fashion_mnist",
    "omniglot",
    "notmnist",
    "hflip",
    "vflip",
    "uniform_noise",
    "normal_noise",
    "adv_normal_noise",
    "adv_uniform_noise",
  ],
  fashion_mnist: [
    "mnist",
    "omniglot",
    "notmnist",
    "hflip",
    "vflip",
    "uniform_noise",
    "normal_noise",
    "adv_normal_noise",
    "adv_uniform_noise",
  ],
  cifar10: [
    "svhn",
    "celeba",
    "imagenet32",
    "hflip",
    "vflip",
    "uniform_noise",
    "normal_noise",
    "adv_normal_noise",
    "adv_uniform_noise",
  ],
  creditcard: ["creditcard_fraud", "uniform_noise", "normal_noise"],
};

/** The suite of an image dataset that has no entry in OOD_SUITES: flips and (adversarial) noise. */
const GENERIC_IMAGE_SUITE = [
  "hflip",
  "vflip",
  "uniform_noise",
  "normal_noise",
  "adv_normal_noise",
  "adv_uniform_noise",
];

/** The OoD set names for a training dataset (DESIGN.md's table; generic for other images). */
export function oodSuiteNames(trainDataset: string, exampleShape: readonly number[]): string[] {
  const known = OOD_SUITES[trainDataset];
  if (known) return [...known];
  if (exampleShape.length === 3) return [...GENERIC_IMAGE_SUITE];
  throw new GensembleError(
    `No OoD suite for "${trainDataset}": eval knows ${Object.keys(OOD_SUITES).join(", ")} ` +
      "and image datasets; pass your own sets with --ood name=path",
  );
}

/** How one set of the suite is made. */
export type SetKind = "in" | "dataset" | "noise" | "flip" | "adversarial" | "user" | "anomalies";

/** One planned set: its recipe and fingerprint; inputs are built on demand by `buildSuiteSet`. */
export interface SuiteSet {
  name: string;
  kind: SetKind;
  /** Everything the inputs depend on; hashed into `fingerprint`. */
  recipe: Record<string, unknown>;
  /** 16 hex digits of SHA-256 of the recipe: the score-cache key of the set. */
  fingerprint: string;
}

/** A user OoD set from `--ood name=path`. */
export interface UserOodSpec {
  name: string;
  path: string;
}

/** The planned suite: the in-distribution test set, the OoD sets, and what is missing. */
export interface SuitePlan {
  inDist: SuiteSet;
  sets: SuiteSet[];
  /** Suite sets whose files were not found, with the loader's reason. */
  missing: { name: string; reason: string }[];
}

/** Options of `planSuite`. */
export interface PlanOptions {
  trainDataset: string;
  /** One input's shape, e.g. [28, 28, 1]. */
  exampleShape: number[];
  /** Inputs per set (null = all of each set); smaller sets are used whole. */
  nPerSet: number | null;
  seed: number;
  dataDir?: string;
  userSets?: UserOodSpec[];
  /** Digest of the attacked member's checkpoint (adversarial sets depend on it). */
  attackedDigest: string;
  /** Index of the attacked member (member 0 of the ensemble). */
  attackedMember: number;
  /** Inputs per FGSM gradient batch (part of the recipe: the member's noise is per call). */
  fgsmBatch: number;
  /** Adversarial noise recipe (default "fgsm"; see data/adversarial.ts). */
  advRecipe?: AdversarialRecipe;
}

const NOISE = new Set(["uniform_noise", "normal_noise"]);
const FLIPS = new Set(["hflip", "vflip"]);
const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

async function fingerprintOf(recipe: Record<string, unknown>): Promise<string> {
  return (await sha256Hex(JSON.stringify(recipe))).slice(0, 16);
}

async function fileIdentity(paths: string[]): Promise<{ path: string; bytes: number }[]> {
  const out = [];
  for (const p of paths) out.push({ path: p, bytes: (await Deno.stat(p)).size });
  return out;
}

/** A seed per set name, so that sets built from the same recipe kind use unrelated streams. */
function setSeed(seed: number, name: string): number {
  let h = 2166136261;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return (seed * 1000003 + h) >>> 0;
}

/**
 * Parse `--ood name=path` values; a bad one is a one-line user error.
 *
 * @example
 * ```ts
 * parseUserOod(["letters=data/letters.npy"]); // [{ name: "letters", path: "data/letters.npy" }]
 * ```
 */
export function parseUserOod(values: readonly string[]): UserOodSpec[] {
  const out: UserOodSpec[] = [];
  for (const v of values) {
    const eq = v.indexOf("=");
    const name = eq < 0 ? "" : v.slice(0, eq);
    const path = eq < 0 ? "" : v.slice(eq + 1);
    if (!name || !path) {
      throw new GensembleError(
        `--ood expects name=path (e.g. --ood letters=letters.npy), got "${v}"`,
      );
    }
    if (!USER_NAME.test(name)) {
      throw new GensembleError(
        `--ood name "${name}" may use only letters, digits, "_", "-" and "."`,
      );
    }
    if (out.some((u) => u.name === name)) {
      throw new GensembleError(`--ood name "${name}" is given twice`);
    }
    out.push({ name, path });
  }
  return out;
}

/**
 * Plan the suite for a run: the in-distribution test set, every OoD set of the table (missing
 * files are listed, never dropped silently) and the user's sets.
 */
export async function planSuite(opts: PlanOptions): Promise<SuitePlan> {
  const names = oodSuiteNames(opts.trainDataset, opts.exampleShape);
  const load: LoadOptions = { dataDir: opts.dataDir };
  const n = opts.nPerSet;
  const tabular = opts.exampleShape.length === 1;
  const inSpec = getDatasetSpec(opts.trainDataset);
  // The in-distribution test set must exist: eval without it means nothing.
  const inFiles = await locateDataset(inSpec, "test", load);
  const inRecipe = {
    kind: "in",
    dataset: opts.trainDataset,
    files: await fileIdentity(inFiles.paths),
    n,
    seed: setSeed(opts.seed, "in"),
    // Tabular sets hold normals and anomalies in one split: the normals are in-distribution.
    rows: tabular ? "label 0" : "all",
  };
  const inDist: SuiteSet = {
    name: opts.trainDataset,
    kind: "in",
    recipe: inRecipe,
    fingerprint: await fingerprintOf(inRecipe),
  };
  const sets: SuiteSet[] = [];
  const missing: SuitePlan["missing"] = [];
  for (const name of names) {
    let recipe: Record<string, unknown>;
    let kind: SetKind;
    if (NOISE.has(name)) {
      kind = "noise";
      // One noise image per in-distribution input, so the set is sized like the test set.
      recipe = { kind, name, sizedLike: inDist.fingerprint, seed: setSeed(opts.seed, name) };
    } else if (FLIPS.has(name)) {
      kind = "flip";
      recipe = { kind, name, of: inDist.fingerprint };
    } else if (name.startsWith("adv_")) {
      kind = "adversarial";
      const base = name.slice(4);
      recipe = {
        kind,
        name,
        base,
        sizedLike: inDist.fingerprint,
        seed: setSeed(opts.seed, name),
        epsilon: 0.3,
        advRecipe: opts.advRecipe ?? "fgsm",
        attackedMember: opts.attackedMember,
        attackedDigest: opts.attackedDigest,
        fgsmBatch: opts.fgsmBatch,
      };
    } else if (name === "creditcard_fraud") {
      kind = "anomalies";
      recipe = { kind, name, of: inRecipe };
    } else {
      kind = "dataset";
      try {
        const found = await locateDataset(getDatasetSpec(name), "test", load);
        recipe = {
          kind,
          name,
          files: await fileIdentity(found.paths),
          n,
          seed: setSeed(opts.seed, name),
        };
      } catch (err) {
        if (!(err instanceof GensembleError)) throw err;
        missing.push({ name, reason: err.message });
        continue;
      }
    }
    sets.push({ name, kind, recipe, fingerprint: await fingerprintOf(recipe) });
  }
  for (const u of opts.userSets ?? []) {
    if (u.name === inDist.name || sets.some((s) => s.name === u.name) || names.includes(u.name)) {
      throw new GensembleError(
        `--ood name "${u.name}" clashes with a set of the ${opts.trainDataset} suite; rename it`,
      );
    }
    let identity;
    try {
      identity = await fileIdentity([u.path]);
    } catch {
      throw new GensembleError(`${u.path}: not found (given as --ood ${u.name}=${u.path})`);
    }
    const recipe = {
      kind: "user",
      name: u.name,
      files: identity,
      n,
      seed: setSeed(opts.seed, u.name),
    };
    sets.push({ name: u.name, kind: "user", recipe, fingerprint: await fingerprintOf(recipe) });
  }
  return { inDist, sets, missing };
}

/**
 * At most `n` rows of a dataset, chosen by a seeded permutation (kept in file order), so that a
 * sorted file (omniglot is sorted by alphabet) still gives a representative subset.
 */
export function subsetRows(ds: Dataset, n: number | null, seed: number): Dataset {
  const total = ds.shape[0];
  if (n === null || n >= total) return ds;
  const picked = new Rng(seed).permutation(total).slice(0, n).sort();
  const per = ds.x.length / total;
  const x = new Float32Array(n * per);
  picked.forEach((r, i) => x.set(ds.x.subarray(r * per, (r + 1) * per), i * per));
  return {
    ...ds,
    x,
    shape: [n, ...ds.shape.slice(1)],
    labels: ds.labels ? Int32Array.from(picked, (r) => ds.labels![r]) : undefined,
  };
}

function rowsWithLabel(ds: Dataset, label: number, name: string): Dataset {
  if (!ds.labels) throw new Error(`${ds.name}: tabular test split has no labels`);
  const per = ds.x.length / ds.shape[0];
  const rows: number[] = [];
  ds.labels.forEach((l, i) => l === label && rows.push(i));
  const x = new Float32Array(rows.length * per);
  rows.forEach((r, i) => x.set(ds.x.subarray(r * per, (r + 1) * per), i * per));
  return { name, x, shape: [rows.length, ...ds.shape.slice(1)] };
}

function checkShape(ds: Dataset, exampleShape: number[], what: string): void {
  const got = ds.shape.slice(1);
  if (got.join() !== exampleShape.join()) {
    throw new GensembleError(
      `${what}: examples have shape ${formatShape(got)} but the model takes ` +
        `${formatShape(exampleShape)}`,
    );
  }
}

/** What building a set needs beyond its recipe. */
export interface BuildContext {
  exampleShape: number[];
  dataDir?: string;
  /** The in-distribution test set (built first; flips and noise sizes derive from it). */
  inDist?: Dataset;
  /** The member adversarial noise attacks (loaded on demand). */
  attacked?: () => Promise<Pick<Member, "inputLoss">>;
}

/** Build the inputs of a planned set. */
export async function buildSuiteSet(set: SuiteSet, ctx: BuildContext): Promise<Dataset> {
  const r = set.recipe as Record<string, unknown> & { n: number | null; seed: number };
  const load: LoadOptions = { dataDir: ctx.dataDir };
  const needIn = () => {
    if (!ctx.inDist) {
      throw new Error(`buildSuiteSet(${set.name}): build the in-distribution set first`);
    }
    return ctx.inDist;
  };
  switch (set.kind) {
    case "in": {
      const ds = await loadDataset(set.name, "test", load);
      checkShape(ds, ctx.exampleShape, `${set.name} test set`);
      const normals = ds.shape.length === 2 ? rowsWithLabel(ds, 0, set.name) : ds;
      return subsetRows(normals, r.n, r.seed);
    }
    case "anomalies": {
      const ds = await loadDataset(String((r.of as Record<string, unknown>).dataset), "test", load);
      return rowsWithLabel(ds, 1, set.name);
    }
    case "dataset": {
      const ds = await loadDataset(set.name, "test", load);
      checkShape(ds, ctx.exampleShape, `OoD set ${set.name}`);
      return subsetRows(ds, r.n, r.seed);
    }
    case "flip":
    case "noise": {
      const inDist = needIn();
      return buildOodSet(
        set.name as "hflip" | "vflip" | "uniform_noise" | "normal_noise",
        inDist,
        inDist.shape[0],
        r.seed,
      );
    }
    case "adversarial": {
      const inDist = needIn();
      if (!ctx.attacked) throw new Error(`buildSuiteSet(${set.name}): no attacked member`);
      const member = await ctx.attacked();
      const options = { epsilon: Number(r.epsilon), batchSize: Number(r.fgsmBatch) };
      if (r.advRecipe === "reference") {
        const noise = r.base === "uniform_noise" ? "uniform" : "normal";
        const x = await referenceAdversarialNoise(
          member,
          inDist.x,
          ctx.exampleShape,
          noise,
          r.seed,
          options,
        );
        return { name: set.name, x, shape: inDist.shape.slice() };
      }
      const base = buildOodSet(
        String(r.base) as "uniform_noise" | "normal_noise",
        inDist,
        inDist.shape[0],
        r.seed,
      );
      const x = await fgsm(member, base.x, ctx.exampleShape, options);
      return { name: set.name, x, shape: base.shape };
    }
    case "user": {
      const path = (r.files as { path: string }[])[0].path;
      const ds = await loadUserOodSet(set.name, path, ctx.exampleShape);
      return subsetRows(ds, r.n, r.seed);
    }
  }
}
