// odecomp/worker in Node (worker_threads, the TypeScript entry bootstrapped with tsx): same results as
// the direct API, classes rebuilt, inputs copied (or transferred on request), results transferred,
// progress through onProgress, errors re-thrown as OdecompError with the worker's message, clean end.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OdecompError, cp, ready, svd, tt, tucker, CPTensor, TTTensor, TuckerTensor, type Tensor } from "../../src/index.ts";
import { compress, type CompressProgress } from "../../src/models/index.ts";
import { createWorker, type OdecompWorker } from "../../src/worker/index.ts";
import { transferables } from "../../src/worker/protocol.ts";
import { randn } from "../helpers/random.ts";
import { convModel, setup, tf, tfl } from "../models/helpers.ts";

const rnd = (shape: number[], seed: number): Tensor => ({ data: randn(shape.reduce((a, b) => a * b, 1), seed), shape });
const errorOf = (f: () => unknown): Error => {
  try { f(); } catch (e) { return e as Error; }
  throw new Error("expected a throw");
};

/** A small Sequential: conv 3×3 (6→12) → flatten → dense 32 → dense 5, seeded. */
function smallModel(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ name: "conv", inputShape: [6, 6, 6], filters: 12, kernelSize: 3, padding: "same", kernelInitializer: tfl.initializers.glorotNormal({ seed: 1 }) }));
  m.add(tfl.layers.flatten({ name: "flat" }));
  m.add(tfl.layers.dense({ name: "fc1", units: 32, activation: "relu", kernelInitializer: tfl.initializers.glorotNormal({ seed: 2 }) }));
  m.add(tfl.layers.dense({ name: "fc2", units: 5, kernelInitializer: tfl.initializers.glorotNormal({ seed: 3 }) }));
  return m;
}

