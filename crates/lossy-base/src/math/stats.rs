//! Correlation and error statistics: the one statistics module (Student's t
//! is in [`super::student_t`]), shared by
//! the fit stage (correlations, permutation tests, held-out metrics), the
//! report and the figures (a plot's ρ, R², MAE).
//!
//! * [`ranks`]: average ranks (1-based; ties share the mean of their ranks), as
//!   `scipy.stats.rankdata(method="average")`.
//! * [`pearson`], [`spearman`] (Pearson on average ranks, as `scipy.stats.spearmanr`).
//! * [`partial_spearman`]: rank-transform x, y and every covariate, regress the
//!   ranks of x and of y (with an intercept) on the covariate ranks, and take the
//!   Pearson correlation of the two residual vectors. This equals
//!   `pingouin.partial_corr(method="spearman")`, which inverts the covariance
//!   matrix of the ranks (checked in `scripts/stats_fixtures.py`).
//! * Permutation tests, two-sided with the +1 correction
//!   p = (1 + #{b : |r*_b| ≥ |r|}) / (B + 1), seeded by the SplitMix64 stream of
//!   [`crate::math::rng::SplitMix64`] so that p-values are reproducible everywhere.
//! * Held-out error metrics: [`r2`], [`mae`], [`rmse`].
//!
//! Inputs must be finite and of equal length (lengths are asserted; callers drop
//! missing rows first). Degenerate cases (a constant variable, singular
//! covariates) give NaN rather than an error, like scipy.

use crate::math::rng::SplitMix64;
use serde::Serialize;

/// Average ranks, 1-based (ties get the mean of the ranks they span).
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut out = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            out[o] = avg;
        }
        i = j + 1;
    }
    out
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Pearson's r (two-pass, centred sums). NaN if either variable is constant or n < 2.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len(), "pearson: lengths differ");
    if x.len() < 2 {
        return f64::NAN;
    }
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (da, db) = (a - mx, b - my);
        sxy += da * db;
        sxx += da * da;
        syy += db * db;
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    (sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0)
}

/// Spearman's ρ: Pearson's r of the average ranks.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&ranks(x), &ranks(y))
}

/// Solves the symmetric positive-definite system `a · b = rhs` (`a` is k×k,
/// row-major) by Cholesky. `None` if `a` is not numerically positive definite.
pub fn cholesky_solve(a: &[f64], rhs: &[f64]) -> Option<Vec<f64>> {
    let k = rhs.len();
    assert_eq!(a.len(), k * k);
    let scale = (0..k).map(|i| a[i * k + i].abs()).fold(0.0, f64::max);
    let mut l = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let s = a[i * k + j] - (0..j).map(|p| l[i * k + p] * l[j * k + p]).sum::<f64>();
            if i == j {
                if s.is_nan() || s <= 1e-13 * scale {
                    return None;
                }
                l[i * k + i] = s.sqrt();
            } else {
                l[i * k + j] = s / l[j * k + j];
            }
        }
    }
    let mut z = vec![0.0; k];
    for i in 0..k {
        z[i] = (rhs[i] - (0..i).map(|p| l[i * k + p] * z[p]).sum::<f64>()) / l[i * k + i];
    }
    let mut b = vec![0.0; k];
    for i in (0..k).rev() {
        b[i] = (z[i] - (i + 1..k).map(|p| l[p * k + i] * b[p]).sum::<f64>()) / l[i * k + i];
    }
    Some(b)
}

/// Residuals of `v` regressed by least squares on `covariates` (columns) plus an
/// intercept. `None` if the centred covariates are collinear or constant.
pub fn residualize(v: &[f64], covariates: &[Vec<f64>]) -> Option<Vec<f64>> {
    let n = v.len();
    let centred = |c: &[f64]| -> Vec<f64> {
        let m = mean(c);
        c.iter().map(|x| x - m).collect()
    };
    let cs: Vec<Vec<f64>> = covariates
        .iter()
        .inspect(|c| assert_eq!(c.len(), n, "covariate length"))
        .map(|c| centred(c))
        .collect();
    let vc = centred(v);
    let k = cs.len();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    let gram: Vec<f64> = (0..k * k).map(|ij| dot(&cs[ij / k], &cs[ij % k])).collect();
    let rhs: Vec<f64> = cs.iter().map(|c| dot(c, &vc)).collect();
    let b = if k == 0 {
        vec![]
    } else {
        cholesky_solve(&gram, &rhs)?
    };
    Some(
        (0..n)
            .map(|i| vc[i] - (0..k).map(|j| cs[j][i] * b[j]).sum::<f64>())
            .collect(),
    )
}

