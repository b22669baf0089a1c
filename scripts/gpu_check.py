#!/usr/bin/env python3
"""lossy's GPU path against its CPU path and against PyTorch, in one run.

Run by scripts/gpu_check.sh on a GPU machine (see README, "GPUs"); writes
gpu.md and gpu.json. It needs numpy; PyTorch (and transformers, for the
PyTorch throughput rows) are used when present. What it measures:

1. Per-layer parity, `lossy hidden-states` on the device against the CPU in
   f32, for the tiny architecture fixtures, a random-weight SmolLM2-135M-shaped
   Llama and, when present, the real SmolLM2 GGUF: max relative error
   max|h_dev - h_cpu| / max|h_cpu| over layers, per dtype (f32, bf16, f16).
   The CPU's own bf16/f16 error against its f32 is shown beside it.
2. Features of a small study (pipelines/random-fixtures.yaml) on the device
   against the CPU: the largest absolute difference over features.csv.
3. Forward-pass throughput (`lossy bench-forward`: every layer copied to host
   memory, as the features stage does) on the SmolLM2-shaped model and a
   ~1.1B-parameter random Llama, against PyTorch on the same device, weights
   and token ids (output_hidden_states=True, each layer copied to the host),
   with model FLOP utilisation against the GPU's dense peak, and peak GPU
   memory of each side.
4. Whether the CPU estimator keeps up: the study's end-to-end tokens per
   second against the forward pass alone.

`--device cpu` runs everything on the CPU (a dry run of the script's
plumbing on a machine without a GPU; its parity numbers are trivially 0).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# Short enough for the smallest fixture's 64 positions under any of the tokenizers.
TEXT = "The committee met on a grey morning to review the harvest figures from the north."
ARCH_FIXTURES = ["llama-sharded", "qwen2", "gemma", "gemma2", "gemma3", "olmo", "olmo2", "gpt_neox", "gpt2"]
# Dense peak TFLOP/s by (GPU name fragment, dtype): NVIDIA's data sheets (SXM).
PEAK_TFLOPS = {
    ("H200", "f32"): 67.0, ("H200", "bf16"): 989.5, ("H200", "f16"): 989.5,
    ("H100", "f32"): 67.0, ("H100", "bf16"): 989.5, ("H100", "f16"): 989.5,
    ("A100", "f32"): 19.5, ("A100", "bf16"): 312.0, ("A100", "f16"): 312.0,
}
SMOL = dict(hidden=576, layers=30, heads=9, kv=3, inter=1536, vocab=49152, theta=100000.0)
LLAMA_1B = dict(hidden=2048, layers=16, heads=32, kv=8, inter=8192, vocab=32000, theta=500000.0)


def run(cmd: list[str], **kw) -> str:
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({res.returncode}):\n{res.stderr[-3000:]}")
    return res.stdout


class GpuMemory:
    """Peak used GPU memory (MiB) while a block runs, sampled with nvidia-smi."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and shutil.which("nvidia-smi") is not None
        self.peak = None

    def _sample(self) -> int:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", "0"],
            capture_output=True, text=True,
        ).stdout
        return int(out.split()[0]) if out.strip() else 0

    def __enter__(self):
        if self.enabled:
            self.base = self._sample()
            self.peak = 0
            self.stop = False
            self.thread = threading.Thread(target=self._poll, daemon=True)
            self.thread.start()
        return self

    def _poll(self):
        while not self.stop:
            self.peak = max(self.peak, self._sample() - self.base)
            time.sleep(0.05)

    def __exit__(self, *exc):
        if self.enabled:
            self.stop = True
            self.thread.join()


# ---------------------------------------------------------------- random Llama models

def write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    header, offset = {}, 0
    for name, a in tensors.items():
        dtype = {np.float16: "F16", np.float32: "F32"}[a.dtype.type]
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for a in tensors.values():
            f.write(np.ascontiguousarray(a).tobytes())


