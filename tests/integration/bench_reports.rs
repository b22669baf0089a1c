//! The README's benchmark figures against the committed results: every range
//! it quotes from `reports/bench/end_to_end.json` is recomputed here, so the
//! README cannot drift from the last run of `scripts/bench_end_to_end.py`.

use crate::support::root;
use serde_json::Value;

/// `min–max` of the number at `path` (keys from the case down) over the
/// benchmark's cases, each end formatted by `fmt`, as the README writes it.
fn range(cases: &[Value], path: &[&str], fmt: fn(f64) -> String) -> String {
    let values: Vec<f64> = cases
        .iter()
        .map(|c| {
            let v = path.iter().fold(c, |v, k| &v[*k]);
            v.as_f64()
                .unwrap_or_else(|| panic!("no number at {path:?}"))
        })
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{}–{}", fmt(lo), fmt(hi))
}

/// A whole number with thousands separators, as the README writes it.
fn thousands(v: f64) -> String {
    let digits = format!("{v:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(bytes: f64) -> String {
    thousands(bytes / f64::from(1 << 20))
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
    let ratio: fn(f64) -> String = |v| format!("{v:.1}");
    let percent: fn(f64) -> String = |v| format!("{:.0}", 100.0 * v);
    let two: fn(f64) -> String = |v| format!("{v:.2}");
    let quoted = [
        (
            "ran {}× the paper's throughput",
            range(cases, &["speed_ratio"], ratio),
        ),
        (
            "and {}× against",
            range(cases, &["speed_ratio_vs_after_load"], ratio),
        ),
        (
            "({} tok/s against",
            range(cases, &["lossy", "tokens_per_s"], thousands),
        ),
        (
            "the paper's {} tok/s after loading",
            range(cases, &["paper", "tokens_per_s_after_load"], thousands),
        ),
        (
            "({} MiB against",
            range(cases, &["lossy", "peak_rss_bytes"], mib),
        ),
        (
            "MiB against {})",
            range(cases, &["paper", "peak_rss_bytes"], mib),
        ),
        (
            "keeps {}% of its own",
            range(cases, &["of_forward_only"], percent),
        ),
        (
            "({} tok/s, `phases.forward`",
            range(cases, &["lossy", "forward_only_tokens_per_s"], thousands),
        ),
        (
            "overlapping measured {}×",
            range(cases, &["overlap_ratio"], two),
        ),
    ];
    for (template, value) in quoted {
        let want = template.replace("{}", &value);
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
    let seen = format!("largest difference seen {worst:.1e}");
    assert!(readme.contains(&seen), "README.md should say `{seen}`");
}
