// Page script for test/data/chromium.test.ts: a folder picked in
// <input type="file" webkitdirectory> goes through loadImageFiles; the report
// and checksums land in globalThis.__odecompData.
import { loadImageFiles } from "../../src/data/files.ts";

const sum = (a: Uint8Array) => { let h = 2166136261; for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i], 16777619); return h >>> 0; };
const input = document.createElement("input");
input.type = "file";
input.id = "pick";
input.webkitdirectory = true;
document.body.append(input);
input.addEventListener("change", async () => {
  try {
    const { dataset, report } = await loadImageFiles(input.files!, { seed: 5 });
    (globalThis as Record<string, unknown>).__odecompData = {
      report, train: sum(dataset.train.images), test: sum(dataset.test.images), labels: Array.from(dataset.train.labels ?? []),
      paths: Array.from(input.files!, (f) => f.webkitRelativePath).sort(),
    };
  } catch (e) {
    (globalThis as Record<string, unknown>).__odecompData = { error: String((e as Error).stack ?? e) };
  }
});
(globalThis as Record<string, unknown>).__odecompReady = true;
