// Epoch-alternated runs: several `train()` calls in one process that take turns epoch by epoch (run 0's
// epoch 1, run 1's epoch 1, run 0's epoch 2, …), so that load from other work on a shared machine lands
// on every run alike and cannot fake a speed-up the way back-to-back runs let it (issue 17: the same main
// job gave 1.21× on a quiet machine and 1.66× when other work slowed the baseline's first epochs).
//
// The runs are ordinary concurrent `train()` calls; a baton hook, last in each run's hook list, hands the
// turn on at every epoch's end and waits for it to come back, so only one run ever computes: a run's
// epoch, its evaluation, the phase changes after it (a decomposition, the auto schedule's switch and
// cost measurements) all happen in its own turn. That is safe because train()'s loop keeps no state
// across an await that the runs would share: tf.tidy scopes and the gradient tape are synchronous
// (opened and closed inside one optimizer step), the wasm kernels reset their scratch memory after every
// call, and models, optimizers, seeds, shuffles and augmentation draws are per run — test/train/alternate.test.ts
// checks that each run's losses and weights are bitwise those of the same run alone.
//
// Each run's wall clock is the time it held the turn (training, evaluation, decomposition; waits
// excluded); its per-epoch training times are the TrainResult's. The TrainResult's own totalSeconds and
// PhaseRecord.seconds are plain wall clock and so include the waits for the other runs' turns.
import { check } from "../core/errors.ts";
import type { TrainHook } from "./hooks/hook.ts";
import { train, type Schedule, type TrainData, type TrainOptions, type TrainResult } from "./schedule.ts";
import type * as tfl from "@tensorflow/tfjs-layers";

export interface AlternatedRun {
  name: string;
  model: tfl.LayersModel;
  schedule: Schedule;
  /** train()'s options for this run (its hooks come before the baton). */
  options?: TrainOptions;
}

export interface AlternatedOutcome {
  name: string;
  result: TrainResult;
  /** Seconds this run held the turn: its own wall clock (training, evaluation, architecture changes), waits excluded. */
  heldSeconds: number;
  /** Seconds held per turn (turn k ends with epoch k; the last turn runs from the last epoch's end to the run's end). */
  turns: number[];
}

export interface AlternatedResult {
  runs: AlternatedOutcome[];
  /** The order the epochs ran in, as [run index, global epoch] pairs (a check that the runs did alternate). */
  order: [number, number][];
  /** Wall-clock seconds of the whole alternation. */
  totalSeconds: number;
}

/** The turn: one holder at a time, handed round-robin over the runs still going. */
class Baton {
  private holder = 0;
  private readonly done: boolean[];
  private readonly waiting = new Map<number, () => void>();
  private since = performance.now();
  readonly held: number[][];

  constructor(n: number) {
    this.done = new Array(n).fill(false);
    this.held = Array.from({ length: n }, () => []);
  }

  /** Resolves when run `i` holds the turn. */
  acquire(i: number): Promise<void> {
    if (this.holder === i) { this.since = performance.now(); return Promise.resolve(); }
    return new Promise((resolve) => this.waiting.set(i, () => { this.since = performance.now(); resolve(); }));
  }

  /** Run `i` ends its turn (and leaves the rotation when `finished`); the next run still going gets it. */
  release(i: number, finished = false): void {
    check(this.holder === i, "trainAlternated", () => `run ${i} released a turn held by run ${this.holder}`);
    this.held[i].push((performance.now() - this.since) / 1000);
    if (finished) this.done[i] = true;
    const n = this.done.length;
    for (let k = 1; k <= n; k++) {
      const j = (i + k) % n;
      if (this.done[j]) continue;
      this.holder = j;
      const wake = this.waiting.get(j);
      if (wake) { this.waiting.delete(j); wake(); }
      return;
    }
    this.holder = -1;
  }
}

/**
 * Train `runs` on the same data, alternating epoch by epoch in list order (one process, one turn at a
 * time). Resolves when every run has ended; if one fails the others still finish (the baton passes
 * over it) and the first error is thrown afterwards, their models disposed. The results' models belong
 * to the caller, as with train().
 */
export async function trainAlternated(data: TrainData, runs: AlternatedRun[]): Promise<AlternatedResult> {
  check(Array.isArray(runs) && runs.length >= 1, "trainAlternated", () => `runs has ${Array.isArray(runs) ? runs.length : "no"} entries; expected at least one { name, model, schedule }`);
  const baton = new Baton(runs.length);
  const order: [number, number][] = [];
  const t0 = performance.now();
  const one = async (run: AlternatedRun, i: number): Promise<TrainResult> => {
    const hook: TrainHook = {
      name: "alternate",
      async epochEnd(record) {
        order.push([i, record.epoch]);
        baton.release(i);
        await baton.acquire(i);
      },
    };
    await baton.acquire(i);
    try {
      return await train(run.model, data, run.schedule, { ...run.options, hooks: [...(run.options?.hooks ?? []), hook] });
    } finally {
      baton.release(i, true);
    }
  };
  const settled = await Promise.allSettled(runs.map(one));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    for (const [i, s] of settled.entries()) if (s.status === "fulfilled" && s.value.model !== runs[i].model) s.value.model.dispose();
    throw failed.reason;
  }
  return {
    runs: settled.map((s, i) => {
      const turns = baton.held[i];
      return { name: runs[i].name, result: (s as PromiseFulfilledResult<TrainResult>).value, heldSeconds: turns.reduce((a, b) => a + b, 0), turns };
    }),
    order, totalSeconds: (performance.now() - t0) / 1000,
  };
}

/** Per-epoch training seconds of a baseline and another run side by side, with baseline / other per epoch. */
export function epochRatios(base: TrainResult, other: TrainResult): { epoch: number; baseSeconds: number; otherSeconds: number; ratio: number; label: string }[] {
  const n = Math.min(base.epochs.length, other.epochs.length);
  return Array.from({ length: n }, (_, k) => {
    const b = base.epochs[k].trainSeconds, o = other.epochs[k].trainSeconds;
    return { epoch: k + 1, baseSeconds: b, otherSeconds: o, ratio: b / o, label: other.epochs[k].label };
  });
}
