#!/usr/bin/env python3
"""Generate the soft-entropy estimator fixtures in tests/fixtures/estimator/.

Reference: the PyPI package ``soft-entropy`` 0.1.5 (numpy backend). Its package
``__init__`` imports torch, so ``temp_calibration.py`` and ``accumulator.py`` are
loaded by file path (``soft_entropy.temp_calibration`` is registered in
``sys.modules`` first, so the accumulator's import of ``find_eps`` works without
running the package ``__init__``).

Usage::

    python3 scripts/estimator_fixtures.py            # (re)write every fixture
    python3 scripts/estimator_fixtures.py --check    # regenerate into a temp dir,
                                                     # compare byte for byte, exit 1 on difference

Pinned versions: scripts/requirements-fixtures.txt. Results in the ``reference_f32``
sections come from numpy/OpenBLAS float32 arithmetic and can move in the last
bits with another numpy or BLAS build; OpenBLAS is forced single-threaded here.

Deterministic data recipe (reproduce bit-exactly in Rust)
========================================================

All u64 arithmetic wraps mod 2^64::

    splitmix64(x): z = x + 0x9E3779B97F4A7C15
                   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
                   z = (z ^ (z >> 27)) * 0x94D049BB133111EB
                   return z ^ (z >> 31)
    unit(stream, k) = (splitmix64(splitmix64(stream) + k) >> 40) / 2**24
                      # exact f64 in [0, 1), 24 bits

(Self-test: splitmix64(0) == 0xE220A8397B1DCDAF.)

Matrix Z (N x d), element (i, j), k = i*d + j. Every formula below is evaluated
EXACTLY in f64 (it needs at most 27 significant bits) and then rounded ONCE to
f32 with round-to-nearest-even (numpy ``astype(float32)``, Rust ``as f32``). Do
not evaluate it in f32 arithmetic: the double rounding would differ.

* kind "isotropic":   z = unit(stream, k) - 0.5
  (always exact in f32: the rounding step is a no-op, asserted)
* kind "anisotropic": z = (unit(stream, k) - 0.5) * (1 + (j % 7)) + (0.25 if j % 3 == 0 else 0.0)
  (NOT always exact in f32: values with |z| >= 1 and an odd 24-bit numerator round)
* kind "token":       z = (unit(stream, tok[i]*d + j) - 0.5)
                          + 0.125 * (unit(stream ^ 0xABCDEF, k) - 0.5)
  (NOT always exact in f32; embedding-like: the current token plus small per-row noise)
* kind "token_pure":  z = unit(stream, tok[i]*d + j) - 0.5
  (exact; Z depends on the current token only, for the n-gram invariant test)

Each case JSON records ``z_f32_inexact``, the number of elements that the rounding
step changed, and ``z_sha256``, the SHA-256 of the full N x d f32 matrix
(little-endian, row-major), so Rust can check its Z bit for bit.

Reference points W (m x d), float32, one of two sources (JSON ``w.source``):

* "npy": the reference's own draw, exactly what SoftEntropyAccumulator builds:
  ``w = np.random.default_rng(seed).standard_normal((m, d)).astype(float32)``,
  ``w = w / np.linalg.norm(w, axis=-1, keepdims=True)`` (in f32), seed 0.
  Saved as ``w_d{d}_m{m}_seed0.npy`` (float32). Used for d in {3, 64}.
* "recipe" (d >= 576, where the .npy would be too large to commit):
  ``W_raw[j, c] = unit(stream_w, j*d + c) - 0.5`` (exact f32), then row-normalised
  in f32 exactly as the reference does (numpy pairwise f32 sums). That W replaces
  ``acc.w``. JSON records ``stream_w``, ``sha256_raw`` (W_raw) and ``sha256``
  (the f32-normalised W). ``reference_f64_w64`` gives the f64 results when W_raw
  is normalised in f64 instead (no f32 rounding of W at all).

Token streams (Zipf-like), saved as int64 .npy (Rust cannot replay numpy's RNG)::

    rng = np.random.default_rng(tok_stream)
    p = 1 / (r + 2.7) ** 1.1 for r = 0..V-1, normalised to sum 1
    tok = rng.choice(V, size=N, p=p)

Label sets (one document = the whole token stream), n_max = 4, the reference's
shared position set: positions i = n_max-1 ..= N-n_max-1 (P of them). For
n = 1..4 at position i:
    input n-gram  in{n}  = tok[i-n+1 ..= i]
    output n-gram out{n} = tok[i+1 ..= i+n]
Z_sel = Z[positions]. To stay under the size budget only the n_max-column arrays
are saved: ``{stream}_labels_in4.npy`` (row p = tok[i-3 ..= i]) and
``{stream}_labels_out4.npy`` (row p = tok[i+1 ..= i+4]), int64 [P, 4]. The set of
order n is the column slice given in the JSON as ``files.labels.<name>.columns``
= [lo, hi) (half-open): in{n} -> [4-n, 4), out{n} -> [0, n). Rust forms exact
tuple keys from those rows; the reference is fed collision-free codes
``np.unique(rows, axis=0, return_inverse=True)``. ``zipf600_labels_1d.npy``
(1-D int64, ``columns`` null) holds floor(unit(601, p) * 5) for p = 0..P-1.

Estimator (method.md section 1): zn = Z/|Z| per row, S = zn W^T, A = softmax(S/eps),
counts = sum of rows of A, H = -sum p ln(max(p, 1e-9)) / ln m with p = counts/sum,
H(Z|x) the same over the rows labelled x, I = H - sum_x (n_x/N) H(Z|x),
regularity = I/H. eps = find_eps(m, d) (the reference default, Brent on the
KL lower bound) unless stated.

``reference_f32`` is the reference accumulator itself (one update() call over
Z_sel; ``batch_splits`` records other splits). ``reference_f64`` is the same maths
copied here in f64 (inputs: the same f32 Z and W values, the same eps as an f64);
``f32_vs_f64`` is the largest absolute difference between them.
"""

