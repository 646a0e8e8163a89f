// Per-sample gradients (Opacus's GradSampleModule), computed from one batched forward and backward.
//
// Every module that owns trainable parameters gets its `forward` wrapped (on the instance; the
// class is untouched). While grad mode is on, the wrapper keeps the layer's input (the activation)
// and adds a zero "probe" tensor that requires grad to the layer's output: after `loss.backward()`
// the probe's `.grad` is ∂loss/∂output for every sample — the "backprops" Opacus gets from a
// backward hook. From activations A and backprops G the per-sample gradient of each weight is
// one batched product (Goodfellow 2015, "Efficient per-example gradient computations"; Opacus's
// grad_sample/*.py):
//   Linear     ∂W_b = G_bᵀ·A_b (summed over any middle dims), ∂bias_b = Σ G_b
//   Conv2d     ∂W_b = G_b·unfold(A_b)ᵀ, computed by the weight-gradient kernel with the batch
//              folded into the groups (Conv1d as Conv2d with H = 1), ∂bias_b = Σ_hw G_b
//   Embedding  ∂W_b = scatter-add of G_b into the rows named by the ids
//   LayerNorm  ∂γ_b = Σ G_b·x̂_b, ∂β_b = Σ G_b (x̂ recomputed without affine); GroupNorm alike
//   keras Dense (kernel [in, units]) like Linear, keras Conv2D like Conv2d; the probe put before
//              the activation.
// Any other module with parameters takes the fallback: for each sample, its forward is run again
// on that sample alone and backpropagated with that sample's backprop (a vector–Jacobian product
// per sample: microbatches of 1 restricted to that module). It is exact for any module that treats
// samples independently; modules that mix samples (batch norm) are refused by validateModule.
import { IngotError, shapeStr, Tensor, ValueError } from "../tensor/index.js";
import { add, bmm, conv2dGradWeight, mul, permute, reshape, scatterAdd, stack, sum, transpose, zeros } from "../ops/index.js";
import { layerNorm } from "../ops/norm.js";
import { enableGrad, isGradEnabled, noGrad } from "../autograd/index.js";
import { Conv1d, Conv2d, Embedding, GroupNorm, LayerNorm, Linear, Module, Parameter } from "../nn/index.js";
import { Dense } from "../keras/layers/core.js";
import { Conv2D as KerasConv2D } from "../keras/layers/conv.js";

/** How the loss is reduced over the batch: "mean" (the default, as in Opacus) scales the backprops by the batch size. */
export type LossReduction = "mean" | "sum";

/** One recorded call of a wrapped module: its arguments, its probes (one per output tensor). */
interface Call {
  args: unknown[];
  probes: Tensor[];
  /** The batch dim of each probed output (0, or 1 for the hidden states of a batchFirst RNN). */
  batchDims: number[];
}

/** A per-sample gradient rule: which parameters it covers and how to compute them from calls. */
interface Rule {
  readonly name: string;
  /** Per-sample gradients [B, ...p.shape] of the module's own trainable parameters for one call. */
  compute(m: Module, call: Call, G: Tensor[], B: number, orig: (...a: unknown[]) => unknown): Map<Parameter, Tensor>;
  /** Runs the module and adds the probe(s); default: probe on the output. */
  forward?(m: Module, args: unknown[], orig: (...a: unknown[]) => unknown, probe: (t: Tensor) => Tensor): unknown;
}

/** Modules whose per-sample gradients are vectorized (the rest use the per-sample fallback). */
export const VECTORIZED_LAYERS = ["Linear", "Conv1d", "Conv2d", "Embedding", "LayerNorm", "GroupNorm", "keras Dense", "keras Conv2D"] as const;

/** [B, T, F]: every middle dim folded into one. */
function to3d(t: Tensor, B: number): Tensor {
  return reshape(t, [B, -1, t.shape[t.ndim - 1]]);
}

