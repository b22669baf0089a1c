#!/usr/bin/env python3
"""Make lossy's per-architecture parity fixtures: one tiny random-weight model per supported
decoder family (Qwen2, GPT-NeoX, OLMo, OLMo 2, Gemma, Gemma 2, GPT-2) plus two weight-format
variants of the llama `tiny-a` model (sharded safetensors, pytorch_model.bin), each with
reference hidden states computed by HF transformers.

    python scripts/make_arch_fixtures.py            # (re)write tests/fixtures/arch
    python scripts/make_arch_fixtures.py --check    # regenerate into a temp dir, compare sha256s

Inputs (read only): data/tiny-llama/tiny-a (its tokenizer, its two reference texts, and, for the
weight-format variants, its weights), made by scripts/make_fixture_models.py. Everything is
deterministic: with the pinned versions in scripts/requirements-models.txt a rerun reproduces
every file byte for byte (torch on one CPU thread, float32, eager attention).

The weights are random: these models have learned nothing. Every claim the README makes about
transformers' hidden-state conventions is checked here with forward hooks on each run, and the
generation fails if one does not hold.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Importing the llama generator sets the determinism environment (one thread, offline, quiet)
# before torch / tokenizers are imported. Nothing in it is run or changed.
import make_fixture_models as base  # noqa: E402

import argparse  # noqa: E402
import copy  # noqa: E402
import difflib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402

REPO_ROOT = base.REPO_ROOT
DEFAULT_OUT = REPO_ROOT / "tests" / "fixtures" / "arch"
TINY_A = REPO_ROOT / "data" / "tiny-llama" / "tiny-a"
GENERATOR = "scripts/make_arch_fixtures.py"

VOCAB_SIZE = base.VOCAB_SIZE          # 384, the shared byte-level BPE
MAX_POSITIONS = base.MAX_POSITIONS    # 256 (GPT-2: n_positions 64)
INIT_STD = base.INIT_STD              # 0.08
NORM_JITTER = base.NORM_JITTER        # 0.1
BIAS_STD = base.BIAS_STD              # 0.08
BATCH_TOLERANCE = base.BATCH_TOLERANCE
EXACT = 0.0
BOS_ID = 0                            # <|endoftext|> in the shared tokenizer

# family -> (config class, model class)
FAMILIES = {
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM"),
    "gpt_neox": ("GPTNeoXConfig", "GPTNeoXForCausalLM"),
    "olmo": ("OlmoConfig", "OlmoForCausalLM"),
    "olmo2": ("Olmo2Config", "Olmo2ForCausalLM"),
    "gemma": ("GemmaConfig", "GemmaForCausalLM"),
    "gemma2": ("Gemma2Config", "Gemma2ForCausalLM"),
    "gemma3": ("Gemma3TextConfig", "Gemma3ForCausalLM"),
    "gpt2": ("GPT2Config", "GPT2LMHeadModel"),
}

# config_format "legacy": config.json rewritten to the form transformers 4.x wrote and hub
# checkpoints carry (rope_theta / rotary_pct / rotary_emb_base instead of `rope_parameters`, no
# `layer_types`, `torch_dtype`); "v5": exactly what transformers 5 `save_pretrained` writes.
# Both forms load identically in transformers 5 (checked on every run).
MODELS = [
    dict(name="qwen2", family="qwen2", seed=2001, config_format="legacy",
         config=dict(hidden_size=32, intermediate_size=32, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=2, rope_theta=1_000_000.0, rms_norm_eps=1e-6,
                     tie_word_embeddings=True),
         # hub Qwen2/2.5 configs carry a sliding_window with use_sliding_window false; ours is 4 (shorter
         # than both texts) so that a loader which applies it anyway fails
         legacy_extra={"sliding_window": 4, "max_window_layers": 1, "use_sliding_window": False},
         note="GQA 2:1, q/k/v biases (no o_proj bias), rope_theta 1e6, tied; legacy config with "
              "use_sliding_window false but sliding_window 4",
         exercises=["q/k/v projection biases, o_proj without bias",
                    "GQA 4 query heads : 2 KV heads", "rope_theta 1e6 (legacy `rope_theta` key)",
                    "tied embeddings (no lm_head.weight in the file)",
                    "sliding_window 4 present but disabled by use_sliding_window false: must be ignored"]),
    dict(name="qwen2-untied", family="qwen2", seed=2002, config_format="v5",
         config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=3, num_attention_heads=4,
                     num_key_value_heads=1, rope_theta=1_000_000.0, rms_norm_eps=1e-6,
                     tie_word_embeddings=False),
         note="GQA 4:1, head_dim 4, 3 layers, untied lm_head; transformers-5 config form",
         exercises=["untied lm_head.weight", "GQA 4:1 (one KV head)", "3 layers",
                    "head_dim 4 (two rotary frequencies)",
                    "transformers-5 config form (`rope_parameters`, `layer_types`)"]),
    dict(name="gpt_neox", family="gpt_neox", seed=2003, config_format="legacy",
         config=dict(hidden_size=32, intermediate_size=40, num_hidden_layers=2, num_attention_heads=2,
                     rotary_pct=0.25, rotary_emb_base=10000, use_parallel_residual=True,
                     hidden_act="gelu", layer_norm_eps=1e-5, tie_word_embeddings=False,
                     attention_bias=True),
         note="Pythia style: parallel residual, partial rotary 0.25 (4 of 16 head dims), LayerNorm "
              "with bias, exact GELU, untied embed_out; legacy config (rotary_pct, rotary_emb_base)",
         exercises=["fused query_key_value, interleaved per head as [q_h | k_h | v_h]",
                    "partial rotary: rotary_pct 0.25 -> rotary on the first 4 of 16 head dims, "
                    "rotate_half within those 4",
                    "use_parallel_residual: x + attn(ln1(x)) + mlp(ln2(x))",
                    "LayerNorm with weight and bias (eps 1e-5)", "exact (erf) GELU",
                    "untied `embed_out.weight` (hub name; transformers 5 calls it lm_head)",
                    "biases on every linear", "legacy Pythia config keys rotary_pct / rotary_emb_base, "
                    "no attention_bias key (default true)"]),
    dict(name="gpt_neox-seq", family="gpt_neox", seed=2004, config_format="v5",
         config=dict(hidden_size=16, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                     rotary_pct=1.0, rotary_emb_base=10000, use_parallel_residual=False,
                     hidden_act="gelu", layer_norm_eps=1e-5, tie_word_embeddings=False,
                     attention_bias=True),
         note="GPT-NeoX with sequential residual and full rotary (head_dim 8), FFN 4 x hidden; "
              "transformers-5 config form",
         exercises=["use_parallel_residual false: h = x + attn(ln1(x)); out = h + mlp(ln2(h))",
                    "full rotary (partial_rotary_factor 1.0 inside `rope_parameters`)",
                    "untied embed_out.weight"]),
    dict(name="olmo", family="olmo", seed=2005, config_format="legacy",
         config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
                     num_key_value_heads=2, clip_qkv=0.5, rope_theta=10000.0,
                     tie_word_embeddings=True),
         note="non-parametric LayerNorm (eps 1e-5, no weights), clip_qkv 0.5 (active), no biases, tied",
         exercises=["non-parametric LayerNorm: no norm tensors in the file, eps fixed at 1e-5",
                    "clip_qkv 0.5: q, k, v clamped to [-0.5, 0.5] after projection, before rope",
                    "no biases", "2 heads of 8 (MHA)", "tied embeddings"]),
    dict(name="olmo2", family="olmo2", seed=2006, config_format="v5",
         config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=2, rms_norm_eps=1e-6, rope_theta=500000.0,
                     tie_word_embeddings=False),
         note="post-norm blocks (post_attention / post_feedforward RMSNorm), q/k RMSNorm over the "
              "full projection, GQA 2:1, untied",
         exercises=["no input norm: h = x + post_attention_layernorm(attn(x)); "
                    "out = h + post_feedforward_layernorm(mlp(h))",
                    "q_norm over all 16 query dims and k_norm over all 8 key dims (not per head), "
                    "before rope", "GQA 2:1, head_dim 4", "untied lm_head", "rope_theta 500000",
                    "rms_norm_eps 1e-6 used by all five norms"]),
    dict(name="gemma", family="gemma", seed=2007, config_format="legacy",
         config=dict(hidden_size=24, intermediate_size=32, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=1, head_dim=16, rms_norm_eps=1e-6, rope_theta=10000.0,
                     hidden_act="gelu_pytorch_tanh", tie_word_embeddings=True, pad_token_id=0),
         legacy_extra={"hidden_act": "gelu"},
         note="embeddings scaled by sqrt(24), RMSNorm x*(1+w), tanh GELU although the config says "
              "\"gelu\" (as hub Gemma configs do), head_dim 16 != 24/4, GQA 4:1",
         exercises=["embedding output multiplied by sqrt(hidden_size) (cast to the weight dtype)",
                    "RMSNorm scales by (1 + weight)", "hidden_act \"gelu\" means tanh-approximate GELU "
                    "for Gemma (transformers rewrites it to gelu_pytorch_tanh)",
                    "head_dim 16 with hidden 24 and 4 heads (q_proj 64 x 24, o_proj 24 x 64)",
                    "one KV head", "tied embeddings"]),
    dict(name="gemma2", family="gemma2", seed=2008, config_format="legacy",
         config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=3, num_attention_heads=4,
                     num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-6, rope_theta=10000.0,
                     hidden_activation="gelu_pytorch_tanh", query_pre_attn_scalar=2,
                     attn_logit_softcapping=2.0, final_logit_softcapping=30.0, sliding_window=4,
                     tie_word_embeddings=True, pad_token_id=0),
         legacy_extra={"hidden_act": "gelu_pytorch_tanh", "cache_implementation": "hybrid"},
         note="attention logit softcap 2.0 and query_pre_attn_scalar 2 (both bite), final logit softcap "
              "30, sliding window 4 on layers 0 and 2, sandwich norms, (1+w) RMSNorm, scaled embeddings",
         exercises=["attention scores * query_pre_attn_scalar^-0.5 (2, not head_dim 16)",
                    "attention logit softcap: cap * tanh(scores / cap) with cap 2.0, before the mask",
                    "final logit softcap 30: logits = 30 * tanh(logits / 30)",
                    "sliding window 4 on even layers (0, 2; key j visible from query i iff i - 4 < j <= i), "
                    "global attention on layer 1; no `layer_types` in the legacy config",
                    "pre and post RMSNorm around attention and MLP (four norms per layer)",
                    "embedding * sqrt(16), RMSNorm (1 + w), head_dim 16 != 16/4"]),
    dict(name="gemma3", family="gemma3", seed=2010, config_format="v5",
         config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=3, num_attention_heads=4,
                     num_key_value_heads=2, head_dim=8, rms_norm_eps=1e-6,
                     hidden_activation="gelu_pytorch_tanh", query_pre_attn_scalar=4, sliding_window=4,
                     layer_types=["sliding_attention", "full_attention", "sliding_attention"],
                     rope_parameters={"full_attention": {"rope_type": "linear", "factor": 2.0,
                                                         "rope_theta": 1_000_000.0},
                                      "sliding_attention": {"rope_type": "default", "rope_theta": 100.0}},
                     tie_word_embeddings=True, pad_token_id=0),
         note="per-head q/k RMSNorm (1+w), sliding window 4 on layers 0 and 2 with their own rotary base "
              "(100) and a linearly scaled global one (1e6, factor 2) on layer 1, query_pre_attn_scalar 4, "
              "sandwich norms, scaled embeddings",
         exercises=["q_norm and k_norm: RMSNorm x * (1 + w) over each head's head_dim 8, before rope",
                    "rotary base 100 on sliding layers, 1e6 with linear scaling 2 on the full-attention layer",
                    "sliding window 4 on layers 0 and 2 (`layer_types`)",
                    "attention scores * query_pre_attn_scalar^-0.5 (4, not head_dim 8)",
                    "pre and post RMSNorm around attention and MLP, embedding * sqrt(16), no soft-capping"]),
    dict(name="gpt2", family="gpt2", seed=2009, config_format="v5",
         config=dict(n_embd=16, n_layer=2, n_head=2, n_positions=64, n_inner=None,
                     activation_function="gelu_new", layer_norm_epsilon=1e-5,
                     tie_word_embeddings=True),
         note="learned absolute positions, Conv1D weights [in, out], fused c_attn, gelu_new, "
              "n_inner null (4 * 16), tied",
         exercises=["learned position embeddings wpe (n_positions 64) added to wte",
                    "Conv1D weights stored [in_features, out_features] (transposed vs nn.Linear)",
                    "fused c_attn split into q | k | v blocks of n_embd each (not per head)",
                    "gelu_new (tanh approximation)", "LayerNorm with bias, eps 1e-5",
                    "n_inner null -> MLP width 4 * n_embd", "tied lm_head (no lm_head.weight)",
                    "`transformer.` prefix on every tensor name"]),
]

LLAMA_VARIANTS = [
    dict(name="llama-bin", weights="bin",
         note="tiny-a's weights as pytorch_model.bin (zip pickle, as transformers 4.x "
              "save_pretrained(safe_serialization=False) wrote), lm_head.weight aliasing "
              "embed_tokens.weight",
         exercises=["PyTorch zip-pickle checkpoint `pytorch_model.bin` instead of safetensors",
                    "tied lm_head.weight present in the pickle, sharing embed_tokens.weight's storage",
                    "same references as data/tiny-llama/tiny-a"]),
    dict(name="llama-sharded", weights="sharded", max_shard_size=64_000,
         note="tiny-a's weights split into 2 safetensors shards with model.safetensors.index.json "
              "(transformers save_pretrained(max_shard_size=64000))",
         exercises=["model-0000N-of-00002.safetensors shards + model.safetensors.index.json weight_map",
                    "same references as data/tiny-llama/tiny-a"]),
]


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------

def tf():
    import transformers
    return transformers


def family_classes(family: str):
    cfg_name, model_name = FAMILIES[family]
    return getattr(tf(), cfg_name), getattr(tf(), model_name)


def build_config(spec: dict):
    cfg_cls, model_cls = family_classes(spec["family"])
    kw = dict(spec["config"])
    common = dict(vocab_size=VOCAB_SIZE, initializer_range=INIT_STD, bos_token_id=BOS_ID,
                  eos_token_id=BOS_ID)
    if spec["family"] == "gpt2":
        common.update(pad_token_id=None)
    else:
        common.update(max_position_embeddings=MAX_POSITIONS)
        kw.setdefault("pad_token_id", None)
    cfg = cfg_cls(**common, **kw)
    cfg.architectures = [model_cls.__name__]
    return cfg


def parts(model):
    """(embedding module, decoder layers, final norm, lm head) of a causal LM."""
    if hasattr(model, "gpt_neox"):
        b = model.gpt_neox
        return b.embed_in, b.layers, b.final_layer_norm, model.lm_head
    if hasattr(model, "transformer"):
        b = model.transformer
        return b.wte, b.h, b.ln_f, model.lm_head
    b = model.model
    return b.embed_tokens, b.layers, b.norm, model.lm_head


def init_weights(model, seed: int, family: str) -> dict:
    """Every parameter, sorted by name, from one generator: norm weights 1 + 0.1 N(0,1), biases
    (LayerNorm biases included) N(0, 0.08^2), everything else N(0, 0.08^2)."""
    import torch

    norm_weights = set()
    for mname, mod in model.named_modules():
        cname = type(mod).__name__
        if isinstance(mod, torch.nn.LayerNorm) or "RMSNorm" in cname or "LayerNorm" in cname:
            for pname, _ in mod.named_parameters(recurse=False):
                if pname == "weight":
                    norm_weights.add(f"{mname}.weight")
    g = torch.Generator().manual_seed(seed)
    counts = {"norm_weight": 0, "bias": 0, "matrix_or_embedding": 0}
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name in norm_weights:
                p.copy_(1.0 + NORM_JITTER * noise)
                counts["norm_weight"] += 1
            elif name.endswith(".bias"):
                p.copy_(BIAS_STD * noise)
                counts["bias"] += 1
            else:
                p.copy_(INIT_STD * noise)
                counts["matrix_or_embedding"] += 1
    return counts


def legacy_config(data: dict, spec: dict) -> dict:
    """Rewrite a transformers-5 config dict into the form hub checkpoints carry."""
    data = dict(data)
    rope = dict(data.pop("rope_parameters"))
    fam = spec["family"]
    if fam == "gpt_neox":
        data["rotary_emb_base"] = rope.pop("rope_theta")
        data["rotary_pct"] = rope.pop("partial_rotary_factor")
        data.pop("attention_bias")            # Pythia configs predate the key (default true)
        assert rope.get("rope_type", "default") == "default"
        data["rope_scaling"] = None
    else:
        data["rope_theta"] = rope.pop("rope_theta")
        assert rope.get("rope_type", "default") == "default"
        data["rope_scaling"] = None
    data.pop("layer_types", None)
    data.pop("dtype", None)
    data["torch_dtype"] = "float32"
    data.update(spec.get("legacy_extra", {}))
    return data


def config_json(model, spec: dict, tmp: Path) -> dict:
    d = tmp / "cfg"
    model.config.save_pretrained(d)
    data = json.loads((d / "config.json").read_text())
    shutil.rmtree(d)
    if spec["config_format"] == "legacy":
        return legacy_config(data, spec)
    assert spec["config_format"] == "v5"
    return data


def save_weights(model, out: Path, tmp: Path) -> list[str]:
    """Weights exactly as transformers 5 save_pretrained writes them (tied tensors dropped,
    hub names restored, e.g. GPT-NeoX `embed_out`)."""
    d = tmp / "weights"
    model.save_pretrained(d)
    names = sorted(p.name for p in d.iterdir() if p.suffix == ".safetensors" or p.name.endswith(".index.json"))
    for n in names:
        shutil.copyfile(d / n, out / n)
        os.chmod(out / n, 0o644)
    shutil.rmtree(d)
    return names


def tensor_names(out: Path) -> dict:
    from safetensors import safe_open

    res = {}
    for f in sorted(out.glob("*.safetensors")):
        with safe_open(str(f), "pt") as sf:
            for k in sf.keys():
                res[k] = list(sf.get_slice(k).get_shape())
    return dict(sorted(res.items()))


def maxdiff(a, b) -> float:
    return float((a - b).detach().abs().max())


def fmt(x: float) -> float:
    return float(f"{x:.2e}")


def texts_from_tiny_a() -> list[str]:
    ref = json.loads((TINY_A / "reference.json").read_text())
    return [s["text"] for s in ref["sequences"]]


def copy_tokenizer(out: Path) -> None:
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(TINY_A / f, out / f)
        os.chmod(out / f, 0o644)


def write_generation_config(out: Path, versions: dict) -> None:
    base.dump_json(out / "generation_config.json", {
        "_from_model_config": True, "bos_token_id": BOS_ID, "eos_token_id": BOS_ID,
        "transformers_version": versions["transformers"]})


# ----------------------------------------------------------------------------------------------
# running transformers, with hooks
# ----------------------------------------------------------------------------------------------

class Probe:
    """Forward hooks on the embedding, every decoder layer (input and output) and the final norm."""

    def __init__(self, model):
        self.embed, self.layers, self.norm, self.head = parts(model)
        self.rec = {}
        self.handles = [
            self.embed.register_forward_hook(lambda m, i, o: self.rec.__setitem__("embed", o.detach().clone())),
            self.layers[0].register_forward_pre_hook(self._pre, with_kwargs=True),
            self.norm.register_forward_hook(lambda m, i, o: self.rec.__setitem__("norm_out", o.detach().clone())),
        ]
        for idx, layer in enumerate(self.layers):
            self.handles.append(layer.register_forward_hook(self._post(idx)))

    def _pre(self, mod, args, kwargs):
        x = args[0] if args else kwargs["hidden_states"]
        self.rec["layer0_in"] = x.detach().clone()

    def _post(self, idx):
        def hook(mod, inp, out):
            o = out[0] if isinstance(out, tuple) else out
            self.rec[f"layer{idx}_out"] = o.detach().clone()
        return hook

    def remove(self):
        for h in self.handles:
            h.remove()


def run_hidden(model, ids: list[int]):
    import torch

    with torch.no_grad():
        res = model(input_ids=torch.tensor([ids]), output_hidden_states=True)
    return torch.stack(res.hidden_states, 0)[:, 0], res.logits[0]


def variant(model, changes: dict):
    """The same weights in a model built from a modified config (for ablations)."""
    cfg = copy.deepcopy(model.config)
    for k, v in changes.items():
        setattr(cfg, k, v)
    m2 = type(model)(cfg)
    m2.load_state_dict(model.state_dict(), strict=True)
    m2.eval()
    return m2


def ablation(model, changes: dict, seqs, reference_changes: dict | None = None) -> dict:
    """Max abs change of the hidden states / last logits when the config is changed (relative to
    the fixture itself, or to another variant given by `reference_changes`)."""
    m2 = variant(model, changes)
    if reference_changes is not None:
        model = variant(model, reference_changes)
    hs_d, lg_d = 0.0, 0.0
    for ids in seqs:
        a, la = run_hidden(model, ids)
        b, lb = run_hidden(m2, ids)
        hs_d = max(hs_d, maxdiff(a, b))
        lg_d = max(lg_d, maxdiff(la[-1], lb[-1]))
    return {"max_abs_change_hidden_states": fmt(hs_d), "max_abs_change_last_logits": fmt(lg_d)}


class AttentionSpy:
    """Wraps the family's eager attention kernel to record what each layer's attention receives
    (query, key, value after projection / norm / clip / rope, and the additive mask)."""

    def __init__(self, family: str):
        import importlib
        self.mod = importlib.import_module(f"transformers.models.{family}.modeling_{family}")
        self.orig = self.mod.eager_attention_forward
        self.calls = {}

    def __enter__(self):
        orig = self.orig

        def spy(module, query, key, value, attention_mask, *args, **kwargs):
            self.calls.setdefault(module.layer_idx, dict(query=query.detach().clone(), key=key.detach().clone(),
                                                         value=value.detach().clone(), mask=attention_mask))
            return orig(module, query, key, value, attention_mask, *args, **kwargs)

        self.mod.eager_attention_forward = spy
        return self

    def __exit__(self, *exc):
        self.mod.eager_attention_forward = self.orig


def output_of(module, fn):
    """Run fn() with a forward hook on module; return (fn's result, module's output)."""
    box = {}
    h = module.register_forward_hook(lambda m, i, o: box.__setitem__("o", o.detach().clone()))
    try:
        res = fn()
    finally:
        h.remove()
    return res, box["o"]


def final_norm_formula(family: str, norm, x):
    """The final norm written out by hand (to check (1 + w), LayerNorm bias, non-parametric norm)."""
    import torch
    import torch.nn.functional as F

    if family in ("gpt_neox", "gpt2"):
        return F.layer_norm(x, x.shape[-1:], norm.weight, norm.bias, norm.eps), "F.layer_norm(x, w, b, eps)"
    if family == "olmo":
        return F.layer_norm(x, x.shape[-1:], None, None, 1e-5), "F.layer_norm(x, no weight, no bias, 1e-5)"
    eps = getattr(norm, "eps", None) or getattr(norm, "variance_epsilon")
    r = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    if family in ("gemma", "gemma2", "gemma3"):
        return r * (1.0 + norm.weight), "x * rsqrt(mean(x^2) + eps) * (1 + w)"
    return norm.weight * r, "w * x * rsqrt(mean(x^2) + eps)"


def layout_checks(fam: str, m, ids: list[int]) -> dict:
    """Hook evidence for how fused projections are split and where rope / norms / clipping sit."""
    import torch

    out = {}
    layer0 = parts(m)[1][0]
    if fam == "gpt_neox":
        att = layer0.attention
        heads, hs, rot = m.config.num_attention_heads, att.head_size, att.rotary_ndims
        with AttentionSpy(fam) as spy:
            _, qkv = output_of(att.query_key_value, lambda: run_hidden(m, ids))
        got = spy.calls[0]
        T = len(ids)
        per_head = qkv.view(1, T, heads, 3 * hs).transpose(1, 2)
        q_raw, k_raw, v_raw = per_head.chunk(3, dim=-1)
        H = heads * hs
        v_blocks = qkv[..., 2 * H:].view(1, T, heads, hs).transpose(1, 2)
        out["value_vs_per_head_split_of_query_key_value"] = fmt(maxdiff(got["value"], v_raw))
        out["value_vs_q_k_v_block_split"] = fmt(maxdiff(got["value"], v_blocks))
        if rot < hs:        # the pass-through dims reach attention unchanged
            out[f"query_dims_{rot}_to_{hs - 1}_vs_unrotated_projection"] = fmt(
                maxdiff(got["query"][..., rot:], q_raw[..., rot:]))
            assert out[f"query_dims_{rot}_to_{hs - 1}_vs_unrotated_projection"] == 0.0
        out[f"query_dims_0_to_{rot - 1}_vs_unrotated_projection"] = fmt(
            maxdiff(got["query"][..., :rot], q_raw[..., :rot]))
        out["query_position_0_vs_unrotated_projection"] = fmt(maxdiff(got["query"][:, :, 0], q_raw[:, :, 0]))
        assert out["value_vs_per_head_split_of_query_key_value"] == 0.0
        assert out["value_vs_q_k_v_block_split"] > 1e-2
        assert out[f"query_dims_0_to_{rot - 1}_vs_unrotated_projection"] > 1e-3
        assert out["query_position_0_vs_unrotated_projection"] == 0.0
    elif fam == "gpt2":
        att = layer0.attn
        heads, H = m.config.n_head, m.config.n_embd
        hd = H // heads
        with AttentionSpy(fam) as spy:
            _, c = output_of(att.c_attn, lambda: run_hidden(m, ids))
        got = spy.calls[0]
        T = len(ids)
        blocks = [c[..., i * H:(i + 1) * H].view(1, T, heads, hd).transpose(1, 2) for i in range(3)]
        per_head = c.view(1, T, heads, 3 * hd).transpose(1, 2).chunk(3, dim=-1)
        out["query_vs_block_split_of_c_attn"] = fmt(maxdiff(got["query"], blocks[0]))
        out["key_vs_block_split_of_c_attn"] = fmt(maxdiff(got["key"], blocks[1]))
        out["value_vs_block_split_of_c_attn"] = fmt(maxdiff(got["value"], blocks[2]))
        out["value_vs_per_head_split_of_c_attn"] = fmt(maxdiff(got["value"], per_head[2]))
        x = parts(m)[1][0].ln_1
        _, ln1 = output_of(x, lambda: run_hidden(m, ids))
        out["c_attn_output_vs_x_matmul_W_plus_b"] = fmt(maxdiff(c, ln1 @ att.c_attn.weight + att.c_attn.bias))
        assert out["query_vs_block_split_of_c_attn"] == out["value_vs_block_split_of_c_attn"] == 0.0
        assert out["value_vs_per_head_split_of_c_attn"] > 1e-2
        assert out["c_attn_output_vs_x_matmul_W_plus_b"] <= 1e-6
    elif fam == "olmo":
        with AttentionSpy(fam) as spy:
            run_hidden(m, ids)
        clip = m.config.clip_qkv
        out["max_abs_value_seen_by_attention_per_layer"] = [float(spy.calls[i]["value"].abs().max())
                                                          for i in sorted(spy.calls)]
        assert all(v == clip for v in out["max_abs_value_seen_by_attention_per_layer"])
    elif fam == "olmo2":
        att = layer0.self_attn
        heads, hd = m.config.num_attention_heads, att.head_dim
        with AttentionSpy(fam) as spy:
            _, qn = output_of(att.q_norm, lambda: run_hidden(m, ids))
        got = spy.calls[0]["query"]                       # [1, heads, T, hd], after rope
        qn_heads = qn.view(1, len(ids), heads, hd).transpose(1, 2)
        out["query_at_position_0_vs_q_norm_output"] = fmt(maxdiff(got[:, :, 0], qn_heads[:, :, 0]))
        out["query_at_positions_1_plus_vs_q_norm_output"] = fmt(maxdiff(got[:, :, 1:], qn_heads[:, :, 1:]))
        assert out["query_at_position_0_vs_q_norm_output"] == 0.0      # rope is the identity at 0
        assert out["query_at_positions_1_plus_vs_q_norm_output"] > 1e-3
    return out


def family_checks(spec: dict, m, seqs: list[list[int]]) -> dict:
    """Architecture-specific evidence that each feature is active and matters."""
    import torch

    fam = spec["family"]
    cfg = m.config
    out = {}
    layout = layout_checks(fam, m, seqs[0])
    if layout:
        out["hook_evidence"] = layout
    if fam == "qwen2":
        attn = parts(m)[1][0].self_attn
        out["loaded_sliding_window"] = cfg.sliding_window
        out["loaded_layer_types"] = list(cfg.layer_types)
        assert cfg.sliding_window is None and all(t == "full_attention" for t in cfg.layer_types)
        assert attn.q_proj.bias is not None and attn.k_proj.bias is not None and attn.v_proj.bias is not None
        assert attn.o_proj.bias is None
        if spec["config_format"] == "legacy":
            out["if_sliding_window_4_were_applied"] = ablation(
                m, {"use_sliding_window": True, "sliding_window": 4,
                    "layer_types": ["sliding_attention"] * cfg.num_hidden_layers}, seqs)
            assert out["if_sliding_window_4_were_applied"]["max_abs_change_hidden_states"] > 1e-2
    elif fam == "gpt_neox":
        att = parts(m)[1][0].attention
        out["rotary_ndims"] = att.rotary_ndims
        out["head_size"] = att.head_size
        out["partial_rotary_factor"] = cfg.rope_parameters["partial_rotary_factor"]
        other = 1.0 if cfg.rope_parameters["partial_rotary_factor"] != 1.0 else 0.25
        rp = dict(cfg.rope_parameters, partial_rotary_factor=other)
        out[f"if_partial_rotary_factor_were_{other}"] = ablation(m, {"rope_parameters": rp}, seqs)
        out[f"if_use_parallel_residual_were_{not cfg.use_parallel_residual}".lower()] = ablation(
            m, {"use_parallel_residual": not cfg.use_parallel_residual}, seqs)
        out["if_gelu_were_tanh_approximate"] = ablation(m, {"hidden_act": "gelu_new"}, seqs)
        for k, v in out.items():       # each above the 1e-4 parity tolerance
            if k.startswith("if_"):
                assert v["max_abs_change_hidden_states"] > (2e-4 if "gelu" in k else 1e-2), out
    elif fam == "olmo":
        clip = cfg.clip_qkv
        counts, totals = {}, {}
        handles = []
        for li, layer in enumerate(parts(m)[1]):
            for pn in ("q_proj", "k_proj", "v_proj"):
                def hook(mod, inp, o, key=f"layer{li}.{pn}"):
                    o = o.detach()
                    counts[key] = counts.get(key, 0) + int((o.abs() > clip).sum())
                    totals[key] = totals.get(key, 0) + o.numel()
                handles.append(getattr(layer.self_attn, pn).register_forward_hook(hook))
        run_hidden(m, seqs[0])
        for h in handles:
            h.remove()
        out["clipped_elements_sequence_0"] = {k: f"{counts[k]} of {totals[k]}" for k in sorted(counts)}
        out["clipped_total_sequence_0"] = f"{sum(counts.values())} of {sum(totals.values())}"
        assert all(counts[k] > 0 for k in counts), counts
        out["if_clip_qkv_were_null"] = ablation(m, {"clip_qkv": None}, seqs)
        assert out["if_clip_qkv_were_null"]["max_abs_change_hidden_states"] > 1e-2
        out["norm_parameters_in_model"] = sum(
            p.numel() for n, p in m.named_parameters() if "norm" in n)
    elif fam == "olmo2":
        att = parts(m)[1][0].self_attn
        out["q_norm_width"] = att.q_norm.weight.numel()
        out["k_norm_width"] = att.k_norm.weight.numel()
        # per-head q/k norm would give different numbers: show it matters
        hs_full, _ = run_hidden(m, seqs[0])

        def per_head(norm, heads):
            def f(x):
                shp = x.shape
                xs = x.view(*shp[:-1], heads, -1).float()
                xs = xs * torch.rsqrt(xs.pow(2).mean(-1, keepdim=True) + norm.variance_epsilon)
                return norm.weight * xs.view(shp)
            return f
        for layer in parts(m)[1]:
            a = layer.self_attn
            a.q_norm.forward = per_head(a.q_norm, cfg.num_attention_heads)
            a.k_norm.forward = per_head(a.k_norm, cfg.num_key_value_heads)
        hs_ph, _ = run_hidden(m, seqs[0])
        for layer in parts(m)[1]:
            del layer.self_attn.q_norm.forward, layer.self_attn.k_norm.forward
        out["if_q_k_norm_were_per_head"] = {"max_abs_change_hidden_states": fmt(maxdiff(hs_full, hs_ph))}
        assert out["if_q_k_norm_were_per_head"]["max_abs_change_hidden_states"] > 1e-3
    elif fam == "gemma":
        out["loaded_hidden_act"] = cfg.hidden_act
        assert cfg.hidden_act == "gelu_pytorch_tanh"
        out["if_gelu_were_exact_erf"] = ablation(m, {"hidden_act": "gelu"}, seqs)
        assert out["if_gelu_were_exact_erf"]["max_abs_change_hidden_states"] > 1e-4
    elif fam == "gemma2":
        out.update(gemma2_checks(m, seqs))
    elif fam == "gemma3":
        out["loaded_layer_types"] = list(cfg.layer_types)
        out["loaded_rope_parameters"] = {k: dict(sorted(v.items())) for k, v in sorted(cfg.rope_parameters.items())}
        full = dict(cfg.rope_parameters["full_attention"])
        out["if_sliding_layers_used_the_global_rope"] = ablation(
            m, {"rope_parameters": {"full_attention": full, "sliding_attention": dict(full)}}, seqs)
        assert out["if_sliding_layers_used_the_global_rope"]["max_abs_change_hidden_states"] > 1e-3
        out["if_no_layer_were_sliding"] = ablation(
            m, {"layer_types": ["full_attention"] * cfg.num_hidden_layers}, seqs)
        assert out["if_no_layer_were_sliding"]["max_abs_change_hidden_states"] > 1e-3
    elif fam == "gpt2":
        blk = parts(m)[1][0]
        out["c_attn_weight_shape"] = list(blk.attn.c_attn.weight.shape)
        out["mlp_width"] = blk.mlp.c_fc.nf
        assert out["c_attn_weight_shape"] == [cfg.n_embd, 3 * cfg.n_embd]
        wpe_only = m.transformer.wpe.weight[: len(seqs[0])]
        hs, _ = run_hidden(m, seqs[0])
        emb = m.transformer.wte.weight[torch.tensor(seqs[0])]
        out["hidden_states_0_equals_wte_plus_wpe"] = fmt(maxdiff(hs[0], emb + wpe_only))
        assert out["hidden_states_0_equals_wte_plus_wpe"] == 0.0
    return out


def gemma2_checks(m, seqs) -> dict:
    import torch
    from transformers.models.gemma2 import modeling_gemma2 as mg

    cfg = m.config
    out = {"layer_types": list(cfg.layer_types),
           "sliding_window_per_layer": [l.self_attn.sliding_window for l in parts(m)[1]],
           "attention_scaling": parts(m)[1][0].self_attn.scaling}
    # largest attention score before the cap, per layer (wrapping the eager kernel)
    orig = mg.eager_attention_forward
    peaks = {}

    def spy(module, query, key, value, attention_mask, dropout=0.0, scaling=None, softcap=None, **kw):
        k = mg.repeat_kv(key, module.num_key_value_groups)
        s = torch.matmul(query, k.transpose(2, 3)) * scaling
        n = s.shape[-1]
        i = torch.arange(n)[:, None]
        j = torch.arange(n)[None, :]
        visible = j <= i
        if module.sliding_window:
            visible &= j > i - module.sliding_window
        peaks[module.layer_idx] = max(peaks.get(module.layer_idx, 0.0), float(s.abs()[..., visible].max()))
        return orig(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                    softcap=softcap, **kw)

    mg.eager_attention_forward = spy
    try:
        for ids in seqs:
            run_hidden(m, ids)
    finally:
        mg.eager_attention_forward = orig
    out["max_abs_attention_score_before_cap_per_layer"] = [round(peaks[i], 3) for i in sorted(peaks)]
    cap = cfg.attn_logit_softcapping
    out["attn_softcap"] = cap
    out["if_attn_softcap_were_null"] = ablation(m, {"attn_logit_softcapping": None}, seqs)
    out["cap_50_vs_no_cap"] = ablation(m, {"attn_logit_softcapping": 50.0}, seqs,
                                       reference_changes={"attn_logit_softcapping": None})
    out["if_final_softcap_were_null"] = ablation(m, {"final_logit_softcapping": None}, seqs)
    out["if_query_pre_attn_scalar_were_head_dim"] = ablation(
        m, {"query_pre_attn_scalar": cfg.head_dim}, seqs)
    assert out["if_attn_softcap_were_null"]["max_abs_change_hidden_states"] > 1e-2
    assert out["if_final_softcap_were_null"]["max_abs_change_last_logits"] > 1e-4
    # sliding window: all-global variant; show the change is confined to positions >= window in layer 0
    full = variant(m, {"layer_types": ["full_attention"] * cfg.num_hidden_layers})
    a, _ = run_hidden(m, seqs[0])
    b, _ = run_hidden(full, seqs[0])
    per_pos = (a[1] - b[1]).abs().amax(-1)
    w = cfg.sliding_window
    out["if_all_layers_were_global"] = {
        "max_abs_change_hidden_states": fmt(maxdiff(a, b)),
        "layer0_output_change_at_positions_below_window": fmt(float(per_pos[:w].max())),
        "layer0_output_change_at_positions_from_window": fmt(float(per_pos[w:].min())) ,
        "note": "min over positions >= window of the per-position max change: every such position changes",
    }
    assert float(per_pos[:w].max()) == 0.0 and float(per_pos[w:].min()) > 0.0
    # exact window semantics: with window w-1 position w-1 would already change
    narrower = variant(m, {"sliding_window": w - 1})
    c, _ = run_hidden(narrower, seqs[0])
    pp = (a[1] - c[1]).abs().amax(-1)
    out["window_semantics"] = (f"query i sees keys j with i - {w} < j <= i ({w} keys incl. itself): "
                               f"with sliding_window {w - 1} layer 0 first changes at position "
                               f"{int(torch.nonzero(pp > 0)[0])}")
    assert int(torch.nonzero(pp > 0)[0]) == w - 1
    # padded batch: is the sliding window the reason for the (small) batch-vs-alone difference?
    lens = [len(x) for x in seqs]
    T = max(lens)
    ids = torch.tensor([x + [BOS_ID] * (T - len(x)) for x in seqs])
    mask = torch.tensor([[1] * n + [0] * (T - n) for n in lens])
    diffs = {}
    for label, mm in (("fixture", m), ("all_layers_global", full)):
        with AttentionSpy("gemma2") as spy, torch.no_grad():
            hb = torch.stack(mm(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states)
        alone = [run_hidden(mm, x)[0] for x in seqs]
        diffs[label] = fmt(max(maxdiff(hb[:, b, :n], alone[b]) for b, n in enumerate(lens)))
        if label == "fixture":
            am = spy.calls[0]["mask"]                      # layer 0 (sliding), [B, 1, T, T]
            minv = torch.finfo(torch.float32).min
            out["batch_sliding_mask_masked_value"] = float(am.min())
            out["batch_sliding_mask_fully_masked_rows"] = int((am == minv).all(-1).sum())
            assert float(am.min()) == minv and torch.isfinite(hb).all()
    out["batch_vs_alone_max_abs_diff"] = diffs
    out["max_abs_hidden_state_value"] = round(float(a.abs().max()), 3)
    return out


def verify_convention(spec_name: str, family: str, m, ids, hs, logits, probe: Probe) -> dict:
    """hidden_states vs what the hooks saw. Raises if transformers' convention is not the one stated."""
    import torch

    rec = probe.rec
    L = len(probe.layers)
    res = {}
    res["index_0_vs_input_of_layer_0"] = maxdiff(hs[0], rec["layer0_in"][0])
    res["index_0_vs_embedding_module_output"] = maxdiff(hs[0], rec["embed"][0])
    raw = probe.embed.weight[torch.tensor(ids)]
    res["index_0_vs_raw_embedding_rows"] = maxdiff(hs[0], raw)
    if family in ("gemma", "gemma2", "gemma3"):
        scale = torch.tensor(m.config.hidden_size ** 0.5, dtype=torch.float32)
        res["index_0_vs_raw_rows_times_sqrt_hidden"] = maxdiff(hs[0], raw * scale)
        assert res["index_0_vs_raw_rows_times_sqrt_hidden"] == 0.0
        assert res["index_0_vs_raw_embedding_rows"] > 1e-2
    elif family == "gpt2":
        assert res["index_0_vs_raw_embedding_rows"] > 1e-2           # + wpe
    else:
        assert res["index_0_vs_raw_embedding_rows"] == 0.0
    assert res["index_0_vs_input_of_layer_0"] == 0.0
    for i in range(1, L):
        res[f"index_{i}_vs_output_of_layer_{i - 1}"] = maxdiff(hs[i], rec[f"layer{i - 1}_out"][0])
        assert res[f"index_{i}_vs_output_of_layer_{i - 1}"] == 0.0
    last = rec[f"layer{L - 1}_out"][0]
    res[f"index_{L}_vs_final_norm_output"] = maxdiff(hs[L], rec["norm_out"][0])
    res[f"index_{L}_vs_final_norm_of_last_layer_output"] = maxdiff(hs[L], probe.norm(last))
    res[f"index_{L}_vs_raw_last_layer_output"] = maxdiff(hs[L], last)
    assert res[f"index_{L}_vs_final_norm_output"] == 0.0
    assert res[f"index_{L}_vs_final_norm_of_last_layer_output"] <= 1e-6
    assert res[f"index_{L}_vs_raw_last_layer_output"] > 1e-2
    formula, text = final_norm_formula(family, probe.norm, last)
    res[f"index_{L}_vs_hand_written_final_norm_of_last_layer_output"] = maxdiff(hs[L], formula)
    assert maxdiff(hs[L], formula) <= 1e-5, (spec_name, maxdiff(hs[L], formula))
    head = probe.head(hs[L])
    cap = getattr(m.config, "final_logit_softcapping", None)
    if cap:
        head = torch.tanh(head / cap) * cap
    res["logits_vs_lm_head_of_index_L" + (" (then softcapped)" if cap else "")] = maxdiff(logits, head)
    assert maxdiff(logits, head) <= 1e-5, (spec_name, maxdiff(logits, head))
    out = {k: fmt(v) for k, v in res.items()}
    out["hand_written_final_norm"] = text
    return out


