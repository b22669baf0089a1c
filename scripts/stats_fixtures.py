#!/usr/bin/env python3
"""Generate tests/fixtures/stats/stats.json: reference values for lossy's fit
statistics (src/fit/{stats,validate,models,intervals}.rs), checked by
tests/integration/fit_stats.rs to 1e-9 (relative to max(1, |value|)); and
tests/fixtures/stats/baselines.json for src/fit/{paired,within_family,baselines}.rs
(Student t quantiles: scipy.stats.t.ppf; paired interval: scipy ttest_rel
confidence_interval; sign-flip test: scipy permutation_test, exact; pooled
within-family rho: pingouin partial_corr of within-family ranks on family
indicators; the baseline comparison: sklearn cross_val_predict LOO OLS).

References
==========
* ranks, Pearson r, Spearman rho:   scipy.stats.rankdata / pearsonr / spearmanr
* partial Spearman:                 pingouin.partial_corr(method="spearman"), and an
  independent numpy computation (Pearson r of the residuals of the ranks of x and
  y, each regressed with an intercept on the covariate ranks); the script asserts
  they agree to 1e-12, which confirms that is what pingouin computes
* OLS:                              statsmodels OLS with add_constant
* ridge:                            sklearn make_pipeline(StandardScaler(), Ridge(alpha))
* ridge with alpha chosen by CV:    sklearn GridSearchCV over that pipeline,
  scoring="neg_mean_squared_error", inner cv = LeaveOneOut or the SplitMix64 k-fold
* held-out predictions:             sklearn cross_val_predict (LeaveOneOut,
  LeaveOneGroupOut, the SplitMix64 k-fold, a hold-out by threshold)
* metrics:                          sklearn r2_score / mean_absolute_error /
  root_mean_squared_error, scipy spearmanr
* jackknife+:                       numpy on sklearn LOO fits (no library reference;
  written from Barber et al. 2021: floor(a(n+1))-th smallest of mu_-i(x) - R_i,
  ceil((1-a)(n+1))-th smallest of mu_-i(x) + R_i)
* Benjamini-Hochberg adjusted p:    statsmodels.stats.multitest.multipletests(method="fdr_bh")
  (src/fit/multitest.rs, checked there; NaN p-values left out of the family)
* SplitMix64 stream, Fisher-Yates shuffle, k-fold and permutation p-values are
  re-implemented here exactly as in src/fit/folds.rs and crates/lossy-base/src/math/stats.rs
  (integer arithmetic), so folds and p-values must match exactly.

Inputs are rounded to at most 4 decimals so that every parser reads the same
double. Usage::

    python3 scripts/stats_fixtures.py            # (re)write the fixture
    python3 scripts/stats_fixtures.py --check    # regenerate in memory, compare
                                                 # (1e-12 relative), exit 1 on difference

Pinned versions: scripts/requirements-stats.txt (Python 3.11).
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin
import scipy
import sklearn
import statsmodels
import statsmodels.api as sm
from scipy import stats as ss
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, LeaveOneOut, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "stats" / "stats.json"
M64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & M64

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def below(self, m):
        return (self.next_u64() * m) >> 64

    def shuffle(self, v):
        for i in range(len(v) - 1, 0, -1):
            j = self.below(i + 1)
            v[i], v[j] = v[j], v[i]


def k_fold(n, k, seed):
    order = list(range(n))
    SplitMix64(seed).shuffle(order)
    folds, start = [], 0
    for f in range(k):
        size = n // k + (1 if f < n % k else 0)
        test = sorted(order[start:start + size])
        start += size
        folds.append(([r for r in range(n) if r not in test], test))
    return folds


class SplitMixKFold:
    """sklearn splitter yielding lossy's k_fold(n, k, seed) for whatever n it is given."""

    def __init__(self, k, seed):
        self.k, self.seed = k, seed

    def split(self, X, y=None, groups=None):
        for train, test in k_fold(len(X), self.k, self.seed):
            yield np.array(train), np.array(test)

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.k


