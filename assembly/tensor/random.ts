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
