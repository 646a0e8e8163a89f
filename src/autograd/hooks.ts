// Post-accumulate-grad hooks (PyTorch's `Tensor.register_post_accumulate_grad_hook`): a function
// called with a leaf tensor once backward has finished adding this pass's gradient into its `.grad`.
// DistributedDataParallel uses them to start a bucket's all-reduce while backward still runs.
//
// A leaf used several times in the graph receives one gradient per use; as in PyTorch (where the
// AccumulateGrad node runs once with the summed gradient), the hook runs once per backward, after
// the last of them. backward() counts the edges into each hooked leaf before it starts.
import { AutogradError, type Tensor } from "../tensor/index.js";
import type { Node } from "./node.js";

export type PostAccumulateGradHook = (tensor: Tensor) => void;

/** What registerPostAccumulateGradHook returns: `remove()` unregisters the hook (torch's RemovableHandle). */
export interface RemovableHandle {
  remove(): void;
}

const hooks = new WeakMap<Tensor, Set<PostAccumulateGradHook>>();
let hooked = 0; // tensors with at least one hook: backward skips the bookkeeping when there are none

/**
 * Registers `hook(tensor)` to run after backward has accumulated this leaf's gradient into `.grad`.
 * Only leaves that require grad accumulate gradients, so only they take such hooks.
 */
export function registerPostAccumulateGradHook(tensor: Tensor, hook: PostAccumulateGradHook): RemovableHandle {
  if (typeof hook !== "function") throw new AutogradError("registerPostAccumulateGradHook: the hook must be a function (tensor) => void");
  if (!tensor.requiresGrad || tensor.gradFn)
    throw new AutogradError(
      "registerPostAccumulateGradHook: only a leaf tensor that requires grad accumulates a gradient; call requiresGrad_() on a leaf (a parameter), not on an op's result",
    );
  let set = hooks.get(tensor);
  if (!set) {
    set = new Set();
    hooks.set(tensor, set);
    hooked++;
  }
  set.add(hook);
  let removed = false;
  return {
    remove() {
      if (removed) return;
      removed = true;
      const s = hooks.get(tensor);
      if (!s) return;
      s.delete(hook);
      if (s.size === 0) {
        hooks.delete(tensor);
        hooked--;
      }
    },
  };
}

/** Runs the hooks of `leaf` (after its gradient is complete). */
export function firePostAccumulateGradHooks(leaf: Tensor): void {
  const set = hooks.get(leaf);
  if (set) for (const h of [...set]) h(leaf);
}

/** The bookkeeping of one backward: edges still to come into each hooked leaf. */
export interface LeafHookTracker {
  /** A gradient was just accumulated into `leaf`. */
  accumulated(leaf: Tensor): void;
  /** Backward is done: leaves whose remaining edges carried no gradient get their hooks now. */
  finish(): void;
}

/** A tracker for the nodes of one backward, or null when no tensor has a hook (the common case). */
export function leafHookTracker(order: readonly Node[]): LeafHookTracker | null {
  if (hooked === 0) return null;
  const remaining = new Map<Tensor, number>();
  for (const node of order)
    for (const inp of node.inputs) if (inp.requiresGrad && !inp.gradFn && hooks.has(inp)) remaining.set(inp, (remaining.get(inp) ?? 0) + 1);
  if (remaining.size === 0) return null;
  const started = new Set<Tensor>();
  return {
    accumulated(leaf) {
      const left = remaining.get(leaf);
      if (left === undefined) return;
      if (left <= 1) {
        remaining.delete(leaf);
        started.delete(leaf);
        firePostAccumulateGradHooks(leaf);
      } else {
        remaining.set(leaf, left - 1);
        started.add(leaf);
      }
    },
    finish() {
      for (const leaf of started) firePostAccumulateGradHooks(leaf);
      started.clear();
    },
  };
}
