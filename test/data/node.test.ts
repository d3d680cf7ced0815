import { describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as node from "../../src/data/node.ts";

describe("data/node load info", () => {
  it("each load returns where its bytes came from (JSON, then the cache it wrote); the deprecated lastLoadInfo follows", async () => {
    const dir = await mkdtemp(join(tmpdir(), "odecomp-node-"));
    try {
      const a = await node.loadMnist({ cacheDir: dir, trainPerClass: 2, testPerClass: 1 });
      expect(a.load.source).toBe("json");
      expect(node.lastLoadInfo).toEqual(a.load);
      const b = await node.loadMnist({ cacheDir: dir, trainPerClass: 2, testPerClass: 1 });
      expect(b.load.source).toBe("cache");
      expect(b.load.ms).toBeGreaterThanOrEqual(0);
      expect(a.load.source).toBe("json"); // the first result keeps its own info
      expect(node.lastLoadInfo).toEqual(b.load);
      expect(b.train.count).toBe(20);
      expect(Array.from(b.train.images)).toEqual(Array.from(a.train.images));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
