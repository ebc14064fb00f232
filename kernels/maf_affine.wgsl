// maf_affine.wgsl: one Masked Autoregressive Flow layer in the density direction, fused.
//
// Forward, for shift μ and log-scale α from the layer's MADE pass (all [N, D]):
//   u[n, d]   = (z[n, d] − μ[n, d]) · exp(−α[n, d])       kernel maf_affine_u
//   logDet[n] = −Σ_d α[n, d]                              kernel maf_affine_log_det
// Backward, given the upstream gradients dU [N, D] and dLogDet [N]:
//   dz = dU · exp(−α)                                     kernel maf_affine_grad_z
//   dμ = −dU · exp(−α)                                    kernel maf_affine_grad_mu
//   dα = −dU · u − dLogDet[n]    (∂u/∂α = −u)             kernel maf_affine_grad_alpha
// The composed twin needs six stock kernels forward (sub, neg, exp, mul, sum, neg) and about ten
// backward; each fused kernel reads every input once and writes its output once.
//
// Buffers: every [N, D] tensor is a dense row-major f32 array, element (n, d) at n·D + d; [N]
// tensors are dense f32 arrays. Each section below is the body of one tfjs-backend-webgpu program
// (kernels/wgsl_program.ts): tfjs wraps it into a full shader that declares the output array
// `result` (written through `setOutputAtIndex`), one read-only storage array per input named as
// in the section's header, and `uniforms` with each input's shape (`alphaShape`: vec2<i32>
// (N, D)) and `size`, the number of output elements. tfjs calls `main(index)` once per global
// invocation index.
//
// Workgroup size 64 (set in wgsl_program.ts for every kernel here): the kernels are
// memory-bound, use no shared memory and no barriers, so a workgroup only has to fill one SIMD
// unit: 64 is two NVIDIA warps or one AMD wavefront, and it still makes ≥ 16 workgroups for the
// smallest batch (N = 1000 rows) so that small batches spread over several compute units.

// ==== kernel maf_affine_u ====
// inputs z, mu, alpha [N, D]; output u [N, D]; one invocation per element.
fn main(index : i32) {
  if (index < uniforms.size) {
    setOutputAtIndex(index, (z[index] - mu[index]) * exp(-alpha[index]));
  }
}

// ==== kernel maf_affine_log_det ====
// input alpha [N, D]; output logDet [N]; one invocation per row, summing its D log-scales.
fn main(row : i32) {
  if (row < uniforms.size) {
    let width = uniforms.alphaShape.y;
    var total = 0.0;
    for (var d = 0; d < width; d++) {
      total += alpha[row * width + d];
    }
    setOutputAtIndex(row, -total);
  }
}

// ==== kernel maf_affine_grad_z ====
// inputs dU, alpha [N, D]; output dz [N, D]; one invocation per element.
fn main(index : i32) {
  if (index < uniforms.size) {
    setOutputAtIndex(index, dU[index] * exp(-alpha[index]));
  }
}

// ==== kernel maf_affine_grad_mu ====
// inputs dU, alpha [N, D]; output dμ [N, D]; one invocation per element.
fn main(index : i32) {
  if (index < uniforms.size) {
    setOutputAtIndex(index, -(dU[index] * exp(-alpha[index])));
  }
}

// ==== kernel maf_affine_grad_alpha ====
// inputs dU, u [N, D] and dLogDet [N]; output dα [N, D]; one invocation per element. Reusing the
// forward output u saves reading z and μ again.
fn main(index : i32) {
  if (index < uniforms.size) {
    let row = index / uniforms.uShape.y;
    setOutputAtIndex(index, -(dU[index] * u[index]) - dLogDet[row]);
  }
}
