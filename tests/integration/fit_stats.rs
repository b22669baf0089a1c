//! The fit statistics (`lossy::math::stats`, `lossy::fit::{folds, validate, regressors, intervals}`)
//! against reference values from scipy, statsmodels, sklearn and pingouin in
//! `tests/fixtures/stats/stats.json` (made by `scripts/stats_fixtures.py`), to
//! 1e-9 relative to max(1, |reference|). Folds and permutation p-values use
//! the same SplitMix64 stream in both languages and must match exactly.
//! Run with `--nocapture` to see the largest difference per section.

use lossy::fit::folds::{hold_out_below, k_fold, leave_one_group_out, leave_one_out, Fold};
use lossy::fit::intervals::jackknife_plus;
use lossy::fit::params::{Coverage, Folds};
use lossy::fit::regressors::{Fit, InnerCv, Predict, Regressor, Ridge, RidgeCv};
use lossy::fit::validate::cross_validate;
use lossy::math::rng::SplitMix64;
use lossy::math::stats::{
    partial_spearman, partial_spearman_test, pearson, pearson_test, ranks, spearman, spearman_test,
};
use ndarray::Array2;
use serde_json::Value;
use std::path::PathBuf;

const TOL: f64 = 1e-9;

fn fixture() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stats/stats.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/stats_fixtures.py)", path.display()));
    serde_json::from_str(&text).expect("stats.json parses")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// A vector; JSON null (an unbounded jackknife+ side) reads as NaN.
fn vf(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn vu(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("index") as usize)
        .collect()
}

fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().expect("rows").iter().map(vf).collect();
    Array2::from_shape_fn((rows.len(), rows[0].len()), |(i, j)| rows[i][j])
}

/// Compares within TOL and remembers the largest scaled difference.
#[derive(Default)]
struct Close {
    worst: f64,
    at: String,
}

impl Close {
    fn num(&mut self, what: &str, got: f64, want: f64) {
        let d = (got - want).abs() / want.abs().max(1.0);
        assert!(
            d <= TOL,
            "{what}: got {got}, reference {want} (scaled diff {d:e})"
        );
        if d > self.worst {
            (self.worst, self.at) = (d, what.to_string());
        }
    }

    fn vec(&mut self, what: &str, got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len(), "{what}: lengths");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            if w.is_nan() {
                assert!(
                    g.is_infinite(),
                    "{what}[{i}]: reference is unbounded, got {g}"
                );
            } else {
                self.num(&format!("{what}[{i}]"), *g, *w);
            }
        }
    }

    fn report(&self, section: &str) {
        eprintln!(
            "{section}: largest scaled difference {:.3e} at {}",
            self.worst, self.at
        );
    }
}

