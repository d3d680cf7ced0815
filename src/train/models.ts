// Reference models for 28×28×1 inputs, with seeded initialisation (every
// layer's initializer gets initializerSeed(seed, its index), never 0, so two
// builds with the same seed have identical weights). Outputs are softmax probabilities over `classes`.
import * as tfl from "@tensorflow/tfjs-layers";
import { check } from "../core/errors.ts";
import { chainLayerName } from "../layers/chain.ts";

export interface ModelOptions {
  /** Initialisation seed (default 0). */
  seed?: number;
  classes?: number;
}

export interface MlpOptions extends ModelOptions {
  /** Hidden units (Odecomp: 150). */
  hidden?: number;
  /**
   * Rank of the first layer. Omitted: one Dense 784→hidden named "fc1". Given:
   * the layer is built factorized from initialisation (Odecomp pre-training
   * decomposition) as Dense 784→rank without bias ("fc1__odc_svd_0") then Dense
   * rank→hidden with bias and ReLU ("fc1__odc_svd_1"), both randomly initialised.
   * The names follow odecomp/models' chain convention, so its `reconstruct` folds them.
   */
  rank?: number;
  inputSize?: number;
}

/**
 * The seed handed to the tfjs initializer of layer `index` of a model built with `seed`: always ≥ 1.
 * tfjs-core's Gaussian generators (truncatedNormal → heNormal, randomNormal) treat a seed of 0 as
 * "no seed" (`seed ? seed : Math.random()`), so seed 0 used to give a different model at every build.
 * Distinct (seed, index) pairs give distinct initializer seeds for index < 1000.
 */
export function initializerSeed(seed: number, index: number): number {
  check(Number.isSafeInteger(seed) && seed >= 0, "models", () => `seed = ${seed}; expected an integer ≥ 0`);
  return seed * 1000 + index + 1;
}

const glorot = (seed: number) => tfl.initializers.glorotUniform({ seed });
const he = (seed: number) => tfl.initializers.heNormal({ seed });

/** Odecomp's MNIST MLP 784→150→10 (first layer optionally factorized at `rank`). */
export function mlp(options: MlpOptions = {}): tfl.LayersModel {
  const seed = options.seed ?? 0, hidden = options.hidden ?? 150, classes = options.classes ?? 10, n = options.inputSize ?? 784;
  const model = tfl.sequential({ name: "mlp" });
  if (options.rank === undefined) {
    model.add(tfl.layers.dense({ name: "fc1", inputShape: [n], units: hidden, activation: "relu", kernelInitializer: glorot(initializerSeed(seed, 0)) }));
  } else {
    const r = options.rank;
    check(Number.isInteger(r) && r >= 1 && r <= Math.min(n, hidden), "mlp", () => `rank = ${r}; expected an integer in 1..${Math.min(n, hidden)}`);
    model.add(tfl.layers.dense({ name: chainLayerName("fc1", "svd", 0), inputShape: [n], units: r, useBias: false, kernelInitializer: glorot(initializerSeed(seed, 0)) }));
    model.add(tfl.layers.dense({ name: chainLayerName("fc1", "svd", 1), units: hidden, activation: "relu", kernelInitializer: glorot(initializerSeed(seed, 100)) }));
  }
  model.add(tfl.layers.dense({ name: "fc2", units: classes, activation: "softmax", kernelInitializer: glorot(initializerSeed(seed, 1)) }));
  return model;
}

/**
 * VGG-style reference CNN (the one issue 4's training-step benchmark uses):
 * [conv3×3·32 → conv3×3·32 → maxpool2] → [conv3×3·64 → conv3×3·64 → maxpool2]
 * → flatten → Dense 128 ReLU → Dense classes softmax. "same" padding, ReLU.
 */
