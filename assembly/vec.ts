// General f32 vector and block helpers (elementwise products and sums, column scaling,
// norms in f64, block copies): one file for the helpers every decomposition uses, so
// method files (decomp/cp.ts, tensor/random.ts, …) keep only what is specific to them.

/** out[i] = a[i] · b[i] for n values (out may alias a or b). */
export function hadamard_f32(a: usize, b: usize, n: i32, out: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(out + off, f32x4.mul(v128.load(a + off), v128.load(b + off)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(out + off, load<f32>(a + off) * load<f32>(b + off));
  }
}

/** out[i] = a[i] + s · (b[i] − a[i]) (extrapolation along b − a; out may alias either). */
export function lerp_f32(a: usize, b: usize, s: f32, n: i32, out: usize): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const va = v128.load(a + off);
    v128.store(out + off, f32x4.add(va, f32x4.mul(sv, f32x4.sub(v128.load(b + off), va))));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const va = load<f32>(a + off);
    store<f32>(out + off, va + s * (load<f32>(b + off) - va));
  }
}

/** out[i] = a[i] + s · b[i] (out may alias a or b). */
export function add_scaled_f32(a: usize, b: usize, s: f32, n: i32, out: usize): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(out + off, f32x4.add(v128.load(a + off), f32x4.mul(sv, v128.load(b + off))));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(out + off, load<f32>(a + off) + s * load<f32>(b + off));
  }
}

/** u[i, r] *= s[r] for an I×R matrix. */
export function scale_cols_f32(u: usize, I: i32, R: i32, s: usize): void {
  for (let i = 0; i < I; i++) {
    const row = u + (<usize>(i * R) << 2);
    let r = 0;
    for (; r + 4 <= R; r += 4) {
      const off = <usize>r << 2;
      v128.store(row + off, f32x4.mul(v128.load(row + off), v128.load(s + off)));
    }
    for (; r < R; r++) {
      const off = <usize>r << 2;
      store<f32>(row + off, load<f32>(row + off) * load<f32>(s + off));
    }
  }
}

/** Σ x[i]² in f64 (squared Frobenius norm). */
export function sumsq_f32(p: usize, n: i32): f64 {
  let s0: f64 = 0, s1: f64 = 0;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const x = <f64>load<f32>(p + (<usize>i << 2));
    const y = <f64>load<f32>(p + (<usize>(i + 1) << 2));
    s0 += x * x; s1 += y * y;
  }
  for (; i < n; i++) { const x = <f64>load<f32>(p + (<usize>i << 2)); s0 += x * x; }
  return s0 + s1;
}

/** ‖x − y‖² in f64. */
export function diffsq_f32(x: usize, y: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const d = <f64>load<f32>(x + (<usize>i << 2)) - <f64>load<f32>(y + (<usize>i << 2));
    s += d * d;
  }
  return s;
}

/** Copy a rows×cols block: dst[i·ldd + j] = src[i·lds + j]. */
export function copy_block_f32(src: usize, lds: i32, dst: usize, ldd: i32, rows: i32, cols: i32): void {
  for (let i = 0; i < rows; i++) memory.copy(dst + (<usize>(i * ldd) << 2), src + (<usize>(i * lds) << 2), <usize>cols << 2);
}

/** acc[0..3] (four f64) += the four f32 lanes of v: the SIMD step of the f64 column sums. */
@inline export function add_f32x4_to_f64(acc: usize, v: v128): void {
  v128.store(acc, f64x2.add(v128.load(acc), f64x2.promote_low_f32x4(v)));
  v128.store(acc + 16, f64x2.add(v128.load(acc + 16), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1))));
}

/** out[i] = f32(src[i]) for n f64 values: sums kept in f64, rounded once. */
export function f64_to_f32(src: usize, n: i32, out: usize): void {
  for (let i = 0; i < n; i++) store<f32>(out + (<usize>i << 2), <f32>load<f64>(src + (<usize>i << 3)));
}

/** acc[c] = Σ_r x[r, c] in f64 (acc: cols f64 values, overwritten): per-channel sums of an NHWC block (bias gradients, batch statistics). */
export function col_sums_f64(x: usize, rows: i32, cols: i32, acc: usize): void {
  memory.fill(acc, 0, <usize>cols << 3);
  for (let r = 0; r < rows; r++) {
    const row = x + (<usize>r * <usize>cols << 2);
    let c = 0;
    for (; c + 4 <= cols; c += 4) add_f32x4_to_f64(acc + (<usize>c << 3), v128.load(row + (<usize>c << 2)));
    for (; c < cols; c++) {
      const a = acc + (<usize>c << 3);
      store<f64>(a, load<f64>(a) + <f64>load<f32>(row + (<usize>c << 2)));
    }
  }
}
