// Layer-level factorization (tfjs-free): kernels in, stock-layer chains out.
export { factorizeLayer, fromDense, fromConv2D, maxRanks, checkRanks } from "./factorize.ts";
export { buildChain, foldChain, chainLayerName, chainLayerNames, parseChainName, convGeometry, type ChainKernels, type AnyChainKernels } from "./chain.ts";
export { specCost, chainCost, layerCost, methodCost, type Cost } from "./cost.ts";
export { METHODS, type Method, type MethodName, type ConvMethod, type DenseMethod, type LayerSpec, type FactorizableLayer, type LayerConfig } from "./types.ts";
export { registerMethod, unregisterMethod, methodSpec, convMethodNames, cliMethods, type MethodSpec } from "./methods/index.ts";
