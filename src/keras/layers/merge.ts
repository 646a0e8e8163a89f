// Merge layers for functional models with several branches: Add (elementwise sum) and Concatenate.
import { ShapeError, type Tensor, ValueError } from "../../tensor/index.js";
import { add, concat } from "../../ops/index.js";
import { fmtShape, isShapeList, Layer, type LayerArgs, type Shape } from "./base.js";

abstract class Merge extends Layer {
  protected shapes(s: Shape | Shape[]): Shape[] {
    if (!isShapeList(s) || s.length < 2) throw new ValueError(`${this.name}: expects a list of at least 2 inputs`);
    return s;
  }
  protected tensors(x: Tensor | Tensor[]): Tensor[] {
    if (!Array.isArray(x) || x.length < 2) throw new ValueError(`${this.name}: expects a list of at least 2 inputs`);
    return x;
  }
  override checkInputShape(s: Shape | Shape[]): void {
    this.computeOutputShape(s);
  }
}

/** The elementwise sum of inputs of one shape. */
export class Add extends Merge {
  static override className = "Add";
  constructor(args: LayerArgs = {}) {
    super(args);
  }
  computeOutputShape(s: Shape | Shape[]): Shape {
    const list = this.shapes(s);
    const first = list[0];
    for (const o of list.slice(1))
      if (o.length !== first.length || o.some((d, i) => d !== null && first[i] !== null && d !== first[i]))
        throw new ShapeError(`${this.name}: inputs must have the same shape, got ${list.map(fmtShape).join(" and ")}`);
    return first.map((d, i) => d ?? list.find((o) => o[i] !== null)?.[i] ?? null);
  }
  protected compute(x: Tensor | Tensor[]): Tensor {
    return this.tensors(x).reduce((a, b) => add(a, b));
  }
}

/** Joins inputs along an axis (default the last). */
export class Concatenate extends Merge {
  static override className = "Concatenate";
  readonly axis: number;
  constructor(args: LayerArgs & { axis?: number } = {}) {
    super(args);
    this.axis = args.axis ?? -1;
  }
  computeOutputShape(s: Shape | Shape[]): Shape {
    const list = this.shapes(s);
    const nd = list[0].length;
    const ax = this.axis < 0 ? this.axis + nd : this.axis;
    if (ax < 1 || ax >= nd) throw new ValueError(`${this.name}: axis ${this.axis} is out of range for ${nd}-d inputs (the batch is axis 0)`);
    const bad = list.some((o) => o.length !== nd || o.some((d, i) => i !== ax && d !== null && list[0][i] !== null && d !== list[0][i]));
    if (bad) throw new ShapeError(`${this.name}: inputs must agree on every dim but axis ${this.axis}, got ${list.map(fmtShape).join(", ")}`);
    const out = [...list[0]];
    out[ax] = list.some((o) => o[ax] === null) ? null : list.reduce((n, o) => n + (o[ax] as number), 0);
    return out;
  }
  protected compute(x: Tensor | Tensor[]): Tensor {
    const list = this.tensors(x);
    return concat(list, this.axis < 0 ? this.axis + list[0].ndim : this.axis);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}