def random_llama(dir: Path, shape: dict, seed: int) -> Path:
    """A Llama with N(0, 0.02) weights (f16 on disk), untied LM head."""
    if (dir / "model.safetensors").exists():
        return dir
    dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    h, i, v = shape["hidden"], shape["inter"], shape["vocab"]
    hd = h // shape["heads"]
    kvd = hd * shape["kv"]

    def w(*s):
        return (rng.standard_normal(s, dtype=np.float32) * 0.02).astype(np.float16)

    t = {"model.embed_tokens.weight": w(v, h), "model.norm.weight": np.ones(h, np.float16), "lm_head.weight": w(v, h)}
    for l in range(shape["layers"]):
        p = f"model.layers.{l}."
        t |= {
            p + "input_layernorm.weight": np.ones(h, np.float16),
            p + "post_attention_layernorm.weight": np.ones(h, np.float16),
            p + "self_attn.q_proj.weight": w(h, h), p + "self_attn.k_proj.weight": w(kvd, h),
            p + "self_attn.v_proj.weight": w(kvd, h), p + "self_attn.o_proj.weight": w(h, h),
            p + "mlp.gate_proj.weight": w(i, h), p + "mlp.up_proj.weight": w(i, h),
            p + "mlp.down_proj.weight": w(h, i),
        }
    write_safetensors(dir / "model.safetensors", t)
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": h,
        "intermediate_size": i, "num_hidden_layers": shape["layers"], "num_attention_heads": shape["heads"],
        "num_key_value_heads": shape["kv"], "head_dim": hd, "vocab_size": v, "rms_norm_eps": 1e-5,
        "rope_theta": shape["theta"], "max_position_embeddings": 8192, "hidden_act": "silu",
        "tie_word_embeddings": False, "torch_dtype": "float16", "bos_token_id": 0, "eos_token_id": 0,
    }
    (dir / "config.json").write_text(json.dumps(config, indent=1))
    # Any tokenizer will do for bench-forward (it takes token ids).
    shutil.copy(ROOT / "data/tiny-llama/tiny-a/tokenizer.json", dir / "tokenizer.json")
    return dir


# ---------------------------------------------------------------- 1. parity

def hidden(lossy: str, model: Path, device: str, precision: str, tmp: Path) -> np.ndarray:
    out = tmp / f"h-{model.name}-{device.replace(':', '')}-{precision}.npy"
    run([lossy, "hidden-states", "--model", str(model), "--text", TEXT, "--out", str(out),
         "--device", device, "--precision", precision])
    return np.load(out).astype(np.float64)


def rel_err(a: np.ndarray, ref: np.ndarray) -> float:
    """Max over layers of max|a - ref| / max|ref| in that layer."""
    return float(max(np.abs(a[l] - ref[l]).max() / max(np.abs(ref[l]).max(), 1e-30) for l in range(len(ref))))


def parity(lossy: str, device: str, models: list[Path], tmp: Path) -> list[dict]:
    rows = []
    for m in models:
        ref = hidden(lossy, m, "cpu", "f32", tmp)
        row = {"model": m.name, "layers": int(ref.shape[0]), "tokens": int(ref.shape[1])}
        for p in ("f32", "bf16", "f16"):
            row[f"{p}_device"] = rel_err(hidden(lossy, m, device, p, tmp), ref)
            row[f"{p}_cpu"] = 0.0 if p == "f32" else rel_err(hidden(lossy, m, "cpu", p, tmp), ref)
        rows.append(row)
        print(f"parity {m.name}: " + ", ".join(f"{k} {v:.2e}" for k, v in row.items() if k.endswith(("_device", "_cpu"))), flush=True)
    return rows


# ---------------------------------------------------------------- 2. features of a study

def study_on(device: str, tmp: Path) -> Path:
    src = (ROOT / "pipelines/random-fixtures.yaml").read_text()
    text = src.replace("\nfeatures:\n", f"\nfeatures:\n  device: {device}\n", 1)
    out = ROOT / "pipelines" / f".gpu-check-{device.replace(':', '')}.yaml"
    out.write_text(text)  # beside the original: its relative paths resolve the same
    return out


