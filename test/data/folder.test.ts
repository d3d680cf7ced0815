import { describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeImage } from "../../src/data/decode.ts";
import { loadImageFiles } from "../../src/data/files.ts";
import { loadImageFolder } from "../../src/data/node-folder.ts";
import { loadData } from "../../src/data/node.ts";
import { OdecompError } from "../../src/core/errors.ts";
import { jpegBytes, pngBytes, rgbImage, tempDir, writeClassFolder, writeFile } from "./fixtures.ts";

const H = 12, W = 10;

describe("decodeImage", () => {
  it("decodes RGB PNG exactly and JPEG within tolerance", () => {
    const a = rgbImage(H, W, 1);
    const p = decodeImage(pngBytes(a, H, W, 3));
    expect([p.height, p.width, p.channels]).toEqual([H, W, 3]);
    expect(Array.from(p.data)).toEqual(Array.from(a));
    const j = decodeImage(jpegBytes(a, H, W, 95));
    expect([j.height, j.width, j.channels]).toEqual([H, W, 3]);
    let worst = 0, sum = 0;
    for (let i = 0; i < a.length; i++) { const d = Math.abs(j.data[i] - a[i]); worst = Math.max(worst, d); sum += d; }
    expect(sum / a.length).toBeLessThan(4);
    expect(worst).toBeLessThan(40);
  });
  it("converts RGBA (alpha dropped), gray+alpha, 16-bit and keeps gray as one channel", () => {
    const rgba = rgbImage(4, 5, 2, 4);
    const d = decodeImage(pngBytes(rgba, 4, 5, 4));
    expect(d.channels).toBe(3);
    for (let i = 0; i < 20; i++) expect([d.data[3 * i], d.data[3 * i + 1], d.data[3 * i + 2]]).toEqual([rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]]);
    const ga = rgbImage(4, 5, 3, 2);
    const g = decodeImage(pngBytes(ga, 4, 5, 2));
    expect(g.channels).toBe(1);
    expect(Array.from(g.data)).toEqual(Array.from({ length: 20 }, (_, i) => ga[2 * i]));
    const v16 = Uint16Array.from({ length: 20 * 3 }, (_, i) => i * 1000 + 255);
    const s = decodeImage(pngBytes(v16, 4, 5, 3, 16));
    expect(Array.from(s.data)).toEqual(Array.from(v16, (v) => v >> 8));
    const gray = rgbImage(4, 5, 4, 1);
    expect(Array.from(decodeImage(pngBytes(gray, 4, 5, 1)).data)).toEqual(Array.from(gray));
  });
  it("decodes palette PNGs to RGB", async () => {
    const { encode } = await import("fast-png");
    const palette = [[255, 0, 0], [0, 255, 0], [0, 0, 255]];
    const idx = new Uint8Array([0, 1, 2, 1, 0, 2]);
    const bytes = encode({ width: 3, height: 2, data: idx, depth: 8, channels: 1, palette });
    const d = decodeImage(bytes);
    expect(d.channels).toBe(3);
    expect(Array.from(d.data)).toEqual(Array.from(idx).flatMap((i) => palette[i]));
  });
  it("names what it got for non-images", () => {
    expect(() => decodeImage(new TextEncoder().encode("hello"))).toThrow(/not a PNG or JPEG \(first bytes 68 65 6c 6c\)/);
  });
});

