import { describe, expect, it } from "vitest";
import { ready, runtimeInfo } from "../../src/index.ts";
import { getKernels, resetForTesting } from "../../src/core/loader.ts";

describe("loader state machine", () => {
  it("names each wrong use: before ready, while loading, and reports the build after", async () => {
    resetForTesting();
    expect(() => getKernels()).toThrow(/not initialised: call `await ready\(\)`/);
    const p = ready();
    expect(() => getKernels()).toThrow(/still loading/);
    await p;
    expect(getKernels().memory).toBeInstanceOf(WebAssembly.Memory);
    const info = runtimeInfo();
    expect(info.features.simd).toBe(true);
    expect(["simd", "relaxed"]).toContain(info.build);
    // Node 20 without flags rejects relaxed SIMD: the loader must not pick it.
    if (!info.features.relaxedSimd) expect(info.build).toBe("simd");
  });

  it("is idempotent: repeated ready() resolves to the same instance", async () => {
    await ready();
    const k = getKernels();
    await Promise.all([ready(), ready()]);
    expect(getKernels()).toBe(k);
  });

  it("rejects an unknown build name and recovers afterwards", async () => {
    resetForTesting();
    await expect(ready({ build: "turbo" as never })).rejects.toThrow(/unknown build 'turbo'/);
    expect(() => getKernels()).toThrow(/failed to initialise: .*unknown build/);
    await ready();
    expect(getKernels()).toBeTruthy();
  });
});
