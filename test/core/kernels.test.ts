// The typed kernel ABI (src/core/kernels.generated.ts) against the modules that actually run, and
// a guard that no untyped (`any`) path into the kernels comes back.
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ready } from "../../src/index.ts";
import { getKernels } from "../../src/core/loader.ts";
import { KERNEL_ARITY } from "../../src/core/kernels.generated.ts";
import * as binaries from "../../src/core/wasm-binaries.generated.ts";

const decode = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));

describe("typed kernel ABI", () => {
  it("names exactly the function exports of every embedded build", () => {
    const typed = Object.keys(KERNEL_ARITY).sort();
    expect(typed.length).toBeGreaterThan(40);
    let checked = 0;
    for (const [name, b64] of Object.entries(binaries)) {
      const bytes = decode(b64);
      if (!WebAssembly.validate(bytes)) continue; // relaxed SIMD where this runtime rejects it
      const fns = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).filter((e) => e.kind === "function").map((e) => e.name).sort();
      expect(fns, name).toEqual(typed);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(2); // both plain-SIMD builds validate everywhere we run
  });

  it("has each kernel's parameter count as the running instance", async () => {
    await ready();
    const k = getKernels() as unknown as Record<string, unknown>;
    for (const [name, arity] of Object.entries(KERNEL_ARITY)) {
      expect(typeof k[name], name).toBe("function");
      expect((k[name] as (...a: number[]) => unknown).length, name).toBe(arity);
    }
  });

  it("leaves no `any` in src/ (a kernel call through `any` would escape the typed table)", () => {
    const root = join(import.meta.dirname, "../../src");
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith(".ts")) {
          readFileSync(p, "utf8").split("\n").forEach((line, i) => {
            const code = line.replace(/\/\/.*$/, "");
            if (/(:|\bas|<|\|)\s*any\b|\bany\s*[\]>|,;)]|no-explicit-any|\[\w+:\s*string\]\s*:\s*any/.test(code)) offenders.push(`${p}:${i + 1}: ${line.trim()}`);
          });
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
});