describe("loadImageFolder", () => {
  it("loads a PNG + JPEG class folder with a seeded stratified split, exact PNG pixels and JPEG within tolerance", async () => {
    const root = tempDir();
    const src = writeClassFolder(root, 10, H, W);
    writeFile(root, "README.txt", "not an image");
    const { dataset: d, report } = await loadImageFolder(root, { cacheDir: false, valSplit: 0.2, seed: 3 });
    expect(report).toMatchObject({ source: "folder", split: "seeded", labeled: true, classes: 2, classNames: ["cat", "dog"], height: H, width: W, channels: 3, counts: { train: 16, test: 4 }, resized: 0, ignored: 1, cacheHit: false });
    expect(d.train.classNames).toEqual(["cat", "dog"]);
    expect(Array.from(d.test.labels!)).toEqual([0, 0, 1, 1]);
    // the split is stratified, seeded and reproducible; another seed picks other files
    const again = await loadImageFolder(root, { cacheDir: false, valSplit: 0.2, seed: 3 });
    expect(Buffer.from(again.dataset.test.images).equals(Buffer.from(d.test.images))).toBe(true);
    const other = await loadImageFolder(root, { cacheDir: false, valSplit: 0.2, seed: 4 });
    expect(Buffer.from(other.dataset.test.images).equals(Buffer.from(d.test.images))).toBe(false);
    // every loaded image is one of the sources: PNGs exactly, JPEGs within tolerance
    const px = H * W * 3;
    const cats = [...src].filter(([k]) => k.startsWith("cat/")).map(([, v]) => v);
    const dogs = [...src].filter(([k]) => k.startsWith("dog/")).map(([, v]) => v);
    for (const set of [d.train, d.test]) for (let i = 0; i < set.count; i++) {
      const img = set.images.subarray(i * px, (i + 1) * px);
      if (set.labels![i] === 0) expect(cats.some((c) => Buffer.from(c).equals(Buffer.from(img)))).toBe(true);
      else {
        const best = Math.min(...dogs.map((s) => s.reduce((acc, v, j) => acc + Math.abs(v - img[j]), 0) / px));
        expect(best).toBeLessThan(4);
      }
    }
  });

  it("uses train/ and test/ (or val/) subfolders when present, resizing and center-cropping to a size", async () => {
    const root = tempDir();
    writeClassFolder(root, 3, H, W, "train/");
    writeClassFolder(root, 2, H, W, "val/");
    const r = await loadImageFolder(root, { cacheDir: false, size: [8, 8], crop: "center" });
    expect(r.report).toMatchObject({ split: "folders", counts: { train: 6, test: 4 }, height: 8, width: 8, resized: 10, sizes: { [`${H}×${W}`]: 10 } });
    expect(r.dataset.test.images.length).toBe(4 * 8 * 8 * 3);
  });

  it("loads unlabeled folders (images directly in the root), and gray folders as one channel", async () => {
    const root = tempDir();
    for (let i = 0; i < 5; i++) writeFile(root, `g${i}.png`, pngBytes(rgbImage(6, 6, i, 1), 6, 6, 1));
    const r = await loadImageFolder(root, { cacheDir: false, valSplit: 0.2 });
    expect(r.report).toMatchObject({ labeled: false, classes: 0, channels: 1, counts: { train: 4, test: 1 } });
    expect(r.dataset.train.labels).toBeNull();
    const rgb = await loadImageFolder(root, { cacheDir: false, channels: 3 });
    expect(rgb.dataset.train.channels).toBe(3);
    expect(rgb.dataset.train.images[0]).toBe(rgb.dataset.train.images[2]);
  });

  it("caches decoded folders: the second load is a cache hit with identical bytes; a changed file invalidates it", async () => {
    const root = tempDir(), cacheDir = tempDir("odecomp-cache-");
    writeClassFolder(root, 4, H, W);
    const a = await loadImageFolder(root, { cacheDir });
    expect(a.report.cacheHit).toBe(false);
    expect(readdirSync(cacheDir).filter((f) => f.endsWith(".odim"))).toHaveLength(1);
    const b = await loadImageFolder(root, { cacheDir });
    expect(b.report.cacheHit).toBe(true);
    expect(b.report.counts).toEqual(a.report.counts);
    expect(b.dataset.train.classNames).toEqual(["cat", "dog"]);
    for (const s of ["train", "test"] as const) {
      expect(Buffer.from(b.dataset[s].images).equals(Buffer.from(a.dataset[s].images))).toBe(true);
      expect(Array.from(b.dataset[s].labels!)).toEqual(Array.from(a.dataset[s].labels!));
    }
    writeFile(root, "cat/img000.png", pngBytes(rgbImage(H, W, 999), H, W, 3));
    const c = await loadImageFolder(root, { cacheDir });
    expect(c.report.cacheHit).toBe(false);
  });

  it("reports mixed sizes (resized to the first image's size)", async () => {
    const root = tempDir();
    writeClassFolder(root, 2, H, W);
    writeFile(root, "dog/zbig.png", pngBytes(rgbImage(20, 16, 7), 20, 16, 3));
    const r = await loadImageFolder(root, { cacheDir: false, valSplit: 0 });
    expect(r.report).toMatchObject({ height: H, width: W, resized: 1, sizes: { [`${H}×${W}`]: 4, "20×16": 1 }, counts: { train: 5, test: 0 } });
  });

  describe("bad inputs: a clear error naming the value, nothing cached", () => {
    const expectFails = async (root: string, re: RegExp, options = {}) => {
      const cacheDir = join(tempDir("odecomp-cache-"), "c");
      const p = loadImageFolder(root, { cacheDir, ...options });
      await expect(p).rejects.toThrow(OdecompError);
      await expect(loadImageFolder(root, { cacheDir, ...options })).rejects.toThrow(re);
      expect(existsSync(cacheDir)).toBe(false);
    };
    it("empty folder", async () => {
      const root = tempDir();
      await expectFails(root, /has no PNG or JPEG images/);
      await expectFails(join(root, "missing"), /cannot open folder .*missing \(ENOENT\); expected an existing directory/);
    });
    it("a class folder with no images", async () => {
      const root = tempDir();
      writeClassFolder(root, 2);
      mkdirSync(join(root, "empty"));
      await expectFails(root, /class folder .*\/empty has no PNG or JPEG images/);
      writeFileSync(join(root, "empty", "notes.txt"), "x");
      await expectFails(root, /class folder .*\/empty has no PNG or JPEG images/);
    });
    it("a corrupt image is named; skipBadImages skips and lists it", async () => {
      const root = tempDir();
      writeClassFolder(root, 3, H, W);
      const good = pngBytes(rgbImage(H, W, 1), H, W, 3);
      writeFile(root, "cat/broken.png", good.subarray(0, 60));
      writeFile(root, "dog/fake.jpg", "GIF89a not really");
      await expectFails(root, /cannot decode .*cat\/broken\.png: .*expected a valid PNG or JPEG/);
      const r = await loadImageFolder(root, { cacheDir: false, skipBadImages: true, valSplit: 0 });
      expect(r.report.skipped.map((s) => s.path.replace(root + "/", ""))).toEqual(["cat/broken.png", "dog/fake.jpg"]);
      expect(r.report.counts.train).toBe(6);
      expect(r.dataset.train.images.length).toBe(6 * H * W * 3);
      expect(Array.from(r.dataset.train.labels!)).toEqual([0, 0, 0, 1, 1, 1]);
    });
    it("a test class missing from train, and bad options", async () => {
      const root = tempDir();
      writeClassFolder(root, 2, H, W, "train/");
      writeFile(root, "test/bird/x.png", pngBytes(rgbImage(H, W, 1), H, W, 3));
      await expectFails(root, /test\/bird is a class folder that .*train does not have/);
      const emptyTest = tempDir(); writeClassFolder(emptyTest, 2, H, W, "train/"); mkdirSync(join(emptyTest, "val"));
      await expectFails(emptyTest, /\/val has no PNG or JPEG images; expected the held-out images there/);
      const ok = tempDir(); writeClassFolder(ok, 2);
      await expectFails(ok, /valSplit = 1; expected a number in \[0, 1\)/, { valSplit: 1 });
      await expectFails(ok, /size = \[0,4\]; expected \[height, width\] positive integers/, { size: [0, 4] });
      await expectFails(ok, /channels = 4; expected 1 or 3/, { channels: 4 });
    });
  });
});

