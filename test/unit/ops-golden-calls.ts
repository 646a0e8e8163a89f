// The Ingot call of every case in test/golden/ops.json (made by test/golden/ops_golden.py), by the
// case's name "function › what"; each mirrors the PyTorch lambda of the same name there.
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";

type Call = (xs: Tensor[]) => Tensor;
/** The Ingot call of each case of test/golden/ops.json, by the case's name. */
export const calls: Record<string, Call> = {};
function def(key: string, fn: Call): void {
  if (key in calls) throw new Error(`ops-golden-calls: the call for '${key}' is defined twice`);
  calls[key] = fn;
}

const UNARY: Record<string, (x: Tensor) => Tensor> = {
  neg: ig.neg, exp: ig.exp, abs: ig.abs, log: ig.log, log1p: ig.log1p, sqrt: ig.sqrt, rsqrt: ig.rsqrt, square: ig.square,
  reciprocal: ig.reciprocal, sign: ig.sign, sin: ig.sin, cos: ig.cos, tanh: ig.tanh, sigmoid: ig.sigmoid, erf: ig.erf,
  floor: ig.floor, ceil: ig.ceil, round: (x) => ig.round(x), relu: ig.relu, leakyRelu: (x) => ig.leakyRelu(x), elu: (x) => ig.elu(x),
  gelu: (x) => ig.gelu(x), silu: ig.silu, softplus: (x) => ig.softplus(x),
};
for (const [name, f] of Object.entries(UNARY)) {
  def(`${name} › 2-d`, ([x]) => f(x));
  def(`${name} › transposed view`, ([x]) => f(x.t()));
}
for (const name of ["exp", "log", "sqrt", "tanh", "sigmoid", "erf"]) {
  def(`${name} › strided slice`, ([x]) => UNARY[name](x.slice(1, 1, 6, 2)));
  def(`${name} › 0-d`, ([x]) => UNARY[name](x));
}
for (const name of ["neg", "abs", "square", "sign", "floor", "ceil", "round", "relu"]) def(`${name} › int32`, ([x]) => UNARY[name](x));
for (const key of ["abs › zeros", "sign › zeros and NaN", "exp › wide range", "log1p › tiny inputs", "reciprocal › negative inputs", "tanh › saturated", "sigmoid › large magnitudes", "erf › every branch", "relu › zeros", "gelu › far tails", "elu › near zero", "softplus › large inputs stay linear"])
  def(key, ([x]) => UNARY[key.split(" › ")[0]](x));
for (const name of ["floor", "ceil", "round"]) def(`${name} › halves and whole numbers`, ([x]) => UNARY[name](x));
def("round › decimals 2", ([x]) => ig.round(x, 2));
def("round › decimals -1", ([x]) => ig.round(x, -1));
def("leakyRelu › slope 0.2 with a zero", ([x]) => ig.leakyRelu(x, 0.2));
def("leakyRelu › slope 1.5", ([x]) => x.leakyRelu(1.5));
def("elu › alpha 0.5", ([x]) => ig.elu(x, 0.5));
def("gelu › tanh 2-d", ([x]) => ig.gelu(x, "tanh"));
def("gelu › tanh transposed", ([x]) => x.t().gelu("tanh"));
def("softplus › beta 2 threshold 3 (both branches)", ([x]) => ig.softplus(x, 2, 3));
def("softplus › beta 0.5", ([x]) => ig.softplus(x, 0.5));
def("clamp › min and max", ([x]) => ig.clamp(x, -0.5, 0.8));
def("clamp › min only", ([x]) => ig.clamp(x, -0.3));
def("clamp › max only", ([x]) => ig.clamp(x, null, 0.4));
def("clamp › ties at the bounds pass the gradient", ([x]) => ig.clamp(x, -0.5, 0.8));
def("clamp › min above max gives max", ([x]) => ig.clamp(x, 1, -1));
def("clamp › tensor bounds broadcast", ([x, lo, hi]) => ig.clamp(x, lo, hi));
def("clamp › tensor bounds that cross", ([x, lo, hi]) => ig.clamp(x, lo, hi));
def("clamp › tensor max broadcasts x", ([x, hi]) => ig.clamp(x, undefined, hi));
def("clamp › int32", ([x]) => ig.clamp(x, -2, 3));
def("clamp › int32 with a fractional bound gives float32", ([x]) => ig.clamp(x, 0.5));
def("clip › alias", ([x]) => x.clip(-0.5, 0.5));

