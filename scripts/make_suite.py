#!/usr/bin/env python3
"""Build lossy's tiny *trained* model suite and score it with lm-evaluation-harness.

    python scripts/make_suite.py            # (re)build data/suite: corpus, tokenizer, models, tasks, lm-eval results
    python scripts/make_suite.py --check    # rebuild into a temp dir and compare with the committed files
    python scripts/make_suite.py --verify   # quick: committed files against SUITE.json's sha256s and metrics
    python scripts/make_suite.py --add-recipes   # train and score only the data-recipe models

Three Llama-architecture causal LMs (sizes s, m, l) are trained with HF
transformers on CPU on text from the seeded synthetic grammar of
scripts/make_fixture_models.py (agreement across relative clauses and
prepositional attractors, long-range recall of a fact stated at the start of a
document). Each size is saved at log-spaced training steps, from the random
initialisation to the end of training, in Hugging Face layout (config.json,
model.safetensors in float16, tokenizer.json), so lossy reads them exactly as
it reads hub checkpoints.

Size m is also trained on three altered data recipes (words shuffled in half of the
documents; the number of is/are, was/were, has/have swapped in half of them; a mixture
without the constructions that separate a subject from its verb), from the same
initialisation and with the same schedule, saved at steps 256, 512 and 1024: models of one
size at one step that differ only in their data. probes/preference.jsonl holds agreement
preference pairs (grammatical completion chosen, the other number rejected).

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
import re
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

# Data recipes: size RECIPE_SIZE trained again from the same initialisation, with the same
# tokenizer, steps and schedule, on altered training data, so that models of one size at one
# step differ only in what they were trained on (what a cross-model claim needs).
RECIPE_SIZE = "m"
RECIPE_SEED = 13
RECIPE_CHECKPOINTS = [256, 512, 1024]   # training stops at the last (the schedule is still STEPS')
RECIPE_FRACTION = 0.5
CLAUSE_TEMPLATES = frozenset({"s_subject_relative", "s_object_relative", "s_attractor_pp", "s_perfect"})
RECIPES = [
    dict(name="shuffled", about="in half of the documents (chosen at random), the words of every "
         "sentence are put in random order"),
    dict(name="agreement-noise", about="in half of the documents (chosen at random), every is/are, "
         "was/were and has/have is replaced by the form of the other number"),
    dict(name="no-clauses", about="documents drawn from the grammar without its four constructions "
         "that put a phrase between a subject and its verb (subject and object relatives, "
         "prepositional attractors, who-clauses); the other sentence types fill the same lengths"),
]

# The preference probe set: a sentence prefix, its grammatical completion (preferred) and the
# completion whose verb disagrees in number with the head noun (rejected).
PREFERENCE_SEED = 17
N_PREFERENCE_PAIRS = 240

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


def recipe_documents(name: str, clean: list[str]) -> list[str]:
    """The training documents of a data recipe, from the clean ones (seeded, deterministic)."""
    rng = random.Random(RECIPE_SEED)
    if name == "no-clauses":
        grng = random.Random(CORPUS_SEED)
        docs: list[str] = []
        while len(docs) < N_TRAIN_DOCS:
            try:
                docs.append(grammar.make_document(grng, exclude=CLAUSE_TEMPLATES))
            except AssertionError:
                continue
        return docs
    alter = {"shuffled": shuffle_words, "agreement-noise": flip_agreement}[name]
    return [alter(d, rng) if rng.random() < RECIPE_FRACTION else d for d in clean]


def sentences(doc: str) -> list[str]:
    return [s for s in re.split(r"(?<=\.) ", doc) if s]


def shuffle_words(doc: str, rng: random.Random) -> str:
    out = []
    for s in sentences(doc):
        words = s[:-1].split(" ")
        words[0] = words[0] if words[0] in grammar.NAMES else words[0].lower()
        rng.shuffle(words)
        out.append(grammar.capitalise(" ".join(words)) + ".")
    return " ".join(out)


OTHER_NUMBER = {"is": "are", "are": "is", "was": "were", "were": "was", "has": "have", "have": "has"}


def flip_agreement(doc: str, _rng: random.Random) -> str:
    return re.sub(r"\b(is|are|was|were|has|have)\b", lambda m: OTHER_NUMBER[m.group(1)], doc)


def preference_pair(rng: random.Random) -> dict:
    """A prefix ending before a verb that agrees with a head noun across a phrase; the
    grammatical completion is chosen, the one with the verb of the other number rejected.
    Singular and plural heads alternate at random, so each verb form is chosen about as often
    as it is rejected: the verb alone does not tell the label, only its agreement does."""
    doc = grammar.Doc(rng)
    tense = rng.choice(["past", "present"])
    kind = rng.randrange(4)
    num = rng.choice(["sg", "pl"])
    other = "pl" if num == "sg" else "sg"
    if kind == 0:     # subject relative: the N that V the OBJ | is/are ADJ.
        head, _ = doc.anim_np(num)
        obj, _ = doc.obj_np()
        prefix = f"{head} that {doc.verb(grammar.TRANSITIVE_OBJ, num, tense)} {obj}"
        good, bad, tail = doc.be(num, tense), doc.be(other, tense), rng.choice(grammar.ANIM_PRED_ADJECTIVES)
    elif kind == 1:   # prepositional attractor: the OBJ near the N(other) | is/are ADJ.
        head, _ = doc.obj_np(num)
        noun = rng.choice(grammar.ANIMATE)
        noun = grammar.plural(noun) if other == "pl" else noun
        prefix = f"{head} {rng.choice(['of', 'near', 'beside', 'behind'])} the {noun}"
        good, bad, tail = doc.be(num, tense), doc.be(other, tense), rng.choice(grammar.PRED_ADJECTIVES)
    elif kind == 2:   # object relative: the OBJ that the N(other) V | is/are ADJ.
        head, _ = doc.obj_np(num)
        subj, _ = doc.anim_np(other)
        prefix = f"{head} that {subj} {doc.verb(grammar.TRANSITIVE_OBJ, other, tense)}"
        good, bad, tail = doc.be(num, tense), doc.be(other, tense), rng.choice(grammar.PRED_ADJECTIVES)
    else:             # who-clause: the N who met NAME | has/have V-ed the OBJ.
        head, _ = doc.anim_np(num)
        prefix = f"{head} who {doc.verb(grammar.TRANSITIVE_ANIM, num, tense)} {doc.name()}"
        obj, _ = doc.obj_np()
        good, bad = doc.have(num), doc.have(other)
        tail = f"{rng.choice(['lost', 'found', 'kept', 'sold', 'mended'])} {obj}"
    return {"prompt": grammar.capitalise(prefix), "chosen": f" {good} {tail}.", "rejected": f" {bad} {tail}."}


def write_preference(out: Path) -> None:
    """probes/preference.jsonl: N_PREFERENCE_PAIRS rows of prompt / chosen / rejected."""
    probes = out / "probes"
    probes.mkdir(parents=True, exist_ok=True)
    rng = random.Random(PREFERENCE_SEED)
    with open(probes / "preference.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for i in range(N_PREFERENCE_PAIRS):
            f.write(json.dumps({"id": f"agreement-{i:03d}", **preference_pair(rng)}, ensure_ascii=False) + "\n")


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


def train_size(size: dict, tok, stream: np.ndarray, out: Path, log, folder: str | None = None,
               checkpoints: list[int] = CHECKPOINTS) -> list[dict]:
    """Trains one size on `stream`, saving at `checkpoints` under out/<folder or size>/step<N>."""
    folder = folder or size["name"]
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
        if step in checkpoints:
            save_checkpoint(model, tok, out / folder / f"step{step}")
        if step == STEPS or step == checkpoints[-1]:
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
            log(f"  {folder} step {step + 1}/{STEPS}: loss {curve[-1]['train_loss']:.3f} ({time.time() - start:.0f} s)")
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


def base_data(log):
    """The clean training documents, the tokenizer trained on them and their token stream."""
    docs = train_documents()
    tok = train_tokenizer(docs)
    stream = token_stream(tok, docs)
    log(f"corpus: {len(docs)} documents, {len(stream):,} tokens, vocab {tok.get_vocab_size()}")
    return docs, tok, stream


def recipe_folder(recipe: dict) -> str:
    return f"{RECIPE_SIZE}-{recipe['name']}"


def model_folders(suite: Path) -> list[Path]:
    return ([suite / s["name"] / f"step{c}" for s in SIZES for c in CHECKPOINTS]
            + [suite / recipe_folder(r) / f"step{c}" for r in RECIPES for c in RECIPE_CHECKPOINTS])


def train_recipe(recipe: dict, suite: Path) -> tuple[list[dict], dict]:
    """Trains RECIPE_SIZE on one data recipe: same initialisation, tokenizer and schedule as the
    clean run, so its checkpoints differ from the clean ones only through the data. Runs in a
    worker process of its own (one torch thread, as every training here), so the recipes can
    train side by side with the same results as one after the other."""
    log = lambda msg: print(msg, file=sys.stderr, flush=True)
    clean = train_documents()
    tok = train_tokenizer(clean)
    docs = recipe_documents(recipe["name"], clean)
    stream = token_stream(tok, docs)
    folder = recipe_folder(recipe)
    log(f"recipe {recipe['name']}: {len(docs)} documents, {len(stream):,} tokens")
    size = next(s for s in SIZES if s["name"] == RECIPE_SIZE)
    curve = train_size(size, tok, stream, suite, log, folder=folder, checkpoints=RECIPE_CHECKPOINTS)
    return curve, {**recipe, "folder": folder, "size": RECIPE_SIZE, "documents": len(docs),
                   "tokens": int(len(stream)), "steps": RECIPE_CHECKPOINTS[-1],
                   "checkpoints": RECIPE_CHECKPOINTS}


def train_recipes(suite: Path) -> tuple[dict, list[dict]]:
    """Every data recipe, each in its own process (they are independent)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(len(RECIPES)) as pool:
        done = pool.starmap(train_recipe, [(r, suite) for r in RECIPES])
    return {info["folder"]: curve for curve, info in done}, [info for _, info in done]