const linearRule: Rule = {
  name: "Linear",
  compute(m, call, [G], B) {
    const l = m as Linear;
    const A = call.args[0] as Tensor;
    const out = new Map<Parameter, Tensor>();
    const g = to3d(G, B);
    if (l.weight.requiresGrad) out.set(l.weight, bmm(transpose(g, 1, 2), to3d(A, B))); // [B, out, in]
    if (l.bias?.requiresGrad) out.set(l.bias, sum(g, 1));
    return out;
  },
};

const denseRule: Rule = {
  name: "keras Dense",
  forward(m, args, orig, probe) {
    // The probe goes on the pre-activation: wrap the activation for the length of this call.
    const d = m as Dense & { activation: Dense["activation"] };
    const act = d.activation;
    (d as { activation: unknown }).activation = { ...act, fn: (y: Tensor) => act.fn(probe(y)) };
    try {
      return orig(...args);
    } finally {
      (d as { activation: unknown }).activation = act;
    }
  },
  compute(m, call, [G], B) {
    const d = m as Dense;
    const A = call.args[0] as Tensor;
    const out = new Map<Parameter, Tensor>();
    const g = to3d(G, B);
    if (d.kernel?.requiresGrad) out.set(d.kernel, bmm(transpose(to3d(A, B), 1, 2).to(g.dtype), g)); // [B, in, units]
    if (d.bias?.requiresGrad) out.set(d.bias, sum(g, 1));
    return out;
  },
};

type ConvPadding = number | number[] | "same" | "valid";

/**
 * Per-sample weight gradients of a convolution in one call: the batch is folded into the groups
 * (x [B, C, H, W] → [1, B·C, H, W], backprops [B, O, Ho, Wo] → [1, B·O, Ho, Wo], groups·B), so
 * the ordinary weight-gradient kernel computes ∂W_b = Σ_hw G_b ⋆ x_b for every b at once — the
 * same sums as G_b·unfold(x_b)ᵀ, without materializing the unfolded input.
 */
export function perSampleConv2dWeightGrad(
  x: Tensor,
  G: Tensor,
  weightShape: readonly number[],
  opts: { stride: number[]; padding: ConvPadding; dilation: number[]; groups: number },
): Tensor {
  const B = x.shape[0];
  const [O, Cg, kh, kw] = weightShape;
  const xf = reshape(x, [1, B * x.shape[1], x.shape[2], x.shape[3]]);
  const gf = reshape(G, [1, B * O, G.shape[2], G.shape[3]]);
  const gw = conv2dGradWeight(xf, gf, [B * O, Cg, kh, kw], { stride: opts.stride, padding: opts.padding, dilation: opts.dilation, groups: B * opts.groups });
  return reshape(gw, [B, O, Cg, kh, kw]);
}

/** The conv layers' `prepare` (padding modes other than zeros are applied to the input first). */
function prepared(c: Conv1d | Conv2d, x: Tensor): [Tensor, ConvPadding] {
  return (c as unknown as { prepare(x: Tensor): [Tensor, ConvPadding] }).prepare(x);
}

const conv2dRule: Rule = {
  name: "Conv2d",
  compute(m, call, [G], B) {
    const c = m as Conv2d;
    const [xp, padding] = prepared(c, call.args[0] as Tensor);
    if (xp.ndim !== 4) throw new ValueError(`Conv2d per-sample gradients need a batched [N, C, H, W] input, got ${shapeStr(xp.shape)}`);
    const out = new Map<Parameter, Tensor>();
    if (c.weight.requiresGrad) out.set(c.weight, perSampleConv2dWeightGrad(xp, G, c.weight.shape, { stride: c.stride, padding, dilation: c.dilation, groups: c.groups }));
    if (c.bias?.requiresGrad) out.set(c.bias, sum(reshape(G, [B, c.outChannels, -1]), 2));
    return out;
  },
};