// ---------------------------------------------------------------- binary arithmetic
const binary2 = (key: string, f: (a: Tensor, b: Tensor) => Tensor) => def(key, ([a, b]) => f(a, b));
for (const key of ["add › broadcast both", "add › int32", "add › int32 + float promotes"]) binary2(key, ig.add);
def("add › scalar", ([a]) => ig.add(a, 1.5));
def("add › alpha 2", ([a, b]) => ig.add(a, b, 2));
def("add › transposed view", ([a, b]) => ig.add(a.t(), b));
binary2("sub › broadcast col", ig.sub);
def("sub › scalar first", ([a]) => ig.sub(2, a));
def("sub › alpha -0.5", ([a, b]) => ig.sub(a, b, -0.5));
for (const key of ["mul › broadcast 3-d", "mul › int32"]) binary2(key, ig.mul);
def("mul › same tensor twice", ([a]) => ig.mul(a, a));
for (const key of ["div › broadcast", "div › int32 / int32 is true division (float32)"]) binary2(key, ig.div);
def("div › scalar numerator", ([b]) => ig.div(1.5, b));
for (const key of ["tensor exponent", "broadcast exponent row", "zero base, tensor exponent", "int32"]) binary2(`pow › ${key}`, ig.pow);
def("pow › scalar exponent 2 (negative base)", ([a]) => ig.pow(a, 2));
def("pow › scalar exponent 3 on a transposed view", ([a]) => ig.pow(a.t(), 3));
def("pow › fractional scalar exponent", ([a]) => a.pow(0.5));
def("pow › exponent 0 (gradient 0 at 0)", ([a]) => ig.pow(a, 0));
def("pow › scalar base", ([b]) => ig.pow(2, b));
def("pow › int32 ** fractional gives float32", ([a]) => ig.pow(a, 0.5));
for (const [name, f] of [["maximum", ig.maximum], ["minimum", ig.minimum]] as const) {
  for (const key of ["same shape", "broadcast", "ties split the gradient", "NaN propagates", "int32"]) binary2(`${name} › ${key}`, f);
  def(`${name} › tie with itself`, ([a]) => f(a, a));
  def(`${name} › scalar`, ([a]) => f(a, 0.25));
}

// ---------------------------------------------------------------- comparisons, logic, selection
const COMPARE = { eq: ig.eq, ne: ig.ne, lt: ig.lt, le: ig.le, gt: ig.gt, ge: ig.ge };
for (const [name, f] of Object.entries(COMPARE)) {
  for (const key of ["floats with ties and NaN", "broadcast", "int32 and float promote", "bool"]) binary2(`${name} › ${key}`, f);
  def(`${name} › scalar other`, ([a]) => f(a, 0));
  def(`${name} › int32 against a fractional scalar`, ([a]) => f(a, 1.5));
}
for (const [name, f] of Object.entries({ logicalAnd: ig.logicalAnd, logicalOr: ig.logicalOr, logicalXor: ig.logicalXor })) {
  binary2(`${name} › bool broadcast`, f);
  binary2(`${name} › floats and ints (non-zero is true)`, f);
}
def("logicalNot › floats with zeros and NaN", ([x]) => ig.logicalNot(x));
def("logicalNot › int32 view", ([x]) => x.t().logicalNot());
for (const key of ["where › broadcast all three", "where › int32 and float promote"]) def(key, ([c, a, b]) => ig.where(c, a, b));
def("where › scalar other", ([c, a]) => ig.where(c, a, 0));
def("where › scalar input", ([c, b]) => ig.where(c, -1.5, b));
def("where › transposed views", ([c, a, b]) => ig.where(c.t(), a, b.t()));
def("maskedFill › mask broadcast over rows", ([x, m]) => x.maskedFill(m, 2.5));
def("maskedFill › minus infinity", ([x, m]) => ig.maskedFill(x, m, -Infinity));
def("maskedFill › 0-d tensor value gets a gradient", ([x, m, v]) => ig.maskedFill(x, m, v));
def("maskedFill › int32", ([x, m]) => ig.maskedFill(x, m, 9));

// ---------------------------------------------------------------- reductions
def("sum › all", ([x]) => ig.sum(x));
def("sum › dims [0,2] keepDim", ([x]) => ig.sum(x, [0, 2], true));
def("sum › negative dim of a transposed view", ([x]) => x.t().sum(-1));
for (const key of ["sum › int32 (int64 in PyTorch)", "sum › bool counts"]) def(key, ([x]) => ig.sum(x, 1));
def("sum › empty dim", ([x]) => ig.sum(x, 0));
def("mean › all", ([x]) => ig.mean(x));
def("mean › dim1 keepDim", ([x]) => ig.mean(x, 1, true));
def("mean › dims [0,2]", ([x]) => x.mean([0, 2]));
for (const [name, f] of [["max", ig.max], ["min", ig.min]] as const) {
  def(`${name} › all`, ([x]) => f(x));
  def(`${name} › dim0 keepDim`, ([x]) => f(x, 0, true));
  def(`${name} › dims [0,2] of 3-d`, ([x]) => f(x, [0, 2]));
  def(`${name} › permuted view, dims [0,1]`, ([x]) => f(x.permute(2, 0, 1), [0, 1]));
  def(`${name} › ties split the gradient`, ([x]) => f(x, 1));
  def(`${name} › tie in a full reduction`, ([x]) => f(x));
  def(`${name} › int32`, ([x]) => f(x, 0));
}
for (const [name, f] of [["argmax", ig.argmax], ["argmin", ig.argmin]] as const) {
  def(`${name} › all (flattened)`, ([x]) => f(x));
  def(`${name} › all keepDim`, ([x]) => f(x, null, true));
  def(`${name} › dim0 keepDim`, ([x]) => f(x, 0, true));
  def(`${name} › negative dim of 3-d`, ([x]) => f(x, -2));
  def(`${name} › flattened index of a transposed view`, ([x]) => f(x.t()));
  def(`${name} › ties: first occurrence`, ([x]) => f(x, 1));
  def(`${name} › int32 with ties`, ([x]) => f(x, 1));
}
def("prod › all", ([x]) => ig.prod(x));
def("prod › dim0 keepDim", ([x]) => ig.prod(x, 0, true));
for (const key of ["dim1", "one zero and two zeros in a row", "int32", "empty dim gives 1"]) def(`prod › ${key}`, ([x]) => x.prod(1));
for (const [name, f] of [["variance", ig.variance], ["std", ig.std]] as const) {
  def(`${name} › all`, ([x]) => f(x));
  def(`${name} › dims [0,2] of 3-d`, ([x]) => f(x, [0, 2]));
  def(`${name} › correction 0`, ([x]) => f(x, -1, { correction: 0 }));
  def(`${name} › correction 2 keepDim`, ([x]) => f(x, 1, { correction: 2, keepDim: true }));
  def(`${name} › of a sliced view`, ([x]) => f(x.slice(1, 0, 6, 2), 0));
  def(`${name} › large offset`, ([x]) => f(x, 1));
}

