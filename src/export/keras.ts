// Keras models (Sequential and Functional, nested ones too) → ONNX nodes, layer by layer, in
// inference mode (Dropout and the random augmentations are the identity, BatchNormalization uses
// its moving statistics).
//
// Layout: Keras images are channels-last [B, H, W, C]; ONNX Conv/MaxPool/AveragePool/
// BatchNormalization want NCHW. The graph input and outputs keep Keras' layout (a user feeds the
// ONNX model what model.predict takes); inside, each value remembers whether it is held in NCHW,
// and a Transpose is emitted only where the next layer needs the other layout. A stack of
// conv/pool/batch-norm layers thus runs in NCHW with one Transpose in front and one before Flatten.
import { ShapeError, ValueError } from "../tensor/index.js";
import { permute } from "../ops/index.js";
import { noGrad } from "../autograd/index.js";
import { LoraLinear } from "../nn/lora.js";
import type { ActivationName } from "../keras/activations.js";
import type { Layer, Shape } from "../keras/layers/base.js";
import { Activation, Dense, Dropout, Flatten, InputLayer, Rescaling, Reshape } from "../keras/layers/core.js";
import { AveragePooling2D, Conv2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D, samePad } from "../keras/layers/conv.js";
import { BatchNormalization, LayerNormalization } from "../keras/layers/normalization.js";
import { Add, Concatenate } from "../keras/layers/merge.js";
import { RandomCrop, RandomFlip, RandomRotation, RandomTranslation, RandomZoom } from "../keras/layers/augmentation.js";
import type { Model } from "../keras/model.js";
import { Sequential } from "../keras/sequential.js";
import { Functional } from "../keras/functional.js";
import { float32Of, type GraphBuilder, type GraphIO } from "./graph.js";

/** The Keras layer classes the exporter knows. */
export const KERAS_EXPORTABLE = [
  "InputLayer",
  "Dense",
  "Activation",
  "Flatten",
  "Reshape",
  "Dropout",
  "Rescaling",
  "Conv2D",
  "MaxPooling2D",
  "AveragePooling2D",
  "GlobalAveragePooling2D",
  "GlobalMaxPooling2D",
  "BatchNormalization",
  "LayerNormalization",
  "Add",
  "Concatenate",
  "RandomFlip",
  "RandomRotation",
  "RandomTranslation",
  "RandomZoom",
  "RandomCrop",
  "Sequential",
  "Functional",
] as const;

/** A value of the graph: its ONNX name, its shape as Keras sees it, and whether ONNX holds it in NCHW. */
interface Val {
  name: string;
  shape: Shape;
  nchw: boolean;
}

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

function fail(layer: Layer, msg: string): never {
  throw new ValueError(`exportOnnx: layer '${layer.name}' (${layer.className}): ${msg}`);
}

/** The value in Keras' own layout. */
function keras(g: GraphBuilder, v: Val): Val {
  if (!v.nchw) return v;
  return { name: g.node("Transpose", [v.name], { perm: { ints: TO_NHWC } }, "to_NHWC"), shape: v.shape, nchw: false };
}

/** A 4-d channels-last value in NCHW (transposed when it is not already). */
function nchw(g: GraphBuilder, v: Val): Val {
  if (v.nchw) return v;
  return { name: g.node("Transpose", [v.name], { perm: { ints: TO_NCHW } }, "to_NCHW"), shape: v.shape, nchw: true };
}

/** The ONNX axis holding Keras axis `axis` of v. */
function onnxAxis(v: Val, axis: number): number {
  const a = axis < 0 ? axis + v.shape.length : axis;
  return v.nchw ? TO_NCHW.indexOf(a) : a;
}

