// Epilogue of a fused convolution: y[r, c] = act(y[r, c] + bias[c]) over the
// [rows, cols] output in place, in one pass (tfjs's FusedConv2D otherwise runs
// as Conv2D, then Add and Relu kernels, each another pass over the output).
// bias: `biasLen` floats, cols (per channel) or 1 (a scalar), or 0 (none).
// act: 0 linear, 1 relu.
export const ACT_LINEAR: i32 = 0;
export const ACT_RELU: i32 = 1;

export function bias_act_f32(y: usize, rows: i32, cols: i32, bias: usize, biasLen: i32, act: i32): void {
  const zero = f32x4.splat(0);
  const relu = act == ACT_RELU;
  const scalar: f32 = biasLen == 1 ? load<f32>(bias) : 0;
  const perChannel = biasLen == cols && biasLen > 1;
  for (let r = 0; r < rows; r++) {
    const row = y + (<usize>r * <usize>cols << 2);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const p = row + (<usize>c << 2);
      let v = v128.load(p);
      if (perChannel) v = f32x4.add(v, v128.load(bias + (<usize>c << 2)));
      else if (biasLen == 1) v = f32x4.add(v, f32x4.splat(scalar));
      if (relu) v = f32x4.max(v, zero);
      v128.store(p, v);
    }
    for (; c < cols; c++) {
      const p = row + (<usize>c << 2);
      let v = load<f32>(p);
      if (perChannel) v += load<f32>(bias + (<usize>c << 2));
      else if (biasLen == 1) v += scalar;
      if (relu && v < 0) v = 0;
      store<f32>(p, v);
    }
  }
}
