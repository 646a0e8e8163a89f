// Recurrent layers with PyTorch's semantics and parameter names, so a PyTorch state_dict loads
// unchanged: RNN (tanh/relu), LSTM (with optional projections), GRU, and the one-step cells.
import { type DType, DTypeError, shapeStr, ShapeError, type Tensor, ValueError } from "../tensor/index.js";
import { add, chunk, concat, mul, select, squeeze, stack, sub, transpose, unsqueeze, zeros } from "../ops/index.js";
import { relu } from "../ops/activation.js";
import { sigmoid, tanh } from "../ops/unary.js";
import { linear } from "../ops/matmul.js";
import { dropout } from "../ops/dropout.js";
import { Module } from "./module.js";
import { Parameter } from "./parameter.js";
import { uniform_ } from "./init.js";
import { checkSize } from "./linear.js";
import { empty } from "./util.js";

/** The cell computed at each step (PyTorch's RNNBase.mode). */
export type RNNMode = "RNN_TANH" | "RNN_RELU" | "LSTM" | "GRU";

/** Rows of W_ih and W_hh per hidden unit: one per gate. */
const GATES: Record<RNNMode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

interface StepWeights {
  wHh: Tensor;
  bHh: Tensor | null;
  /** LSTM projection [projSize, hiddenSize], or null. */
  wHr: Tensor | null;
}

/**
 * One time step. xw = x·W_ihᵀ + b_ih [N, G·H] (computed for all steps at once by the layers),
 * h [N, Hout] and, for LSTM, c [N, H]. Returns [h', c'] (c' is null except for LSTM).
 */
function step(mode: RNNMode, xw: Tensor, h: Tensor, c: Tensor | null, w: StepWeights): [Tensor, Tensor | null] {
  const hw = linear(h, w.wHh, w.bHh);
  switch (mode) {
    case "RNN_TANH":
      return [tanh(add(xw, hw)), null];
    case "RNN_RELU":
      return [relu(add(xw, hw)), null];
    case "LSTM": {
      // PyTorch's gate order along the rows of W: input, forget, cell (g), output.
      const [i, f, g, o] = chunk(add(xw, hw), 4, -1);
      const c2 = add(mul(sigmoid(f), c!), mul(sigmoid(i), tanh(g)));
      const h2 = mul(sigmoid(o), tanh(c2));
      return [w.wHr ? linear(h2, w.wHr) : h2, c2];
    }
    case "GRU": {
      // Gate order: reset, update, new.
      const [xr, xz, xn] = chunk(xw, 3, -1);
      const [hr, hz, hn] = chunk(hw, 3, -1);
      const r = sigmoid(add(xr, hr));
      const z = sigmoid(add(xz, hz));
      // NOTE: r multiplies (W_hn·h + b_hn), bias included, as in PyTorch and cuDNN (not W_hn·(r∘h)).
      const n = tanh(add(xn, mul(r, hn)));
      return [add(n, mul(z, sub(h, n))), null]; // (1 − z)·n + z·h
    }
  }
}

function checkDTypes(name: string, x: Tensor, param: Tensor, what: string): void {
  if (x.dtype !== param.dtype)
    throw new DTypeError(`${name}: ${what} has dtype ${x.dtype} but the parameters are ${param.dtype}; convert one of them (module.to('${x.dtype}') or x.to('${param.dtype}'))`);
}

export interface RNNBaseOptions {
  /** Stacked layers (default 1); each layer's output sequence is the next one's input. */
  numLayers?: number;
  /** Learn the biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** Input and output are [batch, time, features] instead of [time, batch, features] (default false; states are never batch-first). */
  batchFirst?: boolean;
  /** Dropout probability on the outputs of every layer but the last, in training mode (default 0). */
  dropout?: number;
  /** Also run every layer backwards in time and concatenate both outputs (default false). */
  bidirectional?: boolean;
  dtype?: DType;
}

export interface RNNOptions extends RNNBaseOptions {
  /** The cell's activation (default 'tanh'). */
  nonlinearity?: "tanh" | "relu";
}

