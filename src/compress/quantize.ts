// Weight quantization in the tensorflowjs converter's format, so models written
// by `tensorflowjs_converter --quantize_uint8|uint16|float16` are read and
// compressed models can be written back the same way (stock tfjs loads them).
// Runtime-neutral (no tfjs, no node:*): the same code in Node, Deno, browsers
// and workers.
//
// Format (tfjs-core io_utils decodeWeight, converter quantization.py):
// - a float32 weight spec with `quantization: { dtype: "uint8" | "uint16", scale, min }`
//   holds one byte (two) per value; value = q·scale + min. The converter picks
//   scale = (max − min)/(2^bits − 1) and, when 0 lies in [min, max], nudges min so
//   that 0 is exactly representable (TF-Lite's NudgeQuantizationRange). Newer
//   converters add `original_dtype: "float32"`.
// - `quantization: { dtype: "float16" }` holds IEEE half floats.
// - a spec whose own dtype is "float16" (raw half-precision weights) — tfjs 4.22
//   cannot load these, so they are widened to float32 on load.
import { fail } from "../core/errors.ts";

export type QuantizeDtype = "uint8" | "uint16" | "float16";
export const QUANTIZE_DTYPES: readonly QuantizeDtype[] = ["uint8", "uint16", "float16"];

export interface Quantization {
  dtype: QuantizeDtype;
  scale?: number;
  min?: number;
  original_dtype?: string;
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** IEEE half bits → number (exact). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** float32 value → IEEE half bits, round to nearest even (as numpy's astype(float16)); overflow → ±Inf. */
export function floatToHalf(x: number): number {
  F32[0] = x;
  const b = U32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const man = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal
    const full = man | 0x800000; // 24-bit significand
    const shift = 14 - e; // to a 10-bit subnormal mantissa
    let q = full >>> shift;
    const rem = full & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (q & 1))) q++;
    return sign | q; // q may carry into the exponent field: that is the right encoding
  }
  let q = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (q & 1))) q++; // carry may reach 0x7c00 = Inf: correct
  return sign | q;
}

/** numpy's round (half to even). */
const roundEven = (x: number) => {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** The converter's affine range: scale and (nudged) min for `data` with `bits` bits. */
export function affineRange(min: number, max: number, bits: 8 | 16): { scale: number; min: number; max: number } {
  const qmax = 2 ** bits - 1;
  if (min === max) return { scale: 1, min, max };
  const scale = (max - min) / qmax;
  if (min <= 0 && 0 <= max) {
    const zero = roundEven((0 - min) / scale);
    const nmin = -zero * scale;
    return { scale, min: nmin, max: qmax * scale + nmin };
  }
  return { scale, min, max };
}

/** Bytes per value of a spec as stored (its quantization dtype, else its own dtype); undefined if unknown. */
export function storedBytes(spec: { dtype: string; quantization?: unknown }): number | undefined {
  const q = spec.quantization as { dtype?: unknown } | undefined;
  const d = q !== undefined && q !== null ? q.dtype : spec.dtype;
  return ({ float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, int16: 2, int8: 1 } as Record<string, number>)[String(d)];
}

/** Validate a spec's quantization field (name the weight); returns it typed, or undefined when absent. */
export function quantizationOf(spec: { name: string; dtype: string; quantization?: unknown }, where: string): Quantization | undefined {
  const q = spec.quantization;
  if (q === undefined || q === null) return undefined;
  if (typeof q !== "object" || Array.isArray(q)) fail(where, `weight '${spec.name}' has quantization ${JSON.stringify(q)}; expected an object like { dtype: 'uint8', scale, min }`);
  const o = q as Record<string, unknown>;
  if (!QUANTIZE_DTYPES.includes(o.dtype as QuantizeDtype)) fail(where, `weight '${spec.name}' has quantization dtype ${JSON.stringify(o.dtype)}; expected uint8, uint16 or float16`);
  if (spec.dtype !== "float32") fail(where, `weight '${spec.name}' is a quantized ${spec.dtype}; only quantized float32 weights are supported`);
  if (o.dtype !== "float16") {
    for (const k of ["scale", "min"]) {
      if (typeof o[k] !== "number" || !Number.isFinite(o[k])) fail(where, `weight '${spec.name}' has quantization ${k} ${JSON.stringify(o[k])}; expected a finite number`);
    }
  }
  return o as unknown as Quantization;
}

/** Stored bytes of one weight (exactly n values) → float32 values. */
export function dequantize(bytes: Uint8Array, n: number, q: Quantization | "float16"): Float32Array {
  const out = new Float32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (q === "float16" || q.dtype === "float16") {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
  } else if (q.dtype === "uint8") {
    for (let i = 0; i < n; i++) out[i] = bytes[i] * q.scale! + q.min!;
  } else {
    for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, true) * q.scale! + q.min!;
  }
  return out;
}

/** float32 values → stored bytes + quantization field, as the converter writes them. */
export function quantize(values: Float32Array, dtype: QuantizeDtype, name: string): { bytes: Uint8Array; quantization: Quantization } {
  const n = values.length;
  if (dtype === "float16") {
    const bytes = new Uint8Array(2 * n);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < n; i++) {
      const h = floatToHalf(values[i]);
      if ((h & 0x7c00) === 0x7c00) fail("quantize", `weight '${name}' has value ${values[i]} at flat index ${i}, outside the float16 range (±65504); expected --quantize uint8/uint16 or none`);
      dv.setUint16(2 * i, h, true);
    }
    return { bytes, quantization: { dtype, original_dtype: "float32" } };
  }
  const bits = dtype === "uint8" ? 8 : 16;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) { const v = values[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
  if (n === 0) { lo = 0; hi = 0; }
  const r = affineRange(lo, hi, bits);
  const bytes = new Uint8Array((bits / 8) * n);
  const dv = new DataView(bytes.buffer);
  const qmax = 2 ** bits - 1;
  for (let i = 0; i < n; i++) {
    const q = lo === hi ? 0 : Math.min(qmax, Math.max(0, roundEven((Math.min(r.max, Math.max(r.min, values[i])) - r.min) / r.scale)));
    if (bits === 8) bytes[i] = q; else dv.setUint16(2 * i, q, true);
  }
  return { bytes, quantization: { dtype, scale: r.scale, min: r.min, original_dtype: "float32" } };
}
