// Loads the native addon (build/Release/ingot_cpu.node) and holds the calling convention shared with
// native/cpu: typed arrays are passed as is (the kernels work on them in place) and every number a
// kernel needs is written into one shared Float64Array, `P`, before the call.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { setAddressProbe, type DType, type Tensor, type TypedArray } from "../../tensor/index.js";

/** Must equal ABI in native/cpu/addon.cc; a stale build is refused rather than misread. */
const ABI = 1;

type Arr = TypedArray;

/** The functions native/cpu exports (see the binding comments there for each P layout). */
export interface Addon {
  readonly abi: number;
  readonly isa: string;
  init(p: Float64Array): void;
  numThreads(): number;
  setNumThreads(n: number): void;
  /** Where a typed array's memory starts, modulo 64 (absent from builds before it existed). */
  misalign?(view: Uint8Array): number;
  gemm(a: Arr, b: Arr, out: Arr, bias?: Arr): void;
  unary(x: Arr, out: Arr): void;
  binary(a: Arr, b: Arr, out: Arr): void;
  where(c: Arr, a: Arr, b: Arr, out: Arr): void;
  maskedFill(x: Arr, mask: Arr, out: Arr): void;
  copy(x: Arr, out: Arr): void;
  cast(x: Arr, out: Arr): void;
  [kernel: string]: any;
}

/** The parameter buffer shared with the addon. */
export const P = new Float64Array(4096);

/** The loaded addon; only valid after loadNative() returned true. */
export let native: Addon = undefined as unknown as Addon;

let state: "unloaded" | "loaded" | "failed" = "unloaded";
let failure = "";

/** Where the addon is: INGOT_NATIVE_PATH (tests point it elsewhere), else build/Release in the package root. */
function addonPath(): string {
  return process.env.INGOT_NATIVE_PATH?.trim() || fileURLToPath(new URL("../../../../build/Release/ingot_cpu.node", import.meta.url));
}

/**
 * Loads the addon once. On failure prints one line (why, and how to build it) and returns false,
 * so Ingot runs on the reference backend.
 */
export function loadNative(): boolean {
  if (state !== "unloaded") return state === "loaded";
  const path = addonPath();
  try {
    const m = createRequire(import.meta.url)(path) as Addon;
    if (typeof m?.abi !== "number") throw new Error(`${path} is not an Ingot native addon`);
    if (m.abi !== ABI) throw new Error(`${path} was built by another Ingot version (abi ${m.abi}, expected ${ABI}); rebuild it`);
    m.init(P);
    native = m;
    state = "loaded";
    // From now on tensor buffers start on cache lines (tensor/dtype.ts, "Alignment").
    if (typeof m.misalign === "function") setAddressProbe(m.misalign.bind(m));
    return true;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    failure = err.code === "MODULE_NOT_FOUND" ? `${path} is missing` : String(err.message ?? err).split("\n")[0];
    state = "failed";
    process.stderr.write(
      `ingot: the native CPU backend is not available (${failure}); running on the slower reference backend. Build it with \`npm rebuild ingot\`.\n`,
    );
    return false;
  }
}

/** Whether the addon loaded, its instruction set and thread count, or why it did not load. */
export function nativeInfo(): { loaded: boolean; isa?: string; threads?: number; error?: string } {
  if (state === "loaded") return { loaded: true, isa: native.isa, threads: native.numThreads() };
  return { loaded: false, error: state === "failed" ? failure : "not loaded yet" };
}

/** dtype codes of native/cpu (enum DT in ew.h). */
export const DT: Partial<Record<DType, number>> = { float32: 0, int32: 1, bool: 2, float64: 3 };

/** Writes [offset, ...strides] of t read as `shape` (broadcast dims get stride 0) at P[i]; returns the next index. */
export function putStrides(i: number, t: Tensor, shape: readonly number[]): number {
  P[i++] = t.offset;
  const nd = shape.length;
  const off = nd - t.ndim;
  for (let d = 0; d < nd; d++) P[i++] = d < off || t.shape[d - off] !== shape[d] ? 0 : t.strides[d - off];
  return i;
}

/** Writes a view [offset, ndim, ...shape, ...strides] at P[i]; returns the next index. */
export function putView(i: number, t: Tensor): number {
  P[i++] = t.offset;
  P[i++] = t.ndim;
  for (let d = 0; d < t.ndim; d++) P[i++] = t.shape[d];
  for (let d = 0; d < t.ndim; d++) P[i++] = t.strides[d];
  return i;
}

/**
 * Writes the elementwise header [op, dtypeIn, dtypeOut, nin, nd, ...shape, outOffset,
 * (offset, ...strides) per input] with the inputs broadcast to out's shape; returns the next index.
 */
export function putElementwise(op: number, inputs: readonly Tensor[], out: Tensor, dtypeIn: DType = inputs[0].dtype): number {
  let i = 0;
  P[i++] = op;
  P[i++] = DT[dtypeIn] ?? -1;
  P[i++] = DT[out.dtype] ?? -1;
  P[i++] = inputs.length;
  const shape = out.shape;
  P[i++] = shape.length;
  for (let d = 0; d < shape.length; d++) P[i++] = shape[d];
  P[i++] = out.offset;
  for (const t of inputs) i = putStrides(i, t, shape);
  return i;
}