const conv1dRule: Rule = {
  name: "Conv1d",
  compute(m, call, [G], B) {
    const c = m as Conv1d;
    const [xp, padding] = prepared(c, call.args[0] as Tensor);
    if (xp.ndim !== 3) throw new ValueError(`Conv1d per-sample gradients need a batched [N, C, L] input, got ${shapeStr(xp.shape)}`);
    const out = new Map<Parameter, Tensor>();
    if (c.weight.requiresGrad) {
      const pad2: ConvPadding = typeof padding === "string" ? padding : [0, (padding as number[])[0] ?? (padding as unknown as number)];
      const gw = perSampleConv2dWeightGrad(xp.unsqueeze(2), G.unsqueeze(2), [c.outChannels, c.inChannels / c.groups, 1, c.kernelSize[0]], {
        stride: [1, c.stride[0]],
        padding: pad2,
        dilation: [1, c.dilation[0]],
        groups: c.groups,
      });
      out.set(c.weight, reshape(gw, [B, ...c.weight.shape]));
    }
    if (c.bias?.requiresGrad) out.set(c.bias, sum(G, 2));
    return out;
  },
};

/** keras Conv2D (kernel [kH, kW, in, out], channels last by default): the NCHW rule on the layer's own layout conversions. */
const kerasConv2dRule: Rule = {
  name: "keras Conv2D",
  forward: (...a) => denseRule.forward!(...a), // the probe goes on the pre-activation, as for Dense
  compute(m, call, [G], B) {
    const c = m as KerasConv2D;
    const layer = c as unknown as { toNCHW(x: Tensor): Tensor; padSame(x: Tensor, span: number[], strides: number[]): Tensor; span: [number, number] };
    const out = new Map<Parameter, Tensor>();
    const gn = layer.toNCHW(G); // [B, out, Ho, Wo]
    if (c.kernel?.requiresGrad) {
      let xn = layer.toNCHW((call.args[0] as Tensor).to(G.dtype));
      if (c.padding === "same") xn = layer.padSame(xn, layer.span, c.strides);
      const [kh, kw, cin, cout] = c.kernel.shape;
      const gw = perSampleConv2dWeightGrad(xn, gn, [cout, cin, kh, kw], { stride: c.strides, padding: 0, dilation: c.dilationRate, groups: 1 });
      out.set(c.kernel, permute(gw, [0, 3, 4, 2, 1]).contiguous()); // [B, out, in, kH, kW] → [B, kH, kW, in, out]
    }
    if (c.bias?.requiresGrad) out.set(c.bias, sum(reshape(gn, [B, c.filters, -1]), 2));
    return out;
  },
};

const embeddingRule: Rule = {
  name: "Embedding",
  compute(m, call, [G], B) {
    const e = m as Embedding;
    const out = new Map<Parameter, Tensor>();
    if (!e.weight.requiresGrad) return out;
    const ids = reshape(call.args[0] as Tensor, [B, -1, 1]).to("int32");
    const D = e.embeddingDim;
    const g = reshape(G, [B, -1, D]);
    const index = ids.expand([B, ids.shape[1], D]).contiguous();
    // The padding row gets no gradient (as in the batched backward): its ids' backprops are dropped.
    let src = g;
    if (e.paddingIdx !== null) src = mul(g, ids.ne(e.paddingIdx).to(g.dtype));
    out.set(e.weight, scatterAdd(zeros([B, e.numEmbeddings, D], { dtype: g.dtype }), 1, index, src));
    return out;
  },
};

/** The affine part of a normalization layer: ∂γ_b = Σ g·x̂ and ∂β_b = Σ g over `dim` (x̂ only computed when γ trains). */
function affineGrads(weight: Parameter | null, bias: Parameter | null, g: Tensor, xhat: () => Tensor, dim: number): Map<Parameter, Tensor> {
  const out = new Map<Parameter, Tensor>();
  if (weight?.requiresGrad) out.set(weight, sum(mul(g, xhat()), dim));
  if (bias?.requiresGrad) out.set(bias, sum(g, dim));
  return out;
}

const layerNormRule: Rule = {
  name: "LayerNorm",
  compute(m, call, [G], B) {
    const ln = m as LayerNorm;
    const ns = ln.normalizedShape;
    const xhat = () => reshape(layerNorm(call.args[0] as Tensor, ns, null, null, ln.eps), [B, -1, ...ns]);
    return affineGrads(ln.weight, ln.bias, reshape(G, [B, -1, ...ns]), xhat, 1);
  },
};