/** Appends the ONNX form of a named Keras activation (the definitions of src/keras/activations.ts). */
function activation(g: GraphBuilder, layer: Layer, name: ActivationName | null, v: Val): Val {
  const p = layer.name;
  const out = (n: string): Val => ({ name: n, shape: v.shape, nchw: v.nchw });
  const x = v.name;
  switch (name) {
    case "linear":
      return v;
    case "relu":
      return out(g.node("Relu", [x], {}, `${p}/Relu`));
    case "relu6":
      return out(g.node("Clip", [x, g.scalar(0), g.scalar(6)], {}, `${p}/Relu6`));
    case "elu":
      return out(g.node("Elu", [x], { alpha: { f: 1 } }, `${p}/Elu`));
    case "selu":
      // ONNX Selu's default alpha and gamma are Klambauer et al.'s constants, as Keras uses.
      return out(g.node("Selu", [x], {}, `${p}/Selu`));
    case "gelu": {
      // Keras' gelu here is the exact form x·Φ(x) = 0.5·x·(1 + erf(x/√2)); opset 17 has no Gelu op.
      const e = g.node("Erf", [g.node("Mul", [x, g.scalar(Math.SQRT1_2)], {}, `${p}/gelu_scale`)], {}, `${p}/gelu_erf`);
      const onePlus = g.node("Add", [e, g.scalar(1)], {}, `${p}/gelu_1p`);
      return out(g.node("Mul", [g.node("Mul", [x, g.scalar(0.5)], {}, `${p}/gelu_half`), onePlus], {}, `${p}/Gelu`));
    }
    case "swish":
    case "silu":
      return out(g.node("Mul", [x, g.node("Sigmoid", [x], {}, `${p}/silu_sigmoid`)], {}, `${p}/Silu`));
    case "sigmoid":
      return out(g.node("Sigmoid", [x], {}, `${p}/Sigmoid`));
    case "tanh":
      return out(g.node("Tanh", [x], {}, `${p}/Tanh`));
    case "softmax":
      return out(g.node("Softmax", [x], { axis: { i: onnxAxis(v, -1) } }, `${p}/Softmax`));
    case "logSoftmax":
      return out(g.node("LogSoftmax", [x], { axis: { i: onnxAxis(v, -1) } }, `${p}/LogSoftmax`));
    case "softplus":
      return out(g.node("Softplus", [x], {}, `${p}/Softplus`));
    case "softsign":
      return out(g.node("Softsign", [x], {}, `${p}/Softsign`));
    case "exponential":
      return out(g.node("Exp", [x], {}, `${p}/Exp`));
    default:
      fail(layer, "a custom activation function cannot be exported; use a named activation ('relu', 'softmax', …)");
  }
}

/** Spatial sizes [H, W] of a 4-d Keras shape (channels-last or -first); both must be known for 'same'. */
function spatial(layer: Layer, s: Shape, channelsLast: boolean, need: boolean): [number, number] {
  const [h, w] = channelsLast ? [s[1], s[2]] : [s[2], s[3]];
  if (need && (h === null || w === null))
    fail(layer, `padding 'same' needs the image size, but the input shape is ${JSON.stringify(s)}; give the model a fixed inputShape`);
  return [h ?? 0, w ?? 0];
}

/** ONNX pads [top, left, bottom, right] of TensorFlow's 'same' (the odd element after). */
function onnxPads(padding: "valid" | "same", hw: [number, number], span: [number, number], strides: [number, number]): number[] {
  if (padding === "valid") return [0, 0, 0, 0];
  const [pt, pb] = samePad(hw[0], span[0], strides[0]);
  const [pl, pr] = samePad(hw[1], span[1], strides[1]);
  return [pt, pl, pb, pr];
}

function conv2d(g: GraphBuilder, l: Conv2D, v: Val): Val {
  const last = l.dataFormat === "channelsLast";
  const x = last ? nchw(g, v) : keras(g, v); // channelsFirst images are NCHW already
  const span: [number, number] = [(l.kernelSize[0] - 1) * l.dilationRate[0] + 1, (l.kernelSize[1] - 1) * l.dilationRate[1] + 1];
  const hw = spatial(l, v.shape, last, l.padding === "same");
  const kernel = l.kernel!;
  const [kh, kw, cin, cout] = kernel.shape;
  const w = g.weight(`${l.name}.kernel`, [cout, cin, kh, kw], noGrad(() => float32Of(permute(kernel, [3, 2, 0, 1])))); // [kH, kW, in, out] → [out, in, kH, kW]
  const inputs = [x.name, w];
  if (l.bias) inputs.push(g.weight(`${l.name}.bias`, [cout], float32Of(l.bias)));
  const y = g.node(
    "Conv",
    inputs,
    {
      kernel_shape: { ints: [...l.kernelSize] },
      strides: { ints: [...l.strides] },
      dilations: { ints: [...l.dilationRate] },
      pads: { ints: onnxPads(l.padding, hw, span, l.strides) },
      group: { i: 1 },
    },
    `${l.name}/Conv`,
  );
  return activation(g, l, l.activation.name, { name: y, shape: l.computeOutputShape(v.shape), nchw: last });
}

