/**
 * The dataset registry: for each dataset its files, checksums, canonical download and the loader
 * that turns it into a `Dataset`. Files are looked up in `--data_dir`, then `$GENSEMBLE_DATA_DIR`,
 * then the cache (`$GENSEMBLE_CACHE_DIR` or `~/.cache/gensemble`), each as `<root>/<dir>/<file>`
 * or `<root>/<file>`, raw or with `.gz`; if missing everywhere they are downloaded into the cache
 * (sha256-verified) when a canonical URL exists, else one error says which files to put where.
 */

import { GensembleError } from "../core/errors.ts";
import type { Dataset } from "./types.ts";
import type { Download } from "./download.ts";
import { downloadInto } from "./download.ts";
import { readIdx } from "./idx.ts";
import { readCifarBatch } from "./cifar.ts";
import { imagesToDataset, labelsFromArray, readArray } from "./images.ts";
import { bytesToUnitFloat } from "./read_bytes.ts";
import { columnMajorToRowMajor, matVariable, readMat } from "./mat.ts";
import { type CreditcardSplits, loadCreditcardFile } from "./creditcard.ts";
import { loadTabularFile } from "./tabular.ts";

/** One file of a dataset. It is accepted as `name`, `name.gz`, or any alias (± `.gz`). */
export interface DataFile {
  name: string;
  aliases?: string[];
  /** sha256 of known-good copies: raw content, the shared gzip copy, the official download. */
  sha256: string[];
  /** False when some good copies have no recorded hash (a non-match is then "unverified"). */
  hashesComplete: boolean;
}

export type Split = "train" | "test";

export type Loader = "idx" | "cifar" | "npy" | "svhn_mat" | "creditcard" | "tabular";

/** Everything the registry knows about one dataset. */
export interface DatasetSpec {
  name: string;
  /** Sub-directory under a data root. */
  dir: string;
  kind: "image" | "tabular";
  loader: Loader;
  /** Files of each split, in loader order (images before labels). */
  splits: { train?: DataFile[]; test: DataFile[] };
  /** Canonical downloads into `<cache>/<dir>/`, if one exists. */
  downloads?: Download[];
  /** Where a user gets the files by hand. */
  source: string;
  note?: string;
}

const file = (name: string, sha256: string[], opts: Partial<DataFile> = {}): DataFile => ({
  name,
  sha256,
  hashesComplete: true,
  ...opts,
});

// MNIST and Fashion-MNIST: sha256 of [shared .gz copy, raw IDX, official .gz download].
const MNIST_FILES = {
  trainImages: file("train-images-idx3-ubyte", [
    "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971",
    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
  ]),
  trainLabels: file("train-labels-idx1-ubyte", [
    "1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203",
    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
  ]),
  testImages: file("t10k-images-idx3-ubyte", [
    "1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be",
    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
  ]),
  testLabels: file("t10k-labels-idx1-ubyte", [
    "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b",
    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
  ]),
};

const FASHION_FILES = {
  trainImages: file("train-images-idx3-ubyte", [
    "f46450982819e161325683178a5324fc64e606fb3758c65c6ca7dcc91aa489fd",
    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
  ]),
  trainLabels: file("train-labels-idx1-ubyte", [
    "bee2410e017aef275ad0716cfa389481fe80dd89f974536e863d982da161f14c",
    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
  ]),
  testImages: file("t10k-images-idx3-ubyte", [
    "55ec2dd7358c56fba81678bf2cd00a44de07bae64c342921600298a2b5eb517d",
    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
  ]),
  testLabels: file("t10k-labels-idx1-ubyte", [
    "bad34aa92450454a281e4959ab5a22f03213e21212f4261dadf52e42fa6cd580",
    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
  ]),
};

function idxDownloads(base: string, files: Record<string, DataFile>): Download[] {
  return Object.values(files).map((f) => ({
    url: `${base}/${f.name}.gz`,
    sha256: f.sha256[2],
    saveAs: `${f.name}.gz`,
  }));
}

