# Generates test/golden/nn_fixtures.json: PyTorch reference numbers for ingot's recurrent, attention
# and transformer layers (src/nn/rnn.ts, attention.ts, transformer.ts), read by
# test/unit/nn-rnn.test.ts and test/unit/nn-attention.test.ts (which never need torch).
# Run with Debian's python3-torch:  /usr/bin/python3 test/golden/make_nn_fixtures.py
#
# Each case holds the layer's state_dict under PyTorch's own names, the inputs, the outputs, a fixed
# random weight w per float output, and the gradients of L = sum over outputs of sum(out * w) with
# respect to every float input and every parameter. Everything is float64, dropout is 0 or the layer
# is in eval mode, so the numbers are deterministic.
import json
import math
import os

import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)


def arr(t):
    t = t.detach()
    if t.dtype == torch.bool:
        return {"shape": list(t.shape), "dtype": "bool", "data": [int(v) for v in t.reshape(-1).tolist()]}
    # JSON has no infinities: -inf (in additive masks) is written as the string "-inf".
    data = ["-inf" if v == -math.inf else float(v) for v in t.reshape(-1).tolist()]
    return {"shape": list(t.shape), "data": data}


def perturb(m):
    """Moves every parameter away from its init (biases and norms start at 0 and 1, and the layers
    of a stack start as copies) so that a wrong index or a swapped tensor shows in the numbers."""
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return m


def case(m, inputs, run, train=False):
    """inputs: name -> tensor (float ones are differentiated); run(m, xs) -> dict name -> output
    (None outputs are skipped)."""
    m.train(train)
    state = {k: arr(v) for k, v in m.state_dict().items()}
    xs = {k: (v.clone().requires_grad_(True) if v.is_floating_point() else v.clone()) for k, v in inputs.items()}
    outs = {k: v for k, v in run(m, xs).items() if v is not None}
    ws = {k: torch.randn(v.shape) for k, v in outs.items()}
    loss = sum((o * ws[k]).sum() for k, o in outs.items())
    loss.backward()
    return {
        "train": train,
        "state": state,
        "inputs": {k: arr(v) for k, v in inputs.items()},
        "outputs": {k: arr(v) for k, v in outs.items()},
        "w": {k: arr(v) for k, v in ws.items()},
        "inputGrads": {k: arr(x.grad) for k, x in xs.items() if x.is_floating_point() and x.grad is not None},
        "paramGrads": {k: arr(p.grad) for k, p in m.named_parameters() if p.grad is not None},
    }


cases = {}


def add(name, seed, build, inputs, run, train=False):
    torch.manual_seed(seed)
    m = perturb(build())
    cases[name] = case(m, {k: f() for k, f in inputs.items()}, run, train)


rn = torch.randn

# ------------------------------------------------------------------ recurrent layers


def rnn_run(m, xs):
    hx = xs.get("h0")
    if "c0" in xs:
        hx = (xs["h0"], xs["c0"])
    out, h = m(xs["input"], hx)
    if isinstance(h, tuple):
        return {"output": out, "hN": h[0], "cN": h[1]}
    return {"output": out, "hN": h}


add("lstmBi2BatchFirstH0", 1, lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, dropout=0.3),
    {"input": lambda: rn(2, 5, 3), "h0": lambda: rn(4, 2, 4), "c0": lambda: rn(4, 2, 4)}, rnn_run)
add("lstmSeqFirst", 2, lambda: nn.LSTM(3, 5), {"input": lambda: rn(4, 2, 3)}, rnn_run)
add("lstmNoBiasUnbatched", 3, lambda: nn.LSTM(2, 3, bias=False), {"input": lambda: rn(4, 2), "h0": lambda: rn(1, 3), "c0": lambda: rn(1, 3)}, rnn_run)
add("lstmProj2Layers", 4, lambda: nn.LSTM(3, 5, num_layers=2, proj_size=2, bidirectional=True),
    {"input": lambda: rn(3, 2, 3), "h0": lambda: rn(4, 2, 2), "c0": lambda: rn(4, 2, 5)}, rnn_run)
add("gruBi2H0", 5, lambda: nn.GRU(3, 4, num_layers=2, bidirectional=True), {"input": lambda: rn(4, 2, 3), "h0": lambda: rn(4, 2, 4)}, rnn_run)
add("gruBatchFirst", 6, lambda: nn.GRU(3, 4, batch_first=True), {"input": lambda: rn(2, 3, 3)}, rnn_run)
add("rnnRelu2Layers", 7, lambda: nn.RNN(3, 4, num_layers=2, nonlinearity="relu"), {"input": lambda: rn(3, 2, 3), "h0": lambda: rn(2, 2, 4)}, rnn_run)
add("rnnTanhBiBatchFirstNoBias", 8, lambda: nn.RNN(2, 3, bidirectional=True, batch_first=True, bias=False), {"input": lambda: rn(2, 4, 2)}, rnn_run)
add("rnnTanhUnbatched", 9, lambda: nn.RNN(2, 3), {"input": lambda: rn(3, 2)}, rnn_run)


