// The automatic schedule: the switch test on planted stable-rank series, per-layer decisions by an
// injected cost model, Frobenius decay's gradient, no leaks, determinism.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import "@tensorflow/tfjs-backend-cpu";
import { ready } from "../../src/core/loader.ts";
import { inspect } from "../../src/compress/compress.ts";
import { layerShapes, modelToArtifacts } from "../../src/models/convert.ts";
import { compress } from "../../src/models/index.ts";
import { mlp, vggCnn } from "../../src/train/models.ts";
import { ACCURACY_DROP_WARN, LOW_RANK_LR_SCALE, auto, baseline, chainGramNorm2, chainProductNorm2, checkConvergence, factorizeDense, fittedTimer, flopsTimer, frobeniusDecayHook, findChains, planSwitch, train, type LayerTimer, MIN_RECOVERY_EPOCHS, type StableRankPoint } from "../../src/train/index.ts";
import { toyImages } from "../helpers/images.ts";
import { smallCnn, stripesSet } from "./fixtures.ts";

beforeAll(async () => { await tf.setBackend("cpu"); await ready(); });

const data = toyImages(12); // 120 train / ... : 3 steps per epoch at batch size 40
const opts = { batchSize: 40, seed: 3, optimizer: () => tf.train.adam(0.01) };
const pts = (series: number[][]): StableRankPoint[] => series.map((v, i) => ({ epoch: i, step: i, ranks: Object.fromEntries(v.map((x, j) => [`l${j}`, x])) }));

describe("checkConvergence", () => {
  it("needs every layer below the threshold over the whole window", () => {
    expect(checkConvergence(pts([[10, 5], [10, 5]]), 0.05, 2).converged).toBe(false); // too few points
    expect(checkConvergence(pts([[10, 5], [10, 5], [10.1, 5]]), 0.05, 2).converged).toBe(true);
    const c = checkConvergence(pts([[10, 5], [10, 6], [10, 6]]), 0.05, 2);
    expect(c.converged).toBe(false);
    expect(c.layer).toBe("l1");
    expect(c.maxChange).toBeCloseTo(0.2, 10);
    expect(checkConvergence(pts([[10, 5], [10, 6], [10, 6], [10, 6]]), 0.05, 2).converged).toBe(true);
    expect(checkConvergence(pts([[0, 5], [1, 5], [1, 5]]), 0.05, 2).converged).toBe(false); // 0 → 1 is an infinite change
  });
});

/** Times: dense 1 per layer; factorized from the table (else FLOPs-proportional). */
const fakeTimer = (factorized: Record<string, number>): LayerTimer => ({
  id: "fake",
  time: (r) => (r.method === null ? 1 : factorized[r.layer.name] ?? flopsTimer.time(r) / flopsTimer.time({ ...r, method: null, ranks: [] })),
});