// CIFAR-10: [shared .gz copy, its raw content]. The shared copy is JPEG-degraded (see the shared
// MANIFEST), so the official lossless batches have no recorded per-file hash.
const cifarFile = (name: string, gz: string, raw: string) =>
  file(name, [gz, raw], { hashesComplete: false });
const CIFAR_TRAIN = [
  cifarFile(
    "data_batch_1.bin",
    "8386af9b1b4baab63ba785c5ffa24a1b07085070c87a575e8b73f7425f776bb1",
    "8da035fc1631e8ce5f25904206b8993b0f3ad02a504c0584d662e806fd76c12b",
  ),
  cifarFile(
    "data_batch_2.bin",
    "dbc4e403d8889c1b7037395f50141d73dd47cd155ec145f3d92de1e85799f43b",
    "106eeaad9f1fa7a999292fdafe68ee909080f58aee038a76994035aedf40ba26",
  ),
  cifarFile(
    "data_batch_3.bin",
    "a4faac63f600ae0e40af647a96245e75acdcc04e8e89a79181341e8b6b636eb7",
    "99cb88ba00fca88bf28c517a74307b6b78a346c6ea747a561cb8e660c787d5cb",
  ),
  cifarFile(
    "data_batch_4.bin",
    "deb66e3b28e69af1a89a9f54031c4688c14a5bc9f5857a5bdd3fdb0dc08c5cac",
    "76b482bc3bb79c0370e48ea71bb6e4f567a3770d224dc09a9ddc8cfa2369f294",
  ),
  cifarFile(
    "data_batch_5.bin",
    "c567fc6cec9a1dd06dbdef643ce3ad98d108e9a53c1e9cd62c386ee2909c1e5f",
    "490f5ead4f04a3eb71d5898eb551e0d8d2c592feb778fb9b109a006b3f231495",
  ),
];
const CIFAR_TEST = [
  cifarFile(
    "test_batch.bin",
    "b9fa2c94e9c95995c6e5199dc19ce1a7c84b550e773300369becbb804d3eac73",
    "2ed477f26217c701dd52d165094cc9c81e8bd0279258785c50f8a0286b662277",
  ),
];

// ODDS tabular sets: [shared .csv.gz, its raw .csv, PyOD's original .mat].
const odds = (name: string, gz: string, raw: string, mat: string): DatasetSpec => ({
  name,
  dir: "tabular",
  kind: "tabular",
  loader: "tabular",
  splits: { test: [file(`${name}.csv`, [gz, raw, mat], { aliases: [`${name}.mat`] })] },
  downloads: [{
    url: "https://raw.githubusercontent.com/yzhao062/pyod/" +
      `ef6d5e8dc828615f498286c1d6a22cbd02fd4cd2/notebooks/data/${name}.mat`,
    sha256: mat,
    saveAs: `${name}.mat`,
  }],
  source: `ODDS (http://odds.cs.stonybrook.edu), ${name}.mat, or ${name}.csv as 'f0,...,label'`,
  note: "all rows as 'test' (no predefined split); scale with fitMinMax on your training rows",
});

