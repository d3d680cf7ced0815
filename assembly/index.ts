// Public exports of the kernel module: one line per kernel family.
export { scratch_alloc, scratch_mark, scratch_reset, scratch_arena, first_nonfinite_f32 } from "./mem";
export { gemm_f32 } from "./linalg/gemm";
export { unfold_f32, fold_f32, swap_last_f32, mode_product_f32, unfold_gram_f32 } from "./tensor/unfold";
export { khatri_rao_f32, mttkrp_f32 } from "./tensor/khatri_rao";
export { hadamard_f32, lerp_f32, add_scaled_f32, scale_cols_f32, sumsq_f32, diffsq_f32, copy_block_f32 } from "./vec";
export { weighted_inner_f32, quad_form_f32, normalize_cols_f32, spd_solve_right_f32, add_diag_f32 } from "./decomp/cp";
export { orthonormalize_f32, unfold_gram_f64, sym_eigvals_f64 } from "./decomp/subspace";
export { fill_randn_f32 } from "./tensor/random";
export { qr_f32 } from "./linalg/qr";
export { eigh_f32, eigh_top_f32, eigh_batch_f32 } from "./linalg/eig";
export { svd_f32, svd_values_f32 } from "./linalg/svd";
export { conv2d_f32, conv2d_backprop_filter_f32, conv2d_backprop_input_f32 } from "./conv/grad";
export { depthwise_backprop_filter_f32, depthwise_backprop_input_f32 } from "./conv/depthwise";
export { lowrank_matmul_f32 } from "./linalg/lowrank";
export { maxpool_backprop_f32 } from "./conv/pool";
export { bias_act_f32 } from "./conv/epilogue";
export { col_sums_f32 } from "./conv/bias_grad";
export { threads_config, threads_generation, threads_quit, threads_recover, thread_loop, thread_failed } from "./threads";
