#!/usr/bin/env python3
"""Scores for the offline demo study: each tiny fixture model's language-model
loss on held-out text, measured with HF transformers (an independent tool).

The tiny-llama fixtures have random weights, so these numbers measure nothing
learned; they are real measurements of a real quantity (mean next-token
cross-entropy, nats, and its exp, perplexity) that the demo fit can predict,
so the pipeline's plumbing is exercised end to end on honest data.

Held-out text: data/corpus/demo.txt (the demo study probes demo.jsonl).
Output: data/demo/scores.csv (model, loss, perplexity, tokens), deterministic.

Usage: python3 scripts/demo_scores.py   (needs scripts/requirements-models.txt)
"""
import csv
import math
import pathlib

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODELS = ROOT / "data" / "tiny-llama"
TEXT = ROOT / "data" / "corpus" / "demo.txt"
OUT = ROOT / "data" / "demo" / "scores.csv"


def documents():
    docs, cur = [], []
    for line in TEXT.read_text().splitlines():
        if line.strip():
            cur.append(line)
        elif cur:
            docs.append("\n".join(cur))
            cur = []
    if cur:
        docs.append("\n".join(cur))
    return docs


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    rows = []
    for d in sorted(p for p in MODELS.iterdir() if (p / "config.json").is_file()):
        tok = AutoTokenizer.from_pretrained(d)
        model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for doc in documents():
                ids = tok(doc, return_tensors="pt").input_ids[:, :256]
                logits = model(ids).logits[0, :-1]
                nll = torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="sum")
                total += float(nll)
                count += ids.shape[1] - 1
        loss = total / count
        rows.append({"model": d.name, "loss": f"{loss:.6f}", "perplexity": f"{math.exp(loss):.4f}", "tokens": count})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["model", "loss", "perplexity", "tokens"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(OUT.read_text())


if __name__ == "__main__":
    main()