const groupNormRule: Rule = {
  name: "GroupNorm",
  compute(m, call, [G], B) {
    const gn = m as GroupNorm;
    const xhat = () => {
      const grouped = reshape(call.args[0] as Tensor, [B, gn.numGroups, -1]);
      return reshape(layerNorm(grouped, [grouped.shape[2]], null, null, gn.eps), [B, gn.numChannels, -1]);
    };
    return affineGrads(gn.weight, gn.bias, reshape(G, [B, gn.numChannels, -1]), xhat, 2);
  },
};

/** The output tensors of a forward's result (a tensor, or nested arrays holding tensors). */
function outputTensors(out: unknown, acc: Tensor[] = []): Tensor[] {
  if (out instanceof Tensor) acc.push(out);
  else if (Array.isArray(out)) for (const o of out) outputTensors(o, acc);
  return acc;
}

function isFloat(t: Tensor): boolean {
  return t.dtype === "float32" || t.dtype === "float64";
}

/** The same structure with each float tensor that carries a graph passed through fn (in order). */
function mapOutputs(out: unknown, fn: (t: Tensor) => Tensor): unknown {
  if (out instanceof Tensor) return fn(out);
  if (Array.isArray(out)) return out.map((o) => mapOutputs(o, fn));
  return out;
}

/** The fallback: for each sample, re-run the module on it and backpropagate that sample's backprops. */
const fallbackRule: Rule = {
  name: "per-sample loop",
  compute(m, call, G, B, orig) {
    const own = ownTrainable(m);
    const all = m.parameters();
    const saved = all.map((p) => p.grad);
    const rows = new Map<Parameter, Tensor[]>(own.map((p) => [p, []]));
    try {
      for (let i = 0; i < B; i++) {
        const args = call.args.map((a) => (a instanceof Tensor && a.ndim > 0 && a.shape[0] === B ? a.slice(0, i, i + 1).detach() : a));
        for (const p of all) p.grad = null;
        enableGrad(() => {
          const outs = outputTensors(orig(...args)).filter(isFloat);
          if (outs.length !== G.length)
            throw new IngotError(`${m.constructor.name}: the per-sample fallback got ${outs.length} output tensor(s) for one sample but ${G.length} for the batch; its forward must return the same structure for any batch size`);
          let s: Tensor | null = null;
          outs.forEach((o, k) => {
            if (!o.requiresGrad) return;
            const t = sum(mul(o, G[k].narrow(call.batchDims[k], i, 1).reshape([...o.shape])));
            s = s ? add(s, t) : t;
          });
          if (s) (s as Tensor).backward();
        });
        for (const p of own) rows.get(p)!.push(p.grad ? p.grad.detach() : zeros(p.shape, { dtype: p.dtype }));
      }
    } finally {
      all.forEach((p, k) => (p.grad = saved[k]));
    }
    const out = new Map<Parameter, Tensor>();
    for (const [p, list] of rows) out.set(p, B ? noGrad(() => stack(list, 0)) : zeros([0, ...p.shape], { dtype: p.dtype }));
    return out;
  },
};

/** The trainable parameters a module owns itself (not those of its children). */
function ownTrainable(m: Module): Parameter[] {
  return m.namedParameters({ recurse: false }).map(([, p]) => p).filter((p) => p.requiresGrad);
}

/** The rule for a module, by its exact class (a sub-class may change the computation, so it takes the fallback). */
function ruleFor(m: Module): Rule {
  const c = m.constructor;
  if (c === Linear) return linearRule;
  if (c === Conv2d) return conv2dRule;
  if (c === Conv1d) return conv1dRule;
  if (c === Embedding) return embeddingRule;
  if (c === LayerNorm) return layerNormRule;
  if (c === GroupNorm) return groupNormRule;
  if (c === Dense) return denseRule;
  if (c === KerasConv2D) return kerasConv2dRule;
  return fallbackRule;
}