/// Partial Spearman correlation of x and y controlling for `covariates` (one
/// column each): Pearson r of the residuals of rank(x) and rank(y), each
/// regressed on the covariate ranks. NaN if the covariates are degenerate.
pub fn partial_spearman(x: &[f64], y: &[f64], covariates: &[Vec<f64>]) -> f64 {
    let rc: Vec<Vec<f64>> = covariates.iter().map(|c| ranks(c)).collect();
    match (residualize(&ranks(x), &rc), residualize(&ranks(y), &rc)) {
        (Some(a), Some(b)) => pearson(&a, &b),
        _ => f64::NAN,
    }
}

/// A two-sided permutation test of an association statistic.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PermutationTest {
    /// The observed statistic.
    pub statistic: f64,
    /// (1 + #{|r*| ≥ |r|}) / (B + 1); counts use |r*| ≥ |r| − 1e-12 so that
    /// permutations which tie mathematically are counted despite rounding.
    pub p_value: f64,
    pub permutations: usize,
    pub seed: u64,
}

/// Permutation test of `stat(x, y)`: `y` is shuffled in place B times, one
/// Fisher–Yates pass per permutation (cumulative, each pass uniform), with the
/// SplitMix64 stream started at `seed`. NaN statistic gives p = NaN.
pub fn permutation_test<F: Fn(&[f64], &[f64]) -> f64>(
    x: &[f64],
    y: &[f64],
    stat: F,
    permutations: usize,
    seed: u64,
) -> PermutationTest {
    assert_eq!(x.len(), y.len(), "permutation_test: lengths differ");
    let observed = stat(x, y);
    let mut rng = SplitMix64::new(seed);
    let mut buf = y.to_vec();
    let mut hits = 0usize;
    for _ in 0..permutations {
        rng.shuffle(&mut buf);
        if stat(x, &buf).abs() >= observed.abs() - 1e-12 {
            hits += 1;
        }
    }
    let p_value = if observed.is_nan() {
        f64::NAN
    } else {
        (1 + hits) as f64 / (permutations + 1) as f64
    };
    PermutationTest {
        statistic: observed,
        p_value,
        permutations,
        seed,
    }
}

/// Pearson's r with a permutation p-value.
pub fn pearson_test(x: &[f64], y: &[f64], permutations: usize, seed: u64) -> PermutationTest {
    permutation_test(x, y, pearson, permutations, seed)
}

/// Spearman's ρ with a permutation p-value (the ranks of y are permuted).
pub fn spearman_test(x: &[f64], y: &[f64], permutations: usize, seed: u64) -> PermutationTest {
    permutation_test(&ranks(x), &ranks(y), pearson, permutations, seed)
}

/// Partial Spearman with a Freedman–Lane permutation p-value: the residuals of
/// rank(y) on the covariate ranks are permuted, re-residualised on them, and
/// correlated with the residuals of rank(x).
pub fn partial_spearman_test(
    x: &[f64],
    y: &[f64],
    covariates: &[Vec<f64>],
    permutations: usize,
    seed: u64,
) -> PermutationTest {
    let rc: Vec<Vec<f64>> = covariates.iter().map(|c| ranks(c)).collect();
    let (Some(rx), Some(ry)) = (residualize(&ranks(x), &rc), residualize(&ranks(y), &rc)) else {
        return PermutationTest {
            statistic: f64::NAN,
            p_value: f64::NAN,
            permutations,
            seed,
        };
    };
    let stat = |a: &[f64], b: &[f64]| residualize(b, &rc).map_or(f64::NAN, |r| pearson(a, &r));
    permutation_test(&rx, &ry, stat, permutations, seed)
}

/// Coefficient of determination 1 − Σ(y − ŷ)² / Σ(y − ȳ)², as sklearn's
/// `r2_score`; NaN when y is constant (e.g. a single held-out row).
pub fn r2(y: &[f64], pred: &[f64]) -> f64 {
    assert_eq!(y.len(), pred.len(), "r2: lengths differ");
    let m = mean(y);
    let sse: f64 = y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)).sum();
    let sst: f64 = y.iter().map(|a| (a - m).powi(2)).sum();
    if sst == 0.0 {
        f64::NAN
    } else {
        1.0 - sse / sst
    }
}

