// Reverse-mode differentiation over the recorded nodes. Gradients of leaves accumulate in `.grad`;
// the graph's saved tensors are released afterwards unless `retainGraph` is set.
import { AutogradError, shapeStr, shapesEqual, Tensor } from "../tensor/index.js";
import { noGrad } from "./grad-mode.js";
import { Node } from "./node.js";
import { firePostAccumulateGradHooks, leafHookTracker } from "./hooks.js";
import { add, add_, onesLike, zeros } from "../ops/index.js";
import { beginBufferTracking, endBufferTracking, recycleBuffer } from "../tensor/dtype.js";
import { profilerHooks } from "../profiler/hooks.js";

export interface BackwardOptions {
  /** Keep the graph so that backward can run through it again. */
  retainGraph?: boolean;
}

/**
 * Computes d(root)/d(leaf) for every leaf that requires grad and adds it into `leaf.grad`.
 * A non-scalar root needs the upstream gradient `gradient` of the same shape.
 */
export function backward(root: Tensor, gradient?: Tensor, opts: BackwardOptions = {}): void {
  const range = profilerHooks.range;
  if (range === null) runBackward(root, gradient, opts);
  else range("autograd", "autograd.backward", () => runBackward(root, gradient, opts));
}

function runBackward(root: Tensor, gradient: Tensor | undefined, opts: BackwardOptions): void {
  if (!root.requiresGrad)
    throw new AutogradError("backward: this tensor does not require grad and has no gradFn; call requiresGrad_() on the inputs first");
  if (!gradient && root.size !== 1)
    throw new AutogradError(
      `backward: a gradient can be created implicitly only for a one-element output, this one has shape ${shapeStr(root.shape)}; pass backward(gradient)`,
    );
  if (gradient && !shapesEqual(gradient.shape, root.shape))
    throw new AutogradError(`backward: gradient has shape ${shapeStr(gradient.shape)} but the output has shape ${shapeStr(root.shape)}`);
  const tracking = beginBufferTracking();
  try {
    noGrad(() => backwardFrom(root, gradient, opts, tracking));
  } finally {
    endBufferTracking();
  }
}

function backwardFrom(root: Tensor, gradient: Tensor | undefined, opts: BackwardOptions, tracking: boolean): void {
  // Gradients carry the dtype of the tensor they belong to (PyTorch casts the seed and every edge).
  const seed = gradient ? gradient.to(root.dtype) : onesLike(root);
  const handed = new Set<Tensor>();
  if (!root.gradFn) {
    accumulateLeaf(root, seed, handed, gradient);
    firePostAccumulateGradHooks(root);
    return;
  }
  const order = topoOrder(root.gradFn as Node);
  const hooks = leafHookTracker(order); // post-accumulate-grad hooks (./hooks.ts), null when none
  const grads = new Map<Node, Tensor>();
  const life = new Lifetimes(tracking);
  const put = (n: Node, t: Tensor): void => {
    grads.set(n, t);
    life.hold(t);
  };
  // Sums this backward allocated itself: nothing else refers to them, so later contributions are
  // added in place (PyTorch's InputBuffer does the same) instead of allocating a new sum each time.
  const owned = new Set<Tensor>();
  const accumulate = (n: Node, gi: Tensor): void => {
    const prev = grads.get(n);
    if (!prev) put(n, gi);
    else if (owned.has(prev)) add_(prev, gi);
    else {
      const sum = add(prev, gi);
      owned.add(sum);
      put(n, sum);
      life.drop(prev);
    }
  };
  put(root.gradFn as Node, seed);
  for (const node of order) {
    const g = grads.get(node);
    grads.delete(node);
    owned.delete(g as Tensor);
    if (!g) continue;
    if (node.released)
      throw new AutogradError(
        `backward: the graph through '${node.name}' was already freed by an earlier backward; pass {retainGraph: true} to the first backward`,
      );
    const range = profilerHooks.range;
    if (node.gradRegion && scatterInto(node, g, grads, owned, life, range)) {
      if (!opts.retainGraph) node.release();
      life.drop(g);
      continue;
    }
    const inGrads = range === null ? node.rule(g, node) : range("backward", `${node.name}.backward`, () => node.rule(g, node));
    // Held while they are handed out: one may be g itself, a view of it, or go to two inputs.
    for (const raw of inGrads) if (raw) life.hold(raw);
    node.inputs.forEach((inp, i) => {
      const raw = inGrads[i];
      if (!raw || !inp.requiresGrad) return;
      const gi = raw.dtype === inp.dtype ? raw : raw.to(inp.dtype);
      if (!shapesEqual(gi.shape, inp.shape))
        throw new AutogradError(
          `backward: gradient rule of '${node.name}' returned shape ${shapeStr(gi.shape)} for an input of shape ${shapeStr(inp.shape)} (an Ingot bug; please report)`,
        );
      if (inp.gradFn) accumulate(inp.gradFn as Node, gi);
      else {
        accumulateLeaf(inp, gi, handed, gradient);
        life.pin(inp.grad!);
        hooks?.accumulated(inp);
      }
    });
    for (const raw of inGrads) if (raw) life.drop(raw);
    life.drop(g);
    if (!opts.retainGraph) node.release();
  }
  hooks?.finish();
}

