// Power-of-two scaling, as LAPACK's xLASCL does before a factorisation: a
// matrix whose largest |value| lies far outside [2^-32, 2^32] (denormals near
// 1e-40, or values near float32's 3.4e38) is multiplied by 2^e into that
// range — exact, since only the exponent changes — factorised, and its values
// unscaled. Without it Householder norms and Gram matrices under- or overflow
// (Q of NaN, "did not converge").

/** max |x[i]| over n float32 values (0 for n = 0; inputs are checked finite by the caller). */
export function maxabs_f32(p: usize, n: i32): f32 {
  // pmax (one instruction, no NaN handling: inputs are finite) into four independent maxima
  let m0 = f32x4.splat(0), m1 = f32x4.splat(0), m2 = f32x4.splat(0), m3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = p + (<usize>i << 2);
    m0 = f32x4.pmax(m0, f32x4.abs(v128.load(o)));
    m1 = f32x4.pmax(m1, f32x4.abs(v128.load(o + 16)));
    m2 = f32x4.pmax(m2, f32x4.abs(v128.load(o + 32)));
    m3 = f32x4.pmax(m3, f32x4.abs(v128.load(o + 48)));
  }
  for (; i + 4 <= n; i += 4) m0 = f32x4.pmax(m0, f32x4.abs(v128.load(p + (<usize>i << 2))));
  const m = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
  let r = max<f32>(max<f32>(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max<f32>(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  for (; i < n; i++) r = max<f32>(r, abs<f32>(load<f32>(p + (<usize>i << 2))));
  return r;
}

@inline function pow2(e: i32): f32 {
  return reinterpret<f32>((e + 127) << 23); // e in −126…127
}

/** x[i] *= 2^e in place (e in −252…254; split in two exact steps beyond one f32 exponent). */
export function scale_pow2_f32(p: usize, n: i32, e: i32): void {
  const e1 = e > 127 ? 127 : e < -126 ? -126 : e;
  const e2 = e - e1;
  scaleBy(p, n, pow2(e1));
  if (e2 != 0) scaleBy(p, n, pow2(e2));
}

function scaleBy(p: usize, n: i32, f: f32): void {
  const fv = f32x4.splat(f);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = p + (<usize>i << 2);
    v128.store(off, f32x4.mul(v128.load(off), fv));
  }
  for (; i < n; i++) {
    const off = p + (<usize>i << 2);
    store<f32>(off, load<f32>(off) * f);
  }
}
