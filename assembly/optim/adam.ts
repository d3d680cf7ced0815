// One Adam step over n f32 values, in place: m ← m·β1 + g·(1−β1), v ← v·β2 + g²·(1−β2),
// x ← (m/c1) / (√(v/c2) + ε) · (−lr) + x, with c1 = 1 − β1ᵗ and c2 = 1 − β2ᵗ. Each operation is one
// IEEE f32 operation in tfjs-core's AdamOptimizer order (no fused multiply-add, even in the relaxed
// build), so the result is bitwise tfjs's. params = [β1, β2, 1−β1, 1−β2, ε, −lr, c1, c2] (8 f32).
export function adam_update_f32(x: usize, g: usize, m: usize, v: usize, n: i32, params: usize): void {
  const b1 = load<f32>(params), b2 = load<f32>(params, 4), ob1 = load<f32>(params, 8), ob2 = load<f32>(params, 12);
  const eps = load<f32>(params, 16), nlr = load<f32>(params, 20), c1 = load<f32>(params, 24), c2 = load<f32>(params, 28);
  const B1 = f32x4.splat(b1), B2 = f32x4.splat(b2), OB1 = f32x4.splat(ob1), OB2 = f32x4.splat(ob2);
  const EPS = f32x4.splat(eps), NLR = f32x4.splat(nlr), C1 = f32x4.splat(c1), C2 = f32x4.splat(c2);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    const m1 = f32x4.add(f32x4.mul(v128.load(m + o), B1), f32x4.mul(gv, OB1));
    const v1 = f32x4.add(f32x4.mul(v128.load(v + o), B2), f32x4.mul(f32x4.mul(gv, gv), OB2));
    v128.store(m + o, m1);
    v128.store(v + o, v1);
    const step = f32x4.div(f32x4.div(m1, C1), f32x4.add(f32x4.sqrt(f32x4.div(v1, C2)), EPS));
    v128.store(x + o, f32x4.add(f32x4.mul(step, NLR), v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const m1 = load<f32>(m + o) * b1 + gi * ob1;
    const v1 = load<f32>(v + o) * b2 + (gi * gi) * ob2;
    store<f32>(m + o, m1);
    store<f32>(v + o, v1);
    store<f32>(x + o, ((m1 / c1) / (Mathf.sqrt(v1 / c2) + eps)) * nlr + load<f32>(x + o));
  }
}