def features(lossy: str, device: str, tmp: Path, mem: GpuMemory) -> dict:
    study = study_on(device, tmp)
    try:
        out = tmp / f"study-{device.replace(':', '')}"
        t0 = time.perf_counter()
        with mem:
            run([lossy, "run", str(study), "-o", str(out), "-q", "--no-cache"])
        seconds = time.perf_counter() - t0
    finally:
        study.unlink()
    manifest = json.loads((out / "manifest.json").read_text())
    return {"dir": out, "seconds": seconds, "manifest": manifest, "peak_gpu_mib": mem.peak}


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    lines = path.read_text().splitlines()
    return lines[0].split(","), [l.split(",") for l in lines[1:]]


def max_feature_diff(a: Path, b: Path) -> float:
    ha, ra = read_csv(a / "features.csv")
    hb, rb = read_csv(b / "features.csv")
    assert ha == hb and len(ra) == len(rb), "the two runs' feature tables differ in shape"
    worst = 0.0
    for x, y in zip(ra, rb):
        for u, v in zip(x, y):
            try:
                fu, fv = float(u), float(v)
            except ValueError:
                continue
            if np.isfinite(fu) and np.isfinite(fv):
                worst = max(worst, abs(fu - fv))
    return worst


# ---------------------------------------------------------------- 3. throughput

def bench_lossy(lossy: str, model: Path, ids: Path, device: str, precision: str, mem: GpuMemory) -> dict:
    with mem:
        out = run([lossy, "bench-forward", "--model", str(model), "--ids", str(ids), "--repeats", "3",
                   "--device", device, "--precision", precision])
    r = json.loads(out.strip().splitlines()[-1])
    r["peak_gpu_mib"] = mem.peak
    return r