// ---------------------------------------------------------------- softmax family
for (const [name, f] of [["softmax", ig.softmax], ["logSoftmax", ig.logSoftmax]] as const) {
  def(`${name} › last dim`, ([x]) => f(x, -1));
  def(`${name} › dim0`, ([x]) => f(x, 0));
  def(`${name} › middle dim of a permuted view`, ([x]) => f(x.permute(2, 0, 1), 1));
  for (const key of ["large logits", "very negative logits", "one element per row"]) def(`${name} › ${key}`, ([x]) => f(x, 1));
  def(`${name} › 0-d`, ([x]) => f(x, 0));
}
for (const key of ["dim1", "large values", "very negative values", "empty dim gives -inf"]) def(`logSumExp › ${key}`, ([x]) => ig.logSumExp(x, 1));
def("logSumExp › dims [0,2] keepDim", ([x]) => ig.logSumExp(x, [0, 2], true));
def("logSumExp › of a transposed view", ([x]) => x.t().logSumExp(-1));

// ---------------------------------------------------------------- matrix products
for (const key of ["2-d", "vector · vector", "matrix · vector", "vector · matrix", "batched", "broadcast batch dims", "3-d · 2-d", "2-d · 3-d", "vector · batch", "batch · vector", "empty M", "empty K gives zeros", "int32"])
  binary2(`matmul › ${key}`, ig.matmul);
def("matmul › b transposed", ([a, b]) => ig.matmul(a, b.t()));
def("matmul › both transposed, batched", ([a, b]) => ig.matmul(a.t(), b.t()));
def("matmul › permuted batch dims", ([a, b]) => ig.matmul(a.permute(1, 0, 2), b));
def("matmul › strided slices", ([a, b]) => ig.matmul(a.slice(1, 0, 8, 2), b.slice(1, 1, 10, 2)));
def("matmul › expanded operand", ([a, b]) => a.expand(2, 4, 3).matmul(b));
def("mm › with bᵀ", ([a, b]) => ig.mm(a, b.t()));
def("bmm › with aᵀ", ([a, b]) => ig.bmm(a.t(), b));
for (const key of ["2-d with bias", "no bias, 3-d input", "1-d input"]) def(`linear › ${key}`, ([x, w, b]) => ig.linear(x, w, b));
def("linear › transposed input and weight views", ([x, w, b]) => ig.linear(x.t(), w.t(), b));

// ---------------------------------------------------------------- movement
def("concat › dim 0 of three", ([a, b, c]) => ig.concat([a, b, c]));
def("concat › dim 1 with a transposed view", ([a, b]) => ig.concat([a.t(), b], 1));
def("concat › negative dim", ([a, b]) => ig.cat([a, b], -2));
def("concat › the same tensor twice", ([a]) => ig.concat([a, a], 0));
def("concat › with an empty tensor", ([a, b]) => ig.concat([a, b], 1));
def("concat › int32 and float promote", ([a, b]) => ig.concat([a, b]));
def("stack › new last dim", ([a, b]) => ig.stack([a, b], 2));
def("stack › negative dim, transposed views", ([a, b]) => ig.stack([a.t(), b, a.t()], -2));
def("stack › 0-d scalars", ([a, b, c]) => ig.stack([a, b, c]));
def("split › size 2 of 5, rejoined in reverse", ([x]) => ig.concat(ig.split(x, 2).reverse(), 0));
def("split › sections with a zero, rejoined in reverse", ([x]) => ig.concat(ig.split(x, [1, 0, 3, 2], 1).reverse(), 1));
def("split › one section of a transposed view", ([x]) => x.t().split([1, 3, 2], -1)[1]);
def("chunk › 5 into 3, rejoined in reverse", ([x]) => ig.concat(ig.chunk(x, 3).reverse(), 0));
def("chunk › 5 into 4 gives 3 pieces", ([x]) => ig.chunk(x, 4)[2]);
def("chunk › negative dim of a permuted view", ([x]) => x.permute(2, 0, 1).chunk(2, -3)[1]);
def("pad › constant last two dims with a value", ([x]) => ig.pad(x, [1, 0, 2, 1], "constant", 0.5));
def("pad › negative constant padding crops", ([x]) => ig.pad(x, [-1, 2, 1, -2]));
def("pad › reflect 1-d", ([x]) => ig.pad(x, [2, 4], "reflect"));
def("pad › reflect 2-d", ([x]) => ig.pad(x, [1, 2, 3, 1], "reflect"));
def("pad › reflect of a transposed view", ([x]) => x.t().pad([1, 2, 2, 0], "reflect"));
def("pad › replicate", ([x]) => ig.pad(x, [2, 1, 0, 3], "replicate"));
def("pad › replicate of a size-1 dim", ([x]) => ig.pad(x, [2, 3], "replicate"));
def("pad › circular", ([x]) => ig.pad(x, [3, 4, 1, 0], "circular"));
def("pad › circular of a sliced view", ([x]) => ig.pad(x.slice(1, 1, 6, 2), [2, 1], "circular"));
def("pad › int32 with a value", ([x]) => ig.pad(x, [1, 1, 1, 0], "constant", 7));
def("flip › dims [0,2]", ([x]) => ig.flip(x, [0, 2]));
def("flip › negative dim of a permuted view", ([x]) => x.permute(2, 0, 1).flip(-1));
def("flip › int32", ([x]) => ig.flip(x, 0));
for (const [name, f] of [["triu", ig.triu], ["tril", ig.tril]] as const) {
  def(`${name} › square`, ([x]) => f(x));
  def(`${name} › wide, diagonal 1`, ([x]) => f(x, 1));
  def(`${name} › tall, diagonal -1`, ([x]) => f(x, -1));
  def(`${name} › diagonal beyond the matrix`, ([x]) => f(x, name === "triu" ? 4 : -4));
  def(`${name} › batched permuted view`, ([x]) => f(x.permute(1, 0, 2), 1));
}

