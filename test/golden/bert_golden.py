# Generates test/golden/bert.json: a tiny BERT written with plain torch ops as Hugging Face's BertModel
# (post-LayerNorm; embeddings word + position + token type → LayerNorm; self-attention → dense → add &
# LayerNorm; intermediate GELU (erf) → output → add & LayerNorm), the MLM head (dense → GELU → LayerNorm
# → decoder tied to the word embeddings + bias) and the classification head (pooler dense → tanh →
# classifier), in float64 with fixed weights and a padded batch. test/unit/bert.test.ts checks
# models.BERT / BertForMaskedLM / BertForSequenceClassification against it.
# Run with Debian's python3-torch:  /usr/bin/python3 test/golden/bert_golden.py
import json
import math
import os

import torch
import torch.nn.functional as F

from golden_util import enc

torch.manual_seed(11)
D = torch.float64
C = dict(vocabSize=30, hiddenSize=16, numLayers=2, numHeads=2, intermediateSize=32, maxPositions=16,
         typeVocabSize=2, dropout=0.0, layerNormEps=1e-12, padTokenId=0)
H, V, I, NL = C["hiddenSize"], C["vocabSize"], C["intermediateSize"], 3


def names():
    """Hugging Face's parameter names (BertForMaskedLM / BertForSequenceClassification) and shapes, in module order."""
    out = [("bert.embeddings.word_embeddings.weight", [V, H]), ("bert.embeddings.position_embeddings.weight", [C["maxPositions"], H]),
           ("bert.embeddings.token_type_embeddings.weight", [C["typeVocabSize"], H]),
           ("bert.embeddings.LayerNorm.weight", [H]), ("bert.embeddings.LayerNorm.bias", [H])]
    for l in range(C["numLayers"]):
        p = f"bert.encoder.layer.{l}."
        for m in ("query", "key", "value"):
            out += [(p + f"attention.self.{m}.weight", [H, H]), (p + f"attention.self.{m}.bias", [H])]
        out += [(p + "attention.output.dense.weight", [H, H]), (p + "attention.output.dense.bias", [H]),
                (p + "attention.output.LayerNorm.weight", [H]), (p + "attention.output.LayerNorm.bias", [H]),
                (p + "intermediate.dense.weight", [I, H]), (p + "intermediate.dense.bias", [I]),
                (p + "output.dense.weight", [H, I]), (p + "output.dense.bias", [H]),
                (p + "output.LayerNorm.weight", [H]), (p + "output.LayerNorm.bias", [H])]
    return out


ENCODER = names()
MLM_HEAD = [("cls.predictions.bias", [V]), ("cls.predictions.transform.dense.weight", [H, H]), ("cls.predictions.transform.dense.bias", [H]),
            ("cls.predictions.transform.LayerNorm.weight", [H]), ("cls.predictions.transform.LayerNorm.bias", [H])]
CLS_HEAD = [("bert.pooler.dense.weight", [H, H]), ("bert.pooler.dense.bias", [H]), ("classifier.weight", [NL, H]), ("classifier.bias", [NL])]


def init(specs):
    """Fixed weights larger than BERT's N(0, 0.02), so that every nonlinearity is exercised."""
    P = {}
    for n, shape in specs:
        if "LayerNorm.weight" in n:
            P[n] = (1 + 0.2 * torch.randn(shape, dtype=D)).requires_grad_()
        else:
            P[n] = (0.3 * torch.randn(shape, dtype=D)).requires_grad_()
    return P


def ln(x, P, n):
    return F.layer_norm(x, (H,), P[n + ".weight"], P[n + ".bias"], C["layerNormEps"])


def lin(x, P, n):
    return F.linear(x, P[n + ".weight"], P[n + ".bias"])


def encoder(P, ids, types, mask):
    B, T = ids.shape
    e = "bert.embeddings."
    x = F.embedding(ids, P[e + "word_embeddings.weight"], padding_idx=C["padTokenId"]) + P[e + "position_embeddings.weight"][:T] \
        + F.embedding(types, P[e + "token_type_embeddings.weight"])
    x = ln(x, P, e + "LayerNorm")
    nh, hd = C["numHeads"], H // C["numHeads"]
    ext = (1.0 - mask[:, None, None, :].to(D)) * torch.finfo(D).min  # HF's extended attention mask
    for l in range(C["numLayers"]):
        p = f"bert.encoder.layer.{l}."
        heads = lambda t: t.view(B, T, nh, hd).transpose(1, 2)
        q, k, v = (heads(lin(x, P, p + f"attention.self.{m}")) for m in ("query", "key", "value"))
        s = q @ k.transpose(-1, -2) / math.sqrt(hd) + ext
        y = (F.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, T, H)
        a = ln(lin(y, P, p + "attention.output.dense") + x, P, p + "attention.output.LayerNorm")
        h = F.gelu(lin(a, P, p + "intermediate.dense"))
        x = ln(lin(h, P, p + "output.dense") + a, P, p + "output.LayerNorm")
    return x


ids = torch.tensor([[2, 7, 4, 11, 29, 5, 3], [2, 13, 4, 8, 3, 0, 0]])
types = torch.tensor([[0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0]])
mask = torch.tensor([[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0]])
labels = torch.tensor([[-100, 9, 17, -100, -100, 21, -100], [-100, -100, 6, -100, -100, -100, -100]])
cls_labels = torch.tensor([2, 0])

P = init(ENCODER + MLM_HEAD + CLS_HEAD)
hidden = encoder(P, ids, types, mask)
t = ln(F.gelu(lin(hidden, P, "cls.predictions.transform.dense")), P, "cls.predictions.transform.LayerNorm")
logits = F.linear(t, P["bert.embeddings.word_embeddings.weight"], P["cls.predictions.bias"])  # tied decoder
loss = F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1), ignore_index=-100)
loss.backward()
mlm_params = [n for n, _ in ENCODER + MLM_HEAD]
grads = {n: enc(P[n].grad) for n in mlm_params}

pooled = torch.tanh(lin(hidden[:, 0], P, "bert.pooler.dense"))
cls_logits = lin(pooled, P, "classifier")
cls_loss = F.cross_entropy(cls_logits, cls_labels)

out = {
    "torch": torch.__version__,
    "config": C,
    "numLabels": NL,
    "params": {n: enc(P[n]) for n, _ in ENCODER + MLM_HEAD + CLS_HEAD},
    "ids": enc(ids), "tokenTypeIds": enc(types), "attentionMask": enc(mask), "labels": enc(labels), "clsLabels": enc(cls_labels),
    "hidden": enc(hidden), "pooled": enc(pooled), "mlmLogits": enc(logits), "mlmLoss": loss.item(), "mlmGrads": grads,
    "clsLogits": enc(cls_logits), "clsLoss": cls_loss.item(),
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bert.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"), allow_nan=False)
print(f"wrote {path}: {os.path.getsize(path)} bytes")