def bench_torch(model: Path, ids: np.ndarray, device: str, precision: str) -> dict | None:
    try:
        import torch
        from transformers import LlamaConfig, LlamaForCausalLM
        from safetensors.torch import load_file
    except ImportError as e:
        print(f"PyTorch side skipped: {e}", flush=True)
        return None
    dev = torch.device("cuda:0" if device.startswith("cuda") else "cpu")
    dtype = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[precision]
    cfg = LlamaConfig.from_pretrained(model)
    net = LlamaForCausalLM(cfg).to(dtype)
    net.load_state_dict(load_file(model / "model.safetensors"), strict=False)
    net = net.to(dev).eval()
    x = torch.tensor(ids, device=dev)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    best = float("inf")
    with torch.inference_mode():
        for _ in range(3):
            t0 = time.perf_counter()
            hs = net.model(x, output_hidden_states=True).hidden_states
            _ = [h.float().cpu() for h in hs]  # to host, as lossy's sink does
            best = min(best, time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda" else None
    del net
    return {"seconds": best, "tokens_per_s": ids.size / best, "peak_gpu_mib": peak}


def flops_per_token(shape: dict, t: int) -> float:
    """2 × non-embedding parameters + causal attention scores and values."""
    h, i, hd = shape["hidden"], shape["inter"], shape["hidden"] // shape["heads"]
    per_layer = 2 * (h * h * 2 + 2 * h * hd * shape["kv"] + 3 * h * i) + 2 * 2 * h * (t / 2)
    return shape["layers"] * per_layer


def throughput(lossy: str, device: str, gpu: str, tmp: Path, mem: GpuMemory, quick: bool) -> list[dict]:
    rows = []
    cases = [("smollm2-135m-shape", SMOL, 16, 512)]
    if not quick:
        cases.append(("llama-1.1b-random", LLAMA_1B, 8, 512))
    for name, shape, b, t in cases:
        model = random_llama(tmp / name, shape, seed=0)
        ids = np.random.default_rng(1).integers(0, 384, size=(b, t)).astype(np.int64)
        ids_path = tmp / f"ids-{b}x{t}.npy"
        np.save(ids_path, ids)
        for precision in ("f32", "bf16"):
            l = bench_lossy(lossy, model, ids_path, device, precision, mem)
            p = bench_torch(model, ids, device, precision)
            peak = next((v for (g, d), v in PEAK_TFLOPS.items() if g in gpu and d == precision), None)
            mfu = (lambda tps: tps * flops_per_token(shape, t) / (peak * 1e12)) if peak else (lambda tps: None)
            row = {
                "model": name, "batch": b, "tokens": t, "precision": precision,
                "lossy_tok_s": l["tokens_per_s"], "lossy_mfu": mfu(l["tokens_per_s"]),
                "lossy_peak_gpu_mib": l["peak_gpu_mib"],
                "torch_tok_s": p and p["tokens_per_s"], "torch_mfu": p and mfu(p["tokens_per_s"]),
                "torch_peak_gpu_mib": p and p["peak_gpu_mib"],
            }
            rows.append(row)
            print(f"throughput {name} {precision}: lossy {row['lossy_tok_s']:.0f} tok/s, torch {row['torch_tok_s']}", flush=True)
    return rows


# ---------------------------------------------------------------- 4. the estimator keeping up

def keeps_up(lossy: str, device: str, model: Path, tmp: Path) -> dict:
    """One model's study end to end against its forward pass alone, same batches."""
    corpus = ROOT / "data/corpus/demo.jsonl"
    study = tmp / "keeps-up.yaml"
    study.write_text(
        f"version: 1\nname: keeps-up\nmodels:\n  - {{name: smol, path: {model}}}\n"
        f"corpus: {{path: {corpus}, max_tokens: 128}}\n"
        f"features: {{orders: [1, 2], batch_size: 8, bootstrap: 0, device: {device}}}\n"
    )
    out = tmp / "keeps-up"
    run([lossy, "run", str(study), "-o", str(out), "-q", "--no-cache"])
    rec = json.loads((out / "manifest.json").read_text())["models"][0]
    ids = np.random.default_rng(2).integers(0, 384, size=(8, 128)).astype(np.int64)
    np.save(tmp / "ids-8x128.npy", ids)
    fwd = bench_lossy(lossy, model, tmp / "ids-8x128.npy", device, "f32", GpuMemory(False))
    study_tok_s = rec["tokens"] / rec["seconds"]
    return {"study_tok_s": study_tok_s, "forward_tok_s": fwd["tokens_per_s"],
            "fraction": study_tok_s / fwd["tokens_per_s"], "tokens": rec["tokens"]}


# ---------------------------------------------------------------- report

def machine(device: str) -> dict:
    info = {"host": platform.node(), "cpus": os.cpu_count(), "device": device}
    if shutil.which("nvidia-smi"):
        q = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                           capture_output=True, text=True).stdout.strip().splitlines()
        info["gpu"] = q[0] if q else "unknown"
    try:
        import torch
        info["torch"] = f"{torch.__version__} (CUDA {torch.version.cuda})"
    except ImportError:
        info["torch"] = None
    return info


def fmt(x, spec=".2e"):
    return "–" if x is None else format(x, spec)


