// Public exports of the kernel module: one line per kernel family.
export { scratch_alloc, scratch_mark, scratch_reset, first_nonfinite_f32 } from "./mem";
export { gemm_f32 } from "./linalg/gemm";
export { lowrank_matmul_f32 } from "./linalg/lowrank";