def pearson(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    da, db = a - a.mean(), b - b.mean()
    return float(np.sum(da * db) / (np.sqrt(np.sum(da * da)) * np.sqrt(np.sum(db * db))))


def residualize(v, covs):
    z = np.column_stack([np.ones(len(v))] + [np.asarray(c, float) for c in covs])
    beta, *_ = np.linalg.lstsq(z, v, rcond=None)
    return np.asarray(v, float) - z @ beta


def permutation_p(x, y, stat, permutations, seed):
    observed = stat(x, y)
    rng, buf, hits = SplitMix64(seed), list(y), 0
    for _ in range(permutations):
        rng.shuffle(buf)
        if abs(stat(x, np.array(buf))) >= abs(observed) - 1e-12:
            hits += 1
    return (1 + hits) / (permutations + 1)


def ridge(alpha):
    return make_pipeline(StandardScaler(), Ridge(alpha=alpha))


def ridge_cv(alphas, inner):
    return GridSearchCV(ridge(1.0), {"ridge__alpha": alphas}, cv=inner, scoring="neg_mean_squared_error")


def jackknife_plus(make, x, y, x_new, alpha):
    n = len(y)
    mus, res = [], []
    for i in range(n):
        keep = np.arange(n) != i
        m = make().fit(x[keep], y[keep])
        res.append(abs(y[i] - m.predict(x[i:i + 1])[0]))
        mus.append(m.predict(x_new))
    mus, res = np.array(mus), np.array(res)
    k_lo, k_hi = int(np.floor(alpha * (n + 1) + 1e-9)), int(np.ceil((1 - alpha) * (n + 1) - 1e-9))
    lo = np.sort(mus - res[:, None], axis=0)[k_lo - 1] if k_lo >= 1 else np.full(len(x_new), -np.inf)
    hi = np.sort(mus + res[:, None], axis=0)[k_hi - 1] if k_hi <= n else np.full(len(x_new), np.inf)
    return {"alpha": alpha, "loo_residuals": res.tolist(), "point": make().fit(x, y).predict(x_new).tolist(), "lower": lo.tolist(), "upper": hi.tolist()}


def r4(a):
    return np.round(np.asarray(a, float), 4)


def correlation_cases():
    rng = np.random.default_rng(11)
    cases = []
    for name, n, kind in [("ties_n8", 8, "ties"), ("smooth_n12", 12, "smooth"), ("negative_n20", 20, "neg"), ("heavy_ties_n30", 30, "ties"), ("weak_n47", 47, "weak")]:
        x = rng.normal(size=n)
        y = {"ties": x + rng.normal(size=n), "smooth": np.exp(x) + 0.3 * rng.normal(size=n), "neg": -x + 0.5 * rng.normal(size=n), "weak": 0.2 * x + rng.normal(size=n)}[kind]
        x, y = (np.round(x), np.round(2 * y) / 2) if kind == "ties" else (r4(x), r4(y))
        sp, pe = ss.spearmanr(x, y), ss.pearsonr(x, y)
        rx, ry = ss.rankdata(x), ss.rankdata(y)
        cases.append({
            "name": name, "x": x.tolist(), "y": y.tolist(),
            "ranks_x": rx.tolist(), "ranks_y": ry.tolist(),
            "pearson": float(pe.statistic), "spearman": float(sp.statistic),
            "perm": {"permutations": 499, "seed": 3,
                     "pearson_p": permutation_p(x, y, pearson, 499, 3),
                     "spearman_p": permutation_p(rx, ry, pearson, 499, 3)},
        })
    return cases


def partial_cases():
    rng = np.random.default_rng(12)
    cases = []
    for name, n, k in [("one_cov_n15", 15, 1), ("two_cov_ties_n24", 24, 2), ("three_cov_n47", 47, 3)]:
        covs = [rng.normal(size=n) for _ in range(k)]
        x = covs[0] + rng.normal(size=n)
        y = 0.6 * x + covs[0] + rng.normal(size=n)
        if name.find("ties") >= 0:
            covs = [np.round(c) for c in covs]
            x = np.round(x * 2) / 2
        x, y, covs = r4(x), r4(y), [r4(c) for c in covs]
        df = pd.DataFrame({"x": x, "y": y, **{f"c{i}": c for i, c in enumerate(covs)}})
        pg = float(pingouin.partial_corr(data=df, x="x", y="y", covar=[f"c{i}" for i in range(k)], method="spearman")["r"].iloc[0])
        rc = [ss.rankdata(c) for c in covs]
        rx, ry = residualize(ss.rankdata(x), rc), residualize(ss.rankdata(y), rc)
        mine = pearson(rx, ry)
        assert abs(pg - mine) < 1e-12, (name, pg, mine)
        p = permutation_p(rx, ry, lambda a, b: pearson(a, residualize(b, rc)), 499, 5)
        cases.append({"name": name, "x": x.tolist(), "y": y.tolist(), "covariates": [c.tolist() for c in covs],
                      "pingouin": pg, "numpy": mine, "perm": {"permutations": 499, "seed": 5, "p": p}})
    return cases


def regression_cases():
    rng = np.random.default_rng(13)
    cases = []
    for name, n, k in [("n8_k1", 8, 1), ("n20_k2", 20, 2), ("n47_k3", 47, 3)]:
        log_params = r4(rng.uniform(18, 25, size=n))
        feats = [log_params, r4(rng.uniform(0, 1, size=n)), r4(rng.normal(3, 2, size=n))][:k]
        x = np.column_stack(feats)
        y = r4(1.5 * log_params + (8 * feats[1] if k > 1 else 0) + rng.normal(0, 2, size=n))
        x_new = r4(np.column_stack([rng.uniform(17, 27, size=3)] + [rng.uniform(-1, 2, size=3) for _ in range(k - 1)]))
        groups = [i % 6 for i in range(n)] if n >= 12 else [i // 3 for i in range(n)]
        ols = sm.OLS(y, sm.add_constant(x)).fit()
        case = {"name": name, "x": x.tolist(), "y": y.tolist(), "x_new": x_new.tolist(), "groups": groups,
                "ols": {"intercept": float(ols.params[0]), "coefficients": ols.params[1:].tolist(), "predict_new": ols.predict(sm.add_constant(x_new, has_constant="add")).tolist()},
                "ridge": []}
        loo = cross_val_predict(LinearRegression(), x, y, cv=LeaveOneOut())
        case["ols_loo"] = {"predictions": loo.tolist(), "r2": r2_score(y, loo), "mae": mean_absolute_error(y, loo),
                           "rmse": root_mean_squared_error(y, loo), "spearman": float(ss.spearmanr(y, loo).statistic)}
        for alpha in [0.1, 1.0, 10.0]:
            p = ridge(alpha).fit(x, y)
            sc, rg = p.named_steps["standardscaler"], p.named_steps["ridge"]
            case["ridge"].append({"alpha": alpha, "scaler_mean": sc.mean_.tolist(), "scaler_scale": sc.scale_.tolist(),
                                  "coef_standardised": rg.coef_.tolist(), "intercept_standardised": float(rg.intercept_),
                                  "predict_new": p.predict(x_new).tolist(),
                                  "loo_predictions": cross_val_predict(ridge(alpha), x, y, cv=LeaveOneOut()).tolist()})
        folds = k_fold(n, 4, 21)
        case["kfold"] = {"k": 4, "seed": 21, "tests": [t for _, t in folds],
                         "ridge_alpha": 1.0, "predictions": cross_val_predict(ridge(1.0), x, y, cv=[(np.array(a), np.array(b)) for a, b in folds]).tolist()}
        logo = cross_val_predict(ridge(1.0), x, y, cv=LeaveOneGroupOut(), groups=groups)
        case["logo"] = {"ridge_alpha": 1.0, "predictions": logo.tolist()}
        thr = float(np.median(log_params))
        train, test = np.where(log_params < thr)[0], np.where(log_params >= thr)[0]
        case["hold_out"] = {"threshold": thr, "test": test.tolist(), "predictions": LinearRegression().fit(x[train], y[train]).predict(x[test]).tolist()}
        alphas = [0.01, 1.0, 30.0]
        g = ridge_cv(alphas, LeaveOneOut()).fit(x, y)
        case["ridge_cv_loo"] = {"alphas": alphas, "chosen_alpha": g.best_params_["ridge__alpha"],
                                "inner_mse": (-g.cv_results_["mean_test_score"]).tolist(), "predict_new": g.predict(x_new).tolist(),
                                "outer_loo_predictions": cross_val_predict(ridge_cv(alphas, LeaveOneOut()), x, y, cv=LeaveOneOut()).tolist()}
        if n >= 20:
            g = ridge_cv(alphas, SplitMixKFold(5, 9)).fit(x, y)
            case["ridge_cv_kfold"] = {"alphas": alphas, "k": 5, "seed": 9, "chosen_alpha": g.best_params_["ridge__alpha"],
                                      "inner_mse": (-g.cv_results_["mean_test_score"]).tolist(), "predict_new": g.predict(x_new).tolist()}
        case["jackknife_plus_ols"] = jackknife_plus(LinearRegression, x, y, x_new, 0.1)
        case["jackknife_plus_ridge"] = jackknife_plus(lambda: ridge(1.0), x, y, x_new, 0.2)
        cases.append(case)
    return cases


def rng_case():
    r = SplitMix64(0)
    first = [r.next_u64() for _ in range(3)]
    v = list(range(10))
    SplitMix64(42).shuffle(v)
    return {"seed0_first3": [str(f) for f in first], "shuffle_10_seed42": v,
            "k_fold_n11_k3_seed7": [t for _, t in k_fold(11, 3, 7)]}


def build():
    return {
        "generator": "scripts/stats_fixtures.py",
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__, "pandas": pd.__version__,
                     "statsmodels": statsmodels.__version__, "scikit-learn": sklearn.__version__, "pingouin": pingouin.__version__},
        "tolerance": 1e-9,
        "rng": rng_case(),
        "correlation": correlation_cases(),
        "partial": partial_cases(),
        "regression": regression_cases(),
        "multitest": multitest_cases(),
    }


# --- baselines.json: the statistics of src/fit/{paired,within_family,baselines}.rs ---------------
OUT_BASELINES = OUT.parent / "baselines.json"


def groups_of(families):
    order = []
    for i, f in enumerate(families):
        for g in order:
            if g[0] == f:
                g[1].append(i)
                break
        else:
            order.append((f, [i]))
    return order


def centred_ranks(v, groups):
    out = np.zeros(len(v))
    for _, m in groups:
        r = ss.rankdata([v[i] for i in m])
        out[m] = r - r.mean()
    return out


def within_perm_p(x, y, families, permutations, seed):
    """lossy's within-family permutation: y's centred ranks shuffled within each family."""
    g = groups_of(families)
    cx, cy = centred_ranks(x, g), centred_ranks(y, g)
    observed, rng, hits = pearson(cx, cy), SplitMix64(seed), 0
    shuffled = cy.copy()
    for _ in range(permutations):
        for _, m in g:
            vals = [cy[i] for i in m]
            rng.shuffle(vals)
            shuffled[m] = vals
        if abs(pearson(cx, shuffled)) >= abs(observed) - 1e-12:
            hits += 1
    return (1 + hits) / (permutations + 1)


def within_family_cases():
    rng = np.random.default_rng(31)
    cases = []
    for name, sizes in [("three_families", [4, 5, 6]), ("with_pair_and_single", [7, 2, 1, 5])]:
        families = [f"f{k}" for k, n in enumerate(sizes) for _ in range(n)]
        rng.shuffle(families)
        off = {f: 3.0 * k for k, f in enumerate(sorted(set(families)))}
        x = r4(np.array([off[f] for f in families]) + rng.normal(size=len(families)))
        y = r4(np.array([off[f] for f in families]) - 0.5 * x + rng.normal(size=len(families)))
        x[1] = x[2]  # a tie (families may differ)
        g = groups_of(families)
        rx, ry = centred_ranks(x, g), centred_ranks(y, g)
        mine = pearson(rx, ry)
        # reference: partial Pearson of the within-family ranks controlling for family indicators
        wr = lambda v: np.array([ss.rankdata([v[j] for j in m])[m.index(i)] for i in range(len(v)) for f, m in g if i in m])
        df = pd.DataFrame({"x": wr(x), "y": wr(y), **{f"d{k}": [1.0 if f == fam else 0.0 for f in families] for k, (fam, _) in enumerate(g[1:])}})
        pg = float(pingouin.partial_corr(data=df, x="x", y="y", covar=[f"d{k}" for k in range(len(g) - 1)], method="pearson")["r"].iloc[0])
        assert abs(pg - mine) < 1e-12, (name, pg, mine)
        per = [{"family": f, "n": len(m), "spearman": float(ss.spearmanr(x[m], y[m]).statistic)} for f, m in g if len(m) >= 3]
        cases.append({"name": name, "x": x.tolist(), "y": y.tolist(), "families": families, "pooled": pg,
                      "per_family": per, "perm": {"permutations": 499, "seed": 4, "p": within_perm_p(x, y, families, 499, 4)}})
    return cases


def sign_flip_exact(d):
    """Brute force over all 2^n sign patterns, scipy's two-sided rule (no +1 for an exact test)."""
    n, obs = len(d), float(np.mean(d))
    gamma = abs(obs * np.finfo(float).eps * 100)
    stats = [np.mean([(-v if (mask >> i) & 1 else v) for i, v in enumerate(d)]) for mask in range(1 << n)]
    less = sum(s <= obs + gamma for s in stats) / len(stats)
    greater = sum(s >= obs - gamma for s in stats) / len(stats)
    return min(1.0, 2 * min(less, greater))


def paired_cases():
    rng = np.random.default_rng(32)
    quantiles = [{"p": p, "df": df, "ppf": float(ss.t.ppf(p, df))}
                 for p in [0.5, 0.8, 0.95, 0.975, 0.995, 0.025] for df in [1, 2, 5, 13, 22, 46]]
    cases = []
    for name, n, shift in [("n6", 6, 0.3), ("n12_no_effect", 12, 0.0), ("n13", 13, 0.2)]:
        a = r4(rng.normal(1.0 + shift, 0.5, size=n))
        b = r4(rng.normal(1.0, 0.5, size=n))
        d = a - b
        ci = ss.ttest_rel(a, b).confidence_interval(0.95)
        perm = ss.permutation_test((d,), np.mean, permutation_type="samples", n_resamples=np.inf, alternative="two-sided")
        assert abs(perm.pvalue - sign_flip_exact(d)) < 1e-12, (name, perm.pvalue)
        cases.append({"name": name, "a": a.tolist(), "b": b.tolist(), "mean": float(np.mean(d)),
                      "lower": float(ci.low), "upper": float(ci.high), "sign_flip_p": float(perm.pvalue)})
    return {"t_quantiles": quantiles, "cases": cases}


def gain_case():
    """The features against two baselines under leave-one-out OLS (sklearn), and the paired gain
    of adding them to the best baseline (scipy ttest_rel interval, exact sign-flip test)."""
    rng = np.random.default_rng(33)
    n = 14
    b, b2, f = r4(rng.normal(size=n)), r4(rng.normal(size=n)), r4(rng.normal(size=n))
    y = r4(0.8 * b + 0.6 * f + 0.3 * rng.normal(size=n))
    loo = lambda cols: cross_val_predict(LinearRegression(), np.column_stack(cols), y, cv=LeaveOneOut())
    sets = {"b": [b], "b2": [b2], "baselines": [b, b2], "features": [f], "baselines + features": [b, b2, f]}
    out = {k: {"r2": r2_score(y, loo(v)), "mae": mean_absolute_error(y, loo(v))} for k, v in sets.items()}
    best = max(["b", "b2"], key=lambda k: out[k]["r2"])
    pb, pbf = loo(sets[best]), loo(sets[best] + [f])
    eb, ebf = np.abs(y - pb), np.abs(y - pbf)
    ci = ss.ttest_rel(eb, ebf).confidence_interval(0.95)
    perm = ss.permutation_test((eb - ebf,), np.mean, permutation_type="samples", n_resamples=np.inf, alternative="two-sided")
    return {"y": y.tolist(), "b": b.tolist(), "b2": b2.tolist(), "f": f.tolist(), "sets": out, "best": best,
            "r2_with_features": r2_score(y, pbf), "mae_with_features": mean_absolute_error(y, pbf),
            "mean": float(np.mean(eb - ebf)), "lower": float(ci.low), "upper": float(ci.high), "p": float(perm.pvalue)}


def build_baselines():
    return {
        "generator": "scripts/stats_fixtures.py",
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__,
                     "scikit-learn": sklearn.__version__, "pingouin": pingouin.__version__},
        "tolerance": 1e-9,
        "within_family": within_family_cases(),
        "paired": paired_cases(),
        "gain": gain_case(),
    }


