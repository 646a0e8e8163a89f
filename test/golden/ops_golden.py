# Generates test/golden/ops.json: PyTorch's float64 forward values and gradients for every op in
# src/ops, an independent check of the ref backend (the conformance suite only compares with ref).
# Run with Debian's python3-torch:  /usr/bin/python3 test/golden/ops_golden.py
# Each case is "function › what": inputs (drawn here with a fixed seed), the output, and the gradient
# of sum(out · w) w.r.t. every differentiated float input (golden_util.weight). The Ingot call of each
# name is in test/unit/ops-golden-calls.ts: add a case in both places. The tests never need torch.
# This file holds the elementwise, reduction, matrix and movement cases; ops_golden_nn.py the rest.
import math
import warnings

import torch
import torch.nn.functional as F

import ops_golden_nn
from golden_util import CASES, B, D, R, U, V, case, write

warnings.filterwarnings("ignore", message="Using padding='same'")
torch.manual_seed(1913)

# ---------------------------------------------------------------- unary math and activations
UNARY = {
    "neg": (torch.neg, (-2, 2)), "exp": (torch.exp, (-2, 2)), "abs": (torch.abs, (-2, 2)),
    "log": (torch.log, (0.5, 3)), "log1p": (torch.log1p, (-0.5, 2)), "sqrt": (torch.sqrt, (0.25, 4)),
    "rsqrt": (torch.rsqrt, (0.25, 4)), "square": (torch.square, (-2, 2)), "reciprocal": (torch.reciprocal, (0.5, 2)),
    "sign": (torch.sign, (-2, 2)), "sin": (torch.sin, (-4, 4)), "cos": (torch.cos, (-4, 4)),
    "tanh": (torch.tanh, (-3, 3)), "sigmoid": (torch.sigmoid, (-4, 4)), "erf": (torch.erf, (-3, 3)),
    "floor": (torch.floor, (-3, 3)), "ceil": (torch.ceil, (-3, 3)), "round": (torch.round, (-3, 3)),
    "relu": (torch.relu, (-3, 3)), "leakyRelu": (F.leaky_relu, (-3, 3)), "elu": (F.elu, (-3, 3)),
    "gelu": (F.gelu, (-3, 3)), "silu": (F.silu, (-5, 5)), "softplus": (F.softplus, (-4, 4)),
}
for name, (f, (lo, hi)) in UNARY.items():
    case(f"{name} › 2-d", [U(3, 4, lo=lo, hi=hi)], f)
    case(f"{name} › transposed view", [U(4, 3, lo=lo, hi=hi)], lambda x, f=f: f(x.t()))
for name in ("exp", "log", "sqrt", "tanh", "sigmoid", "erf"):
    f, (lo, hi) = UNARY[name]
    case(f"{name} › strided slice", [U(4, 6, lo=lo, hi=hi)], lambda x, f=f: f(x[:, 1:6:2]))
    case(f"{name} › 0-d", [U(lo=lo, hi=hi)], f)
for name in ("neg", "abs", "square", "sign", "floor", "ceil", "round", "relu"):
    case(f"{name} › int32", [torch.randint(-5, 6, (6,), dtype=torch.int32)], UNARY[name][0])
case("abs › zeros", [V([0.0, -0.0, 1.5, -2.0])], torch.abs)
case("sign › zeros and NaN", [V([0.0, -0.0, 3.0, -2.0, math.nan])], torch.sign)
case("exp › wide range", [V([-700.0, -20.0, 0.0, 20.0, 700.0])], torch.exp)
case("log1p › tiny inputs", [V([1e-10, -3e-12, 2e-8])], torch.log1p)
case("reciprocal › negative inputs", [U(2, 3, lo=-2, hi=-0.5)], torch.reciprocal)
case("tanh › saturated", [V([-30.0, -12.0, 12.0, 30.0])], torch.tanh)
case("sigmoid › large magnitudes", [V([-800.0, -40.0, 40.0, 800.0])], torch.sigmoid)
case("erf › every branch", [V([-5.0, -1.0, -0.3, 0.2, 0.5, 2.5, 4.0, 7.0])], torch.erf)
for name in ("floor", "ceil", "round"):
    case(f"{name} › halves and whole numbers", [V([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -2.0, 3.0])], UNARY[name][0])
