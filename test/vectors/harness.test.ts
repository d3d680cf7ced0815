// The vector harness itself must be able to fail: limits, expected errors, throws.
import { describe, expect, it } from "vitest";
import { expectRejects, expectThrows, runVector, withinLimits } from "./index.ts";

describe("vector harness", () => {
  it("withinLimits fails on a figure over its limit, NaN, or a missing figure", () => {
    expect(withinLimits({ relErr: 1e-7 }, { relErr: 1e-5 }).pass).toBe(true);
    expect(withinLimits({ relErr: 1e-3 }, { relErr: 1e-5 })).toMatchObject({ pass: false, note: "relErr = 0.001 exceeds 0.00001" });
    expect(withinLimits({ relErr: NaN }, { relErr: 1e-5 }).pass).toBe(false);
    expect(withinLimits({}, { relErr: 1e-5 }).pass).toBe(false);
  });

  it("expectThrows / expectRejects fail when nothing is thrown or the message differs", async () => {
    expect(expectThrows(() => 1, /x/)).toMatchObject({ pass: false, note: "did not throw; expected an error matching /x/" });
    expect(expectThrows(() => { throw new Error("y"); }, /x/).pass).toBe(false);
    expect(expectThrows(() => { throw new Error("x"); }, /x/).pass).toBe(true);
    expect((await expectRejects(async () => 1, /x/)).pass).toBe(false);
    expect((await expectRejects(async () => { throw new Error("x"); }, /x/)).pass).toBe(true);
  });

  it("runVector turns a throwing case into a failed result with the error", async () => {
    const r = await runVector({ name: "boom", run() { throw new TypeError("bad"); } });
    expect(r).toMatchObject({ name: "boom", pass: false, error: "TypeError: bad" });
  });
});
