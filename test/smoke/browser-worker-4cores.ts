// A worker script for chromium-worker.test.ts: odecomp's worker entry on a pretend 4-core machine.
// tfjs-backend-wasm sizes its thread pool from navigator.hardwareConcurrency / 2 when the backend
// initialises (at the worker's init message, after this module ran), so this shows useWasmBackend
// getting more than one tfjs-wasm thread in a worker where the real machine has only 2 cores.
import "../../src/worker/entry.ts";

Object.defineProperty(Object.getPrototypeOf(navigator), "hardwareConcurrency", { get: () => 4 });
