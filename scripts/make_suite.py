#!/usr/bin/env python3
"""Build lossy's tiny *trained* model suite and score it with lm-evaluation-harness.

    python scripts/make_suite.py            # (re)build data/suite: corpus, tokenizer, models, tasks, lm-eval results
    python scripts/make_suite.py --check    # rebuild into a temp dir and compare with the committed files
    python scripts/make_suite.py --verify   # quick: committed files against SUITE.json's sha256s and metrics

Three Llama-architecture causal LMs (sizes s, m, l) are trained with HF
transformers on CPU on text from the seeded synthetic grammar of
scripts/make_fixture_models.py (agreement across relative clauses and
prepositional attractors, long-range recall of a fact stated at the start of a
document). Each size is saved at log-spaced training steps, from the random
initialisation to the end of training, in Hugging Face layout (config.json,
model.safetensors in float16, tokenizer.json), so lossy reads them exactly as
it reads hub checkpoints.

Every checkpoint is then evaluated by lm-evaluation-harness itself (PyPI
`lm-eval`), on three custom multiple-choice tasks written here as YAML over
local JSONL in the same language (agreement minimal pairs across a relative
clause, agreement minimal pairs with an attractor, and a long-range cloze). The
result files are saved as lm-eval writes them, under data/suite/lm-eval/.

Determinism: torch runs on one CPU thread with fixed seeds, so a rerun on the
same kind of CPU with the versions in scripts/requirements-suite.txt
reproduces every weight byte for byte; `--check` reports the largest weight
difference where bytes differ (other instruction sets can change last bits)
and compares every lm-eval metric. SUITE.json records seeds, versions, the
training curve and each file's sha256.
"""

from __future__ import annotations

import os

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import argparse
import hashlib
import json
import math
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixture_models as grammar  # noqa: E402  (the seeded English-like grammar)

REPO_ROOT = Path(__file__).resolve().parent.parent
SUITE = Path("data") / "suite"          # relative to the repo root: lm-eval records this path

CORPUS_SEED = 7
N_TRAIN_DOCS = 6000
TASK_SEED = 11
N_TASK_ITEMS = 300
VOCAB_SIZE = 1024
EOS = "<|endoftext|>"
SEQ_LEN = 128
BATCH = 16
STEPS = 2048
WARMUP = 32
LR = 2e-3
MIN_LR_RATIO = 0.1
WEIGHT_DECAY = 0.1
DATA_SEED = 3
CHECKPOINTS = [0, 8, 32, 64, 128, 256, 512, 1024, 2048]
EVAL_BATCH = 64

SIZES = [
    dict(name="s", seed=101, hidden=32, layers=2, heads=4, kv_heads=2, intermediate=96),
    dict(name="m", seed=102, hidden=64, layers=3, heads=4, kv_heads=2, intermediate=192),
    dict(name="l", seed=103, hidden=128, layers=4, heads=8, kv_heads=4, intermediate=256),
]

PINNED_FILE = REPO_ROOT / "scripts" / "requirements-suite.txt"


# ----------------------------------------------------------------------------------------------
# Text: training corpus and evaluation items, all from the grammar
# ----------------------------------------------------------------------------------------------

def train_documents() -> list[str]:
    rng = random.Random(CORPUS_SEED)
    docs: list[str] = []
    while len(docs) < N_TRAIN_DOCS:
        try:
            docs.append(grammar.make_document(rng))
        except AssertionError:   # the grammar rejects documents outside 60-200 words
            continue
    return docs


def agreement_relative(rng: random.Random) -> dict:
    """Subject relative clause: the verb agrees with the head, across the clause."""
    doc = grammar.Doc(rng)
    tense = rng.choice(["past", "present"])
    head, num = doc.anim_np()
    obj, _ = doc.obj_np()
    rel = f"that {doc.verb(grammar.TRANSITIVE_OBJ, num, tense)} {obj}"
    adj = rng.choice(grammar.ANIM_PRED_ADJECTIVES)
    other = "pl" if num == "sg" else "sg"
    good = grammar.capitalise(f"{head} {rel} {doc.be(num, tense)} {adj}.")
    bad = grammar.capitalise(f"{head} {rel} {doc.be(other, tense)} {adj}.")
    return {"sentence_good": good, "sentence_bad": bad}