describe("odecomp/worker in Node (worker_threads)", () => {
  let w: OdecompWorker;

  beforeAll(async () => {
    await setup();
    await ready();
    w = await createWorker();
  });
  afterAll(async () => { await w?.terminate(); });

  it("reports what it runs on", () => {
    expect(w.info.kind).toBe("node");
    expect(w.info.tfjs.backend).toBe("cpu");
    expect(["simd", "relaxed"]).toContain(w.info.odecomp.build);
    expect(w.info.threads).toBeGreaterThanOrEqual(1);
  });

  it("tucker, cp, tt and svd give the direct API's results bit for bit, as the same classes", async () => {
    const x = rnd([7, 5, 4], 11);
    const m = rnd([33, 17], 12);
    const [wt, wc, wtt, ws] = await Promise.all([
      w.tucker(x, { rank: [3, 2, 2] }), w.cp(x, { rank: 3, maxIter: 20 }), w.tt(x, { rank: 3 }), w.svd(m, { rank: 5 }),
    ]);
    const dt = tucker(x, { rank: [3, 2, 2] }), dc = cp(x, { rank: 3, maxIter: 20 }), dtt = tt(x, { rank: 3 }), ds = svd(m, { rank: 5 });
    expect(wt).toBeInstanceOf(TuckerTensor);
    expect(wc).toBeInstanceOf(CPTensor);
    expect(wtt).toBeInstanceOf(TTTensor);
    expect(Array.from(wt.core.data)).toEqual(Array.from(dt.core.data));
    expect(wt.factors.map((f) => Array.from(f.data))).toEqual(dt.factors.map((f) => Array.from(f.data)));
    expect(wt.ranks).toEqual([3, 2, 2]);
    expect(Array.from(wc.weights)).toEqual(Array.from(dc.weights));
    expect(wc.errorHistory).toEqual(dc.errorHistory);
    expect(wtt.ranks).toEqual(dtt.ranks);
    expect(wtt.cores.map((c) => Array.from(c.data))).toEqual(dtt.cores.map((c) => Array.from(c.data)));
    expect(Array.from(ws.s)).toEqual(Array.from(ds.s));
    expect(Array.from(ws.u.data)).toEqual(Array.from(ds.u.data));
    expect(ws.s).toBeInstanceOf(Float32Array);
    // The rebuilt classes work on this thread.
    expect(wt.relativeError(x)).toBeCloseTo(dt.relativeError(x), 6);
    expect(Array.from(wtt.toDense().data)).toEqual(Array.from(dtt.toDense().data));
  });

  it("copies inputs by default: the caller's arrays stay intact", async () => {
    const x = rnd([9, 8], 3);
    const before = Array.from(x.data);
    await w.svd(x);
    expect(x.data.length).toBe(72);
    expect(Array.from(x.data)).toEqual(before);
  });

  it("re-throws the worker's errors as OdecompError with the direct API's message", async () => {
    const bad = { data: new Float32Array([1, NaN, 3, 4]), shape: [2, 2] };
    const direct = errorOf(() => svd(bad));
    const err = await w.svd(bad).then(() => null, (e: Error) => e);
    expect(err).toBeInstanceOf(OdecompError);
    expect(err!.name).toBe("OdecompError");
    expect(err!.message).toBe(direct.message);
    expect(err!.message).toMatch(/^svd: a has a non-finite value \(NaN\) at flat index 1/);
    const e2 = await w.tucker(rnd([3, 3], 1), { rank: 9 }).then(() => null, (e: Error) => e);
    expect(e2).toBeInstanceOf(OdecompError);
    expect(e2!.message).toBe(errorOf(() => tucker(rnd([3, 3], 1), { rank: 9 })).message);
    // The worker is still usable after an error.
    expect((await w.svd(rnd([3, 2], 2))).s.length).toBe(2);
  });

  it("rejects arguments that cannot be posted, naming the function", async () => {
    const err = await w.svd(rnd([3, 3], 1), { seed: (() => 1) as unknown as number }).then(() => null, (e: Error) => e);
    expect(err).toBeInstanceOf(OdecompError);
    expect(err!.message).toMatch(/^worker: the arguments of svd cannot be sent to the worker/);
  });

  it("compress runs in the worker with onProgress, and matches the direct compress", async () => {
    const model = smallModel();
    const options = { select: { kind: "budget" as const, keep: 0.5 } };
    const seen: CompressProgress[] = [];
    const r = await w.compress(model, { ...options, onProgress: (p) => seen.push(p) });
    const directSeen: CompressProgress[] = [];
    const d = await compress(model, { ...options, onProgress: (p) => directSeen.push(p) });
    // Progress: every step, fraction non-decreasing, ends with "done" at 1; same sequence as the direct API.
    expect(seen).toEqual(directSeen);
    expect(seen.map((p) => p.phase)).toEqual(["plan", "plan", "plan", "factorize", ...Array(seen.length - 5).fill("factorize"), "done"]);
    expect(seen.at(-1)).toMatchObject({ phase: "done", fraction: 1, layer: null });
    for (let i = 1; i < seen.length; i++) expect(seen[i].fraction).toBeGreaterThanOrEqual(seen[i - 1].fraction);
    expect(new Set(seen.map((p) => p.fraction)).size).toBeGreaterThanOrEqual(4);
    expect(seen.filter((p) => p.phase === "factorize").map((p) => p.layer)).toEqual(r.plan.entries.filter((e) => e.action === "factorize").map((e) => e.layer));
    // Same plan, same weights, a working stock model.
    expect(r.plan).toEqual(d.plan);
    expect(r.report).toBe(d.report);
    const ww = r.model.getWeights().map((t) => Array.from(t.dataSync()));
    expect(ww).toEqual(d.model.getWeights().map((t) => Array.from(t.dataSync())));
    const x = tf.randomNormal([2, 6, 6, 6], 0, 1, "float32", 5);
    const y = r.model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 5]);
    tf.dispose([x, y]);
    r.model.dispose(); d.model.dispose(); model.dispose();
  });

  it("planCompression and reconstruct run in the worker", async () => {
    const model = convModel({ h: 6, w: 6, s: 6, t: 8, k: [3, 3], seed: 4 });
    const plan = await w.planCompression(model, { select: { kind: "full" }, convMethod: "tucker2" });
    expect(plan.plan.entries[0]).toMatchObject({ method: "tucker2", action: "factorize" });
    const c = await w.compress(model, { select: { kind: "full" }, convMethod: "tucker2" });
    expect(c.model.layers.length).toBe(3);
    const back = await w.reconstruct(c.model);
    expect(back.folded.map((f) => f.method)).toEqual(["tucker2"]);
    expect(back.model.layers.map((l) => l.getClassName())).toEqual(["Conv2D"]);
    model.dispose(); c.model.dispose(); back.model.dispose();
  });
});

