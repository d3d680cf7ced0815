// Public exports of the kernel module: one line per kernel family.
export { scratch_alloc, scratch_mark, scratch_reset, first_nonfinite_f32 } from "./mem";
export { gemm_f32 } from "./linalg/gemm";
export { qr_f32 } from "./linalg/qr";
export { eigh_f32 } from "./linalg/eig";
export { svd_f32 } from "./linalg/svd";