/** A per-sample weight gradient kept as an outer product: g_b·a_bᵀ ([out, in]), or a_b·g_bᵀ when transposed (keras Dense's [in, units] kernel). */
export interface FactoredGrad {
  a: Tensor;
  g: Tensor;
  transposed: boolean;
}

interface Wrapped {
  module: Module;
  rule: Rule;
  orig: (...a: unknown[]) => unknown;
  calls: Call[];
  hadOwnForward: boolean;
  ownForward: unknown;
}

export interface GradSampleOptions {
  lossReduction?: LossReduction;
}

/**
 * Wraps a model's parameter-owning modules so that after `loss.backward()` the per-sample
 * gradients of every trainable parameter can be read (`gradSamples()`), like Opacus's
 * GradSampleModule. The model itself is changed in place (its modules' forward), and is returned
 * unchanged by `remove()`.
 */
export class GradSampleModule {
  readonly lossReduction: LossReduction;
  private readonly wrapped: Wrapped[] = [];
  private recomputing = false;
  /** Name of each wrapped module → the rule used ("Linear", …, "per-sample loop"). */
  readonly rules = new Map<string, string>();

  constructor(
    readonly model: Module,
    opts: GradSampleOptions = {},
  ) {
    this.lossReduction = opts.lossReduction ?? "mean";
    if (this.lossReduction !== "mean" && this.lossReduction !== "sum") throw new ValueError(`GradSampleModule: lossReduction must be 'mean' or 'sum', got '${String(opts.lossReduction)}'`);
    const seen = new Set<Module>();
    for (const [name, m] of model.namedModules()) {
      if (seen.has(m) || ownTrainable(m).length === 0) continue;
      seen.add(m);
      if ((m as unknown as { __gradSample?: boolean }).__gradSample) throw new ValueError(`GradSampleModule: module '${name || m.constructor.name}' is already wrapped for per-sample gradients; call remove() on the first wrapper first`);
      this.wrap(m);
      this.rules.set(name || "(model)", ruleFor(m).name);
    }
    if (!this.wrapped.length) throw new ValueError("GradSampleModule: the model has no trainable parameters");
  }

  private wrap(m: Module): void {
    const rule = ruleFor(m);
    const rec = m as unknown as Record<string, unknown>;
    const hadOwnForward = Object.prototype.hasOwnProperty.call(m, "forward");
    const ownForward = rec.forward;
    const orig = (rec.forward as (...a: unknown[]) => unknown).bind(m);
    const w: Wrapped = { module: m, rule, orig, calls: [], hadOwnForward, ownForward };
    Object.defineProperty(m, "__gradSample", { value: true, configurable: true, enumerable: false });
    const self = this;
    Object.defineProperty(m, "forward", {
      configurable: true,
      enumerable: false,
      writable: true,
      value: function (...args: unknown[]) {
        if (self.recomputing || !isGradEnabled()) return orig(...args);
        const probes: Tensor[] = [];
        const probe = (t: Tensor) => {
          const z = zeros(t.shape, { dtype: t.dtype, requiresGrad: true });
          probes.push(z);
          return add(t, z);
        };
        let out: unknown;
        if (rule.forward) out = rule.forward(m, args, orig, probe);
        else out = mapOutputs(orig(...args), (t) => (isFloat(t) ? probe(t) : t));
        // PyTorch's convention: a batchFirst RNN's hidden states are still [layers, batch, hidden].
        const rnn = (m as { batchFirst?: unknown }).batchFirst === true;
        const batchDims = probes.map((_, k) => (rnn && k > 0 ? 1 : 0));
        const B = probes.length ? probes[0].shape[0] : 0;
        probes.forEach((p, k) => {
          if (p.ndim <= batchDims[k] || p.shape[batchDims[k]] !== B)
            throw new ValueError(
              `${m.constructor.name}: output ${k} has shape ${shapeStr(p.shape)}, without the batch of ${B} along dim ${batchDims[k]}; per-sample gradients need every output of a layer to keep the samples along dim 0`,
            );
        });
        w.calls.push({ args, probes, batchDims });
        return out;
      },
    });
    this.wrapped.push(w);
  }