describe("planSwitch", () => {
  it("keeps a layer dense where the cost model says its chain is slower, the first conv always, and records every decision", async () => {
    const model = vggCnn({ seed: 1 });
    const ins = inspect(await modelToArtifacts(model), layerShapes(model));
    const names = ins.candidates.map((c) => c.layer.name);
    const slow = names.find((n) => n.startsWith("conv2"))!;
    const p = planSwitch(ins.candidates, ins.totalParams, {}, { batch: 8, timer: fakeTimer({ [slow]: 1.5 }), select: { kind: "stable", scale: 0.5 } });
    expect(p.decisions.map((d) => d.layer)).toEqual(names);
    const by = Object.fromEntries(p.decisions.map((d) => [d.layer, d]));
    expect(by.conv1_1.action).toBe("keep");
    expect(by.conv1_1.why).toMatch(/first Conv2D/);
    expect(by.fc2.action).toBe("keep"); // the classifier, by default
    expect(by.fc2.why).toMatch(/last layer \(the classifier\)/);
    const all = planSwitch(ins.candidates, ins.totalParams, {}, { batch: 8, timer: fakeTimer({ [slow]: 1.5 }), select: { kind: "stable", scale: 0.5 }, keepLastLayer: false });
    expect(all.decisions.find((d) => d.layer === "fc2")!.why).not.toMatch(/classifier/);
    expect(by[slow].action).toBe("keep");
    expect(by[slow].why).toMatch(/does not pay/);
    expect(by[slow].factorizedCost).toBe(1.5);
    const fact = p.decisions.filter((d) => d.action === "factorize");
    expect(fact.length).toBeGreaterThan(0);
    for (const d of fact) {
      expect(d.factorizedCost!).toBeLessThan(d.denseCost);
      expect(d.ranks.length).toBe(1);
      expect(d.method).toBe(d.kind === "Dense" ? "svd" : "channel-svd");
    }
    expect(p.timer).toBe("fake");
    model.dispose();
  });
  it("shrinks ranks together to meet a cost budget", async () => {
    const model = mlp({ hidden: 64, seed: 1 });
    const ins = inspect(await modelToArtifacts(model), layerShapes(model));
    const free = planSwitch(ins.candidates, ins.totalParams, {}, { batch: 8, select: { kind: "stable", scale: 1 } });
    const tight = planSwitch(ins.candidates, ins.totalParams, {}, { batch: 8, select: { kind: "stable", scale: 1 }, budget: 0.2 });
    expect(tight.budget!.met).toBe(true);
    expect(tight.costAfter).toBeLessThanOrEqual(0.2 * tight.costBefore * (1 + 1e-9));
    expect(tight.costAfter).toBeLessThan(free.costAfter);
    model.dispose();
  });
  it("keeps a FLOP budget (budgetTimer) while a measured timer decides which chains pay; one timer is the old path", async () => {
    const model = vggCnn({ seed: 1 });
    const ins = inspect(await modelToArtifacts(model), layerShapes(model));
    const sel = { kind: "stable" as const, scale: 1 };
    // the fake "measured" timer: conv2_2's chain never pays, every other chain costs its FLOP share
    const timer = fakeTimer({ conv2_2: 1.2 });
    const p = planSwitch(ins.candidates, ins.totalParams, {}, { batch: 8, select: sel, timer, budgetTimer: flopsTimer, budget: 0.6 });
    const by = Object.fromEntries(p.decisions.map((d) => [d.layer, d]));
    expect(by.conv2_2.action).toBe("keep");
    expect(by.conv2_2.why).toMatch(/does not pay/);
    expect(p.timer).toBe("fake");
    expect(p.budget).toMatchObject({ keep: 0.6, timer: "flops", met: true });
    // the budget's sums are FLOPs, recomputed here from the decisions
    const flops = (d: (typeof p.decisions)[number]) => {
      const c = ins.candidates.find((x) => x.layer.name === d.layer)!;
      return flopsTimer.time({ layer: c.layer, method: d.action === "factorize" ? d.method : null, ranks: d.action === "factorize" ? d.ranks : [], inShape: c.inShape, batch: 8, mode: "training" }) * c.calls;
    };
    const before = ins.candidates.filter((c) => c.layer.className === "Dense" || c.layer.className === "Conv2D")
      .reduce((a, c) => a + flopsTimer.time({ layer: c.layer, method: null, ranks: [], inShape: c.inShape, batch: 8, mode: "training" }) * c.calls, 0);
    expect(p.budget!.before).toBeCloseTo(before, 0);
    expect(p.budget!.after).toBeCloseTo(p.decisions.reduce((a, d) => a + flops(d), 0), 0);
    expect(p.budget!.after).toBeLessThanOrEqual(0.6 * before * (1 + 1e-9));
    // the FLOP budget still holds with conv2_2 dense, so the other chains are cut harder than with flops alone
    const plain = planSwitch(ins.candidates, ins.totalParams, {}, { batch: 8, select: sel, budget: 0.6 });
    expect(plain.decisions.find((d) => d.layer === "conv2_2")!.action).toBe("factorize");
    expect(p.budget!.scale).toBeLessThan(plain.budget!.scale);
    // budgetTimer equal to timer changes nothing
    const same = planSwitch(ins.candidates, ins.totalParams, {}, { batch: 8, select: sel, budget: 0.6, timer: flopsTimer, budgetTimer: flopsTimer });
    expect(same).toEqual(plain);
    expect(plain.budget).toMatchObject({ timer: "flops", before: plain.costBefore, after: plain.costAfter });
    model.dispose();
  });
  it("stops shrinking at minScale when the budget is out of reach, and says it was not met", async () => {
    const model = mlp({ hidden: 64, seed: 1 });
    const ins = inspect(await modelToArtifacts(model), layerShapes(model));
    const sel = { kind: "stable" as const, scale: 1 };
    const p = planSwitch(ins.candidates, ins.totalParams, {}, { batch: 8, select: sel, budget: 0.001 });
    expect(p.budget).toMatchObject({ keep: 0.001, met: false, scale: 0.25 });
    for (const d of p.decisions) if (d.action === "factorize") d.ranks.forEach((r, i) => expect(r).toBe(Math.max(1, Math.floor(0.25 * d.ruleRanks[i]))));
    expect(p.decisions.some((d) => d.action === "factorize" && d.ranks.some((r) => r > 1))).toBe(true);
    const q = planSwitch(ins.candidates, ins.totalParams, {}, { batch: 8, select: sel, budget: 0.001, minScale: 0.5 });
    expect(q.budget!.scale).toBe(0.5);
    model.dispose();
  });
});

