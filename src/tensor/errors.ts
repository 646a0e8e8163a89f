// Typed errors. Every message names the op (or function), what it got, and what it expected.

/** Base class of every error Ingot throws on purpose. */
export class IngotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit together: `matmul: inner dimensions differ: a is [2,3], b is [4,5]`. */
export class ShapeError extends IngotError {}

/** A dtype the op does not accept, or two dtypes that cannot be combined. */
export class DTypeError extends IngotError {}

/** A bad argument that is not a shape or dtype: an axis out of range, a negative size, a bad option. */
export class ValueError extends IngotError {}

/** An index out of range in gather, indexSelect, embedding, crossEntropy targets and the like. */
export class IndexError extends IngotError {}

/** No kernel for (op, backend, dtype), a backend that failed to load, or a backend-level failure. */
export class BackendError extends IngotError {}

/** Autograd misuse: backward through a freed graph, backward of a non-scalar without a gradient, … */
export class AutogradError extends IngotError {}