export interface LSTMOptions extends RNNBaseOptions {
  /** If > 0, h is projected to this size by weight_hr (default 0: no projection). */
  projSize?: number;
}

/**
 * What RNN, LSTM and GRU share: the parameters weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k},
 * bias_hh_l{k} (and weight_hr_l{k} for a projected LSTM), with the suffix _reverse for the backward
 * direction, and the loop over layers, directions and time steps.
 */
export abstract class RNNBase extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  readonly projSize: number;

  constructor(
    readonly mode: RNNMode,
    readonly inputSize: number,
    readonly hiddenSize: number,
    opts: LSTMOptions,
  ) {
    super();
    const name = this.constructor.name;
    checkSize(name, "inputSize", inputSize, 1);
    checkSize(name, "hiddenSize", hiddenSize, 1);
    this.numLayers = opts.numLayers ?? 1;
    checkSize(name, "numLayers", this.numLayers, 1);
    this.bias = opts.bias ?? true;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = opts.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1)) throw new ValueError(`${name}: dropout must be in [0, 1], got ${this.dropout}`);
    this.bidirectional = opts.bidirectional ?? false;
    this.projSize = opts.projSize ?? 0;
    checkSize(name, "projSize", this.projSize);
    if (this.projSize >= hiddenSize) throw new ValueError(`${name}: projSize (${this.projSize}) must be smaller than hiddenSize (${hiddenSize})`);
    const gh = GATES[mode] * hiddenSize;
    const outSize = this.projSize || hiddenSize;
    const dirs = this.bidirectional ? 2 : 1;
    for (let l = 0; l < this.numLayers; l++)
      for (let d = 0; d < dirs; d++) {
        const sfx = `_l${l}${d ? "_reverse" : ""}`;
        const p = (shape: number[]) => new Parameter(empty(shape, opts.dtype));
        this.registerParameter(`weight_ih${sfx}`, p([gh, l === 0 ? inputSize : outSize * dirs]));
        this.registerParameter(`weight_hh${sfx}`, p([gh, outSize]));
        if (this.bias) {
          this.registerParameter(`bias_ih${sfx}`, p([gh]));
          this.registerParameter(`bias_hh${sfx}`, p([gh]));
        }
        if (this.projSize) this.registerParameter(`weight_hr${sfx}`, p([this.projSize, hiddenSize]));
      }
    this.resetParameters();
  }

  /** PyTorch's default: every weight and bias in U(−1/√hiddenSize, 1/√hiddenSize). */
  resetParameters(): void {
    const bound = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters(false)) uniform_(p, -bound, bound);
  }

  /** The parameters of each (layer, direction) in PyTorch's order: [w_ih, w_hh, b_ih, b_hh, (w_hr)]. */
  get allWeights(): Parameter[][] {
    const out: Parameter[][] = [];
    for (let l = 0; l < this.numLayers; l++)
      for (let d = 0; d < (this.bidirectional ? 2 : 1); d++) {
        const sfx = `_l${l}${d ? "_reverse" : ""}`;
        const names = ["weight_ih", "weight_hh", ...(this.bias ? ["bias_ih", "bias_hh"] : []), ...(this.projSize ? ["weight_hr"] : [])];
        out.push(names.map((n) => this.param(n + sfx)!));
      }
    return out;
  }

  private param(name: string): Parameter | null {
    return ((this as Record<string, unknown>)[name] as Parameter | undefined) ?? null;
  }

  /**
   * Runs the whole stack. input: [T, N, inputSize] ([N, T, inputSize] when batchFirst, [T, inputSize]
   * unbatched); states: [h0] or [h0, c0], each [numLayers·numDirections, N, size] ([…, size] unbatched),
   * or null for zeros. Returns the last layer's outputs at every step and the final states.
   */
  protected run(input: Tensor, states: Tensor[] | null): [Tensor, Tensor[]] {
    const name = this.constructor.name;
    if (input.ndim !== 2 && input.ndim !== 3)
      throw new ShapeError(`${name}: expected a 3-d input [${this.batchFirst ? "batch, time" : "time, batch"}, inputSize] or a 2-d unbatched [time, inputSize], got ${shapeStr(input.shape)}`);
    const batched = input.ndim === 3;
    const x = batched ? (this.batchFirst ? transpose(input, 0, 1) : input) : unsqueeze(input, 1); // (T, N, Hin)
    const [T, N, F] = x.shape;
    if (F !== this.inputSize) throw new ShapeError(`${name}: input ${shapeStr(input.shape)} has ${F} features in its last dim, expected inputSize = ${this.inputSize}`);
    if (T === 0) throw new ShapeError(`${name}: input ${shapeStr(input.shape)} has no time steps; give a sequence of length ≥ 1`);
    const w0 = this.param("weight_ih_l0")!;
    checkDTypes(name, input, w0, "input");
    const dirs = this.bidirectional ? 2 : 1;
    const L = this.numLayers;
    const sizes = this.mode === "LSTM" ? [this.projSize || this.hiddenSize, this.hiddenSize] : [this.hiddenSize];
    const stateNames = this.mode === "LSTM" ? ["h0", "c0"] : ["h0"];
    const init = sizes.map((size, i) => {
      const want = batched ? [L * dirs, N, size] : [L * dirs, size];
      const s = states?.[i];
      if (!s) return zeros([L * dirs, N, size], { dtype: input.dtype });
      if (s.ndim !== want.length || s.shape.some((d, j) => d !== want[j]))
        throw new ShapeError(`${name}: ${stateNames[i]} must be ${shapeStr(want)} ([numLayers·numDirections, ${batched ? "batch, " : ""}size]) for input ${shapeStr(input.shape)}, got ${shapeStr(s.shape)}`);
      checkDTypes(name, s, w0, stateNames[i]);
      return batched ? s : unsqueeze(s, 1);
    });
    const finals: Tensor[][] = sizes.map(() => []);
    let layerIn = x;
    for (let l = 0; l < L; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < dirs; d++) {
        const sfx = `_l${l}${d ? "_reverse" : ""}`;
        const w = { wHh: this.param(`weight_hh${sfx}`)!, bHh: this.param(`bias_hh${sfx}`), wHr: this.param(`weight_hr${sfx}`) };
        const xw = linear(layerIn, this.param(`weight_ih${sfx}`)!, this.param(`bias_ih${sfx}`)); // (T, N, G·H): the input part of every step at once
        let h = select(init[0], 0, l * dirs + d);
        let c = init[1] ? select(init[1], 0, l * dirs + d) : null;
        const hs: Tensor[] = new Array<Tensor>(T);
        for (let s = 0; s < T; s++) {
          const t = d ? T - 1 - s : s; // the reverse direction reads the sequence backwards
          [h, c] = step(this.mode, select(xw, 0, t), h, c, w);
          hs[t] = h;
        }
        outs.push(stack(hs, 0)); // (T, N, Hout)
        finals[0].push(h);
        if (c) finals[1].push(c);
      }
      layerIn = dirs === 2 ? concat(outs, 2) : outs[0];
      if (l < L - 1 && this.dropout > 0 && this.training) layerIn = dropout(layerIn, this.dropout, true);
    }
    const out = batched ? (this.batchFirst ? transpose(layerIn, 0, 1) : layerIn) : squeeze(layerIn, 1);
    return [out, finals.map((f) => (batched ? stack(f, 0) : squeeze(stack(f, 0), 1)))];
  }

  override extraRepr(): string {
    const parts = [`${this.inputSize}, ${this.hiddenSize}`];
    if (this.projSize) parts.push(`projSize=${this.projSize}`);
    if (this.numLayers !== 1) parts.push(`numLayers=${this.numLayers}`);
    if (!this.bias) parts.push("bias=false");
    if (this.batchFirst) parts.push("batchFirst=true");
    if (this.dropout) parts.push(`dropout=${this.dropout}`);
    if (this.bidirectional) parts.push("bidirectional=true");
    return parts.join(", ");
  }
}