from __future__ import annotations

import os

# Deterministic BLAS reductions: set before numpy loads OpenBLAS.
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
OUT_DEFAULT = REPO / "tests" / "fixtures" / "estimator"
SCHEMA = "lossy-estimator-fixture/1"
N_MAX = 4
SEED = 0
STREAM_W = 9001
LABEL1D_STREAM = 601
LABEL1D_CLASSES = 5

# ---------------------------------------------------------------------------
# Reference loading (without soft_entropy/__init__.py, which imports torch)
# ---------------------------------------------------------------------------


def load_reference():
    spec = importlib.util.find_spec("soft_entropy")  # does not execute __init__
    if spec is None or not spec.submodule_search_locations:
        sys.exit("soft-entropy is not installed (pip install -r scripts/requirements-fixtures.txt)")
    base = Path(list(spec.submodule_search_locations)[0])
    mods = {}
    for name in ("temp_calibration", "accumulator"):
        full = f"soft_entropy.{name}"
        s = importlib.util.spec_from_file_location(full, base / f"{name}.py")
        mod = importlib.util.module_from_spec(s)
        sys.modules[full] = mod
        s.loader.exec_module(mod)
        mods[name] = mod
    assert "soft_entropy" not in sys.modules and "torch" not in sys.modules
    version = importlib.metadata.version("soft-entropy")
    hashes = {
        f"{n}.py": hashlib.sha256((base / f"{n}.py").read_bytes()).hexdigest()
        for n in ("temp_calibration", "accumulator")
    }
    return mods["temp_calibration"], mods["accumulator"], version, hashes


TC, ACC, SE_VERSION, SE_HASHES = load_reference()

# ---------------------------------------------------------------------------
# Recipe
# ---------------------------------------------------------------------------

U = np.uint64


def splitmix64(x):
    z = np.atleast_1d(np.asarray(x, dtype=np.uint64))
    with np.errstate(over="ignore"):
        z = z + U(0x9E3779B97F4A7C15)
        z = (z ^ (z >> U(30))) * U(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> U(27))) * U(0x94D049BB133111EB)
        return z ^ (z >> U(31))


def unit(stream: int, k) -> np.ndarray:
    """f64 array, exact multiples of 2^-24 in [0, 1)."""
    s = splitmix64(U(stream))
    k = np.asarray(k, dtype=np.uint64)
    with np.errstate(over="ignore"):
        v = splitmix64(s + k).reshape(k.shape)
    return (v >> U(40)).astype(np.float64) / float(2**24)


def self_test_recipe():
    assert int(splitmix64(0)[0]) == 0xE220A8397B1DCDAF
    assert int(splitmix64(2**64 - 1)[0]) == int(splitmix64(U(2**64 - 1))[0])
    u = unit(1, np.arange(1000))
    assert u.min() >= 0 and u.max() < 1 and np.all(u * 2**24 == np.floor(u * 2**24))


def make_z(kind: str, stream: int, n: int, d: int, tok=None):
    """Returns (Z f32, number of elements changed by the single f64->f32 rounding)."""
    i = np.arange(n, dtype=np.uint64)[:, None]
    j = np.arange(d, dtype=np.uint64)[None, :]
    k = i * U(d) + j
    if kind == "isotropic":
        z64 = unit(stream, k) - 0.5
    elif kind == "anisotropic":
        jj = np.arange(d)[None, :]
        z64 = (unit(stream, k) - 0.5) * (1 + (jj % 7)).astype(np.float64) + np.where(jj % 3 == 0, 0.25, 0.0)
        # exactness of the f64 evaluation: integer numerator in units of 2^-24
        r = (unit(stream, k) * 2**24).astype(np.int64) - 2**23
        num = r * (1 + (jj % 7)) + np.where(jj % 3 == 0, 2**22, 0)
        assert np.array_equal(z64 * 2**24, num.astype(np.float64)) and np.abs(num).max() < 2**53
    elif kind in ("token", "token_pure"):
        kt = np.asarray(tok, dtype=np.uint64)[:, None] * U(d) + j
        base = unit(stream, kt) - 0.5
        if kind == "token_pure":
            z64 = base
        else:
            z64 = base + 0.125 * (unit(stream ^ 0xABCDEF, k) - 0.5)
            r1 = (unit(stream, kt) * 2**24).astype(np.int64) - 2**23
            r2 = (unit(stream ^ 0xABCDEF, k) * 2**24).astype(np.int64) - 2**23
            num = 8 * r1 + r2  # units of 2^-27
            assert np.array_equal(z64 * 2**27, num.astype(np.float64))
    else:
        raise ValueError(kind)
    z32 = z64.astype(np.float32)
    inexact = int(np.count_nonzero(z32.astype(np.float64) != z64))
    if kind in ("isotropic", "token_pure"):
        assert inexact == 0, f"{kind}: f64 -> f32 must be lossless"
    return np.ascontiguousarray(z32), inexact