def cell_run(m, xs):
    if "c0" in xs:
        h, c = m(xs["input"], (xs["h0"], xs["c0"]))
        return {"h": h, "c": c}
    if "h0" in xs:
        return {"h": m(xs["input"], xs["h0"])}
    out = m(xs["input"])
    if isinstance(out, tuple):
        return {"h": out[0], "c": out[1]}
    return {"h": out}


add("rnnCellTanh", 10, lambda: nn.RNNCell(3, 4), {"input": lambda: rn(2, 3), "h0": lambda: rn(2, 4)}, cell_run)
add("rnnCellReluNoBias", 11, lambda: nn.RNNCell(3, 4, bias=False, nonlinearity="relu"), {"input": lambda: rn(2, 3)}, cell_run)
add("lstmCell", 12, lambda: nn.LSTMCell(3, 4), {"input": lambda: rn(2, 3), "h0": lambda: rn(2, 4), "c0": lambda: rn(2, 4)}, cell_run)
add("lstmCellUnbatchedNoState", 13, lambda: nn.LSTMCell(3, 2), {"input": lambda: rn(3)}, cell_run)
add("gruCell", 14, lambda: nn.GRUCell(3, 4), {"input": lambda: rn(2, 3), "h0": lambda: rn(2, 4)}, cell_run)
add("gruCellUnbatchedNoBias", 15, lambda: nn.GRUCell(2, 3, bias=False), {"input": lambda: rn(2), "h0": lambda: rn(3)}, cell_run)

# ------------------------------------------------------------------ multi-head attention


def mha_run(need_weights=True, average=True):
    def run(m, xs):
        q = xs["query"]
        k = xs.get("key", q)
        v = xs.get("value", k)
        out, w = m(q, k, v, key_padding_mask=xs.get("keyPaddingMask"), need_weights=need_weights,
                   attn_mask=xs.get("attnMask"), average_attn_weights=average)
        return {"output": out, "weights": w}
    return run


def causal_bool(t, s):
    return torch.ones(t, s).triu(1).bool()


def kpm(n, s, pad):
    """[n, s] bool key padding mask: sample i has its last pad[i] keys masked."""
    m = torch.zeros(n, s, dtype=torch.bool)
    for i, p in enumerate(pad):
        if p:
            m[i, s - p:] = True
    return m


add("mhaSelfBoolMasks", 20, lambda: nn.MultiheadAttention(8, 2),
    {"query": lambda: rn(4, 2, 8), "attnMask": lambda: causal_bool(4, 4), "keyPaddingMask": lambda: kpm(2, 4, [0, 1])}, mha_run())
add("mhaCrossFloatMask3dBatchFirstPerHead", 21, lambda: nn.MultiheadAttention(8, 2, batch_first=True),
    {"query": lambda: rn(2, 3, 8), "key": lambda: rn(2, 5, 8), "attnMask": lambda: rn(4, 3, 5)}, mha_run(average=False))
add("mhaKdimVdimFloatMaskBoolPadding", 22, lambda: nn.MultiheadAttention(8, 4, kdim=5, vdim=3),
    {"query": lambda: rn(3, 2, 8), "key": lambda: rn(4, 2, 5), "value": lambda: rn(4, 2, 3),
     "attnMask": lambda: torch.where(causal_bool(3, 4), torch.tensor(-math.inf), rn(3, 4)),
     "keyPaddingMask": lambda: kpm(2, 4, [1, 0])}, mha_run())
add("mhaNoBiasUnbatchedNoWeights", 23, lambda: nn.MultiheadAttention(6, 3, bias=False),
    {"query": lambda: rn(3, 6), "key": lambda: rn(4, 6), "attnMask": lambda: causal_bool(3, 4)}, mha_run(need_weights=False))
add("mhaFloatPaddingMask", 24, lambda: nn.MultiheadAttention(4, 1),
    {"query": lambda: rn(3, 2, 4), "keyPaddingMask": lambda: rn(2, 3)}, mha_run())
add("mhaBiasKvZeroAttn", 25, lambda: nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True),
    {"query": lambda: rn(3, 2, 4), "key": lambda: rn(2, 2, 4), "attnMask": lambda: causal_bool(3, 2),
     "keyPaddingMask": lambda: kpm(2, 2, [1, 0])}, mha_run(average=False))
add("mhaDropoutEval", 26, lambda: nn.MultiheadAttention(4, 2, dropout=0.5, batch_first=True),
    {"query": lambda: rn(2, 3, 4)}, mha_run())


# scaled_dot_product_attention arrived in torch 2.0; this is its documented math (a bool mask marks
# the positions that take part), written out with torch ops.
def sdpa_run(causal=False, scale=None):
    def run(_m, xs):
        q, k, v = xs["q"], xs["k"], xs["v"]
        L, S = q.shape[-2], k.shape[-2]
        s = (1 / math.sqrt(q.shape[-1])) if scale is None else scale
        scores = q @ k.transpose(-2, -1) * s
        mask = xs.get("attnMask")
        if causal:
            mask = torch.ones(L, S).tril().bool()
        if mask is not None:
            scores = scores.masked_fill(~mask, -math.inf) if mask.dtype == torch.bool else scores + mask
        return {"output": torch.softmax(scores, -1) @ v}
    return run


