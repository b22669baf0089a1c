#!/usr/bin/env python3
"""The module-graph check of ARCHITECTURE.md: no import runs from a later
stage to an earlier one, and no two modules import each other.

Cargo enforces the crate graph (lossy-base <- lossy-estimator, lossy-models
<- lossy); this script checks the modules inside each crate, which the
compiler does not. It reads every `crate::a::b` and `super::b` path outside
`#[cfg(test)]` modules and test files:

- in the `lossy` crate, a top-level module may only import modules of an
  earlier or the same stage (STAGES below, the order of ARCHITECTURE.md);
- in every crate, no two sibling modules import each other (a two-way pair),
  at the top level and one level down.

Usage: python3 scripts/module_graph.py [--print]   (exit 1 on a violation)
"""
import collections
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The lossy crate's stages, earliest first. Modules on one line are one stage.
STAGES = [
    ["io", "math", "hub", "models"],  # re-exports of lossy-base and lossy-models
    ["table"],
    ["corpus"],
    ["features"],
    ["scores"],
    ["fit"],
    ["figures"],
    ["study"],
    ["report"],
    ["pipeline"],
    ["slurm"],
    ["cli"],
]
RANK = {m: i for i, stage in enumerate(STAGES) for m in stage}

CRATES = {
    "lossy": "src",
    "lossy-base": "crates/lossy-base/src",
    "lossy-estimator": "crates/lossy-estimator/src",
    "lossy-models": "crates/lossy-models/src",
}


def modules(src):
    """(module path as a list, source without test modules) of every file."""
    for dirpath, _, files in os.walk(src):
        for f in sorted(files):
            if not f.endswith(".rs") or f in ("tests.rs", "main.rs"):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, src)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib"):
                rel = rel[:-1]
            text = open(path, encoding="utf-8").read()
            text = re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]
            text = re.sub(r"//[^\n]*", "", text)  # comments and doc links
            yield rel, text


def edges(src):
    """Top-level edges and one-level-down edges of one crate."""
    top = collections.defaultdict(set)
    sub = collections.defaultdict(set)
    for rel, text in modules(src):
        if not rel:
            continue
        for m in re.finditer(r"\bcrate::([a-z_0-9]+)(?:::([a-z_0-9]+))?", text):
            a, b = m.group(1), m.group(2)
            if a != rel[0]:
                top[rel[0]].add(a)
            elif len(rel) >= 2 and b and b != rel[1]:
                sub[f"{rel[0]}::{rel[1]}"].add(f"{rel[0]}::{b}")
        for m in re.finditer(r"\bsuper::([a-z_0-9]+)", text):
            if len(rel) >= 2 and m.group(1) != rel[1]:
                sub[f"{rel[0]}::{rel[1]}"].add(f"{rel[0]}::{m.group(1)}")
            elif len(rel) == 1 and m.group(1) != rel[0]:
                pass  # `super::` from a top-level file is the crate root
    return top, sub


def two_way(graph):
    return sorted({tuple(sorted((a, b))) for a, bs in graph.items() for b in bs if a in graph.get(b, ())})


def main():
    problems = []
    for crate, src in CRATES.items():
        top, sub = edges(os.path.join(ROOT, src))
        if crate == "lossy":
            for a, bs in sorted(top.items()):
                for b in sorted(bs):
                    if a not in RANK or b not in RANK:
                        problems.append(f"lossy: module `{a}` or `{b}` has no stage in scripts/module_graph.py")
                    elif RANK[b] > RANK[a]:
                        problems.append(f"lossy: `{a}` imports the later stage `{b}`")
        for a, b in two_way(top) + two_way(sub):
            problems.append(f"{crate}: `{a}` and `{b}` import each other")
        if "--print" in sys.argv:
            for a, bs in sorted(top.items()):
                print(f"{crate}: {a} -> {', '.join(sorted(bs))}")
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    print("module graph: one-way (no later-stage import, no two-way pair)")


if __name__ == "__main__":
    main()
