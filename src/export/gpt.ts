// models.GPT → ONNX: input_ids int64 [batch, seq] → logits float32 [batch, seq, vocab], the full
// forward of src/models/gpt.ts in inference mode (no dropout, no KV cache), with both axes dynamic:
//   positions   Shape → Gather → Range(0, seq) → Gather(wpe)
//   causal mask ConstantOfShape([seq, seq], −∞) → Trilu(upper, k = 1): −∞ above the diagonal, 0 elsewhere
//   each block  LayerNormalization → MatMul/Add (c_attn) → Split q, k, v → Reshape/Transpose to heads
//               → MatMul(q, kᵀ)·(1/√D) + mask → Softmax → MatMul(·, v) → heads back → c_proj → + x
//               LayerNormalization → c_fc → GELU (tanh form, as GPT's MLP) → c_proj → + x
//   head        LayerNormalization(ln_f) → MatMul(x, Transpose(wte)) (the tied weight is stored once)
import { ValueError } from "../tensor/index.js";
import { Embedding, LayerNorm, Linear } from "../nn/index.js";
import { LoraLinear } from "../nn/lora.js";
import { Block, CausalSelfAttention, type GPT, MLP } from "../models/gpt.js";
import { float32Of, floatTensor, type GraphBuilder } from "./graph.js";

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** Throws unless m is a float nn.Linear (or a merged LoRA one), naming where it sits. */
function checkLinear(m: unknown, where: string): Linear {
  if (m instanceof LoraLinear && !m.merged) throw new ValueError(`exportOnnx: ${where} has a LoRA adapter; merge() it into the weights before exporting`);
  if (!(m instanceof Linear))
    throw new ValueError(
      `exportOnnx: ${where} is a ${(m as object)?.constructor?.name ?? typeof m}, not an nn.Linear; a quantized or otherwise compressed GPT cannot be exported to ONNX yet — export the float model`,
    );
  return m;
}

/** x·Wᵀ + b of an nn.Linear (W stored [out, in]; the initializer is Wᵀ, [in, out]). */
function linear(g: GraphBuilder, m: Linear, x: string, name: string): string {
  const w = g.weight(`${name}.weight`, [m.inFeatures, m.outFeatures], float32Of(m.weight.t()));
  const y = g.node("MatMul", [x, w], {}, `${name}/MatMul`);
  return m.bias ? g.node("Add", [y, g.weight(`${name}.bias`, [m.outFeatures], float32Of(m.bias))], {}, `${name}/BiasAdd`) : y;
}

function layerNorm(g: GraphBuilder, m: LayerNorm, x: string, name: string): string {
  const c = m.normalizedShape[0];
  const ins = [x, m.weight ? g.weight(`${name}.weight`, [c], float32Of(m.weight)) : g.weight(`${name}.ones`, [c], new Float32Array(c).fill(1))];
  if (m.bias) ins.push(g.weight(`${name}.bias`, [c], float32Of(m.bias)));
  return g.node("LayerNormalization", ins, { axis: { i: -1 }, epsilon: { f: m.eps } }, `${name}/LayerNormalization`);
}

/** GELU, tanh form: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) — src/ops/activation.ts's "tanh". */
function geluTanh(g: GraphBuilder, x: string, name: string): string {
  const x3 = g.node("Mul", [g.node("Mul", [x, x], {}, `${name}/x2`), x], {}, `${name}/x3`);
  const inner = g.node("Add", [x, g.node("Mul", [x3, g.scalar(GELU_C)], {}, `${name}/cx3`)], {}, `${name}/inner`);
  const t = g.node("Tanh", [g.node("Mul", [inner, g.scalar(SQRT_2_OVER_PI)], {}, `${name}/scaled`)], {}, `${name}/tanh`);
  const half = g.node("Mul", [x, g.scalar(0.5)], {}, `${name}/half_x`);
  return g.node("Mul", [half, g.node("Add", [t, g.scalar(1)], {}, `${name}/one_plus`)], {}, `${name}/Gelu`);
}