case("round › decimals 2", [V([1.234, -0.125, 2.5, 0.375, 9.999])], lambda x: torch.round(x, decimals=2))
case("round › decimals -1", [U(2, 3, lo=-100, hi=100)], lambda x: torch.round(x, decimals=-1))
case("relu › zeros", [V([-1.0, 0.0, 0.5, -0.0])], torch.relu)
case("leakyRelu › slope 0.2 with a zero", [V([-1.5, 0.0, 0.7, -0.2])], lambda x: F.leaky_relu(x, 0.2))
case("leakyRelu › slope 1.5", [U(5)], lambda x: F.leaky_relu(x, 1.5))
case("elu › alpha 0.5", [U(3, 4)], lambda x: F.elu(x, 0.5))
case("elu › near zero", [V([-1e-9, -1e-4, 0.0, 1e-4, 2e-3])], F.elu)
case("gelu › tanh 2-d", [U(3, 5, lo=-3, hi=3)], lambda x: F.gelu(x, approximate="tanh"))
case("gelu › tanh transposed", [U(4, 3, lo=-3, hi=3)], lambda x: F.gelu(x.t(), approximate="tanh"))
case("gelu › far tails", [V([-12.0, -6.0, 6.0, 12.0])], F.gelu)
case("softplus › beta 2 threshold 3 (both branches)", [U(3, 4, lo=-3, hi=3)], lambda x: F.softplus(x, 2, 3))
case("softplus › beta 0.5", [U(6, lo=-6, hi=6)], lambda x: F.softplus(x, 0.5))
case("softplus › large inputs stay linear", [V([25.0, 100.0, 1000.0])], F.softplus)
case("clamp › min and max", [U(3, 4)], lambda x: torch.clamp(x, -0.5, 0.8))
case("clamp › min only", [U(3, 4)], lambda x: torch.clamp(x, min=-0.3))
case("clamp › max only", [U(3, 4)], lambda x: torch.clamp(x, max=0.4))
case("clamp › ties at the bounds pass the gradient", [V([-0.5, 0.8, 0.0, 1.0, -1.0])], lambda x: torch.clamp(x, -0.5, 0.8))
case("clamp › min above max gives max", [U(5)], lambda x: torch.clamp(x, 1, -1))
case("clamp › tensor bounds broadcast", [U(3, 4), U(4, lo=-1.5, hi=-0.2), U(3, 1, lo=0.2, hi=1.5)], lambda x, lo, hi: torch.clamp(x, lo, hi))
case("clamp › tensor bounds that cross", [U(2, 4), V([-1.0, 1.0, 0.5, -0.5]), V([1.0, -1.0, -0.5, 0.5])], lambda x, lo, hi: torch.clamp(x, lo, hi))
case("clamp › tensor max broadcasts x", [U(3), U(2, 3, lo=-1, hi=1)], lambda x, hi: torch.clamp(x, max=hi))
case("clamp › int32", [torch.randint(-6, 7, (6,), dtype=torch.int32)], lambda x: torch.clamp(x, -2, 3))
case("clamp › int32 with a fractional bound gives float32", [torch.randint(-3, 4, (4,), dtype=torch.int32)], lambda x: torch.clamp(x, 0.5))
case("clip › alias", [U(2, 3)], lambda x: torch.clip(x, -0.5, 0.5))

# ---------------------------------------------------------------- binary arithmetic
case("add › broadcast both", [U(3, 1), U(1, 4)], torch.add)
case("add › scalar", [U(2, 3)], lambda a: a + 1.5)
case("add › alpha 2", [U(3, 4), U(4)], lambda a, b: torch.add(a, b, alpha=2))
case("add › transposed view", [U(4, 3), U(3, 4)], lambda a, b: a.t() + b)
case("add › int32", [torch.randint(-5, 5, (3,), dtype=torch.int32), torch.randint(-5, 5, (3,), dtype=torch.int32)], torch.add)
case("add › int32 + float promotes", [torch.randint(-5, 5, (3,), dtype=torch.int32), U(3)], torch.add)
case("sub › broadcast col", [U(3, 4), U(3, 1)], torch.sub)
case("sub › scalar first", [U(3)], lambda a: 2 - a)
case("sub › alpha -0.5", [U(2, 3), U(2, 3)], lambda a, b: torch.sub(a, b, alpha=-0.5))
case("mul › broadcast 3-d", [U(2, 3, 4), U(3, 1)], torch.mul)
case("mul › same tensor twice", [U(5)], lambda a: a * a)
case("mul › int32", [torch.randint(-4, 4, (4,), dtype=torch.int32), torch.randint(-4, 4, (4,), dtype=torch.int32)], torch.mul)
case("div › broadcast", [U(3, 4), U(4, lo=0.5, hi=2)], torch.div)
case("div › scalar numerator", [U(2, 3, lo=0.5, hi=2)], lambda b: 1.5 / b)
case("div › int32 / int32 is true division (float32)", [torch.randint(-9, 9, (4,), dtype=torch.int32), torch.randint(1, 4, (4,), dtype=torch.int32)], torch.div)
case("pow › tensor exponent", [U(3, 4, lo=0.5, hi=2), U(3, 4)], torch.pow)
case("pow › broadcast exponent row", [U(3, 4, lo=0.5, hi=2), U(4, lo=-1.5, hi=2.5)], torch.pow)
case("pow › scalar exponent 2 (negative base)", [U(2, 3)], lambda a: a ** 2)
case("pow › scalar exponent 3 on a transposed view", [U(3, 2)], lambda a: a.t() ** 3)
case("pow › fractional scalar exponent", [U(5, lo=0.2, hi=3)], lambda a: a ** 0.5)
case("pow › exponent 0 (gradient 0 at 0)", [V([0.0, 1.0, -2.0, 0.5])], lambda a: a ** 0)
case("pow › scalar base", [U(2, 3)], lambda b: torch.pow(2, b))
case("pow › zero base, tensor exponent", [V([0.0, 0.0, 0.0, 1.5]), V([2.0, 0.0, 1.0, -0.5])], torch.pow)
case("pow › int32", [torch.randint(-4, 5, (6,), dtype=torch.int32), torch.randint(0, 4, (6,), dtype=torch.int32)], torch.pow)
case("pow › int32 ** fractional gives float32", [torch.randint(1, 9, (4,), dtype=torch.int32)], lambda a: a ** 0.5)
for name, f in (("maximum", torch.maximum), ("minimum", torch.minimum)):
    case(f"{name} › same shape", [U(3, 4), U(3, 4)], f)
    case(f"{name} › broadcast", [U(3, 1), U(4)], f)
    case(f"{name} › ties split the gradient", [V([1.0, 2.0, -3.0, 0.5]), V([1.0, 0.0, -3.0, 2.0])], f)
    case(f"{name} › tie with itself", [U(3)], lambda a, f=f: f(a, a))
    case(f"{name} › scalar", [U(2, 3)], lambda a, f=f: f(a, torch.tensor(0.25, dtype=D)))
    case(f"{name} › NaN propagates", [V([math.nan, 1.0, 2.0]), V([0.0, math.nan, 1.0])], f, grad=False)
    case(f"{name} › int32", [torch.randint(0, 5, (5,), dtype=torch.int32), torch.randint(0, 5, (5,), dtype=torch.int32)], f)

