# Fixtures from Hugging Face transformers and tokenizers themselves (not re-implementations). They are
# not installable on the development machine, so this script runs where they are (the project's GPU
# machine has transformers 5.x; it needs no GPU), and its outputs are committed:
#   test/golden/gpt2_transformers/   a small random GPT2LMHeadModel saved by save_pretrained (config.json,
#                                    model.safetensors with transformers' own names and layout) plus its
#                                    GPT2TokenizerFast files, and golden.json: input ids, the float64
#                                    logits, and greedy generate() output with the KV cache
#   test/golden/bert_transformers.json  BertForMaskedLM / BertForSequenceClassification run on the
#                                    weights and inputs of test/golden/bert.json: hidden states, pooled
#                                    output, logits, losses, gradients of the MLM loss
#   test/golden/tokenizer_cases_hf.json  the ids HF's tokenizers give on the texts of tokenizer_cases.json
#                                    for the fixtures in tokenizer_gpt2/ and tokenizer_bert/
#   test/golden/lora_peft/ and lora_peft.json  a LoRA adapter written by PEFT for bert.json's classifier,
#                                    and logits: PEFT's on that adapter (unmerged and merged) and PEFT's
#                                    on the adapter Ingot wrote (test/golden/lora_ingot/, made by
#                                    lora_ingot_fixture.mjs)
# Checked by test/unit/gpt2-import.test.ts, bert.test.ts, text-import.test.ts and lora.test.ts.
# Run (after lora_ingot_fixture.mjs, if that changed):  python3 test/golden/transformers_golden.py
import json
import os
import shutil
import tempfile
import traceback

import tokenizers
import torch
import transformers
from transformers import (BertConfig, BertForMaskedLM, BertForSequenceClassification, BertTokenizerFast,
                          GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast)

HERE = os.path.dirname(os.path.abspath(__file__))
D = torch.float64
VERSIONS = {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__, "torch": torch.__version__}


def enc(t):
    t = t.detach()
    data = t.reshape(-1).tolist()
    if t.is_floating_point():
        data = [float(v) for v in data]
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": data}


def dec(a):
    dtype = {"float64": D, "float32": torch.float32, "int64": torch.int64, "int32": torch.int64, "bool": torch.bool}[a["dtype"]]
    return torch.tensor(a["data"], dtype=dtype).reshape(a["shape"])


def from_files(cls, src, names, **kw):
    """A tokenizer built by from_pretrained on a folder that holds only the given files (so that, e.g.,
    vocab.json + merges.txt are read rather than a tokenizer.json beside them)."""
    tmp = tempfile.mkdtemp()
    for n in names:
        shutil.copy(os.path.join(HERE, src, n), tmp)
    tok = cls.from_pretrained(tmp, **kw)
    assert len(tok) > 30 and tok("the")["input_ids"], f"{cls.__name__} read nothing from {names}"
    return tok


def gpt2_tokenizer():
    """GPT2TokenizerFast from tokenizer_gpt2/'s vocab.json + merges.txt (not its tokenizer.json)."""
    return from_files(GPT2TokenizerFast, "tokenizer_gpt2", ["vocab.json", "merges.txt"])


def eager(model):
    """Eager attention: the textbook path, the one every other attention implementation must match."""
    try:
        model.set_attn_implementation("eager")
    except AttributeError:
        model.config._attn_implementation = "eager"
    return model


# ---- tokenizers --------------------------------------------------------------------------------------------
def tokenizer_cases():
    cases = json.load(open(os.path.join(HERE, "tokenizer_cases.json"), encoding="utf8"))
    g2, bt = os.path.join(HERE, "tokenizer_gpt2"), os.path.join(HERE, "tokenizer_bert")
    gpt2_json = tokenizers.Tokenizer.from_file(os.path.join(g2, "tokenizer.json"))
    gpt2_fast = gpt2_tokenizer()
    bert_json = tokenizers.Tokenizer.from_file(os.path.join(bt, "tokenizer.json"))
    bert_fast = from_files(BertTokenizerFast, "tokenizer_bert", ["vocab.txt"], do_lower_case=True)
    tok_out = {"versions": VERSIONS, "gpt2": [], "bert": []}
    for c in cases["gpt2"]:
        tok_out["gpt2"].append({"text": c["text"], "tokenizer_json": gpt2_json.encode(c["text"]).ids,
                                "vocab_merges": gpt2_fast(c["text"])["input_ids"],
                                "decoded": gpt2_fast.decode(gpt2_fast(c["text"])["input_ids"])})
    for c in cases["bert"]:
        tok_out["bert"].append({"text": c["text"], "tokenizer_json": bert_json.encode(c["text"]).ids,
                                "vocab_txt": bert_fast(c["text"])["input_ids"]})
    with open(os.path.join(HERE, "tokenizer_cases_hf.json"), "w", encoding="utf8") as f:
        json.dump(tok_out, f, ensure_ascii=False, indent=1)
    agree = sum(a["tokenizer_json"] == c["ids"] for a, c in zip(tok_out["gpt2"], cases["gpt2"]))
    agree_b = sum(a["tokenizer_json"] == c["ids"] for a, c in zip(tok_out["bert"], cases["bert"]))
    print(f"tokenizers: gpt2 {agree}/{len(cases['gpt2'])} and bert {agree_b}/{len(cases['bert'])} cases equal the transcribed references")


