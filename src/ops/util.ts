// Small helpers shared by op definitions: scalar → tensor, dtype checks, and attaching methods.
import {
  DTypeError,
  type DType,
  allocArray,
  isFloatDType,
  Storage,
  Tensor,
} from "../tensor/index.js";

/** A tensor or a plain number/boolean that acts as a 0-d tensor. */
export type TensorLike = Tensor | number | boolean;

/**
 * Turns a scalar into a 0-d tensor whose dtype follows `like` (PyTorch's weak scalar typing):
 * a float scalar with an int tensor gives float32, otherwise the tensor's dtype.
 */
export function asTensor(x: TensorLike, like?: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  const v = typeof x === "boolean" ? (x ? 1 : 0) : x;
  let dtype: DType;
  if (typeof x === "boolean") dtype = like ? like.dtype : "bool";
  else if (!like) dtype = Number.isInteger(v) ? "int32" : "float32";
  else if (isFloatDType(like.dtype)) dtype = like.dtype;
  else dtype = Number.isInteger(v) ? (like.dtype === "bool" ? "int32" : like.dtype) : "float32";
  return scalar(v, dtype);
}

export function scalar(v: number, dtype: DType = "float32"): Tensor {
  const data = allocArray(dtype, 1);
  data[0] = v;
  return new Tensor(new Storage(dtype, data), []);
}

/** Throws a DTypeError unless dtype is in the allowed list. */
export function checkDType(op: string, what: string, dtype: DType, allowed: readonly DType[]): void {
  if (!allowed.includes(dtype))
    throw new DTypeError(`${op}: ${what} has dtype ${dtype}; expected ${allowed.join(" or ")}`);
}

export const FLOATS: readonly DType[] = ["float32", "float64"];
export const NUMERIC: readonly DType[] = ["float32", "float64", "int32"];
export const ALL_PLAIN: readonly DType[] = ["float32", "float64", "int32", "bool"];

/** Attaches `x.name(...args)` to Tensor, calling `fn(x, ...args)`. Types are declared by the op file. */
export function method(name: string, fn: (self: Tensor, ...args: any[]) => unknown): void {
  Object.defineProperty(Tensor.prototype, name, {
    value: function (this: Tensor, ...args: unknown[]) {
      return fn(this, ...args);
    },
    writable: true,
    configurable: true,
  });
}