describe("odecomp/worker: transfer, termination", () => {
  it("transferInputs moves whole-buffer inputs (detached afterwards) and copies views of larger buffers; init.threads is passed on", async () => {
    const w = await createWorker({ transferInputs: true, init: { threads: 2 } });
    try {
      // the worker runs 2 kernel threads or says why not
      expect(w.info.threads === 2 || w.info.threadsNote !== null).toBe(true);
      const x = rnd([12, 10], 7);
      const expected = svd(x);
      const r = await w.svd(x);
      expect(x.data.length).toBe(0); // transferred: detached here
      expect(Array.from(r.s)).toEqual(Array.from(expected.s));
      const big = randn(200, 8);
      const view = { data: big.subarray(10, 130), shape: [12, 10] };
      const r2 = await w.svd(view);
      expect(big.length).toBe(200); // a view is copied, never detaches the caller's larger buffer
      expect(Array.from(r2.s)).toEqual(Array.from(svd({ data: big.slice(10, 130), shape: [12, 10] }).s));
    } finally {
      await w.terminate();
    }
  });

  it("results come back as transferables (every result buffer is listed for transfer)", () => {
    const r = { u: { data: new Float32Array(4), shape: [2, 2] }, s: new Float32Array(2), nested: [new Float32Array(3)], weightData: new ArrayBuffer(8) };
    expect(transferables(r).length).toBe(4);
    const shared = new Float32Array(10);
    expect(transferables({ a: shared.subarray(0, 5) }, true)).toEqual([]);
    expect(transferables({ a: shared.subarray(0, 5) })).toEqual([shared.buffer]);
  });

  it("terminate rejects pending calls and later calls with OdecompError", async () => {
    const w = await createWorker();
    const pending = w.svd(rnd([300, 200], 9)).then(() => null, (e: Error) => e);
    await w.terminate();
    const e1 = await pending;
    expect(e1).toBeInstanceOf(OdecompError);
    expect(e1!.message).toBe("worker: the worker was terminated before the call finished");
    const e2 = await w.tucker(rnd([3, 3], 1), { rank: 1 }).then(() => null, (e: Error) => e);
    expect(e2).toBeInstanceOf(OdecompError);
    expect(e2!.message).toBe("worker: this worker was terminated; create a new one with createWorker()");
    await w.terminate(); // idempotent
  });

  it("a failing init rejects createWorker with the worker's OdecompError", async () => {
    const e = await createWorker({ init: { backend: "webgl" as "cpu" } }).then(() => null, (err: Error) => err);
    expect(e).toBeInstanceOf(OdecompError);
    expect(e!.message).toBe("createWorker: backend is 'webgl'; expected 'cpu' or 'wasm'");
  });

  it("a worker script that fails to load rejects createWorker with the reason", async () => {
    const url = new URL("./no-such-entry.js", import.meta.url);
    const e = await createWorker({ url }).then(() => null, (err: Error) => err);
    expect(e).toBeInstanceOf(OdecompError);
    expect(e!.message).toMatch(/^worker: the worker failed: .*no-such-entry/);
  });
});
