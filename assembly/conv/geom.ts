// Convolution geometry passed to the conv kernels as one pointer to 16 i32
// (instead of 16 positional numbers). NHWC input, filter [kH, kW, inC, outC]
// (depthwise: [kH, kW, inC, chMul], outC = inC·chMul). The TS side writes it
// from tfjs's Conv2DInfo (src/tfjs/geometry.ts keeps the same field order).
export const G_BATCH = 0;
export const G_IN_H = 1;
export const G_IN_W = 2;
export const G_IN_C = 3;
export const G_OUT_H = 4;
export const G_OUT_W = 5;
export const G_OUT_C = 6;
export const G_K_H = 7;
export const G_K_W = 8;
export const G_STRIDE_H = 9;
export const G_STRIDE_W = 10;
export const G_DIL_H = 11;
export const G_DIL_W = 12;
export const G_PAD_TOP = 13;
export const G_PAD_LEFT = 14;
export const G_CH_MUL = 15;

@inline export function gi(g: usize, field: i32): i32 {
  return load<i32>(g + (<usize>field << 2));
}
