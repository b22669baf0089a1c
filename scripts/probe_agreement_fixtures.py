#!/usr/bin/env python3
"""Reference values for the agreement across probe sets
(src/fit/agreement.rs): Spearman's rho between two probe sets' columns of a
feature, over the models with a finite value in both, by scipy.stats.spearmanr
(average ranks for ties). Writes tests/fixtures/stats/probe_agreement.json,
checked by tests/integration/probe_sets.rs to 1e-12.

    python3 scripts/probe_agreement_fixtures.py           # (re)write
    python3 scripts/probe_agreement_fixtures.py --check   # recompute and compare (CI)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import scipy
from scipy import stats

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "stats" / "probe_agreement.json"


def cases():
    rng = np.random.default_rng(15)
    out = []
    for n, k, ties, nans in [(8, 3, False, 0), (23, 4, True, 0), (40, 3, True, 5), (5, 2, False, 1)]:
        base = rng.standard_normal(n)
        cols = []
        for j in range(k):
            v = base + rng.standard_normal(n) * (0.5 + j)
            if ties:
                v = np.round(v, 0)
            if nans:
                v[rng.choice(n, size=nans, replace=False)] = np.nan
            cols.append(v)
        pairs = []
        for a in range(k):
            for b in range(a + 1, k):
                ok = np.isfinite(cols[a]) & np.isfinite(cols[b])
                rho = stats.spearmanr(cols[a][ok], cols[b][ok]).statistic if ok.sum() >= 3 else None
                pairs.append({"a": a, "b": b, "n": int(ok.sum()), "spearman": None if rho is None else float(rho)})
        out.append({
            "columns": [[None if not np.isfinite(x) else float(x) for x in c] for c in cols],
            "pairs": pairs,
        })
    return {"generator": "scripts/probe_agreement_fixtures.py", "scipy": scipy.__version__, "cases": out}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    text = json.dumps(cases(), indent=1) + "\n"
    if a.check:
        same = OUT.read_text() == text
        print("--check: identical" if same else f"--check: {OUT} differs")
        sys.exit(0 if same else 1)
    OUT.write_text(text)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
