// The Keras Layer: a Module with a name, weights built lazily from the input shape, shape inference
// for symbolic tensors (the functional API), input checks whose errors name the layer, and a JSON
// config from which loadModel rebuilds it.
import { type DType, IngotError, ShapeError, type Tensor, ValueError } from "../../tensor/index.js";
import { Module } from "../../nn/module.js";
import { Parameter } from "../../nn/parameter.js";
import type { Regularizer } from "../regularizers.js";
import { add } from "../../ops/index.js";

/** A shape with unknown dims as null; dim 0 is the batch (null). */
export type Shape = (number | null)[];

/** `[null,28,28]`: shapes in messages, like shapeStr but with unknown dims. */
export function fmtShape(s: readonly (number | null)[]): string {
  return `[${s.map((d) => (d === null ? "null" : d)).join(",")}]`;
}

/** What every layer accepts besides its own options. */
export interface LayerArgs {
  /** Unique within a model; by default the model names it `<type>_<n>` (dense_1, dense_2, …). */
  name?: string;
  /** The shape of one sample (no batch dim); makes the model build at once. */
  inputShape?: number[];
  /** The full input shape with the batch dim (null when free). */
  batchInputShape?: Shape;
  batchSize?: number;
  /** dtype of the weights (default float32). */
  dtype?: DType;
  /** False freezes the layer's weights. */
  trainable?: boolean;
}

/** What a layer requires of its input (Keras' InputSpec); checked on symbolic and real inputs. */
export interface InputSpec {
  ndim?: number;
  minNdim?: number;
  /** Required sizes by axis (negative counts from the end). */
  axes?: Record<number, number>;
  /** How the input is laid out, for messages: `[batch, height, width, channels]`. */
  layout?: string;
}

/** A placeholder for a tensor in a functional model: its shape, dtype and the layer application that makes it. */
export class SymbolicTensor {
  constructor(
    readonly shape: Shape,
    readonly dtype: DType,
    /** The application of a layer that produces this tensor. */
    readonly node: LayerNode,
  ) {}

  get sourceLayer(): Layer {
    return this.node.layer;
  }

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `SymbolicTensor(${fmtShape(this.shape)}, ${this.dtype}, from ${this.node.layer.name})`;
  }
}

/** One application of a layer to symbolic inputs (Keras' Node). */
export class LayerNode {
  output!: SymbolicTensor;
  constructor(
    readonly layer: Layer,
    readonly inputs: SymbolicTensor[],
  ) {}
}

export function isSymbolic(x: unknown): x is SymbolicTensor | SymbolicTensor[] {
  return x instanceof SymbolicTensor || (Array.isArray(x) && x.length > 0 && x.every((t) => t instanceof SymbolicTensor));
}

/** 'Dense' → 'dense', 'MaxPooling2D' → 'max_pooling2d', 'LSTM' → 'lstm', like Keras' default names. */
export function snakeCase(className: string): string {
  return className
    .replace(/([a-z])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/(\d)D\b/g, "$1d")
    .toLowerCase();
}

export abstract class Layer extends Module {
  /** The type name written in config.json; loadModel looks it up to rebuild the layer. */
  static className = "Layer";
  /** The layer's own name; null until it is named by the user or by the model it joins. */
  protected assignedName: string | null;
  built = false;
  /** The declared input shape (from inputShape/batchInputShape), checked on every call. */
  readonly batchInputShape: Shape | null;
  readonly dtype: DType;
  /** What the input must look like once the layer is built. */
  inputSpec: InputSpec | null = null;
  /** Input and output shapes of the last build or application, batch dim null (for summary). */
  inputShapeSeen: Shape | Shape[] | null = null;
  outputShapeSeen: Shape | null = null;
  /** The symbolic applications of this layer, in order. */
  readonly inboundNodes: LayerNode[] = [];
  /** Regularized weights and their penalties. */
  protected readonly regularized: [string, Regularizer][] = [];
  private trainableFlag: boolean;

  constructor(args: LayerArgs = {}) {
    super();
    // Keras layers run in inference mode unless fit (or apply(x, {training: true})) says otherwise.
    this.training = false;
    if (args.name !== undefined) checkLayerName(args.name);
    this.assignedName = args.name ?? null;
    this.dtype = args.dtype ?? "float32";
    this.trainableFlag = args.trainable ?? true;
    if (args.batchInputShape) this.batchInputShape = [...args.batchInputShape];
    else if (args.inputShape) {
      if (!Array.isArray(args.inputShape) || args.inputShape.some((d) => d !== null && (!Number.isInteger(d) || d < 0)))
        throw new ValueError(`${this.className}: inputShape must be a list of sizes without the batch dim, like [28, 28], got ${JSON.stringify(args.inputShape)}`);
      this.batchInputShape = [args.batchSize ?? null, ...args.inputShape];
    } else this.batchInputShape = null;
  }

  /** The type name (Dense, Conv2D, …). */
  get className(): string {
    return (this.constructor as typeof Layer).className;
  }

