/**
 * The training examples of a dataset, as the train task and its workers get them. Image sets are
 * their registry "train" split; a dataset that needs more (tabular sets: choose the normal rows,
 * fit and save the scaling in the run dir) plugs in its own loader with one line in
 * TRAIN_DATA_LOADERS below. Every worker calls the loader itself, so a loader must be
 * deterministic (and write any run-dir file atomically).
 */
import { loadDataset } from "../data/registry.ts";
import { loadTabularTrainRows } from "./tabular_train.ts";

/** Training examples in memory: `[N, ...inputShape]` float32 in [0, 1]. */
export interface TrainData {
  x: Float32Array;
  shape: number[];
}

/** Where to look for the data and which run it is for. */
export interface TrainDataOptions {
  /** `--data_dir` (searched before `$GENSEMBLE_DATA_DIR` and the cache). */
  dataDir: string | null;
  /** The run directory (for loaders that record preprocessing there). */
  runDir: string;
  /** Only the first `limit` examples (to learn the shape cheaply). */
  limit?: number;
}

/** Loads the training examples of one dataset (name or file path). */
export type TrainDataLoader = (dataset: string, options: TrainDataOptions) => Promise<TrainData>;

/** The registry's "train" split: image sets (MNIST, Fashion-MNIST, CIFAR-10, ...). */
async function registryTrainSplit(dataset: string, options: TrainDataOptions): Promise<TrainData> {
  const ds = await loadDataset(dataset, "train", {
    dataDir: options.dataDir ?? undefined,
    limit: options.limit,
  });
  return { x: ds.x, shape: ds.shape };
}

// Keyed by dataset name; "csv" stands for a dataset given as a .csv path.
const TRAIN_DATA_LOADERS: Record<string, TrainDataLoader> = {
  creditcard: loadTabularTrainRows,
  csv: loadTabularTrainRows,
};

/**
 * The training examples of `dataset`.
 *
 * @example
 * ```ts
 * const { x, shape } = await loadTrainData("mnist", { dataDir: null, runDir: "runs/mnist-vae" });
 * // shape [60000, 28, 28, 1]
 * ```
 */
export function loadTrainData(dataset: string, options: TrainDataOptions): Promise<TrainData> {
  const key = /\.csv(\.gz)?$/i.test(dataset) ? "csv" : dataset;
  const loader = TRAIN_DATA_LOADERS[key] ?? registryTrainSplit;
  return loader(dataset, options);
}