// ---------------------------------------------------------------- indexing
for (const key of ["dim 1", "repeated indices", "int32 input"]) def(`gather › ${key}`, ([x, i]) => ig.gather(x, 1, i));
def("gather › dim 0", ([x, i]) => ig.gather(x, 0, i));
def("gather › negative dim, index longer along it", ([x, i]) => x.gather(-1, i));
def("gather › transposed input and index", ([x, i]) => ig.gather(x.t(), 1, i.t()));
def("gather › expanded index", ([x, i]) => ig.gather(x, 1, i.expand(4, 3)));
for (const key of ["dim 0", "index smaller than src", "int32"]) def(`scatterAdd › ${key}`, ([x, i, s]) => ig.scatterAdd(x, 0, i, s));
def("scatterAdd › negative dim of 3-d", ([x, i, s]) => x.scatterAdd(-1, i, s));
def("scatterAdd › transposed views", ([x, i, s]) => ig.scatterAdd(x.t(), 1, i, s.t()));
def("scatterAdd › repeated indices", ([x, i, s]) => ig.scatterAdd(x, 1, i, s));
def("indexSelect › dim 0 with repeats", ([x, i]) => ig.indexSelect(x, 0, i));
def("indexSelect › negative dim of 3-d", ([x, i]) => x.indexSelect(-1, i));
def("indexSelect › 0-d index", ([x, i]) => ig.indexSelect(x, 1, i));
def("indexSelect › transposed input, strided index", ([x, i]) => ig.indexSelect(x.t(), 1, i.slice(0, 1, 7, 2)));
def("oneHot › 4 classes", ([i]) => ig.oneHot(i, 4));
def("oneHot › inferred classes", ([i]) => ig.oneHot(i));
def("oneHot › transposed 2-d indices, more classes than used", ([i]) => i.t().oneHot(5));
for (const key of ["2-d indices", "0-d index"]) def(`embedding › ${key}`, ([i, w]) => ig.embedding(i, w));
def("embedding › transposed weight and indices, repeats", ([i, w]) => ig.embedding(i.t(), w.t()));
def("embedding › paddingIdx gets no gradient", ([i, w]) => ig.embedding(i, w, 2));
def("embedding › negative paddingIdx", ([i, w]) => ig.embedding(i, w, -2));
def("embeddingBackward › 2-d indices", ([g, i]) => ig.embeddingBackward(g, i, 5));
def("embeddingBackward › with paddingIdx", ([g, i]) => ig.embeddingBackward(g, i, 4, 2));
def("embeddingBackward › transposed grad", ([g, i]) => ig.embeddingBackward(g.t(), i, 6));

