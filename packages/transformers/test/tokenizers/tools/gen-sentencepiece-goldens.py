"""Write fixtures/data/golden/sentencepiece/*.json: ids and pieces from the real `sentencepiece`
library (Debian python3-sentencepiece 0.1.97) for lines of real text, so the tests can check
Hearth's own SentencePiece implementation against it without Python.

Run from the repository root with ../shared beside it:
    /usr/bin/python3 packages/transformers/test/tokenizers/tools/gen-sentencepiece-goldens.py
"""
import json
import os
import sentencepiece as spm

SHARED = "../shared/data"
OUT = "fixtures/data/golden/sentencepiece"


def lines():
    inp = open(f"{SHARED}/golden/llamacpp/ggml-vocab-llama-spm.gguf.inp", encoding="utf-8").read()
    texts = inp.split("\n__ggml_vocab_test__\n")
    shakespeare = open(f"{SHARED}/datasets/text/tinyshakespeare.txt", encoding="utf-8").read().split("\n")
    texts += [l for l in shakespeare[:4000] if l.strip()][::10][:300]
    botchan = open(f"{SHARED}/datasets/text/botchan.txt", encoding="utf-8").read().split("\n")
    texts += [l for l in botchan if l.strip()][::20][:150]
    # whitespace and unicode edge cases
    texts += ["  leading", "trailing  ", "a  b\t\tc", "ｆｕｌｌ－ｗｉｄｔｈ　ＡＢＣ", "ﬁ ligature ①②", "é vs e\u0301", "日本語のテキスト。", ""]
    return texts


def main():
    os.makedirs(OUT, exist_ok=True)
    texts = lines()
    for name, path in [
        ("llama2-spm", f"{SHARED}/tokenizers/llama2-spm/tokenizer.model"),
        ("test_model", f"{SHARED}/tokenizers/sentencepiece-test/test_model.model"),
        ("test_ja_model", f"{SHARED}/tokenizers/sentencepiece-test/test_ja_model.model"),
    ]:
        sp = spm.SentencePieceProcessor(model_file=path)
        cases = []
        for t in texts:
            ids = sp.encode(t)
            cases.append({"text": t, "ids": ids, "decoded": sp.decode(ids)})
        with open(f"{OUT}/{name}.json", "w", encoding="utf-8") as f:
            json.dump({"model": path.replace(SHARED, "shared/data"), "sentencepiece": spm.__version__, "cases": cases}, f, ensure_ascii=False)
        print(name, len(cases))


main()