def references(m, out: Path, seqs_rec: list[dict], hidden: int, family: str, name: str):
    """Write the .npy references; return (singles, batch record, logits record, convention checks)."""
    import torch

    n_layers = len(parts(m)[1])
    probe = Probe(m)
    singles, checks = [], None
    try:
        for i, rec in enumerate(seqs_rec):
            ids = rec["ids_with_special_tokens"]
            probe.rec.clear()
            hs, logits = run_hidden(m, ids)
            assert hs.shape == (n_layers + 1, len(ids), hidden)
            singles.append(hs)
            base.save_npy(out / f"hidden_states_{i}.npy", hs.numpy())
            if i == 0:
                checks = verify_convention(name, family, m, ids, hs, logits, probe)
                logits0 = logits[-1]
                base.save_npy(out / "logits_last_0.npy", logits0.numpy())
                base.save_npy(out / "last_block_output_0.npy", probe.rec[f"layer{n_layers - 1}_out"][0].numpy())
    finally:
        probe.remove()

    lens = [len(r["ids_with_special_tokens"]) for r in seqs_rec]
    max_len = max(lens)
    batch_ids = [r["ids_with_special_tokens"] + [BOS_ID] * (max_len - n) for r, n in zip(seqs_rec, lens)]
    mask = [[1] * n + [0] * (max_len - n) for n in lens]
    with torch.no_grad():
        res = m(input_ids=torch.tensor(batch_ids), attention_mask=torch.tensor(mask), output_hidden_states=True)
    hb = torch.stack(res.hidden_states, 0)
    assert torch.isfinite(hb).all(), f"{name}: non-finite values in the padded batch"
    base.save_npy(out / "hidden_states_batch.npy", hb.numpy())
    batch_diff = max(maxdiff(hb[:, b, :n], singles[b]) for b, n in enumerate(lens))
    assert batch_diff < BATCH_TOLERANCE, f"{name}: batched vs single {batch_diff}"
    batch = {
        "file": "hidden_states_batch.npy",
        "shape": [n_layers + 1, len(seqs_rec), max_len, hidden],
        "padding_side": "right",
        "pad_token_id": BOS_ID,
        "input_ids": batch_ids,
        "attention_mask": mask,
        "note": "values at padded positions (attention_mask 0) are meaningless; position ids are 0..T-1",
        "max_abs_diff_vs_unbatched_at_real_positions": float(f"{batch_diff:.1e}"),
    }
    logits_rec = {"file": "logits_last_0.npy", "shape": [VOCAB_SIZE], "position": lens[0] - 1,
                  "argmax": int(torch.argmax(logits0))}
    last_rec = {"file": "last_block_output_0.npy", "shape": [lens[0], hidden]}
    return singles, batch, logits_rec, last_rec, checks


