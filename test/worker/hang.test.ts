// Issue 13 defect 12: a worker that never answers init, or that dies between calls,
// must not leave promises pending forever.
import { describe, expect, it } from "vitest";
import { EventEmitter } from "node:events";
import { Worker } from "node:worker_threads";
import { OdecompError } from "../../src/index.ts";
import { createWorker } from "../../src/worker/index.ts";

const INFO = { odecomp: {}, threads: 1, threadsNote: null, tfjs: {}, crossOriginIsolated: false, kind: "node" };

/** A Node-style worker double: answers init (unless silent) and lets the test kill it. */
class FakeNodeWorker extends EventEmitter {
  posted: { type: string; id: number }[] = [];
  terminated = false;
  constructor(readonly answerInit: boolean) { super(); }
  postMessage(m: { type: string; id: number }) {
    this.posted.push(m);
    if (m.type === "init" && this.answerInit) queueMicrotask(() => this.emit("message", { type: "ready", id: m.id, info: INFO }));
  }
  terminate() { this.terminated = true; }
}

/** A Web-Worker-style double (addEventListener) that never answers. */
class SilentWebWorker {
  handlers: Record<string, ((e: Event) => void)[]> = {};
  addEventListener(type: string, h: (e: Event) => void) { (this.handlers[type] ??= []).push(h); }
  postMessage() {}
  terminate() {}
}

const rejection = async (p: Promise<unknown>): Promise<Error> => {
  try { await p; } catch (e) { return e as Error; }
  throw new Error("expected a rejection");
};

describe("worker hangs", () => {
  it("init that is never answered times out with a clear error (initTimeoutMs)", async () => {
    const t0 = Date.now();
    const e = await rejection(createWorker({ worker: new FakeNodeWorker(false) as never, initTimeoutMs: 200 }));
    expect(e).toBeInstanceOf(OdecompError);
    expect(e.message).toMatch(/worker: the worker did not answer init within 200 ms/);
    expect(Date.now() - t0).toBeLessThan(5000);
    const w = await rejection(createWorker({ worker: new SilentWebWorker() as never, initTimeoutMs: 100 }));
    expect(w.message).toMatch(/did not answer init within 100 ms/);
  });

  it("initTimeoutMs is validated", async () => {
    const e = await rejection(createWorker({ worker: new FakeNodeWorker(true) as never, initTimeoutMs: "5" as never }));
    expect(e).toBeInstanceOf(OdecompError);
    expect(e.message).toMatch(/initTimeoutMs must be a number of milliseconds > 0 \(or Infinity\), got "5" \(a string\)/);
  });

  it("a worker that dies between calls rejects the pending call and every later one", async () => {
    const fake = new FakeNodeWorker(true);
    const w = await createWorker({ worker: fake as never });
    const pending = w.svd({ data: new Float32Array(4), shape: [2, 2] });
    fake.emit("exit", 1);
    const e1 = await rejection(pending);
    expect(e1).toBeInstanceOf(OdecompError);
    expect(e1.message).toMatch(/worker: the worker exited \(code 1\)/);
    const e2 = await rejection(w.qr({ data: new Float32Array(4), shape: [2, 2] }));
    expect(e2.message).toMatch(/worker: the worker exited \(code 1\)/);
    // an error event with nothing pending is remembered too
    const fake2 = new FakeNodeWorker(true);
    const w2 = await createWorker({ worker: fake2 as never });
    fake2.emit("error", new Error("boom"));
    expect((await rejection(w2.qr({ data: new Float32Array(4), shape: [2, 2] }))).message).toMatch(/the worker failed: boom/);
  });

  it("a real worker_threads worker that exits after init", async () => {
    const src = `const { parentPort } = require("node:worker_threads");
      parentPort.on("message", (m) => { if (m.type === "init") { parentPort.postMessage({ type: "ready", id: m.id, info: ${JSON.stringify(INFO)} }); setTimeout(() => process.exit(3), 50); } });`;
    const w = await createWorker({ worker: new Worker(src, { eval: true }) as never });
    await new Promise((r) => setTimeout(r, 300));
    const e = await rejection(w.svd({ data: new Float32Array(4), shape: [2, 2] }));
    expect(e.message).toMatch(/the worker exited \(code 3\)/);
    const src2 = `const { parentPort } = require("node:worker_threads");
      parentPort.on("message", (m) => { if (m.type === "init") parentPort.postMessage({ type: "ready", id: m.id, info: ${JSON.stringify(INFO)} }); else process.exit(4); });`;
    const w2 = await createWorker({ worker: new Worker(src2, { eval: true }) as never });
    const e2 = await rejection(w2.svd({ data: new Float32Array(4), shape: [2, 2] }));
    expect(e2.message).toMatch(/the worker exited \(code 4\)/);
  });
});
