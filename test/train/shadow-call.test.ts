// ShadowedCalls (src/train/shadow-call.ts): an own `call` hides the prototype's until restored;
// a layer already shadowed (by this set or anyone) is left alone, and its restore is the first one's.
import { describe, it, expect } from "vitest";
import { ShadowedCalls } from "../../src/train/shadow-call.ts";

class Layer { call(x: number): number { return x + 1; } }

describe("ShadowedCalls", () => {
  it("shadows, tells, skips what is shadowed already, and restores the stock call", () => {
    const [a, b] = [new Layer(), new Layer()];
    const set = new ShadowedCalls(), other = new ShadowedCalls();
    const restore = set.shadow([a, b, a], (_l, stock) => function (this: Layer, x: number) { return 10 * stock.call(this, x); });
    expect([a.call(1), b.call(2)]).toEqual([20, 30]); // a listed twice, shadowed once
    expect([set.has(a), other.has(a), set.has(new Layer())]).toEqual([true, false, false]);
    const restoreOther = other.shadow([a], (_l, stock) => function (this: Layer, x: number) { return -stock.call(this, x); });
    expect(a.call(1)).toBe(20); // left alone
    restoreOther();
    expect(a.call(1)).toBe(20);
    restore();
    expect([a.call(1), b.call(2), set.has(a), Object.prototype.hasOwnProperty.call(a, "call")]).toEqual([2, 3, false, false]);
  });
});
