#!/usr/bin/env python3
"""Benchmark: lossy's forward pass with per-layer capture against HF
transformers (torch, CPU, `output_hidden_states=True`, no LM head), side by
side in one run, same model files and same token ids.

Models: a tiny fixture (data/tiny-llama/tiny-f) and SmolLM2-135M-Instruct in
f32 — its Q4_1 GGUF (scripts/fetch_gguf_models.sh) dequantized by transformers
and saved once as an HF folder in the model cache, which both sides load.

Each side runs in its own process (peak memory = that process's max RSS via
wait4). Each side runs 3 processes, alternating, each with 3 timed passes after
a warm-up over a batch of 8 × 128 tokens; the fastest pass counts. The GGUF row
runs lossy on the Q4_1 file itself (weights kept quantized) against torch on
its f32 dequantization. GFLOP/s counts 2 × non-embedding parameters per token and is
compared with each library's own f32 GEMM rate (1024³) measured in the same
process. Results: reports/bench/engine.{md,json}.

Usage: python3 scripts/bench_engine.py   (needs torch, transformers, gguf; `cargo build`)
"""
import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
CACHE = pathlib.Path(os.environ.get("LOSSY_MODEL_CACHE", ROOT / ".cache" / "models"))
GGUF = CACHE / "SmolLM2-135M-Instruct.Q4_1.gguf"


def torch_child(model_dir, ids_path, repeats):
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(os.cpu_count())
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    base = model.model if hasattr(model, "model") else model.base_model
    ids = torch.from_numpy(np.load(ids_path)).long()
    with torch.no_grad():
        base(ids, output_hidden_states=True)
        best = min(_timed(lambda: base(ids, output_hidden_states=True)) for _ in range(repeats))
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    gemm = min(_timed(lambda: torch.mm(a, b)) for _ in range(5))
    params = sum(p.numel() for n, p in base.named_parameters() if "embed" not in n)
    print(json.dumps({"seconds": best, "tokens": ids.numel(), "tokens_per_s": ids.numel() / best,
                      "non_embedding_params": params, "gflops": 2 * params * ids.numel() / best / 1e9,
                      "gemm_gflops_f32_1024": 2 * 1024**3 / gemm / 1e9, "threads": torch.get_num_threads(),
                      "torch": torch.__version__}))


def _timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def measured(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(p.pid, 0)
    out, err = p.stdout.read(), p.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[:3]} failed:\n{err}")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss * 1024