// ---------------------------------------------------------------- convolution and pooling
const CONV2D: Record<string, ig.Conv2dOptions> = {
  "bias and padding 1": { padding: 1 },
  "stride 2 leaves the last row and column unused": { stride: 2 },
  "kernel [2,3], stride [1,2], padding [2,1]": { stride: [1, 2], padding: [2, 1] },
  "dilation [2,1], stride 2": { dilation: [2, 1], stride: 2 },
  "groups 2 with bias": { groups: 2, padding: 1 },
  "depthwise, 2 filters per channel": { groups: 3 },
  "padding same, even kernel [2,4]": { padding: "same" },
  "padding same with dilation 2": { padding: "same", dilation: 2 },
  "padding valid": { padding: "valid" },
  "unbatched [C, H, W]": { padding: 1 },
};
for (const [key, o] of Object.entries(CONV2D)) def(`conv2d › ${key}`, ([x, w, b]) => ig.conv2d(x, w, b ?? null, o));
def("conv2d › NHWC input permuted to NCHW", ([x, w]) => ig.conv2d(x.permute(0, 3, 1, 2), w, null, { padding: 1 }));
const CONV1D: Record<string, ig.Conv1dOptions> = {
  "with bias": {},
  "stride 2, padding 1, dilation 2": { stride: 2, padding: 1, dilation: 2 },
  "padding same, even kernel": { padding: "same" },
  "groups 2, padding valid": { groups: 2, padding: "valid" },
};
for (const [key, o] of Object.entries(CONV1D)) def(`conv1d › ${key}`, ([x, w, b]) => ig.conv1d(x, w, b ?? null, o));
def("conv1d › unbatched transposed input", ([x, w]) => ig.conv1d(x.t(), w));
def("conv2dGradInput › stride 2 with unused input rows", ([g, w]) => ig.conv2dGradInput(g, w, [2, 2, 7, 7], { stride: 2 }));
def("conv2dGradInput › groups 2, padding 2, dilation 2", ([g, w]) => ig.conv2dGradInput(g, w, [1, 2, 5, 5], { padding: 2, dilation: 2, groups: 2 }));
def("conv2dGradWeight › stride [2,1], padding 1", ([x, g]) => ig.conv2dGradWeight(x, g, [3, 2, 3, 3], { stride: [2, 1], padding: 1 }));
def("conv2dGradWeight › groups 2, dilation 2", ([x, g]) => ig.conv2dGradWeight(x, g, [2, 2, 3, 3], { dilation: 2, groups: 2 }));
const MAXPOOL: Record<string, [number | number[], ig.MaxPool2dOptions]> = {
  "2x2": [2, {}],
  "3x3 stride 2 overlapping windows": [3, { stride: 2 }],
  "kernel [2,3], stride [1,2]": [[2, 3], { stride: [1, 2] }],
  "dilation 2": [2, { dilation: 2, stride: 1 }],
  "ceilMode keeps a partial window": [2, { ceilMode: true }],
  "ceilMode with padding drops a window starting in the padding": [2, { padding: 1, ceilMode: true }],
  "ceilMode, padding 1, stride 2, kernel 3": [3, { stride: 2, padding: 1, ceilMode: true }],
  "unbatched [C, H, W]": [2, {}],
  "padding never wins": [3, { stride: 2, padding: 1 }],
  "ties go to the first maximum": [2, { stride: 1 }],
  int32: [2, {}],
};
for (const [key, [k, o]] of Object.entries(MAXPOOL)) def(`maxPool2d › ${key}`, ([x]) => ig.maxPool2d(x, k, o));
def("maxPool2dWithIndices › dilation 2, ceilMode", ([x]) => ig.maxPool2dWithIndices(x, 2, { stride: 2, dilation: 2, ceilMode: true })[1]);
def("maxPool2dWithIndices › indices", ([x]) => ig.maxPool2dWithIndices(x, 3, { stride: 2, padding: 1 })[1]);
const AVGPOOL: Record<string, [number | number[], ig.AvgPool2dOptions]> = {
  "2x2": [2, {}],
  "3x3 stride 2 padding 1 counts the padding": [3, { stride: 2, padding: 1 }],
  "padding 1 without counting it": [3, { stride: 2, padding: 1, countIncludePad: false }],
  "ceilMode partial windows": [2, { ceilMode: true }],
  "ceilMode and padding, counting it": [3, { stride: 2, padding: 1, ceilMode: true }],
  "ceilMode and padding without counting it": [3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }],
  "kernel [3,2], stride [1,2]": [[3, 2], { stride: [1, 2] }],
  divisorOverride: [2, { divisorOverride: 3 }],
};
for (const [key, [k, o]] of Object.entries(AVGPOOL)) def(`avgPool2d › ${key}`, ([x]) => ig.avgPool2d(x, k, o));
def("avgPool2d › unbatched transposed view", ([x]) => ig.avgPool2d(x.transpose(1, 2), 2));
const ADAPTIVE: Record<string, number | (number | null)[]> = {
  "global average (1x1)": 1,
  "5x7 → 3x4 uneven, overlapping windows": [3, 4],
  "upsampling 3x2 → 5x4": [5, 4],
  "null keeps a dim": [2, null],
};
for (const [key, size] of Object.entries(ADAPTIVE)) def(`adaptiveAvgPool2d › ${key}`, ([x]) => ig.adaptiveAvgPool2d(x, size));
def("adaptiveAvgPool2d › unbatched permuted view", ([x]) => ig.adaptiveAvgPool2d(x.permute(2, 0, 1), [2, 3]));