export function vggCnn(options: ModelOptions = {}): tfl.LayersModel {
  const seed = options.seed ?? 0, classes = options.classes ?? 10;
  const model = tfl.sequential({ name: "vgg_cnn" });
  let i = 0;
  for (const [block, ch] of [[1, 32], [2, 64]] as const) {
    for (const j of [1, 2]) {
      model.add(tfl.layers.conv2d({
        name: `conv${block}_${j}`, ...(i === 0 ? { inputShape: [28, 28, 1] } : {}), filters: ch, kernelSize: 3, padding: "same",
        activation: "relu", kernelInitializer: he(initializerSeed(seed, i++)),
      }));
    }
    model.add(tfl.layers.maxPooling2d({ name: `pool${block}`, poolSize: 2 }));
  }
  model.add(tfl.layers.flatten({ name: "flatten" }));
  model.add(tfl.layers.dense({ name: "fc1", units: 128, activation: "relu", kernelInitializer: he(initializerSeed(seed, i++)) }));
  model.add(tfl.layers.dense({ name: "fc2", units: classes, activation: "softmax", kernelInitializer: glorot(initializerSeed(seed, i++)) }));
  return model;
}

/**
 * Small ResNet for 28×28×1: stem conv3×3·16, then three stages (16, 32, 64
 * channels; stride 2 at the start of stages 2 and 3) of one basic block each
 * (conv3×3 → BN → ReLU → conv3×3 → BN, Add with the shortcut — a 1×1 stride-2
 * conv when the shape changes — then ReLU), global average pool, Dense softmax.
 */
export function smallResNet(options: ModelOptions = {}): tfl.LayersModel {
  const seed = options.seed ?? 0, classes = options.classes ?? 10;
  let s = 0;
  const conv = (name: string, filters: number, kernelSize: number, strides = 1) =>
    tfl.layers.conv2d({ name, filters, kernelSize, strides, padding: "same", useBias: false, kernelInitializer: he(initializerSeed(seed, s++)) });
  const input = tfl.input({ shape: [28, 28, 1], name: "input" });
  let x = conv("stem", 16, 3).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: "stem_bn" }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ name: "stem_relu" }).apply(x) as tfl.SymbolicTensor;
  let channels = 16;
  for (const [stage, ch] of [[1, 16], [2, 32], [3, 64]] as const) {
    const stride = ch === channels ? 1 : 2;
    let y = conv(`s${stage}_conv1`, ch, 3, stride).apply(x) as tfl.SymbolicTensor;
    y = tfl.layers.batchNormalization({ name: `s${stage}_bn1` }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.reLU({ name: `s${stage}_relu1` }).apply(y) as tfl.SymbolicTensor;
    y = conv(`s${stage}_conv2`, ch, 3).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.batchNormalization({ name: `s${stage}_bn2` }).apply(y) as tfl.SymbolicTensor;
    const shortcut = stride === 1 ? x : conv(`s${stage}_proj`, ch, 1, stride).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.add({ name: `s${stage}_add` }).apply([y, shortcut]) as tfl.SymbolicTensor;
    x = tfl.layers.reLU({ name: `s${stage}_out` }).apply(x) as tfl.SymbolicTensor;
    channels = ch;
  }
  x = tfl.layers.globalAveragePooling2d({ name: "gap" }).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ name: "fc", units: classes, activation: "softmax", kernelInitializer: glorot(initializerSeed(seed, s++)) }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out, name: "small_resnet" });
}

/**
 * Wide VGG for 28×28×1 (issue 17's workload where factorizing should pay: wide 3×3 convs):
 * [conv3×3·64 ×2 → maxpool2] → [conv3×3·128 ×2 → maxpool2] → [conv3×3·256 ×2] → global average pool →
 * Dense classes softmax. "same" padding, ReLU, no BatchNormalization (like `vggCnn`, so the decomposed
 * convs carry the time, not BN). ≈ 1.15 M parameters, ≈ 0.23 GFLOP forward per image.
 */
export function wideVgg(options: ModelOptions = {}): tfl.LayersModel {
  const seed = options.seed ?? 0, classes = options.classes ?? 10;
  const model = tfl.sequential({ name: "wide_vgg" });
  let i = 0;
  for (const [block, ch] of [[1, 64], [2, 128], [3, 256]] as const) {
    for (const j of [1, 2]) {
      model.add(tfl.layers.conv2d({
        name: `conv${block}_${j}`, ...(i === 0 ? { inputShape: [28, 28, 1] } : {}), filters: ch, kernelSize: 3, padding: "same",
        activation: "relu", kernelInitializer: he(initializerSeed(seed, i++)),
      }));
    }
    if (block < 3) model.add(tfl.layers.maxPooling2d({ name: `pool${block}`, poolSize: 2 }));
  }
  model.add(tfl.layers.globalAveragePooling2d({ name: "gap" }));
  model.add(tfl.layers.dense({ name: "fc", units: classes, activation: "softmax", kernelInitializer: glorot(initializerSeed(seed, i++)) }));
  return model;
}

