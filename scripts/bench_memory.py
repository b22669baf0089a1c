#!/usr/bin/env python3
"""Benchmark: `lossy plan`'s predicted peak memory against the measured peak
RSS of `lossy run`, over corpus sizes, n-gram orders and bootstrap settings,
and the memory the bootstrap intervals cost.

Each configuration is a one-model study (SmolLM2-135M-Instruct Q4_1 GGUF from
LOSSY_MODEL_CACHE) over the first N documents of data/corpus/demo.jsonl.
`lossy plan --json` gives the prediction; `lossy run` runs under
/usr/bin/time -f %M (peak RSS) with an empty feature cache. Results go to
reports/bench/memory.{json,md}.

    LOSSY_MODEL_CACHE=/work/main/.cache/models python3 scripts/bench_memory.py [--lossy target/debug/lossy]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = [
    # (documents, orders, bootstrap)
    (30, [1], 0),
    (60, [1, 2], 0),
    (60, [1, 2], 20),
    (60, [1, 2], 100),
]


def study(model: Path, docs: int, orders, bootstrap: int) -> str:
    return (
        "version: 1\nname: memory\n"
        f"models:\n  - {{ name: smollm2, path: {json.dumps(str(model))} }}\n"
        f"corpus:\n  path: {json.dumps(str(ROOT / 'data/corpus/demo.jsonl'))}\n  max_documents: {docs}\n"
        f"features:\n  orders: {json.dumps(orders)}\n  bootstrap: {bootstrap}\n"
        "figures:\n  formats: [svg]\n"
    )


def measure(lossy: str, model: Path, docs: int, orders, bootstrap: int, reuse=None) -> dict:
    with tempfile.TemporaryDirectory() as td:
        td = Path(td)
        (td / "study.yaml").write_text(study(model, docs, orders, bootstrap))
        env = {**os.environ, "LOSSY_CACHE": str(td / "cache")}
        plan = json.loads(subprocess.run([lossy, "plan", "study.yaml", "--json", "--offline"], cwd=td, env=env,
                                         check=True, capture_output=True, text=True).stdout)
        m = plan["models"][0]
        if reuse:  # a measurement from an earlier invocation (the run path is unchanged)
            return {**reuse, "predicted_bytes": m["peak_memory_bytes"], "feature_state_bytes": m["feature_state"],
                    "reused": True}
        run = subprocess.run(["/usr/bin/time", "-f", "%M %e", lossy, "run", "study.yaml", "--quiet", "--output", "out"],
                             cwd=td, env=env, capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"lossy run failed: {run.stderr[-2000:]}")
        kib, secs = run.stderr.strip().splitlines()[-1].split()
        return {
            "documents": docs, "orders": orders, "bootstrap": bootstrap, "tokens": m["tokens"],
            "predicted_bytes": m["peak_memory_bytes"], "feature_state_bytes": m["feature_state"],
            "measured_bytes": int(kib) * 1024, "seconds": float(secs),
        }


def mib(b: float) -> str:
    return f"{b / 2**20:.0f}"


def report(rows: list[dict], lossy: str) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    out = [
        "# Memory: `lossy plan`'s prediction against measured peak RSS",
        "",
        f"Commit {commit}, `{Path(lossy).name}` (dev profile). One model, SmolLM2-135M-Instruct Q4_1 (GGUF), "
        "over the first N documents of data/corpus/demo.jsonl, nulls on, m = 100, batch 8; fresh feature cache. "
        "Measured: peak RSS of `lossy run` (/usr/bin/time %M). Predicted: `lossy plan --json` "
        "`peak_memory_bytes` (weights, one batch of activations, corpus, and the feature state from exact "
        "label counts). Rows without bootstrap measured with the same run path may be reused from an earlier "
        "invocation of the script (`--reuse`). The machine was shared with other builds; memory does not depend on that. "
        "Made by `scripts/bench_memory.py`.",
        "",
        "| docs | tokens | orders | bootstrap | feature state (MiB) | predicted (MiB) | measured (MiB) | predicted / measured |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        st = r["feature_state_bytes"]
        state = st["labels_bytes"] + st["layers"] * (st["layer_bytes"] + st["layer_interval_bytes"])
        out.append(
            f"| {r['documents']} | {r['tokens']} | {r['orders']} | {r['bootstrap']} | {mib(state)} | "
            f"{mib(r['predicted_bytes'])} | {mib(r['measured_bytes'])} | {r['predicted_bytes'] / r['measured_bytes']:.2f} |"
        )
    out += ["", "Interval cost (same corpus and orders, bootstrap B against 0):", "",
            "| docs | orders | B | measured with B / without |", "|---|---|---|---|"]
    base = {(r["documents"], tuple(r["orders"])): r for r in rows if r["bootstrap"] == 0}
    for r in rows:
        b = base.get((r["documents"], tuple(r["orders"])))
        if r["bootstrap"] and b:
            out.append(f"| {r['documents']} | {r['orders']} | {r['bootstrap']} | {r['measured_bytes'] / b['measured_bytes']:.2f} |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lossy", default=str(ROOT / "target" / "debug" / "lossy"))
    ap.add_argument("--reuse", type=Path, help="JSON lines printed by an earlier invocation: their runs are not repeated")
    args = ap.parse_args()
    old = {}
    if args.reuse:
        for line in args.reuse.read_text().splitlines():
            if line.startswith("{"):
                r = json.loads(line)
                old[(r["documents"], tuple(r["orders"]), r["bootstrap"])] = r
    cache = Path(os.environ.get("LOSSY_MODEL_CACHE", ROOT / ".cache" / "models"))
    model = cache / "SmolLM2-135M-Instruct.Q4_1.gguf"
    rows = []
    for docs, orders, boot in CONFIGS:
        r = measure(args.lossy, model, docs, orders, boot, old.get((docs, tuple(orders), boot)))
        print(json.dumps({k: v for k, v in r.items() if k != "feature_state_bytes"}), flush=True)
        rows.append(r)
    bench = ROOT / "reports" / "bench"
    (bench / "memory.json").write_text(json.dumps(rows, indent=1) + "\n")
    (bench / "memory.md").write_text(report(rows, args.lossy))
    print((bench / "memory.md").read_text())


if __name__ == "__main__":
    main()