function rnnMode(layer: string, nonlinearity: string | undefined): RNNMode {
  const n = nonlinearity ?? "tanh";
  if (n !== "tanh" && n !== "relu") throw new ValueError(`${layer}: unknown nonlinearity '${n}'; expected 'tanh' or 'relu'`);
  return n === "tanh" ? "RNN_TANH" : "RNN_RELU";
}

/**
 * Elman RNN: h_t = act(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh), act tanh or relu.
 * `call(input, h0?)` returns [output, hN]: output [T, N, D·hiddenSize] (the last layer's h at every
 * step, both directions concatenated), hN [numLayers·D, N, hiddenSize].
 * @example const rnn = new RNN(10, 20, {numLayers: 2}); const [out, hN] = rnn.call(x); // x (T, N, 10)
 */
export class RNN extends RNNBase {
  readonly nonlinearity: "tanh" | "relu";
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super(rnnMode("RNN", opts.nonlinearity), inputSize, hiddenSize, { ...opts, projSize: 0 });
    this.nonlinearity = opts.nonlinearity ?? "tanh";
  }

  override forward(input: Tensor, h0: Tensor | null = null): [Tensor, Tensor] {
    const [out, [hN]] = this.run(input, h0 ? [h0] : null);
    return [out, hN];
  }
}

