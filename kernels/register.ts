/**
 * Registers every custom kernel this project adds to tfjs, for its side effects: the WGSL
 * kernels and their gradients on webgpu, and the kernels the wasm backend lacks
 * (Conv2DBackpropFilter, UnsortedSegmentSum) or runs slowly (Conv2DBackpropInput). `kernels/ops.ts` imports it, so using any model
 * registers them.
 */
import "./wasm_conv2d_backprop_filter.ts";
import "./wasm_unsorted_segment_sum.ts";
// Replaces wasm's stock Conv2DBackpropInput (a plain loop) with an ordinary convolution.
import "./wasm_conv2d_backprop_input.ts";
export { KERNEL_NAMES } from "./register_webgpu.ts";
