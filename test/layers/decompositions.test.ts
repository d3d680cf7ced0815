import { describe, expect, it } from "vitest";
import { ready } from "../../src/index.ts";
import { cpDecompose, partialTucker, truncatedSvd } from "../../src/layers/decompositions.ts";
import { randTensor as rand } from "../helpers/tensors.ts";

describe("DecompositionOptions", () => {
  it("takes each decomposition's own option names, and the deprecated flat names give the same factors", async () => {
    await ready();
    const k = rand([3, 3, 6, 5], 7);
    const m = rand([12, 9], 8);
    expect(partialTucker(k, [3, 2], [2, 3], { tucker: { method: "hooi" } })).toEqual(partialTucker(k, [3, 2], [2, 3], { tuckerMethod: "hooi" }));
    expect(partialTucker(k, [3, 2], [2, 3], { tucker: { method: "hooi" } })).not.toEqual(partialTucker(k, [3, 2], [2, 3]));
    expect(cpDecompose(k, 4, { cp: { maxIter: 3 } })).toEqual(cpDecompose(k, 4, { cpIterations: 3 }));
    expect(cpDecompose(k, 4, { cp: { maxIter: 3 } })).not.toEqual(cpDecompose(k, 4));
    expect(truncatedSvd(m, 4, { svd: { method: "full" } })).toEqual(truncatedSvd(m, 4, { svdMethod: "full" }));
  });
});