function pool2d(g: GraphBuilder, l: MaxPooling2D | AveragePooling2D, v: Val): Val {
  const last = l.dataFormat === "channelsLast";
  const x = last ? nchw(g, v) : keras(g, v);
  const hw = spatial(l, v.shape, last, l.padding === "same");
  const attrs = {
    kernel_shape: { ints: [...l.poolSize] },
    strides: { ints: [...l.strides] },
    pads: { ints: onnxPads(l.padding, hw, l.poolSize, l.strides) },
  };
  // MaxPool never picks a pad (as Ingot's −∞ padding); AveragePool's count_include_pad = 0 (the
  // default) divides by the real inputs of each window, as TensorFlow's 'same' does.
  const op = l instanceof MaxPooling2D ? "MaxPool" : "AveragePool";
  return { name: g.node(op, [x.name], attrs, `${l.name}/${op}`), shape: l.computeOutputShape(v.shape), nchw: last };
}

function globalPool(g: GraphBuilder, l: GlobalAveragePooling2D | GlobalMaxPooling2D, v: Val): Val {
  const last = l.dataFormat === "channelsLast";
  const axes = (last ? [1, 2] : [2, 3]).map((a) => onnxAxis(v, a));
  const op = l instanceof GlobalAveragePooling2D ? "ReduceMean" : "ReduceMax";
  // Opset 18 moved the axes of the Reduce ops from an attribute to an input.
  const y =
    g.opset >= 18
      ? g.node(op, [v.name, g.ints(axes)], { keepdims: { i: 0 } }, `${l.name}/${op}`)
      : g.node(op, [v.name], { axes: { ints: axes }, keepdims: { i: 0 } }, `${l.name}/${op}`);
  return { name: y, shape: l.computeOutputShape(v.shape), nchw: false };
}

function dense(g: GraphBuilder, l: Dense, v: Val): Val {
  const x = keras(g, v);
  const [inDim, units] = l.kernel!.shape;
  let y = g.node("MatMul", [x.name, g.weight(`${l.name}.kernel`, [inDim, units], float32Of(l.kernel!))], {}, `${l.name}/MatMul`);
  if (l.bias) y = g.node("Add", [y, g.weight(`${l.name}.bias`, [units], float32Of(l.bias))], {}, `${l.name}/BiasAdd`);
  return activation(g, l, l.activation.name, { name: y, shape: l.computeOutputShape(v.shape), nchw: false });
}

function batchNorm(g: GraphBuilder, l: BatchNormalization, v: Val): Val {
  const rank = v.shape.length;
  const a = l.axis < 0 ? l.axis + rank : l.axis;
  const c = l.movingMean!.shape[0];
  const gamma = l.gamma ? float32Of(l.gamma) : new Float32Array(c).fill(1);
  const beta = l.beta ? float32Of(l.beta) : new Float32Array(c);
  const mean = float32Of(l.movingMean!);
  const variance = float32Of(l.movingVariance!);
  const oa = onnxAxis(v, a);
  if (oa === 1) {
    const ins = [v.name, g.weight(`${l.name}.gamma`, [c], gamma), g.weight(`${l.name}.beta`, [c], beta), g.weight(`${l.name}.movingMean`, [c], mean), g.weight(`${l.name}.movingVariance`, [c], variance)];
    return { name: g.node("BatchNormalization", ins, { epsilon: { f: l.epsilon } }, `${l.name}/BatchNormalization`), shape: v.shape, nchw: v.nchw };
  }
  // The channel is not ONNX's axis 1 (e.g. the last axis of a 3-d input): y = x·s + t with
  // s = γ/√(var + ε) and t = β − mean·s, broadcast along that axis.
  const s = gamma.map((gm, i) => gm / Math.sqrt(variance[i] + l.epsilon));
  const t = beta.map((b, i) => b - mean[i] * s[i]);
  const dims = Array.from({ length: rank }, (_, i) => (i === oa ? c : 1));
  const y = g.node("Mul", [v.name, g.weight(`${l.name}.scale`, dims, s)], {}, `${l.name}/scale`);
  return { name: g.node("Add", [y, g.weight(`${l.name}.shift`, dims, t)], {}, `${l.name}/shift`), shape: v.shape, nchw: v.nchw };
}