# ---------------------------------------------------------------- comparisons, logic, selection
TIES_A = V([1.0, -2.0, 0.5, 3.0, 0.0, -1.0, math.nan], None)
TIES_B = V([1.0, 2.0, 0.5, -3.0, -0.0, 4.0, 1.0], None)
for name in ("eq", "ne", "lt", "le", "gt", "ge"):
    f = getattr(torch, name)
    case(f"{name} › floats with ties and NaN", [TIES_A, TIES_B], f)
    case(f"{name} › broadcast", [U(3, 1), U(4)], f)
    case(f"{name} › scalar other", [V([0.0, 1.0, -1.0, 0.5, 2.0, 0.0])], lambda a, f=f: f(a, 0))
    case(f"{name} › int32 against a fractional scalar", [torch.randint(0, 3, (6,), dtype=torch.int32)], lambda a, f=f: f(a, 1.5))
    case(f"{name} › int32 and float promote", [torch.tensor([0, 1, 2, 2, -1], dtype=torch.int32), V([0.0, 1.5, 2.0, 2.5, -1.0])], f)
    case(f"{name} › bool", [B(6), B(6)], f)
for name in ("logicalAnd", "logicalOr", "logicalXor"):
    f = getattr(torch, "logical_" + name[7:].lower())
    case(f"{name} › bool broadcast", [B(3, 1), B(4)], f)
    case(f"{name} › floats and ints (non-zero is true)", [V([0.0, 1.5, 0.0, -2.0, math.nan, 0.0]), torch.tensor([0, 0, 1, -1, 0, 2], dtype=torch.int32)], f)
case("logicalNot › floats with zeros and NaN", [V([0.0, -0.0, 2.0, math.nan, -1.0])], torch.logical_not)
case("logicalNot › int32 view", [torch.randint(-1, 2, (3, 4), dtype=torch.int32)], lambda x: torch.logical_not(x.t()))
case("where › broadcast all three", [B(3, 1), U(4), U(2, 1, 1)], torch.where)
case("where › scalar other", [B(2, 3), U(2, 3)], lambda c, a: torch.where(c, a, 0.0))
case("where › scalar input", [B(2, 3), U(3)], lambda c, b: torch.where(c, -1.5, b))
case("where › transposed views", [B(4, 3), U(3, 4), U(4, 3)], lambda c, a, b: torch.where(c.t(), a, b.t()))
case("where › int32 and float promote", [B(2, 3), torch.randint(0, 3, (2, 3), dtype=torch.int32), U(3)], torch.where)
case("maskedFill › mask broadcast over rows", [U(3, 4), B(4)], lambda x, m: x.masked_fill(m, 2.5))
case("maskedFill › minus infinity", [U(2, 4), B(1, 4)], lambda x, m: x.masked_fill(m, -math.inf))
case("maskedFill › 0-d tensor value gets a gradient", [U(3, 4), B(3, 4), U()], lambda x, m, v: x.masked_fill(m, v))
case("maskedFill › int32", [torch.randint(-5, 5, (2, 3), dtype=torch.int32), B(2, 3)], lambda x, m: x.masked_fill(m, 9))

# ---------------------------------------------------------------- reductions
case("sum › all", [U(3, 4)], torch.sum)
case("sum › dims [0,2] keepDim", [U(2, 3, 4)], lambda x: x.sum((0, 2), keepdim=True))
case("sum › negative dim of a transposed view", [U(3, 4)], lambda x: x.t().sum(-1))
case("sum › int32 (int64 in PyTorch)", [torch.randint(-5, 5, (3, 4), dtype=torch.int32)], lambda x: x.sum(1))
case("sum › bool counts", [B(2, 5)], lambda x: x.sum(1))
case("sum › empty dim", [U(0, 3)], lambda x: x.sum(0))
case("mean › all", [U(3, 4)], torch.mean)
case("mean › dim1 keepDim", [U(3, 4)], lambda x: x.mean(1, keepdim=True))
case("mean › dims [0,2]", [U(2, 3, 4)], lambda x: x.mean((0, 2)))
for name, f in (("max", torch.amax), ("min", torch.amin)):
    case(f"{name} › all", [U(3, 4)], lambda x, f=f: f(x))
    case(f"{name} › dim0 keepDim", [U(3, 4)], lambda x, f=f: f(x, 0, keepdim=True))
    case(f"{name} › dims [0,2] of 3-d", [U(2, 3, 4)], lambda x, f=f: f(x, (0, 2)))
    case(f"{name} › permuted view, dims [0,1]", [U(2, 3, 4)], lambda x, f=f: f(x.permute(2, 0, 1), (0, 1)))
    case(f"{name} › ties split the gradient", [V([1.0, -3.0, 1.0, 0.5, -0.25, -0.25, 2.0, 2.0, 2.0], (3, 3))], lambda x, f=f: f(x, 1))
    case(f"{name} › tie in a full reduction", [V([-1.5, 1.5, 1.5, -1.5])], lambda x, f=f: f(x))
    case(f"{name} › int32", [torch.randint(-9, 9, (3, 4), dtype=torch.int32)], lambda x, f=f: f(x, 0))
