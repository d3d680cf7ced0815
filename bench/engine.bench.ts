// engine area: where one training step of the main job's CNN goes. Profiles one step (batch 64,
// Adam, categorical cross-entropy, as src/train/loop.ts trains) of the baseline `vggCnn` and of
// its decomposition at a 0.4 FLOP budget (Tucker-2 HOOI / SVD, as `npm start` plans it), on the
// wasm backend with odecomp's kernels, with one and two odecomp threads:
// - per kernel: time (tf.profile kernel records), GFLOP/s where the FLOPs are known, bytes in + out;
// - per kind (3×3 conv, 1×1 conv, dense matmul, pooling, element-wise, reductions, optimizer…);
// - the time outside kernels: the unprofiled wall step time − Σ kernel time;
// - images/s of baseline and decomposed steps, alternated in one process (medians), beside the
//   FLOP ratio, and the peers: stock tfjs-wasm (where it can train) and tfjs-cpu (scaled from a
//   small batch), and jax-js (bench/engine-jax.ts, the baseline CNN; `--no-jax` skips it).
// BatchNormalization layers train on the fused wasm op as trainEpoch runs them (src/train/fused-bn.ts;
// `--no-fused-bn` profiles tfjs-layers' stock BN instead), Adam's update as one kernel per variable
// (src/train/fused-adam.ts; `--no-fused-adam`), Conv2D layers on the fused conv + bias + activation op (src/train/fused-conv.ts;
// `--no-fused-conv`), and A/Bs of fused against stock steps, alternated in one process. `--tag=NAME` saves engine-MODEL-NAME.json.
// Forward convs run on our threaded conv where odecomp has more threads than tfjs-wasm (without resident outputs, except 1×1 convs over ≥ 32768 positions: src/tfjs/kernels/Conv2D.ts; `--stock-forward`: XNNPACK's for all, `--threads-forward`: ours for all, session 7's rule).
// The decomposition's ranks are rounded to multiples of 8, as the main job plans them (`--rank-multiple=1`: exact budget ranks).
// Session 19: MaxPool on our threads against stock XNNPACK's (A/B rows "threaded MaxPool vs stock MaxPool").
// Session 18: worker threads spinning 2^20 polls before they sleep against the default 2^14 (A/B rows "workers spin 2^20 polls vs 2^14 polls").
// Our conv-chain kernels read inputs that an earlier one of ours produced from a ring in our heap instead of copying them in (src/tfjs/resident.ts; A/B rows "resident inputs vs copied inputs", "lazy copy-out vs copy-out at once").
// `--quick` takes fewer steps; `--model=wide-vgg|resnet20` profiles another reference model (results engine-MODEL.json); `--no-cpu` skips tfjs-cpu. Prints `uptime`: the figures are only as quiet as the machine.
// A 1×1 conv's Conv2DBackpropInput computes its dW too (src/tfjs/conv-grad-pairing.ts), and the
// Conv2DBackpropFilter that follows only copies it out: the per-kernel GFLOP/s of those two count
// dX's FLOPs and dW's FLOPs as before, so read them together (the summary says how many paired).
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import * as tfl from "@tensorflow/tfjs-layers";
import { execSync } from "node:child_process";
import { setThreads } from "../src/index.ts";
import { registerWasmKernels, unregisterWasmKernels } from "../src/tfjs/index.ts";
import { stockKernels } from "../src/tfjs/stock.ts";
import { enginePasses } from "../src/tfjs/bridge.ts";
import { withScratch } from "../src/core/heap.ts";
import { residentOptions, residentStats } from "../src/tfjs/resident.ts";
import { pairingCounts } from "../src/tfjs/conv-grad-pairing.ts";
import { forwardRouting } from "../src/tfjs/kernels/Conv2D.ts";
import { poolRouting } from "../src/tfjs/kernels/MaxPool.ts";
import { compress } from "../src/models/index.ts";
import { referenceModels, type ReferenceModel } from "../src/train/models.ts";
import { fuseBatchNorm, fusedBatchNormCounts } from "../src/train/fused-bn.ts";
import { fuseAdam } from "../src/train/fused-adam.ts";
import { fuseConvActivation, fusedConvCounts } from "../src/train/fused-conv.ts";
import { TRAINING_RANK_MULTIPLE } from "../src/compress/timeplan.ts";
import { printTable, saveResults, type Row } from "./lib.ts";

const BATCH = 64;
const CPU_BATCH = 8;
const JAX_BATCH = 8;
const LR = 1e-3;

