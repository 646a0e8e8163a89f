// Functional models: `input({shape})` gives symbolic tensors, layers applied to them record a graph,
// and `model({inputs, outputs})` runs that graph (several inputs, outputs and shared layers allowed).
import { type DType, type Tensor, ValueError } from "../tensor/index.js";
import { isShapeList, type Layer, LayerNode, type Shape, SymbolicTensor } from "./layers/base.js";
import { InputLayer } from "./layers/core.js";
import { Model, type SummaryRow } from "./model.js";
import { nameLayer } from "./sequential.js";

export interface InputArgs {
  /** The shape of one sample, without the batch dim. */
  shape?: number[];
  batchShape?: Shape;
  batchSize?: number;
  name?: string;
  dtype?: DType;
}

/** A symbolic input of a functional model. @example const x = input({shape: [784]}); */
export function input(args: InputArgs): SymbolicTensor {
  if (!args || (!args.shape && !args.batchShape)) throw new ValueError("input: give the shape of one sample, e.g. input({shape: [784]})");
  const layer = new InputLayer({ name: args.name, inputShape: args.shape, batchInputShape: args.batchShape, batchSize: args.batchSize, dtype: args.dtype });
  return symbolicInput(layer);
}

/** The symbolic tensor an InputLayer produces (one per InputLayer). */
export function symbolicInput(layer: InputLayer): SymbolicTensor {
  if (layer.inboundNodes.length) return layer.inboundNodes[0].output;
  const node = new LayerNode(layer, []);
  node.output = new SymbolicTensor([...layer.batchInputShape!], layer.dtype, node);
  layer.inboundNodes.push(node);
  return node.output;
}

export interface FunctionalArgs {
  inputs: SymbolicTensor | SymbolicTensor[];
  outputs: SymbolicTensor | SymbolicTensor[];
  name?: string;
}

/** A model over the graph from `inputs` to `outputs` (Keras' functional Model). */
export class Functional extends Model {
  static override className = "Functional";
  readonly inputs: SymbolicTensor[];
  readonly outputs: SymbolicTensor[];
  /** The layer applications from inputs to outputs, in an order that computes each input first. */
  readonly nodes: LayerNode[];

  constructor(args: FunctionalArgs) {
    super({ name: args?.name });
    const list = (v: unknown, what: string): SymbolicTensor[] => {
      const l = Array.isArray(v) ? v : [v];
      if (!l.length || !l.every((t) => t instanceof SymbolicTensor))
        throw new ValueError(`model: ${what} must be symbolic tensors (from input() and layer.apply(...)), got ${JSON.stringify(v)?.slice(0, 80)}`);
      return l as SymbolicTensor[];
    };
    this.inputs = list(args?.inputs, "inputs");
    this.outputs = list(args.outputs, "outputs");
    for (const t of this.inputs)
      if (!(t.sourceLayer instanceof InputLayer)) throw new ValueError(`model: inputs must come from input(), but one comes from layer '${t.sourceLayer.name}'`);
    // Depth-first from the outputs: every node after the nodes it reads.
    const order: LayerNode[] = [];
    const seen = new Set<LayerNode>();
    const visit = (n: LayerNode) => {
      if (seen.has(n)) return;
      seen.add(n);
      if (n.layer instanceof InputLayer) {
        if (!this.inputs.includes(n.output))
          throw new ValueError(`model: the outputs depend on an input (${n.layer.name}, shape ${JSON.stringify(n.output.shape)}) that is not in inputs; add it to inputs`);
        return;
      }
      for (const t of n.inputs) visit(t.node);
      order.push(n);
    };
    for (const t of this.outputs) visit(t.node);
    this.nodes = order;
    const layers: Layer[] = [...this.inputs.map((t) => t.sourceLayer)];
    for (const n of order) if (!layers.includes(n.layer)) layers.push(n.layer);
    const taken = new Set<string>();
    for (const l of layers) {
      nameLayer(this, l, taken);
      this.registerModule(l.name, l);
    }
    this.inputShapeSeen = this.inputs.length === 1 ? [...this.inputs[0].shape] : this.inputs.map((t) => [...t.shape]);
    this.outputShapeSeen = [...this.outputs[0].shape];
    this.built = true;
  }

  override get name(): string {
    return this.assignedName ?? "model";
  }

  get layers(): Layer[] {
    return this.children() as Layer[];
  }

  get inputCount(): number {
    return this.inputs.length;
  }

  get outputNames(): string[] {
    return this.outputs.map((t) => t.sourceLayer.name);
  }

  buildFromShapes(): void {}

  override computeOutputShape(shape: Shape | Shape[]): Shape {
    const shapes = isShapeList(shape) ? shape : [shape];
    const m = new Map<SymbolicTensor, Shape>(this.inputs.map((t, i) => [t, shapes[i]]));
    for (const n of this.nodes) {
      const ins = n.inputs.map((t) => m.get(t)!);
      m.set(n.output, n.layer.computeOutputShape(ins.length === 1 ? ins[0] : ins));
    }
    return m.get(this.outputs[0])!;
  }

  runAll(inputs: Tensor[]): Tensor[] {
    if (inputs.length !== this.inputs.length) throw new ValueError(`${this.name}: expects ${this.inputs.length} input(s), got ${inputs.length}`);
    const values = new Map<SymbolicTensor, Tensor>();
    // The input layers check the shapes (`input_1: expected input shape [null,784] …`).
    this.inputs.forEach((t, i) => values.set(t, t.sourceLayer.call(inputs[i])));
    for (const n of this.nodes) {
      const ins = n.inputs.map((t) => values.get(t)!);
      values.set(n.output, n.layer.call(ins.length === 1 ? ins[0] : ins));
    }
    return this.outputs.map((t) => values.get(t)!);
  }

  /** Index of a node among its layer's applications inside this model. */
  nodeIndex(n: LayerNode): number {
    if (n.layer instanceof InputLayer) return 0;
    return this.nodes.filter((m) => m.layer === n.layer).indexOf(n);
  }

  protected summaryRows(): SummaryRow[] {
    const rows: SummaryRow[] = this.inputs.map((t) => ({ layer: t.sourceLayer, outputShape: t.shape, connectedTo: [] }));
    for (const n of this.nodes)
      rows.push({ layer: n.layer, outputShape: n.output.shape, connectedTo: n.inputs.map((t) => `${t.sourceLayer.name}[${this.nodeIndex(t.node)}]`) });
    return rows;
  }

  override getConfig(): Record<string, unknown> {
    const ref = (t: SymbolicTensor) => [t.sourceLayer.name, this.nodeIndex(t.node), 0];
    return {
      ...super.getConfig(),
      layers: this.layers.map((l) => ({
        className: l.className,
        name: l.name,
        config: l.getConfig(),
        inboundNodes: this.nodes.filter((n) => n.layer === l).map((n) => n.inputs.map(ref)),
      })),
      inputLayers: this.inputs.map(ref),
      outputLayers: this.outputs.map(ref),
    };
  }
}

/** A functional model from symbolic inputs to outputs. @example const m = model({inputs: x, outputs: dense({units: 1}).apply(x)}); */
export function model(args: FunctionalArgs): Functional {
  return new Functional(args);
}
