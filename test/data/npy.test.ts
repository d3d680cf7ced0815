import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { loadNpz, loadNpy } from "../../src/data/node-folder.ts";
import { loadData, loadFashionMnist } from "../../src/data/node.ts";
import { loadArrayFile } from "../../src/data/files.ts";
import { parseNpy } from "../../src/data/npy.ts";
import { conformSet } from "../../src/data/conform.ts";
import { npyBytes, npyStrings, npzBytes, tempDir, writeFile, type NpyDtype } from "./fixtures.ts";

/** Fashion-MNIST images colorised (a per-class tint) and resized to 32×32 — the issue's .npz fixture. */
async function colorFashion(perClass: number) {
  const fm = await loadFashionMnist({ trainPerClass: perClass, testPerClass: Math.max(1, perClass >> 1) });
  const tint = (set: typeof fm.train) => {
    const rgb = conformSet(set, { size: [32, 32], channels: 3 });
    const images = rgb.images.slice();
    for (let i = 0; i < rgb.count; i++) {
      const k = set.labels![i];
      for (let p = 0; p < 32 * 32; p++) for (let c = 0; c < 3; c++) {
        const o = (i * 1024 + p) * 3 + c;
        images[o] = Math.round(images[o] * (0.4 + 0.6 * (((k + c) % 3) / 2)));
      }
    }
    return { ...rgb, images };
  };
  return { train: tint(fm.train), test: tint(fm.test) };
}

const y = (labels: ArrayLike<number>, dtype: NpyDtype = "|u1") => npyBytes(dtype, [labels.length], labels);

