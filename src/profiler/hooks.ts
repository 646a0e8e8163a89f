// The profiler's hooks into op dispatch (src/ops/op.ts), the autograd engine (src/autograd/backward.ts)
// and the optimizers (src/optim/optimizer.ts). Each is null unless a profiler runs, so the cost when
// profiling is off is one property read and a comparison per op call. This module imports nothing
// at run time, so the lowest layers can depend on it without a cycle.
import type { Tensor } from "../tensor/index.js";

/** What dispatch tells the profiler about one op call. */
export interface OpCallInfo {
  name: string;
  inputs: Tensor[];
  attrs: unknown;
  /** View ops move no data (their output aliases the input). */
  view: boolean;
  /** In-place ops (optimizer updates, `copy_`) write into inputs[0] and return it. */
  inplace: boolean;
}

export interface ProfilerHooks {
  /** Wraps one op call (runOpMulti / runInplace); returns what `run` returns. */
  op: ((info: OpCallInfo, run: () => Tensor[]) => Tensor[]) | null;
  /** Wraps a named range of another kind: an autograd node's gradient rule, backward(), an optimizer step. */
  range: (<T>(category: string, name: string, run: () => T) => T) | null;
}

export const profilerHooks: ProfilerHooks = { op: null, range: null };