/**
 * ResNet-20 (He et al. 2016, the CIFAR family) for 28×28×1: stem conv3×3·16 → BN → ReLU, three stages
 * (16, 32, 64 channels) of three basic blocks each (conv3×3 → BN → ReLU → conv3×3 → BN, Add with the
 * shortcut, ReLU); the first block of stages 2 and 3 has stride 2 and a 1×1 stride-2 conv + BN shortcut
 * (option B), the others the identity; global average pool → Dense classes softmax. 19 + 2 convs,
 * ≈ 0.27 M parameters: the narrow layers are the hard case for factorization.
 */
export function resNet20(options: ModelOptions = {}): tfl.LayersModel {
  const seed = options.seed ?? 0, classes = options.classes ?? 10;
  let s = 0;
  const conv = (name: string, filters: number, kernelSize: number, strides = 1) =>
    tfl.layers.conv2d({ name, filters, kernelSize, strides, padding: "same", useBias: false, kernelInitializer: he(initializerSeed(seed, s++)) });
  const bn = (name: string) => tfl.layers.batchNormalization({ name });
  const relu = (name: string) => tfl.layers.reLU({ name });
  const input = tfl.input({ shape: [28, 28, 1], name: "input" });
  let x = relu("stem_relu").apply(bn("stem_bn").apply(conv("stem", 16, 3).apply(input))) as tfl.SymbolicTensor;
  let channels = 16;
  for (const [stage, ch] of [[1, 16], [2, 32], [3, 64]] as const) {
    for (const block of [1, 2, 3]) {
      const p = `s${stage}b${block}`, stride = block === 1 && ch !== channels ? 2 : 1;
      let y = relu(`${p}_relu1`).apply(bn(`${p}_bn1`).apply(conv(`${p}_conv1`, ch, 3, stride).apply(x))) as tfl.SymbolicTensor;
      y = bn(`${p}_bn2`).apply(conv(`${p}_conv2`, ch, 3).apply(y)) as tfl.SymbolicTensor;
      const shortcut = stride === 1 ? x : bn(`${p}_proj_bn`).apply(conv(`${p}_proj`, ch, 1, stride).apply(x)) as tfl.SymbolicTensor;
      x = relu(`${p}_out`).apply(tfl.layers.add({ name: `${p}_add` }).apply([y, shortcut])) as tfl.SymbolicTensor;
    }
    channels = ch;
  }
  x = tfl.layers.globalAveragePooling2d({ name: "gap" }).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ name: "fc", units: classes, activation: "softmax", kernelInitializer: glorot(initializerSeed(seed, s++)) }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out, name: "resnet20" });
}

/** The reference models by name (the CLI's --model and the workloads bench resolve names here). */
export const referenceModels = {
  mlp: (o: ModelOptions) => mlp(o),
  vgg: vggCnn,
  resnet: smallResNet,
  "wide-vgg": wideVgg,
  resnet20: resNet20,
} as const satisfies Record<string, (o: ModelOptions) => tfl.LayersModel>;

export type ReferenceModel = keyof typeof referenceModels;

/**
 * Forward FLOPs per sample (2·MACs) of Dense and Conv2D layers, the rest
 * (activations, pooling, BN, Add) ignored. Training ≈ 3× this per sample.
 */
export function forwardFlops(model: tfl.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const outShape = layer.outputShape as number[];
    if (cls === "Dense") {
      const kernel = layer.weights[0];
      flops += 2 * kernel.shape[0]! * kernel.shape[1]!;
    } else if (cls === "Conv2D") {
      const [kh, kw, cin, cout] = layer.weights[0].shape as number[]; // [kh, kw, cin, cout]
      flops += 2 * kh * kw * cin * cout * outShape[1] * outShape[2];
    }
  }
  return flops;
}
