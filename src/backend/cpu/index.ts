// The native CPU backend: C++ kernels (native/cpu) behind Node-API, registered as backend "cpu".
// Ops it has no kernel for come from "ref" (declared inheritance). It becomes the default backend
// when the addon loads; otherwise Ingot says so once and runs on ref.
import { registerBackend } from "../registry.js";
import { registerBackendLoader } from "../current.js";
import { loadNative, native, nativeInfo } from "./native.js";
import "./elementwise.js";
import "./matmul.js";
import "./reduce.js";
import "./nn.js";
import "./conv.js";
import "./quant.js";
import "./attention.js";

export { nativeInfo };

registerBackendLoader("cpu", () => {
  if (!loadNative()) return false;
  registerBackend({ name: "cpu", inherits: "ref", device: "cpu" });
  return true;
});

/** Threads the native kernels use (default: all cores, or INGOT_NUM_THREADS). */
export function setNumThreads(n: number): void {
  if (loadNative()) native.setNumThreads(Math.max(1, Math.floor(n)));
}

/** Threads the native kernels use; 1 when the addon is not loaded. */
export function getNumThreads(): number {
  return loadNative() ? native.numThreads() : 1;
}
