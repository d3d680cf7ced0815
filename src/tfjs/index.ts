// Public surface of `odecomp/tfjs`: kernels for tfjs's wasm backend.
export { registerWasmKernels, unregisterWasmKernels, wasmKernelNames } from "./register.ts";
