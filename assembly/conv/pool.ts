// Max pooling, NHWC, and its gradient. Forward: y = the max over each window's taps inside the
// image, NaN never taken (tfjs's cpu backend: a tap wins when strictly greater), so a window of
// NaNs gives −∞ as there. Gradient: dx[argmax of each window] += dy, where argmax is
// the first strictly greater value in (row, column) window order over the
// taps inside the image — tfjs's cpu semantics, ties included (they are
// common after relu). SIMD over 4 channels: running max and its position
// per lane via compare + select; the scatter is per lane.
// Threads claim whole images (a window never leaves its image; par_claim), so every thread count
// writes the same values in the same order within an image: bitwise the same dx.
import { JOB_POOL_FWD, JOB_POOL_GRAD, arg_i32, arg_ptr, claim_arg, par_claim, par_run, par_threads, set_arg_i32 } from "../threads";
import { gi, G_BATCH, G_IN_C, G_IN_H, G_IN_W, G_OUT_H, G_OUT_W, G_K_H, G_K_W, G_STRIDE_H, G_STRIDE_W, G_DIL_H, G_DIL_W, G_PAD_TOP, G_PAD_LEFT } from "./geom";

@inline function addAt(dx: usize, idx: i32, v: f32): void {
  if (idx >= 0) {
    const p = dx + (<usize>idx << 2);
    store<f32>(p, load<f32>(p) + v);
  }
}

// argument slots of a JOB_POOL_FWD job
const F_G = 0, F_X = 1, F_Y = 2, F_CLAIM = 3;

/**
 * y = max pool of x (geometry g: a MaxPool's, dilation 1). Threads claim whole images, so each
 * output value is computed the same way for any thread count (a max is exact anyway).
 */
export function maxpool_f32(g: usize, x: usize, y: usize): void {
  const batch = gi(g, G_BATCH);
  const taps = <i64>batch * gi(g, G_OUT_H) * gi(g, G_OUT_W) * gi(g, G_IN_C) * gi(g, G_K_H) * gi(g, G_K_W);
  let parts = min(par_threads(), batch);
  if (taps < (<i64>parts << 18)) parts = 1;
  if (parts <= 1) {
    poolImages(g, x, y, 0, batch);
    return;
  }
  set_arg_i32(F_G, <i32>g); set_arg_i32(F_X, <i32>x); set_arg_i32(F_Y, <i32>y);
  claim_arg(F_CLAIM);
  par_run(JOB_POOL_FWD, parts);
}

/** Part `part` of a JOB_POOL_FWD job: the images it claims. */
export function pool_fwd_part(part: i32): void {
  const g = <usize>arg_i32(F_G), batch = gi(g, G_BATCH), claim = arg_ptr(F_CLAIM);
  for (let b = par_claim(claim); b < batch; b = par_claim(claim)) poolImages(g, <usize>arg_i32(F_X), <usize>arg_i32(F_Y), b, b + 1);
}

/** y of images [b0, b1): SIMD over 4 channels, the taps clipped to the image (padding never wins). */
function poolImages(g: usize, x: usize, y: usize, b0: i32, b1: i32): void {
  const inH = gi(g, G_IN_H), inW = gi(g, G_IN_W), C = gi(g, G_IN_C);
  const outH = gi(g, G_OUT_H), outW = gi(g, G_OUT_W);
  const kH = gi(g, G_K_H), kW = gi(g, G_K_W);
  const sH = gi(g, G_STRIDE_H), sW = gi(g, G_STRIDE_W);
  const pT = gi(g, G_PAD_TOP), pL = gi(g, G_PAD_LEFT);
  for (let b = b0; b < b1; b++) {
    for (let oh = 0; oh < outH; oh++) {
      const h0 = max(0, oh * sH - pT), h1 = min(inH, oh * sH - pT + kH);
      for (let ow = 0; ow < outW; ow++) {
        const w0 = max(0, ow * sW - pL), w1 = min(inW, ow * sW - pL + kW);
        const yp = y + (<usize>(((b * outH + oh) * outW + ow) * C) << 2);
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          let best = f32x4.splat(-Infinity);
          for (let ih = h0; ih < h1; ih++) {
            for (let iw = w0; iw < w1; iw++) {
              const v = v128.load(x + (<usize>(((b * inH + ih) * inW + iw) * C + c) << 2));
              best = v128.bitselect(v, best, f32x4.gt(v, best));
            }
          }
          v128.store(yp + (<usize>c << 2), best);
        }
        for (; c < C; c++) {
          let best: f32 = -Infinity;
          for (let ih = h0; ih < h1; ih++) {
            for (let iw = w0; iw < w1; iw++) {
              const v = load<f32>(x + (<usize>(((b * inH + ih) * inW + iw) * C + c) << 2));
              if (v > best) best = v;
            }
          }
          store<f32>(yp + (<usize>c << 2), best);
        }
      }
    }
  }
}

// argument slots of a JOB_POOL_GRAD job
const P_G = 0, P_X = 1, P_DY = 2, P_DX = 3, P_PARTS = 4, P_CLAIM = 5;

