// What compress() sets up before planning on a live model: timing, when the rule
// needs it or a Timer was given — the tfjs timer on the active backend, and the
// measured time of the model as given (the budget's base) and as planned
// (BatchNormalization folded, when options.foldBatchNorm is on; the fold itself
// happens in compress/compress.ts).
import type * as tfl from "@tensorflow/tfjs-layers";
import type { Artifacts } from "../compress/artifacts.ts";
import { foldBatchNorm } from "../compress/bnfold.ts";
import type { CompressOptions } from "../compress/plan.ts";
import { artifactsToModel } from "./convert.ts";
import { tfjsTimer, timeModel } from "./timing.ts";

/** `options` with `timing` filled in where timing is needed (else `options` itself). */
export async function prepareCompress(model: tfl.LayersModel, a: Artifacts, options: CompressOptions): Promise<CompressOptions> {
  const sel = options.select;
  const wantsTime = sel?.kind === "budget" && sel.metric === "time";
  if (!wantsTime && !options.timing) return options;
  const t = options.timing ?? { timer: tfjsTimer() };
  const batch = sel?.kind === "budget" && sel.batch !== undefined ? sel.batch : t.batch ?? 1;
  const mode = t.mode ?? "inference";
  let { modelTime, baseTime } = t;
  if (modelTime === undefined) {
    baseTime ??= timeModel(model, batch, mode);
    const batchNorm = options.foldBatchNorm ? foldBatchNorm(a) : null;
    if (batchNorm?.folded.length) {
      const folded = await artifactsToModel(batchNorm.artifacts);
      try { modelTime = timeModel(folded, batch, mode); } finally { folded.dispose(); }
    } else modelTime = baseTime;
  }
  return { ...options, timing: { ...t, batch, mode, modelTime, baseTime } };
}
