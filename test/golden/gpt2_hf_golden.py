# Generates test/golden/gpt2_hf/: a small random GPT-2 checkpoint in Hugging Face's layout —
# config.json (GPT2Config fields) and model.safetensors with HF's names and Conv1D weights stored
# [in, out], including the old `attn.bias` / `attn.masked_bias` buffers — and golden.json with input
# ids and the logits of GPT2LMHeadModel's forward. transformers is not installable on this machine
# (no Debian package, no index), so the forward below re-implements modeling_gpt2.py's eager path in
# plain PyTorch ops: Conv1D as x @ W + b, attention scaled by 1/sqrt(head_dim) with the causal
# buffer and masked_bias, gelu_new, pre-LayerNorm blocks, ln_f, lm_head tied to wte. It shares no
# code with Ingot or with test/golden/gpt_golden.py (nanoGPT's Linear layout).
# Run with Debian's python3-torch:  /usr/bin/python3 test/golden/gpt2_hf_golden.py
import json
import math
import os
import struct

import torch

torch.manual_seed(2)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpt2_hf")
CFG = {
    "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "activation_function": "gelu_new",
    "vocab_size": 97, "n_positions": 32, "n_ctx": 32, "n_embd": 48, "n_layer": 2, "n_head": 4, "n_inner": None,
    "layer_norm_epsilon": 1e-5, "initializer_range": 0.02, "resid_pdrop": 0.1, "embd_pdrop": 0.1, "attn_pdrop": 0.1,
    "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False, "reorder_and_upcast_attn": False,
    "bos_token_id": 50256, "eos_token_id": 50256, "torch_dtype": "float32",
}
C, L, H, V, P = CFG["n_embd"], CFG["n_layer"], CFG["n_head"], CFG["vocab_size"], CFG["n_positions"]


def rnd(*shape, std=0.3):
    return (torch.randn(*shape) * std).float()


# HF's state dict of GPT2Model (the hub's gpt2 files carry no "transformer." prefix).
sd = {"wte.weight": rnd(V, C), "wpe.weight": rnd(P, C, std=0.1)}
for i in range(L):
    p = f"h.{i}."
    sd[p + "ln_1.weight"] = 1 + rnd(C, std=0.1)
    sd[p + "ln_1.bias"] = rnd(C, std=0.1)
    sd[p + "attn.bias"] = torch.tril(torch.ones(P, P, dtype=torch.uint8)).view(1, 1, P, P).bool().float()  # buffer
    sd[p + "attn.masked_bias"] = torch.tensor(-1e4)  # buffer
    sd[p + "attn.c_attn.weight"] = rnd(C, 3 * C)  # Conv1D: [in, out]
    sd[p + "attn.c_attn.bias"] = rnd(3 * C, std=0.1)
    sd[p + "attn.c_proj.weight"] = rnd(C, C)
    sd[p + "attn.c_proj.bias"] = rnd(C, std=0.1)
    sd[p + "ln_2.weight"] = 1 + rnd(C, std=0.1)
    sd[p + "ln_2.bias"] = rnd(C, std=0.1)
    sd[p + "mlp.c_fc.weight"] = rnd(C, 4 * C)
    sd[p + "mlp.c_fc.bias"] = rnd(4 * C, std=0.1)
    sd[p + "mlp.c_proj.weight"] = rnd(4 * C, C)
    sd[p + "mlp.c_proj.bias"] = rnd(C, std=0.1)
sd["ln_f.weight"] = 1 + rnd(C, std=0.1)
sd["ln_f.bias"] = rnd(C, std=0.1)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def conv1d(x, w, b):
    return x @ w + b


def forward(ids, w):
    """GPT2LMHeadModel.forward(input_ids).logits, eager attention, eval mode, in the dtype of w."""
    B, T = ids.shape
    hd = C // H
    h = w["wte.weight"][ids] + w["wpe.weight"][torch.arange(T)]
    for i in range(L):
        p = f"h.{i}."
        a = torch.nn.functional.layer_norm(h, (C,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], CFG["layer_norm_epsilon"])
        q, k, v = conv1d(a, w[p + "attn.c_attn.weight"], w[p + "attn.c_attn.bias"]).split(C, dim=2)
        q, k, v = (t.view(B, T, H, hd).permute(0, 2, 1, 3) for t in (q, k, v))
        att = q @ k.transpose(-1, -2) / math.sqrt(hd)
        causal = w[p + "attn.bias"][:, :, :T, :T].bool()
        att = torch.where(causal, att, torch.tensor(torch.finfo(att.dtype).min, dtype=att.dtype))
        y = att.softmax(-1) @ v
        y = y.permute(0, 2, 1, 3).reshape(B, T, C)
        h = h + conv1d(y, w[p + "attn.c_proj.weight"], w[p + "attn.c_proj.bias"])
        m = torch.nn.functional.layer_norm(h, (C,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], CFG["layer_norm_epsilon"])
        h = h + conv1d(gelu_new(conv1d(m, w[p + "mlp.c_fc.weight"], w[p + "mlp.c_fc.bias"])), w[p + "mlp.c_proj.weight"], w[p + "mlp.c_proj.bias"])
    h = torch.nn.functional.layer_norm(h, (C,), w["ln_f.weight"], w["ln_f.bias"], CFG["layer_norm_epsilon"])
    return h @ w["wte.weight"].t()  # lm_head tied to wte


def write_safetensors(path, tensors):
    """The safetensors format: u64 little-endian header length, JSON header, 8-byte aligned data."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        data = t.contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "config.json"), "w") as f:
    json.dump(CFG, f, indent=2)
write_safetensors(os.path.join(OUT, "model.safetensors"), sd)
ids = torch.randint(0, V, (2, 13))
with torch.no_grad():
    logits64 = forward(ids, {k: t.double() for k, t in sd.items()})
    logits32 = forward(ids, sd)
print("float32 vs float64 logits, max difference:", (logits32.double() - logits64).abs().max().item())
with open(os.path.join(OUT, "golden.json"), "w") as f:
    json.dump({"torch": torch.__version__, "input_ids": ids.tolist(), "logits_shape": list(logits64.shape),
               "logits": [round(v, 7) for v in logits64.flatten().tolist()]}, f, separators=(",", ":"))
print("wrote", OUT)
