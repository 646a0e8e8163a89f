// Creating tensors: from data, filled, ranges, identity, and random (from the seeded generator).
import {
  allocArray,
  checkShape,
  defaultGenerator,
  DTypeError,
  dtypeInfo,
  dtypeOfArray,
  type DType,
  type Generator,
  ShapeError,
  sizeOf,
  Storage,
  Tensor,
  type TypedArray,
  ValueError,
} from "../tensor/index.js";

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

type NestedNumbers = number | boolean | readonly NestedNumbers[];

function fromData(data: ArrayLike<number>, shape: number[], dtype: DType, requiresGrad = false): Tensor {
  const arr = allocArray(dtype, sizeOf(shape));
  if (!dtypeInfo(dtype).computable) throw new DTypeError(`tensor: dtype ${dtype} is storage-only; create a float32 tensor and quantize it`);
  if (dtype === "bool") for (let i = 0; i < arr.length; i++) arr[i] = data[i] ? 1 : 0;
  else arr.set(data as ArrayLike<number>);
  const t = new Tensor(new Storage(dtype, arr), shape);
  if (requiresGrad) t.requiresGrad_();
  return t;
}

function inferNested(data: NestedNumbers): { shape: number[]; flat: number[]; allBool: boolean; allInt: boolean } {
  const shape: number[] = [];
  let probe: NestedNumbers = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const flat: number[] = [];
  let allBool = true;
  let allInt = true;
  const walk = (x: NestedNumbers, d: number, path: string): void => {
    if (d === shape.length) {
      if (Array.isArray(x)) throw new ShapeError(`tensor: ragged nested array at ${path}: expected a number, got an array`);
      if (typeof x === "boolean") flat.push(x ? 1 : 0);
      else if (typeof x === "number") {
        allBool = false;
        if (!Number.isInteger(x)) allInt = false;
        flat.push(x);
      } else throw new ValueError(`tensor: element at ${path} is ${typeof x}; expected a number or boolean`);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[d])
      throw new ShapeError(`tensor: ragged nested array at ${path}: expected ${shape[d]} elements, got ${Array.isArray(x) ? x.length : "a number"}`);
    x.forEach((y, i) => walk(y, d + 1, `${path}[${i}]`));
  };
  walk(data, 0, "data");
  return { shape, flat, allBool: allBool && flat.length > 0, allInt };
}

/**
 * A tensor from nested arrays, a flat typed array, or a number. The dtype is float32 unless given
 * (bool for nested booleans, the array's own for typed arrays other than Float64Array).
 * @example tensor([[1, 2], [3, 4]]) // shape [2, 2], float32
 */
export function tensor(data: NestedNumbers | TypedArray | ArrayLike<number>, opts: TensorOptions & { shape?: number[] } = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const arr = data as TypedArray;
    const shape = opts.shape ? checkShape("tensor", opts.shape) : [arr.length];
    if (sizeOf(shape) !== arr.length)
      throw new ShapeError(`tensor: shape ${JSON.stringify(shape)} needs ${sizeOf(shape)} values but the array has ${arr.length}`);
    const dtype = opts.dtype ?? (arr instanceof Float64Array ? "float32" : dtypeOfArray(arr));
    return fromData(arr, shape, dtype, opts.requiresGrad);
  }
  const { shape, flat, allBool } = inferNested(data as NestedNumbers);
  const dtype = opts.dtype ?? (allBool ? "bool" : "float32");
  const s = opts.shape ? checkShape("tensor", opts.shape) : shape;
  if (sizeOf(s) !== flat.length) throw new ShapeError(`tensor: shape ${JSON.stringify(s)} needs ${sizeOf(s)} values but data has ${flat.length}`);
  return fromData(flat, s, dtype, opts.requiresGrad);
}

type ShapeArg = number | readonly number[];

function splitArgs<O>(op: string, args: (ShapeArg | O | undefined)[]): { shape: number[]; opts: O } {
  const nums: number[] = [];
  let opts = {} as O;
  for (const a of args) {
    if (a === undefined) continue;
    if (typeof a === "number") nums.push(a);
    else if (Array.isArray(a)) nums.push(...(a as number[]));
    else opts = a as O;
  }
  return { shape: checkShape(op, nums), opts };
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number | boolean, opts: TensorOptions = {}): Tensor {
  const s = checkShape("full", shape);
  const v = typeof value === "boolean" ? (value ? 1 : 0) : value;
  const dtype = opts.dtype ?? (typeof value === "boolean" ? "bool" : "float32");
  const arr = allocArray(dtype, sizeOf(s));
  if (v !== 0) arr.fill(v);
  const t = new Tensor(new Storage(dtype, arr), s);
  if (opts.requiresGrad) t.requiresGrad_();
  return t;
}

/** Zeros: `zeros([2, 3])` or `zeros(2, 3)`, with optional `{dtype, requiresGrad}` last. */
export function zeros(...args: (ShapeArg | TensorOptions)[]): Tensor {
  const { shape, opts } = splitArgs<TensorOptions>("zeros", args);
  return full(shape, 0, opts);
}

