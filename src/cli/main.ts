// The `odecomp` command. `main(argv)` parses with commander and returns the exit
// code (0 ok, 1 failure, 2 usage error); run directly (node/tsx/deno) it exits
// with it. Node: `npx tsx src/cli/main.ts …` or the package bin; Deno:
// `deno run -A src/cli/main.ts …`.
import { Command, CommanderError, Option } from "commander";
import { UsageError, EXIT } from "./errors.ts";
import { cmdCompress, cmdInspect, cmdReconstruct, decimal, type CliIO } from "./commands.ts";
import { cliMethods } from "../layers/methods/index.ts";

const defaultIO: CliIO = { out: (s) => process.stdout.write(s + "\n"), err: (s) => process.stderr.write(s + "\n") };

function selectOptions(c: Command): Command {
  return c
    .addOption(new Option("--method <method>", cliMethods().help).default(undefined))
    .option("--budget <fraction>", "keep this fraction of the parameters (or FLOPs / measured time with --metric), allocated across layers")
    .option("--metric <metric>", "budget metric: params, flops or time (measured on the wasm backend; needs --budget)")
    .option("--batch <n>", "batch size timing runs at (--metric time or --timing; default 1)")
    .option("--timing", "measure each layer and chain on the wasm backend: report times, drop chains that are not faster")
    .option("--timing-cache <file>", "JSON file of measurements to reuse and update (keyed by backend, build, shapes, ranks, batch)")
    .option("--no-fold-bn", "keep BatchNormalization layers (default: fold each into the conv/dense before it)")
    .option("--ranks <list>", "explicit ranks per layer, e.g. fc1=16,conv2=8x12")
    .option("--rank-rule <rule>", "evbmf, evbmf:<weaken 0..1>, energy:<threshold>, stable[:<scale>] (Cuttlefish scaled stable rank), or full (default evbmf)")
    .option("--rank-multiple <n>", "round the ranks a --budget picks to multiples of n, so factor chains fill SIMD lanes (default 1, or 4 with --timing; train and main: 8)")
    .option("--skip <layers>", "comma-separated layers to leave alone")
    .option("--tucker <solver>", "Tucker-2 solver: hosvd or hooi (default hosvd; the main job uses hooi)")
    .option("--threads <n>", "kernel threads: a count 1–64, or auto (the core count where threads are possible)", "auto");
}

/**
 * Options every training command takes (train and main), with one default each — except the learning-rate
 * schedule: `train` keeps a constant rate unless asked, the main job decays it by cosine (how the method's
 * experiments train, and what steadies its final accuracy enough to compare two runs: issue 17).
 */
function trainingOptions(c: Command, lrScheduleDefault: "none" | "cosine" = "none", lrDefault = "0.001"): Command {
  return c
    .option("--batch-size <n>", "batch size", "64")
    .option("--lr <rate>", "Adam learning rate", lrDefault)
    .option("--seed <n>", "seed", "0")
    .option("--warmup <steps>", "after each decomposition, ramp the rebuilt Adam's learning rate up over this many steps", "30")
    .option("--lr-schedule <kind>", "learning rate over the whole run, the baseline's and the accelerated alike: none (constant), cosine[:<final factor>] (decay to 0 by default), step[:<fractions>[:<factor>]] (×0.1 at 0.5,0.75 of the run by default)", lrScheduleDefault)
    .option("--backend <name>", "wasm (with odecomp kernels) or cpu", "wasm")
    .option("--quiet", "no progress output")
    .option("--json", "machine-readable output");
}

/** --preprocess of evaluate, finetune, compress --finetune and train (parsed by finetune.ts preprocessFlag). */
const PREPROCESS_HELP = "pixel mapping the model expects: unit ([0,1], default), mobilenet ([-1,1]) or imagenet (mean/std); recorded in the outputs";

const LOW_RANK_LR_HELP = "auto: the learning rate after the switch to low rank, as a multiple of --lr (default 4)";