# --- Benjamini-Hochberg adjusted p-values (src/fit/multitest.rs) -----------------------
# Reference: statsmodels.stats.multitest.multipletests(p, method="fdr_bh")[1]. NaN p-values
# are left out of the family (statsmodels is given the finite ones) and stay NaN (null).
def multitest_cases():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(22)
    inputs = [
        [0.5, 0.01, 0.03, 0.02],
        [round(float(v), 4) for v in rng.uniform(0, 1, 20)],
        # many small p-values, ties and exact zeros/ones, as a correlation grid gives
        [round(float(v), 3) for v in np.concatenate([rng.beta(0.3, 4, 100), [0.001] * 6, [1.0] * 4, [0.0] * 2])],
        [0.04, 0.9, float("nan"), 0.95, 0.001, float("nan")],
        [0.7],
    ]
    cases = []
    for p in inputs:
        p = np.asarray(p, dtype=float)
        keep = np.isfinite(p)
        adj = np.full(p.shape, np.nan)
        adj[keep] = multipletests(p[keep], method="fdr_bh")[1]
        cases.append({"p": [float(v) for v in p], "adjusted": [float(v) for v in adj]})
    return cases


def finite_or_null(v):
    """JSON has no infinities: an unbounded jackknife+ side is written as null."""
    if isinstance(v, dict):
        return {k: finite_or_null(x) for k, x in v.items()}
    if isinstance(v, list):
        return [finite_or_null(x) for x in v]
    return None if isinstance(v, float) and not np.isfinite(v) else v