for name, f in (("argmax", torch.argmax), ("argmin", torch.argmin)):
    case(f"{name} › all (flattened)", [U(3, 4)], lambda x, f=f: f(x))
    case(f"{name} › all keepDim", [U(3, 4)], lambda x, f=f: f(x, keepdim=True))
    case(f"{name} › dim0 keepDim", [U(3, 4)], lambda x, f=f: f(x, 0, keepdim=True))
    case(f"{name} › negative dim of 3-d", [U(2, 3, 4)], lambda x, f=f: f(x, -2))
    case(f"{name} › flattened index of a transposed view", [U(3, 4)], lambda x, f=f: f(x.t()))
    case(f"{name} › ties: first occurrence", [V([1.0, 3.0, 3.0, 1.0, -2.0, -2.0, 0.0, -2.0], (2, 4))], lambda x, f=f: f(x, 1))
    case(f"{name} › int32 with ties", [torch.randint(0, 3, (3, 5), dtype=torch.int32)], lambda x, f=f: f(x, 1))
case("prod › all", [U(2, 3, lo=0.5, hi=2)], torch.prod)
case("prod › dim1", [U(3, 4)], lambda x: x.prod(1))
case("prod › dim0 keepDim", [U(3, 4)], lambda x: x.prod(0, keepdim=True))
case("prod › one zero and two zeros in a row", [V([1.5, 0.0, -2.0, 0.0, 0.0, 3.0, 0.5, -1.25, 2.0], (3, 3))], lambda x: x.prod(1))
case("prod › int32", [torch.randint(-3, 4, (3, 4), dtype=torch.int32)], lambda x: x.prod(1))
case("prod › empty dim gives 1", [U(2, 0)], lambda x: x.prod(1))
for name, f in (("variance", torch.var), ("std", torch.std)):
    case(f"{name} › all", [U(3, 4)], lambda x, f=f: f(x))
    case(f"{name} › dims [0,2] of 3-d", [U(2, 3, 4)], lambda x, f=f: f(x, (0, 2)))
    case(f"{name} › correction 0", [U(3, 5)], lambda x, f=f: f(x, -1, correction=0))
    case(f"{name} › correction 2 keepDim", [U(2, 6)], lambda x, f=f: f(x, 1, correction=2, keepdim=True))
    case(f"{name} › of a sliced view", [U(4, 6)], lambda x, f=f: f(x[:, 0:6:2], 0))
    case(f"{name} › large offset", [U(2, 5, lo=1000, hi=1001)], lambda x, f=f: f(x, 1))

# ---------------------------------------------------------------- softmax family
for name, f in (("softmax", torch.softmax), ("logSoftmax", torch.log_softmax)):
    case(f"{name} › last dim", [U(3, 5)], lambda x, f=f: f(x, -1))
    case(f"{name} › dim0", [U(3, 5)], lambda x, f=f: f(x, 0))
    case(f"{name} › middle dim of a permuted view", [U(2, 3, 4)], lambda x, f=f: f(x.permute(2, 0, 1), 1))
    case(f"{name} › large logits", [U(2, 4, lo=500, hi=1000)], lambda x, f=f: f(x, 1))
    case(f"{name} › very negative logits", [U(2, 4, lo=-1000, hi=-900)], lambda x, f=f: f(x, 1))
    case(f"{name} › one element per row", [U(3, 1)], lambda x, f=f: f(x, 1))
    case(f"{name} › 0-d", [U()], lambda x, f=f: f(x, 0))
case("logSumExp › dim1", [U(3, 4)], lambda x: torch.logsumexp(x, 1))
case("logSumExp › dims [0,2] keepDim", [U(2, 3, 4)], lambda x: torch.logsumexp(x, (0, 2), keepdim=True))
case("logSumExp › of a transposed view", [U(3, 4)], lambda x: torch.logsumexp(x.t(), -1))
case("logSumExp › large values", [U(2, 3, lo=700, hi=1000)], lambda x: torch.logsumexp(x, 1))
case("logSumExp › very negative values", [U(2, 3, lo=-1000, hi=-800)], lambda x: torch.logsumexp(x, 1))
case("logSumExp › empty dim gives -inf", [U(2, 0)], lambda x: torch.logsumexp(x, 1))

# ---------------------------------------------------------------- matrix products
MATMUL = {
    "2-d": ((3, 4), (4, 5)), "vector · vector": ((4,), (4,)), "matrix · vector": ((3, 4), (4,)),
    "vector · matrix": ((4,), (4, 5)), "batched": ((2, 3, 4), (2, 4, 5)), "broadcast batch dims": ((2, 1, 3, 4), (3, 4, 2)),
    "3-d · 2-d": ((2, 3, 4), (4, 5)), "2-d · 3-d": ((3, 4), (2, 4, 5)), "vector · batch": ((4,), (2, 4, 3)),
    "batch · vector": ((2, 3, 4), (4,)), "empty M": ((0, 4), (4, 5)), "empty K gives zeros": ((3, 0), (0, 2)),
}
for name, (sa, sb) in MATMUL.items():
    case(f"matmul › {name}", [U(*sa), U(*sb)], torch.matmul)
