#!/usr/bin/env python3
"""Reference LM losses for lossy's loss baseline (src/features/lm_loss.rs),
computed by HF transformers: tests/fixtures/loss/loss.json, checked by
tests/integration/lm_loss.rs (mean NLL to 1e-4 relative; token ids, scored
tokens and covered bytes exactly).

Models: the tiny Llama fixtures (data/tiny-llama/tiny-a … tiny-f), four
architecture fixtures whose LM head differs (tests/fixtures/arch: gemma2 with
a final logit soft-cap, gpt2 with learned positions, gpt_neox and
qwen2-untied with an untied head), and SmolLM2-135M-Instruct Q4_1 (GGUF,
dequantized to f32 by transformers' GGUF loader; scripts/fetch_gguf_models.sh).

What is scored, as lossy defines it: the first DOCS documents of
data/corpus/demo.jsonl, each tokenized with the model's tokenizer
(special tokens added, as HF does by default) and truncated to MAX_TOKENS
tokens; every position i with a next token (0 <= i <= L-2) predicts t_{i+1}.
`nll` is the summed -ln p(t_{i+1} | t_<=i) over those tokens (f64 sum of
float32 log-softmax values), `tokens` their count, and `bytes` the UTF-8
bytes of the text they cover: per document, from the end of token 0 to the
end of the last kept token, by the tokenizer's offsets (running maximum).

    python3 scripts/loss_fixtures.py            # (re)write the fixture
    python3 scripts/loss_fixtures.py --check    # recompute, compare (1e-6 relative on nll;
                                                # ids, tokens and bytes exactly), exit 1 on difference

Needs scripts/requirements-models.txt (torch, transformers) and `gguf` for the
GGUF model; without the GGUF file the SmolLM2 case is skipped in --check with
a note (and kept from the committed fixture).
"""

from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import argparse
import json
import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "loss" / "loss.json"
CORPUS = ROOT / "data" / "corpus" / "demo.jsonl"
DOCS = 6
MAX_TOKENS = 64
LOCAL = [f"data/tiny-llama/tiny-{c}" for c in "abcdef"] + [
    f"tests/fixtures/arch/{a}" for a in ["gemma2", "gpt2", "gpt_neox", "qwen2-untied"]
]
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def gguf_dir() -> Path:
    return Path(os.environ.get("LOSSY_MODEL_CACHE") or ROOT / ".cache" / "models")


def documents() -> list[str]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [json.loads(l)["text"] for l in lines[:DOCS]]


def byte_ends(text: str, offsets) -> list[int]:
    """Byte end of each token (running maximum of the char offsets, in bytes)."""
    end, out = 0, []
    for _, e in offsets:
        end = max(end, len(text[:e].encode("utf-8")))
        out.append(end)
    return out


def score(model, tok, docs: list[str]) -> dict:
    total, tokens, nbytes, ids_out = 0.0, 0, 0, []
    for text in docs:
        enc = tok(text, add_special_tokens=True, return_offsets_mapping=True)
        ids = enc["input_ids"][:MAX_TOKENS]
        ends = byte_ends(text, enc["offset_mapping"])[:MAX_TOKENS]
        ids_out.append(ids)
        if len(ids) < 2:
            continue
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].float()
        lp = torch.log_softmax(logits, dim=-1)
        targets = torch.tensor(ids[1:])
        nll = -lp[:-1].gather(1, targets[:, None])[:, 0]
        total += float(nll.double().sum())
        tokens += len(ids) - 1
        nbytes += ends[-1] - ends[0]
    return {"nll": total, "tokens": tokens, "bytes": nbytes,
            "loss": total / tokens, "ids": ids_out}


def compute(with_gguf: bool) -> dict:
    torch.manual_seed(0)
    docs = documents()
    cases = {}
    for rel in LOCAL:
        d = ROOT / rel
        model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
        tok = AutoTokenizer.from_pretrained(d)
        cases[rel] = score(model, tok, docs)
    if with_gguf:
        d = gguf_dir()
        model = AutoModelForCausalLM.from_pretrained(d, gguf_file=GGUF, dtype=torch.float32).eval()
        tok = AutoTokenizer.from_pretrained(d, gguf_file=GGUF)
        cases["gguf:" + GGUF] = score(model, tok, docs)
    import transformers
    return {
        "corpus": str(CORPUS.relative_to(ROOT)),
        "documents": DOCS,
        "max_tokens": MAX_TOKENS,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "cases": cases,
    }


def compare(fresh: dict, committed: dict) -> list[str]:
    problems = []
    for name, want in committed["cases"].items():
        got = fresh["cases"].get(name)
        if got is None:
            print(f"note: {name} not recomputed (file absent)")
            continue
        for k in ["ids", "tokens", "bytes"]:
            if got[k] != want[k]:
                problems.append(f"{name}: {k} differs")
        rel = abs(got["nll"] - want["nll"]) / abs(want["nll"])
        if rel > 1e-6:
            problems.append(f"{name}: nll {got['nll']} vs committed {want['nll']} ({rel:.1e} relative)")
    for name in fresh["cases"]:
        if name not in committed["cases"]:
            problems.append(f"{name}: missing from the committed fixture")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    with_gguf = (gguf_dir() / GGUF).is_file()
    if not with_gguf and not args.check:
        raise SystemExit(f"{gguf_dir() / GGUF} is missing: run scripts/fetch_gguf_models.sh")
    fresh = compute(with_gguf)
    if args.check:
        problems = compare(fresh, json.loads(OUT.read_text()))
        for p in problems:
            print("DIFFERENT:", p)
        print("loss fixtures:", "differ" if problems else "match")
        return 1 if problems else 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fresh, indent=1) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