def sequences_record(seqs_rec, n_layers, hidden):
    out = []
    for i, rec in enumerate(seqs_rec):
        n = len(rec["ids_with_special_tokens"])
        out.append({**rec, "input_ids": rec["ids_with_special_tokens"], "length": n,
                    "hidden_states_file": f"hidden_states_{i}.npy",
                    "hidden_states_shape": [n_layers + 1, n, hidden]})
    return out


def tokenizer_record(family: str) -> dict:
    rec = {
        "file": "tokenizer.json",
        "adds_bos": True,
        "adds_eos": False,
        "bos_token": base.SPECIAL_TOKEN, "bos_token_id": BOS_ID,
        "eos_token": base.SPECIAL_TOKEN, "eos_token_id": BOS_ID,
        "pad_token_id_used_for_batch": BOS_ID,
        "note": "input_ids = tokenizer.encode(text).ids (add_special_tokens=True), which is "
                "[bos] + tokenizer.encode(text, add_special_tokens=False).ids; the tokenizer files are "
                "copied byte for byte from data/tiny-llama/tiny-a",
    }
    if family == "gpt2":
        rec["note"] += ("; GPT-2 itself has no BOS convention (its own tokenizer adds nothing): these ids "
                        "are exactly what this shared tokenizer.json gives, <|endoftext|> first")
    return rec


