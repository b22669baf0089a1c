#!/usr/bin/env python3
"""Fixtures for lossy's document-block bootstrap (crates/lossy-estimator/src/blocks.rs).

The statistical definition under test: replicate b of a bootstrap with block
weights w[b, k] is the soft-entropy estimate over the corpus in which every
row of a document in block k (document i is in block i mod K) appears
w[b, k] times. The weights are Poisson(1) draws, i.e. non-negative integers,
so the reference computes each replicate by literally repeating rows and
running the reference estimator (`soft-entropy`, numpy backend) on them.
lossy computes the same replicates from per-block sums kept in one pass.

Outputs (tests/fixtures/intervals/):
- z.npy (N x d f32), labels_in.npy, labels_out.npy (N int64), docs.npy (N int64),
  w.npy (m x d f32, the reference's W for seed 0);
- case.json: K, eps, the weight matrix, and per replicate the reference's H(Z)
  and I(X; Z) per label set. The reference accumulates in f32, so lossy
  (f64) matches to about 1e-6; the Rust test uses 1e-5 absolute.

    python3 scripts/interval_fixtures.py           # regenerate
    python3 scripts/interval_fixtures.py --check   # regenerate in a temp dir and compare (CI)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import estimator_fixtures as ef  # noqa: E402  (loads soft-entropy without torch)

OUT_DEFAULT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "intervals"
D, M, K, B, DOCS = 16, 10, 4, 6, 13


def corpus():
    """Documents of varied length; Z depends on the token plus noise."""
    rng = np.random.default_rng(20261203)
    lens = rng.integers(8, 40, size=DOCS)
    tok = ef.zipf_tokens(7, 30, int(lens.sum()))
    docs = np.repeat(np.arange(DOCS), lens).astype(np.int64)
    emb = rng.standard_normal((30, D))
    z = (emb[tok] + 0.7 * rng.standard_normal((len(tok), D))).astype(np.float32)
    nxt = np.concatenate([tok[1:], [0]])
    # output label: next token within the document, else the set's own code 30
    last = np.append(docs[1:] != docs[:-1], True)
    out = np.where(last, 30, nxt).astype(np.int64)
    return np.ascontiguousarray(z), tok.astype(np.int64), out, docs


def weights():
    """Block weights: Poisson(1) draws, fixed by a seed (any integers work)."""
    rng = np.random.default_rng(5)
    w = rng.poisson(1.0, size=(B, K)).astype(np.int64)
    w[0] = 1  # replicate 0 is the plain estimate
    w[1] = [0, 1, 1, 1]  # one block left out
    return w


def reference(z, labels, w32, eps, rep):
    names = list(labels)
    idx = np.repeat(np.arange(len(z)), rep)
    acc = ef.ref_accumulator(D, M, w32, eps)
    acc.update(z[idx], labels={k: ef.codes(v)[idx] for k, v in labels.items()})
    r = ef.ref_results(acc, names)
    return {"entropy": r["entropy"], "mutual_information": r["mutual_information"]}


def generate(out: Path):
    out.mkdir(parents=True, exist_ok=True)
    z, tin, tout, docs = corpus()
    w32 = ef.reference_w(D, M, 0)
    eps = float(ef.TC.find_eps(M, D))
    wts = weights()
    labels = {"in": tin, "out": tout}
    reps = []
    for b in range(B):
        rep = wts[b][docs % K]
        reps.append(reference(z, labels, w32, eps, rep))
    for name, arr in [("z", z), ("labels_in", tin), ("labels_out", tout), ("docs", docs), ("w", w32)]:
        np.save(out / f"{name}.npy", arr)
    case = {
        "generator": "scripts/interval_fixtures.py",
        "reference": f"soft-entropy {ef.SE_VERSION} (numpy backend), rows repeated by weight",
        "d": D, "m": M, "blocks": K, "epsilon": eps,
        "block_of_document": "document i is in block i mod K",
        "weights": wts.tolist(),
        "replicates": reps,
    }
    (out / "case.json").write_text(json.dumps(case, indent=1, sort_keys=True) + "\n")


def check(committed: Path) -> int:
    return ef.check_generated(generate, committed)


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
