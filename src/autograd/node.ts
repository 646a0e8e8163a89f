// One recorded op application: what backward needs to call the op's gradient rule.
import type { GradNode, Tensor } from "../tensor/index.js";

/** What a gradient rule sees: the op's inputs, all its outputs (visible and saved) and attributes. */
export interface GradContext<A = any> {
  readonly inputs: Tensor[];
  readonly outputs: Tensor[];
  readonly attrs: A;
}

export type GradRule<A = any> = (g: Tensor, ctx: GradContext<A>) => (Tensor | null | undefined)[];
/** The view of `acc` (shaped like the op's one input) that the output's gradient is added into. */
export type GradRegion<A = any> = (acc: Tensor, ctx: GradContext<A>) => Tensor;

export class Node<A = any> implements GradNode, GradContext<A> {
  released = false;
  constructor(
    readonly name: string,
    readonly rule: GradRule<A>,
    public inputs: Tensor[],
    public outputs: Tensor[],
    public attrs: A,
    /** Set for scatter-shaped gradients (slice): see OpDef.gradRegion. */
    readonly gradRegion?: GradRegion<A>,
  ) {}

  /** Drops the saved tensors (the graph is freed after backward unless retainGraph). */
  release(): void {
    this.released = true;
    this.outputs = [];
    this.attrs = undefined as A;
  }
}
