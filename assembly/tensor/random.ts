// Seeded Gaussian fill (mulberry32 + Box–Muller) so random starts are
// deterministic for a seed and cost no JavaScript loop.
export function fill_randn_f32(p: usize, n: i32, seed: u32): void {
  let a: u32 = seed;
  for (let i = 0; i < n; i += 2) {
    a += 0x6d2b79f5;
    let t = a;
    t = (t ^ (t >>> 15)) * (t | 1);
    t ^= t + (t ^ (t >>> 7)) * (t | 61);
    const u1 = Math.max(<f64>((t ^ (t >>> 14)) >>> 0) / 4294967296.0, 1e-12);
    a += 0x6d2b79f5;
    t = a;
    t = (t ^ (t >>> 15)) * (t | 1);
    t ^= t + (t ^ (t >>> 7)) * (t | 61);
    const u2 = <f64>((t ^ (t >>> 14)) >>> 0) / 4294967296.0;
    const rad = Math.sqrt(-2.0 * Math.log(u1));
    store<f32>(p + (<usize>i << 2), <f32>(rad * Math.cos(2 * Math.PI * u2)));
    if (i + 1 < n) store<f32>(p + (<usize>(i + 1) << 2), <f32>(rad * Math.sin(2 * Math.PI * u2)));
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