interface Record_ { name: string; ms: number; flop: number; bytes: number; kind: string }

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** FLOPs of a kernel from its record's shapes (multiply-adds count 2), 0 where unknown or memory-bound. */
function kernelFlop(name: string, ins: (number[] | null)[], outs: (number[] | null)[]): number {
  const out = outs[0];
  if (!out) return 0;
  switch (name) {
    case "Conv2D": case "FusedConv2D": case "OdecompConv2DBiasAct": { const f = ins[1]!; return 2 * prod(out) * f[0] * f[1] * f[2]; }
    // [dy, y, x, filter] → [dx, dW, db] or [dW, db]: one conv's worth of FLOPs per gradient computed
    case "OdecompConv2DBiasActGrad": { const dy = ins[0]!, f = ins[3]!; return 2 * prod(dy) * f[0] * f[1] * f[2] * (outs.length === 3 ? 2 : 1); }
    case "Conv2DBackpropInput": { const dy = ins[0]!, f = ins[1]!; return 2 * prod(dy) * f[0] * f[1] * f[2]; }
    case "Conv2DBackpropFilter": { const dy = ins[1]!; return 2 * prod(dy) * out[0] * out[1] * out[2]; }
    case "BatchMatMul": case "_FusedMatMul": {
      // |a|·|b| = batch²·m·n·k², |c| = batch·m·n: exact when a and b have the same batch dims.
      const a = ins[0]!, b = ins[1]!, batch = prod(out.slice(0, -2));
      return 2 * prod(out) * Math.round(Math.sqrt((prod(a) * prod(b)) / (prod(out) * batch)));
    }
    default: return 0;
  }
}

function kindOf(name: string, ins: (number[] | null)[], phase: "grad" | "update"): string {
  if (phase === "update") return "optimizer (Adam)";
  if (name === "OdecompConv2DBiasAct") return ins[1] && ins[1][0] * ins[1][1] === 1 ? "conv 1×1" : "conv k×k";
  if (name === "OdecompConv2DBiasActGrad") return ins[3] && ins[3][0] * ins[3][1] === 1 ? "conv 1×1 grads (dX, dW, db)" : "conv k×k grads (dX, dW, db)";
  if (name.startsWith("Conv2D") || name === "FusedConv2D") {
    const f = name === "Conv2DBackpropFilter" ? null : ins[1];
    const k = f ? f[0] * f[1] : NaN;
    return name === "Conv2DBackpropFilter" ? "conv (dW)" : k === 1 ? "conv 1×1" : "conv k×k";
  }
  if (name.includes("BatchNorm")) return "batch norm";
  if (name.includes("MatMul")) return "dense matmul";
  if (name.startsWith("MaxPool") || name.startsWith("AvgPool")) return "pooling";
  if (["Sum", "Max", "Min", "Mean", "Prod", "ArgMax"].includes(name)) return "reductions";
  if (["Reshape", "Transpose", "Slice", "Concat", "Tile", "Pad", "Identity", "Cast", "Fill", "ZerosLike", "OnesLike", "BroadcastTo"].includes(name)) return "layout / copies";
  return "element-wise";
}

interface Model { name: string; model: tfl.LayersModel; vars: tf.Variable[]; opt: tf.Optimizer; fwdFlop: number; unfuse?: () => void; unfuseAdam?: () => void; unfuseConv?: () => void }

/** Put the model's BN layers on the fused op (on) or back on tfjs-layers' stock call (off). */
function setFusedBn(m: Model, on: boolean): void {
  if (on && !m.unfuse) m.unfuse = fuseBatchNorm(m.model);
  else if (!on && m.unfuse) { m.unfuse(); m.unfuse = undefined; }
}

/** Put the model's Adam on the one-kernel-per-variable update (on) or back on the stock one (off). */
function setFusedAdam(m: Model, on: boolean): void {
  if (on && !m.unfuseAdam) m.unfuseAdam = fuseAdam(m.opt);
  else if (!on && m.unfuseAdam) { m.unfuseAdam(); m.unfuseAdam = undefined; }
}

/** Put the model's Conv2D layers on the fused conv + bias + activation op (on) or back on tfjs-layers' stock call (off). */
function setFusedConv(m: Model, on: boolean): void {
  if (on && !m.unfuseConv) m.unfuseConv = fuseConvActivation(m.model);
  else if (!on && m.unfuseConv) { m.unfuseConv(); m.unfuseConv = undefined; }
}

const hasBn = (m: Model) => m.model.layers.some((l) => l.getClassName() === "BatchNormalization");

function makeBatch(n: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return tf.tidy(() => ({
    x: tf.randomUniform([n, 28, 28, 1], 0, 1, "float32", seed) as tf.Tensor4D,
    y: tf.oneHot(tf.randomUniform([n], 0, 10, "int32", seed + 1) as tf.Tensor1D, 10) as tf.Tensor2D,
  }));
}

function lossOf(m: Model, x: tf.Tensor, y: tf.Tensor): tf.Scalar {
  const pred = m.model.apply(x, { training: true }) as tf.Tensor;
  return tf.mean(tfl.metrics.categoricalCrossentropy(y, pred)) as tf.Scalar;
}

/** One optimizer step (the same ops as trainEpoch's minimize), waited for. */
function step(m: Model, x: tf.Tensor, y: tf.Tensor): void {
  const loss = m.opt.minimize(() => lossOf(m, x, y), true, m.vars)!;
  loss.dataSync();
  loss.dispose();
}