describe("npy / npz", () => {
  it("reads a Keras-style npz (x_train/y_train/x_test/y_test, uint8 NHWC, int64 labels of shape (N, 1)) exactly", async () => {
    const fm = await colorFashion(6);
    const dir = tempDir();
    const file = writeFile(dir, "fm32.npz", npzBytes({
      x_train: npyBytes("|u1", [fm.train.count, 32, 32, 3], fm.train.images), y_train: npyBytes("<i8", [fm.train.count, 1], fm.train.labels!),
      x_test: npyBytes("|u1", [fm.test.count, 32, 32, 3], fm.test.images), y_test: npyBytes("<i8", [fm.test.count, 1], fm.test.labels!),
    }));
    const { dataset: d, report } = await loadNpz(file);
    expect(report).toMatchObject({ source: "npz", split: "keys", labeled: true, classes: 10, counts: { train: 60, test: 30 }, height: 32, width: 32, channels: 3 });
    expect(report.pixelRange).toBeUndefined();
    expect(Buffer.from(d.train.images).equals(Buffer.from(fm.train.images))).toBe(true);
    expect(Array.from(d.test.labels!)).toEqual(Array.from(fm.test.labels!));
    expect(d.train.labels).toBeInstanceOf(Uint8Array);
    expect((await loadData(file)).report.source).toBe("npz");
  });

  it("reads float32 [0, 1] and [0, 255] images, NHW gray, and x/y with a seeded stratified split", async () => {
    const n = 20, px = 4 * 5;
    const bytes = Uint8Array.from({ length: n * px }, (_, i) => (i * 37) % 256);
    const labels = Array.from({ length: n }, (_, i) => i % 4);
    const unit = npzBytes({ x: npyBytes("<f4", [n, 4, 5], Array.from(bytes, (v) => v / 255)), y: y(labels, "<i4") }, false);
    const a = (await import("../../src/data/npy.ts")).loadNpzBytes(unit, "unit.npz", { valSplit: 0.25, seed: 1 });
    expect(a.report).toMatchObject({ split: "seeded", pixelRange: "0-1", channels: 1, classes: 4, counts: { train: 16, test: 4 } });
    expect(Array.from(a.dataset.test.labels!).sort()).toEqual([0, 1, 2, 3]);
    const b = (await import("../../src/data/npy.ts")).loadNpzBytes(npzBytes({ x: npyBytes("<f8", [n, 4, 5], bytes), y: y(labels) }), "b.npz", { valSplit: 0.25, seed: 1 });
    expect(b.report.pixelRange).toBe("0-255");
    expect(Buffer.from(b.dataset.train.images).equals(Buffer.from(a.dataset.train.images))).toBe(true);
    const c = (await import("../../src/data/npy.ts")).loadNpzBytes(npzBytes({ x: npyBytes("<f8", [n, 4, 5], bytes), y: y(labels) }), "b.npz", { valSplit: 0.25, seed: 2 });
    expect(Buffer.from(c.dataset.test.images).equals(Buffer.from(a.dataset.test.images))).toBe(false);
  });

  it("loads a lone .npy as unlabeled images, and a Blob in the browser entry", async () => {
    const dir = tempDir();
    const x = npyBytes("|u1", [3, 2, 2, 3], Array.from({ length: 36 }, (_, i) => i));
    const file = writeFile(dir, "imgs.npy", x);
    const r = await loadNpy(file, { valSplit: 0 });
    expect(r.report).toMatchObject({ source: "npy", labeled: false, counts: { train: 3, test: 0 }, channels: 3 });
    expect(r.dataset.train.labels).toBeNull();
    const blob = await loadArrayFile(new File([x as Uint8Array<ArrayBuffer>], "imgs.npy"), { valSplit: 0 });
    expect(Buffer.from(blob.dataset.train.images).equals(Buffer.from(r.dataset.train.images))).toBe(true);
  });

  it("reads class names from 'class_names' ('<U' unicode, '>U', '|S' bytes) or a string 'classes'; they fix the class count", async () => {
    const x = npyBytes("|u1", [8, 2, 2], new Array(32).fill(7));
    const labels = y([0, 1, 2, 0, 1, 2, 0, 1]);
    const names = ["T-shirt/top", "Größe", "🐈 cat", "ankle boot"]; // non-ASCII and astral: one UTF-32 unit each
    const npz = (extra: Record<string, Uint8Array>) => (npzBytes({ x_train: x, y_train: labels, x_test: x, y_test: labels, ...extra }));
    const dir = tempDir();
    const { dataset: d, report } = await loadNpz(writeFile(dir, "named.npz", npz({ class_names: npyStrings("<U", names) })));
    expect(report.classNames).toEqual(names);
    expect(report.classes).toBe(4); // four names, though the labels use only 0..2
    expect(report.ignored).toBe(0);
    expect(d.train.classNames).toEqual(names);
    expect(d.test.classes).toBe(4);
    const { loadNpzBytes } = await import("../../src/data/npy.ts");
    expect(loadNpzBytes(npz({ class_names: npyStrings(">U", names) }), "be.npz").report.classNames).toEqual(names);
    expect(loadNpzBytes(npz({ classes: npyStrings("|S", ["a", "bb", "ccc"]) }), "s.npz").dataset.train.classNames).toEqual(["a", "bb", "ccc"]);
    // a numeric 'classes' (a count, say) is not names: left alone; without one the classes come from the labels
    const counted = loadNpzBytes(npz({ classes: y([3]) }), "n.npz");
    expect(counted.report).toMatchObject({ classes: 3, ignored: 1 });
    expect(counted.report.classNames).toBeUndefined();
    // unlabeled: no classes, the names are not used
    const unl = loadNpzBytes(npzBytes({ x, class_names: npyStrings("<U", names) }), "u.npz", { valSplit: 0 });
    expect(unl.report).toMatchObject({ labeled: false, classes: 0 });
    expect(unl.dataset.train.classNames).toBeUndefined();
    // parseNpy reads the strings with trailing NULs stripped (NumPy pads to the widest element)
    expect(parseNpy(npyStrings("<U", ["ab", "", "abcd"]), "p.npy")).toMatchObject({ dtype: "<U4", shape: [3], strings: ["ab", "", "abcd"] });
    // errors name the key and the value
    expect(() => loadNpzBytes(npz({ class_names: npyStrings("<U", ["a", "b"]) }), "d.npz")).toThrow(/d\.npz:y_train\[2\] = 2 is out of range; expected class indices 0\.\.1 \(2 names in 'class_names'\)/);
    expect(() => loadNpzBytes(npz({ class_names: npyStrings("<U", ["a", "b", "a"]) }), "d.npz")).toThrow(/d\.npz:class_names\[2\] = 'a' repeats d\.npz:class_names\[0\]; expected distinct class names/);
    expect(() => loadNpzBytes(npz({ class_names: npyStrings("<U", ["a", "b", "c", "d"], [2, 2]) }), "d.npz")).toThrow(/d\.npz:class_names has shape \(2, 2\); expected a 1-D array/);
    expect(() => loadNpzBytes(npz({ class_names: y([0, 1, 2]) }), "d.npz")).toThrow(/d\.npz:class_names has dtype '\|u1'; expected the class names as strings/);
    expect(() => loadNpzBytes(npz({ class_names: npyBytes("|O", [3], [0, 0, 0]) }), "d.npz")).toThrow(/d\.npz:class_names: dtype '\|O' is not supported; .*save strings as np\.array\(names\), dtype '<U…'/);
    expect(() => loadNpzBytes(npz({ class_names: npyStrings("<U", names) }), "d.npz", { classes: 5 })).toThrow(/classes = 5 but d\.npz:class_names holds 4 names/);
    expect(() => loadNpzBytes(npzBytes({ x: npyStrings("<U", ["a", "b"]), y: y([0, 1]) }), "d.npz")).toThrow(/d\.npz:x has dtype '<U1'; expected uint8 or float pixels/);
    const bad = npyStrings("<U", ["ab"]);
    new DataView(bad.buffer).setUint32(bad.length - 4, 0xd800, true);
    expect(() => parseNpy(bad, "b.npy")).toThrow(/b\.npy\[0\] holds code point 55296, which is not a Unicode scalar value/);
    expect(() => parseNpy(npyStrings("<U", ["abc"]).subarray(0, 130), "t.npy")).toThrow(/t\.npy: data truncated: 1 strings of '<U3' need 12 bytes/);
  });

  describe("bad arrays: clear errors naming the key", () => {
    const x = npyBytes("|u1", [4, 2, 2], new Array(16).fill(1));
    const load = async (arrays: Record<string, Uint8Array>, options = {}) => (await import("../../src/data/npy.ts")).loadNpzBytes(npzBytes(arrays), "d.npz", options);
    it("labels out of range", async () => {
      await expect(load({ x, y: y([0, 1, 2, -1], "<i8") })).rejects.toThrow(/d\.npz:y\[3\] = -1; expected a class index ≥ 0/);
      await expect(load({ x, y: y([0, 1, 2, 5]) }, { classes: 3 })).rejects.toThrow(/d\.npz:y\[3\] = 5 is out of range; expected class indices 0..2/);
    });
    it("mismatched counts, missing keys, unsupported dtypes and shapes", async () => {
      await expect(load({ x, y: y([0, 1, 2]) })).rejects.toThrow(/d\.npz:y has 3 labels but x has 4 images/);
      await expect(load({ images: x })).rejects.toThrow(/d\.npz has arrays 'images'; expected images under 'x'/);
      await expect(load({ x, y: npyBytes("<f4", [4], [0, 1, 0, 1]) })).rejects.toThrow(/d\.npz:y has dtype '<f4'; expected integer class labels/);
      await expect(load({ x: npyBytes("|O", [4], [0, 0, 0, 0]), y: y([0, 1, 0, 1]) })).rejects.toThrow(/d\.npz:x: dtype '\|O' is not supported; .*object and structured arrays are refused/);
      await expect(load({ x: npyBytes("|u1", [4, 3, 2, 2], new Array(48).fill(0)) })).rejects.toThrow(/d\.npz:x has 2 channels in its last axis .*expected NHWC/);
      await expect(load({ x: npyBytes("<f4", [4, 2, 2], new Array(16).fill(300)) })).rejects.toThrow(/d\.npz:x pixel values span \[300, 300\]; expected \[0, 255\]/);
      await expect(load({ x_train: x, y_train: y([0, 1, 0, 1]) })).rejects.toThrow(/has 'x_train' but no 'x_test'/);
      expect(() => parseNpy(npyBytes("|u1", [2], [1, 2], true), "f.npy")).toThrow(/f\.npy: Fortran-ordered array/);
      const full = npyBytes("|u1", [4], [1, 2, 3, 4]);
      expect(() => parseNpy(full.subarray(0, full.length - 2), "f.npy")).toThrow(/f\.npy: data truncated/);
      await expect(loadNpz(join(tempDir(), "x.npz"))).rejects.toThrow(/cannot read .*x\.npz \(ENOENT\)/);
      await expect(load({})).rejects.toThrow(/holds no \.npy arrays/);
      const notZip = (await import("../../src/data/npy.ts")).loadNpzBytes;
      expect(() => notZip(new Uint8Array([1, 2, 3, 4]), "bad.npz")).toThrow(/bad\.npz is not a readable \.npz \(zip\) file/);
    });
  });
});
