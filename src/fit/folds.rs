//! Validation folds as plain index sets: which rows each split fits on and
//! which it predicts.
//!
//! Schemes: [`leave_one_out`], [`leave_one_group_out`] (e.g. model families,
//! as Sloth's leave-one-family-out), [`k_fold`] with a seeded shuffle, and
//! [`hold_out_below`] (train on rows whose column value is below a threshold,
//! test on the rest: ObsScaling's hold-out by compute). Running a model over
//! the folds is `fit::validate`; the ridge models' inner cross-validation
//! (`fit::regressors`) uses the same folds.
//!
//! # RNG
//! [`SplitMix64`] ([`crate::math::rng`]): integer-only, so folds and
//! permutations are identical on every platform (reproduced in
//! `scripts/stats_fixtures.py`).

use super::error::StatsError;
use serde::Serialize;

use crate::math::rng::SplitMix64;

/// One split: row indices (ascending) to fit on and to predict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fold {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

fn split(n: usize, is_test: impl Fn(usize) -> bool) -> Fold {
    let (test, train): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| is_test(i));
    Fold { train, test }
}

/// n folds, fold i tests row i.
pub fn leave_one_out(n: usize) -> Vec<Fold> {
    (0..n).map(|i| split(n, |r| r == i)).collect()
}

/// One fold per distinct group, in order of first appearance; it tests that group's rows.
pub fn leave_one_group_out<G: PartialEq>(groups: &[G]) -> Vec<Fold> {
    let mut seen: Vec<&G> = Vec::new();
    for g in groups {
        if !seen.contains(&g) {
            seen.push(g);
        }
    }
    seen.iter()
        .map(|g| split(groups.len(), |r| groups[r] == **g))
        .collect()
}

/// k folds after a SplitMix64 Fisher–Yates shuffle of 0..n seeded by `seed`:
/// fold f tests the next `n/k` shuffled rows, one more for the first `n % k`
/// folds (sklearn's `KFold` sizes).
pub fn k_fold(n: usize, k: usize, seed: u64) -> Result<Vec<Fold>, StatsError> {
    if k < 2 || k > n {
        return Err(StatsError::Invalid(format!(
            "k-fold needs 2 ≤ k ≤ n; k = {k}, n = {n}"
        )));
    }
    let mut order: Vec<usize> = (0..n).collect();
    SplitMix64::new(seed).shuffle(&mut order);
    let mut fold_of = vec![0usize; n];
    let mut start = 0;
    for f in 0..k {
        let size = n / k + usize::from(f < n % k);
        for &r in &order[start..start + size] {
            fold_of[r] = f;
        }
        start += size;
    }
    Ok((0..k).map(|f| split(n, |r| fold_of[r] == f)).collect())
}

/// Train on rows with `values[i] < threshold`, test on the rest (e.g. hold out
/// the models above a training-compute threshold). Both sides must be non-empty.
pub fn hold_out_below(values: &[f64], threshold: f64) -> Result<Fold, StatsError> {
    if values.iter().any(|v| !v.is_finite()) || !threshold.is_finite() {
        return Err(StatsError::NonFinite("hold-out column"));
    }
    let fold = split(values.len(), |r| values[r] >= threshold);
    if fold.train.is_empty() || fold.test.is_empty() {
        return Err(StatsError::Invalid(format!(
            "threshold {threshold} leaves {} training and {} test rows",
            fold.train.len(),
            fold.test.len()
        )));
    }
    Ok(fold)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_self_test_and_shuffle_is_a_permutation() {
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
        let mut v: Vec<usize> = (0..50).collect();
        SplitMix64::new(9).shuffle(&mut v);
        let mut s = v.clone();
        s.sort();
        assert_eq!(s, (0..50).collect::<Vec<_>>());
        assert_ne!(v, s);
    }

    #[test]
    fn folds_partition_the_rows() {
        for folds in [
            leave_one_out(7),
            k_fold(7, 3, 1).unwrap(),
            leave_one_group_out(&["a", "b", "a", "c", "b", "a", "c"]),
        ] {
            let mut all: Vec<usize> = folds.iter().flat_map(|f| f.test.clone()).collect();
            all.sort();
            assert_eq!(all, (0..7).collect::<Vec<_>>());
            for f in &folds {
                assert_eq!(f.train.len() + f.test.len(), 7);
            }
        }
        let sizes: Vec<usize> = k_fold(7, 3, 1)
            .unwrap()
            .iter()
            .map(|f| f.test.len())
            .collect();
        assert_eq!(sizes, vec![3, 2, 2]);
        assert_eq!(leave_one_group_out(&["a", "b", "a"])[0].test, vec![0, 2]);
        assert!(k_fold(3, 4, 0).is_err());
    }

    #[test]
    fn hold_out_splits_at_the_threshold() {
        let f = hold_out_below(&[1e21, 3e22, 5e20, 2e23], 1e22).unwrap();
        assert_eq!((f.train, f.test), (vec![0, 2], vec![1, 3]));
        assert!(hold_out_below(&[1.0, 2.0], 5.0).is_err());
        assert!(hold_out_below(&[1.0, f64::NAN], 1.5).is_err());
    }
}
