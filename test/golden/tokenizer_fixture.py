# Generates the tokenizer fixtures checked by test/unit/text-import.test.ts: a tiny GPT-2-style byte-level
# BPE (vocab.json, merges.txt and the same thing as a Hugging Face tokenizer.json) and a tiny BERT
# WordPiece vocab (vocab.txt and tokenizer.json), with the ids the reference algorithms give on test texts.
# The references are OpenAI's GPT-2 encoder.py and Google's BERT tokenization.py, transcribed below (no
# transformers/tokenizers here). Run: python3 test/golden/tokenizer_fixture.py   (needs `pip install regex`)
import json
import os
import unicodedata

import regex as re

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- GPT-2 (openai/gpt-2 src/encoder.py) ----------------------------------------------------------
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def get_pairs(word):
    return {(word[i], word[i + 1]) for i in range(len(word) - 1)}


class Gpt2Encoder:
    pat = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")

    def __init__(self, encoder, merges):
        self.encoder = encoder
        self.byte_encoder = bytes_to_unicode()
        self.bpe_ranks = dict(zip(merges, range(len(merges))))

    def bpe(self, token):
        word = tuple(token)
        pairs = get_pairs(word)
        if not pairs:
            return [token]
        while True:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        return list(word)

    def encode(self, text):
        ids = []
        for token in re.findall(self.pat, text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(token))
        return ids


def make_gpt2():
    be = bytes_to_unicode()
    bl = lambda s: "".join(be[b] for b in s.encode("utf-8"))  # noqa: E731
    # Merges written on raw text (bl maps them to byte-level). They exercise: rank beats position
    # ("hello": h+e before l+l), chained merges (Ġt + he), overlapping runs (a a / aa a), multi-byte
    # characters (é, 世, 👋 prefixes), numbers, contractions and whitespace runs.
    raw = [
        (" ", "t"), ("h", "e"), (" t", "he"), ("i", "n"), ("in", "g"), (" ", "a"), (" a", "n"), (" an", "d"),
        ("e", "r"), ("l", "l"), ("l", "o"), ("a", "a"), ("aa", "a"), ("'", "s"), ("1", "2"), (" ", " "),
        ("\n", "\n"), (" ", "w"), (" w", "o"), ("r", "ld"), ("l", "d"), (" wo", "rld"),
    ]
    merges = [(bl(a), bl(b)) for a, b in raw]
    # Multi-byte merges are written on bytes: é = C3 A9, 世 = E4 B8 96, 👋 = F0 9F 91 8B.
    for a, b in [(b"\xc3", b"\xa9"), (b"\xe4", b"\xb8"), (b"\xe4\xb8", b"\x96"), (b"\xf0", b"\x9f"), (b"\xf0\x9f", b"\x91")]:
        merges.append(("".join(be[x] for x in a), "".join(be[x] for x in b)))
    # Ids: the 256 byte tokens in GPT-2's order, then merged tokens in REVERSE merge order (so a
    # reader that assumes id = 256 + rank fails), then <|endoftext|>.
    vocab = {be[b]: i for i, b in enumerate(list(be.keys()))}
    for a, b in reversed(merges):
        vocab.setdefault(a + b, len(vocab))
    vocab["<|endoftext|>"] = len(vocab)
    enc = Gpt2Encoder(vocab, merges)
    texts = [
        "the hello world",
        "Hello there, the thing's 123 and aaa aaaa aaaaa!",
        "I'm he'll they'd we've you're it's DON'T 'S",
        "   leading spaces\n\n\n  trailing  \t",
        "café résumé naïve Ａ",
        "e\u0301 combining ring a\u030a",
        "👋🏽 世界 世 ١٢٣ ½ ²",
        "tab\tsep\u00a0nbsp\u3000ideo\u0085nel\ufeffbom",
        "\x00\x01\x7f controls",
        "Ελληνικά русский עברית العربية",
        "  ",
        "",
        "wordworld world worlds  world",
    ]
    cases = [{"text": t, "ids": enc.encode(t)} for t in texts]
    # With the special token: GPT-2 encodes the text around it and the token is its id.
    t = "the end<|endoftext|> the start"
    cases.append({"text": t, "ids": enc.encode("the end") + [vocab["<|endoftext|>"]] + enc.encode(" the start")})
    return vocab, merges, cases


# ---- BERT (google-research/bert tokenization.py, uncased) ------------------------------------------
def is_whitespace(c):
    return c in " \t\n\r" or unicodedata.category(c) == "Zs"


def is_control(c):
    return c not in "\t\n\r" and unicodedata.category(c) in ("Cc", "Cf")


def is_punctuation(c):
    cp = ord(c)
    return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126 or unicodedata.category(c).startswith("P")


def is_cjk(cp):
    return any(lo <= cp <= hi for lo, hi in [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)])


