#!/usr/bin/env python3
"""Make lossy's offline fixtures: a synthetic demo corpus, a tiny byte-level BPE
tokenizer, six tiny random-weight Llama models in Hugging Face layout, and
reference hidden states computed by HF transformers.

    python scripts/make_fixture_models.py            # (re)write data/corpus and data/tiny-llama
    python scripts/make_fixture_models.py --check    # regenerate into a temp dir, compare sha256s

Everything is deterministic: a rerun with the pinned versions in
scripts/requirements-models.txt reproduces every file byte for byte. torch runs
on one CPU thread and the tokenizer trainer without parallelism so that the
float results do not depend on the machine's core count. (Different CPU
instruction sets can still change the last bits of the reference arrays; the
--check report prints the numeric difference of any .npy that differs.)

The weights are random: these models have learned nothing. They exist so that
lossy's own forward pass, tokenizer loading and probing pipeline can be tested
and demonstrated without the Hugging Face hub.
"""

from __future__ import annotations

import os

# Determinism knobs; must be set before tokenizers / torch are imported.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import argparse
import difflib
import hashlib
import json
import platform
import random
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / "data"
CORPUS_SUBDIR = "corpus"
MODELS_SUBDIR = "tiny-llama"

# Versions the committed files were made with (keep in step with requirements-models.txt).
PINNED = {
    "torch": "2.15.0",
    "transformers": "5.24.0",
    "tokenizers": "0.23.3",
    "safetensors": "0.8.0",
    "numpy": "2.4.6",
}

CORPUS_SEED = 20240611
N_JSONL_DOCS = 120
N_TXT_DOCS = 30
SPECIAL_TOKEN = "<|endoftext|>"
VOCAB_SIZE = 384
MAX_POSITIONS = 256
INIT_STD = 0.08          # weights and embeddings ~ N(0, 0.08^2)
NORM_JITTER = 0.1        # RMSNorm weights ~ 1 + 0.1 * N(0, 1)
BIAS_STD = 0.08          # attention biases (tiny-e) ~ N(0, 0.08^2)
SEQ0_MIN_TOKENS = 24     # reference text 0: shortest word prefix of doc 0 with >= 24 ids (BOS included)
SEQ1_MIN_TOKENS = 13     # reference text 1: shortest word prefix of doc 1 with >= 13 ids (BOS included)
BATCH_TOLERANCE = 1e-5

# config_format: "legacy" writes `rope_theta` + `rope_scaling` (the form of checkpoints saved by
# transformers 4.x, i.e. nearly every checkpoint on the hub); "v5" writes transformers 5's own
# `rope_parameters` form unchanged. Both load identically in transformers 5; a loader has to
# handle both.
MODELS = [
    dict(name="tiny-a", seed=1001, hidden=32, layers=2, heads=4, kv_heads=2, intermediate=48,
         tied=True, rope_theta=10000.0, eps=1e-5, config_format="legacy",
         note="GQA 2:1, head_dim 8, tied embeddings"),
    dict(name="tiny-b", seed=1002, hidden=32, layers=3, heads=4, kv_heads=4, intermediate=32,
         tied=False, rope_theta=10000.0, eps=1e-6, config_format="legacy",
         note="MHA, untied lm_head, rms_norm_eps 1e-6"),
    dict(name="tiny-c", seed=1003, hidden=64, layers=2, heads=8, kv_heads=2, intermediate=24,
         tied=True, rope_theta=500000.0, eps=1e-5, config_format="v5",
         note="GQA 4:1, rope_theta 500000, the widest model; config in transformers-5 `rope_parameters` form"),
    dict(name="tiny-d", seed=1004, hidden=32, layers=4, heads=2, kv_heads=1, intermediate=32,
         tied=True, rope_theta=10000.0, eps=1e-5, config_format="legacy",
         rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                       "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
         note="one KV head, head_dim 16, 4 layers, llama3 rope scaling (frequencies in all three bands)"),
    dict(name="tiny-e", seed=1005, hidden=40, layers=3, heads=4, kv_heads=2, intermediate=40,
         tied=True, rope_theta=10000.0, eps=1e-5, config_format="legacy",
         attention_bias=True, mlp_bias=False,
         note="GQA 2:1, head_dim 10 (not a power of two), attention_bias true (q/k/v/o biases), mlp_bias false"),
    dict(name="tiny-f", seed=1006, hidden=48, layers=2, heads=4, kv_heads=4, head_dim=16, intermediate=48,
         tied=True, rope_theta=10000.0, eps=1e-5, config_format="v5",
         note="MHA with explicit head_dim 16, so heads*head_dim = 64 != hidden 48; "
              "config in transformers-5 `rope_parameters` form"),
]


# ----------------------------------------------------------------------------------------------
# 1. Synthetic corpus
# ----------------------------------------------------------------------------------------------

NAMES = ["Mara", "Tobias", "Elena", "Jonah", "Priya", "Felix", "Nadia", "Oscar", "Lena", "Hugo",
         "Ines", "Marcus", "Clara", "Ravi", "Greta", "Samuel", "Yara", "Pablo", "Iris", "Theo",
         "Amara", "Leon", "Sofia", "Dmitri", "Hana", "Victor", "Rosa", "Kofi", "Ada", "Emil"]

IRREGULAR_PLURALS = {"child": "children", "woman": "women", "man": "men", "wolf": "wolves",
                     "knife": "knives", "shelf": "shelves", "thief": "thieves", "goose": "geese",
                     "mouse": "mice", "sheep": "sheep", "fish": "fish"}

ANIMATE = ["farmer", "teacher", "doctor", "sailor", "baker", "painter", "student", "soldier",
           "merchant", "child", "woman", "man", "dog", "cat", "horse", "bird", "fox", "wolf",
           "neighbour", "captain", "miller", "weaver", "hunter", "singer", "guard", "stranger",
           "king", "queen", "thief", "goose", "mouse", "sheep", "fisherman", "nurse", "pilot",
           "clerk", "judge", "poet", "tailor", "shepherd"]