  /** The layer's name: given, assigned by its model, or the snake_case type name. */
  get name(): string {
    return this.assignedName ?? snakeCase(this.className);
  }

  /** True once a name was given or assigned. */
  get hasName(): boolean {
    return this.assignedName !== null;
  }

  /** Used by models to name their layers; a layer keeps the first name it gets. */
  assignName(name: string): void {
    if (this.assignedName === null) this.assignedName = name;
  }

  get trainable(): boolean {
    return this.trainableFlag;
  }

  /** Freezing (false) turns off gradients of every weight below this layer. */
  set trainable(flag: boolean) {
    this.trainableFlag = flag;
    for (const p of this.parameters()) p.requiresGrad_(flag);
    for (const m of this.modules()) if (m instanceof Layer && m !== this) m.trainableFlag = flag;
  }

  /**
   * Creates the weight `name` (a Parameter, frozen when the layer is not trainable) and assigns it
   * to that property; a regularizer is looked up by name later, so Module.to() swaps stay visible.
   */
  protected addWeight(name: string, t: Tensor, regularizer?: Regularizer | null): Parameter {
    const p = new Parameter(t, this.trainableFlag);
    (this as unknown as Record<string, unknown>)[name] = p;
    if (regularizer) this.regularized.push([name, regularizer]);
    return p;
  }

  /** Adds a penalty on the weight at `path` (a property, or a dotted path into a sub-module). */
  protected addRegularizer(path: string, regularizer: Regularizer | null): void {
    if (regularizer) this.regularized.push([path, regularizer]);
  }

  /** The sum of this layer's regularization penalties (null when it has none). */
  regularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    for (const [path, reg] of this.regularized) {
      // A dotted path reaches into a sub-module (the nn.LSTM inside a Keras lstm layer).
      let w: unknown = this;
      for (const k of path.split(".")) w = (w as Record<string, unknown> | undefined)?.[k];
      if (!(w instanceof Parameter)) continue;
      const l = reg.apply(w);
      total = total ? add(total, l) : l;
    }
    return total;
  }

  /** Creates the weights for an input of this shape (batch dim null); sub-classes call super.build last. */
  build(inputShape: Shape | Shape[]): void {
    this.inputShapeSeen = inputShape;
    this.built = true;
  }

  /** The output shape for an input shape (batch dim null). */
  abstract computeOutputShape(inputShape: Shape | Shape[]): Shape;

  /** The layer's computation on real tensors (Keras' call). */
  protected abstract compute(inputs: Tensor | Tensor[]): Tensor;

  /** Builds if needed and checks the input shape: the shared half of a symbolic or real call (models call it for their layers). */
  prepare(shape: Shape | Shape[]): void {
    // A layer with a declared inputShape builds from it, so a wrong input gets the layer's own message.
    if (!this.built) this.build(this.batchInputShape ?? shape);
    this.checkInputShape(shape);
  }

  /** Runs the layer on real tensors, building it from their shape on first use. */
  override forward(inputs: Tensor | Tensor[]): Tensor {
    const shape: Shape | Shape[] = Array.isArray(inputs) ? inputs.map((t) => [...t.shape]) : [...inputs.shape];
    this.prepare(shape);
    return this.compute(inputs);
  }

  /**
   * Keras' `layer.apply`: on symbolic tensors (from `input()`) it records the application and
   * returns the symbolic output; on tensors it computes (training as given, else the current mode);
   * given a function it is Module.apply (calls fn on every sub-module).
   */
  override apply(fn: (m: Module) => void): this;
  override apply(inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor;
  override apply(inputs: Tensor | Tensor[], opts?: { training?: boolean }): Tensor;
  override apply(arg: unknown, opts: { training?: boolean } = {}): unknown {
    if (typeof arg === "function") return super.apply(arg as (m: Module) => void);
    if (isSymbolic(arg)) return this.applySymbolic(arg);
    const run = () => this.forward(arg as Tensor | Tensor[]);
    if (opts.training === undefined) return run();
    const modes = this.modules().map((m) => [m, m.training] as const);
    this.train(opts.training);
    try {
      return run();
    } finally {
      for (const [m, t] of modes) m.training = t;
    }
  }

  private applySymbolic(inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const shape = Array.isArray(inputs) ? inputs.map((t) => [...t.shape]) : [...inputs.shape];
    this.prepare(shape);
    const out = this.computeOutputShape(shape);
    this.inputShapeSeen = shape;
    this.outputShapeSeen = out;
    const node = new LayerNode(this, list);
    node.output = new SymbolicTensor(out, this.outputDType(list[0].dtype), node);
    this.inboundNodes.push(node);
    return node.output;
  }

  /** dtype of the output for an input dtype (float layers output their weights' dtype). */
  protected outputDType(inputDType: DType): DType {
    return inputDType === "int32" || inputDType === "bool" ? this.dtype : inputDType;
  }

  /** Checks an input shape against the declared inputShape, naming the layer. */
  protected checkDeclared(shape: Shape | Shape[]): void {
    if (!this.batchInputShape || isShapeList(shape)) return;
    const want = this.batchInputShape;
    const ok = shape.length === want.length && want.every((d, i) => i === 0 || d === null || shape[i] === null || shape[i] === d);
    if (!ok)
      throw new ShapeError(`${this.name}: expected input shape ${fmtShape(want)} (from inputShape), got ${fmtShape(shape)}; fix inputShape or reshape the data`);
  }

  /** Checks an input shape against inputSpec and the declared shape; errors name the layer and both shapes. */
  checkInputShape(shape: Shape | Shape[]): void {
    const spec = this.inputSpec;
    if (spec && !isShapeList(shape)) {
      const got = fmtShape(shape);
      const layout = spec.layout ? ` ${spec.layout}` : "";
      if (spec.ndim !== undefined && shape.length !== spec.ndim)
        throw new ShapeError(`${this.name}: expected a ${spec.ndim}-d input${layout}, got shape ${got}${this.rankHint(shape)}`);
      if (spec.minNdim !== undefined && shape.length < spec.minNdim)
        throw new ShapeError(`${this.name}: expected an input with at least ${spec.minNdim} dims${layout}, got shape ${got}${this.rankHint(shape)}`);
      for (const [k, size] of Object.entries(spec.axes ?? {})) {
        const ax = Number(k) < 0 ? shape.length + Number(k) : Number(k);
        if (shape[ax] !== null && shape[ax] !== size) {
          const which = ax === shape.length - 1 ? `last dimension ${size}` : `size ${size} in dimension ${ax}`;
          throw new ShapeError(`${this.name}: expected input with ${which}, got shape ${got}${this.axisHint(shape)}`);
        }
      }
    }
    this.checkDeclared(shape);
  }

  /** The advice after a wrong number of dims. */
  protected rankHint(_shape: Shape): string {
    return "; fix inputShape or the layer before";
  }

  /** The advice after a wrong size along a checked axis. */
  protected axisHint(shape: Shape): string {
    return shape.length > 2 ? "; add a flatten() layer or fix inputShape" : "; fix inputShape or the size of the layer before";
  }

  /** Number of weights (parameters and saved buffers such as moving averages). */
  countParams(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0) + this.namedBuffers().reduce((n, [, b]) => n + b.size, 0);
  }

  /** Number of weights that train. */
  countTrainableParams(): number {
    return this.parameters()
      .filter((p) => p.requiresGrad)
      .reduce((n, p) => n + p.size, 0);
  }

  /** The layer's constructor arguments as JSON: `new Cls(getConfig())` rebuilds it (weights aside). */
  getConfig(): Record<string, unknown> {
    const cfg: Record<string, unknown> = { name: this.name, trainable: this.trainable, dtype: this.dtype };
    if (this.batchInputShape) cfg.batchInputShape = [...this.batchInputShape];
    return cfg;
  }

  override extraRepr(): string {
    return `name='${this.name}'`;
  }
}

