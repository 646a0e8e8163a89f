// In-place updates (the kernel writes into the first input): copy_, add_, and the helpers optimizers use.
import { broadcastShapes, DTypeError, isFloatDType, shapeStr, ShapeError, type Tensor } from "../tensor/index.js";
import { defineOp, runInplace } from "./op.js";
import { method, type TensorLike, asTensor } from "./util.js";
import { to } from "./view.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    /** Writes src's values (broadcast, converted to this dtype) into this tensor; returns this. */
    copy_(src: TensorLike): Tensor;
    /** Adds src (broadcast, converted to this dtype) into this tensor; returns this. */
    add_(src: TensorLike): Tensor;
  }
}

/** An in-place op `name` whose source is broadcast to the destination's shape (no outputs). */
function broadcastInto(name: string) {
  return defineOp<{}>({
    name,
    meta([dst, src]) {
      const s = broadcastShapes(name, dst.shape, src.shape);
      if (shapeStr(s) !== shapeStr(dst.shape))
        throw new ShapeError(`${name}: a source of shape ${shapeStr(src.shape)} cannot be broadcast to the destination's ${shapeStr(dst.shape)}`);
      return [];
    },
  });
}

const copyInto = broadcastInto("copy_");

/** dst ← src (broadcast, converted to dst's dtype), in place. */
export function copy_(dst: Tensor, src: TensorLike): Tensor {
  return runInplace(copyInto, [dst, to(asTensor(src, dst), dst.dtype)], {});
}

const addInto = broadcastInto("add_");

/**
 * dst ← dst + src (src broadcast and converted to dst's dtype), in place, like torch's `add_`; as
 * there, a float source into an integer tensor is an error.
 * dst must be contiguous (it may be a contiguous view, e.g. one block of a larger tensor); src must
 * not overlap dst except element for element.
 */
export function add_(dst: Tensor, src: TensorLike): Tensor {
  const s = asTensor(src, dst);
  if (isFloatDType(s.dtype) && !isFloatDType(dst.dtype))
    throw new DTypeError(`add_: a ${s.dtype} source cannot be added in place into a ${dst.dtype} tensor (the sum would not fit its dtype); use add(), which promotes, or convert the source first`);
  return runInplace(addInto, [dst, to(s, dst.dtype)], {});
}

method("copy_", copy_);
method("add_", add_);
