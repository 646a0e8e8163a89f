// Shared machinery for elementwise ops: meta for unary/binary ops with broadcasting and PyTorch's
// type promotion, and the call helpers that turn scalars into tensors.
import { broadcastShapes, type DType, promoteTypes, type Tensor } from "../tensor/index.js";
import { defineOp, runOp, type OpDef } from "./op.js";
import type { GradRule } from "../autograd/node.js";
import type { OpCase } from "./cases.js";
import { asTensor, checkDType, type TensorLike } from "./util.js";
import { to } from "./view.js";

export interface ElementwiseSpec<A = {}> {
  name: string;
  /** Input dtypes accepted (after promotion). */
  dtypes: readonly DType[];
  /** Output dtype from the (promoted) input dtype; default the same. */
  outDType?: (d: DType) => DType;
  grad?: GradRule<A>;
  decompose?: (inputs: Tensor[], attrs: A) => Tensor;
  cases?: OpCase[];
}

/** Defines a unary elementwise op: output has the input's shape. */
export function unaryOp<A = {}>(spec: ElementwiseSpec<A>): OpDef<A> {
  return defineOp<A>({
    name: spec.name,
    meta([x]) {
      checkDType(spec.name, "input", x.dtype, spec.dtypes);
      return [{ shape: [...x.shape], dtype: spec.outDType ? spec.outDType(x.dtype) : x.dtype }];
    },
    grad: spec.grad,
    decompose: spec.decompose,
    cases: spec.cases,
  });
}

/** Defines a binary elementwise op with NumPy broadcasting; both inputs arrive with one dtype. */
export function binaryOp<A = {}>(spec: ElementwiseSpec<A>): OpDef<A> {
  return defineOp<A>({
    name: spec.name,
    meta([a, b]) {
      checkDType(spec.name, "input", a.dtype, spec.dtypes);
      const shape = broadcastShapes(spec.name, a.shape, b.shape);
      return [{ shape, dtype: spec.outDType ? spec.outDType(a.dtype) : a.dtype }];
    },
    grad: spec.grad,
    decompose: spec.decompose,
    cases: spec.cases,
  });
}

/** Promotes a pair (scalars adopt the tensor's dtype) and converts both to the common dtype. */
export function promotePair(a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const ta = asTensor(a, typeof b === "object" ? b : undefined);
  const tb = asTensor(b, ta);
  const d = promoteTypes(ta.dtype, tb.dtype);
  return [to(ta, d), to(tb, d)];
}

/** Runs a binary op on promoted operands. */
export function callBinary<A>(op: OpDef<A>, a: TensorLike, b: TensorLike, attrs = {} as A): Tensor {
  const [x, y] = promotePair(a, b);
  return runOp(op, [x, y], attrs);
}
