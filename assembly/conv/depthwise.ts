// Depthwise convolution gradients, NHWC, filter [kH, kW, inC, chMul],
// outC = inC·chMul, any stride / padding / dilation. The filter's inner index
// c·chMul + m equals dy's channel index, so with chMul = 1 both kernels are
// SIMD loops over channels. Work goes one output row (b, oh) at a time, so
// the x / dy / dx rows it touches stay in L1:
// - filter: per tap and 16-channel block, 4 f32x4 accumulators sum over the
//   row's positions; dW is read and written once per row and tap.
// - input: per tap and 16-channel block, 4 filter vectors stay in registers
//   while the dx row is updated in place.
// chMul > 1 takes a plain per-position path (SIMD over the multiplier).
import { fma4 } from "../simd";
import { gi, G_BATCH, G_IN_C, G_IN_H, G_IN_W, G_OUT_C, G_OUT_H, G_OUT_W, G_K_H, G_K_W, G_STRIDE_H, G_STRIDE_W, G_DIL_H, G_DIL_W, G_PAD_TOP, G_PAD_LEFT, G_CH_MUL } from "./geom";

/** First output index o ≥ 0 with o·s + off ≥ 0. */
@inline function firstValid(off: i32, s: i32): i32 {
  return off >= 0 ? 0 : (-off + s - 1) / s;
}

/** One past the last output index o < out with o·s + off < size. */
@inline function endValid(off: i32, s: i32, size: i32, out: i32): i32 {
  if (size - 1 - off < 0) return 0;
  const e = (size - 1 - off) / s + 1;
  return e < out ? e : out;
}

/** dw[kH, kW, inC, chMul] = Σ_{b,oh,ow} x[b, ih, iw, c] · dy[b, oh, ow, c·chMul + m]. */
export function depthwise_backprop_filter_f32(g: usize, x: usize, dy: usize, dw: usize): void {
  const batch = gi(g, G_BATCH), inH = gi(g, G_IN_H), inW = gi(g, G_IN_W), inC = gi(g, G_IN_C);
  const outH = gi(g, G_OUT_H), outW = gi(g, G_OUT_W), outC = gi(g, G_OUT_C);
  const kH = gi(g, G_K_H), kW = gi(g, G_K_W);
  const sH = gi(g, G_STRIDE_H), sW = gi(g, G_STRIDE_W), dH = gi(g, G_DIL_H), dWl = gi(g, G_DIL_W);
  const pT = gi(g, G_PAD_TOP), pL = gi(g, G_PAD_LEFT), mul = gi(g, G_CH_MUL);
  memory.fill(dw, 0, <usize>(kH * kW * outC) << 2);
  const xStep = <usize>(sW * inC) << 2;   // x advance per output column
  const dyStep = <usize>outC << 2;         // dy advance per output column
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outH; oh++) {
      const dyrow = dy + (<usize>((b * outH + oh) * outW * outC) << 2);
      for (let kh = 0; kh < kH; kh++) {
        const ih = oh * sH + kh * dH - pT;
        if (ih < 0 || ih >= inH) continue;
        const xrow = x + (<usize>((b * inH + ih) * inW * inC) << 2);
        for (let kw = 0; kw < kW; kw++) {
          const off = kw * dWl - pL;
          const ow0 = firstValid(off, sW), ow1 = endValid(off, sW, inW, outW);
          if (ow0 >= ow1) continue;
          const wrow = dw + (<usize>((kh * kW + kw) * outC) << 2);
          const x0 = xrow + (<usize>((ow0 * sW + off) * inC) << 2);
          const dy0 = dyrow + (<usize>(ow0 * outC) << 2);
          const n = ow1 - ow0;
          if (mul == 1) {
            let c = 0;
            for (; c + 16 <= outC; c += 16) {
              const o = <usize>c << 2;
              let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
              let px = x0 + o, pd = dy0 + o;
              for (let i = 0; i < n; i++) {
                a0 = fma4(v128.load(px), v128.load(pd), a0);
                a1 = fma4(v128.load(px, 16), v128.load(pd, 16), a1);
                a2 = fma4(v128.load(px, 32), v128.load(pd, 32), a2);
                a3 = fma4(v128.load(px, 48), v128.load(pd, 48), a3);
                px += xStep; pd += dyStep;
              }
              const pw = wrow + o;
              v128.store(pw, f32x4.add(v128.load(pw), a0));
              v128.store(pw, f32x4.add(v128.load(pw, 16), a1), 16);
              v128.store(pw, f32x4.add(v128.load(pw, 32), a2), 32);
              v128.store(pw, f32x4.add(v128.load(pw, 48), a3), 48);
            }
            for (; c + 4 <= outC; c += 4) {
              const o = <usize>c << 2;
              let a0 = f32x4.splat(0);
              let px = x0 + o, pd = dy0 + o;
              for (let i = 0; i < n; i++) {
                a0 = fma4(v128.load(px), v128.load(pd), a0);
                px += xStep; pd += dyStep;
              }
              v128.store(wrow + o, f32x4.add(v128.load(wrow + o), a0));
            }
            for (; c < outC; c++) {
              const o = <usize>c << 2;
              let a: f32 = 0;
              let px = x0 + o, pd = dy0 + o;
              for (let i = 0; i < n; i++) {
                a += load<f32>(px) * load<f32>(pd);
                px += xStep; pd += dyStep;
              }
              store<f32>(wrow + o, load<f32>(wrow + o) + a);
            }
          } else {
            let px = x0, pd = dy0;
            for (let i = 0; i < n; i++) {
              for (let c = 0; c < inC; c++) {
                const xv = load<f32>(px + (<usize>c << 2));
                const xs = f32x4.splat(xv);
                const base = <usize>(c * mul) << 2;
                let m = 0;
                for (; m + 4 <= mul; m += 4) {
                  const o = base + (<usize>m << 2);
                  v128.store(wrow + o, fma4(xs, v128.load(pd + o), v128.load(wrow + o)));
                }
                for (; m < mul; m++) {
                  const o = base + (<usize>m << 2);
                  store<f32>(wrow + o, load<f32>(wrow + o) + xv * load<f32>(pd + o));
                }
              }
              px += xStep; pd += dyStep;
            }
          }
        }
      }
    }
  }
}