function layerNorm(g: GraphBuilder, l: LayerNormalization, v: Val): Val {
  const x = keras(g, v);
  const c = v.shape[v.shape.length - 1] as number;
  const ins = [x.name, l.gamma ? g.weight(`${l.name}.gamma`, [c], float32Of(l.gamma)) : g.weight(`${l.name}.ones`, [c], new Float32Array(c).fill(1))];
  if (l.beta) ins.push(g.weight(`${l.name}.beta`, [c], float32Of(l.beta)));
  return { name: g.node("LayerNormalization", ins, { axis: { i: -1 }, epsilon: { f: l.epsilon } }, `${l.name}/LayerNormalization`), shape: v.shape, nchw: false };
}

/** The inputs of a merge layer in one common layout (NCHW only when all of them are). */
function common(g: GraphBuilder, vs: Val[]): Val[] {
  return vs.every((v) => v.nchw) ? vs : vs.map((v) => keras(g, v));
}

/** One layer applied to its inputs. */
function emitLayer(g: GraphBuilder, l: Layer, ins: Val[]): Val {
  const v = ins[0];
  const shape = (): Shape => l.computeOutputShape(ins.length === 1 ? v.shape : ins.map((i) => i.shape));
  if (l instanceof Sequential) return emitSequential(g, l, v);
  if (l instanceof Functional) {
    const outs = emitFunctional(g, l, ins);
    if (outs.length !== 1) fail(l, `a nested model with ${outs.length} outputs cannot be exported`);
    return outs[0];
  }
  if (l instanceof InputLayer || l instanceof Dropout || l instanceof RandomFlip || l instanceof RandomRotation || l instanceof RandomTranslation || l instanceof RandomZoom)
    return v; // the identity in inference
  if (l instanceof Dense) return dense(g, l, v);
  if (l instanceof Conv2D) return conv2d(g, l, v);
  if (l instanceof MaxPooling2D || l instanceof AveragePooling2D) return pool2d(g, l, v);
  if (l instanceof GlobalAveragePooling2D || l instanceof GlobalMaxPooling2D) return globalPool(g, l, v);
  if (l instanceof BatchNormalization) return batchNorm(g, l, v);
  if (l instanceof LayerNormalization) return layerNorm(g, l, v);
  if (l instanceof Activation) return activation(g, l, l.activation.name, v);
  if (l instanceof Flatten) {
    const x = keras(g, v);
    return { name: g.node("Flatten", [x.name], { axis: { i: 1 } }, `${l.name}/Flatten`), shape: shape(), nchw: false };
  }
  if (l instanceof Reshape) {
    const x = keras(g, v);
    // 0 copies the (dynamic) batch size from the input.
    return { name: g.node("Reshape", [x.name, g.ints([0, ...l.targetShape])], {}, `${l.name}/Reshape`), shape: shape(), nchw: false };
  }
  if (l instanceof Rescaling) {
    let y = v.name;
    if (l.scale !== 1) y = g.node("Mul", [y, g.scalar(l.scale)], {}, `${l.name}/scale`);
    if (l.offset !== 0) y = g.node("Add", [y, g.scalar(l.offset)], {}, `${l.name}/offset`);
    return { name: y, shape: v.shape, nchw: v.nchw };
  }
  if (l instanceof RandomCrop) {
    // Inference takes the centre window (as Ingot's layer does).
    const x = keras(g, v);
    const [h, w] = [v.shape[1], v.shape[2]];
    if (v.shape.length !== 4 || h === null || w === null) fail(l, `the centre crop needs [batch, height, width, channels] images of known size, got ${JSON.stringify(v.shape)}`);
    const top = Math.floor((h - l.height) / 2);
    const left = Math.floor((w - l.width) / 2);
    const y = g.node("Slice", [x.name, g.ints([top, left]), g.ints([top + l.height, left + l.width]), g.ints([1, 2])], {}, `${l.name}/Slice`);
    return { name: y, shape: shape(), nchw: false };
  }
  if (l instanceof Add) {
    const xs = common(g, ins);
    return { name: g.node("Sum", xs.map((x) => x.name), {}, `${l.name}/Sum`), shape: shape(), nchw: xs[0].nchw };
  }
  if (l instanceof Concatenate) {
    const xs = common(g, ins);
    return { name: g.node("Concat", xs.map((x) => x.name), { axis: { i: onnxAxis(xs[0], l.axis) } }, `${l.name}/Concat`), shape: shape(), nchw: xs[0].nchw };
  }
  fail(l, `this layer type cannot be exported to ONNX; the exportable layers are ${KERAS_EXPORTABLE.join(", ")}`);
}