def build(root: Path, log, evaluate_models: bool = True) -> dict:
    suite = root / SUITE
    if suite.exists():
        shutil.rmtree(suite)
    suite.mkdir(parents=True)
    _, tok, stream = base_data(log)
    write_tasks(suite)
    write_preference(suite)
    curves = {}
    for size in SIZES:
        curves[size["name"]] = train_size(size, tok, stream, suite, log)
    recipe_curves, recipes = train_recipes(suite)
    curves.update(recipe_curves)
    if evaluate_models:
        evaluate(root, model_folders(suite), log)
    return write_manifest(suite, tok, stream, curves, recipes, evaluate_models)


def add_recipes(log) -> int:
    """Trains and scores only the data-recipe models (and writes the preference probe set)
    beside the committed sizes, which stay as they are; SUITE.json is rewritten."""
    suite = REPO_ROOT / SUITE
    old = json.loads((suite / "SUITE.json").read_text())
    _, tok, stream = base_data(log)
    if json.loads(tok.to_str()) != json.loads((suite / "s" / "step0" / "tokenizer.json").read_text()):
        log("the tokenizer does not reproduce the committed one; rebuild the whole suite")
        return 1
    write_preference(suite)
    for recipe in RECIPES:
        shutil.rmtree(suite / recipe_folder(recipe), ignore_errors=True)
    recipe_curves, recipes = train_recipes(suite)
    folders = [suite / recipe_folder(r) / f"step{c}" for r in RECIPES for c in RECIPE_CHECKPOINTS]
    for folder in folders:
        shutil.rmtree(suite / "lm-eval" / folder.relative_to(REPO_ROOT).as_posix().replace("/", "__"), ignore_errors=True)
    evaluate(REPO_ROOT, folders, log)
    curves = {k: v for k, v in old["train_loss"].items() if k in {s["name"] for s in SIZES}}
    curves.update(recipe_curves)
    write_manifest(suite, tok, stream, curves, recipes, True, keep=old)
    return 0


