#!/usr/bin/env python3
"""Reference preference information I(Z; preferred vs rejected) for lossy's
preference probe sets (src/features/preference.rs, src/corpus/preference.rs,
src/corpus/chat.rs): tests/fixtures/preference/, checked by
tests/integration/preference.rs.

The quantity, as the paper defines it (Conklin et al., ICLR 2026, sec. 4; see
/work/shared/notes/method.md): every preference pair gives two sequences,
prompt + chosen and prompt + rejected; the hidden state Z of each completion
token at layer l is one estimator row, labelled 1 (preferred) or 0
(rejected); preference information at layer l is soft-entropy's mutual
information between Z and that binary label. The model value is the mean
over transformer layers 1..L (the embedding layer 0 excluded).

Everything here is computed by independent tools:
- token ids by HF tokenizers via transformers: the prompt with the
  tokenizer's special tokens, the completion without, joined (TRL's DPO
  convention); for chat message lists, the text from transformers'
  `apply_chat_template` (jinja2), the prompt being the conversation up to the
  last turn with the generation prompt and the completion the rest of the full
  rendering, both tokenized without special tokens;
- hidden states by transformers (float32, one sequence at a time,
  `output_hidden_states`);
- the MI by the PyPI `soft-entropy` package (numpy backend, loaded as in
  scripts/estimator_fixtures.py) with its own reference points W (seed 0,
  saved as w_d{d}.npy) and its calibrated temperature `find_eps(m, d)`.

Cases: the trained suite's agreement preference set
(data/suite/probes/preference.jsonl, the first PAIRS rows, plain strings) on
two suite models, and the same rows as Tulu-style message lists
(chat.jsonl, written here) rendered with a ChatML template
(chat_template.jinja) on the smallest one. The reference accumulates in f32
and transformers and lossy compute hidden states in a different order, so the
Rust test compares MI to 1e-5 absolute and token ids exactly.

    python3 scripts/preference_fixtures.py            # (re)write the fixtures
    python3 scripts/preference_fixtures.py --check    # regenerate in a temp dir,
                                                      # compare byte for byte, exit 1 on difference
"""

from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import estimator_fixtures as ef  # noqa: E402  (loads soft-entropy without torch)

import torch  # noqa: E402  (after soft-entropy's modules, which must load without it)
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT_DEFAULT = ROOT / "tests" / "fixtures" / "preference"
PAIRS_FILE = ROOT / "data" / "suite" / "probes" / "preference.jsonl"
PAIRS = 48
M = 100
MODELS = ["data/suite/s/step1024", "data/suite/m/step1024"]
CHAT_MODEL = "data/suite/s/step1024"
# SmolLM2-Instruct's ChatML layout (a default system turn, `<|im_start|>role`).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
    "{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def rows() -> list[dict]:
    lines = PAIRS_FILE.read_text(encoding="utf-8").splitlines()
    return [json.loads(l) for l in lines[:PAIRS]]


def chat_rows() -> list[dict]:
    """The same pairs in the Tulu 3 layout: chosen/rejected are whole conversations."""
    out = []
    for r in rows():
        user = {"role": "user", "content": r["prompt"]}
        out.append({
            "prompt": r["prompt"],
            "chosen": [user, {"role": "assistant", "content": r["chosen"]}],
            "rejected": [user, {"role": "assistant", "content": r["rejected"]}],
        })
    return out


def plain_sequences(tok, pairs):
    """(ids, completion start) per sequence: chosen of pair i at 2i, rejected at 2i+1."""
    out = []
    for p in pairs:
        for c in (p["chosen"], p["rejected"]):
            prompt = tok(p["prompt"], add_special_tokens=True)["input_ids"]
            comp = tok(c, add_special_tokens=False)["input_ids"]
            out.append((prompt + comp, len(prompt)))
    return out


def common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def chat_sequences(tok, pairs):
    out = []
    for p in pairs:
        for conv in (p["chosen"], p["rejected"]):
            prompt = tok.apply_chat_template(conv[:-1], tokenize=False, add_generation_prompt=True)
            full = tok.apply_chat_template(conv, tokenize=False, add_generation_prompt=False)
            cut = common_prefix(prompt, full)
            ids = tok(full[:cut], add_special_tokens=False)["input_ids"]
            start = len(ids)
            ids = ids + tok(full[cut:], add_special_tokens=False)["input_ids"]
            out.append((ids, start))
    return out