def agreement_attractor(rng: random.Random) -> dict:
    """The N near the N(other number) is/are: agreement with the head, not the nearer noun."""
    doc = grammar.Doc(rng)
    tense = rng.choice(["past", "present"])
    head, num = doc.obj_np()
    other = "pl" if num == "sg" else "sg"
    noun = rng.choice(grammar.ANIMATE)
    noun = grammar.plural(noun) if other == "pl" else noun
    prep = rng.choice(["of", "near", "beside", "behind"])
    adj = rng.choice(grammar.PRED_ADJECTIVES)
    good = grammar.capitalise(f"{head} {prep} the {noun} {doc.be(num, tense)} {adj}.")
    bad = grammar.capitalise(f"{head} {prep} the {noun} {doc.be(other, tense)} {adj}.")
    return {"sentence_good": good, "sentence_bad": bad}


def recall_cloze(rng: random.Random) -> dict:
    """A fact, a few unrelated sentences, then recall: which object was it?"""
    doc = grammar.Doc(rng)
    tense = "past"
    first = doc.s_fact()
    name, adj, obj, place = doc.facts[-1]
    filler = [rng.choice([doc.s_simple, doc.s_reported, doc.s_coordination, doc.s_when])(tense)
              for _ in range(rng.randint(2, 4))]
    context = " ".join(grammar.capitalise(s) for s in [first, *filler])
    context += f" When {name} returned to the {place}, the {adj}"
    distractors = rng.sample([o for o in grammar.OBJECTS if o != obj], 3)
    choices = [obj, *distractors]
    rng.shuffle(choices)
    return {"context": context, "choices": choices, "label": choices.index(obj)}


MINIMAL_PAIRS_YAML = """\
task: {task}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {{path}}
test_split: test
output_type: multiple_choice
doc_to_text: ""
doc_to_target: 0
doc_to_choice: "{{{{{{{{[sentence_good, sentence_bad]}}}}}}}}"
target_delimiter: ""
num_fewshot: 0
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""

TASKS = {
    "suite_agreement_relative": (agreement_relative, MINIMAL_PAIRS_YAML.format(task="suite_agreement_relative")),
    "suite_agreement_attractor": (agreement_attractor, MINIMAL_PAIRS_YAML.format(task="suite_agreement_attractor")),
    "suite_recall": (recall_cloze, """\
task: suite_recall
dataset_path: json
dataset_kwargs:
  data_files:
    test: {path}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{context}}}}"
doc_to_target: label
doc_to_choice: choices
target_delimiter: " "
num_fewshot: 0
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
  - metric: acc_norm
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""),
}

GROUP_YAML = """\
group: suite
task:
  - suite_agreement_relative
  - suite_agreement_attractor
  - suite_recall
aggregate_metric_list:
  - metric: acc
    aggregation: mean
    weight_by_size: false
metadata:
  version: 1.0
"""


def write_tasks(out: Path) -> None:
    tasks = out / "tasks"
    tasks.mkdir(parents=True, exist_ok=True)
    rng = random.Random(TASK_SEED)
    for name, (make, yaml) in TASKS.items():
        items = [make(rng) for _ in range(N_TASK_ITEMS)]
        jsonl = tasks / f"{name}.jsonl"
        with open(jsonl, "w", encoding="utf-8", newline="\n") as f:
            for item in items:
                f.write(json.dumps(item, ensure_ascii=False) + "\n")
        (tasks / f"{name}.yaml").write_text(yaml.format(path=(SUITE / "tasks" / jsonl.name).as_posix()))
    (tasks / "suite.yaml").write_text(GROUP_YAML)


# ----------------------------------------------------------------------------------------------
# Tokenizer and training
# ----------------------------------------------------------------------------------------------

def train_tokenizer(texts: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, min_frequency=2, special_tokens=[EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def token_stream(tok, texts: list[str]) -> np.ndarray:
    eos = tok.token_to_id(EOS)
    ids: list[int] = []
    for enc in tok.encode_batch(texts):
        ids.append(eos)
        ids.extend(enc.ids)
    return np.asarray(ids, dtype=np.int64)


def lr_at(step: int) -> float:
    if step < WARMUP:
        return LR * (step + 1) / WARMUP
    progress = (step - WARMUP) / max(1, STEPS - WARMUP)
    return LR * (MIN_LR_RATIO + (1 - MIN_LR_RATIO) * 0.5 * (1 + math.cos(math.pi * progress)))


def llama_config(size: dict, tok):
    from transformers import LlamaConfig

    eos = tok.token_to_id(EOS)
    return LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=size["hidden"],
                       intermediate_size=size["intermediate"], num_hidden_layers=size["layers"],
                       num_attention_heads=size["heads"], num_key_value_heads=size["kv_heads"],
                       max_position_embeddings=256, rms_norm_eps=1e-5, tie_word_embeddings=True,
                       bos_token_id=eos, eos_token_id=eos, pad_token_id=eos)


def save_checkpoint(model, tok, folder: Path) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").half().contiguous() for k, v in model.state_dict().items()
             if k != "lm_head.weight"}   # tied: the hub convention stores only the embeddings
    save_file(state, folder / "model.safetensors", metadata={"format": "pt"})
    cfg = model.config.to_dict()
    cfg["dtype"] = "float16"
    cfg.pop("transformers_version", None)
    (folder / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 256,
        "bos_token": EOS, "eos_token": EOS, "pad_token": EOS, "unk_token": None,
        "clean_up_tokenization_spaces": False}, indent=2) + "\n")


