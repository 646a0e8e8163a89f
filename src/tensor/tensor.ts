// The Tensor: shape, strides, offset, dtype and a storage handle, plus the autograd fields.
// Math methods (x.add(y), x.matmul(w), …) are attached by src/ops, which defines every op.
import { allocArray, type DType, type TypedArray } from "./dtype.js";
import { IngotError, ValueError } from "./errors.js";
import { contiguousStrides, shapeStr, sizeOf, type Shape } from "./shape.js";
import { Storage } from "./storage.js";
import { formatTensor } from "./format.js";

/** The autograd record of the op that produced a tensor; defined by src/autograd. */
export interface GradNode {
  readonly name: string;
}

let nextId = 1;

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  /** Whether gradients are tracked for this tensor. Set with `requiresGrad_()`. */
  requiresGrad = false;
  /** Accumulated gradient after `backward()`, for leaves that require grad. */
  grad: Tensor | null = null;
  /** The op record that produced this tensor (null for leaves). */
  gradFn: GradNode | null = null;
  /** For views: the tensor whose storage this one shares (PyTorch's `._base`). */
  base: Tensor | null = null;

  constructor(
    public storage: Storage,
    shape: Shape,
    strides?: readonly number[],
    offset = 0,
  ) {
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
  }

  get dtype(): DType {
    return this.storage.dtype;
  }
  get device(): string {
    return this.storage.device;
  }
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of elements (PyTorch's `numel()`). */
  get size(): number {
    return sizeOf(this.shape);
  }
  numel(): number {
    return this.size;
  }
  dim(): number {
    return this.shape.length;
  }

  /** True when elements lie in row-major order without gaps (offset may be non-zero). */
  isContiguous(): boolean {
    let acc = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== acc) return false;
      acc *= this.shape[i];
    }
    return true;
  }

  /**
   * The values as a typed array in row-major order. For a contiguous tensor this is a view of
   * the storage (no copy), like PyTorch's `.numpy()`; otherwise a fresh copy.
   */
  dataSync(): TypedArray {
    const data = this.storage.data;
    const n = this.size;
    if (this.isContiguous()) {
      if (this.offset === 0 && data.length === n) return data;
      return data.subarray(this.offset, this.offset + n) as TypedArray;
    }
    const out = allocArray(this.dtype, n);
    const nd = this.shape.length;
    const idx = new Array<number>(nd).fill(0);
    let src = this.offset;
    for (let i = 0; i < n; i++) {
      out[i] = data[src];
      for (let d = nd - 1; d >= 0; d--) {
        idx[d]++;
        src += this.strides[d];
        if (idx[d] < this.shape[d]) break;
        src -= this.strides[d] * this.shape[d];
        idx[d] = 0;
      }
    }
    return out;
  }

  /** Values as plain numbers in row-major order. */
  toFlatArray(): number[] {
    return Array.from(this.dataSync() as ArrayLike<number>);
  }

  /** Nested arrays of numbers (booleans for bool tensors), like `tensor.tolist()`. */
  toArray(): unknown {
    const flat = this.dataSync();
    const asBool = this.dtype === "bool";
    if (this.shape.length === 0) return asBool ? flat[0] !== 0 : flat[0];
    let pos = 0;
    const build = (d: number): unknown[] => {
      const out: unknown[] = [];
      for (let i = 0; i < this.shape[d]; i++) {
        if (d === this.shape.length - 1) {
          const v = flat[pos++];
          out.push(asBool ? v !== 0 : v);
        } else out.push(build(d + 1));
      }
      return out;
    };
    return build(0);
  }

  /** The value of a one-element tensor as a number. */
  item(): number {
    if (this.size !== 1)
      throw new ValueError(`item: only a one-element tensor can be converted to a number, this one has shape ${shapeStr(this.shape)}`);
    return this.storage.data[this.offset];
  }

  toString(): string {
    return formatTensor(this);
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /** Marks this leaf tensor as requiring gradients (in place), like `x.requires_grad_()`. */
  requiresGrad_(flag = true): this {
    if (flag && !(this.dtype === "float32" || this.dtype === "float64"))
      throw new IngotError(`requiresGrad_: only floating-point tensors can require gradients, this one is ${this.dtype}`);
    if (this.gradFn && !flag) throw new IngotError("requiresGrad_: cannot turn off gradients of a non-leaf tensor; use detach()");
    this.requiresGrad = flag;
    return this;
  }

  /** True when no op recorded this tensor (a leaf of the graph). */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
}
