// Public exports of the kernel module: one line per kernel family.
export { scratch_alloc, scratch_mark, scratch_reset, first_nonfinite_f32 } from "./mem";
export { gemm_f32 } from "./linalg/gemm";
export { qr_f32 } from "./linalg/qr";
export { eigh_f32 } from "./linalg/eig";
export { svd_f32, svd_values_f32 } from "./linalg/svd";
export { conv2d_f32, conv2d_backprop_filter_f32, conv2d_backprop_input_f32 } from "./conv/grad";
export { depthwise_backprop_filter_f32, depthwise_backprop_input_f32 } from "./conv/depthwise";
export { lowrank_matmul_f32 } from "./linalg/lowrank";
export { maxpool_backprop_f32 } from "./conv/pool";
