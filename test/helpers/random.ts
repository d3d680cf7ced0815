// Seeded data for tests: a small, fast PRNG (mulberry32) and Gaussian samples.
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(rand: () => number): () => number {
  return () => {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

export function randn(n: number, seed: number): Float32Array {
  const g = gaussian(rng(seed));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = g();
  return out;
}