def write_manifest(suite: Path, tok, stream, curves: dict, recipes: list[dict], evaluated: bool,
                   keep: dict | None = None) -> dict:
    """SUITE.json and README.md; `keep` carries over the versions and CPU of an earlier build."""
    files = sorted(p for p in suite.rglob("*") if p.is_file() and p.name not in ("SUITE.json", "README.md")
                   and "lm-eval" not in p.parts)
    manifest = {
        "script": "scripts/make_suite.py",
        "versions": keep["versions"] if keep else versions(),
        "python": keep["python"] if keep else platform.python_version(),
        "cpu": keep["cpu"] if keep else next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                                              if l.startswith("model name")), platform.processor()),
        "seeds": {"corpus": CORPUS_SEED, "tasks": TASK_SEED, "data_order": DATA_SEED,
                  "init": {s["name"]: s["seed"] for s in SIZES}, "lm_eval": 0,
                  "recipes": RECIPE_SEED, "preference": PREFERENCE_SEED},
        "training": {"documents": N_TRAIN_DOCS, "tokens": int(len(stream)), "vocab": tok.get_vocab_size(),
                     "seq_len": SEQ_LEN, "batch": BATCH, "steps": STEPS, "warmup": WARMUP, "lr": LR,
                     "min_lr_ratio": MIN_LR_RATIO, "weight_decay": WEIGHT_DECAY, "optimizer": "AdamW(0.9, 0.95)",
                     "grad_clip": 1.0, "threads": 1, "checkpoints": CHECKPOINTS},
        "sizes": [{**s, "params": params(s, tok)} for s in SIZES],
        "recipes": recipes,
        "preference": {"file": "probes/preference.jsonl", "pairs": N_PREFERENCE_PAIRS},
        "train_loss": curves,
        "lm_eval": lm_eval_metrics(suite) if evaluated else {},
        "sha256": {p.relative_to(suite).as_posix(): sha256(p) for p in files},
    }
    (suite / "SUITE.json").write_text(json.dumps(manifest, indent=1) + "\n")
    (suite / "README.md").write_text(readme(manifest))
    return manifest


