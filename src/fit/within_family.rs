//! Correlations within each family (or checkpoint series), and pooled within
//! families: a pooled correlation across families can come from families
//! differing in both the feature and the score (size, data), and says
//! nothing about ranking the models of one family.
//!
//! * Per family with at least 3 models: Spearman ρ ([`crate::math::stats::spearman`]).
//! * Pooled within-family ρ_w: x and y are ranked within each family (average
//!   ranks), each family's mean rank is subtracted, and ρ_w is the Pearson
//!   correlation of the pooled deviations. This equals the partial Pearson
//!   correlation of the within-family ranks controlling for family indicators
//!   (checked against `pingouin.partial_corr` in `scripts/stats_fixtures.py`).
//!   Its p-value permutes y within each family (the families stay intact),
//!   two-sided with the +1 correction, seeded by SplitMix64.

use crate::math::rng::SplitMix64;
use crate::math::stats::{pearson, ranks, spearman};
use serde::Serialize;

/// One family's correlation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FamilyCorrelation {
    pub family: String,
    pub n: usize,
    pub spearman: f64,
}

/// Indices of each family's members, families in order of first appearance.
fn groups(families: &[String]) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, f) in families.iter().enumerate() {
        match out.iter_mut().find(|(g, _)| g == f) {
            Some((_, members)) => members.push(i),
            None => out.push((f.clone(), vec![i])),
        }
    }
    out
}

/// Spearman ρ within each family of at least 3 models.
pub fn per_family(x: &[f64], y: &[f64], families: &[String]) -> Vec<FamilyCorrelation> {
    groups(families)
        .into_iter()
        .filter(|(_, m)| m.len() >= 3)
        .map(|(family, m)| {
            let (fx, fy): (Vec<f64>, Vec<f64>) = m.iter().map(|&i| (x[i], y[i])).unzip();
            FamilyCorrelation {
                family,
                n: m.len(),
                spearman: spearman(&fx, &fy),
            }
        })
        .collect()
}

/// Ranks within each group, minus the group's mean rank.
fn centred_ranks(v: &[f64], groups: &[(String, Vec<usize>)]) -> Vec<f64> {
    let mut out = vec![0.0; v.len()];
    for (_, m) in groups {
        let r = ranks(&m.iter().map(|&i| v[i]).collect::<Vec<_>>());
        let mean = r.iter().sum::<f64>() / r.len() as f64;
        for (&i, ri) in m.iter().zip(r) {
            out[i] = ri - mean;
        }
    }
    out
}

/// Pooled within-family Spearman ρ_w (NaN when no family varies).
pub fn pooled(x: &[f64], y: &[f64], families: &[String]) -> f64 {
    let g = groups(families);
    pearson(&centred_ranks(x, &g), &centred_ranks(y, &g))
}

/// ρ_w with its within-family permutation p-value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pooled {
    pub n: usize,
    /// Families with at least 2 models (the others add nothing).
    pub families: usize,
    pub spearman: f64,
    pub p_value: f64,
}

/// [`pooled`] and a two-sided p-value from `permutations` shuffles of y
/// within each family (families in order of first appearance, each shuffled
/// by Fisher–Yates from one SplitMix64 stream).
pub fn pooled_test(
    x: &[f64],
    y: &[f64],
    families: &[String],
    permutations: usize,
    seed: u64,
) -> Pooled {
    let g = groups(families);
    let cx = centred_ranks(x, &g);
    let cy = centred_ranks(y, &g);
    let observed = pearson(&cx, &cy);
    let mut rng = SplitMix64::new(seed);
    let mut shuffled = cy.clone();
    let mut hits = 0usize;
    if observed.is_finite() {
        for _ in 0..permutations {
            for (_, m) in &g {
                let mut vals: Vec<f64> = m.iter().map(|&i| cy[i]).collect();
                rng.shuffle(&mut vals);
                for (&i, v) in m.iter().zip(vals) {
                    shuffled[i] = v;
                }
            }
            if pearson(&cx, &shuffled).abs() >= observed.abs() - 1e-12 {
                hits += 1;
            }
        }
    }
    Pooled {
        n: x.len(),
        families: g.iter().filter(|(_, m)| m.len() >= 2).count(),
        spearman: observed,
        p_value: if observed.is_finite() {
            (1 + hits) as f64 / (permutations + 1) as f64
        } else {
            f64::NAN
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_offset_does_not_make_a_within_family_correlation() {
        // within each family y falls as x rises; across families both rise
        let x = [1.0, 2.0, 3.0, 11.0, 12.0, 13.0];
        let y = [3.0, 2.0, 1.0, 13.0, 12.0, 11.0];
        let fam: Vec<String> = ["a", "a", "a", "b", "b", "b"].map(String::from).to_vec();
        assert!(spearman(&x, &y) > 0.5);
        assert!((pooled(&x, &y, &fam) + 1.0).abs() < 1e-12);
        let per = per_family(&x, &y, &fam);
        assert_eq!(per.len(), 2);
        assert!(per.iter().all(|f| (f.spearman + 1.0).abs() < 1e-12));
    }
}
