//! The README's benchmark figures against the committed results: the ranges
//! it quotes from `reports/bench/end_to_end.json` are recomputed here, so the
//! README cannot drift from the last run of `scripts/bench_end_to_end.py`.

use crate::support::root;
use serde_json::Value;

/// `min–max` of `field(case)` over the benchmark's cases, each value
/// formatted by `fmt`, as the README writes a range.
fn range(cases: &[Value], field: impl Fn(&Value) -> f64, fmt: impl Fn(f64) -> String) -> String {
    let values: Vec<f64> = cases.iter().map(field).collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{}–{}", fmt(lo), fmt(hi))
}

#[test]
fn readme_quotes_the_end_to_end_benchmark() {
    let path = root().join("reports/bench/end_to_end.json");
    let bench: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = bench["results"].as_array().unwrap();
    assert_eq!(cases.len(), 4, "128 and 512 tokens × orders [1] and [1, 2]");
    let readme = std::fs::read_to_string(root().join("README.md"))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let ratio = |v: f64| format!("{v:.1}");
    let percent = |v: f64| format!("{:.0}", 100.0 * v);
    let rate = |v: f64| format!("{v:.0}");
    let mib = |v: f64| format!("{:.0}", v / f64::from(1 << 20));
    let quoted = [
        format!(
            "{}×",
            range(cases, |c| c["speed_ratio"].as_f64().unwrap(), ratio)
        ),
        format!(
            "{}×",
            range(
                cases,
                |c| c["speed_ratio_vs_after_load"].as_f64().unwrap(),
                ratio
            )
        ),
        format!(
            "{}%",
            range(cases, |c| c["of_forward_only"].as_f64().unwrap(), percent)
        ),
        format!(
            "{} tok/s after loading",
            range(
                cases,
                |c| c["paper"]["tokens_per_s_after_load"].as_f64().unwrap(),
                rate
            )
        ),
        format!(
            "({} MiB against",
            range(
                cases,
                |c| c["lossy"]["peak_rss_bytes"].as_f64().unwrap(),
                mib
            )
        ),
    ];
    for want in quoted {
        assert!(readme.contains(&want), "README.md should say `{want}`");
    }
    let worst = cases
        .iter()
        .map(|c| c["max_feature_diff"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(
        worst <= 1e-4,
        "the benchmark's features differ by {worst:e}"
    );
}
