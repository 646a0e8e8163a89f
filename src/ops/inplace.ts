// In-place updates (the kernel writes into the first input): copy_, and the helpers optimizers use.
import { broadcastShapes, shapeStr, ShapeError, type Tensor } from "../tensor/index.js";
import { defineOp, runInplace } from "./op.js";
import { method, type TensorLike, asTensor } from "./util.js";
import { to } from "./view.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    /** Writes src's values (broadcast, converted to this dtype) into this tensor; returns this. */
    copy_(src: TensorLike): Tensor;
  }
}

const copyInto = defineOp<{}>({
  name: "copy_",
  meta([dst, src]) {
    const s = broadcastShapes("copy_", dst.shape, src.shape);
    if (shapeStr(s) !== shapeStr(dst.shape))
      throw new ShapeError(`copy_: a source of shape ${shapeStr(src.shape)} cannot be broadcast to the destination's ${shapeStr(dst.shape)}`);
    return [];
  },
});

/** dst ← src (broadcast, converted to dst's dtype), in place. */
export function copy_(dst: Tensor, src: TensorLike): Tensor {
  return runInplace(copyInto, [dst, to(asTensor(src, dst), dst.dtype)], {});
}

method("copy_", copy_);
