// Max-pool gradient, NHWC: dx[argmax of each window] += dy, where argmax is
// the first strictly greater value in (row, column) window order over the
// taps inside the image — tfjs's cpu semantics, ties included (they are
// common after relu). SIMD over 4 channels: running max and its position
// per lane via compare + select; the scatter is per lane.
import { gi, G_BATCH, G_IN_C, G_IN_H, G_IN_W, G_OUT_H, G_OUT_W, G_K_H, G_K_W, G_STRIDE_H, G_STRIDE_W, G_DIL_H, G_DIL_W, G_PAD_TOP, G_PAD_LEFT } from "./geom";

@inline function addAt(dx: usize, idx: i32, v: f32): void {
  if (idx >= 0) {
    const p = dx + (<usize>idx << 2);
    store<f32>(p, load<f32>(p) + v);
  }
}

export function maxpool_backprop_f32(g: usize, x: usize, dy: usize, dx: usize): void {
  const batch = gi(g, G_BATCH), inH = gi(g, G_IN_H), inW = gi(g, G_IN_W), C = gi(g, G_IN_C);
  const outH = gi(g, G_OUT_H), outW = gi(g, G_OUT_W);
  const kH = gi(g, G_K_H), kW = gi(g, G_K_W);
  const sH = gi(g, G_STRIDE_H), sW = gi(g, G_STRIDE_W), dH = gi(g, G_DIL_H), dWl = gi(g, G_DIL_W);
  const pT = gi(g, G_PAD_TOP), pL = gi(g, G_PAD_LEFT);
  memory.fill(dx, 0, <usize>(batch * inH * inW * C) << 2);
  const lane = i32x4(0, 1, 2, 3);
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outH; oh++) {
      const h0 = oh * sH - pT;
      for (let ow = 0; ow < outW; ow++) {
        const w0 = ow * sW - pL;
        const dyp = dy + (<usize>(((b * outH + oh) * outW + ow) * C) << 2);
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          let best = f32x4.splat(-Infinity);
          let at = i32x4.splat(-1);
          for (let kh = 0; kh < kH; kh++) {
            const ih = h0 + kh * dH;
            if (ih < 0 || ih >= inH) continue;
            for (let kw = 0; kw < kW; kw++) {
              const iw = w0 + kw * dWl;
              if (iw < 0 || iw >= inW) continue;
              const off = ((b * inH + ih) * inW + iw) * C + c;
              const v = v128.load(x + (<usize>off << 2));
              const gt = f32x4.gt(v, best);
              best = v128.bitselect(v, best, gt);
              at = v128.bitselect(i32x4.add(i32x4.splat(off), lane), at, gt);
            }
          }
          const d = v128.load(dyp + (<usize>c << 2));
          addAt(dx, i32x4.extract_lane(at, 0), f32x4.extract_lane(d, 0));
          addAt(dx, i32x4.extract_lane(at, 1), f32x4.extract_lane(d, 1));
          addAt(dx, i32x4.extract_lane(at, 2), f32x4.extract_lane(d, 2));
          addAt(dx, i32x4.extract_lane(at, 3), f32x4.extract_lane(d, 3));
        }
        for (; c < C; c++) {
          let best: f32 = -Infinity;
          let at = -1;
          for (let kh = 0; kh < kH; kh++) {
            const ih = h0 + kh * dH;
            if (ih < 0 || ih >= inH) continue;
            for (let kw = 0; kw < kW; kw++) {
              const iw = w0 + kw * dWl;
              if (iw < 0 || iw >= inW) continue;
              const off = ((b * inH + ih) * inW + iw) * C + c;
              const v = load<f32>(x + (<usize>off << 2));
              if (v > best) { best = v; at = off; }
            }
          }
          addAt(dx, at, load<f32>(dyp + (<usize>c << 2)));
        }
      }
    }
  }
}