CONVENTIONS = {
    "default": {
        "index_0": "token embeddings (input to layer 0)",
        "index_L": "model.norm (final RMSNorm) applied to the output of the last decoder layer",
    },
    "olmo": {
        "index_0": "token embeddings (input to layer 0)",
        "index_L": "model.norm (final non-parametric LayerNorm, eps 1e-5) applied to the output of the "
                   "last decoder layer",
    },
    "gemma": {
        "index_0": "token embeddings multiplied by sqrt(hidden_size) (input to layer 0)",
        "index_L": "model.norm (final RMSNorm, x * (1 + w)) applied to the output of the last decoder layer",
    },
    "gpt_neox": {
        "index_0": "token embeddings from gpt_neox.embed_in (input to layer 0; no position embedding)",
        "index_L": "gpt_neox.final_layer_norm (LayerNorm with bias) applied to the output of the last layer",
    },
    "gpt2": {
        "index_0": "wte(ids) + wpe(positions) (input to block 0)",
        "index_L": "transformer.ln_f (LayerNorm with bias) applied to the output of the last block",
    },
}
CONVENTIONS["gemma2"] = CONVENTIONS["gemma"]
CONVENTIONS["gemma3"] = CONVENTIONS["gemma"]


def convention_record(family: str, checks: dict) -> dict:
    c = CONVENTIONS.get(family, CONVENTIONS["default"])
    return {
        "index_0": c["index_0"],
        "index_i_for_1_to_L-1": "residual stream output of decoder layer i-1",
        "index_L": c["index_L"],
        "last_block_output_0_file": "last_block_output_0.npy: output of the last decoder layer "
                                    "before the final norm, sequence 0, [T, H]",
        "verified_with_hooks_max_abs_diff": checks,
    }