/** Forward FLOPs per sample of Conv2D / Dense layers (2 per multiply-add). */
function forwardFlop(model: tfl.LayersModel): number {
  let f = 0;
  for (const l of model.layers) {
    const cls = l.getClassName();
    const out = l.outputShape as number[];
    const w = l.getWeights()[0]?.shape as number[] | undefined;
    if (cls === "Conv2D" && w) f += 2 * prod(out.slice(1)) * prod(w.slice(0, 3));
    else if (cls === "Dense" && w) f += 2 * prod(w.slice(0, 2));
  }
  return f;
}

/** Kernel records of one step, split into the gradient part and the optimizer update. */
async function profileStep(m: Model, x: tf.Tensor, y: tf.Tensor): Promise<Record_[]> {
  const recs: Record_[] = [];
  const collect = async (info: Awaited<ReturnType<typeof tf.profile>>, phase: "grad" | "update") => {
    for (const k of info.kernels) {
      // customGrad ops (fusedConv2d__op…) are recorded as well as the kernels they run: count kernels only.
      if (!tf.getKernel(k.name, tf.getBackend())) continue;
      const ins = (k.inputShapes ?? []) as (number[] | null)[], outs = (k.outputShapes ?? []) as (number[] | null)[];
      const ms = await k.kernelTimeMs as number;
      const bytes = 4 * (ins.reduce((a, s) => a + (s ? prod(s) : 0), 0) + outs.reduce((a, s) => a + (s ? prod(s) : 0), 0));
      recs.push({ name: k.name, ms: typeof ms === "number" ? ms : 0, flop: kernelFlop(k.name, ins, outs), bytes, kind: kindOf(k.name, ins, phase) });
    }
  };
  let grads: tf.NamedTensorMap = {};
  let loss: tf.Scalar | null = null;
  const gInfo = await tf.profile(() => {
    const r = tf.variableGrads(() => lossOf(m, x, y), m.vars);
    grads = r.grads; loss = r.value;
    return [...Object.values(r.grads), r.value];
  });
  await collect(gInfo, "grad");
  const uInfo = await tf.profile(() => { m.opt.applyGradients(grads); });
  await collect(uInfo, "update");
  tf.dispose([...Object.values(grads), loss!]);
  return recs;
}

const median = (a: number[]) => { const s = [...a].sort((p, q) => p - q); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };

/**
 * Alternate steps of the models (a, b, a, b…) and return each one's median wall ms and median CPU ms
 * (this process's user + system time: on a loaded machine the wall time also counts the time other
 * processes held the core, the CPU time much less so; with worker threads it sums them).
 */
function alternate(models: Model[], x: tf.Tensor, y: tf.Tensor, steps: number): { wall: number[]; cpu: number[] } {
  const times = models.map(() => [] as number[]), cpu = models.map(() => [] as number[]);
  for (let i = 0; i < steps; i++) {
    models.forEach((m, j) => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      step(m, x, y);
      times[j].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[j].push((c.user + c.system) / 1000);
    });
  }
  return { wall: times.map(median), cpu: cpu.map(median) };
}

/**
 * A switch's A/B on 2 threads: baseline and decomposed steps with it on and off, alternated step by step
 * with the order rotated every round (the first round is warm-up); rows per model and the speed-up each way.
 */
function onOffAB(base: Model, dec: Model, x: tf.Tensor, y: tf.Tensor, steps: number, set: (on: boolean) => void, [onName, offName]: [string, string], flopRatio: number): Row[] {
  const pairs = [base, dec].flatMap((m) => [true, false].map((on) => ({ m, on, wall: [] as number[] })));
  for (let i = 0; i < steps + 1; i++) {
    for (let k = 0; k < pairs.length; k++) {
      const p = pairs[(k + i) % pairs.length];
      set(p.on);
      const t0 = performance.now();
      step(p.m, x, y);
      if (i >= 1) p.wall.push(performance.now() - t0);
    }
  }
  set(true);
  const at = (m: Model, on: boolean) => median(pairs.find((q) => q.m === m && q.on === on)!.wall);
  const rows: Row[] = [];
  for (const m of [base, dec]) {
    const on = at(m, true), off = at(m, false);
    rows.push({ case: `${m === base ? "baseline" : "decomposed"} step, ${onName} vs ${offName} (alternated, 2 threads)`, ours: onName, peer: offName, oursMs: on, peerMs: off, speedup: off / on,
      extra: { "ours img/s": (BATCH * 1000) / on, "peer img/s": (BATCH * 1000) / off } });
  }
  for (const on of [true, false]) {
    const sp = at(base, on) / at(dec, on);
    rows.push({ case: `decomposed-step speed-up with ${on ? onName : offName} (from the alternated A/B, 2 threads)`, ours: "decomposed", peer: "baseline", oursMs: at(dec, on), peerMs: at(base, on), speedup: sp,
      extra: { "FLOP ratio": flopRatio, "speed-up / FLOP ratio": sp / flopRatio } });
  }
  return rows;
}

function buildModel(name: string, model: tfl.LayersModel): Model {
  return { name, model, vars: model.trainableWeights.map((w) => w.read() as tf.Variable), opt: tf.train.adam(LR), fwdFlop: forwardFlop(model) };
}

