// The op record and the one dispatch path every op goes through:
//   meta (checks + output shapes) → kernel of the current backend (or the decomposition)
//   → autograd record. Autograd sits above dispatch, so every backend gets backward for free.
import {
  allocArray,
  allocArrayUninit,
  AutogradError,
  BackendError,
  ShapeError,
  type DType,
  isFloatDType,
  shapeStr,
  sizeOf,
  Storage,
  Tensor,
} from "../tensor/index.js";
import { findKernel, requireKernel } from "../backend/registry.js";
import { getBackend } from "../backend/current.js";
import { isGradEnabled } from "../autograd/grad-mode.js";
import { Node, type GradRegion, type GradRule } from "../autograd/node.js";
import type { OpCase } from "./cases.js";
import { profilerHooks } from "../profiler/hooks.js";

export interface OutputSpec {
  shape: number[];
  dtype: DType;
}

export interface ViewSpec {
  shape: number[];
  strides: number[];
  offset: number;
}

export interface OpDef<A = any> {
  readonly name: string;
  /** Validates inputs and attributes and infers every output; throws typed errors before any kernel runs. */
  meta(inputs: Tensor[], attrs: A): OutputSpec[];
  /** The dtype that selects the kernel; default: the first input's, else the first output's. */
  kernelDType?(inputs: Tensor[], attrs: A): DType;
  /** Gradient of the first output w.r.t. each input, written with other ops. */
  grad?: GradRule<A>;
  /**
   * For one-input ops whose gradient is g scattered into zeros of the input's shape (slice): the
   * region of `acc` (a contiguous tensor of the input's shape) that g lands in, as a view. Backward
   * then adds g into an accumulator in place instead of materializing the scattered gradient.
   */
  gradRegion?: GradRegion<A>;
  /** Composite ops: the op written with other ops, used when the backend has no fused kernel. */
  decompose?(inputs: Tensor[], attrs: A): Tensor;
  /** View ops: the new shape/strides/offset over the input's storage (no kernel, no copy). */
  view?(input: Tensor, attrs: A): ViewSpec;
  /** Conformance cases (run on every backend, compared with ref in float64, gradients by finite differences). */
  cases?: OpCase[];
}

const ops = new Map<string, OpDef>();

/** Registers an op record; every op has exactly one. */
export function defineOp<A>(def: OpDef<A>): OpDef<A> {
  if (ops.has(def.name)) throw new Error(`defineOp: op '${def.name}' is defined twice`);
  ops.set(def.name, def as OpDef);
  return def;
}

export function getOp(name: string): OpDef | undefined {
  return ops.get(name);
}

/** Every op record, in definition order. */
export function allOps(): OpDef[] {
  return [...ops.values()];
}

function newTensor(spec: OutputSpec): Tensor {
  return new Tensor(new Storage(spec.dtype, allocArray(spec.dtype, sizeOf(spec.shape))), spec.shape);
}

function newTensorUninit(spec: OutputSpec): Tensor {
  return new Tensor(new Storage(spec.dtype, allocArrayUninit(spec.dtype, sizeOf(spec.shape))), spec.shape);
}

let contiguousOp: OpDef | undefined;
function makeContiguous(t: Tensor): Tensor {
  if (t.isContiguous()) return t;
  contiguousOp ??= ops.get("copy");
  return runOp(contiguousOp!, [t], {});
}

/**
 * Runs an op: the single entry point that user functions call. Returns the first output; further
 * outputs are saved for the gradient rule only.
 */
export function runOp<A>(op: OpDef<A>, inputs: Tensor[], attrs: A): Tensor {
  return runOpMulti(op, inputs, attrs)[0];
}

/**
 * Like runOp but returns every output. Autograd differentiates the first output only, so ops with
 * several results that need gradients (none yet) would be split; backward ops (layerNormBackward
 * returning dx, dw, db) use this inside gradient rules, where nothing is recorded.
 */