OBJECTS = ["key", "letter", "book", "map", "lamp", "coin", "box", "boat", "clock", "bell",
           "cart", "basket", "candle", "mirror", "ring", "hat", "coat", "bottle", "knife", "rope",
           "stone", "apple", "song", "story", "promise", "secret", "plan", "cup", "shelf",
           "drawer", "jar", "blanket", "engine", "wheel", "sword", "feather", "shell", "crown",
           "scroll", "ladder", "kettle", "compass", "violin", "painting", "parcel", "hammer",
           "lantern", "necklace", "envelope", "umbrella", "chest", "rug", "spoon", "brush",
           "flag", "drum", "pillow", "mask", "glove", "boot"]

PLACES = ["market", "forest", "valley", "hill", "island", "castle", "library", "kitchen",
          "station", "school", "river", "bridge", "tower", "garden", "village", "mill", "field",
          "lake", "harbour", "cellar", "orchard", "chapel", "bakery", "workshop", "meadow",
          "lighthouse", "attic", "barn", "square", "cottage"]

# base, 3sg present, past
INTRANSITIVE = [("walk", "walks", "walked"), ("sleep", "sleeps", "slept"),
                ("laugh", "laughs", "laughed"), ("wait", "waits", "waited"),
                ("sing", "sings", "sang"), ("work", "works", "worked"),
                ("listen", "listens", "listened"), ("run", "runs", "ran"),
                ("rest", "rests", "rested"), ("whisper", "whispers", "whispered"),
                ("wander", "wanders", "wandered"), ("shout", "shouts", "shouted"),
                ("dance", "dances", "danced"), ("hide", "hides", "hid"),
                ("smile", "smiles", "smiled"), ("cry", "cries", "cried"),
                ("hurry", "hurries", "hurried"), ("argue", "argues", "argued"),
                ("tremble", "trembles", "trembled"), ("swim", "swims", "swam")]

TRANSITIVE_OBJ = [("find", "finds", "found"), ("carry", "carries", "carried"),
                  ("open", "opens", "opened"), ("paint", "paints", "painted"),
                  ("fix", "fixes", "fixed"), ("sell", "sells", "sold"),
                  ("buy", "buys", "bought"), ("hide", "hides", "hid"),
                  ("count", "counts", "counted"), ("clean", "cleans", "cleaned"),
                  ("lose", "loses", "lost"), ("keep", "keeps", "kept"),
                  ("build", "builds", "built"), ("break", "breaks", "broke"),
                  ("mend", "mends", "mended"), ("read", "reads", "read"),
                  ("write", "writes", "wrote"), ("bring", "brings", "brought"),
                  ("steal", "steals", "stole"), ("polish", "polishes", "polished"),
                  ("hold", "holds", "held"), ("borrow", "borrows", "borrowed"),
                  ("wrap", "wraps", "wrapped"), ("drop", "drops", "dropped"),
                  ("lift", "lifts", "lifted"), ("measure", "measures", "measured"),
                  ("guard", "guards", "guarded"), ("share", "shares", "shared")]

TRANSITIVE_ANIM = [("meet", "meets", "met"), ("help", "helps", "helped"),
                   ("call", "calls", "called"), ("thank", "thanks", "thanked"),
                   ("follow", "follows", "followed"), ("visit", "visits", "visited"),
                   ("warn", "warns", "warned"), ("greet", "greets", "greeted"),
                   ("trust", "trusts", "trusted"), ("teach", "teaches", "taught"),
                   ("remember", "remembers", "remembered"), ("forget", "forgets", "forgot"),
                   ("admire", "admires", "admired"), ("fear", "fears", "feared"),
                   ("watch", "watches", "watched"), ("chase", "chases", "chased")]

OBJ_ADJECTIVES = ["old", "small", "large", "heavy", "light", "broken", "golden", "silver",
                  "wooden", "red", "blue", "green", "white", "black", "ancient", "strange",
                  "empty", "cold", "warm", "wet", "dusty", "shiny", "rusty", "hidden", "famous",
                  "simple", "soft", "rough", "round", "sharp", "fragile", "faint", "painted",
                  "tiny", "enormous", "crooked", "polished", "torn", "precious", "plain"]

PRED_ADJECTIVES = ["missing", "heavy", "broken", "ready", "empty", "safe", "lost", "wet",
                   "clean", "old", "expensive", "locked", "full", "hidden", "cold", "new"]

ANIM_PRED_ADJECTIVES = ["tired", "hungry", "careful", "clever", "brave", "calm", "proud",
                        "curious", "patient", "lonely", "cheerful", "worried", "angry",
                        "afraid", "sure", "late", "ready", "asleep", "awake", "busy"]

ADVERBS = ["slowly", "quickly", "quietly", "carefully", "often", "rarely", "suddenly",
           "gently", "eagerly", "finally", "happily", "sadly", "softly", "again", "early",
           "late", "twice", "patiently", "loudly", "calmly"]

PAST_TIMES = ["after the storm", "during the harvest", "last winter", "on the third day",
              "a week later", "long ago", "that evening", "before dawn", "by the end of summer",
              "the next morning"]

HABITUAL_TIMES = ["in the morning", "at night", "every spring", "at noon", "on market day",
                  "after supper", "every evening", "in winter", "before dawn"]

ANIM_ADJECTIVES = ["old", "young", "quiet", "loud", "gentle", "brave", "tired", "hungry",
                   "careful", "clever", "strange", "tall", "patient", "proud", "shy", "calm",
                   "wild", "famous", "curious", "noisy", "sleepy", "lonely", "cheerful", "kind",
                   "busy", "clumsy", "polite", "stubborn"]

PREPOSITIONS = ["near", "behind", "beside", "inside", "above", "below", "across", "beyond"]

CONNECTIVES = ["Then", "Later", "Meanwhile", "Afterwards", "Soon", "At last", "Even so",
               "For a while", "Some time later", "In the end"]


def plural(noun: str) -> str:
    if noun in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[noun]
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