  /** Forgets the recorded activations and backprops (call after each optimizer step). */
  clear(): void {
    for (const w of this.wrapped) w.calls = [];
  }

  /** Undoes the wrapping: the modules' forward is what it was. */
  remove(): void {
    for (const w of this.wrapped) {
      const rec = w.module as unknown as Record<string, unknown>;
      delete rec.forward;
      if (w.hadOwnForward) rec.forward = w.ownForward;
      delete rec.__gradSample;
    }
    this.wrapped.length = 0;
  }

  /** The parameters whose per-sample gradients are computed, in the model's order. */
  parameters(): Parameter[] {
    const set = new Set(this.wrapped.flatMap((w) => ownTrainable(w.module)));
    return this.model.parameters().filter((p) => set.has(p));
  }

  /**
   * The per-sample gradients of the last backward, [B, ...p.shape] for every parameter that got
   * one, and the batch size B (0 when no sample went through). Calls whose output was not part of
   * the loss are skipped. Gradients of a module called several times are summed.
   */
  gradSamples(): { batchSize: number; grads: Map<Parameter, Tensor> } {
    const { batchSize, grads } = this.collect(false);
    return { batchSize, grads };
  }

  /**
   * What the DP optimizer needs: per-sample gradients, except that the weight of a Linear / keras
   * Dense layer called once on 2-D inputs is left factored as (A [B, in], G [B, out]) — its
   * per-sample gradient is the outer product G_b·A_bᵀ, so its squared norm is ‖G_b‖²·‖A_b‖² and
   * the clipped sum Σ f_b G_b A_bᵀ is one matmul, without the [B, out, in] tensor (the "ghost
   * norm" of Goodfellow 2015 / Li et al. 2022).
   */
  clippingInputs(): { batchSize: number; grads: Map<Parameter, Tensor>; factored: Map<Parameter, FactoredGrad> } {
    return this.collect(true);
  }

  private collect(factor: boolean): { batchSize: number; grads: Map<Parameter, Tensor>; factored: Map<Parameter, FactoredGrad> } {
    const grads = new Map<Parameter, Tensor>();
    const factored = new Map<Parameter, FactoredGrad>();
    let B: number | null = null;
    this.recomputing = true;
    try {
      for (const w of this.wrapped) {
        const live = w.calls.filter((call) => call.probes.length && call.probes.some((p) => p.grad !== null));
        for (const call of live) {
          const b = call.probes[0].shape[0];
          if (call.probes[0].ndim === 0) throw new ValueError(`${w.module.constructor.name}: per-sample gradients need batched inputs (samples along dim 0), got a scalar output`);
          if (B === null) B = b;
          else if (b !== B)
            throw new ValueError(`per-sample gradients: ${w.module.constructor.name} saw a batch of ${b} but another layer saw ${B}; every layer must get the samples along dim 0 (for RNNs and attention set batchFirst: true)`);
          const G = call.probes.map((p) => noGrad(() => (p.grad ?? zeros(p.shape, { dtype: p.dtype })).mul(this.lossReduction === "mean" ? b : 1)));
          const A = call.args[0];
          const weight = w.rule === linearRule ? (w.module as Linear).weight : w.rule === denseRule ? (w.module as Dense).kernel : null;
          if (factor && live.length === 1 && weight?.requiresGrad && A instanceof Tensor && A.ndim === 2 && G[0].ndim === 2) {
            factored.set(weight, { a: noGrad(() => A.detach().to(G[0].dtype)), g: G[0], transposed: w.rule === denseRule });
            const bias = (w.module as Linear | Dense).bias;
            if (bias?.requiresGrad) grads.set(bias, G[0]);
            continue;
          }
          const per = w.rule === fallbackRule ? w.rule.compute(w.module, call, G, b, w.orig) : noGrad(() => w.rule.compute(w.module, call, G, b, w.orig));
          for (const [p, g] of per) grads.set(p, grads.has(p) ? noGrad(() => add(grads.get(p)!, g)) : g);
        }
      }
    } finally {
      this.recomputing = false;
    }
    return { batchSize: B ?? 0, grads, factored };
  }

}