describe("planSwitch rankMultiple", () => {
  it("rounds the chosen ranks to multiples (layers whose largest rank is smaller keep theirs), with and without a budget", async () => {
    const model = vggCnn({ seed: 1 });
    const ins = inspect(await modelToArtifacts(model), layerShapes(model));
    const sel = { kind: "stable" as const, scale: 1 };
    for (const budget of [undefined, 0.4]) {
      const exact = planSwitch(ins.candidates, ins.totalParams, {}, { batch: 8, select: sel, budget });
      const p = planSwitch(ins.candidates, ins.totalParams, {}, { batch: 8, select: sel, budget, rankMultiple: 8 });
      const fact = p.decisions.filter((d) => d.action === "factorize");
      expect(fact.length, `budget ${budget}`).toBeGreaterThan(0);
      for (const d of fact) {
        d.ranks.forEach((r, i) => expect(d.maxRanks[i] <= 8 || r % 8 === 0 || r === d.maxRanks[i], `${d.layer} rank ${r}`).toBe(true));
        // ruleRanks stay the rule's own, so the record shows what rounding changed
        expect(d.ruleRanks).toEqual(exact.decisions.find((e) => e.layer === d.layer)!.ruleRanks);
      }
      if (budget !== undefined) expect(p.budget!.met).toBe(true);
    }
    expect(() => planSwitch(ins.candidates, ins.totalParams, {}, { batch: 8, select: sel, rankMultiple: 0 })).toThrow(/rankMultiple = 0/);
    model.dispose();
  });
  it("spends the budget that one scale and rounding leave: no factorized layer can rise by one multiple within it", async () => {
    const model = vggCnn({ seed: 1 });
    const ins = inspect(await modelToArtifacts(model), layerShapes(model));
    const sel = { kind: "stable" as const, scale: 1 };
    let filledSome = false;
    for (const budget of [0.3, 0.4, 0.5]) {
      const p = planSwitch(ins.candidates, ins.totalParams, {}, { batch: 8, select: sel, budget, rankMultiple: 8 });
      const target = budget * p.costBefore;
      expect(p.budget!.met).toBe(true);
      expect(p.costAfter).toBeLessThanOrEqual(target * (1 + 1e-9));
      filledSome ||= p.budget!.filled > 0;
      // The one-scale plan the fill starts from: every rule rank × scale, floored, rounded.
      const cost = (name: string, ranks: number[]) => {
        const c = ins.candidates.find((x) => x.layer.name === name)!;
        return flopsTimer.time({ layer: c.layer, method: "channel-svd", ranks, inShape: c.inShape, batch: 8, mode: "training" }) * c.calls;
      };
      for (const d of p.decisions.filter((x) => x.action === "factorize" && x.kind === "Conv2D")) {
        const scaled = d.ruleRanks.map((r, i) => Math.min(d.maxRanks[i], Math.max(8, Math.round(Math.max(1, Math.floor(p.budget!.scale * r)) / 8) * 8)));
        d.ranks.forEach((r, i) => expect(r, `${d.layer} at ${budget}`).toBeGreaterThanOrEqual(scaled[i]));
        const cap = d.ruleRanks.map((r, i) => Math.min(d.maxRanks[i], Math.max(8, Math.round(r / 8) * 8)));
        d.ranks.forEach((r, i) => expect(r).toBeLessThanOrEqual(cap[i]));
        const up = d.ranks.map((r, i) => Math.min(cap[i], r + 8));
        if (up.some((r, i) => r !== d.ranks[i])) expect(p.costAfter - d.factorizedCost! + cost(d.layer, up), `${d.layer} could rise at ${budget}`).toBeGreaterThan(target);
      }
    }
    expect(filledSome).toBe(true);
    model.dispose();
  });
});

