// iwae_logmeanexp.wgsl: the IWAE bound's log-mean-exp over K importance samples, fused.
//
// Forward, for each column n of the log-weights w [K, N] (w[k, n] = ELBO of sample k of input n):
//   y[n] = log((1/K) Σ_k exp(w[k, n])) = m + log Σ_k exp(w[k, n] − m) − log K,  m = max_k w[k, n]
// Shifting by the column max keeps exp() in range (w = +80 would overflow f32 unshifted, and
// w = −1e4 would underflow to log 0). Exact at the edges: K = 1 gives y = w; a column that is all
// −∞ (every sample impossible) gives −∞ and one holding +∞ gives +∞, never ∞ − ∞ = NaN.
// Backward, given dy [N]: dw[k, n] = dy[n] · softmax_k(w[·, n]) = dy[n] · exp(w[k, n] − m) / S,
// S = Σ_k exp(w[k, n] − m); the max and the sum are recomputed rather than read back from y so
// that w − m stays exact for large |w|. A column whose max is not finite gets a zero gradient.
//
// Buffers: dense row-major f32 arrays; w[k, n] at k·N + n, so the K reads of one column are N
// apart and neighbouring invocations (columns) read neighbouring addresses: coalesced. Each
// section below is the body of one tfjs-backend-webgpu program (kernels/wgsl_program.ts): tfjs
// declares the output array `result` (written through `setOutputAtIndex`), a read-only storage
// array per input named as in the section's header, and `uniforms` with each input's shape
// (`logWeightsShape`: vec2<i32> (K, N)) and INFINITY; it calls `main(index)` once per invocation.
//
// Workgroup size 64: one invocation per column with K = 16 serial steps each is memory-bound
// with no shared memory, so 64 (two NVIDIA warps, one AMD wavefront) fills a SIMD unit and still
// spreads N = 1000 columns over 16 workgroups.

// ==== kernel iwae_logmeanexp ====
// input logWeights [K, N]; output y [N]; one invocation per column.
fn isFiniteF32(x : f32) -> bool {
  // Bit test instead of comparisons with ∞, which shader compilers may fold away.
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

fn main(col : i32) {
  let numSamples = uniforms.logWeightsShape.x;
  let numCols = uniforms.logWeightsShape.y;
  if (col >= numCols) {
    return;
  }
  var shift = -uniforms.INFINITY;
  for (var k = 0; k < numSamples; k++) {
    shift = max(shift, logWeights[k * numCols + col]);
  }
  if (!isFiniteF32(shift)) {
    setOutputAtIndex(col, shift);
    return;
  }
  var total = 0.0;
  for (var k = 0; k < numSamples; k++) {
    total += exp(logWeights[k * numCols + col] - shift);
  }
  setOutputAtIndex(col, (log(total) + shift) - log(f32(numSamples)));
}

// ==== kernel iwae_logmeanexp_grad ====
// inputs logWeights [K, N], dy [N]; output dw [K, N]; one invocation per column, writing its K
// gradients (so the column max and sum are computed once, not K times).
fn isFiniteF32(x : f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

fn main(col : i32) {
  let numSamples = uniforms.logWeightsShape.x;
  let numCols = uniforms.logWeightsShape.y;
  if (col >= numCols) {
    return;
  }
  var shift = -uniforms.INFINITY;
  for (var k = 0; k < numSamples; k++) {
    shift = max(shift, logWeights[k * numCols + col]);
  }
  if (!isFiniteF32(shift)) {
    for (var k = 0; k < numSamples; k++) {
      setOutputAtIndex(k * numCols + col, 0.0);
    }
    return;
  }
  var total = 0.0;
  for (var k = 0; k < numSamples; k++) {
    total += exp(logWeights[k * numCols + col] - shift);
  }
  let scale = dy[col] / total;
  for (var k = 0; k < numSamples; k++) {
    setOutputAtIndex(k * numCols + col, exp(logWeights[k * numCols + col] - shift) * scale);
  }
}
