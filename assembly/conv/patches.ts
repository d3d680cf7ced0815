// Patch packing shared by the GEMM-based convolutions: rows [p0, p0+rows) of
// the (batch·outH·outW) × (kH·kW·inC) patch matrix, written contiguously
// (row stride kH·kW·inC), zeros where the window hangs over the padding.
// Each (kh, kw) of a row is one inC-long run, copied with SIMD loads and stores
// in the loop (memory.copy / memory.fill are calls out of the wasm code in V8,
// tens of ns each: with 9 runs of 1–33 channels per row they cost more than the
// copying), so the cost is one pass over the patch block (cache-resident by construction).
import { gi, G_IN_H, G_IN_W, G_IN_C, G_OUT_H, G_OUT_W, G_K_H, G_K_W, G_STRIDE_H, G_STRIDE_W, G_DIL_H, G_DIL_W, G_PAD_TOP, G_PAD_LEFT } from "./geom";

export function pack_patches(g: usize, x: usize, p0: i32, rows: i32, col: usize): void {
  const inH = gi(g, G_IN_H), inW = gi(g, G_IN_W), inC = gi(g, G_IN_C);
  const outH = gi(g, G_OUT_H), outW = gi(g, G_OUT_W);
  const kH = gi(g, G_K_H), kW = gi(g, G_K_W);
  const sH = gi(g, G_STRIDE_H), sW = gi(g, G_STRIDE_W), dH = gi(g, G_DIL_H), dW = gi(g, G_DIL_W);
  const pT = gi(g, G_PAD_TOP), pL = gi(g, G_PAD_LEFT);
  const runBytes = <usize>inC << 2;
  const K = kH * kW * inC;
  const hw = outH * outW;
  let b = p0 / hw;
  let rem = p0 - b * hw;
  let oh = rem / outW;
  let ow = rem - oh * outW;
  for (let r = 0; r < rows; r++) {
    let dst = col + (<usize>(r * K) << 2);
    const xb = x + (<usize>(b * inH * inW * inC) << 2);
    for (let kh = 0; kh < kH; kh++) {
      const ih = oh * sH + kh * dH - pT;
      if (ih < 0 || ih >= inH) {
        zeroRun(dst, inC * kW);
        dst += runBytes * <usize>kW;
        continue;
      }
      const xrow = xb + (<usize>(ih * inW * inC) << 2);
      const iw0 = ow * sW - pL;
      if (dW == 1 && iw0 >= 0 && iw0 + kW <= inW) {
        // undilated window inside the row: its kW taps are one contiguous run of x
        copyRun(dst, xrow + (<usize>(iw0 * inC) << 2), kW * inC);
        dst += runBytes * <usize>kW;
        continue;
      }
      for (let kw = 0; kw < kW; kw++) {
        const iw = iw0 + kw * dW;
        if (iw < 0 || iw >= inW) zeroRun(dst, inC);
        else copyRun(dst, xrow + (<usize>(iw * inC) << 2), inC);
        dst += runBytes;
      }
    }
    if (++ow == outW) {
      ow = 0;
      if (++oh == outH) { oh = 0; b++; }
    }
  }
}

/** dst[0:n] = src[0:n] (f32): 4 at a time, the last 1–3 by one more (overlapping) vector or one by one. */
@inline function copyRun(dst: usize, src: usize, n: i32): void {
  if (n >= 4) {
    let c = 0;
    for (; c + 4 <= n; c += 4) v128.store(dst + (<usize>c << 2), v128.load(src + (<usize>c << 2)));
    if (c < n) {
      const o = <usize>(n - 4) << 2;
      v128.store(dst + o, v128.load(src + o));
    }
  } else {
    for (let c = 0; c < n; c++) store<f32>(dst + (<usize>c << 2), load<f32>(src + (<usize>c << 2)));
  }
}

/** dst[0:n] = 0 (f32), as copyRun. */
@inline function zeroRun(dst: usize, n: i32): void {
  const z = f32x4.splat(0);
  if (n >= 4) {
    let c = 0;
    for (; c + 4 <= n; c += 4) v128.store(dst + (<usize>c << 2), z);
    if (c < n) v128.store(dst + (<usize>(n - 4) << 2), z);
  } else {
    for (let c = 0; c < n; c++) store<f32>(dst + (<usize>c << 2), 0);
  }
}

/** d[0:n] += src[0:n] (f32), 4 at a time, then one by one. */
@inline function addRun(d: usize, src: usize, n: i32): void {
  let c = 0;
  for (; c + 4 <= n; c += 4) {
    const o = <usize>c << 2;
    v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(src + o)));
  }
  for (; c < n; c++) {
    const o = <usize>c << 2;
    store<f32>(d + o, load<f32>(d + o) + load<f32>(src + o));
  }
}

/** Scatter-add rows [p0, p0+rows) of a patch matrix back into the NHWC image dx (col2im). */
export function unpack_patches_add(g: usize, col: usize, p0: i32, rows: i32, dx: usize): void {
  const inH = gi(g, G_IN_H), inW = gi(g, G_IN_W), inC = gi(g, G_IN_C);
  const outH = gi(g, G_OUT_H), outW = gi(g, G_OUT_W);
  const kH = gi(g, G_K_H), kW = gi(g, G_K_W);
  const sH = gi(g, G_STRIDE_H), sW = gi(g, G_STRIDE_W), dH = gi(g, G_DIL_H), dW = gi(g, G_DIL_W);
  const pT = gi(g, G_PAD_TOP), pL = gi(g, G_PAD_LEFT);
  const K = kH * kW * inC;
  const hw = outH * outW;
  let b = p0 / hw;
  let rem = p0 - b * hw;
  let oh = rem / outW;
  let ow = rem - oh * outW;
  for (let r = 0; r < rows; r++) {
    let src = col + (<usize>(r * K) << 2);
    const xb = dx + (<usize>(b * inH * inW * inC) << 2);
    for (let kh = 0; kh < kH; kh++) {
      const ih = oh * sH + kh * dH - pT;
      if (ih < 0 || ih >= inH) { src += <usize>(kW * inC) << 2; continue; }
      const xrow = xb + (<usize>(ih * inW * inC) << 2);
      const iw0 = ow * sW - pL;
      if (dW == 1 && iw0 >= 0 && iw0 + kW <= inW) {
        // undilated window inside the row: one contiguous run of dx
        addRun(xrow + (<usize>(iw0 * inC) << 2), src, kW * inC);
        src += <usize>(kW * inC) << 2;
        continue;
      }
      for (let kw = 0; kw < kW; kw++) {
        const iw = iw0 + kw * dW;
        if (iw >= 0 && iw < inW) addRun(xrow + (<usize>(iw * inC) << 2), src, inC);
        src += <usize>inC << 2;
      }
    }
    if (++ow == outW) {
      ow = 0;
      if (++oh == outH) { oh = 0; b++; }
    }
  }
}

/**
 * Rows per patch block: about 576 KB of patches (256 rows at K = 576), so a
 * block stays in L2 while the GEMM packs and consumes it; between 256 and
 * 4096 rows, at most all of them.
 */
@inline export function patch_block_rows(K: i32, P: i32): i32 {
  let r = 147456 / (K > 0 ? K : 1);
  if (r < 256) r = 256;
  if (r > 4096) r = 4096;
  if (r > P) r = P;
  return r;
}