// ---------------------------------------------------------------- normalization
def("layerNorm › last dim, affine", ([x, w, b]) => ig.layerNorm(x, [5], w, b));
def("layerNorm › no affine, 3-d", ([x]) => ig.layerNorm(x, 4));
def("layerNorm › two trailing dims", ([x, w, b]) => ig.layerNorm(x, [3, 4], w, b));
def("layerNorm › bias only", ([x, b]) => ig.layerNorm(x, [3], null, b));
def("layerNorm › transposed view, weight only", ([x, w]) => ig.layerNorm(x.t(), [5], w));
def("layerNorm › large eps", ([x]) => ig.layerNorm(x, [4], null, null, 0.05));
def("layerNorm › shifted input", ([x]) => ig.layerNorm(x, [6]));
def("batchNorm › training [N,C], affine", ([x, w, b]) => ig.batchNorm(x, null, null, w, b, true));
def("batchNorm › training [N,C,H,W], no affine", ([x]) => ig.batchNorm(x, null, null, null, null, true));
def("batchNorm › training [N,C,L], permuted view", ([x, w, b]) => ig.batchNorm(x.permute(0, 2, 1), null, null, w, b, true));
def("batchNorm › training, weight only, large eps", ([x, w]) => ig.batchNorm(x, null, null, w, null, true, 0.1, 0.05));
def("batchNorm › eval, affine", ([x, m, v, w, b]) => ig.batchNorm(x, m, v, w, b, false));
def("batchNorm › eval, no affine, single sample", ([x, m, v]) => ig.batchNorm(x, m, v));
def("batchNorm › running mean update, momentum 0.3", ([x, m, v]) => (ig.batchNorm(x, m, v, null, null, true, 0.3), m));
def("batchNorm › running var update (unbiased), momentum 0.3", ([x, m, v]) => (ig.batchNorm(x, m, v, null, null, true, 0.3), v));

// ---------------------------------------------------------------- losses (the option matrix is in losses-golden.test.ts)
for (const [name, f] of [["mseLoss", ig.mseLoss], ["l1Loss", ig.l1Loss]] as const) {
  def(`${name} › mean`, ([x, t]) => f(x, t));
  def(`${name} › sum of a transposed input`, ([x, t]) => f(x.t(), t, { reduction: "sum" }));
  def(`${name} › none`, ([x, t]) => f(x, t, { reduction: "none" }));
}
def("huberLoss › delta 0.5, both branches", ([x, t]) => ig.huberLoss(x, t, { reduction: "none", delta: 0.5 }));
def("huberLoss › delta 2, sum", ([x, t]) => ig.huberLoss(x, t, { reduction: "sum", delta: 2 }));
def("smoothL1Loss › beta 0.5, both branches", ([x, t]) => ig.smoothL1Loss(x, t, { reduction: "none", beta: 0.5 }));
def("smoothL1Loss › beta 0 is L1", ([x, t]) => ig.smoothL1Loss(x, t, { beta: 0 }));
def("binaryCrossEntropy › mean", ([p, t]) => ig.binaryCrossEntropy(p, t));
def("binaryCrossEntropy › broadcast weight, none", ([p, t, w]) => ig.binaryCrossEntropy(p, t, { weight: w, reduction: "none" }));
def("binaryCrossEntropy › probabilities 0 and 1", ([p, t]) => ig.binaryCrossEntropy(p, t, { reduction: "none" }));
def("binaryCrossEntropyWithLogits › mean", ([x, t]) => ig.binaryCrossEntropyWithLogits(x, t));
def("binaryCrossEntropyWithLogits › weight and posWeight", ([x, t, w, pw]) => ig.binaryCrossEntropyWithLogits(x, t, { weight: w, posWeight: pw }));
def("binaryCrossEntropyWithLogits › large logits stay finite", ([x, t]) => ig.binaryCrossEntropyWithLogits(x, t, { reduction: "none" }));
def("klDiv › batchmean", ([x, t]) => ig.klDiv(x, t, { reduction: "batchmean" }));
def("klDiv › sum, zero targets", ([x, t]) => ig.klDiv(x, t, { reduction: "sum" }));
def("klDiv › logTarget, none, permuted", ([x, t]) => ig.klDiv(x.permute(1, 2, 0), t, { reduction: "none", logTarget: true }));
for (const key of ["[N,C] mean", "unbatched [C]"]) def(`crossEntropy › ${key}`, ([x, t]) => ig.crossEntropy(x, t));
def("crossEntropy › weighted, ignoreIndex -100, none", ([x, t, w]) => ig.crossEntropy(x, t, { weight: w, reduction: "none" }));
def("crossEntropy › [N,C,H,W] ignoreIndex 1, sum", ([x, t]) => ig.crossEntropy(x, t, { ignoreIndex: 1, reduction: "sum" }));
def("crossEntropy › label smoothing, weights and ignored, mean", ([x, t, w]) => ig.crossEntropy(x, t, { weight: w, labelSmoothing: 0.2 }));
def("crossEntropy › class dim last, permuted, label smoothing", ([x, t]) => ig.crossEntropy(x.permute(0, 2, 1), t, { labelSmoothing: 0.1, reduction: "sum" }));
def("nllLoss › weighted mean", ([x, t, w]) => ig.nllLoss(x, t, { weight: w }));
def("nllLoss › [N,C,L] ignoreIndex 2, none", ([x, t]) => ig.nllLoss(x, t, { ignoreIndex: 2, reduction: "none" }));
def("nllLoss › transposed scores, sum", ([x, t]) => ig.nllLoss(x.t(), t, { reduction: "sum" }));

