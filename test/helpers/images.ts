// Tiny seeded image data sets for training tests: 10 classes, each lighting up
// its own horizontal band of a 28×28 image, plus seeded noise.
import { fromClassImages, type Dataset } from "../../src/data/dataset.ts";

export function toyImages(perClass: number, seed = 1): Dataset {
  const px = 784;
  let s = seed >>> 0;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const classes = Array.from({ length: 10 }, (_, k) => {
    const a = new Uint8Array(perClass * px);
    for (let j = 0; j < perClass; j++) for (let p = 0; p < px; p++) {
      const row = Math.floor(p / 28);
      a[j * px + p] = (row >= 2 * k + 4 && row < 2 * k + 6 ? 200 : 0) + Math.floor(rand() * 50);
    }
    return a;
  });
  return fromClassImages("toy", classes);
}