describe("fittedTimer", () => {
  it("times the layer once and each chain at the anchor ranks, then reads other ranks off the fitted line", async () => {
    const model = mlp({ hidden: 64, seed: 1 });
    const ins = inspect(await modelToArtifacts(model), layerShapes(model));
    let calls = 0;
    const inner: LayerTimer = { id: "lin", time: (r) => { calls++; return 2e-3 + 1e-9 * flopsTimer.time(r); } };
    const t = fittedTimer(inner);
    const c = ins.candidates[0];
    const req = (ranks: number[]) => ({ layer: c.layer, method: "svd", ranks, inShape: c.inShape, batch: 8, mode: "training" as const });
    expect(t.time({ ...req([]), method: null })).toBeCloseTo(2e-3 + 1e-9 * flopsTimer.time({ ...req([]), method: null }), 12);
    for (const r of [3, 17, 40, 64]) expect(t.time(req([r]))).toBeCloseTo(2e-3 + 1e-9 * flopsTimer.time(req([r])), 9);
    expect(calls).toBe(1 + 3); // dense once, three anchors, nothing else
    expect(t.timed()).toBe(4);
    expect(t.id).toMatch(/^lin \(a \+ b·FLOPs/);
    model.dispose();
  });
});

describe("frobeniusDecayHook", () => {
  it("adds λ/2·‖UV‖²_F whose gradients are λ·U·V·Vᵀ and λ·Uᵀ·U·V", async () => {
    const base = mlp({ hidden: 12, seed: 2, inputSize: 20 });
    const model = await factorizeDense(base, { layers: ["fc1"], rank: 4, seed: 2 });
    const hook = frobeniusDecayHook(0.3);
    expect(findChains(model).map((c) => [c.layer, c.method, c.decayed])).toEqual([["fc1", "svd", true]]);
    const u = model.getLayer("fc1__odc_svd_0").weights[0].read() as tf.Variable, v = model.getLayer("fc1__odc_svd_1").weights[0].read() as tf.Variable;
    const { value, grads } = tf.variableGrads(() => hook.lossTerm!({ model } as never)!, [u, v]);
    const U = u as tf.Tensor2D, V = v as tf.Tensor2D;
    const W = tf.matMul(U, V);
    expect(value.dataSync()[0]).toBeCloseTo(0.15 * tf.sum(tf.square(W)).dataSync()[0], 4);
    const gu = tf.mul(0.3, tf.matMul(W, V, false, true)), gv = tf.mul(0.3, tf.matMul(U, W, true, false));
    const close = (a: tf.Tensor, b: tf.Tensor) => { const x = a.dataSync(), y = b.dataSync(); for (let i = 0; i < x.length; i++) expect(Math.abs(x[i] - y[i])).toBeLessThan(1e-5 * (1 + Math.abs(y[i]))); };
    close(grads[u.name], gu);
    close(grads[v.name], gv);
    tf.dispose([value, grads[u.name], grads[v.name], W, gu, gv]);
    base.dispose(); model.dispose();
  });
});

describe("chainGramNorm2", () => {
  // Odd channel counts and ranks (1, 3, 5, 17, 33), 1×1 and 3×3 kernels, every product method the hook decays.
  const convNet = () => {
    const m = tfl.sequential();
    m.add(tfl.layers.conv2d({ inputShape: [7, 7, 5], filters: 17, kernelSize: 3, padding: "same", name: "c1", kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }));
    m.add(tfl.layers.conv2d({ filters: 33, kernelSize: 3, padding: "same", name: "c2", kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }));
    m.add(tfl.layers.conv2d({ filters: 3, kernelSize: 1, name: "c3", kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }));
    m.add(tfl.layers.conv2d({ filters: 17, kernelSize: 3, padding: "same", name: "c4", kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }));
    m.add(tfl.layers.flatten());
    m.add(tfl.layers.dense({ units: 5, name: "d1", kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) }));
    return m;
  };
  it("equals the formed product's ‖W‖²_F and its taped gradients (Tucker-2, channel-SVD, Tucker-1, SVD; ranks 1–17)", async () => {
    const base = convNet();
    const c = await compress(base, {
      methods: { c1: "tucker2", c2: "channel-svd", c3: "tucker1", c4: "tucker2", d1: "svd" },
      ranks: { c1: [3, 5], c2: 17, c3: 1, c4: [1, 17], d1: 3 },
    });
    const model = c.model;
    const chains = findChains(model);
    expect(chains.map((x) => [x.layer, x.method, x.decayed])).toEqual([["c1", "tucker2", true], ["c2", "channel-svd", true], ["c3", "tucker1", true], ["c4", "tucker2", true], ["d1", "svd", true]]);
    let seed = 7;
    for (const chain of chains) {
      const vars = chain.layers.map((n) => model.getLayer(n).weights[0].read() as tf.Variable);
      // Training moves the factors off the decomposition's orthonormal ones (G_A = I would hide a wrong G_A term).
      for (const w of vars) w.assign(tf.tidy(() => tf.add(w, tf.randomNormal(w.shape, 0, 0.5, "float32", seed++))));
      const ref = tf.variableGrads(() => chainProductNorm2(model, chain), vars);
      const got = tf.variableGrads(() => chainGramNorm2(model, chain), vars);
      const v = ref.value.dataSync()[0];
      expect(v).toBeGreaterThan(0);
      expect(Math.abs(got.value.dataSync()[0] - v)).toBeLessThan(1e-5 * v);
      for (const w of vars) {
        const a = ref.grads[w.name].dataSync(), b = got.grads[w.name].dataSync();
        expect(b.length).toBe(a.length);
        let num = 0, den = 0;
        for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += a[i] ** 2; }
        expect(Math.sqrt(num / den), `${chain.layer} ${w.name}`).toBeLessThan(1e-5);
      }
      tf.dispose([ref.value, got.value, ...Object.values(ref.grads), ...Object.values(got.grads)]);
    }
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) { const g = tf.variableGrads(() => chainGramNorm2(model, chains[0])); tf.dispose([g.value, ...Object.values(g.grads)]); }
    expect(tf.memory().numTensors).toBe(before);
    base.dispose(); model.dispose();
  });
});