// ---------------------------------------------------------------- views, copies, casts, creation
def("reshape › of a transposed view (copies)", ([x]) => x.t().reshape(2, -1));
def("view › contiguous", ([x]) => ig.view(x, 3, 2, 2));
def("permute › 3-d", ([x]) => ig.permute(x, 1, 2, 0));
def("transpose › negative dims", ([x]) => ig.transpose(x, -1, 0));
def("squeeze › one dim of several", ([x]) => ig.squeeze(x, 2));
def("unsqueeze › negative dim", ([x]) => ig.unsqueeze(x, -1));
def("expand › -1 and new leading dims", ([x]) => ig.expand(x, 2, -1, 4));
def("broadcastTo › row to matrix", ([x]) => ig.broadcastTo(x, [3, 4]));
def("slice › step 2 from a negative start", ([x]) => ig.slice(x, 1, -7, -1, 2));
def("narrow › negative start", ([x]) => ig.narrow(x, 0, -3, 2));
def("select › negative index", ([x]) => ig.select(x, 1, -2));
def("flatten › middle dims", ([x]) => ig.flatten(x, 1, 2));
def("flatten › 0-d", ([x]) => ig.flatten(x));
def("contiguous › of a permuted view", ([x]) => ig.contiguous(x.permute(2, 0, 1)));
def("clone › of a sliced view", ([x]) => ig.clone(x.slice(0, 1, 3)));
def("to › float64 to int32 truncates toward zero", ([x]) => x.to("int32"));
def("to › float64 to bool", ([x]) => x.bool());
def("to › int32 to float64", ([x]) => ig.to(x, "float64"));
def("to › float64 to float32 rounds", ([x]) => x.float());
def("arange › integers", () => ig.arange(5));
def("arange › float64 step 0.1", () => ig.arange(0, 1, 0.1, { dtype: "float64" }));
def("arange › negative step", () => ig.arange(2, -1, -0.5, { dtype: "float64" }));
def("linspace › 7 steps", () => ig.linspace(-1, 2, 7, { dtype: "float64" }));
def("linspace › descending, 6 steps", () => ig.linspace(3, -2, 6, { dtype: "float64" }));
def("linspace › one step", () => ig.linspace(0.5, 1, 1, { dtype: "float64" }));
def("eye › 2x4", () => ig.eye(2, 4, { dtype: "float64" }));
def("full › float64", () => ig.full([2, 3], 1.5, { dtype: "float64" }));
for (const key of ["copy_ › broadcast row", "copy_ › float into int32 truncates"]) def(key, ([dst, src]) => ig.copy_(dst, src));
for (const key of ["add_ › broadcast row", "add_ › int32"]) def(key, ([dst, src]) => ig.add_(dst.clone(), src));
def("kvCacheWrite_ › one step into a partly filled cache", ([kv, qkv]) => ig.kvCacheWrite_(kv.clone(), qkv, { past: 4, nHead: 2 }));
def("kvCacheWrite_ › prefill, two rows", ([kv, qkv]) => ig.kvCacheWrite_(kv.clone(), qkv, { past: 0, nHead: 3 }));
const kvAttend = (qkv: ig.Tensor, kv: ig.Tensor, past: number, nHead: number, scale?: number) =>
  ig.kvCacheAttention(qkv, ig.kvCacheWrite_(kv.clone(), qkv, { past, nHead }), { past, nHead, scale });
def("kvCacheAttention › prefill (causal)", ([qkv, kv]) => kvAttend(qkv, kv, 0, 3));
def("kvCacheAttention › one step over 4 cached positions", ([qkv, kv]) => kvAttend(qkv, kv, 4, 2));
def("kvCacheAttention › three new over 2 cached, scale 0.7", ([qkv, kv]) => kvAttend(qkv, kv, 2, 2, 0.7));

// ---------------------------------------------------------------- special values: zeros, infinities, NaN, masking
for (const key of ["log › zero and negative", "sqrt › zero and negative", "rsqrt › zero", "reciprocal › zero", "exp › infinities and NaN", "tanh › infinities", "sigmoid › infinities and NaN", "erf › infinities", "relu › NaN", "leakyRelu › NaN", "elu › NaN", "softplus › NaN", "abs › NaN"])
  def(key, ([x]) => UNARY[key.split(" › ")[0]](x));
def("clamp › NaN stays NaN", ([x]) => ig.clamp(x, -1, 1));
binary2("div › by zero", ig.div);
binary2("pow › negative base, fractional exponent", ig.pow);
def("pow › zero to a negative power", ([a]) => ig.pow(a, -2));
def("max › NaN propagates", ([x]) => ig.max(x, 1));
def("argmax › NaN is the maximum", ([x]) => ig.argmax(x, 1));
def("mean › empty is NaN", ([x]) => ig.mean(x));
def("std › a constant group has gradient 0", ([x]) => ig.std(x, 1));
def("variance › one element, correction 1 is NaN", ([x]) => ig.variance(x, 1));
for (const key of ["softmax › masked with -inf", "softmax › a row of -inf is NaN"]) def(key, ([x]) => ig.softmax(x, 1));
def("logSoftmax › masked with -inf", ([x]) => ig.logSoftmax(x, 1));
def("logSumExp › infinities", ([x]) => ig.logSumExp(x, 1));
def("maxPool2d › NaN propagates", ([x]) => ig.maxPool2d(x, 2));
def("layerNorm › constant rows", ([x, w, b]) => ig.layerNorm(x, [4], w, b));
def("batchNorm › constant channel", ([x]) => ig.batchNorm(x, null, null, null, null, true));
def("l1Loss › equal input and target (gradient 0)", ([x, t]) => ig.l1Loss(x, t, { reduction: "sum" }));
def("huberLoss › exactly at delta", ([x, t]) => ig.huberLoss(x, t, { reduction: "none" }));
def("klDiv › zero targets, target gradient", ([x, t]) => ig.klDiv(x, t, { reduction: "sum" }));
def("binaryCrossEntropy › probabilities 0 and 1, gradients", ([p, t]) => ig.binaryCrossEntropy(p, t, { reduction: "sum" }));
def("binaryCrossEntropyWithLogits › beyond the softplus threshold", ([x, t]) => ig.binaryCrossEntropyWithLogits(x, t, { reduction: "none" }));
def("crossEntropy › -inf logits of other classes", ([x, t]) => ig.crossEntropy(x, t, { reduction: "none" }));
def("crossEntropy › all ignored, mean is NaN", ([x, t]) => ig.crossEntropy(x, t));
def("nllLoss › all ignored, mean is NaN", ([x, t]) => ig.nllLoss(x, t));

