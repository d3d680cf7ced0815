// A minimal PNG decoder for screenshot checks (8-bit RGB / RGBA, non-interlaced — what Chromium
// writes): chunks → zlib inflate (node:zlib) → undo the per-row filters → RGBA bytes.
import { inflateSync } from "node:zlib";

export interface Image { width: number; height: number; rgba: Uint8Array }

export function decodePng(buf: Uint8Array): Image {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  if (!sig.every((b, i) => buf[i] === b)) throw new Error("not a PNG (bad signature)");
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let width = 0, height = 0, colorType = 0;
  const idat: Uint8Array[] = [];
  for (let o = 8; o < buf.length;) {
    const len = view.getUint32(o);
    const type = String.fromCharCode(...buf.subarray(o + 4, o + 8));
    const data = buf.subarray(o + 8, o + 8 + len);
    if (type === "IHDR") {
      width = view.getUint32(o + 8); height = view.getUint32(o + 12);
      const depth = data[8]; colorType = data[9];
      if (depth !== 8 || (colorType !== 2 && colorType !== 6) || data[12] !== 0) throw new Error(`unsupported PNG: depth ${depth}, color type ${colorType}, interlace ${data[12]}`);
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    o += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const bpp = colorType === 6 ? 4 : 3, stride = width * bpp;
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = px.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? px.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? row[x - bpp] : 0, b = up[x], c = x >= bpp ? up[x - bpp] : 0;
      let p: number;
      switch (f) {
        case 0: p = 0; break;
        case 1: p = a; break;
        case 2: p = b; break;
        case 3: p = (a + b) >> 1; break;
        case 4: { const q = a + b - c, pa = Math.abs(q - a), pb = Math.abs(q - b), pc = Math.abs(q - c); p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c; break; }
        default: throw new Error(`bad PNG filter ${f} on row ${y}`);
      }
      row[x] = (src[x] + p) & 255;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[4 * i] = px[bpp * i]; rgba[4 * i + 1] = px[bpp * i + 1]; rgba[4 * i + 2] = px[bpp * i + 2];
    rgba[4 * i + 3] = bpp === 4 ? px[bpp * i + 3] : 255;
  }
  return { width, height, rgba };
}

/** Statistics of a rectangle of an image: distinct colours and the fraction of pixels that are not near-white. */
export function regionStats(img: Image, x0: number, y0: number, w: number, h: number): { colors: number; inked: number } {
  const colors = new Set<number>();
  let inked = 0, n = 0;
  for (let y = Math.max(0, Math.floor(y0)); y < Math.min(img.height, y0 + h); y++) {
    for (let x = Math.max(0, Math.floor(x0)); x < Math.min(img.width, x0 + w); x++) {
      const i = 4 * (y * img.width + x);
      const [r, g, b] = [img.rgba[i], img.rgba[i + 1], img.rgba[i + 2]];
      colors.add((r << 16) | (g << 8) | b);
      if (r + g + b < 3 * 235) inked++;
      n++;
    }
  }
  return { colors: colors.size, inked: n ? inked / n : 0 };
}