/** Every dataset the toolkit knows, by name. */
export const DATASETS: Record<string, DatasetSpec> = {
  mnist: {
    name: "mnist",
    dir: "mnist",
    kind: "image",
    loader: "idx",
    splits: {
      train: [MNIST_FILES.trainImages, MNIST_FILES.trainLabels],
      test: [MNIST_FILES.testImages, MNIST_FILES.testLabels],
    },
    downloads: idxDownloads("https://storage.googleapis.com/cvdf-datasets/mnist", MNIST_FILES),
    source: "http://yann.lecun.com/exdb/mnist/",
  },
  fashion_mnist: {
    name: "fashion_mnist",
    dir: "fashion_mnist",
    kind: "image",
    loader: "idx",
    splits: {
      train: [FASHION_FILES.trainImages, FASHION_FILES.trainLabels],
      test: [FASHION_FILES.testImages, FASHION_FILES.testLabels],
    },
    downloads: idxDownloads(
      "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
      FASHION_FILES,
    ),
    source: "https://github.com/zalandoresearch/fashion-mnist",
  },
  cifar10: {
    name: "cifar10",
    dir: "cifar10",
    kind: "image",
    loader: "cifar",
    splits: { train: CIFAR_TRAIN, test: CIFAR_TEST },
    downloads: [{
      url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
      sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
      extract: Object.fromEntries(
        [...CIFAR_TRAIN, ...CIFAR_TEST].map((f) => [`cifar-10-batches-bin/${f.name}`, f.name]),
      ),
    }],
    source: "https://www.cs.toronto.edu/~kriz/cifar.html (binary version)",
  },
  svhn: {
    name: "svhn",
    dir: "svhn",
    kind: "image",
    loader: "svhn_mat",
    splits: {
      test: [file("test_32x32.mat", [
        "cdce80dfb2a2c4c6160906d0bd7c68ec5a99d7ca4831afa54f09182025b6a75b",
      ])],
    },
    downloads: [{
      url: "http://ufldl.stanford.edu/housenumbers/test_32x32.mat",
      sha256: "cdce80dfb2a2c4c6160906d0bd7c68ec5a99d7ca4831afa54f09182025b6a75b",
      saveAs: "test_32x32.mat",
    }],
    source: "http://ufldl.stanford.edu/housenumbers/ (format 2, test_32x32.mat)",
    note: "OoD only: the whole test set",
  },
  celeba: {
    name: "celeba",
    dir: "celeba",
    kind: "image",
    loader: "npy",
    splits: {
      test: [file("celeba_32x32.npy", [
        "1964cfff665b0ae2eb66c5145bf555f9f4ec9498864b70403d7eb456110292b5",
        "3561f49c8175d200dd9510291d6534bc34e723664c2e552fe1f52bd764a23c1f",
      ], { aliases: ["celeba.npy"] })],
    },
    downloads: [{
      url: "https://raw.githubusercontent.com/hschoi1/rich_latent/" +
        "919a67d6337046c8c9cf4dbed939bc1dfc21fb76/vae_wgan/data/celeba.npy",
      sha256: "3561f49c8175d200dd9510291d6534bc34e723664c2e552fe1f52bd764a23c1f",
      saveAs: "celeba_32x32.npy",
    }],
    source: "the paper's code, github.com/hschoi1/rich_latent vae_wgan/data/celeba.npy",
    note: "OoD only: uint8 [N, 32, 32, 3]",
  },
  imagenet32: {
    name: "imagenet32",
    dir: "imagenet32",
    kind: "image",
    loader: "npy",
    splits: {
      test: [file("tinyimagenet_val_32x32_first5000.npy", [
        "ba34cf7a794cda73db6b306ad25201e5c1ba972b82003a8e0bc565e4b897b539",
        "0043a2e429c26d39541a6daeff0d5d4e164ad8e338c06c6bbc776b093421699e",
      ], { aliases: ["imagenet32.npy", "imagenet.npy"], hashesComplete: false })],
    },
    source: "any uint8 [N, 32, 32, 3] .npy of downsampled ImageNet (e.g. image-net.org Imagenet32)",
    note: "OoD only; the shared copy is Tiny ImageNet val downsampled to 32×32",
  },
  omniglot: {
    name: "omniglot",
    dir: "omniglot",
    kind: "image",
    loader: "npy",
    splits: {
      test: [file("omniglot_28x28_images.npy", [
        "f65e98c34dc3d5da7d46d14b5f18cdc20be8e48fc20c2d287caee4cdb755e666",
        "f0bb7c4564cf1a872931340f15a497e0503304db3624f495385b8a5b4e016aaf",
      ], { aliases: ["omniglot.npy"], hashesComplete: false })],
    },
    source: "github.com/brendenlake/omniglot, inverted and resized to uint8 [N, 28, 28, 1] .npy",
    note: "OoD only",
  },
  notmnist: {
    name: "notmnist",
    dir: "notmnist",
    kind: "image",
    loader: "npy",
    splits: {
      test: [
        file("notmnist_test_images.npy", [
          "ab939c4a056cb1d95aef565eed50ff496a2755294217d243a8f3b39034ca1594",
          "a1bcd1c3a2329bb5bf5c92ffcc4fcd9b58b1e920337d24fadc44de0a5b42e834",
        ], { hashesComplete: false }),
        file("notmnist_test_labels.npy", [
          "8658066e1a0d21d6d017c53e238c17a009f45331eb5988a4ee78d2ff3a190bf5",
          "ced4cc908a80bd7be84002f1dd34169797a9372b3556c7392ff6da67d948a3bd",
        ], { hashesComplete: false }),
      ],
    },
    source: "github.com/davidflanagan/notMNIST-to-MNIST (t10k files), as uint8 [N, 28, 28, 1] .npy",
    note: "OoD only; labels 0–9 = letters A–J",
  },
  creditcard: {
    name: "creditcard",
    dir: "creditcard",
    kind: "tabular",
    loader: "creditcard",
    splits: {
      train: [file("creditcard.csv", [
        "a57f43b36bd695c8e984f481d9309c08a635e726068007f8d1751933e6866d86",
      ], { hashesComplete: false })],
      test: [file("creditcard.csv", [
        "a57f43b36bd695c8e984f481d9309c08a635e726068007f8d1751933e6866d86",
      ], { hashesComplete: false })],
    },
    downloads: [{
      url: "https://www.openml.org/data/get_csv/1673544/phpKo8OWT",
      sha256: "a57f43b36bd695c8e984f481d9309c08a635e726068007f8d1751933e6866d86",
      saveAs: "creditcard.csv",
    }],
    source: "https://www.kaggle.com/datasets/mlg-ulb/creditcardfraud (creditcard.csv)",
    note:
      "train = normals less 492 held out; test = 492 held-out normals (label 0) + 492 frauds (1)",
  },
  cardio: odds(
    "cardio",
    "a6f68c7bb92af967de8376e6e68b545f8497d8d98d849464270d69f59ce842c6",
    "49108b5c9bb3111b0f735fd3f4e2ec8cc8ce24cd61479c07b236c84165642e54",
    "5e568b6a73711012c481fa6cc984ab9c68e9a4fa44d6aeb3b43efa381c3f695b",
  ),
  thyroid: odds(
    "thyroid",
    "6fcc1133980b89136804cc1e491a6ad49527411f970778974c3251f39e424dfc",
    "ad91964a9989b6890b063023a24936b2f3d18be86f6798b6059ed062dfa40e13",
    "49155d7861b977e90808faf68343ff67a67f63090c2744d514dbb67ac68e7e33",
  ),
  satellite: odds(
    "satellite",
    "2a1d527f54855a5f0f496bf3e9a8a4c8c9646d7efe9b1d3d380c9c86e1629ef2",
    "8ceca3e9d2f4c20b67cae96c8f3a95112b5e28b7031034158edd35e064a4b1f5",
    "6feac3112b9c14e1c3e60afc437f2f3d29dc1000119c9f950c628078778d6aa0",
  ),
  shuttle: odds(
    "shuttle",
    "01d4041111f44bac65ee2f5160fd561a50a511ccbfcdf4f1e62d2738bce323eb",
    "1fc940b0bba548da29a73e81d6e83552a483ff36a4be26fa6f5e06738b2333bc",
    "b6e396c92354d5dcf5036901e36dc58e2913f2d1a5e138c35a2bedf9c69db899",
  ),
  mammography: odds(
    "mammography",
    "ac4a724efe4082acce83c56386b1b4ef9120d04be5c299f3cd3d01007e6bf0fa",
    "adc04ccea58e869bb0058654d5daff0ac826bd061ff0cfa966614c56d7623503",
    "271ebb568314a856666d3504b4882e21b0ea6e1ba9e648ad256d572a36df597e",
  ),
};