def params(size: dict, tok) -> int:
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM(llama_config(size, tok))
    return sum(p.numel() for n, p in model.named_parameters() if n != "lm_head.weight")


def recipe_rows(m: dict) -> str:
    return "\n".join(f"| `{r['folder']}` | {r['about']} | {r['tokens']:,} | {m['train_loss'][r['folder']][-1]['train_loss']:.3f} |"
                     for r in m.get("recipes", []))


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

**Data recipes.** Size {RECIPE_SIZE} is trained again three times, from the same initialisation
(seed {m["seeds"]["init"][RECIPE_SIZE]}), with the same tokenizer, batch order seed and learning-rate
schedule, on altered training data (seed {m["seeds"].get("recipes")} for the alterations), and saved
at steps {", ".join(map(str, RECIPE_CHECKPOINTS))} (training stops there; the schedule is still the
{t["steps"]}-step one, so these checkpoints match `{RECIPE_SIZE}/step<N>` step for step). Models of one
size at one step then differ only in their data, which step and size cannot tell apart:

| folder | training data | tokens | train loss at step {RECIPE_CHECKPOINTS[-1]} |
|---|---|---|---|
{recipe_rows(m)}

**Preference probe set.** `probes/preference.jsonl`: {N_PREFERENCE_PAIRS} rows of `prompt`,
`chosen`, `rejected` (seed {PREFERENCE_SEED}): a sentence up to the verb that must agree with a
head noun across a phrase (a subject relative, a prepositional attractor, an object relative
or a who-clause), the grammatical completion (chosen: "The keys near the farmer" → " are
broken.") and the one whose verb has the other number (rejected: " is broken."). Singular and
plural heads are drawn at random, so each verb form is chosen about as often as rejected.

- **Layout**: `<size>/step<N>/` (and `<size>-<recipe>/step<N>/`) holds `config.json`, `model.safetensors` (float16, tied
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
- **Reproduce**: `python3 scripts/make_suite.py` (about 20 minutes on 2 idle cores for the sizes;
  the recipes train side by side, one process each) with the versions in
  `scripts/requirements-suite.txt` (`--add-recipes` trains and scores only the recipes beside
  the committed sizes); `--check` rebuilds into a temporary folder and compares
  every file's sha256 (and, where bytes differ, the largest weight difference) and every lm-eval
  metric with what is committed. `SUITE.json` records seeds, versions, the CPU, the loss curves,
  the lm-eval metrics and every file's sha256.
"""


def reevaluate(log) -> int:
    """Runs lm-eval again on the committed checkpoints and updates SUITE.json."""
    suite = REPO_ROOT / SUITE
    manifest = json.loads((suite / "SUITE.json").read_text())
    shutil.rmtree(suite / "lm-eval", ignore_errors=True)
    evaluate(REPO_ROOT, model_folders(suite), log)
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
    ap.add_argument("--add-recipes", action="store_true",
                    help="train and score only the data-recipe models beside the committed sizes")
    ap.add_argument("--no-eval", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    log = lambda msg: print(msg, file=sys.stderr, flush=True)
    if args.check:
        return check(log)
    if args.verify:
        return verify(log)
    if args.eval_only:
        return reevaluate(log)
    if args.add_recipes:
        return add_recipes(log)
    build(REPO_ROOT, log, evaluate_models=not args.no_eval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