export function isShapeList(s: Shape | Shape[]): s is Shape[] {
  return s.length > 0 && Array.isArray(s[0]);
}

/** The one input shape of a single-input layer (an error names the layer when given several). */
export function single(layer: Layer, s: Shape | Shape[]): Shape {
  if (isShapeList(s)) throw new ValueError(`${layer.name}: takes one input, got ${s.length}`);
  return s;
}

/** The one input tensor of a single-input layer. */
export function singleTensor(layer: Layer, x: Tensor | Tensor[]): Tensor {
  if (Array.isArray(x)) {
    if (x.length !== 1) throw new ValueError(`${layer.name}: takes one input, got ${x.length}`);
    return x[0];
  }
  return x;
}

/** Layer names become weight names (`dense_1.kernel`), so they must not contain '.'. */
export function checkLayerName(name: unknown): void {
  if (typeof name !== "string" || name === "" || name.includes(".") || /\s/.test(name))
    throw new ValueError(`layer name must be a non-empty string without '.' or spaces, got ${JSON.stringify(name)}`);
}

/** Throws unless v is an integer ≥ min, naming the layer and the option. */
export function checkInt(layer: string, what: string, v: unknown, min = 1): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw new ValueError(`${layer}: ${what} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

/** A number or pair as a pair (kernelSize: 3 → [3, 3]). */
export function pair(layer: string, what: string, v: number | number[] | undefined, dflt: number | number[]): [number, number] {
  const x = v ?? dflt;
  const p = typeof x === "number" ? [x, x] : [...x];
  if (p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < 1))
    throw new ValueError(`${layer}: ${what} must be a positive integer or two of them, got ${JSON.stringify(v)}`);
  return [p[0], p[1]];
}

/** A dimension that must be known to build a layer. */
export function knownDim(layer: Layer, shape: Shape, axis: number, what: string): number {
  const d = shape[axis < 0 ? shape.length + axis : axis];
  if (d === null || d === undefined)
    throw new IngotError(`${layer.name}: the ${what} of the input must be known to build the layer, got shape ${fmtShape(shape)}; give the first layer an inputShape`);
  return d;
}