export function runOpMulti<A>(op: OpDef<A>, inputs: Tensor[], attrs: A): Tensor[] {
  // The profiler (src/profiler) times the call when it runs; otherwise this is one null check.
  const hook = profilerHooks.op;
  if (hook === null) return dispatchMulti(op, inputs, attrs);
  return hook({ name: op.name, inputs, attrs, view: !!op.view, inplace: false }, () => dispatchMulti(op, inputs, attrs));
}

function dispatchMulti<A>(op: OpDef<A>, inputs: Tensor[], attrs: A): Tensor[] {
  const specs = op.meta(inputs, attrs);
  for (const t of inputs)
    if (t.device !== "cpu")
      throw new BackendError(`${op.name}: tensors on device '${t.device}' are not supported by this build`);
  const needGrad = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  let outputs: Tensor[];
  if (op.view) {
    const src = inputs[0];
    const v = op.view(src, attrs);
    const out = new Tensor(src.storage, v.shape, v.strides, v.offset);
    out.base = src.base ?? src;
    outputs = [out];
  } else {
    const backend = getBackend();
    const dtype = op.kernelDType ? op.kernelDType(inputs, attrs) : (inputs[0]?.dtype ?? specs[0].dtype);
    const kernel = findKernel(op.name, backend, dtype);
    if (op.decompose && (!kernel || (needGrad && !op.grad))) {
      const out = op.decompose(inputs, attrs);
      checkSpec(op.name, out, specs[0]);
      return [out];
    }
    const k = kernel ?? requireKernel(op.name, backend, dtype);
    outputs = specs.map(k.overwrites ? newTensorUninit : newTensor);
    k.fn(k.contiguous ? inputs.map(makeContiguous) : inputs, outputs, attrs);
  }
  const out = outputs[0];
  if (needGrad && op.grad && isFloatDType(out.dtype)) {
    out.gradFn = new Node(op.name, op.grad, inputs, outputs, attrs, op.gradRegion);
    out.requiresGrad = true;
  }
  return outputs;
}

/**
 * Runs an in-place op: its kernel writes into inputs[0] (meta returns no outputs). Used for
 * optimizer updates, running statistics and `copy_`; never recorded by autograd, so it refuses a
 * tensor that requires grad while grad mode is on (as PyTorch does for leaves).
 */
export function runInplace<A>(op: OpDef<A>, inputs: Tensor[], attrs: A): Tensor {
  const hook = profilerHooks.op;
  if (hook === null) return dispatchInplace(op, inputs, attrs);
  return hook({ name: op.name, inputs, attrs, view: false, inplace: true }, () => [dispatchInplace(op, inputs, attrs)])[0];
}

function dispatchInplace<A>(op: OpDef<A>, inputs: Tensor[], attrs: A): Tensor {
  op.meta(inputs, attrs);
  const dst = inputs[0];
  if (isGradEnabled() && dst.requiresGrad)
    throw new AutogradError(
      `${op.name}: a tensor that requires grad cannot be modified in place while gradients are recorded; wrap the update in noGrad(() => …)`,
    );
  if (!dst.isContiguous()) throw new ShapeError(`${op.name}: the destination must be contiguous, got strides ${shapeStr(dst.strides)}`);
  const backend = getBackend();
  const k = requireKernel(op.name, backend, op.kernelDType ? op.kernelDType(inputs, attrs) : dst.dtype);
  k.fn(k.contiguous ? [dst, ...inputs.slice(1).map(makeContiguous)] : inputs, [], attrs);
  return dst;
}

function checkSpec(name: string, t: Tensor, spec: OutputSpec): void {
  if (t.dtype !== spec.dtype || shapeStr(t.shape) !== shapeStr(spec.shape))
    throw new BackendError(
      `${name}: decomposition produced ${t.dtype}${shapeStr(t.shape)} but meta inferred ${spec.dtype}${shapeStr(spec.shape)} (an Ingot bug; please report)`,
    );
}
