//! Agreement across probe sets: whether the models' ranking by a feature
//! depends on the probe set it was measured on (the paper checks its claims
//! on C4, Tulu and MMLU inputs). For each feature measured on two or more
//! sets (`optimality` on the corpus and `optimality_<name>` on a named text
//! set; `preference` and `preference_<name>`), Spearman's ρ between every
//! two of its columns over the models that have both values.

use crate::math::stats::spearman;
use crate::table::Table;
use serde::Serialize;

/// Features compared across probe sets, in report order.
pub const FEATURES: [&str; 4] = ["optimality", "complexity", "expressivity", "preference"];

/// One pair of columns of the same feature.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Agreement {
    pub feature: String,
    pub a: String,
    pub b: String,
    /// Models with a finite value in both columns.
    pub n: usize,
    /// Spearman's ρ (NaN below 3 models or for a constant column).
    pub spearman: f64,
}

/// Every pair of `feature{suffix}` columns present in `table`, for each
/// feature of [`FEATURES`]; `suffixes` are the probe sets' (`""` for the
/// corpus and the `preference` section, `_<name>` for a named set).
pub fn agreement(table: &Table, suffixes: &[String]) -> Vec<Agreement> {
    let mut out = Vec::new();
    for feature in FEATURES {
        let mut seen = Vec::new();
        let cols: Vec<(String, Vec<f64>)> = suffixes
            .iter()
            .map(|s| format!("{feature}{s}"))
            .filter(|name| {
                !seen.contains(name) && {
                    seen.push(name.clone());
                    true
                }
            })
            .filter_map(|name| table.f64s(&name).map(|v| (name, v)))
            .collect();
        for (i, (a, x)) in cols.iter().enumerate() {
            for (b, y) in &cols[i + 1..] {
                out.push(pair(feature, a, x, b, y));
            }
        }
    }
    out
}

/// ρ over the rows where both values are finite.
pub fn pair(feature: &str, a: &str, x: &[f64], b: &str, y: &[f64]) -> Agreement {
    let (xs, ys): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(y)
        .filter(|(p, q)| p.is_finite() && q.is_finite())
        .map(|(p, q)| (*p, *q))
        .unzip();
    let n = xs.len();
    Agreement {
        feature: feature.into(),
        a: a.into(),
        b: b.into(),
        n,
        spearman: if n >= 3 { spearman(&xs, &ys) } else { f64::NAN },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Values;

    #[test]
    fn pairs_of_one_feature_over_the_probe_sets() {
        let mut t = Table::default();
        t.push("optimality", Values::F64(vec![1.0, 2.0, 3.0, 4.0]));
        t.push("optimality_c4", Values::F64(vec![1.0, 3.0, 2.0, 4.0]));
        t.push(
            "optimality_mmlu",
            Values::F64(vec![4.0, 3.0, f64::NAN, 1.0]),
        );
        t.push("preference", Values::F64(vec![0.1, 0.2, 0.3, 0.4]));
        let suffixes: Vec<String> = ["", "_c4", "_mmlu"].map(String::from).to_vec();
        let a = agreement(&t, &suffixes);
        // three optimality pairs; one preference column has no partner
        assert_eq!(a.len(), 3);
        assert_eq!(
            (a[0].a.as_str(), a[0].b.as_str()),
            ("optimality", "optimality_c4")
        );
        assert!((a[0].spearman - 0.8).abs() < 1e-12);
        assert_eq!(a[1].n, 3);
        assert!((a[1].spearman + 1.0).abs() < 1e-12);
        let short = pair("x", "a", &[1.0, 2.0], "b", &[2.0, 1.0]);
        assert!(short.spearman.is_nan());
    }
}