def reference_w(d: int, m: int, seed: int = SEED) -> np.ndarray:
    acc = ACC.SoftEntropyAccumulator(d=d, n_bins=m, seed=seed, backend="numpy")
    w = np.random.default_rng(seed).standard_normal((m, d)).astype(np.float32)
    w = w / np.linalg.norm(w, axis=-1, keepdims=True)
    assert acc.w.dtype == np.float32 and np.array_equal(acc.w, w)
    return np.ascontiguousarray(acc.w)


def recipe_w_raw(d: int, m: int, stream_w: int = STREAM_W) -> np.ndarray:
    j = np.arange(m, dtype=np.uint64)[:, None]
    c = np.arange(d, dtype=np.uint64)[None, :]
    w64 = unit(stream_w, j * U(d) + c) - 0.5
    w32 = w64.astype(np.float32)
    assert np.array_equal(w32.astype(np.float64), w64)
    return np.ascontiguousarray(w32)


def normalise_f32(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x / np.linalg.norm(x, axis=-1, keepdims=True))


def zipf_tokens(stream: int, v: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(stream)
    r = np.arange(v, dtype=np.float64)
    p = 1.0 / (r + 2.7) ** 1.1
    p = p / p.sum()
    return rng.choice(v, size=n, p=p).astype(np.int64)


def positions_for(n_tokens: int, n_max: int = N_MAX) -> np.ndarray:
    return np.arange(n_max - 1, n_tokens - n_max, dtype=np.int64)  # ..= N-n_max-1


def ngram_labels(tok: np.ndarray, pos: np.ndarray, n: int, side: str) -> np.ndarray:
    if side == "in":
        cols = [tok[pos - n + 1 + c] for c in range(n)]
    else:
        cols = [tok[pos + 1 + c] for c in range(n)]
    return np.ascontiguousarray(np.stack(cols, axis=1).astype(np.int64))


def codes(labels: np.ndarray) -> np.ndarray:
    """Collision-free int64 codes for 1-D labels or tuple rows."""
    if labels.ndim == 1:
        return np.unique(labels, return_inverse=True)[1].reshape(-1).astype(np.int64)
    return np.unique(labels, axis=0, return_inverse=True)[1].reshape(-1).astype(np.int64)


def sha256(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    assert a.dtype.byteorder in ("<", "=", "|")
    return hashlib.sha256(a.tobytes()).hexdigest()


# ---------------------------------------------------------------------------
# Estimators: the reference (f32) and the same maths in f64
# ---------------------------------------------------------------------------


def ref_accumulator(d, m, w32, eps):
    acc = ACC.SoftEntropyAccumulator(d=d, n_bins=m, seed=SEED, backend="numpy")
    acc.w = w32
    acc.temp = eps
    return acc


def ref_results(acc, names, with_p=False, with_cond=False):
    h = acc.entropy()
    mi = acc.mutual_information()
    cond = acc.conditional_entropy()
    res = acc.results()
    out = {"entropy": float(h), "mutual_information": {}, "regularity": {}, "conditional_entropy_sum": {}}
    for nm in names:
        exp_h = sum(
            (acc._label_n_samples[nm][lv] / acc._n_samples) * hv for lv, hv in cond[nm].items()
        )
        out["mutual_information"][nm] = float(mi[nm])
        out["regularity"][nm] = float(res[f"regularity/{nm}"])
        out["conditional_entropy_sum"][nm] = float(exp_h)
    if with_p:
        c = acc._counts
        out["p"] = [float(x) for x in (c / c.sum())]
    if with_cond:
        out["conditional_entropy"] = {
            nm: {str(int(k)): float(v) for k, v in sorted(cond[nm].items())} for nm in names
        }
    return out


def run_reference(z_sel, w32, eps, label_codes, splits, with_p=False, with_cond=False):
    n, d = z_sel.shape
    m = w32.shape[0]
    names = list(label_codes)
    acc = ref_accumulator(d, m, w32, eps)
    acc.update(z_sel, labels=dict(label_codes) if names else None)
    single = ref_results(acc, names, with_p=with_p, with_cond=with_cond)
    split_records = []
    for sizes in splits:
        assert sum(sizes) == n
        a2 = ref_accumulator(d, m, w32, eps)
        lo = 0
        for s in sizes:
            a2.update(z_sel[lo:lo + s], labels={k: v[lo:lo + s] for k, v in label_codes.items()})
            lo += s
        r2 = ref_results(a2, names)
        diffs = [abs(r2["entropy"] - single["entropy"])]
        diffs += [abs(r2["mutual_information"][k] - single["mutual_information"][k]) for k in names]
        diffs += [abs(r2["regularity"][k] - single["regularity"][k]) for k in names]
        split_records.append({"sizes": sizes, "max_abs_diff_vs_single": max(diffs)})
    return single, split_records


def h_f64(counts: np.ndarray, m: int) -> float:
    p = counts / counts.sum()
    return float(-(p * np.log(np.clip(p, 1e-9, None))).sum() / math.log(m))


def run_f64(z_sel, w, eps, label_codes, with_p=False, with_cond=False):
    z = np.asarray(z_sel, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    m = w.shape[0]
    zn = z / np.linalg.norm(z, axis=-1, keepdims=True)
    x = (zn @ w.T) / float(eps)
    x -= x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    a = e / e.sum(axis=-1, keepdims=True)
    n = a.shape[0]
    h = h_f64(a.sum(axis=0), m)
    out = {"entropy": h, "mutual_information": {}, "regularity": {}, "conditional_entropy_sum": {}}
    if with_p:
        c = a.sum(axis=0)
        out["p"] = [float(v) for v in c / c.sum()]
    conds = {}
    for nm, lab in label_codes.items():
        vals, inv = np.unique(lab, return_inverse=True)
        inv = inv.reshape(-1)
        order = np.argsort(inv, kind="stable")
        starts = np.searchsorted(inv[order], np.arange(len(vals)))
        sums = np.add.reduceat(a[order], starts, axis=0)
        cnt = np.bincount(inv, minlength=len(vals))
        hs = [h_f64(sums[t], m) for t in range(len(vals))]
        exp_h = math.fsum(cnt[t] / n * hs[t] for t in range(len(vals)))
        mi = h - exp_h
        out["mutual_information"][nm] = mi
        out["regularity"][nm] = mi / h if h > 0 else float("nan")
        out["conditional_entropy_sum"][nm] = exp_h
        conds[nm] = {str(int(vals[t])): hs[t] for t in range(len(vals))}
    if with_cond:
        out["conditional_entropy"] = conds
    return out


def max_diff(a: dict, b: dict) -> dict:
    """Largest |a - b| over H and every I (and, separately, every regularity)."""
    mi = [abs(a["mutual_information"][k] - b["mutual_information"][k]) for k in a["mutual_information"]]
    reg = [abs(a["regularity"][k] - b["regularity"][k]) for k in a.get("regularity", {})]
    return {"entropy": abs(a["entropy"] - b["entropy"]),
            "max_abs_diff_mi": max(mi, default=0.0),
            "max_abs_diff_h_and_mi": max([abs(a["entropy"] - b["entropy"]), *mi]),
            "max_abs_diff_regularity": max(reg, default=0.0)}


def h_and_mi_only(r: dict) -> dict:
    return {"entropy": r["entropy"], "mutual_information": r["mutual_information"]}


def default_splits(n: int):
    return [[1, 2, 97, n - 100], [64] * (n // 64) + ([n % 64] if n % 64 else []), [n // 3, n // 3, n - 2 * (n // 3)]]


# ---------------------------------------------------------------------------
# Output helpers
# ---------------------------------------------------------------------------


def finite_or_str(o):
    if isinstance(o, float):
        if math.isnan(o):
            return "NaN"
        if math.isinf(o):
            return "Infinity" if o > 0 else "-Infinity"
        return o
    if isinstance(o, dict):
        return {k: finite_or_str(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [finite_or_str(v) for v in o]
    return o


def _dump(o, ind=0):
    pad = " " * ind
    if isinstance(o, dict):
        one = json.dumps(o, allow_nan=False, separators=(", ", ": "))
        if len(one) + ind <= 120:
            return one
        items = [f'{pad} {json.dumps(k)}: {_dump(v, ind + 1)}' for k, v in o.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(o, list) and any(isinstance(v, (dict, list)) for v in o):
        return "[\n" + ",\n".join(f"{pad} {_dump(v, ind + 1)}" for v in o) + "\n" + pad + "]"
    return json.dumps(o, allow_nan=False, separators=(", ", ": "))


def write_json(path: Path, obj):
    """Deterministic JSON: floats as repr (shortest round-trip), scalar lists on one line."""
    obj = finite_or_str(obj)
    text = _dump(obj) + "\n"
    assert json.loads(text) == obj
    path.write_text(text)


def save_npy(out: Path, name: str, arr: np.ndarray, written: dict):
    if name in written:
        assert np.array_equal(written[name], arr) and written[name].dtype == arr.dtype
        return name
    np.save(out / name, arr, allow_pickle=False)
    written[name] = arr
    return name


def eps_info(m, d):
    info = {
        "used": None,
        "find_eps": TC.find_eps(m, d),
        "leading_order": 1.0 / math.sqrt(2.0 * d * math.log(m)),
    }
    info["used"] = info["find_eps"]
    info["used_calibration"] = "find_eps (reference default: Brent root of KL_lower = ln m on [1e-5, 1])"
    if d <= 64:
        info["exact"] = TC.sphere_temp_calibration(m, d, mode="exact")
    info["used_as_f32"] = float(np.float32(info["used"]))
    return info


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

GRID_DIMS = [3, 64, 576, 2048]
GRID_MS = [10, 100]
NPY_W_MAX_DIM = 64  # W saved as .npy for d <= 64; recipe W above (size budget)
Z_STREAMS = {("isotropic", 3): 1001, ("isotropic", 64): 1002, ("isotropic", 576): 1003, ("isotropic", 2048): 1004,
             ("anisotropic", 3): 1011, ("anisotropic", 64): 1012, ("anisotropic", 576): 1013,
             ("anisotropic", 2048): 1014}
SHORT = {"isotropic": "iso", "anisotropic": "aniso"}


def w_for(d, m, out, written):
    """Returns (w32 used by the reference, w json record, w normalised in f64 or None)."""
    if d <= NPY_W_MAX_DIM:
        w = reference_w(d, m)
        name = save_npy(out, f"w_d{d}_m{m}_seed0.npy", w, written)
        return w, {"source": "npy", "file": name, "seed": SEED,
                   "generator": "np.random.default_rng(seed).standard_normal((m, d)).astype(float32), "
                                "row-normalised in f32", "sha256": sha256(w)}, None
    raw = recipe_w_raw(d, m)
    w = normalise_f32(raw)
    raw64 = raw.astype(np.float64)
    w64 = raw64 / np.linalg.norm(raw64, axis=-1, keepdims=True)
    rec = {"source": "recipe", "stream_w": STREAM_W,
           "generator": "W_raw[j, c] = unit(stream_w, j*d + c) - 0.5; W = W_raw / np.linalg.norm(W_raw, axis=-1, "
                        "keepdims=True) in f32",
           "sha256_raw": sha256(raw), "sha256": sha256(w),
           "w_f32_vs_f64_normalisation_max_abs_diff": float(np.abs(w.astype(np.float64) - w64).max()),
           "first_row_first8": [float(x) for x in w[0, :8]]}
    return w, rec, w64


def zipf_stream(out, written, prefix, tok_stream, v, n, sides=("in", "out"), with_1d=False, per_n_files=False):
    """Token stream + n-gram label sets. per_n_files=False saves only the n_max-column arrays
    ({prefix}_labels_in4.npy / _out4.npy); the n-gram of order n is then a column slice of it
    (input: columns 4-n..4, output: columns 0..n), recorded as "columns" [lo, hi) in the JSON."""
    tok = zipf_tokens(tok_stream, v, n)
    pos = positions_for(n)
    files = {"tok": save_npy(out, f"{prefix}_tok.npy", tok, written), "labels": {}}
    label_codes, distinct = {}, {}
    for side in sides:
        full = ngram_labels(tok, pos, N_MAX, side)
        for g in range(1, N_MAX + 1):
            nm = f"{side}{g}"
            lab = ngram_labels(tok, pos, g, side)
            lo, hi = (N_MAX - g, N_MAX) if side == "in" else (0, g)
            assert np.array_equal(full[:, lo:hi], lab)
            if per_n_files:
                files["labels"][nm] = {"file": save_npy(out, f"{prefix}_labels_{nm}.npy", lab, written),
                                       "columns": [0, g]}
            else:
                files["labels"][nm] = {"file": save_npy(out, f"{prefix}_labels_{side}{N_MAX}.npy", full, written),
                                       "columns": [lo, hi]}
            label_codes[nm] = codes(lab)
            distinct[nm] = int(label_codes[nm].max() + 1)
    if with_1d:
        lab1 = np.floor(unit(LABEL1D_STREAM, np.arange(len(pos))) * LABEL1D_CLASSES).astype(np.int64)
        files["labels"]["labels1d"] = {"file": save_npy(out, f"{prefix}_labels_1d.npy", lab1, written),
                                       "columns": None}
        label_codes["labels1d"] = lab1
        distinct["labels1d"] = int(len(np.unique(lab1)))
    return tok, pos, files, label_codes, distinct


def label_set_docs(distinct, with_1d):
    docs = {}
    for nm, k in distinct.items():
        if nm == "labels1d":
            docs[nm] = {"kind": "plain_1d", "recipe": f"floor(unit({LABEL1D_STREAM}, p) * {LABEL1D_CLASSES}), "
                                                      "p = 0..P-1 (index into positions)", "distinct": k}
        else:
            side, g = nm[:-1], int(nm[-1])
            rng = "tok[i-n+1 ..= i]" if side == "in" else "tok[i+1 ..= i+n]"
            docs[nm] = {"kind": f"{'input' if side == 'in' else 'output'}_ngram", "n": g, "rows": rng,
                        "distinct": k}
    return docs


def common_header(name, case_type):
    return {"schema": SCHEMA, "name": name, "case_type": case_type, "soft_entropy_version": SE_VERSION,
            "soft_entropy_sha256": SE_HASHES}


def compare_block(ref32, ref64, extra64=None):
    d = max_diff(ref32, ref64)
    if extra64 is not None:
        d["reference_f64_vs_reference_f64_w64"] = max_diff(ref64, extra64)["max_abs_diff_h_and_mi"]
    return d


def grid_cases(out, written, summary):
    tok, pos, files, label_codes, distinct = zipf_stream(out, written, "zipf600", 501, 50, 600, with_1d=True)
    for kind in ("isotropic", "anisotropic"):
        for d in GRID_DIMS:
            stream = Z_STREAMS[(kind, d)]
            z, inexact = make_z(kind, stream, 600, d)
            z_sel = z[pos]
            for m in GRID_MS:
                name = f"{SHORT[kind]}_d{d}_m{m}"
                w, wrec, w64 = w_for(d, m, out, written)
                eps = eps_info(m, d)
                ref32, splits = run_reference(z_sel, w, eps["used"], label_codes, default_splits(len(pos)))
                ref64 = run_f64(z_sel, w, eps["used"], label_codes, with_p=True)
                ref64w = run_f64(z_sel, w64, eps["used"], label_codes) if w64 is not None else None
                obj = common_header(name, "grid")
                obj.update({
                    "recipe": {"kind": kind, "stream": stream, "N": 600, "d": d, "V": 50, "tok_stream": 501,
                               "z_sha256": sha256(z), "z_f32_inexact": inexact},
                    "m": m, "seed": SEED,
                    "w": wrec,
                    "files": {"w": wrec.get("file"), **files},
                    "positions": {"start": int(pos[0]), "end": int(pos[-1]), "inclusive": True, "n_max": N_MAX,
                                  "count": int(len(pos))},
                    "label_sets": label_set_docs(distinct, True),
                    "epsilon": eps,
                    "reference_f32": ref32,
                    "reference_f64": ref64,
                })
                if ref64w is not None:
                    obj["reference_f64_w64"] = h_and_mi_only(ref64w)
                obj["f32_vs_f64"] = compare_block(ref32, ref64, ref64w)
                obj["batch_splits"] = splits
                write_json(out / f"case_{name}.json", obj)
                summary.append((name, obj))


def token_cases(out, written, summary):
    tok, pos, files, label_codes, distinct = zipf_stream(out, written, "zipf2000", 502, 40, 2000, sides=("in",))
    d, m = 64, 100
    w, wrec, _ = w_for(d, m, out, written)
    for kind in ("token", "token_pure"):
        z, inexact = make_z(kind, 1021, 2000, d, tok=tok)
        z_sel = z[pos]
        eps = eps_info(m, d)
        ref32, splits = run_reference(z_sel, w, eps["used"], label_codes, default_splits(len(pos)))
        ref64 = run_f64(z_sel, w, eps["used"], label_codes)
        name = f"{kind}_d{d}_m{m}"
        names = [f"in{g}" for g in range(1, N_MAX + 1)]
        spread = {}
        for tag, r in (("f32", ref32), ("f64", ref64)):
            vals = [r["mutual_information"][k] for k in names]
            spread[f"mi_in_n_{tag}"] = vals
            spread[f"max_minus_min_{tag}"] = max(vals) - min(vals)
        spread["expected_equal"] = kind == "token_pure"
        spread["note"] = ("token_pure: Z is a function of the current token only, so I(in_n; Z) is the same for "
                          "n = 1..4 in exact arithmetic" if kind == "token_pure" else
                          "token: the 0.125 noise term differs per row, so longer n-grams split rows further and "
                          "I(in_n; Z) grows with n; the invariant does NOT hold for this kind")
        obj = common_header(name, "token_invariant")
        obj.update({
            "recipe": {"kind": kind, "stream": 1021, "noise_stream": 1021 ^ 0xABCDEF, "N": 2000, "d": d, "V": 40,
                       "tok_stream": 502, "z_sha256": sha256(z), "z_f32_inexact": inexact},
            "m": m, "seed": SEED, "w": wrec, "files": {"w": wrec["file"], **files},
            "positions": {"start": int(pos[0]), "end": int(pos[-1]), "inclusive": True, "n_max": N_MAX,
                          "count": int(len(pos))},
            "label_sets": label_set_docs(distinct, False),
            "epsilon": eps, "reference_f32": ref32, "reference_f64": ref64,
            "f32_vs_f64": compare_block(ref32, ref64), "invariant": spread, "batch_splits": splits,
        })
        write_json(out / f"case_{name}.json", obj)
        summary.append((name, obj))


def tuple_case(out, written, summary):
    n, d, m = 600, 64, 100
    lab = np.random.default_rng(1032).integers(0, 6, size=(n, 2)).astype(np.int64)
    lab_name = save_npy(out, "tuple_labels_pair.npy", lab, written)
    z, inexact = make_z("isotropic", 1031, n, d)
    w, wrec, _ = w_for(d, m, out, written)
    eps = eps_info(m, d)
    lc = {"pair": codes(lab), "first": codes(lab[:, 0]), "second": codes(lab[:, 1])}
    ref32, splits = run_reference(z, w, eps["used"], lc, default_splits(n))
    ref64 = run_f64(z, w, eps["used"], lc)
    name = f"tuple_d{d}_m{m}"
    obj = common_header(name, "tuple_labels")
    obj.update({
        "recipe": {"kind": "isotropic", "stream": 1031, "N": n, "d": d, "V": None, "tok_stream": None,
                   "z_sha256": sha256(z), "z_f32_inexact": inexact},
        "m": m, "seed": SEED, "w": wrec,
        "files": {"w": wrec["file"], "tok": None, "labels": {
            "pair": {"file": lab_name, "columns": [0, 2]}, "first": {"file": lab_name, "columns": [0, 1]},
            "second": {"file": lab_name, "columns": [1, 2]}}},
        "positions": {"start": 0, "end": n - 1, "inclusive": True, "n_max": None, "count": n},
        "label_sets": {
            "pair": {"kind": "tuple", "rows": "labels[p, 0..2] as one key",
                     "generator": "np.random.default_rng(1032).integers(0, 6, size=(N, 2))",
                     "distinct": int(lc["pair"].max() + 1)},
            "first": {"kind": "plain_1d", "rows": "labels[p, 0]", "distinct": int(lc["first"].max() + 1)},
            "second": {"kind": "plain_1d", "rows": "labels[p, 1]", "distinct": int(lc["second"].max() + 1)},
        },
        "epsilon": eps, "reference_f32": ref32, "reference_f64": ref64,
        "f32_vs_f64": compare_block(ref32, ref64), "batch_splits": splits,
    })
    write_json(out / f"case_{name}.json", obj)
    summary.append((name, obj))


METHOD_MD_HAND = {"P": [0.300126, 0.302138, 0.240451, 0.157286], "H": 0.978485,
                  "H(Z|x)": [0.613406, 0.649519, 0.798334], "I": 0.291398, "regularity": 0.297806}


def hand_case(out, written, summary):
    w_in = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [-1, -1, -1]]
    z_in = [[1, .1, 0], [.9, .2, .1], [0, 1, .2], [.1, .8, .3], [0, 0, 1], [-1, -.5, -.2]]
    lab = np.array([0, 0, 1, 1, 2, 2], dtype=np.int64)
    w = normalise_f32(np.array(w_in, dtype=np.float32))
    z = np.array(z_in, dtype=np.float32)
    wn = save_npy(out, "hand_w.npy", w, written)
    zn = save_npy(out, "hand_z.npy", z, written)
    ln = save_npy(out, "hand_labels.npy", lab, written)
    eps = 0.5
    lc = {"labels": lab}
    ref32, splits = run_reference(z, w, eps, lc, [[1, 2, 3], [1] * 6], with_p=True, with_cond=True)
    ref64 = run_f64(z, w, eps, lc, with_p=True, with_cond=True)
    w64 = np.array(w_in, dtype=np.float64)
    w64 = w64 / np.linalg.norm(w64, axis=-1, keepdims=True)
    ref64w = run_f64(z, w64, eps, lc, with_p=True, with_cond=True)
    got = {"P": ref32["p"], "H": ref32["entropy"],
           "H(Z|x)": [ref32["conditional_entropy"]["labels"][k] for k in ("0", "1", "2")],
           "I": ref32["mutual_information"]["labels"], "regularity": ref32["regularity"]["labels"]}
    flat_exp = METHOD_MD_HAND["P"] + [METHOD_MD_HAND["H"]] + METHOD_MD_HAND["H(Z|x)"] + [METHOD_MD_HAND["I"],
                                                                                       METHOD_MD_HAND["regularity"]]
    flat_got = got["P"] + [got["H"]] + got["H(Z|x)"] + [got["I"], got["regularity"]]
    agree = max(abs(a - b) for a, b in zip(flat_exp, flat_got))
    name = "hand_d3_m4"
    obj = common_header(name, "hand_vector")
    obj.update({
        "recipe": {"kind": "literal", "z": z_in, "w_unnormalised": w_in, "labels": lab.tolist(),
                   "note": "Z = np.array(z, float32) (decimal literals rounded to f32); W = normalise(np.array(w, "
                           "float32)) in f32", "N": 6, "d": 3, "V": None},
        "m": 4, "seed": None,
        "w": {"source": "literal", "file": wn, "sha256": sha256(w)},
        "files": {"w": wn, "z": zn, "tok": None, "labels": {"labels": {"file": ln, "columns": None}}},
        "positions": {"start": 0, "end": 5, "inclusive": True, "n_max": None, "count": 6},
        "label_sets": {"labels": {"kind": "plain_1d", "distinct": 3}},
        "epsilon": {"used": eps, "used_calibration": "forced (acc.temp = 0.5)", "used_as_f32": eps},
        "reference_f32": ref32, "reference_f64": ref64, "reference_f64_w64": ref64w,
        "f32_vs_f64": compare_block(ref32, ref64, ref64w),
        "method_md_section5": METHOD_MD_HAND,
        "method_md_section5_max_abs_diff": agree,
        "batch_splits": splits,
    })
    assert agree < 1e-6, f"hand vector disagrees with method.md section 5 by {agree}"
    write_json(out / f"case_{name}.json", obj)
    summary.append((name, obj))


def calibration(out):
    rows = []

    def row(m, d, exact=False):
        r = {"m": m, "d": d, "find_eps": TC.find_eps(m, d),
             "leading_order": 1.0 / math.sqrt(2.0 * d * math.log(m))}
        if exact:
            r["exact"] = TC.sphere_temp_calibration(m, d, mode="exact")
        return r

    table_m100 = [row(100, d) for d in (64, 128, 256, 576, 1024, 2048, 4096)]
    table_d2048 = [row(m, 2048) for m in (10, 50, 200, 1000)]
    exact = [row(m, d, exact=True) for d in (3, 4, 5, 8, 16, 32, 64) for m in (10, 100)]
    cases = [row(m, d, exact=d <= 64) for d in GRID_DIMS for m in GRID_MS]
    method_md = {"m100": {"64": 0.0362299, "128": 0.027348, "256": 0.0199619, "576": 0.0135414, "1024": 0.0102176,
                          "2048": 0.00725301, "4096": 0.00513858},
                 "d2048": {"10": 0.0102746, "50": 0.00787338, "200": 0.00675852, "1000": 0.00591207}}
    rel = [abs(r["find_eps"] / method_md["m100"][str(r["d"])] - 1) for r in table_m100]
    rel += [abs(r["find_eps"] / method_md["d2048"][str(r["m"])] - 1) for r in table_d2048]
    obj = {"schema": SCHEMA, "name": "calibration", "soft_entropy_version": SE_VERSION,
           "soft_entropy_sha256": SE_HASHES,
           "find_eps": "sphere_temp_calibration(m, d, mode='bounds', eps_bracket=(1e-5, 1.0)): Brent root of "
                       "KL_lower(eps, d) = ln m, xtol 1e-12, rtol 1e-10",
           "exact": "sphere_temp_calibration(m, d, mode='exact'): Brent root of the exact Bessel KL = ln m on "
                    "[1e-6, 1], xtol 1e-12, rtol 1e-10",
           "leading_order": "1 / sqrt(2 d ln m)",
           "table_m100": table_m100, "table_d2048": table_d2048, "exact_low_d": exact, "fixture_cases": cases,
           "method_md_table": method_md, "method_md_max_rel_diff": max(rel)}
    assert max(rel) < 1e-5
    write_json(out / "calibration.json", obj)


def generate(out: Path):
    self_test_recipe()
    out.mkdir(parents=True, exist_ok=True)
    written: dict = {}
    summary: list = []
    grid_cases(out, written, summary)
    token_cases(out, written, summary)
    tuple_case(out, written, summary)
    hand_case(out, written, summary)
    calibration(out)
    return summary


def print_summary(summary, out: Path):
    print(f"{'case':<22} {'eps':>12} {'H f32':>10} {'|f32-f64| H,I':>14} {'split diff':>11} {'min MI':>11}")
    for name, obj in summary:
        mis = obj["reference_f32"]["mutual_information"].values()
        print(f"{name:<22} {obj['epsilon']['used']:>12.6g} {obj['reference_f32']['entropy']:>10.6f} "
              f"{obj['f32_vs_f64']['max_abs_diff_h_and_mi']:>14.3e} "
              f"{max(s['max_abs_diff_vs_single'] for s in obj['batch_splits']):>11.3e} "
              f"{min(mis):>11.3e}")
    total = sum(p.stat().st_size for p in out.iterdir())
    print(f"total size {total} bytes in {len(list(out.iterdir()))} files under {out}")


def check_generated(generate, committed: Path, ignore=frozenset()) -> int:
    """`--check` of a fixture script: `generate` into a temporary folder and
    compare it with `committed` file by file (names in `ignore` are another
    script's). Exit status: 1 on any difference."""
    with tempfile.TemporaryDirectory() as td:
        fresh = Path(td)
        generate(fresh)
        names = sorted(({p.name for p in fresh.iterdir()} | {p.name for p in committed.iterdir()}) - set(ignore))
        bad = [n for n in names if not (committed / n).exists() or not (fresh / n).exists()
               or (committed / n).read_bytes() != (fresh / n).read_bytes()]
        for n in bad:
            print(f"differs or missing: {n}")
        print(f"--check: {len(bad)} difference(s)" if bad else f"--check: {len(names)} files identical")
        return 1 if bad else 0


def check(committed: Path) -> int:
    with tempfile.TemporaryDirectory() as td:
        fresh = Path(td) / "estimator"
        generate(fresh)
        a = {p.name for p in committed.iterdir()} if committed.is_dir() else set()
        b = {p.name for p in fresh.iterdir()}
        bad = 0
        for nm in sorted(a - b):
            print(f"extra committed file: {nm}")
            bad += 1
        for nm in sorted(b - a):
            print(f"missing committed file: {nm}")
            bad += 1
        for nm in sorted(a & b):
            x, y = (committed / nm).read_bytes(), (fresh / nm).read_bytes()
            if x != y:
                bad += 1
                print(f"differs: {nm}")
                if nm.endswith(".json"):
                    report_json_diff(json.loads(x), json.loads(y), nm)
        if bad:
            print(f"--check: {bad} difference(s)")
            return 1
        print(f"--check: {len(b)} files identical")
        return 0


def report_json_diff(x, y, path, limit=[20]):
    if limit[0] <= 0:
        return
    if isinstance(x, dict) and isinstance(y, dict):
        for k in sorted(set(x) | set(y)):
            if k not in x or k not in y:
                print(f"  {path}.{k}: present on one side only")
                limit[0] -= 1
            else:
                report_json_diff(x[k], y[k], f"{path}.{k}")
    elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        for i, (u, v) in enumerate(zip(x, y)):
            report_json_diff(u, v, f"{path}[{i}]")
    elif x != y:
        extra = f" (abs diff {abs(x - y):.3e})" if isinstance(x, float) and isinstance(y, float) else ""
        print(f"  {path}: committed {x!r} vs regenerated {y!r}{extra}")
        limit[0] -= 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="regenerate into a temp dir and compare; exit 1 on difference")
    ap.add_argument("--out", type=Path, default=OUT_DEFAULT, help="output folder (default tests/fixtures/estimator)")
    args = ap.parse_args()
    if args.check:
        sys.exit(check(args.out))
    if args.out.is_dir():  # drop stale outputs of this script only
        for f in args.out.iterdir():
            if f.is_file() and f.suffix in (".npy", ".json"):
                f.unlink()
    summary = generate(args.out)
    print_summary(summary, args.out)


if __name__ == "__main__":
    main()
