// Scalar NHWC references for the depthwise gradients with dilation (the tfjs
// cpu backend's backprop kernels ignore `dilations`, so they cannot serve there).
export interface Geometry {
  batch: number; inH: number; inW: number; inC: number; outH: number; outW: number; chMul: number;
  kH: number; kW: number; sH: number; sW: number; dH: number; dW: number; padTop: number; padLeft: number;
}

export function depthwiseBackpropFilterRef(g: Geometry, x: Float32Array, dy: Float32Array): Float64Array {
  const outC = g.inC * g.chMul;
  const dw = new Float64Array(g.kH * g.kW * outC);
  for (let b = 0; b < g.batch; b++) for (let oh = 0; oh < g.outH; oh++) for (let ow = 0; ow < g.outW; ow++)
    for (let kh = 0; kh < g.kH; kh++) for (let kw = 0; kw < g.kW; kw++) {
      const ih = oh * g.sH + kh * g.dH - g.padTop, iw = ow * g.sW + kw * g.dW - g.padLeft;
      if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW) continue;
      for (let c = 0; c < g.inC; c++) for (let m = 0; m < g.chMul; m++) {
        const j = c * g.chMul + m;
        dw[(kh * g.kW + kw) * outC + j] += x[((b * g.inH + ih) * g.inW + iw) * g.inC + c] * dy[((b * g.outH + oh) * g.outW + ow) * outC + j];
      }
    }
  return dw;
}

export function depthwiseBackpropInputRef(g: Geometry, dy: Float32Array, w: Float32Array): Float64Array {
  const outC = g.inC * g.chMul;
  const dx = new Float64Array(g.batch * g.inH * g.inW * g.inC);
  for (let b = 0; b < g.batch; b++) for (let oh = 0; oh < g.outH; oh++) for (let ow = 0; ow < g.outW; ow++)
    for (let kh = 0; kh < g.kH; kh++) for (let kw = 0; kw < g.kW; kw++) {
      const ih = oh * g.sH + kh * g.dH - g.padTop, iw = ow * g.sW + kw * g.dW - g.padLeft;
      if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW) continue;
      for (let c = 0; c < g.inC; c++) for (let m = 0; m < g.chMul; m++) {
        const j = c * g.chMul + m;
        dx[((b * g.inH + ih) * g.inW + iw) * g.inC + c] += w[(kh * g.kW + kw) * outC + j] * dy[((b * g.outH + oh) * g.outW + ow) * outC + j];
      }
    }
  return dx;
}

/** max |a − b| / max |b| (norm-wise relative error; 0 when both are all zero). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}