def hidden_rows(model_dir: Path, seqs):
    """Per layer (0..L), the completion tokens' hidden states, in sequence order."""
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    layers = None
    with torch.no_grad():
        for ids, start in seqs:
            hs = model(torch.tensor([ids]), output_hidden_states=True).hidden_states
            if layers is None:
                layers = [[] for _ in hs]
            for l, h in enumerate(hs):
                layers[l].append(h[0, start:].float().numpy())
    return [np.concatenate(l).astype(np.float32) for l in layers]


def labels_for(seqs) -> np.ndarray:
    """1 at the chosen sequence's completion tokens, 0 at the rejected one's."""
    return np.concatenate([
        np.full(len(ids) - start, 1 if s % 2 == 0 else 0, dtype=np.int64)
        for s, (ids, start) in enumerate(seqs)
    ])


def reference_mi(layers, labels, out: Path, written: set):
    d = layers[0].shape[1]
    w32 = ef.reference_w(d, M, 0)
    name = f"w_d{d}.npy"
    if name not in written:
        np.save(out / name, w32)
        written.add(name)
    eps = float(ef.TC.find_eps(M, d))
    per_layer = []
    for z in layers:
        acc = ef.ref_accumulator(d, M, w32, eps)
        acc.update(z, labels={"preference": labels})
        r = ef.ref_results(acc, ["preference"])
        per_layer.append({"entropy": r["entropy"], "preference": r["mutual_information"]["preference"]})
    prefs = [l["preference"] for l in per_layer[1:]]
    return {
        "d": d, "m": M, "epsilon": eps, "w": name,
        "layers": per_layer,
        "model_preference": float(np.mean(prefs)),
        "rows": int(len(labels)), "chosen_rows": int(labels.sum()),
    }


def case(model: str, seqs, out: Path, written: set) -> dict:
    layers = hidden_rows(ROOT / model, seqs)
    ref = reference_mi(layers, labels_for(seqs), out, written)
    return {
        "model": model,
        "sequences": [ids for ids, _ in seqs],
        "completion_start": [s for _, s in seqs],
        **ref,
    }


def chat_tokenizer(tmp: Path):
    d = tmp / "chat-tokenizer"
    d.mkdir()
    shutil.copy(ROOT / CHAT_MODEL / "tokenizer.json", d / "tokenizer.json")
    cfg = json.loads((ROOT / CHAT_MODEL / "tokenizer_config.json").read_text())
    cfg["chat_template"] = CHAT_TEMPLATE
    (d / "tokenizer_config.json").write_text(json.dumps(cfg))
    return AutoTokenizer.from_pretrained(d)


def generate(out: Path):
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    written: set = set()
    cases = []
    for model in MODELS:
        tok = AutoTokenizer.from_pretrained(ROOT / model)
        cases.append({"kind": "plain", **case(model, plain_sequences(tok, rows()), out, written)})
    with open(out / "chat.jsonl", "w", encoding="utf-8") as f:
        for r in chat_rows():
            f.write(json.dumps(r) + "\n")
    (out / "chat_template.jinja").write_text(CHAT_TEMPLATE)
    with tempfile.TemporaryDirectory() as td:
        tok = chat_tokenizer(Path(td))
        seqs = chat_sequences(tok, chat_rows())
    cases.append({"kind": "chat", **case(CHAT_MODEL, seqs, out, written)})
    import transformers
    doc = {
        "generator": "scripts/preference_fixtures.py",
        "reference": f"soft-entropy {ef.SE_VERSION} (numpy backend); transformers {transformers.__version__}",
        "pairs_file": str(PAIRS_FILE.relative_to(ROOT)),
        "pairs": PAIRS,
        "labels": "1 = chosen, 0 = rejected, at each completion token; prompt tokens excluded",
        "model_value": "mean of per-layer preference over layers 1..L",
        "cases": cases,
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    (out / "case.json").write_text(text + "\n")


def check(committed: Path) -> int:
    # chat.parquet and bad/ in the same folder are scripts/preference_parquet_fixtures.py's
    return ef.check_generated(generate, committed, ignore={"chat.parquet", "bad"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--out", type=Path, default=OUT_DEFAULT)
    a = ap.parse_args()
    if a.check:
        sys.exit(check(a.out))
    generate(a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