// ---------------------------------------------------------------- attention
const SDPA = "scaledDotProductAttention";
def(`${SDPA} › no mask`, ([q, k, v]) => ig.scaledDotProductAttention(q, k, v));
def(`${SDPA} › causal`, ([q, k, v]) => ig.scaledDotProductAttention(q, k, v, { isCausal: true }));
def(`${SDPA} › causal, T < S (top-left)`, ([q, k, v]) => ig.scaledDotProductAttention(q, k, v, { isCausal: true }));
def(`${SDPA} › bool mask [T,S] broadcast`, ([q, k, v, m]) => ig.scaledDotProductAttention(q, k, v, { attnMask: m }));
def(`${SDPA} › bool key padding [B,1,1,S] and causal`, ([q, k, v, m]) => ig.scaledDotProductAttention(q, k, v, { attnMask: m, isCausal: true }));
def(`${SDPA} › float additive mask`, ([q, k, v, m]) => ig.scaledDotProductAttention(q, k, v, { attnMask: m }));
def(`${SDPA} › scale 0.8, Dv ≠ D`, ([q, k, v]) => ig.scaledDotProductAttention(q, k, v, { scale: 0.8 }));
def(`${SDPA} › permuted (B, T, H, D) views`, ([q, k, v]) => ig.scaledDotProductAttention(q.permute(0, 2, 1, 3), k.permute(0, 2, 1, 3), v.permute(0, 2, 1, 3), { isCausal: true }));
def(`${SDPA} › large scores`, ([q, k, v]) => ig.scaledDotProductAttention(q, k, v, { scale: 300 }));
/** The backward primitive called directly: the forward op for out and lse, then output i of the backward (dq, dk, dv). */
function sdpaBackward(i: number, isCausal: boolean): Call {
  return ([g, q, k, v, ...mask]) => {
    const attrs = { scale: 1 / Math.sqrt(q.shape[3]), isCausal, hasMask: mask.length > 0, hasKeep: false, dropoutP: 0 };
    const [out, lse] = ig.runOpMulti(ig.getOp(SDPA)!, [q, k, v, ...mask], attrs);
    return ig.runOpMulti(ig.getOp(`${SDPA}Backward`)!, [g, q, k, v, out, lse, ...mask], attrs)[i];
  };
}
["dq", "dk", "dv"].forEach((name, i) => {
  def(`${SDPA}Backward › ${name}, causal`, sdpaBackward(i, true));
  def(`${SDPA}Backward › ${name}, bool mask, T ≠ S`, sdpaBackward(i, false));
});

// ---------------------------------------------------------------- low-bit ops (int64 inputs arrive as int32: cast to int8/uint8)
def("intMm › odd shapes", ([a, b]) => ig.intMm(a.to("int8"), b.to("int8")));
def("intMm › -128 and 127", ([a, b]) => ig.intMm(a.to("int8"), b.to("int8")));
def("int8Linear › dynamic", ([x, w, s, b]) => ig.int8Linear(x, w.to("int8"), s, b));
def("int8Linear › static, clamped", ([x, w, s, b]) => ig.int8Linear(x, w.to("int8"), s, b, { actScale: 0.01 }));
def("int4Linear › group 32", ([x, p, s, z, b]) => ig.int4Linear(x, p.to("uint8"), s, z.to("uint8"), b, { group: 32 }));
def("int4Linear › group 64, one row", ([x, p, s, z]) => ig.int4Linear(x, p.to("uint8"), s, z.to("uint8"), null, { group: 64 }));
def("fakeQuantize › per tensor int8, STE", ([x]) => ig.fakeQuantize(x, 0.0625, 0, -127, 127));
def("fakeQuantize › asymmetric uint8", ([x]) => ig.fakeQuantize(x, 0.015625, 100, 0, 255));
def("fakeQuantize › per channel int4", ([x, s]) => ig.fakeQuantize(x, s.reshape(3, 1), 0, -8, 7));
def("geluBackward › exact", ([g, x]) => ig.geluBackward(g, x));
def("geluBackward › tanh", ([g, x]) => ig.geluBackward(g, x, "tanh"));
def("geluBackward › far tails", ([g, x]) => ig.geluBackward(g, x));
