// Public surface of `odecomp/tfjs`: kernels for tfjs's wasm backend, so models
// with Conv2D / DepthwiseConv2D train there and Dense backprop runs at GEMM speed.
//
//   import * as tf from "@tensorflow/tfjs";            // or tfjs-core + tfjs-layers
//   import "@tensorflow/tfjs-backend-wasm";
//   import { registerWasmKernels } from "odecomp/tfjs";
//   await registerWasmKernels();                        // before or after setBackend
//   await tf.setBackend("wasm");
//
// Registered kernels: see WASM_KERNELS in register.ts. Other backends are untouched.
export { registerWasmKernels, unregisterWasmKernels, wasmKernelNames } from "./register.ts";
export { useWasmBackend, wasmThreadsBlocker, type WasmBackendOptions, type WasmBackendInfo } from "./backend.ts";