const uptime = () => { try { return execSync("uptime").toString().trim(); } catch { return "uptime unavailable"; } };
const T0 = performance.now();
const log = (what: string) => console.error(`engine bench [${((performance.now() - T0) / 1000).toFixed(0)} s] ${what}`);

export async function run(args: string[] = []): Promise<void> {
  const quick = args.includes("--quick");
  const steps = quick ? 5 : 9, profiled = quick ? 3 : 5;
  const up0 = uptime();
  console.log(`engine bench start: ${up0}`);

  await tf.setBackend("wasm");
  await registerWasmKernels();
  // `--without=Sum,Identity`: put those stock kernels back (the "before" profile of a kernel of ours).
  const without = args.find((a) => a.startsWith("--without="))?.slice(10).split(",").filter(Boolean) ?? [];
  for (const name of without) restoreStock(name);
  // --model=wide-vgg|resnet20 (issue 16: the ratio on a wide VGG and a ResNet-20-style model too); default the main job's `vgg`.
  // BatchNorm stays in the decomposed model, as the training schedules keep it.
  const modelName = (args.find((a) => a.startsWith("--model="))?.slice(8) ?? "vgg") as ReferenceModel;
  if (!(modelName in referenceModels)) throw new Error(`engine: unknown --model=${modelName}; expected one of ${Object.keys(referenceModels).join(", ")}`);
  const newModel = () => referenceModels[modelName]({ seed: 0 });
  const base0 = newModel();
  // Ranks rounded to multiples of 8 as the main job and `train` plan them (`--rank-multiple=1`: the exact budget ranks).
  const rankMultiple = Number(args.find((a) => a.startsWith("--rank-multiple="))?.slice(16) ?? TRAINING_RANK_MULTIPLE);
  const compressed = await compress(base0, { select: { kind: "budget", keep: 0.4, metric: "flops" }, decomposition: { tuckerMethod: "hooi" }, rankMultiple });
  const dec0 = compressed.model;
  const ranks = compressed.plan.entries.filter((e) => e.action === "factorize").map((e) => `${e.layer}:${e.ranks.join("×")}`).join(" ");
  log(`compressed (ranks rounded to multiples of ${compressed.plan.rankMultiple ?? 1}: ${ranks})`);
  const base = buildModel(`baseline ${modelName}`, base0), dec = buildModel("decomposed (0.4 FLOPs, Tucker-2 HOOI / SVD)", dec0);
  const fusedBn = !args.includes("--no-fused-bn"), fusedAdam = !args.includes("--no-fused-adam"), fusedConv = !args.includes("--no-fused-conv");
  // `--stock-forward`: forward convs on stock XNNPACK (one thread in Node) even where our threaded conv takes them.
  const stockForward = args.includes("--stock-forward");
  forwardRouting.prefer = stockForward ? "stock" : args.includes("--threads-forward") ? "threads" : "auto";
  for (const m of [base, dec]) { setFusedBn(m, fusedBn); setFusedAdam(m, fusedAdam); setFusedConv(m, fusedConv); }
  const bnCounts0 = { ...fusedBatchNormCounts };
  const flopRatio = base.fwdFlop / dec.fwdFlop;
  const { x, y } = makeBatch(BATCH, 7);
  for (const m of [base, dec]) step(m, x, y); // creates the optimizer state
  const tensorsBefore = tf.memory().numTensors;
  const paired0 = pairingCounts();

  const rows: Row[] = [];
  const profileTables: Record<string, unknown> = {};
  const stepMs: Record<string, number> = {};
  for (const threads of [1, 2]) {
    await setThreads(threads);
    // warm-up (optimizer state, kernel setup, JIT): with one warm-up step, the committed results timed
    // the first phase's (1 thread) unprofiled steps 22–28 % slower than its profiled steps after them
    for (let i = 0; i < 3; i++) for (const m of [base, dec]) step(m, x, y);
    const { wall: [bMs, dMs], cpu: [bCpu, dCpu] } = alternate([base, dec], x, y, steps);
    stepMs[`base${threads}`] = bMs; stepMs[`dec${threads}`] = dMs;
    stepMs[`baseCpu${threads}`] = bCpu; stepMs[`decCpu${threads}`] = dCpu;
    for (const [m, unprofiled] of [[base, bMs], [dec, dMs]] as [Model, number][]) {
      // Medians over `profiled` profiled steps of each kernel's (and kind's) per-step total; the
      // time outside kernels is each profiled step's own wall time − its Σ kernel times (so it
      // includes the profiler's bookkeeping, a few µs per kernel).
      const perName = new Map<string, { n: number; ms: number[]; flop: number; bytes: number }>();
      const perKind = new Map<string, { n: number; ms: number[]; flop: number }>();
      const walls: number[] = [], totals: number[] = [];
      let recs: Record_[] = [];
      for (let i = 0; i < profiled; i++) {
        const t0 = performance.now();
        recs = await profileStep(m, x, y);
        walls.push(performance.now() - t0);
        totals.push(recs.reduce((a, r) => a + r.ms, 0));
        const stepName = new Map<string, number>(), stepKind = new Map<string, number>();
        for (const r of recs) {
          stepName.set(r.name, (stepName.get(r.name) ?? 0) + r.ms);
          stepKind.set(r.kind, (stepKind.get(r.kind) ?? 0) + r.ms);
          if (i === 0) {
            const a = perName.get(r.name) ?? { n: 0, ms: [], flop: 0, bytes: 0 };
            a.n++; a.flop += r.flop; a.bytes += r.bytes; perName.set(r.name, a);
            const b = perKind.get(r.kind) ?? { n: 0, ms: [], flop: 0 };
            b.n++; b.flop += r.flop; perKind.set(r.kind, b);
          }
        }
        for (const [k, v] of stepName) perName.get(k)?.ms.push(v);
        for (const [k, v] of stepKind) perKind.get(k)?.ms.push(v);
      }
      const byName = new Map([...perName].map(([k, a]) => [k, { ...a, ms: median(a.ms) }]));
      const byKind = new Map([...perKind].map(([k, a]) => [k, { ...a, ms: median(a.ms) }]));
      const wall = median(walls), total = median(totals), outside = median(walls.map((w, i) => w - totals[i]));
      const tag = `${m === base ? "baseline" : "decomposed"}, ${threads} thread${threads > 1 ? "s" : ""}`;
      const kernelRows: Row[] = [...byName.entries()].sort((p, q) => q[1].ms - p[1].ms).map(([name, a]) => ({
        case: `${tag}: ${name}`, ours: `${a.n} calls`, peer: "—", oursMs: a.ms, peerMs: null, speedup: null,
        extra: { "share %": (100 * a.ms) / wall, "GFLOP/s": a.flop ? a.flop / 1e6 / a.ms : NaN, "MB": a.bytes / 1e6 },
      }));
      const kindRows: Row[] = [...byKind.entries()].sort((p, q) => q[1].ms - p[1].ms).map(([kind, a]) => ({
        case: `${tag}: [kind] ${kind}`, ours: `${a.n} calls`, peer: "—", oursMs: a.ms, peerMs: null, speedup: null,
        extra: { "share %": (100 * a.ms) / wall, "GFLOP/s": a.flop ? a.flop / 1e6 / a.ms : NaN },
      }));
      kindRows.push({ case: `${tag}: [kind] outside kernels (wall − Σ kernels)`, ours: "—", peer: "—", oursMs: outside, peerMs: null, speedup: null,
        extra: { "share %": (100 * outside) / wall } });
      kindRows.push({ case: `${tag}: profiled step wall (median of ${profiled})`, ours: `${recs.length} kernels`, peer: "—", oursMs: wall, peerMs: null, speedup: null,
        extra: { "img/s": (BATCH * 1000) / wall, "Σ kernels ms": total, "step GFLOP/s": recs.reduce((a, r) => a + r.flop, 0) / 1e6 / wall,
          "unprofiled ms": unprofiled } });
      printTable(`engine: ${m.name}, ${threads} thread(s), per kind`, kindRows);
      printTable(`engine: ${m.name}, ${threads} thread(s), per kernel`, kernelRows.slice(0, quick ? 12 : 25));
      rows.push(...kindRows, ...kernelRows);
      profileTables[tag] = { wallMs: wall, unprofiledMs: unprofiled, kernelMs: total, outsideMs: outside, kernels: recs.length };
    }
    log(`${threads} thread(s) profiled`);
  }
  const tensorsAfter = tf.memory().numTensors;
  const paired1 = pairingCounts();
  const bnCounts1 = { ...fusedBatchNormCounts };

  // The fused training ops against stock on the same models, step by step alternated (1 odecomp thread):
  // fused BN + fused Adam, fused BN + stock Adam, stock BN + stock Adam (BN rows only for a model with BN).
  const bnRows: Row[] = [];
  {
    await setThreads(1);
    const configs = hasBn(base) ? [[true, true], [true, false], [false, false]] : [[false, true], [false, false]];
    const label = ([b, a]: number[] | boolean[]) => `${b ? "fused" : "stock"} BN + ${a ? "fused" : "stock"} Adam`;
    // every (model, configuration) pair in one rotation per round, so all six share the machine's moments
    const pairs = [base, dec].flatMap((m) => configs.map((cfg, j) => ({ m, cfg, j, wall: [] as number[], cpu: [] as number[] })));
    for (let i = 0; i < steps + 1; i++) {
      for (let k = 0; k < pairs.length; k++) {
        const p = pairs[(k + i) % pairs.length]; // rotate the order every round
        setFusedBn(p.m, p.cfg[0]); setFusedAdam(p.m, p.cfg[1]);
        const c0 = process.cpuUsage(), t0 = performance.now();
        step(p.m, x, y);
        if (i < 1) continue; // one warm-up round
        p.wall.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        p.cpu.push((c.user + c.system) / 1000);
      }
    }
    for (const m of [base, dec]) { setFusedBn(m, fusedBn); setFusedAdam(m, fusedAdam); }
    const at = (m: Model, j: number) => { const p = pairs.find((q) => q.m === m && q.j === j)!; return { w: median(p.wall), c: median(p.cpu) }; };
    for (const m of [base, dec]) {
      const tag = m === base ? "baseline" : "decomposed", last = configs.length - 1, st = at(m, last);
      for (let j = 0; j < last; j++) {
        const o = at(m, j);
        bnRows.push({ case: `${tag} step, ${label(configs[j])} vs ${label(configs[last])} (alternated, 1 thread)`, ours: label(configs[j]), peer: "stock", oursMs: o.w, peerMs: st.w, speedup: st.w / o.w,
          extra: { "ours img/s": (BATCH * 1000) / o.w, "peer img/s": (BATCH * 1000) / st.w, "ours CPU ms": o.c, "peer CPU ms": st.c, "CPU-time speed-up": st.c / o.c } });
      }
    }
    configs.forEach((cfg, j) => {
      const b = at(base, j), d = at(dec, j), sp = b.w / d.w;
      bnRows.push({ case: `decomposed-step speed-up with ${label(cfg)} (from the alternated A/B, 1 thread)`, ours: "decomposed", peer: "baseline", oursMs: d.w, peerMs: b.w, speedup: sp,
        extra: { "FLOP ratio": flopRatio, "speed-up / FLOP ratio": sp / flopRatio, "base img/s": (BATCH * 1000) / b.w, "dec img/s": (BATCH * 1000) / d.w,
          "base CPU ms": b.c, "dec CPU ms": d.c, "CPU-time speed-up / FLOP ratio": b.c / d.c / flopRatio } });
    });
    log("fused vs stock measured");
  }

  // The fused conv + bias + activation op against tfjs-layers' stock conv call, on the threads the
  // training runs use (2), alternated step by step with the order rotated every round.
  const convRows: Row[] = [];
  {
    await setThreads(2);
    const c0 = { ...fusedConvCounts };
    const pairs = [base, dec].flatMap((m) => [true, false].map((on) => ({ m, on, wall: [] as number[] })));
    for (let i = 0; i < steps + 1; i++) {
      for (let k = 0; k < pairs.length; k++) {
        const p = pairs[(k + i) % pairs.length];
        setFusedConv(p.m, p.on);
        const t0 = performance.now();
        step(p.m, x, y);
        if (i >= 1) p.wall.push(performance.now() - t0);
      }
    }
    for (const m of [base, dec]) setFusedConv(m, fusedConv);
    const at = (m: Model, on: boolean) => median(pairs.find((q) => q.m === m && q.on === on)!.wall);
    for (const m of [base, dec]) {
      const on = at(m, true), off = at(m, false);
      convRows.push({ case: `${m === base ? "baseline" : "decomposed"} step, fused conv + bias + relu vs stock conv call (alternated, 2 threads)`, ours: "fused conv", peer: "stock call", oursMs: on, peerMs: off, speedup: off / on,
        extra: { "ours img/s": (BATCH * 1000) / on, "peer img/s": (BATCH * 1000) / off } });
    }
    for (const on of [true, false]) {
      const sp = at(base, on) / at(dec, on);
      convRows.push({ case: `decomposed-step speed-up with ${on ? "fused" : "stock"} conv calls (from the alternated A/B, 2 threads)`, ours: "decomposed", peer: "baseline", oursMs: at(dec, on), peerMs: at(base, on), speedup: sp,
        extra: { "FLOP ratio": flopRatio, "speed-up / FLOP ratio": sp / flopRatio } });
    }
    convRows.push({ case: "conv calls on the fused op / on the stock call during this A/B", ours: String(fusedConvCounts.fused - c0.fused), peer: String(fusedConvCounts.stock - c0.stock), oursMs: NaN, peerMs: null, speedup: null });
    log("fused conv vs stock measured");
  }

  // Session 13's threaded passes (the conv epilogue inside the conv, the relu / bias gradient, the
  // max-pool gradient and Dense's weight gradient on the threads, Dense's forward on our threaded GEMM)
  // against the same passes on one thread (Dense's forward on stock XNNPACK).
  await setThreads(2);
  const passRows = onOffAB(base, dec, x, y, steps, (on) => { enginePasses.threaded = on; }, ["threaded passes", "one-thread passes"], flopRatio);
  log("threaded passes vs one-thread passes measured");
  // Session 16's resident outputs (src/tfjs/resident.ts): inputs read where our kernels left them against copied in.
  const r0 = { ...residentStats };
  const residentRows = onOffAB(base, dec, x, y, steps, (on) => { residentOptions.enabled = on; }, ["resident inputs", "copied inputs"], flopRatio);
  residentRows.push({ case: "inputs read resident / copied in by the ring-aware kernels during this A/B (MB read resident)", ours: String(residentStats.hits - r0.hits), peer: String(residentStats.misses - r0.misses), oursMs: NaN, peerMs: null, speedup: null,
    extra: { "MB resident": (residentStats.hitBytes - r0.hitBytes) / 1e6 } });
  log("resident vs copied inputs measured");
  const l0 = { ...residentStats };
  residentRows.push(...onOffAB(base, dec, x, y, steps, (on) => { residentOptions.lazy = on; }, ["lazy copy-out", "copy-out at once"], flopRatio));
  residentRows.push({ case: "outputs kept lazily / copied out later during this A/B", ours: String(residentStats.deferred - l0.deferred), peer: String(residentStats.materialized - l0.materialized), oursMs: NaN, peerMs: null, speedup: null });
  log("lazy vs immediate copy-out measured");
  // Workers spinning 64× longer before they sleep (1 << 20 polls, past the gaps between our parallel kernels) against
  // the default 1 << 14 (assembly/threads.ts WORKER_SPINS): inconclusive in session 18, kept to rerun on a quiet machine.
  const spinRows = onOffAB(base, dec, x, y, steps, (on) => withScratch((s) => s.k.threads_spins(on ? 1 << 20 : 0)), ["workers spin 2^20 polls", "2^14 polls"], flopRatio);
  log("worker spin measured");
  // Session 19's MaxPool on our threads (output left resident) against stock XNNPACK's one-thread MaxPool.
  const poolRows = onOffAB(base, dec, x, y, steps, (on) => { poolRouting.prefer = on ? "auto" : "stock"; }, ["threaded MaxPool", "stock MaxPool"], flopRatio);
  log("threaded vs stock MaxPool measured");

  // Peers (one thread for odecomp again, as every other area).
  await setThreads(1);
  const summary: Row[] = [];
  for (const t of [1, 2]) {
    const sp = stepMs[`base${t}`] / stepMs[`dec${t}`];
    summary.push({ case: `decomposed-step speed-up, ${t} odecomp thread(s)`, ours: "decomposed", peer: "baseline", oursMs: stepMs[`dec${t}`], peerMs: stepMs[`base${t}`], speedup: sp,
      extra: { "FLOP ratio": flopRatio, "speed-up / FLOP ratio": sp / flopRatio, "base img/s": (BATCH * 1000) / stepMs[`base${t}`], "dec img/s": (BATCH * 1000) / stepMs[`dec${t}`],
        "base CPU ms": stepMs[`baseCpu${t}`], "dec CPU ms": stepMs[`decCpu${t}`], "CPU-time speed-up / FLOP ratio": stepMs[`baseCpu${t}`] / stepMs[`decCpu${t}`] / flopRatio } });
  }
  // Stock tfjs-wasm: without odecomp's kernels it has no Conv2DBackpropFilter, so it cannot train a CNN.
  unregisterWasmKernels();
  let stockNote = "";
  try {
    const sm = buildModel("stock", newModel());
    const t0 = performance.now(); step(sm, x, y); const ms = performance.now() - t0;
    sm.model.dispose();
    summary.push({ case: "baseline step, stock tfjs-wasm", ours: "wasm+odecomp", peer: "stock wasm", oursMs: stepMs.base1, peerMs: ms, speedup: ms / stepMs.base1, extra: { "peer img/s": (BATCH * 1000) / ms } });
  } catch (e) {
    stockNote = (e as Error).message.split("\n")[0];
    summary.push({ case: `baseline step, stock tfjs-wasm: cannot train (${stockNote})`, ours: "wasm+odecomp", peer: "stock wasm", oursMs: stepMs.base1, peerMs: null, speedup: null });
  }
  await registerWasmKernels();
  for (const name of without) restoreStock(name);
  // tfjs-cpu: batch CPU_BATCH, scaled to 64 (the step's work is linear in the batch), after one untimed
  // step (its first step also builds the graph and allocates); the median of the timed steps. Compared with
  // ours on 1 thread (tfjs-cpu is single-threaded JS: the same resources) and on 2. --no-cpu skips it
  // (minutes per step on the wide models).
  await tf.setBackend("cpu");
  if (args.includes("--no-cpu")) summary.push({ case: "tfjs-cpu: skipped (--no-cpu)", ours: "—", peer: "tfjs-cpu", oursMs: NaN, peerMs: null, speedup: null });
  else {
    const { x: cx, y: cy } = makeBatch(CPU_BATCH, 11);
    const timed = quick ? 1 : 3;
    for (const [m0, which] of [[newModel(), "base"], [dec0, "dec"]] as [tfl.LayersModel, "base" | "dec"][]) {
      const m = buildModel("cpu", which === "dec" ? (await tfl.loadLayersModel(tf.io.fromMemory(await saveTo(dec0)))) : m0);
      step(m, cx, cy);
      const times: number[] = [];
      for (let i = 0; i < timed; i++) { const t0 = performance.now(); step(m, cx, cy); times.push((performance.now() - t0) * (BATCH / CPU_BATCH)); }
      const ms = median(times), ours = stepMs[`${which}1`], ours2 = stepMs[`${which}2`];
      summary.push({ case: `${which === "dec" ? "decomposed" : "baseline"} step, tfjs-cpu (batch ${CPU_BATCH} ×${BATCH / CPU_BATCH}, median of ${timed} after 1 untimed; ours on 1 thread)`, ours: "wasm+odecomp", peer: "tfjs-cpu", oursMs: ours, peerMs: ms, speedup: ms / ours,
        extra: { "ours img/s": (BATCH * 1000) / ours, "peer img/s": (BATCH * 1000) / ms, ...(ours2 ? { "ratio vs ours on 2 threads": ms / ours2 } : {}) } });
      log(`tfjs-cpu ${which} measured`);
      m.model.dispose();
    }
    tf.dispose([cx, cy]);
  }
  await tf.setBackend("wasm");
  if (args.includes("--no-jax") || modelName !== "vgg") {
    summary.push({ case: `jax-js (@jax-js/jax): skipped (${modelName !== "vgg" ? "its trainer builds the vgg CNN only" : "--no-jax"})`, ours: "—", peer: "jax-js", oursMs: NaN, peerMs: null, speedup: null });
  } else {
    // jax-js (bench/engine-jax.ts): the baseline CNN's step, jit-compiled (the first step, which
    // compiles, is timed apart), at batch JAX_BATCH scaled to 64 like tfjs-cpu: a batch-64 step
    // takes it tens of seconds here.
    const { jaxCnnTrainer } = await import("./engine-jax.ts");
    const { x: jx, y: jy } = makeBatch(JAX_BATCH, 13);
    const xs = jx.dataSync() as Float32Array, ys = jy.dataSync() as Float32Array;
    tf.dispose([jx, jy]);
    const tr = await jaxCnnTrainer("wasm", LR);
    let t0 = performance.now();
    await tr.step(xs, ys, JAX_BATCH);
    const firstMs = performance.now() - t0;
    const times: number[] = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      t0 = performance.now();
      await tr.step(xs, ys, JAX_BATCH);
      times.push((performance.now() - t0) * (BATCH / JAX_BATCH));
    }
    tr.dispose();
    const ms = median(times);
    summary.push({ case: `baseline step, jax-js wasm (jit(valueAndGrad) + Adam, batch ${JAX_BATCH} ×${BATCH / JAX_BATCH}; first step with compile ${(firstMs / 1000).toFixed(0)} s)`,
      ours: "wasm+odecomp", peer: "jax-js wasm", oursMs: stepMs.base1, peerMs: ms, speedup: ms / stepMs.base1,
      extra: { "ours img/s": (BATCH * 1000) / stepMs.base1, "peer img/s": (BATCH * 1000) / ms, ...(stepMs.base2 ? { "ratio vs ours on 2 threads": ms / stepMs.base2 } : {}) } });
    log("jax-js measured");
  }
  summary.push({ case: `1×1 conv gradients computed in one pass (dW parked by Conv2DBackpropInput / taken by Conv2DBackpropFilter), whole run`,
    ours: String(paired1.parked - paired0.parked), peer: String(paired1.taken - paired0.taken), oursMs: NaN, peerMs: null, speedup: null });
  summary.push(...bnRows, ...convRows, ...passRows, ...residentRows, ...spinRows, ...poolRows);
  summary.push({ case: `BatchNorm training calls on the fused op / on stock during the profiled runs (${fusedBn ? "fused" : "--no-fused-bn"})`, ours: String(bnCounts1.fused - bnCounts0.fused), peer: String(bnCounts1.stock - bnCounts0.stock), oursMs: NaN, peerMs: null, speedup: null });
  summary.push({ case: `numTensors before / after the profiled runs`, ours: String(tensorsBefore), peer: String(tensorsAfter), oursMs: NaN, peerMs: null, speedup: null });
  const up1 = uptime();
  printTable(`engine: step times and peers (batch ${BATCH}, Adam; forward FLOPs/sample ${(base.fwdFlop / 1e6).toFixed(1)} M → ${(dec.fwdFlop / 1e6).toFixed(1)} M)`, summary);
  console.log(`uptime: ${up1}`);
  tf.dispose([x, y]);
  base.model.dispose(); dec.model.dispose();
  const tag = args.find((a) => a.startsWith("--tag="))?.slice(6);
  await saveResults(`${modelName === "vgg" ? "engine" : `engine-${modelName}`}${tag ? `-${tag}` : ""}`, [...summary, ...rows], { model: modelName, quick, without, fusedBn, fusedAdam, fusedConv, stockForward, tag, rankMultiple: compressed.plan.rankMultiple ?? 1, ranks, uptimeStart: up0, uptimeEnd: up1, batch: BATCH, flopRatio, fwdFlop: { baseline: base.fwdFlop, decomposed: dec.fwdFlop }, profiles: profileTables });
}

/** The model's artifacts (to rebuild it on another backend with the same weights). */
async function saveTo(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let out: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => { out = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } }; }));
  return out!;
}

function restoreStock(name: string): void {
  const stock = stockKernels.get(name);
  if (!stock) throw new Error(`engine bench: --without=${name}: no stock wasm kernel was replaced under that name`);
  tf.unregisterKernel(name, "wasm");
  tf.registerKernel(stock);
  stock.setupFunc?.(tf.findBackend("wasm") as tf.KernelBackend);
}