class Doc:
    """Per-document state: its cast, its places and facts to recall later."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.names = rng.sample(NAMES, rng.randint(2, 3))
        self.places = rng.sample(PLACES, 2)
        self.creature = rng.choice(ANIMATE)        # a recurring animate noun ("the miller")
        self.facts: list[tuple[str, str, str, str]] = []   # (name, adj, obj, place)

    # -- noun phrases -------------------------------------------------------------------------
    def name(self) -> str:
        return self.rng.choice(self.names) if self.rng.random() < 0.85 else self.rng.choice(NAMES)

    def place(self) -> str:
        return self.rng.choice(self.places) if self.rng.random() < 0.7 else self.rng.choice(PLACES)

    def anim_np(self, number: str | None = None) -> tuple[str, str]:
        """Animate noun phrase and its number ('sg' or 'pl')."""
        r = self.rng
        number = number or r.choice(["sg", "sg", "pl"])
        noun = self.creature if r.random() < 0.35 else r.choice(ANIMATE)
        if number == "pl":
            noun = plural(noun)
        adj = r.choice(ANIM_ADJECTIVES) + " " if r.random() < 0.4 else ""
        return f"the {adj}{noun}", number

    def obj_np(self, number: str | None = None, definite: bool = True) -> tuple[str, str]:
        r = self.rng
        number = number or r.choice(["sg", "sg", "pl"])
        noun = r.choice(OBJECTS)
        if number == "pl":
            noun = plural(noun)
        adj = r.choice(OBJ_ADJECTIVES) if r.random() < 0.5 else ""
        phrase = f"{adj} {noun}".strip()
        if definite:
            det = "the"
        elif number == "sg":
            det = article(phrase)
        else:
            det = r.choice(["some", "two", "three", "several", "many"])
        return f"{det} {phrase}", number

    # -- clauses -----------------------------------------------------------------------------
    def vp_intrans(self, number: str, tense: str) -> str:
        base, sg, past = self.rng.choice(INTRANSITIVE)
        verb = past if tense == "past" else (sg if number == "sg" else base)
        tail = self.rng.choice(["", " " + self.rng.choice(ADVERBS),
                                f" {self.rng.choice(PREPOSITIONS)} the {self.place()}"])
        return verb + tail

    def verb(self, table, number: str, tense: str) -> str:
        base, sg, past = self.rng.choice(table)
        return past if tense == "past" else (sg if number == "sg" else base)

    def be(self, number: str, tense: str) -> str:
        if tense == "past":
            return "was" if number == "sg" else "were"
        return "is" if number == "sg" else "are"

    def time(self, tense: str) -> str:
        return self.rng.choice(PAST_TIMES if tense == "past" else HABITUAL_TIMES)

    def have(self, number: str) -> str:
        return "has" if number == "sg" else "have"

    # -- sentence templates ------------------------------------------------------------------
    def s_fact(self) -> str:
        """Introduce a fact that a later sentence recalls (long-range dependency)."""
        r = self.rng
        name = r.choice(self.names)
        adj = r.choice(OBJ_ADJECTIVES)
        obj = r.choice(OBJECTS)
        place = r.choice(self.places)
        self.facts.append((name, adj, obj, place))
        verb = r.choice(["kept", "hid", "found", "left", "buried", "lost"])
        return f"{name} {verb} {article(adj)} {adj} {obj} in the {place}."

    def s_recall(self) -> str:
        r = self.rng
        name, adj, obj, place = r.choice(self.facts)
        form = r.randrange(3)
        if form == 0:
            return f"{r.choice(CONNECTIVES)}, {name} went back to the {place} to look for the {adj} {obj}."
        if form == 1:
            return f"Nobody else knew that the {adj} {obj} was still in the {place}."
        return f"When {name} returned to the {place}, the {adj} {obj} was gone."

    def s_simple(self, tense: str) -> str:
        r = self.rng
        if r.random() < 0.5:
            subj, num = self.anim_np()
        else:
            subj, num = self.name(), "sg"
        adv = ""
        if r.random() < 0.5:
            obj, _ = self.obj_np(definite=r.random() < 0.6)
            vp = f"{self.verb(TRANSITIVE_OBJ, num, tense)} {obj}"
            adv = r.choice(ADVERBS) + " " if r.random() < 0.3 else ""
        else:
            vp = self.vp_intrans(num, tense)
        time = " " + self.time(tense) if r.random() < 0.3 else ""
        return f"{subj} {adv}{vp}{time}."

    def s_subject_relative(self, tense: str) -> str:
        """The N that V-agree(N) ... V-agree(N): agreement across a subject relative clause."""
        head, num = self.anim_np()
        obj, _ = self.obj_np()
        rel = f"that {self.verb(TRANSITIVE_OBJ, num, tense)} {obj}"
        if self.rng.random() < 0.5:
            main = f"{self.be(num, tense)} {self.rng.choice(ANIM_PRED_ADJECTIVES)}"
        else:
            main = self.vp_intrans(num, tense)
        return f"{head} {rel} {main}."

    def s_object_relative(self, tense: str) -> str:
        """The OBJ that the N(other number) V ... be-agree(OBJ): an attractor inside the clause."""
        obj, num = self.obj_np()
        rel_subj, rel_num = self.anim_np("pl" if num == "sg" else "sg") if self.rng.random() < 0.7 \
            else (self.name(), "sg")
        rel_verb = self.verb(TRANSITIVE_OBJ, rel_num, tense)
        where = f" {self.rng.choice(PREPOSITIONS)} the {self.place()}" if self.rng.random() < 0.5 else ""
        return f"{obj} that {rel_subj} {rel_verb}{where} {self.be(num, tense)} {self.rng.choice(PRED_ADJECTIVES)}."

    def s_attractor_pp(self, tense: str) -> str:
        """The N of the Ns is ...: agreement with the head, not the nearer noun."""
        head, num = self.obj_np()
        other_num = "pl" if num == "sg" else "sg"
        noun = self.rng.choice(ANIMATE)
        noun = plural(noun) if other_num == "pl" else noun
        prep = self.rng.choice(["of", "near", "beside", "behind"])
        return f"{head} {prep} the {noun} {self.be(num, tense)} {self.rng.choice(PRED_ADJECTIVES)}."

    def s_reported(self, tense: str) -> str:
        r = self.rng
        speaker = self.name()
        say = r.choice(["said", "told everyone", "wrote", "believed", "knew", "whispered"]
                       if tense == "past" else
                       ["says", "tells everyone", "writes", "believes", "knows", "whispers"])
        obj, num = self.obj_np()
        if r.random() < 0.5:
            inner = f"{obj} {self.be(num, tense)} {r.choice(PRED_ADJECTIVES)}"
        else:
            other = r.choice([n for n in NAMES if n != speaker])
            inner = f"{other} {self.verb(TRANSITIVE_ANIM, 'sg', tense)} {self.anim_np()[0]}"
        return f"{speaker} {say} that {inner}."

    def s_coordination(self, tense: str) -> str:
        r = self.rng
        a, b = r.sample(self.names, 2)
        if r.random() < 0.5:
            return f"{a} and {b} {self.vp_intrans('pl', tense)}."
        return f"{a} and {b} {self.be('pl', tense)} {r.choice(ANIM_PRED_ADJECTIVES)}."

    def s_when(self, tense: str) -> str:
        r = self.rng
        name = self.name()
        subj, num = self.anim_np()
        reach = "reached" if tense == "past" else "reaches"
        other = r.choice([n for n in self.names if n != name] or NAMES)
        return (f"When {name} {reach} the {self.place()}, {subj} "
                f"{self.verb(TRANSITIVE_ANIM, num, tense)} {other}.")

    def s_every(self, tense: str) -> str:
        r = self.rng
        noun = r.choice(ANIMATE)
        obj, _ = self.obj_np(definite=False)
        return (f"Every {noun} in the {self.place()} {self.verb(TRANSITIVE_OBJ, 'sg', 'present')} "
                f"{obj} {r.choice(HABITUAL_TIMES)}.")

    def s_perfect(self, tense: str) -> str:
        subj, num = self.anim_np()
        obj, _ = self.obj_np()
        return f"{subj} who {self.verb(TRANSITIVE_ANIM, num, tense)} {self.name()} {self.have(num)} " \
               f"{self.rng.choice(['lost', 'found', 'kept', 'sold', 'mended'])} {obj}."


def capitalise(sentence: str) -> str:
    return sentence[0].upper() + sentence[1:]


def make_document(rng: random.Random, exclude: frozenset[str] = frozenset()) -> str:
    """One document; `exclude` drops sentence templates by name (e.g. "s_perfect") from the
    mixture, which scripts/make_suite.py uses for a data recipe (the default is the grammar)."""
    doc = Doc(rng)
    target = rng.randint(60, 175)
    tense = "past" if rng.random() < 0.7 else "present"
    sentences = [doc.s_fact()]
    if rng.random() < 0.5:
        sentences.append(doc.s_fact())
    templates = [doc.s_simple, doc.s_simple, doc.s_subject_relative, doc.s_object_relative,
                 doc.s_attractor_pp, doc.s_reported, doc.s_coordination, doc.s_when,
                 doc.s_every, doc.s_perfect]
    templates = [t for t in templates if t.__name__ not in exclude]
    n_words = sum(len(s.split()) for s in sentences)
    while n_words < target - 14:
        s = rng.choice(templates)(tense)
        sentences.append(s)
        n_words += len(s.split())
    for _ in range(rng.randint(1, 2)):
        sentences.append(doc.s_recall())
    text = " ".join(capitalise(s) for s in sentences)
    n = len(text.split())
    assert 60 <= n <= 200, n
    return text


def make_corpus() -> tuple[list[dict], list[str]]:
    rng = random.Random(CORPUS_SEED)
    jsonl = [{"id": f"demo-{i:03d}", "text": make_document(rng)} for i in range(N_JSONL_DOCS)]
    txt = [make_document(rng) for _ in range(N_TXT_DOCS)]
    return jsonl, txt


CORPUS_README = """\
# Demo probing corpus