/// Mean absolute error.
pub fn mae(y: &[f64], pred: &[f64]) -> f64 {
    assert_eq!(y.len(), pred.len(), "mae: lengths differ");
    y.iter().zip(pred).map(|(a, b)| (a - b).abs()).sum::<f64>() / y.len() as f64
}

/// Root mean squared error.
pub fn rmse(y: &[f64], pred: &[f64]) -> f64 {
    assert_eq!(y.len(), pred.len(), "rmse: lengths differ");
    (y.iter()
        .zip(pred)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        / y.len() as f64)
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_average_ties() {
        assert_eq!(
            ranks(&[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0]),
            vec![4.0, 1.5, 5.0, 1.5, 6.5, 9.0, 3.0, 8.0, 6.5]
        );
    }

    #[test]
    fn spearman_of_monotone_and_constant() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y: Vec<f64> = x.iter().map(|v: &f64| v.exp()).collect();
        assert!((spearman(&x, &y) - 1.0).abs() < 1e-15);
        assert!((spearman(&x, &[5.0, 4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-15);
        assert!(spearman(&x, &[2.0; 5]).is_nan());
    }

    #[test]
    fn partial_with_no_covariates_is_spearman_and_removes_a_confounder() {
        let mut rng = SplitMix64::new(5);
        let z: Vec<f64> = (0..200).map(|i| i as f64).collect();
        let x: Vec<f64> = z.iter().map(|v| v + 5.0 * rng.normal()).collect();
        let y: Vec<f64> = z.iter().map(|v| 2.0 * v + 10.0 * rng.normal()).collect();
        assert!((partial_spearman(&x, &y, &[]) - spearman(&x, &y)).abs() < 1e-15);
        assert!(spearman(&x, &y) > 0.9);
        assert!(partial_spearman(&x, &y, std::slice::from_ref(&z)).abs() < 0.25);
        assert!(partial_spearman(&x, &y, &[vec![1.0; 200]]).is_nan());
    }

    #[test]
    fn permutation_p_values_are_bounded_and_small_for_a_strong_link() {
        let x: Vec<f64> = (0..30).map(|i| i as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| v * v).collect();
        let t = spearman_test(&x, &y, 999, 1);
        assert_eq!(t.p_value, 1.0 / 1000.0);
        let u = pearson_test(&x, &[1.0, 2.0].repeat(15), 99, 2);
        assert!(u.p_value > 0.0 && u.p_value <= 1.0);
    }

    /// Independent pairs: p-values should be roughly uniform, so p < 0.05 in
    /// about 5 of 100 seeds (allow 10) and a mean p near 0.5.
    #[test]
    fn permutation_p_values_of_independent_pairs_are_roughly_uniform() {
        let mut small = 0;
        let mut sum = 0.0;
        for seed in 0..100u64 {
            let mut rng = SplitMix64::new(1000 + seed);
            let x: Vec<f64> = (0..20).map(|_| rng.normal()).collect();
            let y: Vec<f64> = (0..20).map(|_| rng.normal()).collect();
            let t = spearman_test(&x, &y, 199, seed);
            small += usize::from(t.p_value < 0.05);
            sum += t.p_value;
        }
        eprintln!(
            "independent pairs: {small} of 100 with p < 0.05, mean p {}",
            sum / 100.0
        );
        assert!(small <= 10, "{small} of 100 independent pairs had p < 0.05");
        assert!(
            (0.4..0.6).contains(&(sum / 100.0)),
            "mean p {}",
            sum / 100.0
        );
    }

    #[test]
    fn metrics_on_a_known_case() {
        let (y, p) = ([1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.0, 4.0]);
        assert!((mae(&y, &p) - 0.375).abs() < 1e-15);
        assert!((rmse(&y, &p) - (1.25f64 / 4.0).sqrt()).abs() < 1e-15);
        assert!((r2(&y, &p) - (1.0 - 1.25 / 5.0)).abs() < 1e-15);
        assert!(r2(&[2.0], &[1.0]).is_nan());
    }

    #[test]
    fn cholesky_rejects_singular() {
        assert!(cholesky_solve(&[1.0, 1.0, 1.0, 1.0], &[1.0, 1.0]).is_none());
        let b = cholesky_solve(&[4.0, 2.0, 2.0, 3.0], &[2.0, 1.0]).unwrap();
        assert!((b[0] - 0.5).abs() < 1e-15 && b[1].abs() < 1e-15);
    }
}