case("matmul › b transposed", [U(3, 4), U(5, 4)], lambda a, b: a @ b.t())
case("matmul › both transposed, batched", [U(2, 4, 3), U(2, 5, 4)], lambda a, b: a.transpose(-2, -1) @ b.transpose(-2, -1))
case("matmul › permuted batch dims", [U(3, 2, 4), U(2, 4, 2)], lambda a, b: a.permute(1, 0, 2) @ b)
case("matmul › strided slices", [U(3, 8), U(4, 10)], lambda a, b: a[:, 0:8:2] @ b[:, 1:10:2])
case("matmul › expanded operand", [U(1, 4, 3), U(2, 3, 2)], lambda a, b: a.expand(2, 4, 3) @ b)
case("matmul › int32", [torch.randint(-5, 5, (3, 4), dtype=torch.int32), torch.randint(-5, 5, (4, 2), dtype=torch.int32)], torch.matmul)
case("mm › with bᵀ", [U(3, 4), U(2, 4)], lambda a, b: torch.mm(a, b.t()))
case("bmm › with aᵀ", [U(2, 4, 3), U(2, 4, 2)], lambda a, b: torch.bmm(a.transpose(1, 2), b))
case("linear › 2-d with bias", [U(4, 3), U(5, 3), U(5)], F.linear)
case("linear › no bias, 3-d input", [U(2, 3, 4), U(5, 4)], F.linear)
case("linear › 1-d input", [U(3), U(2, 3), U(2)], F.linear)
case("linear › transposed input and weight views", [U(3, 4), U(3, 5), U(5)], lambda x, w, b: F.linear(x.t(), w.t(), b))

# ---------------------------------------------------------------- movement
case("concat › dim 0 of three", [U(2, 3), U(1, 3), U(3, 3)], lambda a, b, c: torch.cat([a, b, c]))
case("concat › dim 1 with a transposed view", [U(3, 2), U(2, 4)], lambda a, b: torch.cat([a.t(), b], 1))
case("concat › negative dim", [U(2, 3, 2), U(2, 1, 2)], lambda a, b: torch.cat([a, b], -2))
case("concat › the same tensor twice", [U(2, 3)], lambda a: torch.cat([a, a], 0))
case("concat › with an empty tensor", [U(2, 0), U(2, 3)], lambda a, b: torch.cat([a, b], 1))
case("concat › int32 and float promote", [torch.randint(0, 5, (3,), dtype=torch.int32), U(2)], lambda a, b: torch.cat([a, b]))
case("stack › new last dim", [U(2, 3), U(2, 3)], lambda a, b: torch.stack([a, b], 2))
case("stack › negative dim, transposed views", [U(3, 2), U(2, 3)], lambda a, b: torch.stack([a.t(), b, a.t()], -2))
case("stack › 0-d scalars", [U(), U(), U()], lambda a, b, c: torch.stack([a, b, c]))
case("split › size 2 of 5, rejoined in reverse", [U(5, 3)], lambda x: torch.cat(torch.split(x, 2)[::-1], 0))
case("split › sections with a zero, rejoined in reverse", [U(2, 6)], lambda x: torch.cat(torch.split(x, [1, 0, 3, 2], 1)[::-1], 1))
case("split › one section of a transposed view", [U(6, 2)], lambda x: torch.split(x.t(), [1, 3, 2], -1)[1])
case("chunk › 5 into 3, rejoined in reverse", [U(5, 2)], lambda x: torch.cat(torch.chunk(x, 3)[::-1], 0))
case("chunk › 5 into 4 gives 3 pieces", [U(5)], lambda x: torch.chunk(x, 4)[2])
case("chunk › negative dim of a permuted view", [U(3, 2, 4)], lambda x: torch.chunk(x.permute(2, 0, 1), 2, -3)[1])


def pad4(x, p, mode):
    """F.pad for modes that PyTorch 1.13 only accepts on batched inputs (the same math)."""
    extra = 4 - x.dim() if len(p) == 4 else 3 - x.dim()
    y = x.reshape((1,) * extra + tuple(x.shape)) if extra > 0 else x
    out = F.pad(y, p, mode)
    return out.reshape(out.shape[extra:]) if extra > 0 else out


case("pad › constant last two dims with a value", [U(2, 3, 4)], lambda x: F.pad(x, (1, 0, 2, 1), value=0.5))
case("pad › negative constant padding crops", [U(3, 5)], lambda x: F.pad(x, (-1, 2, 1, -2)))
case("pad › reflect 1-d", [U(2, 5)], lambda x: pad4(x, (2, 4), "reflect"))
case("pad › reflect 2-d", [U(1, 2, 4, 5)], lambda x: F.pad(x, (1, 2, 3, 1), "reflect"))
case("pad › reflect of a transposed view", [U(4, 3)], lambda x: pad4(x.t(), (1, 2, 2, 0), "reflect"))
case("pad › replicate", [U(2, 3, 4)], lambda x: pad4(x, (2, 1, 0, 3), "replicate"))
case("pad › replicate of a size-1 dim", [U(3, 1)], lambda x: pad4(x, (2, 3), "replicate"))
case("pad › circular", [U(2, 4)], lambda x: pad4(x, (3, 4, 1, 0), "circular"))
case("pad › circular of a sliced view", [U(3, 6)], lambda x: pad4(x[:, 1:6:2], (2, 1), "circular"))
case("pad › int32 with a value", [torch.randint(0, 5, (2, 2), dtype=torch.int32)], lambda x: F.pad(x, (1, 1, 1, 0), value=7))
case("flip › dims [0,2]", [U(2, 3, 4)], lambda x: torch.flip(x, (0, 2)))
case("flip › negative dim of a permuted view", [U(2, 3, 4)], lambda x: torch.flip(x.permute(2, 0, 1), (-1,)))
case("flip › int32", [torch.randint(-9, 9, (5,), dtype=torch.int32)], lambda x: torch.flip(x, (0,)))
for name, f in (("triu", torch.triu), ("tril", torch.tril)):
    case(f"{name} › square", [U(4, 4)], f)
    case(f"{name} › wide, diagonal 1", [U(3, 5)], lambda x, f=f: f(x, 1))
    case(f"{name} › tall, diagonal -1", [U(5, 3)], lambda x, f=f: f(x, -1))
    case(f"{name} › diagonal beyond the matrix", [U(3, 3)], lambda x, f=f: f(x, 4 if name == "triu" else -4))
    case(f"{name} › batched permuted view", [U(3, 2, 4)], lambda x, f=f: f(x.permute(1, 0, 2), 1))