describe("frobeniusDecayHook every k steps", () => {
  it("adds k·λ/2·‖UV‖²_F on every k-th phase step and nothing between (the same decay per k steps); rejects a bad k", async () => {
    const base = mlp({ hidden: 12, seed: 2, inputSize: 20 });
    const model = await factorizeDense(base, { layers: ["fc1"], rank: 4, seed: 2 });
    const every = frobeniusDecayHook(0.3, 3), each = frobeniusDecayHook(0.3);
    const at = (h: typeof every, phaseStep: number) => { const t = h.lossTerm!({ model, phaseStep } as never); const v = t ? t.dataSync()[0] : null; t?.dispose(); return v; };
    const one = at(each, 5)!;
    expect(one).toBeGreaterThan(0);
    expect([0, 1, 2, 3, 4, 5, 6].map((k) => at(every, k) === null)).toEqual([false, true, true, false, true, true, false]);
    expect(at(every, 3)! / one).toBeCloseTo(3, 5);
    expect(() => frobeniusDecayHook(0.3, 0)).toThrow(/every = 0; expected an integer ≥ 1/);
    expect(() => frobeniusDecayHook(0.3, 1.5)).toThrow(/every = 1.5/);
    base.dispose(); model.dispose();
  });
});

describe("auto schedule", () => {
  // Planted: every layer's stable rank falls until epoch 2, then stays: converged over the window of 2
  // measurements (2 per epoch for a 6-epoch run, threshold 0.1/2) at the end of epoch 3.
  const planted = (_m: tfl.LayersModel, at: { epoch: number }) => ({ fc1: at.epoch < 2 ? 20 - 5 * at.epoch : 10, fc2: at.epoch < 2 ? 8 - at.epoch : 6 });

  it("switches when the planted convergence happens, keeps a layer dense by the cost model, records every decision, leaks nothing", async () => {
    const model = mlp({ hidden: 32, seed: 3 });
    const before = tf.memory().numTensors;
    const timer = fakeTimer({ fc2: 2 }); // fc2's chain "measures" slower than fc2
    const r = await train(model, data, { name: "auto", phases: [{ kind: "auto", epochs: 6, stableRanks: planted, convergence: { maxEpochs: 5 }, plan: { timer, keepLastLayer: false }, frobeniusDecay: 1e-3 }] }, opts);
    const a = r.auto!;
    expect(a.switchEpoch).toBe(3);
    expect(a.fullRankEpochs).toBe(3);
    expect(a.reason).toMatch(/converged/);
    expect(a.convergence).toMatchObject({ perEpoch: 2, window: 2, threshold: 0.05 });
    expect(a.stableRanks[0]).toMatchObject({ epoch: 0, ranks: { fc1: 20, fc2: 8 } });
    expect(a.stableRanks.length).toBe(7); // start + 2 per epoch × 3
    const d = Object.fromEntries(a.plan!.decisions.map((x) => [x.layer, x]));
    expect(Object.keys(d)).toEqual(["fc1", "fc2"]);
    expect(d.fc1.action).toBe("factorize");
    expect(d.fc2.action).toBe("keep");
    expect(d.fc2.why).toMatch(/does not pay/);
    expect(d.fc1.stableRank).toBe(10);
    expect(r.model.layers.map((l) => l.name)).toEqual(["fc1__odc_channel_0", "fc1__odc_channel_1", "fc2"].map((n) => n.replace("channel", "svd")));
    expect(a.decayedChains).toEqual(["fc1"]);
    expect(r.epochs.map((e) => e.label)).toEqual(["full-rank", "full-rank", "full-rank", "low-rank", "low-rank", "low-rank"]);
    expect(a.epochSeconds.fullRank.length).toBe(3);
    expect(a.epochSeconds.lowRank.length).toBe(3);
    expect(r.phases[0].auto).toBe(a);
    r.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("switches at a user-given epoch; reconstructs on request; stays full-rank when never converged and no cap is reached", async () => {
    const model = mlp({ hidden: 32, seed: 3 });
    let timed = 0;
    const counting: LayerTimer = { id: "counting", time: (q) => { timed++; return flopsTimer.time(q); } };
    const r = await train(model, data, auto({ epochs: 4, switchAt: 1, reconstructAt: 3, plan: { timer: fittedTimer(counting) } }), opts);
    expect(r.auto!.switchEpoch).toBe(1);
    // the switch's own wall-clock, and the cost model's real measurements during the plan
    expect(timed).toBeGreaterThan(0);
    expect(r.auto!.switchSeconds).toMatchObject({ timings: timed });
    expect(r.auto!.switchSeconds!.plan).toBeGreaterThanOrEqual(0);
    expect(r.auto!.switchSeconds!.factorize).toBeGreaterThan(0);
    expect(r.auto!.reason).toBe("switchAt = 1");
    expect(r.auto!.reconstructedAt).toBe(3);
    expect(r.epochs.map((e) => e.label)).toEqual(["full-rank", "low-rank", "low-rank", "reconstructed"]);
    expect(r.model.layers.map((l) => l.name)).toEqual(["fc1", "fc2"]);
    expect(r.auto!.warnings.some((w) => /epoch\(s\) left/.test(w)), "3 epochs left: no recovery warning").toBe(false);
    r.model.dispose();
    const wobble = (_m: tfl.LayersModel, at: { step: number }) => ({ fc1: 10 + (at.step % 2) * 5 });
    const s = await train(model, data, { name: "x", phases: [{ kind: "auto", epochs: 2, stableRanks: wobble, convergence: { maxEpochs: 2 } }] }, opts);
    expect(s.auto!.switchEpoch).toBeNull();
    expect(s.auto!.switchSeconds).toBeNull();
    expect(s.auto!.reason).toMatch(/stayed full-rank/);
    expect(s.model).toBe(model);
    expect(s.auto!.warnings).toEqual([]);
    model.dispose();
  });

  it("switches mid-epoch at a fractional switchAt: the split epoch trains the same batches in the same order, the rest low-rank", async () => {
    const model = mlp({ hidden: 32, seed: 3 });
    const before = tf.memory().numTensors;
    // 3 steps per epoch (40, 40, 30 images): switchAt 1⅓ → after epoch 1 and one step of epoch 2 (global step 4)
    const r = await train(model, data, auto({ epochs: 3, switchAt: 1 + 1 / 3 }), opts);
    const a = r.auto!;
    expect(a.switchStep).toBe(4);
    expect(a.switchEpoch).toBeCloseTo(4 / 3, 12);
    expect(a.fullRankEpochs).toBeCloseTo(4 / 3, 12);
    expect(a.reason).toBe("switchAt = 1.3333333333333333: after 1 of epoch 2's 3 steps");
    expect(a.stableRanks.at(-1)!.step).toBe(4);
    expect(a.plan!.decisions.find((d) => d.layer === "fc1")!.action).toBe("factorize");
    expect(r.epochs.map((e) => e.label)).toEqual(["full-rank", "switch", "low-rank"]);
    expect([a.epochSeconds.fullRank.length, a.epochSeconds.switched.length, a.epochSeconds.lowRank.length]).toEqual([1, 1, 1]);
    expect(r.model.layers.map((l) => l.name)).not.toEqual(model.layers.map((l) => l.name));
    // the split epoch's FLOPs: one step's share dense, two low-rank
    const n = data.train.count, dense = r.epochs[0].trainFlops / n, low = r.epochs[2].trainFlops / n;
    expect(low).toBeLessThan(dense);
    expect(r.epochs[1].trainFlops).toBeCloseTo(dense * 40 + low * (n - 40), 0);
    r.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    // folding back right after the split epoch (reconstructAt 2 with switchAt 1⅓): the split epoch counts as low-rank training
    const m0 = mlp({ hidden: 32, seed: 3 });
    const back = await train(m0, data, auto({ epochs: 3, switchAt: 1 + 1 / 3, reconstructAt: 2 }), opts);
    expect(back.auto!.reconstructedAt).toBe(2);
    expect(back.epochs.map((e) => e.label)).toEqual(["full-rank", "switch", "reconstructed"]);
    expect(back.model.layers.map((l) => l.name)).toEqual(m0.layers.map((l) => l.name));
    back.model.dispose();
    m0.dispose();
    // A switch where nothing pays keeps the model and its optimizer, so the split epoch must leave exactly the
    // weights an unsplit run does (train() trains a model it does not replace in place: a fresh one per run).
    const keepAll = { timer: fakeTimer({ fc1: 10 }) };
    const m1 = mlp({ hidden: 32, seed: 3 }), m2 = mlp({ hidden: 32, seed: 3 });
    const split = await train(m1, data, auto({ epochs: 3, switchAt: 1.5, plan: keepAll }), opts);
    expect(split.auto!.plan!.decisions.every((d) => d.action === "keep")).toBe(true);
    expect(split.model).toBe(m1);
    expect(split.epochs.map((e) => e.label)).toEqual(["full-rank", "switch", "low-rank"]);
    const plain = await train(m2, data, baseline({ epochs: 3 }), opts);
    expect(plain.model).toBe(m2);
    expect(m1.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(m2.getWeights().map((t) => Array.from(t.dataSync())));
    split.epochs.forEach((e, i) => expect(e.loss).toBeCloseTo(plain.epochs[i].loss, 5)); // the split epoch's mean is summed in two parts
    // a fraction that rounds to no step or to every step switches at that epoch's start or end
    const m3 = mlp({ hidden: 32, seed: 3 });
    const edge = await train(m3, data, auto({ epochs: 3, switchAt: 0.9, plan: keepAll }), opts);
    expect(edge.auto!.switchStep).toBe(3);
    expect(edge.epochs.map((e) => e.label)).toEqual(["full-rank", "low-rank", "low-rank"]);
    // …except in the last epoch, where it switches before the last step rather than never
    const m4 = mlp({ hidden: 32, seed: 3 });
    const last = await train(m4, data, auto({ epochs: 2, switchAt: 1.9, plan: keepAll }), opts);
    expect(last.auto!.switchStep).toBe(5);
    expect(last.epochs.map((e) => e.label)).toEqual(["full-rank", "switch"]);
    for (const m of [m1, m2, m3, m4]) m.dispose();
  });

  it("warns when a switch leaves fewer than MIN_RECOVERY_EPOCHS to fine-tune, and when the phase ends below its accuracy before the switch", async () => {
    const model = mlp({ hidden: 32, seed: 3 });
    const r = await train(model, data, auto({ epochs: 2, switchAt: 1 }), opts);
    const a = r.auto!;
    expect(MIN_RECOVERY_EPOCHS).toBe(2);
    expect(a.warnings[0]).toMatch(/^switched with 1 of 2 epoch\(s\) left to fine-tune the factorized model \(at least 2 recommended\)/);
    const dropped = r.final.accuracy < a.accuracyBefore! - ACCURACY_DROP_WARN;
    expect(a.warnings.some((w) => /pt below the .* it had before the switch/.test(w))).toBe(dropped);
    if (dropped) expect(a.warnings[1]).toContain(`ended at accuracy ${r.final.accuracy.toFixed(4)}`);
    r.model.dispose();
    model.dispose();
  });

  it("factorizes at the switch with plan.decomposition: Tucker-2 by HOOI fits every conv kernel at least as well as by HOSVD, and the kernel errors are recorded", async () => {
    const set = stripesSet(10, 4, 7), tiny = { train: set, test: set }; // 12×12×3, one step, a 10-image evaluation
    const run = async (decomposition?: { tucker: { method: "hooi" } }) => {
      const model = smallCnn({ classes: 4, seed: 2 });
      const plan = { convMethod: "tucker2" as const, keepFirstConv: false, select: { kind: "budget" as const, keep: 0.4, metric: "flops" as const }, ...(decomposition ? { decomposition } : {}) };
      const r = await train(model, tiny, auto({ epochs: 1, switchAt: 0, plan }), { ...opts, batchSize: 10 });
      const out = { errors: r.auto!.kernelErrors, methods: Object.fromEntries(r.auto!.plan!.decisions.map((d) => [d.layer, d.method])) };
      if (r.model !== model) r.model.dispose();
      model.dispose();
      return out;
    };
    const hosvd = await run(), hooi = await run({ tucker: { method: "hooi" } });
    const convs = Object.keys(hosvd.errors).filter((k) => hosvd.methods[k] === "tucker2");
    expect(convs.length).toBeGreaterThan(1);
    expect(Object.keys(hooi.errors).sort()).toEqual(Object.keys(hosvd.errors).sort());
    for (const k of Object.keys(hosvd.errors)) expect(hosvd.errors[k]).toBeGreaterThan(0);
    for (const k of convs) expect(hooi.errors[k], k).toBeLessThanOrEqual(hosvd.errors[k] + 1e-6);
    expect(convs.some((k) => hooi.errors[k] < hosvd.errors[k] - 1e-4), "HOOI really ran").toBe(true);
  });

  it("same seed → same decisions and bitwise-identical weights (measured stable ranks, FLOPs cost model)", async () => {
    const once = async () => {
      const model = mlp({ hidden: 32, seed: 5 });
      const r = await train(model, data, auto({ epochs: 3, convergence: { maxEpochs: 1 } }), opts);
      const out = { decisions: r.auto!.plan!.decisions, ranks: r.auto!.stableRanks, w: r.model.getWeights().map((t) => Array.from(t.dataSync())) };
      if (r.model !== model) r.model.dispose();
      model.dispose();
      return out;
    };
    const a = await once(), b = await once();
    expect(a.decisions.some((d) => d.action === "factorize")).toBe(true);
    expect(b.decisions).toEqual(a.decisions);
    expect(b.ranks).toEqual(a.ranks);
    expect(b.w).toEqual(a.w);
  });

  it("stops the low-rank part early by the predictor and records the predictions", async () => {
    const model = mlp({ hidden: 16, seed: 4 });
    // threshold 1: no predicted gain can reach it, so it stops at the first prediction (3 low-rank epochs in)
    const r = await train(model, data, auto({ epochs: 6, switchAt: 1, earlyStop: { threshold: 1 } }), opts);
    const es = r.auto!.earlyStop!;
    expect(es.stoppedAfter).toBe(4);
    expect(es.predictions).toHaveLength(1);
    expect(es.predictions[0].stop).toBe(true);
    expect(r.epochs).toHaveLength(4);
    expect(r.epochs[3].prediction?.stop).toBe(true);
    expect(r.phases[0].stoppedEarly).toBe(true);
    expect(es.finalAccuracy).toBe(r.epochs[3].accuracy);
    const none = await train(model, data, auto({ epochs: 3, switchAt: 1 }), opts);
    expect(none.auto!.earlyStop).toBeNull();
    r.model.dispose(); none.model.dispose(); model.dispose();
  });

  it("trains the low-rank part at lowRankLrScale × the run's rate (after the warm-up's ramp), the folded-back part at 1×", async () => {
    const model = mlp({ hidden: 32, seed: 3 });
    const before = tf.memory().numTensors;
    // a schedule whose factor stays 1 (γ = 1), so each epoch records the rate its last step ran at
    const flat = { ...opts, lrSchedule: { kind: "step" as const, milestones: [0.5], gamma: 1 } };
    const r = await train(model, data, auto({ epochs: 4, switchAt: 1, reconstructAt: 3, lowRankLrScale: 3 }), flat);
    expect(r.auto!.lowRankLrScale).toBe(3);
    expect(r.epochs.map((e) => e.label)).toEqual(["full-rank", "low-rank", "low-rank", "reconstructed"]);
    expect(r.epochs.map((e) => e.learningRate)).toEqual([0.01, 0.03, 0.03, 0.01].map((x) => expect.closeTo(x, 12)));
    r.model.dispose();
    // with a 2-step warm-up the ramp climbs to the scaled rate (3 steps per epoch: the epoch's last step is past it)
    const w = await train(model, data, auto({ epochs: 3, switchAt: 1, lowRankLrScale: 2.5 }), { ...flat, warmupSteps: 2 });
    expect(w.epochs.map((e) => e.learningRate)).toEqual([0.01, 0.025, 0.025].map((x) => expect.closeTo(x, 12)));
    w.model.dispose();
    // the builder's default, and 1 leaves the rate alone
    expect((auto({ epochs: 2 }).phases[0] as { lowRankLrScale?: number }).lowRankLrScale).toBe(LOW_RANK_LR_SCALE);
    const one = await train(model, data, auto({ epochs: 2, switchAt: 1, lowRankLrScale: 1 }), flat);
    expect(one.epochs.map((e) => e.learningRate)).toEqual([0.01, 0.01].map((x) => expect.closeTo(x, 12)));
    one.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("rejects bad phase fields with a message naming them", async () => {
    const model = mlp({ hidden: 8, seed: 1 });
    for (const bad of [0, -1, Number.NaN, Infinity]) await expect(train(model, data, auto({ epochs: 3, switchAt: 1, lowRankLrScale: bad }), opts)).rejects.toThrow(/lowRankLrScale = .*; expected a number > 0/);
    await expect(train(model, data, auto({ epochs: 3, switchAt: 3 }), opts)).rejects.toThrow(/switchAt = 3; expected an epoch in \[0, 3\)/);
    await expect(train(model, data, auto({ epochs: 3, convergence: { epsilon: -1 } }), opts)).rejects.toThrow(/epsilon = -1/);
    model.dispose();
  });
});
