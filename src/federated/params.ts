// Model weights as one flat float vector (the unit every strategy, mask and noise works on) and back,
// and weights/updates as safetensors bodies for the HTTP protocol.
import { IngotError, Storage, Tensor } from "../tensor/index.js";
import { parseSafetensors, serializeSafetensors } from "../io/safetensors.js";

/** The names and shapes of a model's weights, in a fixed order: the layout of a flat vector. */
export interface ParamLayout {
  names: string[];
  shapes: number[][];
  /** Total number of scalars. */
  size: number;
}

/** The layout of a state dict (float tensors only, in insertion order). */
export function layoutOf(state: Record<string, Tensor>): ParamLayout {
  const names: string[] = [];
  const shapes: number[][] = [];
  let size = 0;
  for (const [k, t] of Object.entries(state)) {
    if (t.dtype !== "float32" && t.dtype !== "float64")
      throw new IngotError(`federated: weight '${k}' has dtype ${t.dtype}; only float32/float64 weights can be averaged`);
    names.push(k);
    shapes.push([...t.shape]);
    size += t.size;
  }
  return { names, shapes, size };
}

/** Concatenates a state dict's tensors into one Float32Array in the layout's order. */
export function flattenState(state: Record<string, Tensor>, layout: ParamLayout = layoutOf(state)): Float32Array {
  const out = new Float32Array(layout.size);
  let off = 0;
  layout.names.forEach((name, i) => {
    const t = state[name];
    if (!t) throw new IngotError(`federated: the weights lack '${name}'; every client must train the same model`);
    if (t.shape.join() !== layout.shapes[i].join())
      throw new IngotError(`federated: weight '${name}' has shape [${t.shape}] but the model expects [${layout.shapes[i]}]`);
    const data = t.contiguous().dataSync();
    for (let j = 0; j < data.length; j++) out[off + j] = Number(data[j]);
    off += data.length;
  });
  return out;
}

/** Splits a flat vector back into float32 tensors named by the layout (copies). */
export function unflattenState(vec: Float32Array | Float64Array, layout: ParamLayout): Record<string, Tensor> {
  if (vec.length !== layout.size) throw new IngotError(`federated: a vector of ${vec.length} values does not fit a model of ${layout.size} parameters`);
  const out: Record<string, Tensor> = {};
  let off = 0;
  layout.names.forEach((name, i) => {
    const n = layout.shapes[i].reduce((a, b) => a * b, 1);
    out[name] = new Tensor(new Storage("float32", Float32Array.from(vec.subarray(off, off + n))), layout.shapes[i]);
    off += n;
  });
  return out;
}

/** A flat vector as a safetensors body: one 1-D tensor named `name`, with string metadata. */
export function encodeVector(vec: Float32Array | Int32Array, metadata: Record<string, string> = {}, name = "update"): Uint8Array {
  const t = new Tensor(new Storage(vec instanceof Int32Array ? "int32" : "float32", vec), [vec.length]);
  return serializeSafetensors({ [name]: t }, metadata);
}

/** Reads a body written by encodeVector; checks the tensor name and, when given, the length. */
export function decodeVector(body: Uint8Array, what: string, expectLength?: number, name = "update"): { vec: Float32Array | Int32Array; metadata: Record<string, string> } {
  const { tensors, metadata } = parseSafetensors(body, what);
  const t = tensors[name];
  if (!t || t.ndim !== 1) throw new IngotError(`federated: ${what} holds no 1-D tensor '${name}' (found ${Object.keys(tensors).join(", ") || "none"})`);
  if (expectLength !== undefined && t.size !== expectLength)
    throw new IngotError(`federated: ${what} holds ${t.size} values but the model has ${expectLength}; do the server and client use the same --model?`);
  const data = t.dataSync();
  return { vec: data instanceof Int32Array ? data : Float32Array.from(data as ArrayLike<number>), metadata };
}

/** Euclidean norm of a vector (float64 accumulation). */
export function l2Norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}