# ----------------------------------------------------------------------------------------------
# one architecture
# ----------------------------------------------------------------------------------------------

def make_model(spec: dict, out: Path, texts: list[str], versions: dict, tmp: Path) -> dict:
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoConfig, AutoModelForCausalLM, PreTrainedTokenizerFast

    out.mkdir(parents=True, exist_ok=True)
    fam = spec["family"]
    cfg = build_config(spec)
    _, model_cls = family_classes(fam)

    torch.manual_seed(spec["seed"])
    model = model_cls(cfg).to(torch.float32)
    init_counts = init_weights(model, spec["seed"], fam)
    model.eval()

    weight_files = save_weights(model, out, tmp)
    cfg_json = config_json(model, spec, tmp)
    base.dump_json(out / "config.json", cfg_json)
    write_generation_config(out, versions)
    copy_tokenizer(out)

    # --- reload from disk as a user would -------------------------------------------------------
    loaded_cfg = AutoConfig.from_pretrained(out)
    for key in ("rope_parameters", "layer_types", "sliding_window", "hidden_act", "hidden_activation",
                "num_key_value_heads", "head_dim", "tie_word_embeddings", "attention_bias",
                "use_parallel_residual", "clip_qkv", "query_pre_attn_scalar",
                "attn_logit_softcapping", "final_logit_softcapping", "n_inner"):
        if hasattr(cfg, key):
            assert getattr(loaded_cfg, key) == getattr(cfg, key), (spec["name"], key, getattr(loaded_cfg, key),
                                                                  getattr(cfg, key))
    m, info = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32, attn_implementation="eager",
                                                   output_loading_info=True)
    bad = {k: v for k, v in info.items() if v}
    assert not bad, f"loading {spec['name']}: {bad}"
    assert type(m) is model_cls, type(m)
    m.eval()
    want = model.state_dict()
    got = m.state_dict()
    assert set(want) == set(got)
    for k in want:
        assert torch.equal(want[k], got[k]), f"{spec['name']}: weight {k} changed on reload"
    if cfg.tie_word_embeddings:
        assert m.get_output_embeddings().weight.data_ptr() == m.get_input_embeddings().weight.data_ptr()
    hf_tok = PreTrainedTokenizerFast.from_pretrained(out)
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))

    seqs_rec = [base.encode_record(tok, hf_tok, t) for t in texts]
    hidden = m.config.hidden_size
    n_layers = m.config.num_hidden_layers
    singles, batch, logits_rec, last_rec, conv = references(m, out, seqs_rec, hidden, fam, spec["name"])
    fchecks = family_checks(spec, m, [r["ids_with_special_tokens"] for r in seqs_rec])

    n_params = sum(p.numel() for p in m.parameters())
    ref = {
        "model": spec["name"],
        "description": spec["note"],
        "model_type": m.config.model_type,
        "transformers_class": type(m).__name__,
        "transformers_config_class": type(m.config).__name__,
        "exercises": spec["exercises"],
        "generator": GENERATOR,
        "seed": spec["seed"],
        "init": {"std": INIT_STD, "norm_weight": f"1 + {NORM_JITTER} * N(0,1)", "bias_std": BIAS_STD,
                 "order": "parameters sorted by name, one torch.Generator seeded with `seed`",
                 "note": "norm weights are the stored values; for Gemma's x * (1 + w) RMSNorm the "
                         "effective scale is therefore about 2. LayerNorm biases are N(0, 0.08^2).",
                 "tensors": init_counts},
        "versions": versions,
        "dtype": "float32",
        "attn_implementation": "eager",
        "torch_num_threads": 1,
        "num_parameters": n_params,
        "config_format": spec["config_format"],
        "architecture": architecture_record(m.config, fam),
        "weights": {"files": weight_files, "tensors": tensor_names(out)},
        "tokenizer": tokenizer_record(fam),
        "hidden_states_convention": convention_record(fam, conv),
        "checks": fchecks,
        "sequences": sequences_record(seqs_rec, n_layers, hidden),
        "batch": batch,
        "logits_last_0": logits_rec,
        "last_block_output_0": last_rec,
    }
    base.dump_json_ordered(out / "reference.json", ref)
    return ref


