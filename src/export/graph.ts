// A small builder of ONNX graphs: nodes with unique value names, initializers from Ingot tensors
// (float32 raw little-endian bytes, int64 constants), typed attributes, graph inputs and outputs
// with symbolic dims, and the ModelProto object that onnx-proto.ts encodes with protobufjs.
import { noGrad } from "../autograd/index.js";
import type { Tensor } from "../tensor/index.js";
import { VERSION } from "../version.js";
import { ATTR, ONNX_FLOAT, ONNX_INT64 } from "./onnx-proto.js";

/** An attribute value with its ONNX type (a JS number alone cannot tell INT from FLOAT). */
export type Attr = { f: number } | { i: number } | { s: string } | { floats: number[] } | { ints: number[] } | { t: TensorProtoObj };

export interface TensorProtoObj {
  name?: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

/** A dim of a graph input or output: a size, or a name for a dynamic axis (dim_param). */
export type Dim = number | string;

export interface GraphIO {
  name: string;
  dtype: "float32" | "int64";
  shape: Dim[];
}

/** The opsets this exporter writes and the IR version each needs (ONNX docs/Versioning.md). */
export const IR_VERSION_OF_OPSET: Record<number, number> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

/** little-endian bytes of a typed array (x86/ARM hosts are little-endian; checked once). */
function leBytes(a: Float32Array | BigInt64Array): Uint8Array {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("exportOnnx: big-endian hosts are not supported (ONNX raw_data is little-endian)");
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** float32 values of a tensor (float64 weights are rounded to float32), row-major. */
export function float32Of(t: Tensor): Float32Array {
  return noGrad(() => Float32Array.from(t.contiguous().dataSync() as ArrayLike<number>));
}

/** A TensorProto object of float32 values. */
export function floatTensor(dims: number[], data: Float32Array | number[], name?: string): TensorProtoObj {
  return { ...(name ? { name } : {}), dims, data_type: ONNX_FLOAT, raw_data: leBytes(data instanceof Float32Array ? data : Float32Array.from(data)) };
}

/** A TensorProto object of int64 values. */
export function int64Tensor(dims: number[], data: number[], name?: string): TensorProtoObj {
  return { ...(name ? { name } : {}), dims, data_type: ONNX_INT64, raw_data: leBytes(BigInt64Array.from(data.map((v) => BigInt(v)))) };
}

function attrProto(name: string, a: Attr): Record<string, unknown> {
  if ("f" in a) return { name, type: ATTR.FLOAT, f: a.f };
  if ("i" in a) return { name, type: ATTR.INT, i: a.i };
  if ("s" in a) return { name, type: ATTR.STRING, s: new TextEncoder().encode(a.s) };
  if ("floats" in a) return { name, type: ATTR.FLOATS, floats: a.floats };
  if ("ints" in a) return { name, type: ATTR.INTS, ints: a.ints };
  return { name, type: ATTR.TENSOR, t: a.t };
}

function valueInfo(io: GraphIO): Record<string, unknown> {
  return {
    name: io.name,
    type: {
      tensor_type: {
        elem_type: io.dtype === "float32" ? ONNX_FLOAT : ONNX_INT64,
        shape: { dim: io.shape.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

/** Collects nodes and initializers; every value name it hands out is unique in the graph. */
export class GraphBuilder {
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly inits: TensorProtoObj[] = [];
  private readonly taken = new Set<string>();
  readonly inputs: GraphIO[] = [];
  readonly outputs: GraphIO[] = [];
  /** Int64 constants shared by value, so that e.g. one Reshape target serves every layer. */
  private readonly i64Cache = new Map<string, string>();
  private readonly f32Cache = new Map<number, string>();

  constructor(readonly opset: number) {}

  /** `base`, or `base_1`, `base_2`, … when taken. */
  fresh(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./:-]/g, "_");
    let name = clean;
    for (let n = 1; this.taken.has(name); n++) name = `${clean}_${n}`;
    this.taken.add(name);
    return name;
  }

  /** Declares a graph input; its name is kept as given. */
  input(io: GraphIO): string {
    if (this.taken.has(io.name)) throw new Error(`exportOnnx: two graph values are named '${io.name}'`);
    this.taken.add(io.name);
    this.inputs.push(io);
    return io.name;
  }

  /** Makes `value` a graph output named `io.name` (through an Identity node). */
  output(value: string, io: GraphIO): void {
    if (this.taken.has(io.name)) throw new Error(`exportOnnx: the output name '${io.name}' is already a value of the graph; rename the layer`);
    this.taken.add(io.name);
    this.nodes.push({ op_type: "Identity", name: `${io.name}/Identity`, input: [value], output: [io.name] });
    this.outputs.push(io);
  }

  /** A float32 initializer from a tensor or values. */
  weight(base: string, dims: number[], data: Float32Array | number[]): string {
    const name = this.fresh(base);
    this.inits.push(floatTensor(dims, data, name));
    return name;
  }

  /** A float32 scalar constant (shared by value). */
  scalar(v: number): string {
    let name = this.f32Cache.get(v);
    if (!name) {
      name = this.weight(`const_f32_${this.f32Cache.size}`, [], [v]);
      this.f32Cache.set(v, name);
    }
    return name;
  }

  /** An int64 constant: a 1-d list, or a 0-d scalar when `scalar` is set (shared by value). */
  ints(values: number[], scalar = false): string {
    const key = `${scalar ? "s" : "v"}${values.join(",")}`;
    let name = this.i64Cache.get(key);
    if (!name) {
      name = this.fresh(`const_i64_${this.i64Cache.size}`);
      this.inits.push(int64Tensor(scalar ? [] : [values.length], values, name));
      this.i64Cache.set(key, name);
    }
    return name;
  }

  /** Adds a node with `outputs` results (value names made from `name`); returns them. */
  nodeN(op: string, inputs: string[], outputs: number, attrs: Record<string, Attr> = {}, name = op): string[] {
    const nodeName = this.fresh(name);
    const outs = Array.from({ length: outputs }, (_, k) => this.fresh(outputs === 1 ? `${nodeName}:out` : `${nodeName}:out${k}`));
    this.nodes.push({
      op_type: op,
      name: nodeName,
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, a]) => attrProto(k, a)),
    });
    return outs;
  }

  /** Adds a node with one result; returns its value name. */
  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, name = op): string {
    return this.nodeN(op, inputs, 1, attrs, name)[0];
  }

  /** The ModelProto object (onnx-proto.ts field names); `metadata` becomes metadata_props. */
  model(graphName: string, docString: string, metadata: Record<string, string> = {}): Record<string, unknown> {
    const ir = IR_VERSION_OF_OPSET[this.opset];
    if (ir === undefined) throw new Error(`exportOnnx: opset ${this.opset} has no IR version here`);
    return {
      ir_version: ir,
      opset_import: [{ domain: "", version: this.opset }],
      producer_name: "ingot",
      producer_version: VERSION,
      doc_string: docString,
      metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    };
  }

  /** Counts of nodes by op type (for reports and tests). */
  opCounts(): Record<string, number> {
    const c: Record<string, number> = {};
    for (const n of this.nodes) c[n.op_type as string] = (c[n.op_type as string] ?? 0) + 1;
    return c;
  }
}
