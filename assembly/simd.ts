// SIMD helpers shared by every kernel family. The relaxed build fuses
// multiply-add where the runtime accepts relaxed SIMD; the plain build keeps
// mul + add so results match across runtimes up to rounding.

/** a * b + c on four f32 lanes. */
@inline export function fma4(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** Sum of the four f32 lanes. */
@inline export function hsum4(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) +
    f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline export function ldf(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

@inline export function stf(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}
