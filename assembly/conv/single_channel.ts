// Both gradients of a conv with ONE input channel (a grayscale image's first conv; in the decomposed
// chains, the input conv's Tucker-1 factor 3×3×1×r), stride 1, no dilation, computed directly:
//   dx[b, ih, iw]      = Σ over taps (kh, kw) whose output position exists of dy[b, oh, ow, :] · w[kh, kw, 0, :]
//   dw[kh, kw, 0, co]  = Σ over output positions (b, oh, ow) of x[b, oh − pT + kh, ow − pL + kw] · dy[b, oh, ow, co]
// The GEMM route (grad.ts) packs patches of K = kH·kW = 9 values per position and scatters them
// back in runs of one float: for the main job's 3×3×1×4 factor it ran at 4 GFLOP/s, ≈ 1 ms each for
// dx and dw per step, where the reads are < 1 MB. Here dx is one dot product per tap and pixel, and
// dw one pass over dy per tap with the channels in registers. Single-threaded (the work is small);
// the order of the additions depends only on the shapes.
import { fma4 } from "../simd";
import { gi, G_BATCH, G_IN_C, G_IN_H, G_IN_W, G_OUT_C, G_OUT_H, G_OUT_W, G_K_H, G_K_W, G_STRIDE_H, G_STRIDE_W, G_DIL_H, G_DIL_W, G_PAD_TOP, G_PAD_LEFT } from "./geom";

/** Whether g is a conv these kernels compute: one input channel, stride 1, no dilation. */
@inline function covered(g: usize): bool {
  return gi(g, G_IN_C) == 1 && gi(g, G_STRIDE_H) == 1 && gi(g, G_STRIDE_W) == 1 && gi(g, G_DIL_H) == 1 && gi(g, G_DIL_W) == 1;
}

/** dx[batch, inH, inW, 1] from dy and w[kH, kW, 1, outC]. Returns 0, or 2 when g is not covered (use grad.ts). */
export function conv2d_backprop_input_c1_f32(g: usize, dy: usize, w: usize, dx: usize): i32 {
  if (!covered(g)) return 2;
  const batch = gi(g, G_BATCH), inH = gi(g, G_IN_H), inW = gi(g, G_IN_W);
  const outH = gi(g, G_OUT_H), outW = gi(g, G_OUT_W), outC = gi(g, G_OUT_C);
  const kH = gi(g, G_K_H), kW = gi(g, G_K_W), pT = gi(g, G_PAD_TOP), pL = gi(g, G_PAD_LEFT);
  const c4 = outC & ~3;
  const rowBytes = <usize>(outW * outC) << 2;
  const tapBytes = <usize>outC << 2;
  for (let b = 0; b < batch; b++) {
    const dyb = dy + <usize>(b * outH) * rowBytes;
    for (let ih = 0; ih < inH; ih++) {
      const out = dx + (<usize>((b * inH + ih) * inW) << 2);
      // pixels whose every tap has an output position: no bounds tests (most of the image)
      const rowsInside = ih + pT - (kH - 1) >= 0 && ih + pT < outH;
      const iwIn0 = max(0, kW - 1 - pL), iwIn1 = min(inW, outW - pL);
      for (let iw = 0; iw < inW; iw++) {
        let acc = f32x4.splat(0);
        let tail: f32 = 0;
        if (rowsInside && iw >= iwIn0 && iw < iwIn1) {
          // taps (kh, kw) read dy at (ih + pT − kh, iw + pL − kw): walk rows up and columns left
          let dyr = dyb + <usize>(ih + pT) * rowBytes + (<usize>((iw + pL) * outC) << 2);
          let wt = w;
          for (let kh = 0; kh < kH; kh++) {
            let d = dyr;
            for (let kw = 0; kw < kW; kw++) {
              let c = 0;
              for (; c < c4; c += 4) acc = fma4(v128.load(d + (<usize>c << 2)), v128.load(wt + (<usize>c << 2)), acc);
              for (; c < outC; c++) tail += load<f32>(d + (<usize>c << 2)) * load<f32>(wt + (<usize>c << 2));
              d -= tapBytes;
              wt += tapBytes;
            }
            dyr -= rowBytes;
          }
        } else {
          for (let kh = 0; kh < kH; kh++) {
            const oh = ih + pT - kh;
            if (oh < 0 || oh >= outH) continue;
            const dyr = dyb + <usize>oh * rowBytes;
            for (let kw = 0; kw < kW; kw++) {
              const ow = iw + pL - kw;
              if (ow < 0 || ow >= outW) continue;
              const d = dyr + (<usize>(ow * outC) << 2), wt = w + (<usize>((kh * kW + kw) * outC) << 2);
              let c = 0;
              for (; c < c4; c += 4) acc = fma4(v128.load(d + (<usize>c << 2)), v128.load(wt + (<usize>c << 2)), acc);
              for (; c < outC; c++) tail += load<f32>(d + (<usize>c << 2)) * load<f32>(wt + (<usize>c << 2));
            }
          }
        }
        const s = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
        store<f32>(out + (<usize>iw << 2), s + tail);
      }
    }
  }
  return 0;
}