/** dx[b, ih, iw, c] = Σ_{taps, m} dy[b, oh, ow, c·chMul + m] · w[kh, kw, c, m]. */
export function depthwise_backprop_input_f32(g: usize, dy: usize, w: usize, dx: usize): void {
  const batch = gi(g, G_BATCH), inH = gi(g, G_IN_H), inW = gi(g, G_IN_W), inC = gi(g, G_IN_C);
  const outH = gi(g, G_OUT_H), outW = gi(g, G_OUT_W), outC = gi(g, G_OUT_C);
  const kH = gi(g, G_K_H), kW = gi(g, G_K_W);
  const sH = gi(g, G_STRIDE_H), sW = gi(g, G_STRIDE_W), dH = gi(g, G_DIL_H), dWl = gi(g, G_DIL_W);
  const pT = gi(g, G_PAD_TOP), pL = gi(g, G_PAD_LEFT), mul = gi(g, G_CH_MUL);
  memory.fill(dx, 0, <usize>(batch * inH * inW * inC) << 2);
  const xStep = <usize>(sW * inC) << 2;
  const dyStep = <usize>outC << 2;
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outH; oh++) {
      const dyrow = dy + (<usize>((b * outH + oh) * outW * outC) << 2);
      for (let kh = 0; kh < kH; kh++) {
        const ih = oh * sH + kh * dH - pT;
        if (ih < 0 || ih >= inH) continue;
        const xrow = dx + (<usize>((b * inH + ih) * inW * inC) << 2);
        for (let kw = 0; kw < kW; kw++) {
          const off = kw * dWl - pL;
          const ow0 = firstValid(off, sW), ow1 = endValid(off, sW, inW, outW);
          if (ow0 >= ow1) continue;
          const wrow = w + (<usize>((kh * kW + kw) * outC) << 2);
          const x0 = xrow + (<usize>((ow0 * sW + off) * inC) << 2);
          const dy0 = dyrow + (<usize>(ow0 * outC) << 2);
          const n = ow1 - ow0;
          if (mul == 1) {
            let c = 0;
            for (; c + 16 <= inC; c += 16) {
              const o = <usize>c << 2;
              const w0 = v128.load(wrow + o), w1 = v128.load(wrow + o, 16), w2 = v128.load(wrow + o, 32), w3 = v128.load(wrow + o, 48);
              let px = x0 + o, pd = dy0 + o;
              for (let i = 0; i < n; i++) {
                v128.store(px, fma4(w0, v128.load(pd), v128.load(px)));
                v128.store(px, fma4(w1, v128.load(pd, 16), v128.load(px, 16)), 16);
                v128.store(px, fma4(w2, v128.load(pd, 32), v128.load(px, 32)), 32);
                v128.store(px, fma4(w3, v128.load(pd, 48), v128.load(px, 48)), 48);
                px += xStep; pd += dyStep;
              }
            }
            for (; c + 4 <= inC; c += 4) {
              const o = <usize>c << 2;
              const w0 = v128.load(wrow + o);
              let px = x0 + o, pd = dy0 + o;
              for (let i = 0; i < n; i++) {
                v128.store(px, fma4(w0, v128.load(pd), v128.load(px)));
                px += xStep; pd += dyStep;
              }
            }
            for (; c < inC; c++) {
              const o = <usize>c << 2;
              const wv = load<f32>(wrow + o);
              let px = x0 + o, pd = dy0 + o;
              for (let i = 0; i < n; i++) {
                store<f32>(px, load<f32>(px) + wv * load<f32>(pd));
                px += xStep; pd += dyStep;
              }
            }
          } else {
            let px = x0, pd = dy0;
            for (let i = 0; i < n; i++) {
              for (let c = 0; c < inC; c++) {
                let s: f32 = 0;
                const base = <usize>(c * mul) << 2;
                for (let m = 0; m < mul; m++) {
                  const o = base + (<usize>m << 2);
                  s += load<f32>(wrow + o) * load<f32>(pd + o);
                }
                const o = <usize>c << 2;
                store<f32>(px + o, load<f32>(px + o) + s);
              }
              px += xStep; pd += dyStep;
            }
          }
        }
      }
    }
  }
}