Synthetic, licence-free English-like text for lossy's tests and offline demo.
It is part of this project (same licence as the project).

- `demo.jsonl`: {n_jsonl} documents, one JSON object per line: `{{"id": "demo-NNN", "text": ...}}`,
  {min_j}–{max_j} words each ({total_j} words in all).
- `demo.txt`: {n_txt} further documents from the same generator, one per paragraph,
  separated by blank lines ({min_t}–{max_t} words each).

Made by `scripts/make_fixture_models.py` (seed {seed}, Python's `random.Random`) from a small
hand-written grammar: about {vocab} distinct words; subject–verb agreement across relative clauses and
prepositional attractors ("the key that the children found is rusty", "the lamps beside the
farmer are broken"); coordinated subjects; reported speech; a recurring cast of 2–3 names, two
places and one animate noun per document; and long-range dependencies: each document opens by
placing an object somewhere ("Mara hid a rusty key in the cellar.") and ends by recalling it
("Later, Mara went back to the cellar to look for the rusty key.").

The text is meaningless and the statistics are nothing like natural English; it only exercises
the pipeline. Regenerate with `python scripts/make_fixture_models.py` (rewrites this folder and
`data/tiny-llama/`); `--check` verifies the committed files byte for byte.
"""


def write_corpus(out: Path) -> list[dict]:
    jsonl, txt = make_corpus()
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "demo.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for doc in jsonl:
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
    with open(out / "demo.txt", "w", encoding="utf-8", newline="\n") as f:
        f.write("\n\n".join(txt) + "\n")
    lens_j = [len(d["text"].split()) for d in jsonl]
    lens_t = [len(t.split()) for t in txt]
    vocab = {w.strip(".,").lower() for d in jsonl for w in d["text"].split()}
    (out / "README.md").write_text(CORPUS_README.format(
        n_jsonl=len(jsonl), min_j=min(lens_j), max_j=max(lens_j), total_j=sum(lens_j),
        n_txt=len(txt), min_t=min(lens_t), max_t=max(lens_t), seed=CORPUS_SEED,
        vocab=len(vocab) // 10 * 10), encoding="utf-8")
    return jsonl


# ----------------------------------------------------------------------------------------------
# 2. Tokenizer
# ----------------------------------------------------------------------------------------------

def train_tokenizer(texts: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())   # byte-level BPE: no unk token needed, no normalizer
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=[SPECIAL_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    assert tok.get_vocab_size() == VOCAB_SIZE, tok.get_vocab_size()
    bos_id = tok.token_to_id(SPECIAL_TOKEN)
    # Llama-3 style: byte-level offsets processor, then a template that prepends BOS.
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(
            single=f"{SPECIAL_TOKEN} $A",
            pair=f"{SPECIAL_TOKEN} $A {SPECIAL_TOKEN}:1 $B:1",
            special_tokens=[(SPECIAL_TOKEN, bos_id)],
        ),
    ])
    return tok


def tokenizer_config() -> dict:
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": SPECIAL_TOKEN,
        "eos_token": SPECIAL_TOKEN,
        "unk_token": SPECIAL_TOKEN,
        "pad_token": SPECIAL_TOKEN,
        "add_bos_token": True,
        "add_eos_token": False,
        "model_max_length": MAX_POSITIONS,
        "padding_side": "right",
        "clean_up_tokenization_spaces": False,
        "added_tokens_decoder": {
            "0": {"content": SPECIAL_TOKEN, "lstrip": False, "normalized": False,
                  "rstrip": False, "single_word": False, "special": True},
        },
    }


# ----------------------------------------------------------------------------------------------
# 3. Models
# ----------------------------------------------------------------------------------------------

def dump_json(path: Path, obj) -> None:
    """Sorted keys, two-space indent, as transformers writes its JSON files."""
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")


def _compact(obj, level: int = 0) -> str:
    """Like json.dumps(indent=2) but keeps key order and puts lists of scalars on one line."""
    pad, inner = "  " * level, "  " * (level + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {_compact(v, level + 1)}"
                 for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if all(not isinstance(x, (dict, list)) for x in obj):
            return json.dumps(obj, ensure_ascii=False)
        return "[\n" + ",\n".join(inner + _compact(x, level + 1) for x in obj) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False)


def dump_json_ordered(path: Path, obj) -> None:
    path.write_text(_compact(obj) + "\n", encoding="utf-8")


def head_dim(spec: dict) -> int:
    return spec.get("head_dim", spec["hidden"] // spec["heads"])


def build_config(spec: dict, bos_id: int):
    from transformers import LlamaConfig

    kwargs = dict(
        vocab_size=VOCAB_SIZE,
        hidden_size=spec["hidden"],
        intermediate_size=spec["intermediate"],
        num_hidden_layers=spec["layers"],
        num_attention_heads=spec["heads"],
        num_key_value_heads=spec["kv_heads"],
        head_dim=head_dim(spec),
        hidden_act="silu",
        max_position_embeddings=MAX_POSITIONS,
        initializer_range=INIT_STD,
        rms_norm_eps=spec["eps"],
        bos_token_id=bos_id,
        eos_token_id=bos_id,
        pad_token_id=None,
        tie_word_embeddings=spec["tied"],
        attention_bias=spec.get("attention_bias", False),
        mlp_bias=spec.get("mlp_bias", False),
        rope_theta=spec["rope_theta"],
    )
    if spec.get("rope_scaling"):
        kwargs["rope_scaling"] = dict(spec["rope_scaling"])
    cfg = LlamaConfig(**kwargs)
    cfg.architectures = ["LlamaForCausalLM"]
    return cfg


def config_json(cfg, spec: dict, tmp: Path) -> dict:
    """The config as transformers 5 writes it, optionally rewritten to the legacy rope form."""
    d = tmp / "cfg"
    cfg.save_pretrained(d)
    data = json.loads((d / "config.json").read_text())
    shutil.rmtree(d)
    if spec["config_format"] == "legacy":
        rope = dict(data.pop("rope_parameters"))
        data["rope_theta"] = rope.pop("rope_theta")
        data["rope_scaling"] = None if rope.get("rope_type", "default") == "default" else rope
        data.pop("dtype", None)
        data["torch_dtype"] = "float32"
    else:
        assert spec["config_format"] == "v5"
        data["dtype"] = "float32"
    return data


def init_weights(model, seed: int) -> None:
    import torch

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if "norm" in name:
                p.copy_(1.0 + NORM_JITTER * noise)
            elif name.endswith(".bias"):
                p.copy_(BIAS_STD * noise)
            else:
                p.copy_(INIT_STD * noise)


def save_npy(path: Path, arr) -> None:
    arr = np.ascontiguousarray(np.asarray(arr, dtype="<f4"))
    with open(path, "wb") as f:
        np.save(f, arr, allow_pickle=False)


def encode_record(tok, hf_tok, text: str) -> dict:
    with_special = tok.encode(text).ids
    without = tok.encode(text, add_special_tokens=False).ids
    hf_ids = hf_tok(text)["input_ids"]
    assert hf_ids == with_special, ("transformers and tokenizers disagree", hf_ids, with_special)
    assert tok.decode(without) == text, "byte-level round trip failed"
    return {
        "text": text,
        "ids_with_special_tokens": with_special,
        "ids_without_special_tokens": without,
        "tokens_without_special_tokens": tok.encode(text, add_special_tokens=False).tokens,
    }


def pick_text(tok, text: str, min_tokens: int) -> str:
    words = text.split()
    for n in range(1, len(words) + 1):
        prefix = " ".join(words[:n])
        if len(tok.encode(prefix).ids) >= min_tokens:
            return prefix
    raise ValueError("document too short")


def make_model(spec: dict, out: Path, tok, tok_json: bytes, texts: list[str], versions: dict,
               tmp: Path) -> dict:
    import torch
    from safetensors.torch import save_file
    from transformers import AutoConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out.mkdir(parents=True, exist_ok=True)
    bos_id = tok.token_to_id(SPECIAL_TOKEN)
    cfg = build_config(spec, bos_id)

    # --- weights --------------------------------------------------------------------------------
    torch.manual_seed(spec["seed"])
    model = LlamaForCausalLM(cfg).to(torch.float32)
    init_weights(model, spec["seed"])
    state = {k: v.detach().to(torch.float32).contiguous().clone()
             for k, v in model.state_dict().items()}
    if spec["tied"]:
        state.pop("lm_head.weight")       # tied checkpoints omit it, as on the hub
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    os.chmod(out / "model.safetensors", 0o644)     # safetensors creates it 0600

    dump_json(out / "config.json", config_json(cfg, spec, tmp))
    dump_json(out / "generation_config.json", {
        "_from_model_config": True, "bos_token_id": bos_id, "eos_token_id": bos_id,
        "transformers_version": versions["transformers"]})
    (out / "tokenizer.json").write_bytes(tok_json)
    dump_json(out / "tokenizer_config.json", tokenizer_config())

    # --- reload everything from disk, as a user would --------------------------------------------
    loaded_cfg = AutoConfig.from_pretrained(out)
    assert loaded_cfg.rope_parameters == cfg.rope_parameters, (loaded_cfg.rope_parameters,
                                                              cfg.rope_parameters)
    m, info = LlamaForCausalLM.from_pretrained(out, dtype=torch.float32, attn_implementation="eager",
                                               output_loading_info=True)
    bad = {k: v for k, v in info.items() if v}
    assert not bad, f"loading {spec['name']}: {bad}"
    m.eval()
    for k, v in m.state_dict().items():
        ref = state.get(k, state["model.embed_tokens.weight"] if k == "lm_head.weight" else None)
        assert torch.equal(v, ref), f"weight {k} changed on reload"
    if spec["tied"]:
        assert m.lm_head.weight.data_ptr() == m.model.embed_tokens.weight.data_ptr()
    hf_tok = PreTrainedTokenizerFast.from_pretrained(out)
    assert hf_tok.bos_token_id == bos_id and hf_tok.eos_token_id == bos_id

    # --- reference activations --------------------------------------------------------------------
    seqs = [encode_record(tok, hf_tok, t) for t in texts]
    n_layers = spec["layers"]
    captured = {}
    hook = m.model.layers[-1].register_forward_hook(
        lambda mod, inp, outp: captured.__setitem__("last", outp[0] if isinstance(outp, tuple) else outp))

    singles, logits0 = [], None
    with torch.no_grad():
        for i, rec in enumerate(seqs):
            ids = torch.tensor([rec["ids_with_special_tokens"]], dtype=torch.long)
            res = m(input_ids=ids, output_hidden_states=True)
            hs = torch.stack(res.hidden_states, 0)[:, 0]             # [L+1, T, H]
            assert hs.shape == (n_layers + 1, ids.shape[1], spec["hidden"])
            last_block = captured["last"][0]
            normed = m.model.norm(last_block)
            final_is_normed = torch.allclose(hs[-1], normed, atol=1e-6, rtol=0)
            final_is_raw = torch.allclose(hs[-1], last_block, atol=1e-6, rtol=0)
            assert final_is_normed and not final_is_raw, "unexpected hidden_states[-1] convention"
            singles.append(hs)
            save_npy(out / f"hidden_states_{i}.npy", hs.numpy())
            if i == 0:
                logits0 = res.logits[0, -1]
                save_npy(out / "logits_last_0.npy", logits0.numpy())
                save_npy(out / "last_block_output_0.npy", last_block.numpy())
                # logits must be lm_head(hidden_states[-1])
                assert torch.allclose(m.lm_head(hs[-1][-1]), logits0, atol=1e-5)

        # right-padded batch of both sequences
        lens = [len(r["ids_with_special_tokens"]) for r in seqs]
        max_len = max(lens)
        batch_ids = [r["ids_with_special_tokens"] + [bos_id] * (max_len - n) for r, n in zip(seqs, lens)]
        mask = [[1] * n + [0] * (max_len - n) for n in lens]
        res = m(input_ids=torch.tensor(batch_ids), attention_mask=torch.tensor(mask),
                output_hidden_states=True)
        hb = torch.stack(res.hidden_states, 0)                         # [L+1, B, T, H]
        save_npy(out / "hidden_states_batch.npy", hb.numpy())
        batch_diff = max(float((hb[:, b, :n] - singles[b]).abs().max()) for b, n in enumerate(lens))
        assert batch_diff < BATCH_TOLERANCE, f"{spec['name']}: batched vs single {batch_diff}"
    hook.remove()

    n_params = sum(p.numel() for p in m.parameters())
    sequences = []
    for i, rec in enumerate(seqs):
        sequences.append({
            **rec,
            "input_ids": rec["ids_with_special_tokens"],
            "length": len(rec["ids_with_special_tokens"]),
            "hidden_states_file": f"hidden_states_{i}.npy",
            "hidden_states_shape": [n_layers + 1, len(rec["ids_with_special_tokens"]), spec["hidden"]],
        })
    ref = {
        "model": spec["name"],
        "description": spec["note"],
        "generator": "scripts/make_fixture_models.py",
        "seed": spec["seed"],
        "corpus_seed": CORPUS_SEED,
        "init": {"std": INIT_STD, "norm_weight": f"1 + {NORM_JITTER} * N(0,1)", "bias_std": BIAS_STD,
                 "order": "parameters sorted by name, one torch.Generator seeded with `seed`"},
        "versions": versions,
        "dtype": "float32",
        "attn_implementation": "eager",
        "torch_num_threads": 1,
        "num_parameters": n_params,
        "config_format": spec["config_format"],
        "architecture": {
            "num_hidden_layers": n_layers, "hidden_size": spec["hidden"],
            "intermediate_size": spec["intermediate"], "num_attention_heads": spec["heads"],
            "num_key_value_heads": spec["kv_heads"], "head_dim": head_dim(spec),
            "tie_word_embeddings": spec["tied"], "rms_norm_eps": spec["eps"],
            "attention_bias": spec.get("attention_bias", False), "mlp_bias": spec.get("mlp_bias", False),
            "rope_parameters": dict(sorted(cfg.rope_parameters.items())),
            "vocab_size": VOCAB_SIZE, "max_position_embeddings": MAX_POSITIONS,
        },
        "tokenizer": {
            "file": "tokenizer.json",
            "adds_bos": True,
            "adds_eos": False,
            "bos_token": SPECIAL_TOKEN, "bos_token_id": bos_id,
            "eos_token": SPECIAL_TOKEN, "eos_token_id": bos_id,
            "pad_token_id_used_for_batch": bos_id,
            "note": "input_ids = tokenizer.encode(text).ids (add_special_tokens=True), which is "
                    "[bos] + tokenizer.encode(text, add_special_tokens=False).ids",
        },
        "hidden_states_convention": {
            "index_0": "token embeddings (input to layer 0)",
            "index_i_for_1_to_L-1": "residual stream output of decoder layer i-1",
            "index_L": "model.norm (final RMSNorm) applied to the output of the last decoder layer",
            "last_block_output_0_file": "last_block_output_0.npy: output of the last decoder layer "
                                        "before the final norm, sequence 0, [T, H]",
        },
        "sequences": sequences,
        "batch": {
            "file": "hidden_states_batch.npy",
            "shape": [n_layers + 1, len(seqs), max_len, spec["hidden"]],
            "padding_side": "right",
            "pad_token_id": bos_id,
            "input_ids": batch_ids,
            "attention_mask": mask,
            "note": "values at padded positions (attention_mask 0) are meaningless; position ids are 0..T-1",
            "max_abs_diff_vs_unbatched_at_real_positions": float(f"{batch_diff:.1e}"),
        },
        "logits_last_0": {
            "file": "logits_last_0.npy",
            "shape": [VOCAB_SIZE],
            "position": lens[0] - 1,
            "argmax": int(torch.argmax(logits0)),
        },
        "last_block_output_0": {
            "file": "last_block_output_0.npy",
            "shape": [lens[0], spec["hidden"]],
        },
    }
    dump_json_ordered(out / "reference.json", ref)
    return ref


MODELS_README = """\
# Tiny random-weight Llama models (test fixtures)

Six small `LlamaForCausalLM` checkpoints in Hugging Face layout, with reference activations from
HF transformers, for testing lossy's own forward pass, tokenizer loading and probing pipeline
offline. **The weights are random: these models have learned nothing.** Their outputs are
meaningless; only their agreement with transformers matters.

| model | params | layers | hidden | heads / KV heads | head dim | FFN | tied | what it exercises |
|---|---|---|---|---|---|---|---|---|
{table}

All: vocab {vocab}, `max_position_embeddings` {maxpos}, SiLU, float32 safetensors.

Each folder holds:
- `config.json`, `generation_config.json`, `model.safetensors` (float32; tied models have no
  `lm_head.weight`, as on the hub);
- `tokenizer.json` (the same byte-level BPE in every folder, {vocab} tokens, `{special}` as
  BOS/EOS/pad, id {bos}; **it adds BOS**: its post-processor is Llama 3's
  `Sequence[ByteLevel, TemplateProcessing("{special} $A")]`), `tokenizer_config.json`
  (`PreTrainedTokenizerFast`, `model_max_length` {maxpos});
- `reference.json`: the two reference texts (from `data/corpus/demo.jsonl`), their token ids with
  and without special tokens, shapes, padding mask, versions and seeds;
- `hidden_states_0.npy`, `hidden_states_1.npy`: `[num_layers+1, T, hidden]` from
  `model(input_ids, output_hidden_states=True)`, each sequence alone; index 0 is the embedding
  output and the **last index has the final RMSNorm applied** (transformers' convention);
- `last_block_output_0.npy`: `[T, hidden]`, the last decoder layer's output *before* the final
  norm (sequence 0);
- `hidden_states_batch.npy`: `[num_layers+1, 2, max_T, hidden]`, both sequences as one
  right-padded batch with an attention mask (padded positions are meaningless);
- `logits_last_0.npy`: `[vocab]`, logits at the last position of sequence 0.

Reference texts (prefixes of the first two corpus documents): {texts}.

Things a loader must get right:
- Configs come in two forms: the legacy form (`rope_theta` + `rope_scaling`, as written by
  transformers 4.x and found on nearly every hub checkpoint) and transformers 5's
  `rope_parameters` form ({v5_models}). Both load identically in transformers 5. (transformers
  4.57.6 reproduces the legacy-form models bit for bit but silently ignores `rope_parameters`:
  it runs tiny-c with rope_theta 10000 instead of 500000, and its hidden states are then off by
  about 0.3. A loader that does the same fails on tiny-c.)
- `head_dim` is read from the config: in tiny-f it is not `hidden_size / num_attention_heads`.
- Rotary embeddings use the HF "rotate_half" layout (first half / second half of each head),
  not the interleaved pairs of GGUF files.
- In the padded batch the real positions agree with the single-sequence runs to within
  {batch_diff:.0e} (transformers, float32).

## How they were made

```
pip install -r scripts/requirements-models.txt
python scripts/make_fixture_models.py           # writes data/corpus/ and data/tiny-llama/
python scripts/make_fixture_models.py --check   # regenerates in a temp dir and compares sha256s
```

Versions: {versions}. torch runs float32 on one CPU thread with eager attention. Weights:
every parameter, in name order, drawn from one `torch.Generator` seeded with the model's seed
({seeds}): matrices and embeddings N(0, {std}²) (larger than HF's default 0.02 so that every
layer visibly changes the residual stream), RMSNorm weights 1 + {jitter}·N(0, 1), attention
biases N(0, {bias}²). The tokenizer is trained with `tokenizers`' `BpeTrainer` on
`data/corpus/demo.jsonl` (corpus seed {corpus_seed}). `SHA256SUMS` lists every file here
(`cd data/tiny-llama && sha256sum -c SHA256SUMS`).

## Licence

Made by this project and distributed under the project's own licence (Cargo.toml declares
Apache-2.0). No third-party weights, text or tokenizer are included.
"""


def write_models_readme(out: Path, refs: list[dict], versions: dict, bos_id: int) -> None:
    rows = []
    for spec, ref in zip(MODELS, refs):
        a = ref["architecture"]
        rows.append(f"| {spec['name']} | {ref['num_parameters']:,} | {a['num_hidden_layers']} | "
                    f"{a['hidden_size']} | {a['num_attention_heads']} / {a['num_key_value_heads']} | "
                    f"{a['head_dim']} | {a['intermediate_size']} | {'yes' if a['tie_word_embeddings'] else 'no'} | "
                    f"{spec['note']} |")
    (out / "README.md").write_text(MODELS_README.format(
        table="\n".join(rows), vocab=VOCAB_SIZE, maxpos=MAX_POSITIONS, special=SPECIAL_TOKEN,
        bos=bos_id, versions=", ".join(f"{k} {v}" for k, v in versions.items()),
        texts="; ".join(f"`{json.dumps(r['text'])}` ({r['length']} ids)" for r in refs[0]["sequences"]),
        v5_models=", ".join(s["name"] for s in MODELS if s["config_format"] == "v5"),
        batch_diff=max(1e-6, max(r["batch"]["max_abs_diff_vs_unbatched_at_real_positions"] for r in refs)),
        seeds=", ".join(f"{s['name']} {s['seed']}" for s in MODELS), std=INIT_STD,
        jitter=NORM_JITTER, bias=BIAS_STD, corpus_seed=CORPUS_SEED), encoding="utf-8")


# ----------------------------------------------------------------------------------------------
# driver, sha256 and --check
# ----------------------------------------------------------------------------------------------

def installed_versions() -> dict:
    import safetensors
    import tokenizers
    import torch
    import transformers

    return {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__, "safetensors": safetensors.__version__,
            "numpy": np.__version__}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


def generate(data_dir: Path) -> None:
    import torch

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    versions = installed_versions()
    off = {k: (v, PINNED[k]) for k, v in versions.items() if v != PINNED[k]}
    if off:
        print("warning: versions differ from the pins (outputs will not match the committed files): "
              + ", ".join(f"{k} {a} (pinned {b})" for k, (a, b) in off.items()), file=sys.stderr)

    corpus_dir = data_dir / CORPUS_SUBDIR
    models_dir = data_dir / MODELS_SUBDIR
    for d in (corpus_dir, models_dir):
        if d.exists():
            shutil.rmtree(d)
    docs = write_corpus(corpus_dir)

    tok = train_tokenizer([d["text"] for d in docs])
    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / "tokenizer.json"
        tok.save(str(p), pretty=False)
        tok_json = p.read_bytes()
    bos_id = tok.token_to_id(SPECIAL_TOKEN)
    texts = [pick_text(tok, docs[0]["text"], SEQ0_MIN_TOKENS),
             pick_text(tok, docs[1]["text"], SEQ1_MIN_TOKENS)]

    refs = []
    with tempfile.TemporaryDirectory() as td:
        for spec in MODELS:
            refs.append(make_model(spec, models_dir / spec["name"], tok, tok_json, texts, versions,
                                   Path(td)))
            print(f"  {spec['name']}: {refs[-1]['num_parameters']:,} parameters", file=sys.stderr)
    write_models_readme(models_dir, refs, versions, bos_id)

    sums = [f"{sha256(p)}  {rel}" for rel, p in tree_files(models_dir).items() if rel != "SHA256SUMS"]
    (models_dir / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")


def compare(fresh_root: Path, committed_root: Path) -> list[str]:
    problems = []
    for sub in (CORPUS_SUBDIR, MODELS_SUBDIR):
        fresh, have = tree_files(fresh_root / sub), tree_files(committed_root / sub)
        for rel in sorted(set(fresh) | set(have)):
            name = f"{sub}/{rel}"
            if rel not in have:
                problems.append(f"MISSING  {name} (the script makes it, the repository lacks it)")
                continue
            if rel not in fresh:
                problems.append(f"EXTRA    {name} (in the repository, not made by the script)")
                continue
            a, b = sha256(have[rel]), sha256(fresh[rel])
            if a == b:
                continue
            msg = f"DIFFERS  {name}\n           committed {a}\n           regenerated {b}"
            if rel.endswith(".npy"):
                try:
                    x, y = np.load(have[rel]), np.load(fresh[rel])
                    if x.shape != y.shape:
                        msg += f"\n           shapes {x.shape} vs {y.shape}"
                    else:
                        msg += f"\n           max abs diff {float(np.abs(x - y).max()):.3e}"
                except Exception as e:   # noqa: BLE001 - report, don't crash the check
                    msg += f"\n           (could not load: {e})"
            elif not rel.endswith(".safetensors"):
                try:
                    diff = difflib.unified_diff(
                        have[rel].read_text(encoding="utf-8").splitlines(),
                        fresh[rel].read_text(encoding="utf-8").splitlines(),
                        "committed", "regenerated", lineterm="", n=1)
                    lines = list(diff)
                    msg += "\n" + "\n".join("           " + l for l in lines[:20])
                    if len(lines) > 20:
                        msg += f"\n           ... {len(lines) - 20} more diff lines"
                except UnicodeDecodeError:
                    pass
            problems.append(msg)
    # the committed SHA256SUMS must describe the committed files
    sums_file = committed_root / MODELS_SUBDIR / "SHA256SUMS"
    if sums_file.exists():
        for line in sums_file.read_text().splitlines():
            digest, rel = line.split(None, 1)
            p = committed_root / MODELS_SUBDIR / rel
            if not p.exists() or sha256(p) != digest:
                problems.append(f"SHA256SUMS entry does not match the file on disk: {rel}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                    help="folder that receives corpus/ and tiny-llama/ (default: %(default)s)")
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary folder and compare every file's sha256 with "
                         "DATA_DIR; exit 1 on any difference")
    args = ap.parse_args()

    if not args.check:
        generate(args.data_dir)
        total = sum(p.stat().st_size for p in tree_files(args.data_dir / MODELS_SUBDIR).values())
        print(f"wrote {args.data_dir / CORPUS_SUBDIR} and {args.data_dir / MODELS_SUBDIR} "
              f"({total / 1e6:.2f} MB)", file=sys.stderr)
        return 0

    with tempfile.TemporaryDirectory(prefix="lossy-fixtures-") as td:
        generate(Path(td))
        problems = compare(Path(td), args.data_dir)
    if problems:
        print(f"fixture check FAILED: {len(problems)} problem(s) in {args.data_dir}", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        print("(regenerate with `python scripts/make_fixture_models.py` using the pinned versions "
              "in scripts/requirements-models.txt)", file=sys.stderr)
        return 1
    print(f"fixture check OK: every file in {args.data_dir / CORPUS_SUBDIR} and "
          f"{args.data_dir / MODELS_SUBDIR} matches a fresh regeneration", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
