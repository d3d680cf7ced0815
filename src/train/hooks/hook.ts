// Hooks into a schedule run: the extension points of `train()`'s loop, called in list order the way
// tfjs-layers' `fitLoop` calls its `CallbackList` — but inside odecomp's own loop (src/train/loop.ts),
// so a hook can also add a term to the loss inside the gradient tape, which a tfjs-layers callback
// cannot. The learning-rate schedule, warm-up, rank fading and early stopping are hooks (the other files
// here); `TrainOptions.hooks` appends more after them.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { Batch } from "../batches.ts";
import type { EpochOptions } from "../loop.ts";
import type { EpochRecord, Phase, PhaseRecord } from "../schedule.ts";

/** Where a run stands when a hook is called. A snapshot: read it during the call, do not keep it. */
export interface HookContext {
  /** The model being trained now (each architecture change replaces it). */
  readonly model: tfl.LayersModel;
  /** The optimizer now (rebuilt after each architecture change). */
  readonly optimizer: tf.Optimizer;
  /** The running phase and its index in the schedule. */
  readonly phase: Phase;
  readonly phaseIndex: number;
  /** Global optimizer steps run so far (over the whole schedule). */
  readonly step: number;
  /** Global epochs completed so far. */
  readonly epoch: number;
}

export interface StepContext extends HookContext {
  /** Global index of this step (0-based): the same in beforeStep, lossTerm and afterStep. */
  readonly step: number;
  /** Index of this step within the running train phase (0-based). */
  readonly phaseStep: number;
  readonly batch: Batch;
}

export interface LossContext extends StepContext {
  /** The model's output on `batch.x` in training mode, inside the gradient tape. */
  readonly prediction: tf.Tensor;
}

export interface EpochContext extends HookContext {
  /** Index of the epoch within the running train phase (0-based). */
  readonly phaseEpoch: number;
}

/**
 * One hook: every method is optional. Step methods are synchronous (they run inside the batch loop);
 * the others may be async and are awaited in order.
 */
export interface TrainHook {
  /** For error messages and debugging. */
  name?: string;
  /** At the start of every phase, before it runs. */
  phaseBegin?(ctx: HookContext): void | Promise<void>;
  /** Before each optimizer step (e.g. set the learning rate). */
  beforeStep?(ctx: StepContext): void;
  /**
   * An extra loss term for this step, added to the cross-entropy inside the gradient tape (its
   * intermediates are left to the tape), or undefined for none. Terms of several hooks are summed in
   * list order.
   */
  lossTerm?(ctx: LossContext): tf.Scalar | undefined;
  /** After each optimizer step (e.g. a proximal update of the weights). */
  afterStep?(ctx: StepContext): void;
  /**
   * After each epoch of a train phase, once the test accuracy is in `record` (a hook may add to the
   * record, e.g. a prediction). Return true to end the phase after this epoch (`stoppedEarly`).
   */
  epochEnd?(record: EpochRecord, ctx: EpochContext): boolean | void | Promise<boolean | void>;
  /** After an architecture change has replaced the model and rebuilt the optimizer, before it is evaluated. */
  architectureChange?(ctx: HookContext): void | Promise<void>;
  /** At the end of every phase, before `TrainOptions.onPhaseEnd` (a hook may add to the record). */
  phaseEnd?(record: PhaseRecord, ctx: HookContext): void | Promise<void>;
}

/** Hooks called in order (tfjs-layers' CallbackList, for odecomp's loop). */
export class HookList {
  constructor(readonly hooks: readonly TrainHook[]) {}

  async phaseBegin(ctx: HookContext): Promise<void> {
    for (const h of this.hooks) await h.phaseBegin?.(ctx);
  }

  async architectureChange(ctx: HookContext): Promise<void> {
    for (const h of this.hooks) await h.architectureChange?.(ctx);
  }

  /** True when any hook asks to end the phase (every hook still sees the epoch). */
  async epochEnd(record: EpochRecord, ctx: EpochContext): Promise<boolean> {
    let stop = false;
    for (const h of this.hooks) if (await h.epochEnd?.(record, ctx) === true) stop = true;
    return stop;
  }

  async phaseEnd(record: PhaseRecord, ctx: HookContext): Promise<void> {
    for (const h of this.hooks) await h.phaseEnd?.(record, ctx);
  }

  /**
   * The step callbacks of one epoch for `trainEpoch`. No loss term is added when no hook returns one, so a
   * run without terms computes exactly the plain cross-entropy (no `+ 0`).
   */
  stepCallbacks(ctx: HookContext, phaseStep0: number): Pick<EpochOptions, "beforeStep" | "penalty" | "onStep"> {
    const at = (step: number, batch: Batch): StepContext => ({ ...ctx, step, phaseStep: step - phaseStep0, batch });
    const before = this.hooks.filter((h) => h.beforeStep), terms = this.hooks.filter((h) => h.lossTerm), after = this.hooks.filter((h) => h.afterStep);
    return {
      beforeStep: before.length ? (step, batch) => { const c = at(step, batch); for (const h of before) h.beforeStep!(c); } : undefined,
      penalty: terms.length ? (step, batch, prediction) => {
        const c: LossContext = { ...at(step, batch), prediction };
        let total: tf.Scalar | undefined;
        for (const h of terms) {
          const t = h.lossTerm!(c);
          if (t) total = total ? tf.add(total, t) as tf.Scalar : t;
        }
        return total;
      } : undefined,
      // trainEpoch passes the step count after the step; hooks see the step's own index.
      onStep: after.length ? (done, batch) => { const c = at(done - 1, batch); for (const h of after) h.afterStep!(c); } : undefined,
    };
  }
}
