// The shared kernel test vectors under Node (the same list runs in Deno and Chromium: test/smoke/).
import { beforeAll, describe, expect, it } from "vitest";
import { ready } from "../../src/index.ts";
import { runVector, vectors } from "./index.ts";

beforeAll(() => ready());

describe("shared kernel test vectors (Node)", () => {
  it("have unique names", () => {
    expect(new Set(vectors.map((v) => v.name)).size).toBe(vectors.length);
  });
  for (const c of vectors) {
    it(c.name, async () => {
      const r = await runVector(c);
      expect(r.error, r.error).toBeUndefined();
      expect(r.pass, `${r.note ?? ""} ${JSON.stringify(r.figures)}`).toBe(true);
    });
  }
});