/** Names of all registered datasets, in display order. */
export const DATASET_NAMES: string[] = Object.keys(DATASETS);

/** The spec of a dataset, or an error listing the known names. */
export function getDatasetSpec(name: string): DatasetSpec {
  const spec = DATASETS[name];
  if (!spec) {
    throw new GensembleError(`unknown dataset '${name}' (known: ${DATASET_NAMES.join(", ")})`);
  }
  return spec;
}

function envVar(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}

/** The cache dir: `$GENSEMBLE_CACHE_DIR`, else `~/.cache/gensemble` (undefined without HOME). */
export function cacheDir(): string | undefined {
  const explicit = envVar("GENSEMBLE_CACHE_DIR");
  if (explicit) return explicit;
  const home = envVar("HOME") ?? envVar("USERPROFILE");
  return home ? `${home}/.cache/gensemble` : undefined;
}

/** A place datasets are looked up, and how it was chosen. */
export interface DataRoot {
  dir: string;
  via: "--data_dir" | "$GENSEMBLE_DATA_DIR" | "cache";
}

/** The lookup order: `--data_dir`, `$GENSEMBLE_DATA_DIR`, the cache dir. */
export function dataRoots(dataDir?: string, cache = cacheDir()): DataRoot[] {
  const roots: DataRoot[] = [];
  if (dataDir) roots.push({ dir: dataDir, via: "--data_dir" });
  const env = envVar("GENSEMBLE_DATA_DIR");
  if (env) roots.push({ dir: env, via: "$GENSEMBLE_DATA_DIR" });
  if (cache) roots.push({ dir: cache, via: "cache" });
  return roots;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Accepted file names for one data file, most preferred first. */
export function acceptedNames(f: DataFile): string[] {
  return [f.name, ...(f.aliases ?? [])].flatMap((n) => [n, `${n}.gz`]);
}

/** Where a set of files was found. */
export interface Located {
  dir: string;
  via: DataRoot["via"] | "download";
  /** One path per requested file, in order. */
  paths: string[];
}

/** Find all `files` together in one candidate directory of the roots, or null. */
export async function findFiles(
  spec: DatasetSpec,
  files: DataFile[],
  roots: DataRoot[],
): Promise<Located | null> {
  for (const root of roots) {
    for (const dir of [`${root.dir}/${spec.dir}`, root.dir]) {
      const paths: string[] = [];
      for (const f of files) {
        for (const name of acceptedNames(f)) {
          if (await isFile(`${dir}/${name}`)) {
            paths.push(`${dir}/${name}`);
            break;
          }
        }
      }
      if (paths.length === files.length) return { dir, via: root.via, paths };
    }
  }
  return null;
}

/** The one-line error for a dataset that is nowhere to be found. */
export function missingDatasetError(
  spec: DatasetSpec,
  files: DataFile[],
  roots: DataRoot[],
  downloadProblem?: string,
): GensembleError {
  const names = files.map((f) => `${f.name}[.gz]`).filter((n, i, a) => a.indexOf(n) === i);
  const where = roots.length > 0
    ? `${roots[0].dir}/${spec.dir}/ (${roots[0].via})`
    : `<dir>/${spec.dir}/ and pass --data_dir <dir> or set GENSEMBLE_DATA_DIR`;
  const looked = roots.length > 0
    ? roots.map((r) => `${r.dir}/${spec.dir}`).join(", ")
    : "nowhere: no --data_dir, GENSEMBLE_DATA_DIR or HOME";
  const dl = downloadProblem
    ? ` Download failed: ${downloadProblem}.`
    : spec.downloads
    ? ` Or let a loader download it from ${spec.downloads[0].url} into the cache.`
    : " It has no automatic download.";
  return new GensembleError(
    `dataset '${spec.name}' not found: put ${names.join(", ")} in ${where} ` +
      `(looked in ${looked}). Get it from ${spec.source}.${dl}`,
  );
}

/** Options for locating and loading datasets. */
export interface LoadOptions {
  /** `--data_dir`, searched first. */
  dataDir?: string;
  /** Keep only the first `limit` examples. */
  limit?: number;
  /** Override the cache dir (default `cacheDir()`); downloads go here. */
  cacheDir?: string;
  /** Explicit lookup roots, replacing `dataRoots(dataDir, cacheDir)` (tools and tests). */
  roots?: DataRoot[];
  /** Download missing datasets into the cache (default true unless `$GENSEMBLE_OFFLINE` is set). */
  download?: boolean;
  /** The fetch used for downloads (tests pass a stub). */
  fetch?: typeof fetch;
}

/**
 * Find a split's files along the lookup order, downloading into the cache if needed.
 * @example const { paths } = await locateDataset(getDatasetSpec("mnist"), "test");
 */
export async function locateDataset(
  spec: DatasetSpec,
  split: Split,
  opts: LoadOptions = {},
): Promise<Located> {
  const files = spec.splits[split];
  if (!files) {
    throw new GensembleError(
      `dataset '${spec.name}' has no '${split}' split (it has: ${
        Object.keys(spec.splits).join(", ")
      })`,
    );
  }
  const cache = opts.cacheDir ?? cacheDir();
  const roots = opts.roots ?? dataRoots(opts.dataDir, cache);
  const found = await findFiles(spec, files, roots);
  if (found) return found;
  const allowed = opts.download ?? !envVar("GENSEMBLE_OFFLINE");
  if (!spec.downloads || !allowed || !cache) {
    const why = spec.downloads && !allowed ? "downloads are off (offline)" : undefined;
    throw missingDatasetError(spec, files, roots, why);
  }
  const target = `${cache}/${spec.dir}`;
  try {
    for (const d of spec.downloads) await downloadInto(d, target, opts.fetch);
  } catch (err) {
    if (!(err instanceof GensembleError)) throw err;
    throw missingDatasetError(spec, files, roots, err.message);
  }
  const after = await findFiles(spec, files, [{ dir: cache, via: "cache" }]);
  if (!after) {
    throw missingDatasetError(spec, files, roots, "the download did not contain the files");
  }
  return { ...after, via: "download" };
}

/**
 * Load a registered dataset split as float32 (images `[N, H, W, C]` in [0, 1], tabular `[N, F]`).
 * OoD-only sets (svhn, celeba, imagenet32, omniglot, notmnist) and the ODDS tables have only
 * "test"; credit card's "test" is the 492 held-out normals then the 492 frauds (label 1).
 * @example const ds = await loadDataset("mnist", "test", { limit: 100 }); // shape [100, 28, 28, 1]
 */
export async function loadDataset(
  name: string,
  split: Split,
  opts: LoadOptions = {},
): Promise<Dataset> {
  const spec = getDatasetSpec(name);
  const { paths } = await locateDataset(spec, split, opts);
  const limit = opts.limit;
  switch (spec.loader) {
    case "idx": {
      const images = await readIdx(paths[0]);
      const labels = await readIdx(paths[1]);
      const ds = imagesToDataset(
        spec.name,
        { shape: images.dims, data: images.data },
        paths[0],
        limit,
      );
      ds.labels = labelsFromArray(
        { shape: labels.dims, data: labels.data },
        paths[1],
        images.dims[0],
        limit,
      );
      return ds;
    }
    case "cifar":
      return await loadCifar(spec.name, paths, limit);
    case "npy": {
      const images = await readArray(paths[0]);
      const ds = imagesToDataset(spec.name, images, paths[0], limit);
      if (paths[1]) {
        ds.labels = labelsFromArray(await readArray(paths[1]), paths[1], images.shape[0], limit);
      }
      return ds;
    }
    case "svhn_mat":
      return await loadSvhnMat(spec.name, paths[0], limit);
    case "creditcard": {
      const { train, testNormal, testAnomaly } = await loadCreditcardFile(paths[0]);
      const ds = split === "train" ? train : concatRows(spec.name, testNormal, testAnomaly);
      return limitRows(ds, limit);
    }
    case "tabular":
      return limitRows(await loadTabularFile(paths[0], spec.name), limit);
  }
}

async function loadCifar(name: string, paths: string[], limit?: number): Promise<Dataset> {
  const images: Uint8Array[] = [];
  const labels: Int32Array[] = [];
  let count = 0;
  for (const p of paths) {
    if (limit !== undefined && count >= limit) break;
    const batch = await readCifarBatch(p, limit === undefined ? undefined : limit - count);
    images.push(batch.images);
    labels.push(batch.labels);
    count += batch.count;
  }
  const per = 32 * 32 * 3;
  const x = new Float32Array(count * per);
  const y = new Int32Array(count);
  let offset = 0;
  for (let i = 0; i < images.length; i++) {
    x.set(bytesToUnitFloat(images[i]), offset * per);
    y.set(labels[i], offset);
    offset += labels[i].length;
  }
  return { name, x, shape: [count, 32, 32, 3], labels: y };
}

/**
 * SVHN's `test_32x32.mat`: uint8 `X` [32, 32, 3, N] column-major and `y` with 10 meaning digit 0.
 * @example const ds = await loadSvhnMat("svhn", "test_32x32.mat"); // [26032, 32, 32, 3]
 */
export async function loadSvhnMat(name: string, path: string, limit?: number): Promise<Dataset> {
  const vars = await readMat(path);
  const xv = matVariable(vars, "X", path);
  const yv = matVariable(vars, "y", path);
  if (xv.dims.length !== 4 || xv.dims[2] !== 3 || !(xv.data instanceof Uint8Array)) {
    throw new GensembleError(
      `${path}: 'X' is ${xv.className} ${xv.dims.join("×")}, expected uint8 H×W×3×N as in SVHN`,
    );
  }
  const [h, w, c, n] = xv.dims;
  if (yv.data.length !== n) {
    throw new GensembleError(`${path}: 'y' has ${yv.data.length} labels for ${n} images`);
  }
  const nhwc = columnMajorToRowMajor(xv.data, xv.dims, [3, 0, 1, 2]); // [N, H, W, C]
  const ds = imagesToDataset(name, { shape: [n, h, w, c], data: nhwc }, path, limit);
  ds.labels = Int32Array.from(yv.data.subarray(0, ds.shape[0]), (v) => (v === 10 ? 0 : v));
  return ds;
}

/** Stack two `[N, F]` datasets (same F) row-wise, labels included. */
export function concatRows(name: string, a: Dataset, b: Dataset): Dataset {
  const x = new Float32Array(a.x.length + b.x.length);
  x.set(a.x);
  x.set(b.x, a.x.length);
  const labels = new Int32Array(a.shape[0] + b.shape[0]);
  labels.set(a.labels ?? new Int32Array(a.shape[0]));
  labels.set(b.labels ?? new Int32Array(b.shape[0]), a.shape[0]);
  return {
    name,
    x,
    shape: [a.shape[0] + b.shape[0], ...a.shape.slice(1)],
    labels,
    featureNames: a.featureNames,
  };
}

/** The first `limit` rows of a dataset (itself when no limit). */
export function limitRows(ds: Dataset, limit?: number): Dataset {
  if (limit === undefined || limit >= ds.shape[0]) return ds;
  const per = ds.x.length / ds.shape[0];
  return {
    ...ds,
    x: ds.x.slice(0, limit * per),
    shape: [limit, ...ds.shape.slice(1)],
    labels: ds.labels?.slice(0, limit),
  };
}

/**
 * The credit-card sets as the reference split them: training normals, 492 held-out normals and
 * the 492 frauds, each `[N, 30]` in [0, 1].
 * @example const { train, testNormal, testAnomaly } = await loadCreditcard({ dataDir: "data" });
 */
export async function loadCreditcard(opts: LoadOptions = {}): Promise<CreditcardSplits> {
  const { paths } = await locateDataset(getDatasetSpec("creditcard"), "train", opts);
  return await loadCreditcardFile(paths[0]);
}

/**
 * An ODDS tabular set (cardio, thyroid, satellite, shuttle, mammography): all rows, unscaled
 * features `[N, F]` and labels (1 = anomaly).
 * @example const ds = await loadTabular("thyroid"); // shape [3772, 6]
 */
export async function loadTabular(name: string, opts: LoadOptions = {}): Promise<Dataset> {
  const spec = getDatasetSpec(name);
  if (spec.loader !== "tabular") {
    throw new GensembleError(`'${name}' is not a tabular anomaly set (try loadDataset)`);
  }
  return await loadDataset(name, "test", opts);
}
