// Keras models from their config.json alone (what model.save writes): the output shape of every layer
// by the layers' own shape rules, and from the shapes each layer's parameter count (as Keras counts
// them: BatchNormalization's moving statistics included, as non-trainable) and forward FLOPs per sample.
import { ValueError } from "../tensor/index.js";

type Shape = (number | null)[]; // without the batch dim

export interface KerasLayerEstimate {
  name: string;
  className: string;
  outputShape: Shape;
  params: number;
  trainable: number;
  /** Forward FLOPs per sample (multiply-adds × 2; elementwise work not counted). */
  flops: number;
}

export interface KerasEstimate {
  kind: "keras";
  className: string;
  layers: KerasLayerEstimate[];
  params: number;
  trainable: number;
  /** Forward FLOPs per sample. */
  flops: number;
  /** Values per sample of the input and every layer output (what training keeps for the backward pass). */
  activationValues: number;
  /** The largest input or output of one layer, per sample. */
  maxLayerValues: number;
}

type Spec = { className: string; name?: string; config: Record<string, any>; inboundNodes?: unknown[] };

const prod = (s: Shape) => s.reduce<number>((n, d) => n * (d ?? 1), 1);

function fail(layer: string, msg: string): never {
  throw new ValueError(`estimate: keras layer '${layer}': ${msg}`);
}

function known(layer: string, d: number | null, what: string): number {
  if (d === null || d === undefined) fail(layer, `its ${what} is not fixed in the config; the estimate needs every size`);
  return d;
}

const pair = (v: unknown, dflt: number): [number, number] => (v === undefined || v === null ? [dflt, dflt] : Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [Number(v), Number(v)]);

/** One layer: its output shape, parameters (trainable) and forward FLOPs per sample, from its input shapes. */
function layerEstimate(spec: Spec, inputs: Shape[]): KerasLayerEstimate {
  const c = spec.config;
  const name = String(c.name ?? spec.name ?? spec.className);
  const x = inputs[0];
  const trainableFlag = c.trainable !== false;
  let out: Shape = x;
  let params = 0;
  let nonTrainable = 0;
  let flops = 0;
  switch (spec.className) {
    case "InputLayer":
      out = (c.batchInputShape as Shape).slice(1);
      break;
    case "Dense": {
      const inDim = known(name, x[x.length - 1], "input's last dimension");
      const units = Number(c.units);
      out = [...x.slice(0, -1), units];
      params = inDim * units + (c.useBias === false ? 0 : units);
      flops = 2 * inDim * units * prod(x.slice(0, -1));
      break;
    }
    case "QuantizedDense": {
      // compress.quantize's int8/int4 Dense: counted as its logical weights, which do not train.
      const inDim = Number(c.inFeatures);
      const units = Number(c.units);
      out = [...x.slice(0, -1), units];
      nonTrainable = inDim * units + (c.useBias === false ? 0 : units);
      flops = 2 * inDim * units * prod(x.slice(0, -1));
      break;
    }
    case "Conv2D": {
      const last = c.dataFormat !== "channelsFirst";
      const [H, W, C] = last ? [x[0], x[1], x[2]] : [x[1], x[2], x[0]];
      const cin = known(name, C, "channel count");
      const [kh, kw] = pair(c.kernelSize, NaN);
      const [sh, sw] = pair(c.strides, 1);
      const [dh, dw] = pair(c.dilationRate, 1);
      const oh = outSize(H, (kh - 1) * dh + 1, sh, c.padding);
      const ow = outSize(W, (kw - 1) * dw + 1, sw, c.padding);
      const f = Number(c.filters);
      out = last ? [oh, ow, f] : [f, oh, ow];
      params = kh * kw * cin * f + (c.useBias === false ? 0 : f);
      flops = 2 * kh * kw * cin * f * known(name, oh, "height") * known(name, ow, "width");
      break;
    }
    case "MaxPooling2D":
    case "AveragePooling2D": {
      const last = c.dataFormat !== "channelsFirst";
      const [H, W, C] = last ? [x[0], x[1], x[2]] : [x[1], x[2], x[0]];
      const [ph, pw] = pair(c.poolSize, 2);
      const [sh, sw] = c.strides === undefined || c.strides === null ? [ph, pw] : pair(c.strides, 1);
      const oh = outSize(H, ph, sh, c.padding);
      const ow = outSize(W, pw, sw, c.padding);
      out = last ? [oh, ow, C] : [C, oh, ow];
      break;
    }
    case "GlobalAveragePooling2D":
    case "GlobalMaxPooling2D":
      out = [c.dataFormat === "channelsFirst" ? x[0] : x[2]];
      break;
    case "Flatten":
      out = [x.some((d) => d === null) ? null : prod(x)];
      break;
    case "Reshape": {
      const t = c.targetShape as number[];
      const knownPart = t.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      out = t.map((d) => (d === -1 ? (x.some((e) => e === null) ? null : prod(x) / knownPart) : d));
      break;
    }
    case "BatchNormalization": {
      const axis = (c.axis ?? -1) as number;
      const ch = known(name, x[(axis < 0 ? axis + x.length + 1 : axis) - 1], "channel axis");
      params = (c.scale === false ? 0 : ch) + (c.center === false ? 0 : ch);
      nonTrainable = 2 * ch; // moving mean and variance
      break;
    }
    case "LayerNormalization": {
      const ch = known(name, x[x.length - 1], "last dimension");
      params = (c.scale === false ? 0 : ch) + (c.center === false ? 0 : ch);
      break;
    }
    case "Embedding":
      out = [...x, Number(c.outputDim)];
      params = Number(c.inputDim) * Number(c.outputDim);
      break;
    case "LSTM":
    case "GRU": {
      const gates = spec.className === "LSTM" ? 4 : 3;
      const u = Number(c.units);
      const f = known(name, x[1], "features dim");
      const steps = known(name, x[0], "number of time steps");
      // As nn.LSTM/GRU (PyTorch layout): weight_ih, weight_hh and two bias vectors.
      params = gates * u * (f + u) + (c.useBias === false ? 0 : 2 * gates * u);
      flops = 2 * gates * u * (f + u) * steps;
      out = c.returnSequences ? [x[0], u] : [u];
      break;
    }
    case "Add":
      out = inputs[0];
      break;
    case "Concatenate": {
      const nd = x.length + 1;
      const ax = ((c.axis ?? -1) as number) < 0 ? (c.axis ?? -1) + nd : c.axis;
      out = [...x];
      out[ax - 1] = inputs.some((s) => s[ax - 1] === null) ? null : inputs.reduce((n, s) => n + (s[ax - 1] as number), 0);
      break;
    }
    case "Dropout":
    case "Activation":
    case "Rescaling":
    case "RandomFlip":
    case "RandomRotation":
    case "RandomTranslation":
    case "RandomZoom":
      break;
    case "RandomCrop":
      out = [Number(c.height), Number(c.width), x[2]];
      break;
    default:
      fail(name, `class '${spec.className}' is not known to the estimator; pass the model folder instead of its config so the loaded model is counted`);
  }
  const total = params + nonTrainable;
  return { name, className: spec.className, outputShape: out, params: total, trainable: trainableFlag ? params : 0, flops };
}

