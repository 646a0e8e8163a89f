// The kernel registry: kernels are registered by (op, backend, dtype). A backend may declare that it
// inherits another backend's kernels (the native CPU backend inherits `ref` for ops it does not
// accelerate); that choice is explicit and visible in `describeKernels()`, never a silent fallback.
import { BackendError, type DType, type Tensor } from "../tensor/index.js";

/**
 * A kernel reads its inputs (any strides and offset unless registered with `contiguous: true`)
 * and writes its outputs, which the dispatcher allocated contiguous with the shapes and dtypes
 * the op's `meta` inferred.
 */
export type Kernel<A = any> = (inputs: Tensor[], outputs: Tensor[], attrs: A) => void;

export interface KernelOptions {
  /** The dispatcher makes inputs contiguous before calling the kernel. */
  contiguous?: boolean;
  /**
   * The kernel writes every element of every output, so the dispatcher hands it uninitialized
   * memory instead of zero-filled memory. The conformance suite runs with such outputs poisoned
   * (NaN), so a kernel that relies on zeros fails there.
   */
  overwrites?: boolean;
}

export interface KernelEntry {
  readonly fn: Kernel;
  readonly contiguous: boolean;
  readonly overwrites: boolean;
  readonly backend: string;
}

export interface BackendInfo {
  readonly name: string;
  /** Kernels not registered for this backend are taken from this one (declared, not guessed). */
  readonly inherits?: string;
  /** The device whose storage this backend's kernels read and write. */
  readonly device: "cpu" | "cuda";
}

const backends = new Map<string, BackendInfo>();
const kernels = new Map<string, KernelEntry>();

const key = (op: string, backend: string, dtype: DType) => `${op}\u0000${backend}\u0000${dtype}`;

// findKernel's answers by op, backend and dtype: nested maps keyed by the (interned) name strings,
// so a dispatch builds and hashes no key string. Cleared whenever a kernel or backend is registered.
const resolved = new Map<string, Map<string, Map<DType, KernelEntry | null>>>();

export function registerBackend(info: BackendInfo): void {
  backends.set(info.name, info);
  resolved.clear();
}

export function getBackendInfo(name: string): BackendInfo | undefined {
  return backends.get(name);
}

export function registeredBackends(): string[] {
  return [...backends.keys()];
}

/** Registers `fn` as the kernel of `op` on `backend` for each dtype listed. */
export function registerKernel<A>(op: string, backend: string, dtypes: readonly DType[], fn: Kernel<A>, opts: KernelOptions = {}): void {
  for (const d of dtypes) kernels.set(key(op, backend, d), { fn, contiguous: opts.contiguous ?? false, overwrites: opts.overwrites ?? false, backend });
  resolved.clear();
}

/** The kernel for (op, backend, dtype), following declared inheritance; undefined when none. */
export function findKernel(op: string, backend: string, dtype: DType): KernelEntry | undefined {
  let byBackend = resolved.get(op);
  if (!byBackend) resolved.set(op, (byBackend = new Map()));
  let byDType = byBackend.get(backend);
  if (!byDType) byBackend.set(backend, (byDType = new Map()));
  let k = byDType.get(dtype);
  if (k === undefined) byDType.set(dtype, (k = lookup(op, backend, dtype) ?? null));
  return k ?? undefined;
}

function lookup(op: string, backend: string, dtype: DType): KernelEntry | undefined {
  let b: string | undefined = backend;
  while (b) {
    const k = kernels.get(key(op, b, dtype));
    if (k) return k;
    b = backends.get(b)?.inherits;
  }
  return undefined;
}

/** Like findKernel, but a missing kernel is a BackendError naming op, backend and dtype. */
export function requireKernel(op: string, backend: string, dtype: DType): KernelEntry {
  const k = findKernel(op, backend, dtype);
  if (!k) {
    const have = [...kernels.keys()]
      .map((s) => s.split("\u0000"))
      .filter(([o, b]) => o === op && (b === backend || b === backends.get(backend)?.inherits))
      .map(([, , d]) => d);
    throw new BackendError(
      `${op}: no kernel for dtype ${dtype} on backend '${backend}'` +
        (have.length ? ` (it has ${[...new Set(have)].join(", ")}); convert with .to('${have[0]}')` : ""),
    );
  }
  return k;
}

/** Lists (op, dtype) → backend that serves it, for a backend; used by docs and tests. */
export function describeKernels(backend: string): { op: string; dtype: DType; from: string }[] {
  const out: { op: string; dtype: DType; from: string }[] = [];
  const seen = new Set<string>();
  for (const k of kernels.keys()) {
    const [op, , dtype] = k.split("\u0000") as [string, string, DType];
    const id = `${op}/${dtype}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const e = findKernel(op, backend, dtype);
    if (e) out.push({ op, dtype, from: e.backend });
  }
  return out.sort((a, b) => a.op.localeCompare(b.op) || a.dtype.localeCompare(b.dtype));
}