/**
 * Reference counts of the buffers behind the gradients backward holds (graph slots, rule results
 * being handed out). A gradient whose buffer was allocated during this backward, that no slot
 * holds any more and that never became a leaf's .grad is dead: nothing outside the engine ever saw
 * it (rules are pure and run under noGrad), so its buffer goes back to the allocator for reuse
 * (tensor/dtype.ts). Buffers from before the backward (the user's gradient, forward activations a
 * rule passed through) are never taken: recycleBuffer accepts only the ones born since it began.
 * Inert when recycling is off.
 */
class Lifetimes {
  private readonly refs = new Map<ArrayBuffer, number>();
  private readonly pinned = new Set<ArrayBuffer>();
  constructor(private readonly on: boolean) {}

  hold(t: Tensor): void {
    if (!this.on) return;
    const b = t.storage.data.buffer as ArrayBuffer;
    this.refs.set(b, (this.refs.get(b) ?? 0) + 1);
  }

  /** Releases one hold; the buffer is handed back when it was the last and the buffer qualifies. */
  drop(t: Tensor): void {
    if (!this.on) return;
    const b = t.storage.data.buffer as ArrayBuffer;
    const n = (this.refs.get(b) ?? 0) - 1;
    if (n > 0) {
      this.refs.set(b, n);
      return;
    }
    this.refs.delete(b);
    if (!this.pinned.has(b)) recycleBuffer(t.storage.data);
  }

  /** A leaf's .grad: the user owns it from now on. */
  pin(t: Tensor): void {
    if (this.on) this.pinned.add(t.storage.data.buffer as ArrayBuffer);
  }
}

/**
 * A scatter-shaped gradient (slice: g belongs in one region of zeros shaped like the input) added
 * straight into the input's accumulated gradient: the accumulator is allocated once, zero-filled,
 * and every slice of it (q, k and v of one projection) adds its part in place, where the rule would
 * allocate a full-size tensor per slice and a full-size sum per pair. Returns false, and backward
 * runs the rule, when the input is a leaf or the region is not one contiguous block.
 */
function scatterInto(node: Node, g: Tensor, grads: Map<Node, Tensor>, owned: Set<Tensor>, life: Lifetimes, range: typeof profilerHooks.range): boolean {
  const inp = node.inputs[0];
  if (node.inputs.length !== 1 || !inp.requiresGrad || !inp.gradFn) return false;
  const n = inp.gradFn as Node;
  const prev = grads.get(n);
  const acc = prev && owned.has(prev) ? prev : null;
  // Whether the region is one block of a contiguous accumulator depends on shapes only: without an
  // accumulator yet, a contiguous descriptor over the input's storage answers it (no element is touched).
  const region = node.gradRegion!(acc ?? new Tensor(inp.storage, inp.shape), node);
  if (!region.isContiguous()) return false;
  const run = () => {
    if (acc) {
      add_(region, g);
      return;
    }
    const target = prev ? prev.clone() : zeros(inp.shape, { dtype: inp.dtype });
    owned.add(target);
    grads.set(n, target);
    life.hold(target);
    if (prev) life.drop(prev);
    add_(node.gradRegion!(target, node), g);
  };
  if (range === null) run();
  else range("backward", `${node.name}.backward`, run);
  return true;
}

/**
 * Adds g into leaf.grad. A leaf's gradient must never alias another tensor the user can reach
 * (optimizers and clipping update .grad in place), so g is kept as is only when it is a fresh,
 * contiguous tensor not handed to another leaf and not the caller's own upstream gradient.
 */
function accumulateLeaf(leaf: Tensor, g: Tensor, handed: Set<Tensor>, userGradient?: Tensor): void {
  if (leaf.grad) leaf.grad = add(leaf.grad, g);
  else {
    const owned = g.base === null && g.isContiguous() && g.offset === 0 && !handed.has(g) && g !== userGradient;
    leaf.grad = owned ? g : g.clone();
  }
  handed.add(g);
}

/** Nodes reachable from root, each after every node that consumes its output. */
function topoOrder(root: Node): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>();
  // Iterative DFS: deep graphs (long RNN unrolls) must not overflow the JS stack.
  const stack: [Node, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.inputs.length) {
      top[1]++;
      const child = node.inputs[i].gradFn as Node | null;
      if (child && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse();
}