function outSize(size: number | null, span: number, stride: number, padding: unknown): number | null {
  if (size === null) return null;
  return padding === "same" ? Math.ceil(size / stride) : Math.floor((size - span) / stride) + 1;
}

function summarize(className: string, layers: KerasLayerEstimate[], inputValues: number): KerasEstimate {
  const sum = (f: (l: KerasLayerEstimate) => number) => layers.reduce((n, l) => n + f(l), 0);
  const outs = layers.filter((l) => l.className !== "InputLayer").map((l) => prod(l.outputShape));
  return {
    kind: "keras",
    className,
    layers,
    params: sum((l) => l.params),
    trainable: sum((l) => l.trainable),
    flops: sum((l) => l.flops),
    activationValues: inputValues + outs.reduce((a, b) => a + b, 0),
    maxLayerValues: Math.max(inputValues, ...outs),
  };
}

/** Walks a Sequential or Functional config (config.json's `className` and `config`). */
export function kerasEstimate(className: string, config: Record<string, any>): KerasEstimate {
  const layers = config.layers as Spec[] | undefined;
  if (!Array.isArray(layers)) throw new ValueError(`estimate: the keras config has no 'layers' list; pass a folder written by model.save(dir)`);
  if (className === "Sequential") {
    const first = layers[0]?.config?.batchInputShape ?? config.buildInputShape;
    if (!Array.isArray(first)) throw new ValueError(`estimate: the Sequential model's input shape is not in its config (give the first layer an inputShape)`);
    let shape = (first as Shape).slice(1);
    const input = prod(shape);
    const out = layers.map((l) => {
      const e = layerEstimate(l, [shape]);
      shape = e.outputShape;
      return e;
    });
    return summarize(className, out, input);
  }
  if (className === "Functional" || className === "Model") {
    const shapes = new Map<string, Shape>(); // "name/node" → output shape
    const done: KerasLayerEstimate[] = [];
    let pending = layers.flatMap((l) => (l.className === "InputLayer" ? [[l, 0] as const] : ((l.inboundNodes ?? []) as unknown[]).map((_, k) => [l, k] as const)));
    let input = 0;
    while (pending.length) {
      const next: typeof pending = [];
      for (const [l, k] of pending) {
        const name = String(l.name ?? l.config.name);
        let ins: Shape[] = [];
        if (l.className !== "InputLayer") {
          const refs = (l.inboundNodes as unknown[][])[k] as [string, number][];
          const got = refs.map(([n, i]) => shapes.get(`${n}/${i}`));
          if (got.some((s) => !s)) {
            next.push([l, k]);
            continue;
          }
          ins = got as Shape[];
        }
        const e = layerEstimate(l, ins);
        if (l.className === "InputLayer") input += prod(e.outputShape);
        shapes.set(`${name}/${k}`, e.outputShape);
        // A layer applied twice shares its weights: count its parameters once.
        done.push(k === 0 ? e : { ...e, params: 0, trainable: 0 });
      }
      if (next.length === pending.length) throw new ValueError(`estimate: the functional graph cannot be walked: layers ${next.map(([l]) => l.config.name).join(", ")} wait for inputs that never appear`);
      pending = next;
    }
    return summarize(className, done, input);
  }
  throw new ValueError(`estimate: keras model class '${className}' is not known; expected Sequential or Functional`);
}