/** Ones: `ones([2, 3])` or `ones(2, 3)`. */
export function ones(...args: (ShapeArg | TensorOptions)[]): Tensor {
  const { shape, opts } = splitArgs<TensorOptions>("ones", args);
  return full(shape, 1, opts);
}

export function zerosLike(x: Tensor, opts: TensorOptions = {}): Tensor {
  return full(x.shape, 0, { dtype: x.dtype, ...opts });
}
export function onesLike(x: Tensor, opts: TensorOptions = {}): Tensor {
  return full(x.shape, 1, { dtype: x.dtype, ...opts });
}
export function fullLike(x: Tensor, value: number, opts: TensorOptions = {}): Tensor {
  return full(x.shape, value, { dtype: x.dtype, ...opts });
}

/**
 * Values from start (inclusive) to end (exclusive) by step: `arange(5)`, `arange(1, 4)`, `arange(0, 1, 0.25)`.
 * int32 when every argument is an integer, else float32.
 */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new ValueError(`arange: step must be a non-zero finite number, got ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = opts.dtype ?? (Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step) ? "int32" : "float32");
  const arr = allocArray(dtype, n);
  for (let i = 0; i < n; i++) arr[i] = start + i * step;
  const t = new Tensor(new Storage(dtype, arr), [n]);
  if (opts.requiresGrad) t.requiresGrad_();
  return t;
}

/** `steps` evenly spaced values from start to end, both included. */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new ValueError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const dtype = opts.dtype ?? "float32";
  const arr = allocArray(dtype, steps);
  const d = steps > 1 ? (end - start) / (steps - 1) : 0;
  // NOTE: fill from both ends (as PyTorch does) so the last value is exactly `end`.
  for (let i = 0; i < steps; i++) arr[i] = i < steps / 2 ? start + i * d : end - (steps - 1 - i) * d;
  return new Tensor(new Storage(dtype, arr), [steps]);
}

/** Identity matrix n×m (m defaults to n). */
export function eye(n: number, m = n, opts: TensorOptions = {}): Tensor {
  const t = zeros([n, m], { dtype: opts.dtype });
  const d = t.storage.data;
  for (let i = 0; i < Math.min(n, m); i++) d[i * m + i] = 1;
  if (opts.requiresGrad) t.requiresGrad_();
  return t;
}

function randomTensor(op: string, args: (ShapeArg | RandomOptions)[], draw: (g: Generator) => number): Tensor {
  const { shape, opts } = splitArgs<RandomOptions>(op, args);
  const dtype = opts.dtype ?? "float32";
  if (dtype !== "float32" && dtype !== "float64") throw new DTypeError(`${op}: dtype must be float32 or float64, got ${dtype}`);
  const g = opts.generator ?? defaultGenerator;
  const arr = allocArray(dtype, sizeOf(shape));
  for (let i = 0; i < arr.length; i++) arr[i] = draw(g);
  const t = new Tensor(new Storage(dtype, arr), shape);
  if (opts.requiresGrad) t.requiresGrad_();
  return t;
}

/** Uniform in [0, 1): `rand([2, 3])` or `rand(2, 3)`. */
export function rand(...args: (ShapeArg | RandomOptions)[]): Tensor {
  return randomTensor("rand", args, (g) => g.random());
}

/** Standard normal: `randn([2, 3])` or `randn(2, 3)`. */
export function randn(...args: (ShapeArg | RandomOptions)[]): Tensor {
  return randomTensor("randn", args, (g) => g.normal());
}

/** Integers uniform in [low, high), int32: `randint(0, 10, [3])`. */
export function randint(low: number, high: number, shape: readonly number[], opts: RandomOptions = {}): Tensor {
  if (!(high > low)) throw new ValueError(`randint: high (${high}) must be greater than low (${low})`);
  const s = checkShape("randint", shape);
  const dtype = opts.dtype ?? "int32";
  const g = opts.generator ?? defaultGenerator;
  const arr = allocArray(dtype, sizeOf(s));
  for (let i = 0; i < arr.length; i++) arr[i] = g.int(low, high);
  return new Tensor(new Storage(dtype, arr), s);
}

export function randLike(x: Tensor, opts: RandomOptions = {}): Tensor {
  return rand([...x.shape], { dtype: x.dtype, ...opts });
}
export function randnLike(x: Tensor, opts: RandomOptions = {}): Tensor {
  return randn([...x.shape], { dtype: x.dtype, ...opts });
}
export function randintLike(x: Tensor, low: number, high: number, opts: RandomOptions = {}): Tensor {
  return randint(low, high, x.shape, opts);
}

/** A random permutation of 0..n-1 (int32), like torch.randperm. */
export function randperm(n: number, opts: RandomOptions = {}): Tensor {
  const g = opts.generator ?? defaultGenerator;
  const arr = new Int32Array(n);
  for (let i = 0; i < n; i++) arr[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = g.int(0, i + 1);
    const tmp = arr[i];
    arr[i] = arr[j];
    arr[j] = tmp;
  }
  return new Tensor(new Storage("int32", arr), [n]);
}