/**
 * Long short-term memory: gates i, f, g, o (PyTorch's order), c_t = f∘c_{t−1} + i∘g, h_t = o∘tanh(c_t)
 * (then ·W_hrᵀ with projSize). `call(input, [h0, c0]?)` returns [output, [hN, cN]].
 * @example const lstm = new LSTM(8, 16, {batchFirst: true}); const [out, [h, c]] = lstm.call(x); // x (N, T, 8)
 */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: LSTMOptions = {}) {
    super("LSTM", inputSize, hiddenSize, opts);
  }

  override forward(input: Tensor, hx: readonly [Tensor, Tensor] | null = null): [Tensor, [Tensor, Tensor]] {
    if (hx && (!Array.isArray(hx) || hx.length !== 2))
      throw new ValueError("LSTM: the initial state must be a pair [h0, c0] (or null for zeros)");
    const [out, [hN, cN]] = this.run(input, hx ? [...hx] : null);
    return [out, [hN, cN]];
  }
}

/**
 * Gated recurrent unit: r, z = σ(…), n = tanh(W_in·x + b_in + r∘(W_hn·h + b_hn)), h' = (1 − z)∘n + z∘h.
 * `call(input, h0?)` returns [output, hN] as RNN does.
 */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNBaseOptions = {}) {
    super("GRU", inputSize, hiddenSize, { ...opts, projSize: 0 });
  }

  override forward(input: Tensor, h0: Tensor | null = null): [Tensor, Tensor] {
    const [out, [hN]] = this.run(input, h0 ? [h0] : null);
    return [out, hN];
  }
}

export interface RNNCellOptions {
  /** Learn bias_ih and bias_hh (default true). */
  bias?: boolean;
  dtype?: DType;
}

/** The cells' shared parameters (weight_ih, weight_hh, bias_ih, bias_hh) and their one step. */
export abstract class RNNCellBase extends Module {
  weight_ih: Parameter;
  weight_hh: Parameter;
  bias_ih: Parameter | null;
  bias_hh: Parameter | null;

  constructor(
    readonly mode: RNNMode,
    readonly inputSize: number,
    readonly hiddenSize: number,
    opts: RNNCellOptions,
  ) {
    super();
    checkSize(this.constructor.name, "inputSize", inputSize, 1);
    checkSize(this.constructor.name, "hiddenSize", hiddenSize, 1);
    const gh = GATES[mode] * hiddenSize;
    this.weight_ih = new Parameter(empty([gh, inputSize], opts.dtype));
    this.weight_hh = new Parameter(empty([gh, hiddenSize], opts.dtype));
    this.bias_ih = opts.bias === false ? null : new Parameter(empty([gh], opts.dtype));
    this.bias_hh = opts.bias === false ? null : new Parameter(empty([gh], opts.dtype));
    this.resetParameters();
  }