def smollm2_folder():
    out = CACHE / "SmolLM2-135M-Instruct-f32"
    if (out / "config.json").is_file():
        return out
    if not GGUF.is_file():
        raise SystemExit(f"{GGUF} is missing: run scripts/fetch_gguf_models.sh")
    # transformers refuses to save_pretrained a GGUF-loaded model, so the
    # dequantized state dict, config and tokenizer are written by hand.
    code = f"""
import json, os, torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer
d, f, o = {str(GGUF.parent)!r}, {GGUF.name!r}, {str(out) + '.tmp'!r}
m = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32)
os.makedirs(o, exist_ok=True)
sd = {{k: v.contiguous() for k, v in m.state_dict().items()}}
if m.config.tie_word_embeddings:
    sd.pop("lm_head.weight", None)
save_file(sd, os.path.join(o, "model.safetensors"))
cfg = m.config.to_dict()
cfg.pop("quantization_config", None)
json.dump(cfg, open(os.path.join(o, "config.json"), "w"), indent=2)
AutoTokenizer.from_pretrained(d, gguf_file=f).save_pretrained(o)
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    os.rename(str(out) + ".tmp", out)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lossy", default=str(ROOT / "target" / "debug" / "lossy"))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3, help="timed passes per process (the best counts)")
    ap.add_argument("--rounds", type=int, default=3, help="processes per side, alternating (this VM's timings vary by ±30%%)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return torch_child(args.child[0], args.child[1], int(args.child[2]))
    import numpy as np

    smollm2 = smollm2_folder()
    # (label, what torch loads, what lossy loads)
    models = [
        ("tiny-f (fixture)", ROOT / "data" / "tiny-llama" / "tiny-f", ROOT / "data" / "tiny-llama" / "tiny-f"),
        ("SmolLM2-135M (f32)", smollm2, smollm2),
        ("SmolLM2-135M (Q4_1 GGUF)†", smollm2, GGUF),
    ]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, folder, lossy_model in models:
            vocab = json.loads((folder / "config.json").read_text())["vocab_size"]
            ids = np.random.default_rng(0).integers(1, vocab, size=(args.batch, args.tokens)).astype(np.int64)
            ids_path = pathlib.Path(tmp) / "ids.npy"
            np.save(ids_path, ids)
            # alternate the two sides; each keeps its fastest round and its largest peak
            runs = {"torch": [], "lossy": []}
            for _ in range(args.rounds):
                runs["torch"].append(measured([sys.executable, __file__, "--child", str(folder), str(ids_path), str(args.repeats)]))
                runs["lossy"].append(measured([args.lossy, "bench-forward", "--model", str(lossy_model), "--ids", str(ids_path), "--repeats", str(args.repeats)]))
            torch_r = min((r for r, _ in runs["torch"]), key=lambda r: r["seconds"])
            lossy_r = min((r for r, _ in runs["lossy"]), key=lambda r: r["seconds"])
            torch_rss = max(m for _, m in runs["torch"])
            lossy_rss = max(m for _, m in runs["lossy"])
            r = {"model": label, "torch": {**torch_r, "peak_rss_bytes": torch_rss}, "lossy": {**lossy_r, "peak_rss_bytes": lossy_rss}}
            r["speed_ratio"] = lossy_r["tokens_per_s"] / torch_r["tokens_per_s"]
            r["memory_ratio"] = lossy_rss / torch_rss
            results.append(r)
            print(json.dumps(r), file=sys.stderr)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    out = ROOT / "reports" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "engine.json").write_text(json.dumps({"cpu": cpu, "cores": os.cpu_count(), "commit": commit, "batch": args.batch, "tokens": args.tokens, "results": results}, indent=2) + "\n")
    mib = lambda b: f"{b / 2**20:,.0f} MiB"
    lines = [
        "# Forward-pass benchmark: lossy vs HF transformers (CPU, f32)",
        "",
        f"Machine: {cpu}, {os.cpu_count()} cores. Commit {commit}. lossy: dev profile (numeric crates and lossy optimised). "
        f"transformers on torch {results[0]['torch']['torch']}. Batch {args.batch} × {args.tokens} tokens, every layer's hidden "
        "states returned (lossy copies each to host memory as the features stage does), no LM head. Each side runs "
        f"{args.rounds} processes, alternating, of {args.repeats} timed passes after a warm-up; the fastest pass counts "
        "(timings on this machine vary by up to ±30% between runs), and the largest peak.",
        "",
        "| model | torch tok/s | lossy tok/s | speed ratio | torch GFLOP/s (GEMM peak) | lossy GFLOP/s (GEMM peak) | torch peak | lossy peak | memory ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        t, l = r["torch"], r["lossy"]
        lines.append(
            f"| {r['model']} | {t['tokens_per_s']:,.0f} | {l['tokens_per_s']:,.0f} | {r['speed_ratio']:.2f} | "
            f"{t['gflops']:.1f} ({t['gemm_gflops_f32_1024']:.0f}) | {l['gflops']:.1f} ({l['gemm_gflops_f32_1024']:.0f}) | "
            f"{mib(t['peak_rss_bytes'])} | {mib(l['peak_rss_bytes'])} | {r['memory_ratio']:.2f} |"
        )
    lines += ["", "† lossy runs the `.gguf` itself and keeps the projection weights in Q4_1 blocks, dequantizing tiles of "
              "rows inside each matmul (activations stay f32); torch runs the same weights dequantized to f32 (the f32 "
              "folder above), which gives the same numbers (the GGUF test checks every layer against transformers).",
              "", "Regenerate: `scripts/fetch_gguf_models.sh && cargo build && python3 scripts/bench_engine.py` (raw numbers in `engine.json`).", ""]
    (out / "engine.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
