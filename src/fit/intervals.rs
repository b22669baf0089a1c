//! Prediction intervals for new rows (e.g. unreleased checkpoints) by the
//! jackknife+ (Barber, Candès, Ramdas & Tibshirani 2021, "Predictive inference
//! with the jackknife+", Ann. Statist. 49(1)).
//!
//! For each training row i, fit μ₋ᵢ without it and take its leave-one-out
//! residual Rᵢ = |yᵢ − μ₋ᵢ(xᵢ)|. For a new x the interval is
//!
//! ```text
//! [ q⁻_α {μ₋ᵢ(x) − Rᵢ},  q⁺_{1−α} {μ₋ᵢ(x) + Rᵢ} ]
//! q⁻_α     = the ⌊α(n+1)⌋-th smallest value      (−∞ if that index is 0)
//! q⁺_{1−α} = the ⌈(1−α)(n+1)⌉-th smallest value  (+∞ if that index exceeds n)
//! ```
//!
//! Guarantee (their Theorem 1): if the n training rows and the new row are
//! exchangeable and the fitting method treats training rows symmetrically, the
//! interval covers the new y with probability ≥ 1 − 2α, for any model, however
//! misspecified; in practice coverage is usually close to 1 − α. It is not a
//! guarantee for a new row unlike the training rows (e.g. a larger model beyond
//! the training range of compute): there the interval is only a heuristic.
//! Finite bounds need n ≥ 1/α − 1 (n ≥ 9 for α = 0.1, n ≥ 19 for α = 0.05).
//!
//! Indices are computed as ⌊α(n+1) + 1e-9⌋ and ⌈(1−α)(n+1) − 1e-9⌉ so that
//! products that are integers mathematically (0.1 · 20) are not moved by rounding.

use super::error::StatsError;
use super::params::Coverage;
use super::regressors::{Fit, Predict};
use ndarray::{ArrayView2, Axis};
use serde::Serialize;

/// An interval for one new row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PredictionInterval {
    /// The prediction of the model fitted on all training rows.
    pub point: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Jackknife+ intervals and the leave-one-out residuals behind them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JackknifePlus {
    /// Miscoverage level: nominal coverage 1 − α, guaranteed ≥ 1 − 2α.
    pub alpha: f64,
    pub n_train: usize,
    /// Rᵢ = |yᵢ − μ₋ᵢ(xᵢ)|, in training-row order.
    pub loo_residuals: Vec<f64>,
    /// One per row of `x_new`, in order.
    pub intervals: Vec<PredictionInterval>,
}

/// 1-based ranks (k_lo, k_hi) of the lower and upper order statistics.
pub fn jackknife_plus_ranks(n: usize, alpha: f64) -> (usize, usize) {
    let m = (n + 1) as f64;
    (
        (alpha * m + 1e-9).floor() as usize,
        ((1.0 - alpha) * m - 1e-9).ceil() as usize,
    )
}

