// Floating-point operation counts of the ops that dominate training time, counted as torch's flop
// counter (torch/utils/flop_counter.py) counts them: a multiply-add is 2 FLOPs, and only the
// matrix products are counted (element-wise ops, reductions and the bias add are left out).
//   matmul / linear / intMm / int8Linear / int4Linear:  2 · K · numel(out)   (out = M×N per batch)
//   conv2d:            2 · numel(out) · (C_in / groups) · k_h · k_w
//   conv2dGradInput:   2 · numel(grad_out) · (C_in / groups) · k_h · k_w    (the same products as the forward)
//   conv2dGradWeight:  2 · numel(grad_out) · (C_in / groups) · k_h · k_w
//   scaledDotProductAttention:          2·B·H·T·S·D (QKᵀ) + 2·B·H·T·S·D_v (PV)
//   scaledDotProductAttentionBackward:  twice the forward (dV, dP, dQ, dK: four products of those sizes)
import type { Tensor } from "../tensor/index.js";

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const last = (shape: readonly number[]) => shape[shape.length - 1] ?? 1;

/** FLOPs of one call of `op` with these inputs and outputs; 0 for ops that are not counted. */
export function opFlops(op: string, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: unknown): number {
  const out = outputs[0];
  if (!out) return 0;
  switch (op) {
    case "matmul":
    case "intMm": {
      // a: [..., M, K] (or [K]); out: [..., M, N]
      const a = inputs[0];
      return 2 * last(a.shape) * numel(out.shape);
    }
    case "linear":
    case "int8Linear":
    case "int4Linear":
      // x: [..., in]; out: [..., out_features]
      return 2 * last(inputs[0].shape) * numel(out.shape);
    case "conv2d":
    case "conv2dGradInput": {
      // conv2d: inputs [x, w, bias?]; grad-input: [grad_out, w]; w: [C_out, C_in/groups, kh, kw]
      const w = inputs[1];
      const perOut = w.shape.slice(1).reduce((a, b) => a * b, 1);
      const products = op === "conv2d" ? numel(out.shape) : numel(inputs[0].shape);
      return 2 * products * perOut;
    }
    case "conv2dGradWeight": {
      // inputs [x, grad_out]; the weight's shape is an attribute
      const ws = (attrs as { weightShape?: number[] }).weightShape;
      if (!ws) return 0;
      return 2 * numel(inputs[1].shape) * ws.slice(1).reduce((a, b) => a * b, 1);
    }
    case "scaledDotProductAttention":
    case "scaledDotProductAttentionBackward": {
      // q: [B, H, T, D], k: [B, H, S, D], v: [B, H, S, Dv]; the backward's inputs are [g, q, k, v, …]
      const [q, k, v] = op === "scaledDotProductAttention" ? inputs : inputs.slice(1);
      if (!q || !k || !v || q.ndim < 2) return 0;
      const bhT = numel(q.shape.slice(0, -1));
      const S = k.shape[k.ndim - 2];
      const fwd = 2 * bhT * S * last(q.shape) + 2 * bhT * S * last(v.shape);
      return op === "scaledDotProductAttention" ? fwd : 2 * fwd;
    }
    default:
      return 0;
  }
}
