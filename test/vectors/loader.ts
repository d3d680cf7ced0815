// Loader vectors: ready() is idempotent and picks the build the runtime validates.
import { ready, runtimeInfo } from "../../src/index.ts";
import type { VectorCase } from "./case.ts";

export const loaderVectors: VectorCase[] = [
  {
    name: "ready() is idempotent (sequential and concurrent calls)",
    async run() {
      await ready();
      const first = runtimeInfo();
      await Promise.all([ready(), ready(), ready()]);
      await ready();
      const same = runtimeInfo() === first;
      return { pass: same, figures: {}, note: same ? undefined : "runtimeInfo() changed after repeated ready(): the module was loaded twice" };
    },
  },
  {
    name: "runtimeInfo() reports SIMD and picks relaxed exactly where it validates",
    async run() {
      await ready();
      const info = runtimeInfo();
      const expected = info.features.relaxedSimd ? "relaxed" : "simd";
      const pass = info.features.simd === true && info.build === expected;
      return {
        pass,
        figures: { simd: +info.features.simd, relaxedSimd: +info.features.relaxedSimd, relaxedBuild: +(info.build === "relaxed") },
        note: pass ? undefined : `build '${info.build}' with features ${JSON.stringify(info.features)}; expected '${expected}'`,
      };
    },
  },
];