# ---------------------------------------------------------------- views, copies, casts, creation
case("reshape › of a transposed view (copies)", [U(3, 4)], lambda x: x.t().reshape(2, -1))
case("view › contiguous", [U(2, 6)], lambda x: x.view(3, 2, 2))
case("permute › 3-d", [U(2, 3, 4)], lambda x: x.permute(1, 2, 0))
case("transpose › negative dims", [U(2, 3, 4)], lambda x: x.transpose(-1, 0))
case("squeeze › one dim of several", [U(1, 3, 1, 2)], lambda x: x.squeeze(2))
case("unsqueeze › negative dim", [U(2, 3)], lambda x: x.unsqueeze(-1))
case("expand › -1 and new leading dims", [U(3, 1)], lambda x: x.expand(2, -1, 4))
case("broadcastTo › row to matrix", [U(4)], lambda x: torch.broadcast_to(x, (3, 4)))
case("slice › step 2 from a negative start", [U(3, 8)], lambda x: x[:, -7:-1:2])
case("narrow › negative start", [U(5, 3)], lambda x: torch.narrow(x, 0, -3, 2))
case("select › negative index", [U(3, 4)], lambda x: torch.select(x, 1, -2))
case("flatten › middle dims", [U(2, 3, 2, 2)], lambda x: torch.flatten(x, 1, 2))
case("flatten › 0-d", [U()], torch.flatten)
case("contiguous › of a permuted view", [U(2, 3, 4)], lambda x: x.permute(2, 0, 1).contiguous())
case("clone › of a sliced view", [U(4, 5)], lambda x: x[1:3].clone())
case("to › float64 to int32 truncates toward zero", [V([-1.7, -0.5, 0.0, 0.5, 2.9, 3.0])], lambda x: x.to(torch.int32))
case("to › float64 to bool", [V([0.0, -0.0, 0.5, -2.0, math.nan])], lambda x: x.to(torch.bool))
case("to › int32 to float64", [torch.randint(-9, 9, (2, 3), dtype=torch.int32)], lambda x: x.to(D))
case("to › float64 to float32 rounds", [V([0.1, 1 / 3, -2.7182818284590455, 1e-40])], lambda x: x.to(torch.float32))
case("arange › integers", [], lambda: torch.arange(5, dtype=torch.int32))
case("arange › float64 step 0.1", [], lambda: torch.arange(0, 1, 0.1, dtype=D))
case("arange › negative step", [], lambda: torch.arange(2, -1, -0.5, dtype=D))
case("linspace › 7 steps", [], lambda: torch.linspace(-1, 2, 7, dtype=D))
case("linspace › descending, 6 steps", [], lambda: torch.linspace(3, -2, 6, dtype=D))
case("linspace › one step", [], lambda: torch.linspace(0.5, 1, 1, dtype=D))
case("eye › 2x4", [], lambda: torch.eye(2, 4, dtype=D))
case("full › float64", [], lambda: torch.full((2, 3), 1.5, dtype=D))
case("copy_ › broadcast row", [torch.zeros(2, 3, dtype=D), U(3)], lambda dst, src: dst.detach().copy_(src.detach()), grad=False)
case("copy_ › float into int32 truncates", [torch.zeros(4, dtype=torch.int32), V([-1.7, 2.9, 0.5, -0.2])], lambda dst, src: dst.copy_(src), grad=False)

# ---------------------------------------------------------------- special values: zeros, infinities, NaN, masking
INF, NAN = math.inf, math.nan
case("log › zero and negative", [V([0.0, -1.0, 1.0])], torch.log)
case("sqrt › zero and negative", [V([0.0, -1.0, 4.0])], torch.sqrt)
case("rsqrt › zero", [V([0.0, 4.0])], torch.rsqrt)
case("reciprocal › zero", [V([0.0, -0.0, 2.0])], torch.reciprocal)
case("exp › infinities and NaN", [V([-INF, INF, NAN])], torch.exp)
case("tanh › infinities", [V([-INF, INF])], torch.tanh)
case("sigmoid › infinities and NaN", [V([-INF, INF, NAN])], torch.sigmoid)
case("erf › infinities", [V([-INF, INF])], torch.erf)
for name in ("relu", "leakyRelu", "elu", "softplus", "abs"):
    case(f"{name} › NaN", [V([NAN, -1.0, 2.0])], UNARY[name][0])
case("clamp › NaN stays NaN", [V([NAN, 2.0, -2.0])], lambda x: torch.clamp(x, -1, 1))
case("div › by zero", [V([1.0, -1.0, 0.0]), V([0.0, 0.0, 0.0])], torch.div)
case("pow › negative base, fractional exponent", [V([-2.0, -0.5, 2.0]), V([0.5, 1.5, 0.5])], torch.pow)
case("pow › zero to a negative power", [V([0.0, 0.0, 2.0])], lambda a: a ** -2)
case("max › NaN propagates", [V([1.0, NAN, 3.0, 0.0, -1.0, 2.0], (2, 3))], lambda x: torch.amax(x, 1), grad=False)
case("argmax › NaN is the maximum", [V([1.0, NAN, 3.0, 0.0, -1.0, 2.0], (2, 3))], lambda x: torch.argmax(x, 1))
case("mean › empty is NaN", [U(0, 3)], torch.mean)
case("std › a constant group has gradient 0", [V([0.5, 0.5, 0.5, 1.0, 2.0, 4.0], (2, 3))], lambda x: torch.std(x, 1))
case("variance › one element, correction 1 is NaN", [U(2, 1)], lambda x: torch.var(x, 1), grad=False)
case("softmax › masked with -inf", [V([[0.5, -INF, 1.0], [-INF, 2.0, -INF]])], lambda x: torch.softmax(x, 1))
case("logSoftmax › masked with -inf", [V([[0.5, -INF, 1.0], [-INF, 2.0, -INF]])], lambda x: torch.log_softmax(x, 1))
case("softmax › a row of -inf is NaN", [V([[-INF, -INF], [0.0, 1.0]])], lambda x: torch.softmax(x, 1), grad=False)
case("logSumExp › infinities", [V([[-INF, -INF], [INF, 1.0], [-INF, 0.0]])], lambda x: torch.logsumexp(x, 1), grad=False)