describe("loadImageFiles (browser File lists)", () => {
  it("uses webkitRelativePath for class names and gives the same bytes as the folder loader", async () => {
    const root = tempDir();
    const src = writeClassFolder(root, 4, H, W);
    const files = [...src.keys()].reverse().map((rel) => {
      const bytes = rel.endsWith(".png") ? pngBytes(src.get(rel)!, H, W, 3) : jpegBytes(src.get(rel)!, H, W);
      const f = new File([bytes as Uint8Array<ArrayBuffer>], rel.split("/").pop()!, { lastModified: 1 });
      Object.defineProperty(f, "webkitRelativePath", { value: `picked/${rel}` });
      return f;
    });
    const fromFiles = await loadImageFiles(files, { seed: 2 });
    const fromDisk = await loadImageFolder(root, { cacheDir: false, seed: 2 });
    expect(fromFiles.report).toMatchObject({ source: "files", classNames: ["cat", "dog"], counts: fromDisk.report.counts });
    expect(Buffer.from(fromFiles.dataset.train.images).equals(Buffer.from(fromDisk.dataset.train.images))).toBe(true);
    const plain = await loadImageFiles([new File([pngBytes(rgbImage(3, 3, 1), 3, 3, 3) as Uint8Array<ArrayBuffer>], "a.png"), new File([pngBytes(rgbImage(3, 3, 2), 3, 3, 3) as Uint8Array<ArrayBuffer>], "b.png")], { valSplit: 0 });
    expect(plain.report).toMatchObject({ labeled: false, counts: { train: 2, test: 0 } });
    await expect(loadImageFiles([])).rejects.toThrow(/no files were given/);
  });
});

describe("loadData", () => {
  it("dispatches bundled names, folders and arrays, conforming a bundled set to a model's input", async () => {
    const fm = await loadData("fashion-mnist", { trainPerClass: 3, testPerClass: 1, size: [32, 32], channels: 3 });
    expect(fm.report).toMatchObject({ source: "fashion-mnist", split: "fixed", counts: { train: 30, test: 10 }, height: 32, width: 32, channels: 3, resized: 40 });
    expect(fm.dataset.train.images.length).toBe(30 * 32 * 32 * 3);
    expect(fm.dataset.train.classNames![9]).toBe("Ankle boot");
    const root = tempDir(); writeClassFolder(root, 2);
    expect((await loadData(root, { cacheDir: false })).report.source).toBe("folder");
    await expect(loadData("")).rejects.toThrow(/data = ""; expected mnist, fashion-mnist, a folder or a .npz\/.npy file/);
    await expect(loadData(join(root, "nope.npz"))).rejects.toThrow(/cannot read .*nope\.npz \(ENOENT\)/);
  });
});
