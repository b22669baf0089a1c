//! Benjamini–Hochberg adjusted p-values (false discovery rate), for the correlation table
//! and figure, where one study tests every feature against every score.
//!
//! Hand-written (a dozen lines) rather than a crate: the step-up rule is exact and short,
//! and it must treat missing p-values as statsmodels' callers do (left out of the family).
//! `adjusted[i] = min(1, min_{j: p_j >= p_i} p_j * m / rank_j)` over the m finite p-values;
//! a NaN p-value stays NaN and does not count in m. Checked against
//! `statsmodels.stats.multitest.multipletests(method="fdr_bh")` (scripts/stats_fixtures.py).

/// The name the report and the figures give this adjustment.
pub const METHOD: &str = "Benjamini–Hochberg";

/// Benjamini–Hochberg adjusted p-values, in the order of `p`.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| p[i].is_finite()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let m = order.len() as f64;
    let mut out = vec![f64::NAN; p.len()];
    let mut running = 1.0_f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(p[i] * m / (rank + 1) as f64);
        out[i] = running.min(1.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_up_by_hand() {
        // m = 4: 0.01*4/1 = 0.04, 0.02*4/2 = 0.04, 0.03*4/3 = 0.04, 0.5*4/4 = 0.5.
        let a = benjamini_hochberg(&[0.5, 0.01, 0.03, 0.02]);
        for (x, y) in a.iter().zip([0.5, 0.04, 0.04, 0.04]) {
            assert!((x - y).abs() < 1e-15, "{a:?}");
        }
        // Monotone running minimum from the top, and the cap at 1.
        let b = benjamini_hochberg(&[0.04, 0.9, f64::NAN, 0.95]);
        assert!(b[2].is_nan());
        assert!(
            (b[0] - 0.12).abs() < 1e-15 && (b[1] - 0.95).abs() < 1e-15,
            "{b:?}"
        );
        assert!(benjamini_hochberg(&[]).is_empty());
        assert_eq!(benjamini_hochberg(&[0.7]), [0.7]);
    }

    /// Against statsmodels' `multipletests(method="fdr_bh")`, to 1e-12 (relative to
    /// max(1, |value|)); a null in the fixture is a NaN p-value and a NaN adjustment.
    #[test]
    fn matches_statsmodels() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/stats/stats.json");
        let text = std::fs::read_to_string(&path).expect("stats.json readable");
        let json: serde_json::Value = serde_json::from_str(&text).expect("stats.json parses");
        let cases = json["multitest"].as_array().expect("multitest section");
        assert!(cases.len() >= 5);
        let nums = |v: &serde_json::Value| -> Vec<f64> {
            v.as_array()
                .expect("array")
                .iter()
                .map(|x| x.as_f64().unwrap_or(f64::NAN))
                .collect()
        };
        for case in cases {
            let (p, want) = (nums(&case["p"]), nums(&case["adjusted"]));
            let got = benjamini_hochberg(&p);
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                if w.is_nan() {
                    assert!(g.is_nan());
                } else {
                    assert!(
                        (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                        "{g} vs {w} in {p:?}"
                    );
                }
            }
        }
    }
}