ops_golden_nn.add_cases()


# ---------------------------------------------------------------- attention (last, so that the inputs drawn above stay as they were)
def sdpa(q, k, v, mask=None, causal=False, scale=None):
    """PyTorch 2's F.scaled_dot_product_attention written out (1.13 lacks it); causal and mask combine (Ingot's extension)."""
    s = (q @ k.transpose(-2, -1)) * (1 / math.sqrt(q.shape[-1]) if scale is None else scale)
    if causal:
        s = s.masked_fill(~torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril(), -math.inf)
    if mask is not None:
        s = s.masked_fill(~mask, -math.inf) if mask.dtype == torch.bool else s + mask
    return torch.softmax(s, -1) @ v


def keys_mask(*shape):
    """A random bool mask whose rows (last dim) each keep at least their first key."""
    m = torch.rand(shape) < 0.6
    m[..., 0] = True
    return m


def sdpa_grad(i, **kw):
    """Input i's gradient (q, k or v) from the upstream gradient g: what scaledDotProductAttentionBackward returns."""
    def f(g, q, k, v, *mask):
        xs = [t.detach().requires_grad_() for t in (q, k, v)]
        return torch.autograd.grad(sdpa(*xs, *mask, **kw), xs[i], g)[0]
    return f


SDPA = "scaledDotProductAttention"
case(f"{SDPA} › no mask", [U(2, 2, 3, 4), U(2, 2, 3, 4), U(2, 2, 3, 4)], sdpa)
case(f"{SDPA} › causal", [U(1, 2, 4, 3), U(1, 2, 4, 3), U(1, 2, 4, 3)], lambda q, k, v: sdpa(q, k, v, causal=True))
case(f"{SDPA} › causal, T < S (top-left)", [U(1, 2, 3, 2), U(1, 2, 5, 2), U(1, 2, 5, 2)], lambda q, k, v: sdpa(q, k, v, causal=True))
case(f"{SDPA} › bool mask [T,S] broadcast", [U(2, 2, 3, 2), U(2, 2, 4, 2), U(2, 2, 4, 2), keys_mask(3, 4)], sdpa)
case(f"{SDPA} › bool key padding [B,1,1,S] and causal", [U(2, 1, 4, 2), U(2, 1, 4, 2), U(2, 1, 4, 2), keys_mask(2, 1, 1, 4)], lambda q, k, v, m: sdpa(q, k, v, m, causal=True))
case(f"{SDPA} › float additive mask", [U(2, 1, 3, 2), U(2, 1, 4, 2), U(2, 1, 4, 2), U(2, 1, 3, 4, lo=-3, hi=1)], sdpa, nograd=(3,))
case(f"{SDPA} › scale 0.8, Dv ≠ D", [U(1, 2, 3, 2), U(1, 2, 4, 2), U(1, 2, 4, 5)], lambda q, k, v: sdpa(q, k, v, scale=0.8))
case(f"{SDPA} › permuted (B, T, H, D) views", [U(2, 3, 2, 2), U(2, 4, 2, 2), U(2, 4, 2, 3)], lambda q, k, v: sdpa(*(t.permute(0, 2, 1, 3) for t in (q, k, v)), causal=True))
case(f"{SDPA} › large scores", [U(1, 1, 3, 2), U(1, 1, 4, 2), U(1, 1, 4, 2)], lambda q, k, v: sdpa(q, k, v, scale=300.0))
for i, name in enumerate(("dq", "dk", "dv")):
    case(f"{SDPA}Backward › {name}, causal", [U(1, 2, 3, 3), U(1, 2, 3, 2), U(1, 2, 3, 2), U(1, 2, 3, 3)], sdpa_grad(i, causal=True), grad=False)
    case(f"{SDPA}Backward › {name}, bool mask, T ≠ S", [U(2, 1, 3, 2), U(2, 1, 3, 2), U(2, 1, 4, 2), U(2, 1, 4, 2), keys_mask(2, 1, 3, 4)], sdpa_grad(i), grad=False)

# ---------------------------------------------------------------- low-bit ops (compress.quantize), written out in float64/int64
def int8_linear(x, w, s, b=None, act=None):
    """int8Linear: per-row (or static) symmetric int8 activations, exact integer sums, float epilogue."""
    if act is None:
        amax = x.abs().amax(-1, keepdim=True)
        inv, sx = 127 / amax, amax / 127
    else:
        inv, sx = 1 / act, act
    acc = torch.clamp(torch.round(x * inv), -127, 127) @ w.to(D).t()
    y = acc * (sx * s)
    return y if b is None else y + b


