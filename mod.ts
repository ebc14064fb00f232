/**
 * gensemble: out-of-distribution detection with generative ensembles (WAIC, but Why?).
 *
 * Everything public is re-exported here and nothing else lives in this file. It names no
 * third-party specifier itself (deps.ts does), so it can be imported by URL from a project
 * that has no import map or deno.json.
 *
 * @example
 * ```ts
 * import { initBackend, oodMetrics } from "https://<host>/<path>/mod.ts";
 * await initBackend("auto");
 * const m = oodMetrics([0.1, 0.2, 0.3], [0.25, 0.9]); // anomaly scores, higher = more anomalous
 * console.log(m.auroc, m.fpr95);
 * ```
 *
 * @module
 */
export { type BackendInfo, type BackendName, initBackend } from "./core/backend.ts";
export { GensembleError } from "./core/errors.ts";
export {
  auroc,
  fprAtTpr,
  type OodMetrics,
  oodMetrics,
  type PositiveClass,
} from "./metrics/ood_metrics.ts";
export {
  bootstrapMembers,
  bootstrapOodMetrics,
  type BootstrapOodOptions,
  type BootstrapOptions,
  type BootstrapResult,
} from "./metrics/bootstrap.ts";

// Data: readers, registry, OoD set builders.
export type { Dataset } from "./data/types.ts";
export {
  cacheDir,
  dataRoots,
  DATASET_NAMES,
  DATASETS,
  type DatasetSpec,
  loadCreditcard,
  loadDataset,
  type LoadOptions,
  loadTabular,
  type Split,
} from "./data/registry.ts";
export { buildOodSet, BUILT_OOD_SETS, loadUserOodSet } from "./data/ood_sets.ts";
export { applyMinMax, fitMinMax } from "./data/scale.ts";
export { encodeNpy, readNpy } from "./data/npy.ts";