#[test]
fn splitmix_stream_shuffle_and_k_fold_match_the_script() {
    let rng = &fixture()["rng"];
    let mut r = SplitMix64::new(0);
    let first: Vec<String> = (0..3).map(|_| r.next_u64().to_string()).collect();
    let want: Vec<String> = rng["seed0_first3"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(first, want);
    let mut v: Vec<usize> = (0..10).collect();
    SplitMix64::new(42).shuffle(&mut v);
    assert_eq!(v, vu(&rng["shuffle_10_seed42"]));
    let tests: Vec<Vec<usize>> = k_fold(11, 3, 7)
        .unwrap()
        .into_iter()
        .map(|f| f.test)
        .collect();
    let want: Vec<Vec<usize>> = rng["k_fold_n11_k3_seed7"]
        .as_array()
        .unwrap()
        .iter()
        .map(vu)
        .collect();
    assert_eq!(tests, want);
}

#[test]
fn ranks_pearson_spearman_and_permutation_p_match_scipy() {
    let mut c = Close::default();
    for case in fixture()["correlation"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (x, y) = (vf(&case["x"]), vf(&case["y"]));
        assert_eq!(ranks(&x), vf(&case["ranks_x"]), "{name}: ranks x");
        assert_eq!(ranks(&y), vf(&case["ranks_y"]), "{name}: ranks y");
        c.num(
            &format!("{name} pearson"),
            pearson(&x, &y),
            f(&case["pearson"]),
        );
        c.num(
            &format!("{name} spearman"),
            spearman(&x, &y),
            f(&case["spearman"]),
        );
        let p = &case["perm"];
        let (b, seed) = (
            p["permutations"].as_u64().unwrap() as usize,
            p["seed"].as_u64().unwrap(),
        );
        assert_eq!(
            pearson_test(&x, &y, b, seed).p_value,
            f(&p["pearson_p"]),
            "{name}: pearson permutation p"
        );
        assert_eq!(
            spearman_test(&x, &y, b, seed).p_value,
            f(&p["spearman_p"]),
            "{name}: spearman permutation p"
        );
    }
    c.report("correlation");
}

#[test]
fn partial_spearman_matches_pingouin() {
    let mut c = Close::default();
    for case in fixture()["partial"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (x, y) = (vf(&case["x"]), vf(&case["y"]));
        let covs: Vec<Vec<f64>> = case["covariates"]
            .as_array()
            .unwrap()
            .iter()
            .map(vf)
            .collect();
        c.num(
            &format!("{name} vs pingouin"),
            partial_spearman(&x, &y, &covs),
            f(&case["pingouin"]),
        );
        let p = &case["perm"];
        let t = partial_spearman_test(
            &x,
            &y,
            &covs,
            p["permutations"].as_u64().unwrap() as usize,
            p["seed"].as_u64().unwrap(),
        );
        assert_eq!(t.p_value, f(&p["p"]), "{name}: Freedman-Lane permutation p");
    }
    c.report("partial spearman");
}

#[test]
fn ols_and_ridge_match_statsmodels_and_sklearn() {
    let mut c = Close::default();
    for case in fixture()["regression"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (x, y, xn) = (matrix(&case["x"]), vf(&case["y"]), matrix(&case["x_new"]));
        let ols = Regressor::Ols.fit(x.view(), &y).unwrap();
        c.num(
            &format!("{name} ols intercept"),
            ols.intercept(),
            f(&case["ols"]["intercept"]),
        );
        c.vec(
            &format!("{name} ols coefficients"),
            ols.coefficients(),
            &vf(&case["ols"]["coefficients"]),
        );
        c.vec(
            &format!("{name} ols predict"),
            &ols.predict(xn.view()),
            &vf(&case["ols"]["predict_new"]),
        );
        for r in case["ridge"].as_array().unwrap() {
            let alpha = f(&r["alpha"]);
            let tag = format!("{name} ridge {alpha}");
            let ridge = Ridge::new(alpha).unwrap();
            let m = ridge.fit(x.view(), &y).unwrap();
            let s = &m.scaler;
            c.vec(
                &format!("{tag} scaler mean"),
                &s.mean,
                &vf(&r["scaler_mean"]),
            );
            c.vec(
                &format!("{tag} scaler scale"),
                &s.scale,
                &vf(&r["scaler_scale"]),
            );
            let (b0, b) = (m.standardised.intercept, &m.standardised.coefficients);
            c.num(
                &format!("{tag} intercept"),
                b0,
                f(&r["intercept_standardised"]),
            );
            c.vec(&format!("{tag} coef"), b, &vf(&r["coef_standardised"]));
            c.vec(
                &format!("{tag} predict"),
                &m.predict(xn.view()),
                &vf(&r["predict_new"]),
            );
            let cv = cross_validate(
                &Regressor::Ridge(ridge),
                x.view(),
                &y,
                &leave_one_out(y.len()),
            )
            .unwrap();
            c.vec(
                &format!("{tag} loo"),
                &cv.predicted,
                &vf(&r["loo_predictions"]),
            );
        }
    }
    c.report("ols and ridge");
}

#[test]
fn held_out_predictions_and_metrics_match_sklearn() {
    let mut c = Close::default();
    for case in fixture()["regression"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (x, y) = (matrix(&case["x"]), vf(&case["y"]));
        let n = y.len();
        let loo = cross_validate(&Regressor::Ols, x.view(), &y, &leave_one_out(n)).unwrap();
        let want = &case["ols_loo"];
        c.vec(
            &format!("{name} ols loo"),
            &loo.predicted,
            &vf(&want["predictions"]),
        );
        for (key, got) in [
            ("r2", loo.overall.r2),
            ("mae", loo.overall.mae),
            ("rmse", loo.overall.rmse),
            ("spearman", loo.overall.spearman),
        ] {
            c.num(&format!("{name} loo {key}"), got, f(&want[key]));
        }
        let kf = &case["kfold"];
        let folds = k_fold(
            n,
            kf["k"].as_u64().unwrap() as usize,
            kf["seed"].as_u64().unwrap(),
        )
        .unwrap();
        let tests: Vec<Vec<usize>> = folds.iter().map(|f| f.test.clone()).collect();
        assert_eq!(
            tests,
            kf["tests"]
                .as_array()
                .unwrap()
                .iter()
                .map(vu)
                .collect::<Vec<_>>(),
            "{name}: k-fold sets"
        );
        let ridge = Regressor::Ridge(Ridge::new(f(&kf["ridge_alpha"])).unwrap());
        c.vec(
            &format!("{name} k-fold"),
            &cross_validate(&ridge, x.view(), &y, &folds)
                .unwrap()
                .predicted,
            &vf(&kf["predictions"]),
        );
        let groups = vu(&case["groups"]);
        let logo = cross_validate(&ridge, x.view(), &y, &leave_one_group_out(&groups)).unwrap();
        c.vec(
            &format!("{name} leave-one-group-out"),
            &logo.predicted,
            &vf(&case["logo"]["predictions"]),
        );
        let ho = &case["hold_out"];
        let col: Vec<f64> = x.column(0).to_vec();
        let fold: Fold = hold_out_below(&col, f(&ho["threshold"])).unwrap();
        assert_eq!(fold.test, vu(&ho["test"]), "{name}: hold-out rows");
        let res =
            cross_validate(&Regressor::Ols, x.view(), &y, std::slice::from_ref(&fold)).unwrap();
        assert_eq!(res.held_out, fold.test);
        let got: Vec<f64> = fold.test.iter().map(|&r| res.predicted[r]).collect();
        c.vec(&format!("{name} hold-out"), &got, &vf(&ho["predictions"]));
        assert!(fold.train.iter().all(|&r| res.predicted[r].is_nan()));
    }
    c.report("held-out predictions and metrics");
}

#[test]
fn ridge_cv_matches_nested_grid_search() {
    let mut c = Close::default();
    for case in fixture()["regression"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (x, y, xn) = (matrix(&case["x"]), vf(&case["y"]), matrix(&case["x_new"]));
        let want = &case["ridge_cv_loo"];
        let ridge_cv = RidgeCv::new(&vf(&want["alphas"]), InnerCv::LeaveOneOut).unwrap();
        let m = ridge_cv.fit(x.view(), &y).unwrap();
        assert_eq!(
            m.ridge.alpha.get(),
            f(&want["chosen_alpha"]),
            "{name}: chosen alpha"
        );
        c.vec(
            &format!("{name} inner mse"),
            &m.inner_mse,
            &vf(&want["inner_mse"]),
        );
        c.vec(
            &format!("{name} predict"),
            &m.predict(xn.view()),
            &vf(&want["predict_new"]),
        );
        let model = Regressor::RidgeCv(ridge_cv);
        let outer = cross_validate(&model, x.view(), &y, &leave_one_out(y.len())).unwrap();
        c.vec(
            &format!("{name} nested loo"),
            &outer.predicted,
            &vf(&want["outer_loo_predictions"]),
        );
        if let Some(kf) = case.get("ridge_cv_kfold") {
            let inner = InnerCv::KFold {
                k: Folds::new(kf["k"].as_u64().unwrap() as usize).unwrap(),
                seed: kf["seed"].as_u64().unwrap(),
            };
            let m = RidgeCv::new(&vf(&kf["alphas"]), inner)
                .unwrap()
                .fit(x.view(), &y)
                .unwrap();
            assert_eq!(
                m.ridge.alpha.get(),
                f(&kf["chosen_alpha"]),
                "{name}: chosen alpha (k-fold)"
            );
            c.vec(
                &format!("{name} inner mse k-fold"),
                &m.inner_mse,
                &vf(&kf["inner_mse"]),
            );
            c.vec(
                &format!("{name} predict k-fold"),
                &m.predict(xn.view()),
                &vf(&kf["predict_new"]),
            );
        }
    }
    c.report("ridge cv");
}

#[test]
fn jackknife_plus_matches_the_numpy_reference() {
    let mut c = Close::default();
    for case in fixture()["regression"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (x, y, xn) = (matrix(&case["x"]), vf(&case["y"]), matrix(&case["x_new"]));
        for (key, model) in [
            ("jackknife_plus_ols", Regressor::Ols),
            (
                "jackknife_plus_ridge",
                Regressor::Ridge(Ridge::new(1.0).unwrap()),
            ),
        ] {
            let want = &case[key];
            // the fixture's miscoverage α, as the coverage 1 − α the fit takes
            let coverage = Coverage::new(1.0 - f(&want["alpha"])).unwrap();
            let jk = jackknife_plus(&model, x.view(), &y, xn.view(), coverage).unwrap();
            c.vec(
                &format!("{name} {key} residuals"),
                &jk.loo_residuals,
                &vf(&want["loo_residuals"]),
            );
            let col = |g: fn(&lossy::fit::intervals::PredictionInterval) -> f64| {
                jk.intervals.iter().map(g).collect::<Vec<f64>>()
            };
            c.vec(
                &format!("{name} {key} point"),
                &col(|i| i.point),
                &vf(&want["point"]),
            );
            c.vec(
                &format!("{name} {key} lower"),
                &col(|i| i.lower),
                &vf(&want["lower"]),
            );
            c.vec(
                &format!("{name} {key} upper"),
                &col(|i| i.upper),
                &vf(&want["upper"]),
            );
        }
    }
    c.report("jackknife+");
}