def basic_tokenize(text, lower=True):
    text = "".join(" " if is_whitespace(c) else c for c in text if not (ord(c) == 0 or ord(c) == 0xFFFD or is_control(c)))
    text = "".join(f" {c} " if is_cjk(ord(c)) else c for c in text)
    out = []
    for token in text.split():
        if lower:
            token = token.lower()
            token = "".join(c for c in unicodedata.normalize("NFD", token) if unicodedata.category(c) != "Mn")
        word = ""
        for c in token:
            if is_punctuation(c):
                out += [word, c] if word else [c]
                word = ""
            else:
                word += c
        if word:
            out.append(word)
    return out


def wordpiece(word, vocab, max_chars=100):
    chars = list(word)
    if len(chars) > max_chars:
        return ["[UNK]"]
    start, pieces = 0, []
    while start < len(chars):
        end, cur = len(chars), None
        while start < end:
            sub = ("##" if start > 0 else "") + "".join(chars[start:end])
            if sub in vocab:
                cur = sub
                break
            end -= 1
        if cur is None:
            return ["[UNK]"]
        pieces.append(cur)
        start = end
    return pieces


def make_bert():
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "want", "##want", "##ed", "wa", "un", "runn", "##ing", ",", ".", "!",
              "the", "hello", "world", "##s", "cafe", "resume", "na", "##ive", "中", "国", "a", "##b", "##c", "ab", "'", "s", "t", "don",
              "?", "$", "1", "##2", "12", "##3", "e", "x", "##x", "é", "[unused0]"]
    vocab = {t: i for i, t in enumerate(tokens)}
    texts = [
        "UNwant\u00e9d,running",
        "Hello, World! The worlds.",
        "Café RÉSUMÉ naïve",
        "中国 the中国the",
        "abc abcb ab abx",
        "don't wa's",
        "$12 123 1232?",
        "\tHello\n\nworld\r\n",
        "zzz unknown",
        "e\u0301 x" + "x" * 120,
    ]
    cases = []
    for t in texts:
        pieces = [p for w in basic_tokenize(t) for p in wordpiece(w, vocab)]
        cases.append({"text": t, "ids": [vocab["[CLS]"]] + [vocab[p] for p in pieces] + [vocab["[SEP]"]], "tokens": pieces})
    return tokens, vocab, cases


def write(path, text):
    with open(os.path.join(HERE, path), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main():
    vocab, merges, gpt2_cases = make_gpt2()
    os.makedirs(os.path.join(HERE, "tokenizer_gpt2"), exist_ok=True)
    write("tokenizer_gpt2/vocab.json", json.dumps(vocab, ensure_ascii=False))
    write("tokenizer_gpt2/merges.txt", "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    byte_level = lambda prefix, trim: {"type": "ByteLevel", "add_prefix_space": prefix, "trim_offsets": trim, "use_regex": True}  # noqa: E731
    eot = len(vocab) - 1
    # Laid out as GPT-2's tokenizer.json on the Hugging Face hub (tokenizers 0.13: "a b" merge strings).
    hf = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": eot, "content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": True, "special": True}],
        "normalizer": None, "pre_tokenizer": byte_level(False, True), "post_processor": byte_level(True, False), "decoder": byte_level(True, True),
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "", "fuse_unk": False,
                  "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }
    write("tokenizer_gpt2/tokenizer.json", json.dumps(hf, ensure_ascii=False, indent=2))

    tokens, bvocab, bert_cases = make_bert()
    os.makedirs(os.path.join(HERE, "tokenizer_bert"), exist_ok=True)
    unique = list(bvocab.keys())
    write("tokenizer_bert/vocab.txt", "".join(t + "\n" for t in unique))
    special = lambda t: {"id": bvocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}  # noqa: E731
    # Laid out as bert-base-uncased's tokenizer.json (TemplateProcessing post-processor).
    tmpl = lambda *xs: [{"SpecialToken": {"id": x[0], "type_id": x[1]}} if x[0].startswith("[") else {"Sequence": {"id": x[0], "type_id": x[1]}} for x in xs]  # noqa: E731
    hf = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [special(t) for t in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing", "single": tmpl(("[CLS]", 0), ("A", 0), ("[SEP]", 0)),
                           "pair": tmpl(("[CLS]", 0), ("A", 0), ("[SEP]", 0), ("B", 1), ("[SEP]", 1)),
                           "special_tokens": {t: {"id": t, "ids": [bvocab[t]], "tokens": [t]} for t in ["[CLS]", "[SEP]"]}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": bvocab},
    }
    write("tokenizer_bert/tokenizer.json", json.dumps(hf, ensure_ascii=False, indent=2))
    # One case per line; \u escapes keep invisible characters visible.
    lines = lambda cs: ",\n".join("    " + json.dumps(c) for c in cs)  # noqa: E731
    write("tokenizer_cases.json", '{\n  "gpt2": [\n' + lines(gpt2_cases) + '\n  ],\n  "bert": [\n' + lines(bert_cases) + "\n  ]\n}\n")
    print(f"gpt2: {len(vocab)} tokens, {len(merges)} merges, {len(gpt2_cases)} cases; bert: {len(bvocab)} tokens, {len(bert_cases)} cases")


if __name__ == "__main__":
    main()