/// Jackknife+ intervals at nominal `coverage` 1 − α for the rows of `x_new`,
/// with `model` refitted n + 1 times (each refit of a ridge-CV model reruns
/// its own inner CV on its n − 1 rows).
pub fn jackknife_plus<M: Fit>(
    model: &M,
    x: ArrayView2<f64>,
    y: &[f64],
    x_new: ArrayView2<f64>,
    coverage: Coverage,
) -> Result<JackknifePlus, StatsError> {
    let n = x.nrows();
    let alpha = coverage.miscoverage();
    if y.len() != n {
        return Err(StatsError::LengthMismatch {
            what: "y",
            expected: n,
            got: y.len(),
        });
    }
    if x_new.ncols() != x.ncols() {
        return Err(StatsError::LengthMismatch {
            what: "x_new columns",
            expected: x.ncols(),
            got: x_new.ncols(),
        });
    }
    if n < 2 {
        return Err(StatsError::TooFewRows {
            what: "jackknife+",
            needed: 2,
            have: n,
        });
    }
    let full = model.fit(x, y)?;
    let mut residuals = Vec::with_capacity(n);
    let mut loo_new: Vec<Vec<f64>> = Vec::with_capacity(n); // loo_new[i][j] = μ₋ᵢ(x_new_j)
    for i in 0..n {
        let keep: Vec<usize> = (0..n).filter(|&r| r != i).collect();
        let yk: Vec<f64> = keep.iter().map(|&r| y[r]).collect();
        let m = model.fit(x.select(Axis(0), &keep).view(), &yk)?;
        residuals.push((y[i] - m.predict_row(&x.row(i).to_vec())).abs());
        loo_new.push(m.predict(x_new));
    }
    let (k_lo, k_hi) = jackknife_plus_ranks(n, alpha);
    let order_stat = |mut v: Vec<f64>, k: usize| -> f64 {
        v.sort_by(f64::total_cmp);
        v[k - 1]
    };
    let intervals = (0..x_new.nrows())
        .map(|j| {
            let lows: Vec<f64> = (0..n).map(|i| loo_new[i][j] - residuals[i]).collect();
            let highs: Vec<f64> = (0..n).map(|i| loo_new[i][j] + residuals[i]).collect();
            PredictionInterval {
                point: full.predict_row(&x_new.row(j).to_vec()),
                lower: if k_lo == 0 {
                    f64::NEG_INFINITY
                } else {
                    order_stat(lows, k_lo)
                },
                upper: if k_hi > n {
                    f64::INFINITY
                } else {
                    order_stat(highs, k_hi)
                },
            }
        })
        .collect();
    Ok(JackknifePlus {
        alpha,
        n_train: n,
        loo_residuals: residuals,
        intervals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::regressors::Regressor;
    use ndarray::Array2;

    /// The coverage of miscoverage `alpha`.
    fn cov(alpha: f64) -> Coverage {
        Coverage::new(1.0 - alpha).unwrap()
    }

    #[test]
    fn order_statistic_indices() {
        assert_eq!(jackknife_plus_ranks(19, 0.1), (2, 18));
        assert_eq!(jackknife_plus_ranks(20, 0.1), (2, 19));
        assert_eq!(jackknife_plus_ranks(8, 0.1), (0, 9));
        assert_eq!(jackknife_plus_ranks(47, 0.05), (2, 46));
    }

    /// The mean baseline by hand: μ₋ᵢ = mean of the others, so every bound is computable.
    #[test]
    fn mean_baseline_matches_hand_computation() {
        let y = [1.0, 4.0, 2.0, 8.0, 5.0, 7.0, 3.0, 6.0, 9.0, 0.0, 10.0];
        let n = y.len();
        let x = Array2::<f64>::zeros((n, 0));
        let jk = jackknife_plus(
            &Regressor::Mean,
            x.view(),
            &y,
            Array2::<f64>::zeros((1, 0)).view(),
            cov(0.2),
        )
        .unwrap();
        let s: f64 = y.iter().sum();
        let mu: Vec<f64> = y.iter().map(|v| (s - v) / (n - 1) as f64).collect();
        let r: Vec<f64> = (0..n).map(|i| (y[i] - mu[i]).abs()).collect();
        let mut lo: Vec<f64> = (0..n).map(|i| mu[i] - r[i]).collect();
        let mut hi: Vec<f64> = (0..n).map(|i| mu[i] + r[i]).collect();
        lo.sort_by(f64::total_cmp);
        hi.sort_by(f64::total_cmp);
        let iv = &jk.intervals[0];
        assert_eq!((iv.lower, iv.upper), (lo[1], hi[9])); // ⌊0.2·12⌋ = 2, ⌈0.8·12⌉ = 10
        assert!((iv.point - s / n as f64).abs() < 1e-12);
    }

    /// 200 seeded repetitions of y = 2x + N(0, 1), x ~ U(0, 10), n = 30: the
    /// 90% jackknife+ interval of one new draw covers it at a rate ≥ 0.8.
    #[test]
    fn jackknife_plus_covers_new_draws_from_the_same_law() {
        use crate::math::rng::SplitMix64;
        let mut covered = 0;
        for rep in 0..200u64 {
            let mut rng = SplitMix64::new(0xC0FFEE + rep);
            let mut draw = || {
                let x = 10.0 * rng.unit();
                (x, 2.0 * x + rng.normal())
            };
            let (xs, y): (Vec<f64>, Vec<f64>) = (0..30).map(|_| draw()).unzip();
            let (xn, yn) = draw();
            let x = Array2::from_shape_vec((30, 1), xs).unwrap();
            let jk = jackknife_plus(
                &Regressor::Ols,
                x.view(),
                &y,
                Array2::from_elem((1, 1), xn).view(),
                cov(0.1),
            )
            .unwrap();
            let iv = &jk.intervals[0];
            assert!(iv.lower <= iv.point && iv.point <= iv.upper);
            covered += usize::from(iv.lower <= yn && yn <= iv.upper);
        }
        let rate = covered as f64 / 200.0;
        eprintln!("jackknife+ 90% coverage over 200 repetitions: {rate}");
        assert!(rate >= 0.8, "coverage {rate}");
    }

    #[test]
    fn too_few_rows_give_infinite_bounds_and_bad_coverage_is_refused() {
        let x = Array2::from_shape_fn((5, 1), |(i, _)| i as f64);
        let y = [0.0, 1.0, 2.5, 2.9, 4.2];
        let jk = jackknife_plus(&Regressor::Ols, x.view(), &y, x.view(), cov(0.1)).unwrap();
        assert!(jk
            .intervals
            .iter()
            .all(|iv| iv.lower == f64::NEG_INFINITY && iv.upper == f64::INFINITY));
        // a coverage outside (0, 1) cannot reach the fit: it is refused when made
        assert!(Coverage::new(1.5).is_err() && Coverage::new(0.0).is_err());
    }
}