/** Data options of evaluate, finetune and compress --finetune. */
function dataOptions(c: Command, json = true): Command {
  c
    .option("--preprocess <preset>", PREPROCESS_HELP)
    .option("--val-split <fraction>", "image folders without train/ and test/: held-out fraction (default 0.1)")
    .option("--skip-bad-images", "skip (and count) images that cannot be decoded")
    .option("--batch-size <n>", "batch size")
    .option("--seed <n>", "seed")
    .option("--backend <name>", "wasm (with odecomp kernels) or cpu", "wasm")
    .option("--quiet", "no progress output");
  return json ? c.option("--json", "machine-readable output") : c;
}

/** Fine-tuning options (finetune and compress --finetune). */
function tuneOptions(c: Command, tune = true): Command {
  if (!tune) return c;
  return c
    .option("--lr <rate>", "Adam learning rate (default 1e-4)")
    .option("--distill-alpha <a>", "weight of the label loss with a teacher, in [0, 1] (default 0.5; 0 without labels)")
    .option("--temperature <T>", "distillation temperature (default 4)")
    .option("--augment", "random crop (pad 4) and horizontal flip on training images")
    .option("--cache-teacher", "compute the teacher's outputs once per image (not with --augment)");
}

export function program(io: CliIO, result: { code: number } = { code: 0 }): Command {
  const act = <A extends unknown[]>(f: (...a: A) => Promise<number>) => async (...a: A) => { result.code = await f(...a); };
  const p = new Command("odecomp")
    .description("Tensor-decomposition compression and accelerated training for TensorFlow.js models")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, "")), writeErr: (s) => io.err(s.replace(/\n$/, "")) })
    .exitOverride()
    .hook("preAction", async (_p, cmd) => {
      const t = cmd.opts().threads as string | undefined;
      if (t !== undefined) await useThreads(t);
    });

  tuneOptions(dataOptions(selectOptions(p.command("compress").description("factorize a model's Dense/Conv2D layers into chains of stock tfjs layers")
    .argument("<model>", "model.json (tfjs model.save or tensorflowjs converter, Keras 2 or 3) or its folder")
    .requiredOption("--out <dir>", "new output folder (model.json, weights.bin, plan.txt, plan.json)"))
    .option("--force", "replace a non-empty --out folder")
    .option("--quantize <dtype>", "store the written weights as uint8, uint16 or float16 (tensorflowjs converter format), or none (default: as the input)")
    .option("--json", "machine-readable output (errors too: one JSON object on stdout)")
    .option("--finetune <data>", "then recover by distillation from the original on this data (mnist, fashion-mnist, a folder, .npz); labels used when present")
    .option("--epochs <n>", "--finetune: epochs (default 1)"), false))
    .action(act(async (model: string, o) => o.finetune ? (await import("./finetune.ts")).cmdCompressFinetune(model, o, io) : cmdCompress(model, o, io)));

  tuneOptions(dataOptions(p.command("evaluate").description("top-1 (top-5), per-class accuracy and loss of a model on data; top-1 agreement with --teacher")
    .argument("<model>", "model.json or its folder")
    .requiredOption("--data <data>", "mnist, fashion-mnist, an image folder (root/<class>/*.png|jpg) or a .npz/.npy file")
    .option("--teacher <model>", "also report top-1 agreement with this model (needs no labels)")
    .option("--split <split>", "test (default; the whole set when there is no test split), train or all")), false)
    .action(act(async (model: string, o) => (await import("./finetune.ts")).cmdEvaluate(model, o, io)));

  tuneOptions(dataOptions(p.command("finetune").description("fine-tune a model on data, with labels and/or by distillation from --teacher")
    .argument("<model>", "model.json or its folder")
    .requiredOption("--data <data>", "mnist, fashion-mnist, an image folder or a .npz/.npy file (unlabeled folders need --teacher)")
    .requiredOption("--out <dir>", "new output folder (model.json, weights.bin, finetune.json)")
    .option("--force", "replace a non-empty --out folder")
    .option("--teacher <model>", "distil from this model")
    .option("--epochs <n>", "epochs (default 1)")), true)
    .action(act(async (model: string, o) => (await import("./finetune.ts")).cmdFinetune(model, o, io)));

  p.command("reconstruct").description("fold factorized chains back into the original layer kinds")
    .argument("<model>", "a compressed model.json or its folder")
    .requiredOption("--out <dir>", "new output folder")
    .option("--force", "replace a non-empty --out folder")
    .option("--quantize <dtype>", "store the written weights as uint8, uint16 or float16, or none (default: as the input)")
    .option("--json", "machine-readable output (errors too: one JSON object on stdout)")
    .action(act(async (model: string, o) => cmdReconstruct(model, o, io)));

  selectOptions(p.command("inspect").description("per-layer parameters, FLOPs and what each method would save")
    .argument("<model>", "model.json or its folder"))
    .option("--json", "machine-readable output")
    .action(act(async (model: string, o) => cmdInspect(model, o, io)));

  trainingOptions(selectOptions(p.command("train").description("train a reference model or your own model.json on bundled or your own data with a schedule")))
    .option("--data <data>", "mnist, fashion-mnist, an image folder (root/<class>/*.png|jpg) or a .npz/.npy file")
    .option("--dataset <name>", "alias of --data for the bundled sets", "fashion-mnist")
    .option("--preprocess <preset>", PREPROCESS_HELP)
    .option("--model <name>", "mlp, vgg, resnet, wide-vgg, resnet20, or a model.json (or its folder)", "vgg")
    .option("--schedule <name>", "baseline, decompose-at, pretrain, fading, incremental or auto (switch to low rank when the stable ranks converge; per-layer decisions by cost)", "baseline")
    .option("--epochs <n>", "epochs", "3")
    .option("--at <epoch>", "decompose-at / incremental: epochs before the (first) decomposition (default epochs/3); auto: switch after this epoch instead of on convergence (a fraction switches within one: 0.5 after half of the first)")
    .option("--reconstruct-at <epoch>", "decompose-at: fold the chains back at this epoch")
    .option("--cost <model>", "auto: per-layer cost model, measured (forward + backward on the backend) or flops (deterministic)", "measured")
    .option("--low-rank-lr <factor>", LOW_RANK_LR_HELP)
    .option("--rank <r>", "pretrain / fading: target rank of --layers (default 15)")
    .option("--layers <names>", "pretrain / fading: Dense layers to factorize", "fc1")
    .option("--train-per-class <n>", "training images per class (default: all)")
    .option("--test-per-class <n>", "test images per class (default: all)")
    .option("--out <dir>", "save the trained model here")
    .option("--force", "replace a non-empty --out folder")
    .action(act(async (o) => (await import("./train.ts")).cmdTrain(o, io)));

  // main: Adam 2e-3, the baseline's best of 1, 2 and 4 × 10⁻³ on this job (86.37 / 86.90 / 86.69 %, 3 seeds, full test set)
  trainingOptions(selectOptions(p.command("main").description("the main job: baseline vs the automatic low-rank schedule (or decompose-at-epoch) on Fashion-MNIST, comparison table, out/report.html and the compressed model")), "cosine", "0.002")
    .option("--schedule <name>", "accelerated run: auto (default: low rank after half of the first epoch, 33 % of the FLOPs, fc1 of the default CNN dense) or decompose-at (40 % of the FLOPs)", "auto")
    .option("--cost <model>", "auto: per-layer cost model, measured (forward + backward on the backend) or flops (deterministic)", "measured")
    .option("--low-rank-lr <factor>", LOW_RANK_LR_HELP)
    .option("--full", "the complete experiment (all 60,000 training images, 10 epochs)")
    .option("--out <dir>", "output folder", "out")
    .option("--model <name>", "reference model: vgg, resnet, wide-vgg, resnet20 or mlp", "vgg")
    .option("--epochs <n>", "epochs (default 10, --full 10)")
    .option("--at <epoch>", "auto: switch after this epoch, a fraction within one (default 0.5: half of the first; --full: by epoch 2 on convergence); decompose-at: decompose after this epoch (default 1, --full 3)")
    .option("--train-per-class <n>", "training images per class (default 250, --full 6000)")
    .option("--test-per-class <n>", "test images per class (default 100, --full 1000)")
    .action(act(async (o) => (await import("./train.ts")).cmdMain(o, io)));

  p.command("bench").description("run benchmark areas (bench/run.ts; needs the source checkout)")
    .argument("[areas...]", "areas and flags passed to bench/run.ts (default: all areas)")
    .allowUnknownOption()
    .action(act(async (areas: string[]) => (await import("./bench.ts")).cmdBench(areas, io)));

  return p;
}