/** dw[kH, kW, 1, outC] from x[batch, inH, inW, 1] and dy. Returns 0, or 2 when g is not covered (use grad.ts). */
export function conv2d_backprop_filter_c1_f32(g: usize, x: usize, dy: usize, dw: usize): i32 {
  if (!covered(g)) return 2;
  const batch = gi(g, G_BATCH), inH = gi(g, G_IN_H), inW = gi(g, G_IN_W);
  const outH = gi(g, G_OUT_H), outW = gi(g, G_OUT_W), outC = gi(g, G_OUT_C);
  const kH = gi(g, G_K_H), kW = gi(g, G_K_W), pT = gi(g, G_PAD_TOP), pL = gi(g, G_PAD_LEFT);
  for (let kh = 0; kh < kH; kh++) {
    // output rows whose input row oh − pT + kh exists, and columns likewise
    const oh0 = max(0, pT - kh), oh1 = min(outH, inH + pT - kh);
    for (let kw = 0; kw < kW; kw++) {
      const ow0 = max(0, pL - kw), ow1 = min(outW, inW + pL - kw);
      const o = dw + (<usize>((kh * kW + kw) * outC) << 2);
      // 16 channels at a time in four accumulators, then 4, then one by one
      let c = 0;
      for (; c + 16 <= outC; c += 16) {
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        for (let b = 0; b < batch; b++) for (let oh = oh0; oh < oh1; oh++) {
          const xr = x + (<usize>((b * inH + oh - pT + kh) * inW - pL + kw) << 2);
          let d = dy + (<usize>(((b * outH + oh) * outW + ow0) * outC + c) << 2);
          for (let ow = ow0; ow < ow1; ow++) {
            const s = v128.load32_splat(xr + (<usize>ow << 2));
            a0 = fma4(s, v128.load(d, 0), a0);
            a1 = fma4(s, v128.load(d, 16), a1);
            a2 = fma4(s, v128.load(d, 32), a2);
            a3 = fma4(s, v128.load(d, 48), a3);
            d += <usize>outC << 2;
          }
        }
        v128.store(o + (<usize>c << 2), a0, 0); v128.store(o + (<usize>c << 2), a1, 16);
        v128.store(o + (<usize>c << 2), a2, 32); v128.store(o + (<usize>c << 2), a3, 48);
      }
      for (; c + 4 <= outC; c += 4) {
        let a0 = f32x4.splat(0);
        for (let b = 0; b < batch; b++) for (let oh = oh0; oh < oh1; oh++) {
          const xr = x + (<usize>((b * inH + oh - pT + kh) * inW - pL + kw) << 2);
          let d = dy + (<usize>(((b * outH + oh) * outW + ow0) * outC + c) << 2);
          for (let ow = ow0; ow < ow1; ow++) {
            a0 = fma4(v128.load32_splat(xr + (<usize>ow << 2)), v128.load(d), a0);
            d += <usize>outC << 2;
          }
        }
        v128.store(o + (<usize>c << 2), a0);
      }
      for (; c < outC; c++) {
        let a: f32 = 0;
        for (let b = 0; b < batch; b++) for (let oh = oh0; oh < oh1; oh++) {
          const xr = x + (<usize>((b * inH + oh - pT + kh) * inW - pL + kw) << 2);
          let d = dy + (<usize>(((b * outH + oh) * outW + ow0) * outC + c) << 2);
          for (let ow = ow0; ow < ow1; ow++) {
            a += load<f32>(xr + (<usize>ow << 2)) * load<f32>(d);
            d += <usize>outC << 2;
          }
        }
        store<f32>(o + (<usize>c << 2), a);
      }
    }
  }
  return 0;
}