def markdown(res: dict) -> str:
    m = res["machine"]
    out = [
        "# GPU check (scripts/gpu_check.sh)", "",
        f"Machine: {m.get('gpu', 'no GPU')}; {m['cpus']} CPUs; device `{m['device']}`; PyTorch {m['torch']}; "
        f"lossy {res['lossy_version']}.", "",
        "## Per-layer parity with the CPU's f32 forward pass", "",
        "Max over layers of max|h − h_cpu,f32| / max|h_cpu,f32| (`lossy hidden-states`).", "",
        "| model | layers | tokens | f32 device | bf16 device | bf16 CPU | f16 device | f16 CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in res["parity"]:
        out.append(f"| {r['model']} | {r['layers']} | {r['tokens']} | {fmt(r['f32_device'])} | {fmt(r['bf16_device'])} "
                   f"| {fmt(r['bf16_cpu'])} | {fmt(r['f16_device'])} | {fmt(r['f16_cpu'])} |")
    f = res["features"]
    out += ["", "## Features of a study on the device against the CPU", "",
            f"pipelines/random-fixtures.yaml (8 models, orders [1, 2], 20 bootstrap replicates): largest |Δ| over "
            f"features.csv = {fmt(f['max_abs_diff'])}; wall time {f['device_seconds']:.1f} s on the device, "
            f"{f['cpu_seconds']:.1f} s on the CPU; peak GPU memory {fmt(f['peak_gpu_mib'], '.0f')} MiB.", "",
            "## Forward-pass throughput (every layer copied to host memory)", "",
            "| model | batch × tokens | dtype | lossy tok/s | PyTorch tok/s | lossy / PyTorch | lossy MFU | PyTorch MFU | lossy peak MiB | PyTorch peak MiB |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["throughput"]:
        ratio = r["lossy_tok_s"] / r["torch_tok_s"] if r["torch_tok_s"] else None
        out.append(f"| {r['model']} | {r['batch']} × {r['tokens']} | {r['precision']} | {r['lossy_tok_s']:.0f} | "
                   f"{fmt(r['torch_tok_s'], '.0f')} | {fmt(ratio, '.2f')} | {fmt(r['lossy_mfu'], '.1%')} | "
                   f"{fmt(r['torch_mfu'], '.1%')} | {fmt(r['lossy_peak_gpu_mib'], '.0f')} | {fmt(r['torch_peak_gpu_mib'], '.0f')} |")
    k = res["keeps_up"]
    out += ["", "## Does the CPU estimator keep up?", "",
            f"The SmolLM2-shaped model over data/corpus/demo.jsonl ({k['tokens']} tokens, 128 per document, "
            f"orders [1, 2], batch 8, f32), end to end with the estimator on the CPU: {k['study_tok_s']:.0f} tok/s "
            f"(tokens over the model's wall time in manifest.json, loading included); its forward pass alone on "
            f"8 × 128 tokens: {k['forward_tok_s']:.0f} tok/s; end to end is {k['fraction']:.0%} of forward-only.", ""]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lossy", default=str(ROOT / "target/release/lossy"))
    ap.add_argument("--device", default="cuda:0")
    ap.add_argument("--out", default=os.environ.get("OUT") or str(ROOT / "reports/bench"))
    ap.add_argument("--quick", action="store_true", help="skip the 1.1B model")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    gpu_mem = GpuMemory(a.device != "cpu")
    res = {"machine": machine(a.device), "lossy_version": run([a.lossy, "--version"]).strip()}
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as d:
        tmp = Path(d)
        models = [ROOT / "data/tiny-llama/tiny-a"] + [ROOT / "tests/fixtures/arch" / n for n in ARCH_FIXTURES]
        models.append(random_llama(tmp / "smollm2-135m-shape", SMOL, seed=0))
        gguf = Path(os.environ.get("LOSSY_MODEL_CACHE", ROOT / ".cache/models")) / "SmolLM2-135M-Instruct.Q4_1.gguf"
        if gguf.exists():
            models.append(gguf)
        res["parity"] = parity(a.lossy, a.device, models, tmp)
        dev = features(a.lossy, a.device, tmp, gpu_mem)
        cpu = features(a.lossy, "cpu", tmp, GpuMemory(False))
        res["features"] = {
            "max_abs_diff": max_feature_diff(dev["dir"], cpu["dir"]), "device_seconds": dev["seconds"],
            "cpu_seconds": cpu["seconds"], "peak_gpu_mib": dev["peak_gpu_mib"],
        }
        res["throughput"] = throughput(a.lossy, a.device, res["machine"].get("gpu", ""), tmp, gpu_mem, a.quick)
        res["keeps_up"] = keeps_up(a.lossy, a.device, tmp / "smollm2-135m-shape", tmp)
    (out / "gpu.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    (out / "gpu.md").write_text(markdown(res) + "\n")
    print((out / "gpu.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