/** --threads: validated here so a bad value is a usage error (exit 2), then handed to setThreads. */
async function useThreads(v: string): Promise<void> {
  const n = v === "auto" ? "auto" : decimal(v);
  if (n !== "auto" && !(Number.isInteger(n) && n >= 1 && n <= 64)) throw new UsageError(`--threads is '${v}'; expected an integer 1–64 or auto`);
  const { setThreads } = await import("../index.ts");
  await setThreads(n);
}

/**
 * Run the CLI on `argv` (without node and script); resolves to the exit code. With --json, an error is
 * also written to stdout as one JSON object `{ "error": { "kind": "usage" | "failure", "message", "exitCode" } }`
 * (the human line stays on stderr), so a consumer parsing stdout always gets JSON.
 */
export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const result = { code: EXIT.ok as number };
  const json = argv.includes("--json");
  const report = (kind: "usage" | "failure", message: string, code: number) => {
    if (json) io.out(JSON.stringify({ error: { kind, message, exitCode: code } }));
    return code;
  };
  if (argv.length === 0) {
    // No command is a usage error: the help goes to stderr (stdout stays empty for scripts).
    io.err(program(io).helpInformation().replace(/\n$/, ""));
    return EXIT.usage;
  }
  // Kernel threads start as workers that never keep a process alive (unref'd); while a command runs the
  // process must wait for them and for the work, or Deno ends with exit 0 and nothing done.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const p = program(io, result);
  try {
    await p.parseAsync(argv, { from: "user" });
    return result.code;
  } catch (e) {
    io.error?.(e);
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return EXIT.ok;
      return report("usage", e.message.replace(/^error: /, ""), EXIT.usage);
    }
    if (e instanceof UsageError) {
      io.err(`odecomp: usage error: ${e.message}`);
      return report("usage", e.message, EXIT.usage);
    }
    const message = (e as Error)?.message ?? String(e);
    io.err(`odecomp: error: ${message}`);
    if (process.env.ODECOMP_DEBUG) io.err(String((e as Error)?.stack));
    return report("failure", message, EXIT.failure);
  } finally {
    clearInterval(keepAlive);
  }
}

const isMain = (() => {
  const m = import.meta as ImportMeta & { main?: boolean };
  if (typeof m.main === "boolean") return m.main; // Deno (and Node ≥ 24)
  const arg = typeof process !== "undefined" ? process.argv[1] : undefined;
  return !!arg && /(^|[\\/])main\.(ts|js|mjs)$/.test(arg) && import.meta.url.endsWith(arg.replace(/\\/g, "/").split("/").pop()!);
})();

/** A reader that closed the pipe (`odecomp inspect m.json | head`) ends the output, not the process with a stack trace. */
export function quietOnClosedPipe(): void {
  for (const s of [process.stdout, process.stderr]) {
    s.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
}

if (isMain) {
  quietOnClosedPipe();
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