  /** PyTorch's default: U(−1/√hiddenSize, 1/√hiddenSize) for every weight and bias. */
  resetParameters(): void {
    const bound = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters(false)) uniform_(p, -bound, bound);
  }

  /** input [N, inputSize] or unbatched [inputSize]; states [N, hiddenSize] ([hiddenSize]) or null for zeros. */
  protected run(input: Tensor, states: (Tensor | null)[]): [Tensor, Tensor | null] {
    const name = this.constructor.name;
    if (input.ndim !== 1 && input.ndim !== 2)
      throw new ShapeError(`${name}: expected a 2-d input [batch, inputSize] or a 1-d unbatched [inputSize], got ${shapeStr(input.shape)}`);
    if (input.shape[input.ndim - 1] !== this.inputSize)
      throw new ShapeError(`${name}: input ${shapeStr(input.shape)} has ${input.shape[input.ndim - 1]} features in its last dim, expected inputSize = ${this.inputSize}`);
    checkDTypes(name, input, this.weight_ih, "input");
    const batched = input.ndim === 2;
    const x = batched ? input : unsqueeze(input, 0);
    const want = batched ? [x.shape[0], this.hiddenSize] : [this.hiddenSize];
    const [h, c] = states.map((s, i) => {
      if (!s) return zeros([x.shape[0], this.hiddenSize], { dtype: input.dtype });
      if (s.ndim !== want.length || s.shape.some((d, j) => d !== want[j]))
        throw new ShapeError(`${name}: ${i ? "c" : "h"} must be ${shapeStr(want)} for input ${shapeStr(input.shape)}, got ${shapeStr(s.shape)}`);
      checkDTypes(name, s, this.weight_ih, i ? "c" : "h");
      return batched ? s : unsqueeze(s, 0);
    });
    const [h2, c2] = step(this.mode, linear(x, this.weight_ih, this.bias_ih), h, c ?? null, { wHh: this.weight_hh, bHh: this.bias_hh, wHr: null });
    return batched ? [h2, c2] : [squeeze(h2, 0), c2 && squeeze(c2, 0)];
  }

  override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}${this.bias_ih ? "" : ", bias=false"}`;
  }
}

export interface RNNCellCtorOptions extends RNNCellOptions {
  nonlinearity?: "tanh" | "relu";
}

/** One Elman step: h' = act(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh). `call(input, h?)` returns h'. */
export class RNNCell extends RNNCellBase {
  readonly nonlinearity: "tanh" | "relu";
  constructor(inputSize: number, hiddenSize: number, opts: RNNCellCtorOptions = {}) {
    super(rnnMode("RNNCell", opts.nonlinearity), inputSize, hiddenSize, opts);
    this.nonlinearity = opts.nonlinearity ?? "tanh";
  }

  override forward(input: Tensor, h: Tensor | null = null): Tensor {
    return this.run(input, [h])[0];
  }
}

/** One LSTM step. `call(input, [h, c]?)` returns [h', c']. */
export class LSTMCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNCellOptions = {}) {
    super("LSTM", inputSize, hiddenSize, opts);
  }

  override forward(input: Tensor, hx: readonly [Tensor, Tensor] | null = null): [Tensor, Tensor] {
    if (hx && (!Array.isArray(hx) || hx.length !== 2)) throw new ValueError("LSTMCell: the state must be a pair [h, c] (or null for zeros)");
    const [h, c] = this.run(input, hx ? [...hx] : [null, null]);
    return [h, c!];
  }
}

/** One GRU step. `call(input, h?)` returns h'. */
export class GRUCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNCellOptions = {}) {
    super("GRU", inputSize, hiddenSize, opts);
  }

  override forward(input: Tensor, h: Tensor | null = null): Tensor {
    return this.run(input, [h])[0];
  }
}