def train_size(size: dict, tok, stream: np.ndarray, out: Path, log) -> list[dict]:
    import torch
    from transformers import LlamaForCausalLM

    torch.set_num_threads(1)
    torch.manual_seed(size["seed"])
    model = LlamaForCausalLM(llama_config(size, tok)).float()
    model.train()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                             {"params": no_decay, "weight_decay": 0.0}], lr=LR, betas=(0.9, 0.95))
    n_windows = (len(stream) - 1) // SEQ_LEN
    order = np.random.default_rng(DATA_SEED)
    curve = []
    start = time.time()
    running = []
    for step in range(STEPS + 1):
        if step in CHECKPOINTS:
            save_checkpoint(model, tok, out / size["name"] / f"step{step}")
        if step == STEPS:
            break
        idx = order.integers(0, n_windows, size=BATCH)
        batch = torch.from_numpy(np.stack([stream[i * SEQ_LEN:(i + 1) * SEQ_LEN + 1] for i in idx]))
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        logits = model(batch[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running.append(loss.item())
        if (step + 1) % 64 == 0:
            curve.append({"step": step + 1, "train_loss": round(float(np.mean(running)), 5)})
            running = []
            log(f"  {size['name']} step {step + 1}/{STEPS}: loss {curve[-1]['train_loss']:.3f} ({time.time() - start:.0f} s)")
    return curve


# ----------------------------------------------------------------------------------------------
# lm-evaluation-harness
# ----------------------------------------------------------------------------------------------

def evaluate(root: Path, folders: list[Path], log) -> None:
    """Runs lm-eval on every checkpoint as its CLI does, writing its result files.

    lm-eval records `pretrained=` as given: the path relative to the repo root
    (data/suite/<size>/step<N>), which is how lossy joins the rows to models.
    """
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks import TaskManager

    cwd = os.getcwd()
    os.chdir(root)   # so that the recorded paths and the task data paths are relative
    try:
        manager = TaskManager(include_path=str(SUITE / "tasks"))
        for folder in folders:
            rel = folder.relative_to(root).as_posix()
            tracker = EvaluationTracker(output_path=str(SUITE / "lm-eval"))
            results = simple_evaluate(model="hf", model_args=f"pretrained={rel},dtype=float32", tasks=["suite"],
                                      batch_size=EVAL_BATCH, device="cpu", task_manager=manager,
                                      evaluation_tracker=tracker, log_samples=False, random_seed=0, numpy_random_seed=0,
                                      torch_random_seed=0, fewshot_random_seed=0)
            tracker.save_results_aggregated(results=results, samples=None)
            log(f"  lm-eval {rel}: " + ", ".join(f"{t} {r['acc,none']:.3f}" for t, r in results["results"].items()))
    finally:
        os.chdir(cwd)


# ----------------------------------------------------------------------------------------------
# Manifest, README, check
# ----------------------------------------------------------------------------------------------

def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def versions() -> dict:
    import importlib.metadata as md

    return {p: md.version(p) for p in ["torch", "transformers", "tokenizers", "safetensors", "numpy", "lm_eval"]}


def lm_eval_metrics(suite: Path) -> dict:
    """{relative model path: {task.metric: value}} from the lm-eval result files."""
    out = {}
    for f in sorted((suite / "lm-eval").rglob("results_*.json")):
        r = json.loads(f.read_text())
        model = r["config"]["model_args"].split(",")[0].split("=", 1)[1]
        out[model] = {f"{t}.{k.split(',')[0]}": v for t, m in r["results"].items() for k, v in m.items()
                      if isinstance(v, float) and "stderr" not in k}
    return out


def build(root: Path, log, evaluate_models: bool = True) -> dict:
    suite = root / SUITE
    if suite.exists():
        shutil.rmtree(suite)
    suite.mkdir(parents=True)
    docs = train_documents()
    tok = train_tokenizer(docs)
    stream = token_stream(tok, docs)
    log(f"corpus: {len(docs)} documents, {len(stream):,} tokens, vocab {tok.get_vocab_size()}")
    write_tasks(suite)
    curves = {}
    for size in SIZES:
        curves[size["name"]] = train_size(size, tok, stream, suite, log)
    folders = [suite / s["name"] / f"step{c}" for s in SIZES for c in CHECKPOINTS]
    if evaluate_models:
        evaluate(root, folders, log)
    files = sorted(p for p in suite.rglob("*") if p.is_file() and p.name != "SUITE.json" and "lm-eval" not in p.parts)
    manifest = {
        "script": "scripts/make_suite.py",
        "versions": versions(),
        "python": platform.python_version(),
        "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor()),
        "seeds": {"corpus": CORPUS_SEED, "tasks": TASK_SEED, "data_order": DATA_SEED,
                  "init": {s["name"]: s["seed"] for s in SIZES}, "lm_eval": 0},
        "training": {"documents": N_TRAIN_DOCS, "tokens": int(len(stream)), "vocab": tok.get_vocab_size(),
                     "seq_len": SEQ_LEN, "batch": BATCH, "steps": STEPS, "warmup": WARMUP, "lr": LR,
                     "min_lr_ratio": MIN_LR_RATIO, "weight_decay": WEIGHT_DECAY, "optimizer": "AdamW(0.9, 0.95)",
                     "grad_clip": 1.0, "threads": 1, "checkpoints": CHECKPOINTS},
        "sizes": [{**s, "params": params(s, tok)} for s in SIZES],
        "train_loss": curves,
        "lm_eval": lm_eval_metrics(suite) if evaluate_models else {},
        "sha256": {p.relative_to(suite).as_posix(): sha256(p) for p in files},
    }
    (suite / "SUITE.json").write_text(json.dumps(manifest, indent=1) + "\n")
    (suite / "README.md").write_text(readme(manifest))
    return manifest


def params(size: dict, tok) -> int:
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM(llama_config(size, tok))
    return sum(p.numel() for n, p in model.named_parameters() if n != "lm_head.weight")


def readme(m: dict) -> str:
    rows = "\n".join(f"| {s['name']} | {s['params']:,} | {s['layers']} | {s['hidden']} | {s['heads']} / {s['kv_heads']} | "
                     f"{s['intermediate']} | {m['train_loss'][s['name']][-1]['train_loss']:.3f} |" for s in m["sizes"])
    t = m["training"]
    return f"""\
# A tiny trained model suite (lossy's offline demo)

Three Llama-architecture causal LMs trained on CPU by `scripts/make_suite.py` on text from a
seeded synthetic English-like grammar, each saved at steps {", ".join(map(str, t["checkpoints"]))}
(step 0 is the random initialisation), and scored by lm-evaluation-harness. Made by this project
(same licence as the project); nothing here was downloaded.

| size | parameters | layers | hidden | heads / KV heads | FFN | final train loss |
|---|---|---|---|---|---|---|
{rows}

- **Layout**: `<size>/step<N>/` holds `config.json`, `model.safetensors` (float16, tied
  embeddings), `tokenizer.json` (byte-level BPE, {t["vocab"]} tokens, `<|endoftext|>` separates
  documents and is the only special token; nothing is added when encoding) and
  `tokenizer_config.json`.
- **Training**: {t["documents"]:,} documents ({t["tokens"]:,} tokens) from the grammar of
  `scripts/make_fixture_models.py` with seed {m["seeds"]["corpus"]} (the probing corpus
  `data/corpus/demo.jsonl` uses another seed, so it is held out); packed windows of
  {t["seq_len"]} tokens, batch {t["batch"]}, {t["steps"]} steps of AdamW (β = 0.9, 0.95, weight
  decay {t["weight_decay"]}), learning rate {t["lr"]} with {t["warmup"]} warm-up steps and cosine
  decay to {t["min_lr_ratio"]} of it, gradient clipping 1.0; one CPU thread. The loss curves are
  in `SUITE.json`.
- **Tasks** (`tasks/`, lm-eval YAML over local JSONL, {N_TASK_ITEMS} items each, seed
  {m["seeds"]["tasks"]}): `suite_agreement_relative` (minimal pairs: "The farmers that found the
  key are/is tired."), `suite_agreement_attractor` (minimal pairs: "The key near the farmers
  is/are broken."), `suite_recall` (a fact, 2–4 unrelated sentences, then "When Mara returned to
  the cellar, the rusty ___": the object, among four). The group `suite` averages their `acc`.
- **Scores**: `lm-eval/` holds the result files exactly as lm-eval {m["versions"]["lm_eval"]}
  wrote them, one per checkpoint; `pretrained=` in each names the checkpoint folder relative to
  the repository root, which is how lossy joins them to the study's models.
- **Reproduce**: `python3 scripts/make_suite.py` (about 20 minutes on 2 cores) with the versions
  in `scripts/requirements-suite.txt`; `--check` rebuilds into a temporary folder and compares
  every file's sha256 (and, where bytes differ, the largest weight difference) and every lm-eval
  metric with what is committed. `SUITE.json` records seeds, versions, the CPU, the loss curves,
  the lm-eval metrics and every file's sha256.
"""


def reevaluate(log) -> int:
    """Runs lm-eval again on the committed checkpoints and updates SUITE.json."""
    suite = REPO_ROOT / SUITE
    manifest = json.loads((suite / "SUITE.json").read_text())
    shutil.rmtree(suite / "lm-eval", ignore_errors=True)
    evaluate(REPO_ROOT, [suite / s["name"] / f"step{c}" for s in SIZES for c in CHECKPOINTS], log)
    manifest["lm_eval"] = lm_eval_metrics(suite)
    manifest["versions"] = versions()
    (suite / "SUITE.json").write_text(json.dumps(manifest, indent=1) + "\n")
    (suite / "README.md").write_text(readme(manifest))
    return 0


def check(log) -> int:
    committed = json.loads((REPO_ROOT / SUITE / "SUITE.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(REPO_ROOT / "scripts", root / "scripts")
        fresh = build(root, log)
        bad = 0
        for name, digest in committed["sha256"].items():
            got = fresh["sha256"].get(name)
            if got != digest:
                bad += 1
                log(f"DIFFERS: {name}" + weight_diff(REPO_ROOT / SUITE / name, root / SUITE / name))
        for model, metrics in committed["lm_eval"].items():
            for k, v in metrics.items():
                got = fresh["lm_eval"].get(model, {}).get(k)
                if got is None or abs(got - v) > 1e-9:
                    bad += 1
                    log(f"DIFFERS: lm-eval {model} {k}: committed {v}, rebuilt {got}")
    log("suite reproduced exactly" if bad == 0 else f"{bad} differences")
    return 1 if bad else 0


def verify(log) -> int:
    """The committed files are the ones SUITE.json lists, and the lm-eval
    result files hold the metrics it records (no torch needed)."""
    suite = REPO_ROOT / SUITE
    manifest = json.loads((suite / "SUITE.json").read_text())
    bad = [name for name, digest in manifest["sha256"].items()
           if not (suite / name).is_file() or sha256(suite / name) != digest]
    listed = set(manifest["sha256"])
    extra = [p.relative_to(suite).as_posix() for p in suite.rglob("*") if p.is_file()
             and p.name not in ("SUITE.json", "README.md") and "lm-eval" not in p.parts
             and p.relative_to(suite).as_posix() not in listed]
    metrics = lm_eval_metrics(suite)
    if metrics != manifest["lm_eval"]:
        bad.append("lm-eval metrics differ from SUITE.json")
    for b in bad + [f"not in SUITE.json: {e}" for e in extra]:
        log(f"BAD: {b}")
    log(f"{len(listed)} files and {len(metrics)} lm-eval result files verified" if not (bad or extra) else "suite does not verify")
    return 1 if bad or extra else 0


def weight_diff(a: Path, b: Path) -> str:
    if a.suffix != ".safetensors" or not b.exists():
        return ""
    from safetensors.numpy import load_file

    x, y = load_file(a), load_file(b)
    diff = max(float(np.max(np.abs(x[k].astype(np.float32) - y[k].astype(np.float32)))) for k in x)
    return f" (largest weight difference {diff:.3g})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="rebuild into a temp dir and compare with data/suite")
    ap.add_argument("--verify", action="store_true", help="check the committed files against SUITE.json")
    ap.add_argument("--eval-only", action="store_true", help="rerun lm-eval on the committed checkpoints only")
    ap.add_argument("--no-eval", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    log = lambda msg: print(msg, file=sys.stderr, flush=True)
    if args.check:
        return check(log)
    if args.verify:
        return verify(log)
    if args.eval_only:
        return reevaluate(log)
    build(REPO_ROOT, log, evaluate_models=not args.no_eval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