def architecture_record(cfg, fam: str) -> dict:
    a = {"num_hidden_layers": cfg.num_hidden_layers, "hidden_size": cfg.hidden_size}
    if fam == "gpt2":
        a["intermediate_size"] = cfg.n_inner or 4 * cfg.n_embd
        a["n_inner"] = cfg.n_inner
    else:
        a["intermediate_size"] = cfg.intermediate_size
    a["num_attention_heads"] = cfg.num_attention_heads
    a["num_key_value_heads"] = getattr(cfg, "num_key_value_heads", cfg.num_attention_heads)
    a["head_dim"] = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    a["tie_word_embeddings"] = cfg.tie_word_embeddings
    keys = {
        "qwen2": ["rms_norm_eps", "hidden_act", "use_sliding_window", "sliding_window", "max_window_layers",
                  "layer_types"],
        "gpt_neox": ["layer_norm_eps", "hidden_act", "use_parallel_residual", "attention_bias"],
        "olmo": ["hidden_act", "clip_qkv", "attention_bias"],
        "olmo2": ["rms_norm_eps", "hidden_act", "attention_bias"],
        "gemma": ["rms_norm_eps", "hidden_act", "attention_bias"],
        "gemma2": ["rms_norm_eps", "hidden_activation", "query_pre_attn_scalar", "attn_logit_softcapping",
                   "final_logit_softcapping", "sliding_window", "layer_types", "attention_bias"],
        "gemma3": ["rms_norm_eps", "hidden_activation", "query_pre_attn_scalar", "attn_logit_softcapping",
                   "final_logit_softcapping", "sliding_window", "layer_types", "attention_bias"],
        "gpt2": ["layer_norm_epsilon", "activation_function", "n_positions", "scale_attn_weights",
                 "scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn"],
    }[fam]
    for k in keys:
        v = getattr(cfg, k)
        a[k] = list(v) if isinstance(v, (list, tuple)) else v
    if fam == "olmo":
        a["layer_norm_eps"] = 1e-5
        a["layer_norm"] = "non-parametric (F.layer_norm without weight or bias), eps hard-coded 1e-5"
    if hasattr(cfg, "rope_parameters") and cfg.rope_parameters:
        a["rope_parameters"] = dict(sorted(cfg.rope_parameters.items()))
    a["vocab_size"] = cfg.vocab_size
    a["max_position_embeddings"] = cfg.max_position_embeddings
    return a


# ----------------------------------------------------------------------------------------------
# weight-format variants of tiny-a
# ----------------------------------------------------------------------------------------------

def make_llama_variant(spec: dict, out: Path, versions: dict, tmp: Path) -> dict:
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, LlamaForCausalLM

    out.mkdir(parents=True, exist_ok=True)
    for f in ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(TINY_A / f, out / f)
        os.chmod(out / f, 0o644)
    src = LlamaForCausalLM.from_pretrained(TINY_A, dtype=torch.float32, attn_implementation="eager")
    src.eval()
    if spec["weights"] == "sharded":
        d = tmp / "sharded"
        src.save_pretrained(d, max_shard_size=spec["max_shard_size"])
        files = sorted(p.name for p in d.iterdir() if p.name.startswith("model") and
                       (p.suffix == ".safetensors" or p.name.endswith(".index.json")))
        assert len([f for f in files if f.endswith(".safetensors")]) == 2, files
        for f in files:
            shutil.copyfile(d / f, out / f)
            os.chmod(out / f, 0o644)
        shutil.rmtree(d)
        # the shards hold exactly tiny-a's tensors
        orig = load_file(str(TINY_A / "model.safetensors"))
        merged = {}
        for f in files:
            if f.endswith(".safetensors"):
                merged.update(load_file(str(out / f)))
        assert set(merged) == set(orig) and all(torch.equal(merged[k], orig[k]) for k in orig)
        index = json.loads((out / "model.safetensors.index.json").read_text())
        weights_info = {"files": files, "format": "safetensors, 2 shards + index",
                        "weight_map": index["weight_map"], "index_metadata": index["metadata"]}
    else:
        # transformers 5 removed save_pretrained(safe_serialization=False); this is what 4.x did:
        # torch.save of the full state_dict (tied lm_head.weight included, sharing storage)
        sd = src.state_dict()
        assert sd["lm_head.weight"].data_ptr() == sd["model.embed_tokens.weight"].data_ptr()
        torch.save(sd, out / "pytorch_model.bin")
        os.chmod(out / "pytorch_model.bin", 0o644)
        files = ["pytorch_model.bin"]
        loaded = torch.load(out / "pytorch_model.bin", weights_only=True, map_location="cpu")
        orig = load_file(str(TINY_A / "model.safetensors"))
        assert set(loaded) == set(orig) | {"lm_head.weight"}
        assert all(torch.equal(loaded[k], orig[k]) for k in orig)
        weights_info = {"files": files, "format": "PyTorch zip pickle (torch.save of the state_dict)",
                        "tensors": {k: list(v.shape) for k, v in sorted(loaded.items())},
                        "shared_storage": [["lm_head.weight", "model.embed_tokens.weight"]]}

    m, info = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32, attn_implementation="eager",
                                                   output_loading_info=True)
    bad = {k: v for k, v in info.items() if v}
    assert not bad, f"loading {spec['name']}: {bad}"
    m.eval()
    ref = json.loads((TINY_A / "reference.json").read_text())
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    hf_tok = PreTrainedTokenizerFast.from_pretrained(out)
    seqs_rec = [base.encode_record(tok, hf_tok, s["text"]) for s in ref["sequences"]]
    hidden = m.config.hidden_size
    _, batch, logits_rec, last_rec, conv = references(m, out, seqs_rec, hidden, "llama", spec["name"])
    same = {}
    for f in ("hidden_states_0.npy", "hidden_states_1.npy", "hidden_states_batch.npy", "logits_last_0.npy",
              "last_block_output_0.npy"):
        a, b = np.load(out / f), np.load(TINY_A / f)
        assert a.shape == b.shape, f
        same[f] = float(np.abs(a - b).max())
        assert same[f] == 0.0, (spec["name"], f, same[f])

    new = {"model": spec["name"], "description": spec["note"], "model_type": "llama",
           "transformers_class": type(m).__name__, "transformers_config_class": type(m.config).__name__,
           "exercises": spec["exercises"], "generator": GENERATOR,
           "copied_from": "data/tiny-llama/tiny-a (config, tokenizer and weights; references recomputed "
                          "by transformers from this folder and equal to tiny-a's bit for bit)"}
    for k, v in ref.items():
        if k in ("model", "description", "generator"):
            continue
        new[k] = v
    new["weights"] = weights_info
    new["hidden_states_convention"] = dict(ref["hidden_states_convention"],
                                           verified_with_hooks_max_abs_diff=conv)
    new["checks"] = {"max_abs_diff_vs_tiny_a_references": same}
    new["batch"] = batch
    new["logits_last_0"] = logits_rec
    new["last_block_output_0"] = last_rec
    base.dump_json_ordered(out / "reference.json", new)
    return new


# ----------------------------------------------------------------------------------------------
# README
# ----------------------------------------------------------------------------------------------