add("sdpaBoolMask4d", 30, lambda: nn.Identity(),
    {"q": lambda: rn(2, 2, 3, 4), "k": lambda: rn(2, 2, 5, 4), "v": lambda: rn(2, 2, 5, 3), "attnMask": lambda: ~causal_bool(3, 5)}, sdpa_run())
add("sdpaFloatMask3d", 31, lambda: nn.Identity(),
    {"q": lambda: rn(2, 4, 3), "k": lambda: rn(2, 4, 3), "v": lambda: rn(2, 4, 3), "attnMask": lambda: rn(2, 4, 4)}, sdpa_run())
add("sdpaCausalScale", 32, lambda: nn.Identity(),
    {"q": lambda: rn(1, 2, 4, 4), "k": lambda: rn(1, 2, 4, 4), "v": lambda: rn(1, 2, 4, 2)}, sdpa_run(causal=True, scale=0.3))

# ------------------------------------------------------------------ transformer layers


def enc_run(m, xs):
    return {"output": m(xs["src"], src_mask=xs.get("srcMask"), src_key_padding_mask=xs.get("srcKeyPaddingMask"))}


def stack_enc_run(m, xs):
    return {"output": m(xs["src"], mask=xs.get("mask"), src_key_padding_mask=xs.get("srcKeyPaddingMask"))}


def dec_run(m, xs):
    return {"output": m(xs["tgt"], xs["memory"], tgt_mask=xs.get("tgtMask"), memory_mask=xs.get("memoryMask"),
                        tgt_key_padding_mask=xs.get("tgtKeyPaddingMask"), memory_key_padding_mask=xs.get("memoryKeyPaddingMask"))}


def transformer_run(m, xs):
    return {"output": m(xs["src"], xs["tgt"], src_mask=xs.get("srcMask"), tgt_mask=xs.get("tgtMask"), memory_mask=xs.get("memoryMask"),
                        src_key_padding_mask=xs.get("srcKeyPaddingMask"), tgt_key_padding_mask=xs.get("tgtKeyPaddingMask"),
                        memory_key_padding_mask=xs.get("memoryKeyPaddingMask"))}


square = nn.Transformer.generate_square_subsequent_mask

add("encoderLayerPostNormRelu", 40, lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0),
    {"src": lambda: rn(4, 2, 8), "srcMask": lambda: square(4), "srcKeyPaddingMask": lambda: kpm(2, 4, [0, 1])}, enc_run)
add("encoderLayerPreNormGeluBatchFirst", 41,
    lambda: nn.TransformerEncoderLayer(8, 4, dim_feedforward=12, dropout=0.1, activation="gelu", layer_norm_eps=1e-6, batch_first=True, norm_first=True),
    {"src": lambda: rn(2, 3, 8), "srcMask": lambda: causal_bool(3, 3)}, enc_run)
add("decoderLayerPostNormMasks", 42, lambda: nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0),
    {"tgt": lambda: rn(3, 2, 8), "memory": lambda: rn(4, 2, 8), "tgtMask": lambda: square(3), "memoryMask": lambda: causal_bool(3, 4),
     "tgtKeyPaddingMask": lambda: kpm(2, 3, [1, 0]), "memoryKeyPaddingMask": lambda: kpm(2, 4, [0, 2])}, dec_run)
add("decoderLayerPreNormGeluBatchFirst", 43,
    lambda: nn.TransformerDecoderLayer(8, 2, dim_feedforward=12, dropout=0.2, activation="gelu", batch_first=True, norm_first=True),
    {"tgt": lambda: rn(2, 3, 8), "memory": lambda: rn(2, 4, 8), "tgtMask": lambda: square(3)}, dec_run)
add("encoderStack2Norm", 44, lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0), 2, norm=nn.LayerNorm(4)),
    {"src": lambda: rn(3, 2, 4), "mask": lambda: square(3), "srcKeyPaddingMask": lambda: kpm(2, 3, [0, 1])}, stack_enc_run)
add("decoderStack2", 45, lambda: nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, dim_feedforward=8, dropout=0.0, batch_first=True), 2),
    {"tgt": lambda: rn(2, 3, 4), "memory": lambda: rn(2, 2, 4), "tgtMask": lambda: square(3)}, dec_run)
add("transformerSmall", 46,
    lambda: nn.Transformer(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8, dropout=0.0),
    {"src": lambda: rn(4, 2, 4), "tgt": lambda: rn(3, 2, 4), "tgtMask": lambda: square(3),
     "srcKeyPaddingMask": lambda: kpm(2, 4, [1, 0]), "memoryKeyPaddingMask": lambda: kpm(2, 4, [1, 0])}, transformer_run)

out = {"torch": torch.__version__, "cases": cases}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn_fixtures.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(f"wrote {path}: {len(cases)} cases, {os.path.getsize(path)} bytes")