export function maxpool_backprop_f32(g: usize, x: usize, dy: usize, dx: usize): void {
  const batch = gi(g, G_BATCH);
  // Threads pay from about a quarter of a million window taps per part (a wake-up costs microseconds).
  const taps = <i64>batch * gi(g, G_OUT_H) * gi(g, G_OUT_W) * gi(g, G_IN_C) * gi(g, G_K_H) * gi(g, G_K_W);
  let parts = min(par_threads(), batch);
  if (taps < (<i64>parts << 18)) parts = 1;
  if (parts <= 1) {
    backpropImages(g, x, dy, dx, 0, batch);
    return;
  }
  set_arg_i32(P_G, <i32>g); set_arg_i32(P_X, <i32>x); set_arg_i32(P_DY, <i32>dy); set_arg_i32(P_DX, <i32>dx);
  set_arg_i32(P_PARTS, parts);
  claim_arg(P_CLAIM);
  par_run(JOB_POOL_GRAD, parts);
}

/** Part `part` of a JOB_POOL_GRAD job: the images it claims. */
export function pool_grad_part(part: i32): void {
  const g = <usize>arg_i32(P_G), batch = gi(g, G_BATCH), claim = arg_ptr(P_CLAIM);
  for (let b = par_claim(claim); b < batch; b = par_claim(claim)) backpropImages(g, <usize>arg_i32(P_X), <usize>arg_i32(P_DY), <usize>arg_i32(P_DX), b, b + 1);
}

/** dx of images [b0, b1). */
function backpropImages(g: usize, x: usize, dy: usize, dx: usize, b0: i32, b1: i32): void {
  const inH = gi(g, G_IN_H), inW = gi(g, G_IN_W), C = gi(g, G_IN_C);
  const outH = gi(g, G_OUT_H), outW = gi(g, G_OUT_W);
  const kH = gi(g, G_K_H), kW = gi(g, G_K_W);
  const sH = gi(g, G_STRIDE_H), sW = gi(g, G_STRIDE_W), dH = gi(g, G_DIL_H), dWl = gi(g, G_DIL_W);
  const pT = gi(g, G_PAD_TOP), pL = gi(g, G_PAD_LEFT);
  if (sH == kH && sW == kW && dH == 1 && dWl == 1 && pT == 0 && pL == 0 && outH * kH <= inH && outW * kW <= inW) {
    tiledBackprop(x, dy, dx, b0, b1, inH, inW, C, outH, outW, kH, kW);
    return;
  }
  const image = <usize>(inH * inW * C) << 2;
  memory.fill(dx + <usize>b0 * image, 0, <usize>(b1 - b0) * image);
  const lane = i32x4(0, 1, 2, 3);
  for (let b = b0; b < b1; b++) {
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

/**
 * Windows that tile the input (stride = window, no dilation, every window inside the input — every
 * 2×2 / stride-2 pool of an even-sized input, or a 'valid' one): each input position lies in at most one window, so dx is written once per position —
 * dy at the window's argmax tap, 0 at the others — with no zero-fill and no read-modify-write
 * scatter. Only positions past the last window (an input not a multiple of the window) are
 * zeroed first. The argmax is the same first strictly greater tap as above.
 */
function tiledBackprop(x: usize, dy: usize, dx: usize, b0: i32, b1: i32, inH: i32, inW: i32, C: i32, outH: i32, outW: i32, kH: i32, kW: i32): void {
  const image = <usize>(inH * inW * C) << 2;
  if (outH * kH != inH || outW * kW != inW) memory.fill(dx + <usize>b0 * image, 0, <usize>(b1 - b0) * image);
  const zero = f32x4.splat(0);
  for (let b = b0; b < b1; b++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const dyp = dy + (<usize>(((b * outH + oh) * outW + ow) * C) << 2);
        const base = ((b * inH + oh * kH) * inW + ow * kW) * C;
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          let best = f32x4.splat(-Infinity);
          let at = i32x4.splat(-1);
          for (let kh = 0; kh < kH; kh++) {
            for (let kw = 0; kw < kW; kw++) {
              const v = v128.load(x + (<usize>(base + (kh * inW + kw) * C + c) << 2));
              const gt = f32x4.gt(v, best);
              best = v128.bitselect(v, best, gt);
              at = v128.bitselect(i32x4.splat(kh * kW + kw), at, gt);
            }
          }
          const d = v128.load(dyp + (<usize>c << 2));
          for (let kh = 0; kh < kH; kh++) {
            for (let kw = 0; kw < kW; kw++) {
              const o = dx + (<usize>(base + (kh * inW + kw) * C + c) << 2);
              v128.store(o, v128.bitselect(d, zero, i32x4.eq(at, i32x4.splat(kh * kW + kw))));
            }
          }
        }
        for (; c < C; c++) {
          let best: f32 = -Infinity;
          let at = -1;
          for (let t = 0; t < kH * kW; t++) {
            const v = load<f32>(x + (<usize>(base + ((t / kW) * inW + t % kW) * C + c) << 2));
            if (v > best) { best = v; at = t; }
          }
          const d = load<f32>(dyp + (<usize>c << 2));
          for (let t = 0; t < kH * kW; t++) {
            store<f32>(dx + (<usize>(base + ((t / kW) * inW + t % kW) * C + c) << 2), t == at ? d : 0);
          }
        }
      }
    }
  }
}