README = """\
# Tiny random-weight models, one per architecture (test fixtures)

One small checkpoint per decoder family lossy runs besides Llama, in Hugging Face layout, with
reference activations from HF transformers, plus two weight-format variants of the Llama fixture
`data/tiny-llama/tiny-a`. **The weights are random: these models have learned nothing.** Only
their agreement with transformers matters. Made by `scripts/make_arch_fixtures.py`; same file
layout and `reference.json` schema as `data/tiny-llama/` (see its README), so the same parity
test can walk both folders.

| model | transformers class | params | layers | hidden | heads / KV | head dim | FFN | tied | config form | what it exercises |
|---|---|---|---|---|---|---|---|---|---|---|
{table}

All: vocab {vocab} (the tiny-a byte-level BPE, copied byte for byte), float32, two reference texts
{texts} (the tiny-a texts and ids; the tokenizer prepends `<|endoftext|>` = id 0 for every model,
GPT-2 included: GPT-2 has no BOS convention of its own, and the ids are recorded exactly as this
tokenizer gives them).

Each folder holds `config.json`, `generation_config.json`, the weights, `tokenizer.json`,
`tokenizer_config.json`, and `reference.json` (texts, ids, shapes, padding mask, versions, seeds,
tensor names and shapes, `model_type`, `transformers_class`, `exercises`, and the evidence of every
check below) with `hidden_states_0.npy`, `hidden_states_1.npy` (`[L+1, T, hidden]`),
`hidden_states_batch.npy` (`[L+1, 2, 24, hidden]`, right-padded with id 0 and an attention mask;
padded positions are meaningless), `logits_last_0.npy` (`[384]`) and `last_block_output_0.npy`
(`[T, hidden]`, the last block's output before the final norm, from a forward hook).

Config forms: "legacy" is how hub checkpoints (saved by transformers 4.x) spell the config:
`rope_theta` / GPT-NeoX `rotary_pct` + `rotary_emb_base`, `torch_dtype`, no `layer_types`;
"v5" is exactly what transformers 5.24 `save_pretrained` writes (`rope_parameters` holding
`rope_theta` and, for GPT-NeoX, `partial_rotary_factor`; `layer_types` for Qwen2 / Gemma 2; `dtype`).
Both load identically in transformers 5 (checked on every run: the reloaded config equals the
one the model was built from).

## Hidden-state convention, per architecture

`model(input_ids, output_hidden_states=True).hidden_states` has L+1 entries in every family here.
In transformers 5.24 they are collected by forward hooks (`capture_outputs`): entry 0 is the
*input* of decoder layer 0, entry i (1 <= i < L) the output of layer i-1, and entry L is replaced
by the model's `last_hidden_state`, i.e. **after the final norm** (`tie_last_hidden_states`).
The generator checks each of these statements with its own hooks on sequence 0 (embedding module
output, layer-0 input, every layer's output, the final norm's output) and stores the max abs
differences in `reference.json` (`hidden_states_convention.verified_with_hooks_max_abs_diff`); all
the "equal" ones are exactly 0.

| family | entry 0 | entry L | final norm module | logits |
|---|---|---|---|---|
| qwen2 | `embed_tokens(ids)`, unscaled | final RMSNorm applied | `model.norm` | `lm_head(entry L)` |
| gpt_neox | `embed_in(ids)` (no position embedding; rotary only) | final LayerNorm applied | `gpt_neox.final_layer_norm` (weight + bias) | `embed_out(entry L)` |
| olmo | `embed_tokens(ids)` | final non-parametric LayerNorm applied | `model.norm` (no tensors) | `lm_head(entry L)` |
| olmo2 | `embed_tokens(ids)` | final RMSNorm applied | `model.norm` | `lm_head(entry L)` |
| gemma | `embed_tokens(ids) * sqrt(hidden)` (**scaled**; equals the raw rows times `sqrt({gemma_h})` exactly, the raw rows differ) | final RMSNorm `x * (1 + w)` applied | `model.norm` | `lm_head(entry L)` |
| gemma2 | `embed_tokens(ids) * sqrt(hidden)` (**scaled**, `sqrt({gemma2_h})`) | final RMSNorm `x * (1 + w)` applied | `model.norm` | `30 * tanh(lm_head(entry L) / 30)` |
| gpt2 | `wte(ids) + wpe(positions)` | `ln_f` applied | `transformer.ln_f` (weight + bias) | `lm_head(entry L)` = `wte` tied |

Hook evidence (sequence 0, max abs difference; "raw" = entry L minus the last block's output,
which must *not* be zero; "by hand" = the final norm written out in torch from the hooked last
block output: `w * x * rsqrt(mean(x^2) + eps)`, Gemma `x * rsqrt(mean(x^2) + eps) * (1 + w)`,
LayerNorm `F.layer_norm(x, w, b, eps)`, OLMo `F.layer_norm(x, None, None, 1e-5)`):

| model | entry 0 vs layer-0 input | entry 0 vs raw embedding rows | entry L vs final-norm output | entry L vs norm by hand | entry L vs raw last block | logits vs head(entry L) |
|---|---|---|---|---|---|---|
{evidence}

## What a loader must get right (each verified against transformers)

"Hook" evidence comes from forward hooks and from wrapping the family's eager attention kernel
(which records the q, k, v and mask each layer's attention receives). An "ablation" rebuilds the
model from a modified config with the same weights and reports the max abs change of the hidden
states; the generator fails if a feature the fixture is meant to exercise would change the
result by too little for the 1e-4 parity test to notice. All numbers are in each model's
`reference.json` under `checks`.

{notes}

## Padded batch

Right padding with an attention mask equals running each sequence alone at every real position
(max abs difference per model in the table below; all below the 1e-5 the llama fixtures use).
Gemma 2 has the largest difference, {g2_batch}, and it is **not** caused by the sliding window:
the same model with every layer global gives exactly the same {g2_batch_global}. Its hidden
states are simply the largest (up to {g2_maxh} in magnitude, where a float32 ulp is about 1e-6;
the sandwich norms with weights near 2 grow the residual stream); the difference appears only in
the padded sequence (the full-length one matches exactly), i.e. it comes from attending over a
longer, partly masked key range, a float32 rounding effect of a few ulp. With right padding the window cannot interact with padding at
real positions: a real query at position i only sees keys j <= i, real tokens of its own
sequence, and the window removes some of them exactly as in the unpadded run (positions are
0..T-1 in both). transformers' eager mask uses the float32 minimum ({g2_minv:.4g}), not -inf, so
the {g2_rows} padded query rows of the short sequence whose window holds only padded keys (layer
0 of the batch) stay finite (checked: the whole batch array is finite); they cannot reach real
rows, which never look at later positions.

| model | max abs diff, batch vs alone |
|---|---|
{batch_rows}

## transformers 5.24 details that differ from 4.x (relevant to a config / weight loader)

- `rope_theta` / `rope_scaling` became one `rope_parameters` dict (`{{"rope_theta": ..., "rope_type":
  "default"}}`); GPT-NeoX's `rotary_pct` / `rotary_emb_base` became `rope_parameters.partial_rotary_factor` /
  `rope_theta`. The old keys still load (the legacy-form fixtures here), `save_pretrained` writes
  only the new ones.
- Qwen2 and Gemma 2 configs now carry an explicit `layer_types` list (`"full_attention"` /
  `"sliding_attention"`); when it is missing the default is derived (Gemma 2: even layers slide;
  Qwen2: sliding only if `use_sliding_window` and layer index >= `max_window_layers`). Qwen2's
  `sliding_window` is set to null when `use_sliding_window` is false.
- `torch_dtype` became `dtype`.
- GPT-NeoX's head module is now `lm_head`; a conversion mapping renames `embed_out.*` on load and
  back on save, so files keep `embed_out.weight`.
- `save_pretrained` always writes safetensors (no `safe_serialization` argument any more);
  `pytorch_model.bin` still loads.
- Configs are strict dataclasses: `query_pre_attn_scalar` must be an int (so 2, not 0.5), token ids
  outside the vocabulary are warned about, and `Gemma2Config` (like `LlamaConfig`, unlike
  `GemmaConfig` and `Qwen2Config`) rejects `hidden_size % num_attention_heads != 0` even with an
  explicit `head_dim`.
- `GemmaConfig` rewrites `hidden_act: "gelu"` to `"gelu_pytorch_tanh"` (with a warning); Gemma 2
  uses the key `hidden_activation`.
- `output_hidden_states` is implemented with forward hooks (`capture_outputs`): entry 0 is the
  input of layer 0 and the last entry is replaced by the normed `last_hidden_state`.

## Weight names (one layer; layer 0 shown, others differ only in the index)

{weight_names}

## How they were made

```
python scripts/make_arch_fixtures.py           # writes tests/fixtures/arch/
python scripts/make_arch_fixtures.py --check   # regenerates in a temp dir and compares sha256s
```

Versions: {versions}; the pins of `scripts/requirements-models.txt`. torch runs float32 on one
CPU thread with eager attention. Weights: `transformers` builds each model from its config;
every parameter, in name order, is then drawn from one `torch.Generator` seeded with the model's
seed ({seeds}): matrices and embeddings N(0, {std}^2), every norm weight (RMSNorm and LayerNorm,
including Gemma's `(1 + w)` ones, whose effective scale is therefore about 2) 1 + {jitter}*N(0, 1),
every bias (LayerNorm biases included) N(0, {bias}^2). Weight files are written by transformers
`save_pretrained` (so tied tensors are omitted and GPT-NeoX's head is stored under its hub name
`embed_out.weight`); `llama-bin` is written by `torch.save` of tiny-a's state dict because
transformers 5 no longer has `safe_serialization=False`. Everything is reloaded from disk with
`AutoModelForCausalLM` before the references are computed. `SHA256SUMS` lists every file here
(`cd tests/fixtures/arch && sha256sum -c SHA256SUMS`).

## Licence

Made by this project and distributed under the project's own licence (Cargo.toml declares
Apache-2.0). No third-party weights, text or tokenizer are included.
"""


def notes_text(refs: dict) -> str:
    c = {k: v.get("checks", {}) for k, v in refs.items()}
    q = c["qwen2"]["if_sliding_window_4_were_applied"]["max_abs_change_hidden_states"]
    nx, nxh = c["gpt_neox"], c["gpt_neox"]["hook_evidence"]
    ol = c["olmo"]
    o2 = c["olmo2"]
    g2 = c["gemma2"]
    gp = c["gpt2"]
    ga = refs["gemma"]["architecture"]
    lines = [
        f"- **qwen2**: q/k/v have biases, o_proj has none. The legacy config says `\"sliding_window\": 4` "
        f"but `\"use_sliding_window\": false`; transformers then sets `sliding_window` to null and every "
        f"layer to full attention (hub Qwen2.5 configs look the same, with a window of 32768 or 131072). "
        f"Applying the window anyway changes the hidden states by {q}.",
        f"- **gpt_neox**: `query_key_value.weight` is `[3*hidden, hidden]` with rows grouped **per head**: "
        f"`view(T, heads, 3*head_size)` then `chunk(3)`, i.e. head 0's q, k, v rows, then head 1's. Hook "
        f"evidence: the value tensor attention receives equals that per-head split exactly "
        f"({nxh['value_vs_per_head_split_of_query_key_value']}) and differs from a q-block / k-block / "
        f"v-block split by {nxh['value_vs_q_k_v_block_split']}. Partial rotary: rotary on the first "
        f"{nx['rotary_ndims']} of {nx['head_size']} dims of each head (rotate_half within those 4); the "
        f"query dims 4-15 reach attention unchanged "
        f"({nxh['query_dims_4_to_15_vs_unrotated_projection']}), dims 0-3 do not "
        f"({nxh['query_dims_0_to_3_vs_unrotated_projection']}). Full rotary instead would change the "
        f"hidden states by {nx['if_partial_rotary_factor_were_1.0']['max_abs_change_hidden_states']}. "
        f"Parallel residual `x + attn(ln1(x)) + mlp(ln2(x))` (sequential instead: "
        f"{nx['if_use_parallel_residual_were_false']['max_abs_change_hidden_states']}). `hidden_act` "
        f"\"gelu\" is exact erf GELU (tanh approximation instead: "
        f"{nx['if_gelu_were_tanh_approximate']['max_abs_change_hidden_states']}). The head is stored as "
        f"`embed_out.weight` (hub name). The legacy config has `rotary_pct` / `rotary_emb_base` and no "
        f"`attention_bias` key (default true); `gpt_neox-seq` has the v5 form with "
        f"`rope_parameters.partial_rotary_factor` 1.0 and `use_parallel_residual` false.",
        f"- **olmo**: no norm tensors at all (LayerNorm without weight or bias, eps 1e-5 hard-coded, not "
        f"in the config). `clip_qkv` 0.5 clamps q, k and v right after their projections, before rope: "
        f"{ol['clipped_total_sequence_0']} projected values of sequence 0 exceed 0.5 (per projection in "
        f"`reference.json`), the largest |v| attention receives is exactly "
        f"{ol['hook_evidence']['max_abs_value_seen_by_attention_per_layer'][0]} in each layer, and without "
        f"the clamp the hidden states change by {ol['if_clip_qkv_were_null']['max_abs_change_hidden_states']}.",
        f"- **olmo2**: no input norms; the norms sit on the branch outputs (`h = x + "
        f"post_attention_layernorm(attn(x))`, `out = h + post_feedforward_layernorm(mlp(h))`). `q_norm` / "
        f"`k_norm` are RMSNorms over the whole projection ({o2['q_norm_width']} and {o2['k_norm_width']} "
        f"wide), applied before the head split and before rope: the query attention receives at position 0 "
        f"(where rope is the identity) equals the q_norm output exactly "
        f"({o2['hook_evidence']['query_at_position_0_vs_q_norm_output']}). Normalising per head instead "
        f"changes the hidden states by {o2['if_q_k_norm_were_per_head']['max_abs_change_hidden_states']}.",
        f"- **gemma**: the config says `\"hidden_act\": \"gelu\"`, as the hub Gemma configs do; "
        f"transformers' GemmaConfig rewrites that to `gelu_pytorch_tanh` (exact GELU instead: "
        f"{c['gemma']['if_gelu_were_exact_erf']['max_abs_change_hidden_states']}). Embeddings are multiplied "
        f"by `sqrt(hidden)` = sqrt({ga['hidden_size']}) as a float32 scalar (entry 0 equals the raw rows times "
        f"`torch.tensor(sqrt({ga['hidden_size']}), float32)` exactly); RMSNorm multiplies by `(1 + w)`; "
        f"`head_dim` {ga['head_dim']} is read from the config ({ga['num_attention_heads']} heads * "
        f"{ga['head_dim']} = {ga['num_attention_heads'] * ga['head_dim']} != hidden {ga['hidden_size']}).",
        f"- **gemma2**: attention scores are `q.k * query_pre_attn_scalar^-0.5` (= "
        f"{g2['attention_scaling']:.4f}, not `head_dim^-0.5`; using head_dim instead: "
        f"{g2['if_query_pre_attn_scalar_were_head_dim']['max_abs_change_hidden_states']}), then softcapped "
        f"`cap * tanh(s / cap)` with cap {g2['attn_softcap']}, before the mask is added. Largest visible score "
        f"before the cap, per layer: {g2['max_abs_attention_score_before_cap_per_layer']}; dropping the cap "
        f"changes the hidden states by {g2['if_attn_softcap_were_null']['max_abs_change_hidden_states']}, "
        f"while the real models' cap of 50.0 would differ from no cap by only "
        f"{g2['cap_50_vs_no_cap']['max_abs_change_hidden_states']} here (scores this small hardly reach "
        f"tanh's bend), hence 2.0 and a query_pre_attn_scalar of 2. Final logits `30 * tanh(z / 30)`: without "
        f"it the last logits change by {g2['if_final_softcap_were_null']['max_abs_change_last_logits']}. "
        f"Layer types {g2['layer_types']}: transformers' default (even layers slide); the legacy config has "
        f"no `layer_types`, like hub Gemma 2 configs. Sliding window 4: query i sees keys j with "
        f"i - 4 < j <= i. Evidence: making every layer global changes layer 0's output by exactly "
        f"{g2['if_all_layers_were_global']['layer0_output_change_at_positions_below_window']} at positions "
        f"0-3 and at every position from 4 on (smallest per-position change "
        f"{g2['if_all_layers_were_global']['layer0_output_change_at_positions_from_window']}, largest change "
        f"overall {g2['if_all_layers_were_global']['max_abs_change_hidden_states']}); with a window of 3 the "
        f"first change is at position 3. Four norms per layer: input, post-attention, pre-feedforward, "
        f"post-feedforward.",
        f"- **gpt2**: `Conv1D` weights are stored `[in, out]` (`c_attn.weight` is "
        f"{gp['c_attn_weight_shape']}): `y = x @ W + b` (hook: "
        f"{gp['hook_evidence']['c_attn_output_vs_x_matmul_W_plus_b']}). `c_attn`'s output splits into q | k | v "
        f"blocks of `n_embd` columns, then heads: q, k and v seen by attention equal that split exactly "
        f"({gp['hook_evidence']['value_vs_block_split_of_c_attn']}), unlike GPT-NeoX's per-head layout "
        f"(differs by {gp['hook_evidence']['value_vs_per_head_split_of_c_attn']}). `n_inner` null means an MLP "
        f"width of 4 * n_embd ({gp['mlp_width']}). `gelu_new` is the tanh approximation. Entry 0 equals "
        f"`wte[ids] + wpe[0..T)` exactly. Every tensor name starts with `transformer.`; the hub `gpt2` files "
        f"were saved from GPT2Model and have no prefix (and old ones carry `attn.bias` mask buffers), which "
        f"this fixture does not cover.",
        "- **llama-sharded / llama-bin**: the tiny-a model read from two safetensors shards through "
        "`model.safetensors.index.json`, and from a zip-pickle `pytorch_model.bin` in which "
        "`lm_head.weight` and `model.embed_tokens.weight` share one storage. transformers, run on these "
        "folders, reproduces tiny-a's five reference arrays bit for bit.",
    ]
    return "\n".join(lines)


