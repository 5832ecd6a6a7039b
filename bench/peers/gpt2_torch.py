"""PyTorch peer of bench/generate.ts: times prefill of PROMPT tokens and greedy decode with a KV
cache at batch 1 and 8 on the plain-torch GPT-2 of gpt2_plain.py, at each intra-op thread count
of THREADS (comma-separated, e.g. "1,2"; the counts alternate run by run, so load on the machine
hits them alike), and prints one JSON line
{"by_threads": {"1": {prefill_ms, decode_b1_tok_s, decode_b8_tok_s}, ...}, "check": [...]}.

Before the decode runs of each batch size, one untimed greedy generation of WARMUP new tokens
per thread count (the warm-up bench/generate.ts gives every engine); the prefill runs come after
the decode runs.

usage: python3 gpt2_torch.py MODEL_DIR PROMPT NEW RUNS THREADS [WARMUP]
"""
import json
import sys
import time

import torch
from gpt2_plain import GPT2, load

model_dir, PROMPT, NEW, RUNS = sys.argv[1], *map(int, sys.argv[2:5])
THREADS = [int(t) for t in sys.argv[5].split(",")]
WARMUP = int(sys.argv[6]) if len(sys.argv) > 6 else 0
cfg, weights = load(model_dir)
model = GPT2(cfg, weights).eval()


def generate(ids, new):
    past = model.empty_past(ids.shape[0])
    out = []
    for i in range(new):
        logits, *past = model(ids, *past)
        ids = logits.argmax(-1, keepdim=True)
        out.append(ids)
    return torch.cat(out, 1)


def median(xs):
    return sorted(xs)[len(xs) // 2]


with torch.inference_mode():
    prompt = torch.randint(0, cfg["vocab_size"], (1, PROMPT))
    out = {t: {} for t in THREADS}
    # The same greedy continuation as bench/generate.ts computes, to check both run the same model.
    check = torch.tensor([[(7 * i) % cfg["vocab_size"] for i in range(16)]])
    checked = generate(check, 4)[0].tolist()
    for B in (1, 8):
        p = torch.randint(0, cfg["vocab_size"], (B, 16))
        for t in THREADS:
            if WARMUP > 0:
                torch.set_num_threads(t)
                generate(p, WARMUP)
        one = {t: [] for t in THREADS}
        many = {t: [] for t in THREADS}
        for _ in range(RUNS):
            for t in THREADS:
                torch.set_num_threads(t)
                start = time.perf_counter()
                generate(p, 1)
                one[t].append(time.perf_counter() - start)
                start = time.perf_counter()
                generate(p, NEW + 1)
                many[t].append(time.perf_counter() - start)
        for t in THREADS:
            out[t][f"decode_b{B}_tok_s"] = B * NEW / (median(many[t]) - median(one[t]))
    # The prefill runs after the decode runs, as bench/generate.ts times every engine's.
    pre = {t: [] for t in THREADS}
    for _ in range(RUNS):
        for t in THREADS:
            torch.set_num_threads(t)
            start = time.perf_counter()
            model(prompt, *model.empty_past(1))
            pre[t].append((time.perf_counter() - start) * 1000)
    for t in THREADS:
        out[t]["prefill_ms"] = median(pre[t])
print(json.dumps({"by_threads": {str(t): f for t, f in out.items()}, "check": checked}))
