/**
 * gensemble: out-of-distribution detection with generative ensembles (WAIC, but Why?).
 *
 * TEMPORARY mod.ts written by the metrics helper so the URL-import test can run; the lead owns
 * this file and will extend it.
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