/** Adds the GPT's graph to g: input 'input_ids' int64 [batch, seq], output 'logits' [batch, seq, vocab]. */
export function exportGPT(g: GraphBuilder, model: GPT): void {
  const { vocabSize, nEmbd: C, nHead: H } = model.config;
  const D = C / H;
  const t = model.transformer;
  if (!(t.wte instanceof Embedding) || !(t.wpe instanceof Embedding)) throw new ValueError("exportOnnx: the GPT's embeddings are not nn.Embedding; export the float model");
  if (model.lm_head.weight !== t.wte.weight)
    throw new ValueError("exportOnnx: the GPT's lm_head is not tied to transformer.wte (as src/models/gpt.ts makes it); this exporter writes the tied head only");

  const ids = g.input({ name: "input_ids", dtype: "int64", shape: ["batch", "seq"] });
  const wte = g.weight("transformer.wte.weight", [vocabSize, C], float32Of(t.wte.weight));
  const wpe = g.weight("transformer.wpe.weight", [model.config.blockSize, C], float32Of(t.wpe.weight));

  // Positions 0 … seq−1 and the causal mask, from the input's dynamic shape.
  const seqLen1d = g.node("Shape", [ids], { start: { i: 1 }, end: { i: 2 } }, "seq_len"); // [seq]
  const seqLen = g.node("Squeeze", [seqLen1d, g.ints([0])], {}, "seq_len_scalar");
  const pos = g.node("Range", [g.ints([0], true), seqLen, g.ints([1], true)], {}, "positions");
  let x = g.node("Add", [g.node("Gather", [wte, ids], { axis: { i: 0 } }, "transformer.wte"), g.node("Gather", [wpe, pos], { axis: { i: 0 } }, "transformer.wpe")], {}, "embeddings");
  const square = g.node("Concat", [seqLen1d, seqLen1d], { axis: { i: 0 } }, "mask_shape");
  const minusInf = g.node("ConstantOfShape", [square], { value: { t: floatTensor([1], [-Infinity]) } }, "mask_fill");
  const mask = g.node("Trilu", [minusInf, g.ints([1], true)], { upper: { i: 1 } }, "causal_mask"); // [seq, seq]

  const headShape = g.ints([0, 0, H, D]); // 0 keeps batch and seq as they come
  const mergedShape = g.ints([0, 0, C]);
  const scale = g.scalar(1 / Math.sqrt(D));
  t.h.children().forEach((b, i) => {
    const p = `transformer.h.${i}`;
    if (!(b instanceof Block) || !(b.attn instanceof CausalSelfAttention) || !(b.mlp instanceof MLP))
      throw new ValueError(`exportOnnx: ${p} is not the GPT block of src/models/gpt.ts (pruned heads or a replaced module); export the unmodified model`);
    const cAttn = checkLinear(b.attn.c_attn, `${p}.attn.c_attn`);
    const qkv = linear(g, cAttn, layerNorm(g, b.ln_1, x, `${p}.ln_1`), `${p}.attn.c_attn`); // [B, T, 3C]
    const [q, k, v] = g.nodeN("Split", [qkv, g.ints([C, C, C])], 3, { axis: { i: 2 } }, `${p}.attn/split_qkv`);
    const heads = (z: string, perm: number[], n: string) => g.node("Transpose", [g.node("Reshape", [z, headShape], {}, `${p}.attn/${n}_heads`)], { perm: { ints: perm } }, `${p}.attn/${n}_T`);
    const qh = heads(q, [0, 2, 1, 3], "q"); // [B, H, T, D]
    const kt = heads(k, [0, 2, 3, 1], "k"); // [B, H, D, T]
    const vh = heads(v, [0, 2, 1, 3], "v"); // [B, H, T, D]
    const scores = g.node("Add", [g.node("Mul", [g.node("MatMul", [qh, kt], {}, `${p}.attn/qk`), scale], {}, `${p}.attn/scale`), mask], {}, `${p}.attn/mask`);
    const att = g.node("Softmax", [scores], { axis: { i: -1 } }, `${p}.attn/Softmax`);
    const y = g.node("MatMul", [att, vh], {}, `${p}.attn/av`); // [B, H, T, D]
    const merged = g.node("Reshape", [g.node("Transpose", [y], { perm: { ints: [0, 2, 1, 3] } }, `${p}.attn/y_T`), mergedShape], {}, `${p}.attn/merge_heads`);
    x = g.node("Add", [x, linear(g, checkLinear(b.attn.c_proj, `${p}.attn.c_proj`), merged, `${p}.attn.c_proj`)], {}, `${p}/residual_attn`);
    const h = linear(g, checkLinear(b.mlp.c_fc, `${p}.mlp.c_fc`), layerNorm(g, b.ln_2, x, `${p}.ln_2`), `${p}.mlp.c_fc`);
    const m = linear(g, checkLinear(b.mlp.c_proj, `${p}.mlp.c_proj`), geluTanh(g, h, `${p}.mlp.gelu`), `${p}.mlp.c_proj`);
    x = g.node("Add", [x, m], {}, `${p}/residual_mlp`);
  });
  x = layerNorm(g, t.ln_f, x, "transformer.ln_f");
  const head = g.node("Transpose", [wte], { perm: { ints: [1, 0] } }, "lm_head.weight_T"); // tied: wteᵀ, folded by runtimes
  const logits = g.node("MatMul", [x, head], {}, "lm_head");
  g.output(logits, { name: "logits", dtype: "float32", shape: ["batch", "seq", vocabSize] });
}