def differ(a, b, path="$"):
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys differ"]
        return [d for k in a for d in differ(a[k], b[k], f"{path}.{k}") if k != "versions"]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: lengths {len(a)} vs {len(b)}"]
        return [d for i, (p, q) in enumerate(zip(a, b)) for d in differ(p, q, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        if a == b or abs(a - b) <= 1e-12 * max(1.0, abs(b)):
            return []
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="regenerate in memory and compare with the committed file")
    args = ap.parse_args()
    data = json.loads(json.dumps(finite_or_null(build()), allow_nan=False))
    extra = json.loads(json.dumps(finite_or_null(build_baselines()), allow_nan=False))
    if args.check:
        bad = differ(json.loads(OUT_BASELINES.read_text()), extra)
        print(f"--check: baselines.json has {len(bad)} difference(s)" if bad else "--check: baselines.json matches")
        bad += differ(json.loads(OUT.read_text()), data)
        for d in bad[:20]:
            print(d)
        print(f"--check: {len(bad)} difference(s)" if bad else "--check: stats.json matches")
        sys.exit(1 if bad else 0)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT}")
    OUT_BASELINES.write_text(json.dumps(extra, indent=1) + "\n")
    print(f"wrote {OUT_BASELINES}")


if __name__ == "__main__":
    main()