def write_readme(out: Path, refs: dict, versions: dict) -> None:
    rows, evidence, batch_rows, wn = [], [], [], []
    for name, ref in refs.items():
        a = ref["architecture"]
        rows.append(f"| {name} | `{ref['transformers_class']}` | {ref['num_parameters']:,} | "
                    f"{a['num_hidden_layers']} | {a['hidden_size']} | {a['num_attention_heads']} / "
                    f"{a['num_key_value_heads']} | {a['head_dim']} | {a['intermediate_size']} | "
                    f"{'yes' if a['tie_word_embeddings'] else 'no'} | {ref['config_format']} | "
                    f"{ref['description']} |")
        v = ref["hidden_states_convention"]["verified_with_hooks_max_abs_diff"]
        L = a["num_hidden_layers"]
        logit_key = [k for k in v if k.startswith("logits_vs")][0]
        evidence.append(f"| {name} | {v['index_0_vs_input_of_layer_0']} | {v['index_0_vs_raw_embedding_rows']} | "
                        f"{v[f'index_{L}_vs_final_norm_output']} | "
                        f"{v[f'index_{L}_vs_hand_written_final_norm_of_last_layer_output']} | "
                        f"{v[f'index_{L}_vs_raw_last_layer_output']} | {v[logit_key]} |")
        batch_rows.append(f"| {name} | {ref['batch']['max_abs_diff_vs_unbatched_at_real_positions']} |")
    for name in ("qwen2", "gpt_neox", "olmo", "olmo2", "gemma", "gemma2", "gpt2", "llama-sharded"):
        ref = refs[name]
        tensors = ref["weights"].get("tensors") or {}
        if name == "llama-sharded":
            wm = ref["weights"]["weight_map"]
            wn.append(f"**{name}** (`model.safetensors.index.json` weight_map):\n\n```\n" +
                      "\n".join(f"{k}  ->  {v}" for k, v in sorted(wm.items())) + "\n```\n")
            continue
        shown = [k for k in tensors if not any(f"{sep}{i}." in k for i in range(1, 10)
                                               for sep in ("layers.", "h."))]
        wn.append(f"**{name}** ({', '.join(ref['weights']['files'])}):\n\n```\n" +
                  "\n".join(f"{k}  {tensors[k]}" for k in shown) + "\n```\n")
    texts = "; ".join(f"`{json.dumps(s['text'])}` ({s['length']} ids)" for s in refs["qwen2"]["sequences"])
    seeds = ", ".join(f"{s['name']} {s['seed']}" for s in MODELS)
    g2 = refs["gemma2"]["checks"]
    (out / "README.md").write_text(README.format(
        gemma_h=refs["gemma"]["architecture"]["hidden_size"],
        gemma2_h=refs["gemma2"]["architecture"]["hidden_size"],
        g2_batch=g2["batch_vs_alone_max_abs_diff"]["fixture"],
        g2_batch_global=g2["batch_vs_alone_max_abs_diff"]["all_layers_global"],
        g2_maxh=g2["max_abs_hidden_state_value"], g2_minv=g2["batch_sliding_mask_masked_value"],
        g2_rows=g2["batch_sliding_mask_fully_masked_rows"],
        table="\n".join(rows), vocab=VOCAB_SIZE, texts=texts, evidence="\n".join(evidence),
        notes=notes_text(refs), batch_rows="\n".join(batch_rows), weight_names="\n".join(wn),
        versions=", ".join(f"{k} {v}" for k, v in versions.items()), seeds=seeds, std=INIT_STD,
        jitter=NORM_JITTER, bias=BIAS_STD), encoding="utf-8")


# ----------------------------------------------------------------------------------------------
# driver, --check
# ----------------------------------------------------------------------------------------------

def generate(out_dir: Path) -> None:
    import torch

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    versions = base.installed_versions()
    off = {k: (v, base.PINNED[k]) for k, v in versions.items() if v != base.PINNED[k]}
    if off:
        print("warning: versions differ from the pins (outputs will not match the committed files): "
              + ", ".join(f"{k} {a} (pinned {b})" for k, (a, b) in off.items()), file=sys.stderr)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    texts = texts_from_tiny_a()
    refs = {}
    with tempfile.TemporaryDirectory() as td:
        for spec in MODELS:
            refs[spec["name"]] = make_model(spec, out_dir / spec["name"], texts, versions, Path(td))
            print(f"  {spec['name']}: {refs[spec['name']]['num_parameters']:,} parameters", file=sys.stderr)
        for spec in LLAMA_VARIANTS:
            refs[spec["name"]] = make_llama_variant(spec, out_dir / spec["name"], versions, Path(td))
            print(f"  {spec['name']}: same references as tiny-a", file=sys.stderr)
    write_readme(out_dir, refs, versions)
    sums = [f"{base.sha256(p)}  {rel}" for rel, p in base.tree_files(out_dir).items() if rel != "SHA256SUMS"]
    (out_dir / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")


def compare(fresh_root: Path, have_root: Path) -> list[str]:
    problems = []
    fresh, have = base.tree_files(fresh_root), base.tree_files(have_root)
    for rel in sorted(set(fresh) | set(have)):
        if rel not in have:
            problems.append(f"MISSING  {rel} (the script makes it, the folder lacks it)")
            continue
        if rel not in fresh:
            problems.append(f"EXTRA    {rel} (in the folder, not made by the script)")
            continue
        a, b = base.sha256(have[rel]), base.sha256(fresh[rel])
        if a == b:
            continue
        msg = f"DIFFERS  {rel}\n           committed {a}\n           regenerated {b}"
        if rel.endswith(".npy"):
            try:
                x, y = np.load(have[rel]), np.load(fresh[rel])
                if x.shape != y.shape:
                    msg += f"\n           shapes {x.shape} vs {y.shape}"
                else:
                    msg += f"\n           max abs diff {float(np.abs(x - y).max()):.3e}"
            except Exception as e:   # noqa: BLE001 - report, don't crash the check
                msg += f"\n           (could not load: {e})"
        elif rel.endswith((".json", ".md")) or rel.endswith("SHA256SUMS"):
            try:
                lines = list(difflib.unified_diff(
                    have[rel].read_text(encoding="utf-8").splitlines(),
                    fresh[rel].read_text(encoding="utf-8").splitlines(),
                    "committed", "regenerated", lineterm="", n=1))
                msg += "\n" + "\n".join("           " + l for l in lines[:20])
                if len(lines) > 20:
                    msg += f"\n           ... {len(lines) - 20} more diff lines"
            except UnicodeDecodeError:
                pass
        problems.append(msg)
    sums_file = have_root / "SHA256SUMS"
    if sums_file.exists():
        for line in sums_file.read_text().splitlines():
            digest, rel = line.split(None, 1)
            p = have_root / rel
            if not p.exists() or base.sha256(p) != digest:
                problems.append(f"SHA256SUMS entry does not match the file on disk: {rel}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help="folder that receives the fixtures (default: %(default)s)")
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary folder and compare every file's sha256 with OUT; "
                         "exit 1 on any difference")
    args = ap.parse_args()
    if not (TINY_A / "reference.json").is_file():
        print(f"{TINY_A} is missing: run scripts/make_fixture_models.py first", file=sys.stderr)
        return 2

    if not args.check:
        generate(args.out)
        total = sum(p.stat().st_size for p in base.tree_files(args.out).values())
        print(f"wrote {args.out} ({total / 1e6:.2f} MB)", file=sys.stderr)
        return 0

    with tempfile.TemporaryDirectory(prefix="lossy-arch-fixtures-") as td:
        fresh = Path(td) / "arch"
        generate(fresh)
        problems = compare(fresh, args.out)
    if problems:
        print(f"fixture check FAILED: {len(problems)} problem(s) in {args.out}", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        print("(regenerate with `python scripts/make_arch_fixtures.py` using the pinned versions in "
              "scripts/requirements-models.txt)", file=sys.stderr)
        return 1
    print(f"fixture check OK: every file in {args.out} matches a fresh regeneration", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
