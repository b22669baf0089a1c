//! The baseline statistics (`lossy::fit::{paired, within_family, baselines}`)
//! against `tests/fixtures/stats/baselines.json` (made by
//! `scripts/stats_fixtures.py`): Student t quantiles (scipy `t.ppf`), the
//! paired t interval (scipy `ttest_rel(...).confidence_interval`), the exact
//! sign-flip test (scipy `permutation_test`), per-family Spearman (scipy) and
//! the pooled within-family ρ (pingouin `partial_corr` on family indicators),
//! its within-family permutation p (the script's re-implementation of the
//! same SplitMix64 stream: exact), and the whole baseline comparison of a
//! fit (sklearn leave-one-out OLS). All to 1e-9 relative to max(1, |ref|).

use lossy::fit::paired::{paired_interval, sign_flip_test, t_quantile};
use lossy::fit::within_family::{per_family, pooled_test};
use lossy::fit::{fit_study, FitInput, FitSettings};
use serde_json::Value;
use std::path::PathBuf;

const TOL: f64 = 1e-9;

fn fixture() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stats/baselines.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/stats_fixtures.py)", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn vf(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(f).collect()
}

fn close(what: &str, got: f64, want: f64) {
    let d = (got - want).abs() / want.abs().max(1.0);
    assert!(d <= TOL, "{what}: got {got}, reference {want} ({d:e})");
}

#[test]
fn t_quantiles_paired_intervals_and_sign_flips_match_scipy() {
    let fx = fixture();
    for q in fx["paired"]["t_quantiles"].as_array().unwrap() {
        let (p, df) = (f(&q["p"]), f(&q["df"]));
        close(
            &format!("t.ppf({p}, {df})"),
            t_quantile(p, df),
            f(&q["ppf"]),
        );
    }
    for c in fx["paired"]["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let d: Vec<f64> = vf(&c["a"])
            .iter()
            .zip(vf(&c["b"]))
            .map(|(a, b)| a - b)
            .collect();
        let iv = paired_interval(&d, 0.95);
        close(&format!("{name} mean"), iv.mean, f(&c["mean"]));
        close(&format!("{name} lower"), iv.lower, f(&c["lower"]));
        close(&format!("{name} upper"), iv.upper, f(&c["upper"]));
        close(
            &format!("{name} p"),
            sign_flip_test(&d, 999, 0),
            f(&c["sign_flip_p"]),
        );
    }
}

#[test]
fn within_family_correlations_match_scipy_and_pingouin() {
    for c in fixture()["within_family"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let (x, y) = (vf(&c["x"]), vf(&c["y"]));
        let fams: Vec<String> = serde_json::from_value(c["families"].clone()).unwrap();
        let p = pooled_test(&x, &y, &fams, 499, 4);
        close(&format!("{name} pooled"), p.spearman, f(&c["pooled"]));
        close(&format!("{name} p"), p.p_value, f(&c["perm"]["p"]));
        let per = per_family(&x, &y, &fams);
        let want = c["per_family"].as_array().unwrap();
        assert_eq!(
            per.len(),
            want.len(),
            "{name}: families with 3 or more models"
        );
        for (g, w) in per.iter().zip(want) {
            assert_eq!(g.family, w["family"].as_str().unwrap());
            assert_eq!(g.n as u64, w["n"].as_u64().unwrap());
            close(
                &format!("{name} {}", g.family),
                g.spearman,
                f(&w["spearman"]),
            );
        }
    }
}

#[test]
fn the_baseline_comparison_matches_sklearn_and_scipy() {
    let fx = fixture();
    let g = &fx["gain"];
    let (y, b, b2, feat) = (vf(&g["y"]), vf(&g["b"]), vf(&g["b2"]), vf(&g["f"]));
    let n = y.len();
    let names: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    let families = vec![String::new(); n];
    let x: Vec<Vec<f64>> = feat.iter().map(|&v| vec![v]).collect();
    let baselines = vec![("b".to_string(), b.clone()), ("b2".to_string(), b2)];
    let input = FitInput {
        names: &names,
        families: &families,
        x: &x,
        y: &y,
        columns: &[],
        log_params: &b,
        hold_out: None,
        withheld: None,
        baselines: &baselines,
        control: None,
    };
    let settings = FitSettings::new("y", vec!["f".into()]);
    let r = fit_study(&settings, &input).unwrap();
    let report = r.baseline_comparison.expect("a comparison");
    for (label, want) in g["sets"].as_object().unwrap() {
        let set = report
            .sets
            .iter()
            .find(|s| s.label == *label)
            .unwrap_or_else(|| panic!("no row `{label}`"));
        close(&format!("{label} R²"), set.metrics.r2, f(&want["r2"]));
        close(&format!("{label} MAE"), set.metrics.mae, f(&want["mae"]));
    }
    let gain = report.gain.expect("a gain");
    assert_eq!(gain.baseline, g["best"].as_str().unwrap());
    close(
        "R² with features",
        gain.r2_with_features,
        f(&g["r2_with_features"]),
    );
    close(
        "MAE with features",
        gain.mae_with_features,
        f(&g["mae_with_features"]),
    );
    let e = &gain.abs_error_reduction;
    close("mean gain", e.mean, f(&g["mean"]));
    close("gain lower", e.lower, f(&g["lower"]));
    close("gain upper", e.upper, f(&g["upper"]));
    close("gain p", gain.p_value, f(&g["p"]));
}
