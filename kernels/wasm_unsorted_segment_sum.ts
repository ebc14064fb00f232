/**
 * `UnsortedSegmentSum` for the wasm backend, which ships none. It is the gradient of `tf.gather`
 * (and of anything built on it), so without it a model that gathers cannot train on wasm.
 *
 * out[s, ...] = Σ_{i : ids[i] = s} x[i, ...], ids outside [0, S) dropped (as on cpu). Composed as
 * one `scatterND` (which sums duplicate indices) into S + 1 rows, the extra row collecting the
 * dropped ids, then a slice. Import for the side effect; registers only when wasm has none.
 */
import { tf } from "../deps.ts";

/**
 * Segment sums of x's rows by 1-D int32 segment ids, from stock wasm kernels.
 *
 * @example
 * ```ts
 * unsortedSegmentSumComposed(tf.tensor1d([1, 2, 3]), tf.tensor1d([0, 0, 1], "int32"), 2); // [3, 3]
 * ```
 */
export function unsortedSegmentSumComposed(
  x: tf.Tensor,
  segmentIds: tf.Tensor,
  numSegments: number,
): tf.Tensor {
  return tf.tidy(() => {
    const inRange = tf.logicalAnd(
      tf.greaterEqual(segmentIds, 0),
      tf.less(segmentIds, numSegments),
    );
    const ids = tf.where(inRange, segmentIds, tf.fill(segmentIds.shape, numSegments, "int32"));
    const indices = tf.reshape(ids, [-1, 1]) as tf.Tensor2D;
    const rows = tf.reshape(x, [segmentIds.size, -1]) as tf.Tensor2D; // [n, rest]
    const sums = tf.scatterND(indices, rows, [numSegments + 1, rows.shape[1]]);
    return tf.reshape(tf.slice(sums, [0, 0], [numSegments, -1]), [
      numSegments,
      ...x.shape.slice(segmentIds.rank),
    ]);
  });
}

if (!tf.getKernel("UnsortedSegmentSum", "wasm")) {
  tf.registerKernel({
    kernelName: "UnsortedSegmentSum",
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs }) =>
      unsortedSegmentSumComposed(
        inputs.x as tf.Tensor,
        inputs.segmentIds as tf.Tensor,
        (attrs as unknown as { numSegments: number }).numSegments,
      ),
  });
}