function emitSequential(g: GraphBuilder, m: Sequential, v: Val): Val {
  for (const l of m.layers) v = emitLayer(g, l, [v]);
  return v;
}

function emitFunctional(g: GraphBuilder, m: Functional, ins: Val[]): Val[] {
  const values = new Map(m.inputs.map((t, i) => [t, ins[i]]));
  for (const n of m.nodes) {
    const xs = n.inputs.map((t) => values.get(t)!);
    values.set(n.output, emitLayer(g, n.layer, xs));
  }
  return m.outputs.map((t) => values.get(t)!);
}

/** Graph inputs and outputs: Keras' shapes with the batch dim as the dynamic axis 'batch'. */
function io(name: string, shape: Shape, what: string): GraphIO {
  const dims = shape.map((d, i) => {
    if (i === 0) return d ?? "batch";
    if (d === null) throw new ShapeError(`exportOnnx: the ${what} '${name}' has shape ${JSON.stringify(shape)}; only the batch dim may be unknown — give the model a fixed inputShape`);
    return d;
  });
  return { name, dtype: "float32", shape: dims };
}

/** Checks that the model can be exported (no un-merged LoRA, built). */
function checkModel(model: Model): void {
  if (!model.built || !model.inputShapeSeen) throw new ValueError(`exportOnnx: the keras model '${model.name}' is not built; give its first layer an inputShape (or call it on data) before exporting`);
  for (const m of model.modules()) if (m instanceof LoraLinear && !m.merged) throw new ValueError("exportOnnx: the model has LoRA adapters; merge() them into the weights before exporting");
}

/**
 * Adds a Keras model's graph to g. Inputs: 'input' for a Sequential, the InputLayer names for a
 * Functional; outputs: 'output' for a Sequential, the output layers' names for a Functional.
 */
export function exportKeras(g: GraphBuilder, model: Model): void {
  checkModel(model);
  if (model instanceof Sequential) {
    const x = g.input(io("input", model.inputShapeSeen as Shape, "input"));
    const y = keras(g, emitSequential(g, model, { name: x, shape: model.inputShapeSeen as Shape, nchw: false }));
    g.output(y.name, io("output", model.outputShapeSeen!, "output"));
    return;
  }
  if (!(model instanceof Functional)) throw new ValueError(`exportOnnx: cannot export a keras model of class ${model.className}; Sequential and Functional models can be exported`);
  const ins = model.inputs.map((t) => ({ name: g.input(io(t.sourceLayer.name, t.shape, "input")), shape: t.shape, nchw: false }));
  const outs = emitFunctional(g, model, ins);
  const names = new Set<string>();
  outs.forEach((v, i) => {
    let name = model.outputNames[i];
    for (let k = 1; names.has(name); k++) name = `${model.outputNames[i]}_${k}`;
    names.add(name);
    g.output(keras(g, v).name, io(name, model.outputs[i].shape, "output"));
  });
}