# ---- GPT-2 -------------------------------------------------------------------------------------------------
def gpt2_fixture():
    gpt2_fast = gpt2_tokenizer()
    torch.manual_seed(5)
    V = len(gpt2_fast)
    cfg = GPT2Config(vocab_size=V, n_positions=32, n_embd=48, n_layer=2, n_head=4, activation_function="gelu_new",
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=V - 1, eos_token_id=V - 1)
    model = eager(GPT2LMHeadModel(cfg)).eval()
    with torch.no_grad():  # weights larger than GPT-2's N(0, 0.02), so that every part of the forward matters
        for name, p in model.named_parameters():
            if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.copy_((0.1 if "wpe" in name else 0.3) * torch.randn_like(p))
    out_dir = os.path.join(HERE, "gpt2_transformers")
    shutil.rmtree(out_dir, ignore_errors=True)
    model.save_pretrained(out_dir)
    gpt2_fast.save_pretrained(out_dir)
    for extra in ("generation_config.json",):
        if os.path.exists(os.path.join(out_dir, extra)):
            os.remove(os.path.join(out_dir, extra))

    ids = torch.randint(0, V, (2, 13))
    with torch.no_grad():
        logits32 = model(ids).logits
        m64 = eager(GPT2LMHeadModel.from_pretrained(out_dir, dtype=D)).eval()  # read back from the saved files
        logits64 = m64(ids).logits
    print("gpt2: float32 vs float64 logits, max difference", (logits32.double() - logits64).abs().max().item())

    prompt = "the hello world"
    prompt_ids = gpt2_fast(prompt)["input_ids"]
    with torch.no_grad():  # greedy decoding through the model's KV cache, one token per call
        out = m64(torch.tensor([prompt_ids]), use_cache=True)
        gen = list(prompt_ids)
        for _ in range(12):
            gen.append(int(out.logits[0, -1].argmax()))
            out = m64(torch.tensor([[gen[-1]]]), past_key_values=out.past_key_values, use_cache=True)
    try:  # and through generate(), where this transformers version runs it
        x = torch.tensor([prompt_ids])
        by_generate = m64.generate(input_ids=x, attention_mask=torch.ones_like(x), max_new_tokens=12, do_sample=False,
                                   pad_token_id=V - 1, eos_token_id=None)[0].tolist()
        print("gpt2: generate() gives the same tokens:", by_generate == gen)
        assert by_generate == gen
    except RuntimeError as e:
        print("gpt2: generate() failed here:", str(e).splitlines()[0])
    with torch.no_grad():  # the margin between the best and second-best token at each greedy step
        full = m64(torch.tensor([gen[:-1]])).logits[0, len(prompt_ids) - 1:]
        top2 = full.topk(2, dim=-1).values
        margin = (top2[:, 0] - top2[:, 1]).min().item()
    print("gpt2: greedy", gen, "smallest top-2 margin", margin)
    assert margin > 1e-3, "a near tie in greedy decoding would make the fixture fragile; change the seed"
    golden = {"versions": VERSIONS, "input_ids": ids.tolist(), "logits_shape": list(logits64.shape),
              "logits": [round(v, 7) for v in logits64.flatten().tolist()],
              "prompt": prompt, "prompt_ids": prompt_ids, "greedy_ids": gen, "greedy_text": gpt2_fast.decode(gen)}
    with open(os.path.join(out_dir, "golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    print("gpt2: wrote", sorted(os.listdir(out_dir)))


# ---- BERT on bert.json's weights ---------------------------------------------------------------------------
def bert_setup():
    """bert.json's config as a BertConfig, a loader of its weights, and its inputs."""
    g = json.load(open(os.path.join(HERE, "bert.json")))
    C = g["config"]
    bcfg = BertConfig(vocab_size=C["vocabSize"], hidden_size=C["hiddenSize"], num_hidden_layers=C["numLayers"],
                      num_attention_heads=C["numHeads"], intermediate_size=C["intermediateSize"],
                      max_position_embeddings=C["maxPositions"], type_vocab_size=C["typeVocabSize"],
                      hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=C["layerNormEps"],
                      pad_token_id=C["padTokenId"], hidden_act="gelu", num_labels=g["numLabels"])
    P = {n: dec(a) for n, a in g["params"].items()}
    inputs = {"input_ids": dec(g["ids"]), "token_type_ids": dec(g["tokenTypeIds"]), "attention_mask": dec(g["attentionMask"])}

    def load(m):
        missing, unexpected = m.load_state_dict({k: v for k, v in P.items() if k in m.state_dict()}, strict=False)
        missing = [k for k in missing if not k.endswith("position_ids") and not k.startswith("cls.predictions.decoder")]
        assert not missing and not unexpected, (missing, unexpected)
        return m

    return g, bcfg, load, inputs


def bert_fixture():
    g, bcfg, load, inputs = bert_setup()
    mlm = load(eager(BertForMaskedLM(bcfg)).to(D)).eval()
    if mlm.cls.predictions.decoder.weight is not mlm.bert.embeddings.word_embeddings.weight:
        print("bert: the MLM decoder was not tied to the word embeddings; tying it")
        mlm.cls.predictions.decoder.weight = mlm.bert.embeddings.word_embeddings.weight
    r = mlm(**inputs, labels=dec(g["labels"]), output_hidden_states=True)
    r.loss.backward()
    grads = {n: enc(p.grad) for n, p in mlm.named_parameters() if n in g["mlmGrads"]}
    assert sorted(grads) == sorted(g["mlmGrads"]), "every parameter of bert.json has a gradient here"
    clf = load(eager(BertForSequenceClassification(bcfg)).to(D)).eval()
    with torch.no_grad():
        rc = clf(**inputs, labels=dec(g["clsLabels"]), output_hidden_states=True)
        pooled = clf.bert(**inputs).pooler_output
    bert_out = {"versions": VERSIONS, "hidden": enc(r.hidden_states[-1]), "mlmLogits": enc(r.logits), "mlmLoss": r.loss.item(),
                "mlmGrads": grads, "pooled": enc(pooled), "clsLogits": enc(rc.logits), "clsLoss": rc.loss.item()}
    worst = max((dec(bert_out[k]) - dec(g[k])).abs().max().item() for k in ("hidden", "mlmLogits", "pooled", "clsLogits"))
    print("bert: transformers vs bert.json (plain torch), max difference", worst)
    with open(os.path.join(HERE, "bert_transformers.json"), "w") as f:
        json.dump(bert_out, f, separators=(",", ":"), allow_nan=False)


# ---- LoRA adapters: PEFT reads Ingot's, Ingot reads PEFT's ------------------------------------------------
def peft_fixture():
    import peft
    from peft import LoraConfig, PeftModel, get_peft_model

    g, bcfg, load, inputs = bert_setup()
    torch.set_default_dtype(D)  # adapter layers are created in float64 too, so nothing is rounded to float32
    try:
        base = lambda: load(eager(BertForSequenceClassification(bcfg)).to(D)).eval()
        with torch.no_grad():
            base_logits = base()(**inputs).logits
            from_ingot = PeftModel.from_pretrained(base(), os.path.join(HERE, "lora_ingot")).eval()
            ingot_adapter_logits = from_ingot(**inputs).logits
        print("peft: Ingot's adapter changes the logits by", (ingot_adapter_logits - base_logits).abs().max().item())

        torch.manual_seed(9)
        cfg = LoraConfig(r=4, lora_alpha=16, lora_dropout=0.0, target_modules=["query", "value", "attention.output.dense"],
                         modules_to_save=["classifier"])
        pm = get_peft_model(base(), cfg)
        with torch.no_grad():  # lora_B starts at zero: give it (and the head) values, as after training
            for n, p in pm.named_parameters():
                if "lora_B" in n or "modules_to_save" in n:
                    p.copy_(0.3 * torch.randn_like(p))
        pm.eval()
        out_dir = os.path.join(HERE, "lora_peft")
        shutil.rmtree(out_dir, ignore_errors=True)
        pm.save_pretrained(out_dir)
        for extra in ("README.md",):
            if os.path.exists(os.path.join(out_dir, extra)):
                os.remove(os.path.join(out_dir, extra))
        with torch.no_grad():
            peft_logits = pm(**inputs).logits
            merged_logits = pm.merge_and_unload()(**inputs).logits
        print("peft: merged vs unmerged", (merged_logits - peft_logits).abs().max().item(), "; wrote", sorted(os.listdir(out_dir)))
    finally:
        torch.set_default_dtype(torch.float32)
    with open(os.path.join(HERE, "lora_peft.json"), "w") as f:
        json.dump({"versions": {**VERSIONS, "peft": peft.__version__}, "baseLogits": enc(base_logits),
                   "ingotAdapterLogits": enc(ingot_adapter_logits), "peftAdapterLogits": enc(peft_logits),
                   "peftMergedLogits": enc(merged_logits)}, f, separators=(",", ":"))


failed = []
for step in (tokenizer_cases, gpt2_fixture, bert_fixture, peft_fixture):
    try:
        step()
    except Exception:  # report every step's outcome in one run
        traceback.print_exc()
        failed.append(step.__name__)
print("versions", VERSIONS, "failed:", failed or "none")
raise SystemExit(1 if failed else 0)
