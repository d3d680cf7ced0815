// Depthwise convolution gradients, NHWC, filter [kH, kW, inC, chMul],
// outC = inC·chMul, any stride / padding / dilation. The filter's inner index
// c·chMul + m equals dy's channel index, so both kernels are SIMD loops over
// the outC channels of one (position, tap) pair; dx/dW rows stay in cache.
import { fma4 } from "../simd";
import { gi, G_BATCH, G_IN_C, G_IN_H, G_IN_W, G_OUT_C, G_OUT_H, G_OUT_W, G_K_H, G_K_W, G_STRIDE_H, G_STRIDE_W, G_DIL_H, G_DIL_W, G_PAD_TOP, G_PAD_LEFT, G_CH_MUL } from "./geom";

/** dw[kH, kW, inC, chMul] = Σ_{b,oh,ow} x[b, ih, iw, c] · dy[b, oh, ow, c·chMul + m]. */
export function depthwise_backprop_filter_f32(g: usize, x: usize, dy: usize, dw: usize): void {
  const batch = gi(g, G_BATCH), inH = gi(g, G_IN_H), inW = gi(g, G_IN_W), inC = gi(g, G_IN_C);
  const outH = gi(g, G_OUT_H), outW = gi(g, G_OUT_W), outC = gi(g, G_OUT_C);
  const kH = gi(g, G_K_H), kW = gi(g, G_K_W);
  const sH = gi(g, G_STRIDE_H), sW = gi(g, G_STRIDE_W), dH = gi(g, G_DIL_H), dWl = gi(g, G_DIL_W);
  const pT = gi(g, G_PAD_TOP), pL = gi(g, G_PAD_LEFT), mul = gi(g, G_CH_MUL);
  memory.fill(dw, 0, <usize>(kH * kW * outC) << 2);
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const dyrow = dy + (<usize>(((b * outH + oh) * outW + ow) * outC) << 2);
        for (let kh = 0; kh < kH; kh++) {
          const ih = oh * sH + kh * dH - pT;
          if (ih < 0 || ih >= inH) continue;
          for (let kw = 0; kw < kW; kw++) {
            const iw = ow * sW + kw * dWl - pL;
            if (iw < 0 || iw >= inW) continue;
            const xrow = x + (<usize>(((b * inH + ih) * inW + iw) * inC) << 2);
            const wrow = dw + (<usize>((kh * kW + kw) * outC) << 2);
            if (mul == 1) {
              let c = 0;
              for (; c + 4 <= outC; c += 4) {
                const o = <usize>c << 2;
                v128.store(wrow + o, fma4(v128.load(xrow + o), v128.load(dyrow + o), v128.load(wrow + o)));
              }
              for (; c < outC; c++) {
                const o = <usize>c << 2;
                store<f32>(wrow + o, load<f32>(wrow + o) + load<f32>(xrow + o) * load<f32>(dyrow + o));
              }
            } else {
              for (let c = 0; c < inC; c++) {
                const xv = load<f32>(xrow + (<usize>c << 2));
                const base = <usize>(c * mul) << 2;
                const xs = f32x4.splat(xv);
                let m = 0;
                for (; m + 4 <= mul; m += 4) {
                  const o = base + (<usize>m << 2);
                  v128.store(wrow + o, fma4(xs, v128.load(dyrow + o), v128.load(wrow + o)));
                }
                for (; m < mul; m++) {
                  const o = base + (<usize>m << 2);
                  store<f32>(wrow + o, load<f32>(wrow + o) + xv * load<f32>(dyrow + o));
                }
              }
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
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const dyrow = dy + (<usize>(((b * outH + oh) * outW + ow) * outC) << 2);
        for (let kh = 0; kh < kH; kh++) {
          const ih = oh * sH + kh * dH - pT;
          if (ih < 0 || ih >= inH) continue;
          for (let kw = 0; kw < kW; kw++) {
            const iw = ow * sW + kw * dWl - pL;
            if (iw < 0 || iw >= inW) continue;
            const xrow = dx + (<usize>(((b * inH + ih) * inW + iw) * inC) << 2);
            const wrow = w + (<usize>((kh * kW + kw) * outC) << 2);
            if (mul == 1) {
              let c = 0;
              for (; c + 4 <= inC; c += 4) {
                const o = <usize>c << 2;
                v128.store(xrow + o, fma4(v128.load(wrow + o), v128.load(dyrow + o), v128.load(xrow + o)));
              }
              for (; c < inC; c++) {
                const o = <usize>c << 2;
                store<f32>(xrow + o, load<f32>(xrow + o) + load<f32>(wrow + o) * load<f32>(dyrow + o));
              }
            } else {
              for (let c = 0; c < inC; c++) {
                let s: f32 = 0;
                const base = <usize>(c * mul) << 2;
                for (let m = 0; m < mul; m++) {
                  const o = base + (<usize>m << 2);
                  s += load<f32>(wrow + o) * load<f32>(dyrow + o);
                }
                const o = <usize>c << 2;
                store<f32>(xrow + o, load<f32>(xrow + o) + s);
              }
            }
          }
        }
      }
    }
  }
}
