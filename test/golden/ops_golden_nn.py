# The indexing, convolution, pooling, normalization and loss cases of test/golden/ops.json; run by
# ops_golden.py (add_cases), which draws every input from one seeded generator, so order matters.
import math

import torch
import torch.nn.functional as F

from golden_util import D, IV, R, U, V, case


def bn(x, rm, rv, w=None, b=None, training=False, momentum=0.1, eps=1e-5, ret=0):
    """F.batch_norm on copies of the running statistics; ret 0, 1, 2 returns the output, runningMean, runningVar."""
    rm, rv = (rm.detach().clone(), rv.detach().clone()) if rm is not None else (None, None)
    y = F.batch_norm(x, rm, rv, w, b, training, momentum, eps)
    return (y, rm, rv)[ret]


def add_cases():
    # ---------------------------------------------------------------- indexing
    case("gather › dim 1", [U(3, 4), R(4, 3, 2)], lambda x, i: torch.gather(x, 1, i))
    case("gather › dim 0", [U(3, 4), R(3, 2, 4)], lambda x, i: torch.gather(x, 0, i))
    case("gather › negative dim, index longer along it", [U(2, 3, 4), R(4, 2, 3, 6)], lambda x, i: torch.gather(x, -1, i))
    case("gather › transposed input and index", [U(4, 3), R(4, 2, 3)], lambda x, i: torch.gather(x.t(), 1, i.t()))
    case("gather › expanded index", [U(4, 5), R(5, 1, 3)], lambda x, i: torch.gather(x, 1, i.expand(4, 3)))
    case("gather › repeated indices", [U(2, 3), IV([[0, 0, 2, 0], [1, 1, 1, 2]])], lambda x, i: torch.gather(x, 1, i))
    case("gather › int32 input", [torch.randint(-9, 9, (3, 4), dtype=torch.int32), R(4, 3, 4)], lambda x, i: torch.gather(x, 1, i))
    case("scatterAdd › dim 0", [U(3, 4), R(3, 5, 4), U(5, 4)], lambda x, i, s: torch.scatter_add(x, 0, i, s))
    # NOTE: PyTorch 1.13's scatter_add backward fails when index is smaller than src; src elements
    # outside index's shape are never read, so slicing src to index's shape is the same function.
    case("scatterAdd › index smaller than src", [U(4, 3), R(4, 2, 3), U(3, 5)], lambda x, i, s: torch.scatter_add(x, 0, i, s[:2, :3]))
    case("scatterAdd › negative dim of 3-d", [U(2, 3, 4), R(4, 2, 3, 5), U(2, 3, 5)], lambda x, i, s: torch.scatter_add(x, -1, i, s))
    case("scatterAdd › transposed views", [U(4, 3), R(4, 3, 2), U(2, 3)], lambda x, i, s: torch.scatter_add(x.t(), 1, i, s.t()))
    case("scatterAdd › repeated indices", [U(2, 3), IV([[0, 0, 2, 0], [1, 1, 1, 2]]), U(2, 4)], lambda x, i, s: torch.scatter_add(x, 1, i, s))
    case("scatterAdd › int32", [torch.randint(0, 5, (3, 2), dtype=torch.int32), R(3, 4, 2), torch.randint(0, 5, (4, 2), dtype=torch.int32)], lambda x, i, s: torch.scatter_add(x, 0, i, s))
    case("indexSelect › dim 0 with repeats", [U(4, 3), R(4, 6)], lambda x, i: torch.index_select(x, 0, i))
    case("indexSelect › negative dim of 3-d", [U(2, 3, 4), R(4, 5)], lambda x, i: torch.index_select(x, -1, i))
    case("indexSelect › 0-d index", [U(3, 4), IV(2)], lambda x, i: torch.index_select(x, 1, i))
    case("indexSelect › transposed input, strided index", [U(3, 5), R(3, 7)], lambda x, i: torch.index_select(x.t(), 1, i[1:7:2]))
    case("oneHot › 4 classes", [R(4, 5)], lambda i: F.one_hot(i, 4))
    case("oneHot › inferred classes", [IV([0, 3, 1, 3])], F.one_hot)
    case("oneHot › transposed 2-d indices, more classes than used", [R(3, 3, 2)], lambda i: F.one_hot(i.t(), 5))
    case("embedding › 2-d indices", [R(6, 2, 3), U(6, 4)], F.embedding)
    case("embedding › 0-d index", [IV(2), U(3, 2)], F.embedding)
    case("embedding › transposed weight and indices, repeats", [IV([[1, 1], [0, 4], [1, 2]]), U(3, 5)], lambda i, w: F.embedding(i.t(), w.t()))
    case("embedding › paddingIdx gets no gradient", [IV([0, 2, 1, 2]), U(3, 2)], lambda i, w: F.embedding(i, w, padding_idx=2))
    case("embedding › negative paddingIdx", [IV([[0, 2], [1, 1]]), U(3, 2)], lambda i, w: F.embedding(i, w, padding_idx=-2))
    EMB_BWD = torch.ops.aten.embedding_dense_backward
    case("embeddingBackward › 2-d indices", [U(2, 3, 4), R(5, 2, 3)], lambda g, i: EMB_BWD(g, i, 5, -1, False))
    case("embeddingBackward › with paddingIdx", [U(6, 2), IV([0, 2, 1, 2, 3, 0])], lambda g, i: EMB_BWD(g, i, 4, 2, False))
    case("embeddingBackward › transposed grad", [U(3, 5), R(6, 5)], lambda g, i: EMB_BWD(g.t(), i, 6, -1, False))

    # ---------------------------------------------------------------- convolution and pooling
    CONV2D = {
        "bias and padding 1": (((2, 2, 5, 5), (3, 2, 3, 3), (3,)), dict(padding=1)),
        "stride 2 leaves the last row and column unused": (((2, 2, 7, 7), (3, 2, 2, 2)), dict(stride=2)),
        "kernel [2,3], stride [1,2], padding [2,1]": (((2, 2, 5, 6), (3, 2, 2, 3), (3,)), dict(stride=(1, 2), padding=(2, 1))),
        "dilation [2,1], stride 2": (((2, 2, 7, 6), (2, 2, 3, 2)), dict(dilation=(2, 1), stride=2)),
        "groups 2 with bias": (((2, 4, 5, 5), (4, 2, 3, 3), (4,)), dict(groups=2, padding=1)),
        "depthwise, 2 filters per channel": (((2, 3, 5, 5), (6, 1, 3, 3)), dict(groups=3)),
        "padding same, even kernel [2,4]": (((1, 2, 5, 6), (2, 2, 2, 4), (2,)), dict(padding="same")),
        "padding same with dilation 2": (((1, 2, 6, 6), (2, 2, 2, 3)), dict(padding="same", dilation=2)),
        "padding valid": (((2, 2, 6, 5), (2, 2, 3, 2)), dict(padding="valid")),
        "unbatched [C, H, W]": (((2, 5, 5), (3, 2, 3, 3), (3,)), dict(padding=1)),
    }
    for name, (shapes, kw) in CONV2D.items():
        case(f"conv2d › {name}", [U(*s) for s in shapes], lambda x, w, b=None, kw=kw: F.conv2d(x, w, b, **kw))
    case("conv2d › NHWC input permuted to NCHW", [U(2, 5, 5, 3), U(2, 3, 3, 3)], lambda x, w: F.conv2d(x.permute(0, 3, 1, 2), w, padding=1))
    CONV1D = {
        "with bias": (((2, 3, 8), (4, 3, 3), (4,)), {}),
        "stride 2, padding 1, dilation 2": (((2, 2, 9), (3, 2, 3)), dict(stride=2, padding=1, dilation=2)),
        "padding same, even kernel": (((2, 2, 7), (2, 2, 4), (2,)), dict(padding="same")),
        "groups 2, padding valid": (((1, 4, 6), (4, 2, 2)), dict(groups=2, padding="valid")),
    }
    for name, (shapes, kw) in CONV1D.items():
        case(f"conv1d › {name}", [U(*s) for s in shapes], lambda x, w, b=None, kw=kw: F.conv1d(x, w, b, **kw))
    case("conv1d › unbatched transposed input", [U(7, 2), U(3, 2, 3)], lambda x, w: F.conv1d(x.t(), w))
    GI, GW = torch.nn.grad.conv2d_input, torch.nn.grad.conv2d_weight
    case("conv2dGradInput › stride 2 with unused input rows", [U(2, 3, 3, 3), U(3, 2, 2, 2)], lambda g, w: GI((2, 2, 7, 7), w, g, stride=2))
    case("conv2dGradInput › groups 2, padding 2, dilation 2", [U(1, 4, 5, 5), U(4, 1, 3, 3)], lambda g, w: GI((1, 2, 5, 5), w, g, padding=2, dilation=2, groups=2))
    case("conv2dGradWeight › stride [2,1], padding 1", [U(2, 2, 6, 5), U(2, 3, 3, 5)], lambda x, g: GW(x, (3, 2, 3, 3), g, stride=(2, 1), padding=1))
    case("conv2dGradWeight › groups 2, dilation 2", [U(1, 4, 6, 6), U(1, 2, 2, 2)], lambda x, g: GW(x, (2, 2, 3, 3), g, dilation=2, groups=2))
    MAXPOOL = {
        "2x2": ((2, 2, 6, 6), (2,), {}),
        "3x3 stride 2 overlapping windows": ((2, 2, 7, 7), (3,), dict(stride=2)),
        "kernel [2,3], stride [1,2]": ((2, 1, 5, 7), ((2, 3),), dict(stride=(1, 2))),
        "dilation 2": ((1, 2, 7, 7), (2,), dict(dilation=2, stride=1)),
        "ceilMode keeps a partial window": ((2, 2, 5, 5), (2,), dict(ceil_mode=True)),
        "ceilMode with padding drops a window starting in the padding": ((1, 2, 5, 5), (2,), dict(padding=1, ceil_mode=True)),
        "ceilMode, padding 1, stride 2, kernel 3": ((1, 2, 6, 6), (3,), dict(stride=2, padding=1, ceil_mode=True)),
        "unbatched [C, H, W]": ((3, 4, 6), (2,), {}),
    }
    for name, (shape, args, kw) in MAXPOOL.items():
        case(f"maxPool2d › {name}", [U(*shape)], lambda x, args=args, kw=kw: F.max_pool2d(x, *args, **kw))
    case("maxPool2d › padding never wins", [U(1, 2, 5, 5, lo=-3, hi=-1)], lambda x: F.max_pool2d(x, 3, stride=2, padding=1))
    case("maxPool2d › ties go to the first maximum", [V([1.0, 1.0, 0.0, 2.0, 1.0, 1.0, 2.0, 0.0, 1.0], (1, 1, 3, 3))], lambda x: F.max_pool2d(x, 2, stride=1))
    # PyTorch has no int32 max_pool2d: pooled in float64 (exact for small integers) and cast back.
    case("maxPool2d › int32", [torch.randint(-9, 9, (1, 2, 4, 4), dtype=torch.int32)], lambda x: F.max_pool2d(x.to(D), 2).to(torch.int32))
    case("maxPool2dWithIndices › dilation 2, ceilMode", [U(1, 2, 6, 7)], lambda x: F.max_pool2d(x, 2, stride=2, dilation=2, ceil_mode=True, return_indices=True)[1])
    case("maxPool2dWithIndices › indices", [U(2, 2, 5, 5)], lambda x: F.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)[1])
    AVGPOOL = {
        "2x2": ((2, 2, 6, 6), (2,), {}),
        "3x3 stride 2 padding 1 counts the padding": ((2, 2, 7, 7), (3,), dict(stride=2, padding=1)),
        "padding 1 without counting it": ((2, 2, 7, 7), (3,), dict(stride=2, padding=1, count_include_pad=False)),
        "ceilMode partial windows": ((1, 2, 5, 5), (2,), dict(ceil_mode=True)),
        "ceilMode and padding, counting it": ((1, 2, 6, 5), (3,), dict(stride=2, padding=1, ceil_mode=True)),
        "ceilMode and padding without counting it": ((1, 2, 6, 5), (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
        "kernel [3,2], stride [1,2]": ((2, 1, 5, 6), ((3, 2),), dict(stride=(1, 2))),
        "divisorOverride": ((1, 2, 4, 4), (2,), dict(divisor_override=3)),
    }
    for name, (shape, args, kw) in AVGPOOL.items():
        case(f"avgPool2d › {name}", [U(*shape)], lambda x, args=args, kw=kw: F.avg_pool2d(x, *args, **kw))
    case("avgPool2d › unbatched transposed view", [U(2, 6, 4)], lambda x: F.avg_pool2d(x.transpose(1, 2), 2))
    ADAPTIVE = {"global average (1x1)": ((2, 3, 5, 4), 1), "5x7 → 3x4 uneven, overlapping windows": ((2, 2, 5, 7), (3, 4)),
                "upsampling 3x2 → 5x4": ((1, 2, 3, 2), (5, 4)), "null keeps a dim": ((1, 2, 4, 5), (2, None))}
    for name, (shape, size) in ADAPTIVE.items():
        case(f"adaptiveAvgPool2d › {name}", [U(*shape)], lambda x, size=size: F.adaptive_avg_pool2d(x, size))
    case("adaptiveAvgPool2d › unbatched permuted view", [U(5, 6, 2)], lambda x: F.adaptive_avg_pool2d(x.permute(2, 0, 1), (2, 3)))

    # ---------------------------------------------------------------- normalization
    case("layerNorm › last dim, affine", [U(3, 5), U(5), U(5)], lambda x, w, b: F.layer_norm(x, [5], w, b))
    case("layerNorm › no affine, 3-d", [U(2, 3, 4)], lambda x: F.layer_norm(x, [4]))
    case("layerNorm › two trailing dims", [U(2, 3, 4), U(3, 4), U(3, 4)], lambda x, w, b: F.layer_norm(x, [3, 4], w, b))
    case("layerNorm › bias only", [U(4, 3), U(3)], lambda x, b: F.layer_norm(x, [3], None, b))
    case("layerNorm › transposed view, weight only", [U(5, 3), U(5)], lambda x, w: F.layer_norm(x.t(), [5], w))
    case("layerNorm › large eps", [U(3, 4, lo=-0.3, hi=0.3)], lambda x: F.layer_norm(x, [4], eps=0.05))
    case("layerNorm › shifted input", [U(2, 6, lo=999, hi=1001)], lambda x: F.layer_norm(x, [6]))


    case("batchNorm › training [N,C], affine", [U(6, 3), U(3), U(3)], lambda x, w, b: bn(x, None, None, w, b, True))
    case("batchNorm › training [N,C,H,W], no affine", [U(2, 3, 2, 2)], lambda x: bn(x, None, None, training=True))
    case("batchNorm › training [N,C,L], permuted view", [U(3, 2, 4), U(4), U(4)], lambda x, w, b: bn(x.permute(0, 2, 1), None, None, w, b, True))
    case("batchNorm › training, weight only, large eps", [U(4, 2, 3, lo=-0.3, hi=0.3), U(2)], lambda x, w: bn(x, None, None, w, None, True, 0.1, 0.05))
    case("batchNorm › eval, affine", [U(4, 3, 2), U(3), U(3, lo=0.5, hi=2), U(3), U(3)], lambda x, m, v, w, b: bn(x, m, v, w, b), nograd=(1, 2))
    case("batchNorm › eval, no affine, single sample", [U(1, 2, 3), U(2), U(2, lo=0.5, hi=2)], lambda x, m, v: bn(x, m, v), nograd=(1, 2))
    case("batchNorm › running mean update, momentum 0.3", [U(5, 3, 2), U(3), U(3, lo=0.5, hi=2)], lambda x, m, v: bn(x, m, v, training=True, momentum=0.3, ret=1), grad=False)
    case("batchNorm › running var update (unbiased), momentum 0.3", [U(5, 3, 2), U(3), U(3, lo=0.5, hi=2)], lambda x, m, v: bn(x, m, v, training=True, momentum=0.3, ret=2), grad=False)

    # ---------------------------------------------------------------- losses (the option matrix is in losses_golden.py)
    for name, f in (("mseLoss", F.mse_loss), ("l1Loss", F.l1_loss)):
        case(f"{name} › mean", [U(3, 4), U(3, 4)], f)
        case(f"{name} › sum of a transposed input", [U(4, 3), U(3, 4)], lambda x, t, f=f: f(x.t(), t, reduction="sum"))
        case(f"{name} › none", [U(2, 3, 2), U(2, 3, 2)], lambda x, t, f=f: f(x, t, reduction="none"))
    case("huberLoss › delta 0.5, both branches", [U(6), V([0.1, -0.2, 3.0, -3.0, 0.4, 1.0])], lambda x, t: F.huber_loss(x, t, reduction="none", delta=0.5))
    case("huberLoss › delta 2, sum", [U(3, 4, lo=-4, hi=4), U(3, 4)], lambda x, t: F.huber_loss(x, t, reduction="sum", delta=2.0))
    case("smoothL1Loss › beta 0.5, both branches", [U(6), V([0.1, -0.2, 3.0, -3.0, 0.4, 1.0])], lambda x, t: F.smooth_l1_loss(x, t, reduction="none", beta=0.5))
    case("smoothL1Loss › beta 0 is L1", [U(3, 4), U(3, 4)], lambda x, t: F.smooth_l1_loss(x, t, beta=0.0))
    case("binaryCrossEntropy › mean", [U(3, 4, lo=0.05, hi=0.95), U(3, 4, lo=0, hi=1)], F.binary_cross_entropy)
    case("binaryCrossEntropy › broadcast weight, none", [U(3, 4, lo=0.05, hi=0.95), U(3, 4, lo=0, hi=1), U(4, lo=0.5, hi=2)], lambda p, t, w: F.binary_cross_entropy(p, t, w, reduction="none"), nograd=(2,))
    case("binaryCrossEntropy › probabilities 0 and 1", [V([0.0, 1.0, 0.0, 1.0]), V([1.0, 0.0, 0.0, 1.0])], lambda p, t: F.binary_cross_entropy(p, t, reduction="none"), grad=False)
    case("binaryCrossEntropyWithLogits › mean", [U(3, 4, lo=-4, hi=4), U(3, 4, lo=0, hi=1)], F.binary_cross_entropy_with_logits)
    case("binaryCrossEntropyWithLogits › weight and posWeight", [U(3, 4, lo=-4, hi=4), U(3, 4, lo=0, hi=1), U(3, 1, lo=0.5, hi=2), U(4, lo=0.5, hi=3)],
         lambda x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, w, pos_weight=pw), nograd=(2, 3))
    case("binaryCrossEntropyWithLogits › large logits stay finite", [V([-200.0, 200.0, 60.0, -60.0]), V([1.0, 0.0, 1.0, 0.0])], lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"))
    case("klDiv › batchmean", [U(3, 4, lo=-3, hi=-0.1), U(3, 4, lo=0.05, hi=1)], lambda x, t: F.kl_div(x, t, reduction="batchmean"))
    case("klDiv › sum, zero targets", [U(4, lo=-3, hi=-0.1), V([0.0, 0.5, 0.0, 0.5])], lambda x, t: F.kl_div(x, t, reduction="sum"), nograd=(1,))
    case("klDiv › logTarget, none, permuted", [U(3, 2, 2, lo=-3, hi=-0.1), U(2, 2, 3, lo=-3, hi=-0.1)], lambda x, t: F.kl_div(x.permute(1, 2, 0), t, reduction="none", log_target=True))
    case("crossEntropy › [N,C] mean", [U(4, 5, lo=-3, hi=3), R(5, 4)], F.cross_entropy)
    case("crossEntropy › weighted, ignoreIndex -100, none", [U(4, 3, lo=-3, hi=3), IV([1, -100, 2, 0]), U(3, lo=0.5, hi=2)], lambda x, t, w: F.cross_entropy(x, t, w, reduction="none"), nograd=(2,))
    case("crossEntropy › [N,C,H,W] ignoreIndex 1, sum", [U(2, 3, 2, 2, lo=-3, hi=3), R(3, 2, 2, 2)], lambda x, t: F.cross_entropy(x, t, ignore_index=1, reduction="sum"))
    case("crossEntropy › unbatched [C]", [U(5, lo=-3, hi=3), IV(3)], F.cross_entropy)
    case("crossEntropy › label smoothing, weights and ignored, mean", [U(4, 3, lo=-3, hi=3), IV([2, -100, 0, 1]), U(3, lo=0.5, hi=2)], lambda x, t, w: F.cross_entropy(x, t, w, label_smoothing=0.2), nograd=(2,))
    case("crossEntropy › class dim last, permuted, label smoothing", [U(2, 3, 4, lo=-3, hi=3), R(4, 2, 3)], lambda x, t: F.cross_entropy(x.permute(0, 2, 1), t, label_smoothing=0.1, reduction="sum"))
    case("nllLoss › weighted mean", [U(5, 3, lo=-4, hi=-0.1), R(3, 5), U(3, lo=0.5, hi=2)], lambda x, t, w: F.nll_loss(x, t, w), nograd=(2,))
    case("nllLoss › [N,C,L] ignoreIndex 2, none", [U(2, 4, 3, lo=-4, hi=-0.1), R(4, 2, 3)], lambda x, t: F.nll_loss(x, t, ignore_index=2, reduction="none"))
    case("nllLoss › transposed scores, sum", [U(5, 4, lo=-4, hi=-0.1), R(5, 4)], lambda x, t: F.nll_loss(x.t(), t, reduction="sum"))

    # ---------------------------------------------------------------- special values: NaN, constant inputs, saturated losses
    INF = math.inf
    case("maxPool2d › NaN propagates", [V([1.0, math.nan, 0.0, 2.0, 3.0, 4.0, -1.0, 0.5], (1, 1, 2, 4))], lambda x: F.max_pool2d(x, 2), grad=False)
    case("layerNorm › constant rows", [V([0.3] * 4 + [1.0, 2.0, 3.0, 4.0], (2, 4)), U(4), U(4)], lambda x, w, b: F.layer_norm(x, [4], w, b))
    case("batchNorm › constant channel", [V([0.3, 1.0, 0.3, 2.0, 0.3, -1.0], (3, 2))], lambda x: bn(x, None, None, training=True))
    case("l1Loss › equal input and target (gradient 0)", [V([1.0, 2.0, -1.0]), V([1.0, 0.0, -1.0])], lambda x, t: F.l1_loss(x, t, reduction="sum"))
    case("huberLoss › exactly at delta", [V([1.0, -1.0, 0.5]), V([0.0, 0.0, 0.0])], lambda x, t: F.huber_loss(x, t, reduction="none"))
    case("klDiv › zero targets, target gradient", [U(4, lo=-3, hi=-0.1), V([0.0, 0.5, 0.0, 0.5])], lambda x, t: F.kl_div(x, t, reduction="sum"))
    case("binaryCrossEntropy › probabilities 0 and 1, gradients", [V([0.0, 1.0, 1e-13, 0.5]), V([1.0, 0.0, 1.0, 0.3])], lambda p, t: F.binary_cross_entropy(p, t, reduction="sum"))
    case("binaryCrossEntropyWithLogits › beyond the softplus threshold", [V([-21.0, -25.0, 21.0, 25.0, -20.5, 30.0]), V([0.0, 0.0, 1.0, 1.0, 1.0, 0.0])],
         lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"))
    case("crossEntropy › -inf logits of other classes", [V([[0.5, -INF, 1.0], [-INF, 2.0, -INF]]), IV([0, 1])], lambda x, t: F.cross_entropy(x, t, reduction="none"))
    case("crossEntropy › all ignored, mean is NaN", [U(2, 3), IV([-100, -100])], F.cross_entropy)
    case("nllLoss › all ignored, mean is NaN", [U(2, 3, lo=-4, hi=-0.1), IV([-100, -100])], F.nll_loss)