def int4_weight(p, s, z, group):
    """The float weight of int4Linear's packing: 16 bytes per 32 weights (j low nibble, j + 16 high), 4-bit zero points."""
    k = torch.arange(2 * p.shape[1])
    byte = p[:, (k // 32) * 16 + (k % 16)]
    q = torch.where(k % 32 < 16, byte & 15, byte >> 4)
    g = k // group
    zb = z[:, g // 2]
    return (q - torch.where(g % 2 == 0, zb & 15, zb >> 4)).to(D) * s[:, g]


case("intMm › odd shapes", [R(128, 3, 37, lo=-127), R(128, 37, 4, lo=-127)], torch.mm)
case("intMm › -128 and 127", [R(128, 2, 40, lo=-128), R(128, 40, 3, lo=-128)], torch.mm)
case("int8Linear › dynamic", [U(3, 37), R(128, 4, 37, lo=-127), U(4, lo=0.001, hi=0.02), U(4)], int8_linear, grad=False)
case("int8Linear › static, clamped", [U(3, 40, lo=-3, hi=3), R(128, 5, 40, lo=-127), U(5, lo=0.001, hi=0.02), U(5)], lambda x, w, s, b: int8_linear(x, w, s, b, act=0.01), grad=False)
case("int4Linear › group 32", [U(2, 64), R(256, 3, 32), U(3, 2, lo=0.01, hi=0.1), R(256, 3, 1), U(3)], lambda x, p, s, z, b: x @ int4_weight(p, s, z, 32).t() + b, grad=False)
case("int4Linear › group 64, one row", [U(1, 192), R(256, 2, 96), U(2, 3, lo=0.01, hi=0.1), R(256, 2, 2)], lambda x, p, s, z: x @ int4_weight(p, s, z, 64).t(), grad=False)
case("fakeQuantize › per tensor int8, STE", [U(3, 5, lo=-10, hi=10)], lambda x: torch.fake_quantize_per_tensor_affine(x, 0.0625, 0, -127, 127))
case("fakeQuantize › asymmetric uint8", [U(4, 4, lo=-3, hi=3)], lambda x: torch.fake_quantize_per_tensor_affine(x, 0.015625, 100, 0, 255))
case("fakeQuantize › per channel int4", [U(3, 4, lo=-2, hi=2), V([0.25, 0.125, 0.5])],
     lambda x, s: torch.fake_quantize_per_channel_affine(x, s.float(), torch.zeros(3, dtype=torch.int32), 0, -8, 7), nograd=(1,))
case("geluBackward › exact", [U(3, 5), U(3, 5, lo=-4, hi=4)], lambda g, x: torch.ops.aten.gelu_backward(g, x))
case("geluBackward › tanh", [U(3, 5), U(3, 5, lo=-4, hi=4)], lambda g, x: torch.ops.aten.gelu_backward(g, x, approximate="tanh"))
case("geluBackward › far tails", [U(4), V([-12.0, -6.0, 6.0, 12.0])], lambda g, x: torch.ops.aten.gelu_backward(g, x))
case("add_ › broadcast row", [U(2, 3), U(3)], lambda dst, src: dst.detach().clone().add_(src.detach()), grad=False)
case("add_ › int32", [torch.tensor([1, -2, 3, 0], dtype=torch.int32), torch.tensor([5, 7, -9, 0], dtype=torch.int32)], lambda dst, src: dst.clone().add_(src), grad=False)


def kv_write(kv, qkv, past, H):
    """kvCacheWrite_: keys and values of qkv [B, T, 3C] into positions [past, past + T) of kv [cap, 2, B, H, D]."""
    kv = kv.detach().clone()
    B, T, C3 = qkv.shape
    C = C3 // 3
    for which in (0, 1):
        kv[past:past + T, which] = qkv[:, :, (1 + which) * C:(2 + which) * C].reshape(B, T, H, C // H).permute(1, 0, 2, 3)
    return kv


def kv_attention(qkv, kv, past, H, scale=None):
    """kvCacheAttention: query t of qkv attends to cache positions 0 … past + t; heads merged to [B, T, C]."""
    B, T, C3 = qkv.shape
    C = C3 // 3
    D = C // H
    S = past + T
    q = qkv[:, :, :C].reshape(B, T, H, D).transpose(1, 2)
    k, v = (kv[:S, w].permute(1, 2, 0, 3) for w in (0, 1))
    s = q @ k.transpose(-1, -2) * (scale if scale is not None else D ** -0.5)
    allowed = torch.arange(S)[None, :] <= past + torch.arange(T)[:, None]
    s = s.masked_fill(~allowed, float("-inf"))
    return (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)


case("kvCacheWrite_ › one step into a partly filled cache", [U(6, 2, 1, 2, 4), U(1, 1, 24)], lambda kv, qkv: kv_write(kv, qkv, 4, 2), grad=False)
case("kvCacheWrite_ › prefill, two rows", [U(5, 2, 2, 3, 4), U(2, 3, 36)], lambda kv, qkv: kv_write(kv, qkv, 0, 3), grad=False)
case("kvCacheAttention › prefill (causal)", [U(2, 3, 36), U(5, 2, 2, 3, 4)], lambda qkv, kv: kv_attention(qkv, kv_write(kv, qkv, 0, 3), 0, 3), grad=False)
case("kvCacheAttention › one step over 4 cached positions", [U(2, 1, 24), U(7, 2, 2, 2, 4)], lambda qkv, kv: kv_attention(qkv, kv_write(kv, qkv, 4, 2), 4, 2), grad=False)
case("kvCacheAttention › three new over 2 cached, scale 0.7", [U(1, 3, 18), U(6, 2, 1, 2, 3)], lambda qkv, kv: kv_attention(qkv, kv_write(kv, qkv, 2, 2), 2, 2, 0.7), grad=False)

write("ops.json", CASES)
