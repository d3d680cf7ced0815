import { describe, expect, it } from "vitest";
import { ready, runtimeInfo } from "../../src/index.ts";
import { getKernels, resetForTesting } from "../../src/core/loader.ts";
import { RELAXED_WASM_BASE64, SIMD_WASM_BASE64 } from "../../src/core/wasm-binaries.generated.ts";

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

  it("feature probes agree with validating the full embedded builds", async () => {
    await ready();
    const { features } = runtimeInfo();
    const bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    expect(features.simd).toBe(WebAssembly.validate(bytes(SIMD_WASM_BASE64)));
    expect(features.relaxedSimd).toBe(WebAssembly.validate(bytes(RELAXED_WASM_BASE64)));
  });
});
