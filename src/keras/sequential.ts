// Sequential: a plain stack of layers, each feeding the next (Keras' Sequential).
import { type Tensor, ValueError } from "../tensor/index.js";
import { Module } from "../nn/module.js";
import { isShapeList, Layer, type Shape, SymbolicTensor } from "./layers/base.js";
import { InputLayer } from "./layers/core.js";
import { Model, type SummaryRow } from "./model.js";

export interface SequentialArgs {
  layers?: (Layer | SymbolicTensor)[];
  name?: string;
}

/** A name `<prefix>_<n>` not yet taken (dense_1, dense_2, …). */
export function uniqueName(prefix: string, taken: Set<string>): string {
  for (let n = 1; ; n++) if (!taken.has(`${prefix}_${n}`)) return `${prefix}_${n}`;
}

/** Names a layer joining a model: keeps a given name (unique in the model), else picks `<type>_<n>`. */
export function nameLayer(model: Model, layer: Layer, taken: Set<string>): void {
  // An unnamed layer's name is its default (dense, conv2d, input, sequential, model): number it.
  if (!layer.hasName) layer.assignName(uniqueName(layer.name, taken));
  else if (taken.has(layer.name))
    throw new ValueError(`${model.name}: two layers are named '${layer.name}'; layer names must be unique within a model`);
  taken.add(layer.name);
}

/**
 * Layers applied one after another. Give the first layer an inputShape (or start with input())
 * to build the model at once; otherwise it is built by the first data it sees.
 * @example const model = sequential([flatten({inputShape: [28, 28]}), dense({units: 128, activation: 'relu'}), dense({units: 10, activation: 'softmax'})]);
 */
export class Sequential extends Model {
  static override className = "Sequential";
  /** The input shape declared by the first layer or an input(), batch dim first. */
  private declaredInput: Shape | null = null;

  constructor(args: SequentialArgs | (Layer | SymbolicTensor)[] = {}) {
    const a = Array.isArray(args) ? { layers: args } : args;
    super({ name: a.name });
    for (const l of a.layers ?? []) this.add(l);
  }

  override get name(): string {
    return this.assignedName ?? "sequential";
  }

  get layers(): Layer[] {
    return this.children().filter((m): m is Layer => m instanceof Layer);
  }

  get inputCount(): number {
    return 1;
  }

  get outputNames(): string[] {
    const ls = this.layers;
    return [ls.length ? ls[ls.length - 1].name : this.name];
  }

  /** Adds a layer at the end (an input() or InputLayer first only declares the input shape). */
  add(layer: Layer | SymbolicTensor): this {
    const first = this.layers.length === 0;
    if (layer instanceof SymbolicTensor || layer instanceof InputLayer) {
      if (!first) throw new ValueError(`${this.name}.add: an input can only come first`);
      this.declaredInput = layer instanceof SymbolicTensor ? [...layer.shape] : [...layer.batchInputShape!];
      this.built = false;
      this.buildFromShapes([this.declaredInput]);
      return this;
    }
    if (!(layer instanceof Layer))
      throw new ValueError(
        `${this.name}.add: expected a keras layer (dense(...), conv2d(...), …), got ${(layer as unknown) instanceof Module ? `an ingot.nn ${(layer as unknown as Module).constructor.name}; nn modules go in nn.Sequential` : typeof layer}`,
      );
    if (layer === (this as Layer)) throw new ValueError(`${this.name}.add: a model cannot contain itself`);
    nameLayer(this, layer, new Set(this.layers.map((l) => l.name)));
    this.registerModule(layer.name, layer);
    if (first && layer.batchInputShape && !this.declaredInput) this.declaredInput = [...layer.batchInputShape];
    const at = this.inputShapeSeen ?? this.declaredInput;
    if (at) {
      this.built = false;
      this.buildFromShapes([at as Shape]);
    }
    return this;
  }

  /** Removes the last layer. */
  pop(): Layer {
    const ls = this.layers;
    if (!ls.length) throw new ValueError(`${this.name}.pop: there are no layers to remove`);
    const last = ls[ls.length - 1];
    delete (this as unknown as Record<string, unknown>)[last.name];
    this.outputShapeSeen = ls.length > 1 ? ls[ls.length - 2].outputShapeSeen : null;
    return last;
  }

  buildFromShapes(shapes: Shape[]): void {
    if (this.built) return;
    if (shapes.length !== 1) throw new ValueError(`${this.name}: a sequential model has one input, got ${shapes.length}`);
    let s: Shape = [...shapes[0]];
    s[0] = null;
    const input = s;
    for (const l of this.layers) {
      l.prepare(s);
      const o = l.computeOutputShape(s);
      l.inputShapeSeen = s;
      l.outputShapeSeen = o;
      s = o;
    }
    this.inputShapeSeen = input;
    this.outputShapeSeen = s;
    this.built = this.layers.length > 0;
  }

  override computeOutputShape(shape: Shape | Shape[]): Shape {
    let s = isShapeList(shape) ? shape[0] : shape;
    for (const l of this.layers) s = l.computeOutputShape(s);
    return s;
  }

  runAll(inputs: Tensor[]): Tensor[] {
    const ls = this.layers;
    if (!ls.length) throw new ValueError(`${this.name}: the model has no layers; add some with model.add(dense({...}))`);
    if (inputs.length !== 1) throw new ValueError(`${this.name}: a sequential model takes one input, got ${inputs.length}`);
    let y = inputs[0];
    for (const l of ls) y = l.call(y);
    return [y];
  }

  protected summaryRows(): SummaryRow[] {
    return this.layers.map((l) => ({ layer: l, outputShape: l.outputShapeSeen }));
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      buildInputShape: this.inputShapeSeen,
      layers: this.layers.map((l) => ({ className: l.className, config: l.getConfig() })),
    };
  }
}

/** A Sequential model from a list of layers (or {layers, name}). */
export function sequential(args: SequentialArgs | (Layer | SymbolicTensor)[] = {}): Sequential {
  return new Sequential(args);
}
