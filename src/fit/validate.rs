//! Running a model over validation folds ([`super::folds`]):
//! [`cross_validate`] fits a [`Regressor`] on each training set (its scaler and
//! penalty choice see only that set) and returns held-out predictions in the
//! original row order with per-fold and pooled [`Metrics`].

use super::error::StatsError;
use super::folds::Fold;
use super::regressors::{Fit, Predict, Regressor};
use crate::math::stats;
use ndarray::{ArrayView2, Axis};
use serde::Serialize;

/// Agreement of predictions with the truth on a set of rows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metrics {
    pub n: usize,
    /// NaN when the truth is constant (e.g. one row).
    pub r2: f64,
    pub mae: f64,
    pub rmse: f64,
    /// Spearman ρ of predictions vs truth (NaN for fewer than 2 distinct values).
    pub spearman: f64,
}

impl Metrics {
    pub fn compute(y: &[f64], pred: &[f64]) -> Self {
        Metrics {
            n: y.len(),
            r2: stats::r2(y, pred),
            mae: stats::mae(y, pred),
            rmse: stats::rmse(y, pred),
            spearman: stats::spearman(y, pred),
        }
    }
}

/// One fold's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FoldReport {
    pub test: Vec<usize>,
    pub n_train: usize,
    /// The penalty chosen on this training set (ridge models).
    pub alpha: Option<f64>,
    pub metrics: Metrics,
}

/// Held-out predictions and their metrics.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CvResult {
    /// One entry per input row, in input order; NaN for rows no fold tests.
    pub predicted: Vec<f64>,
    /// The rows that were predicted, ascending.
    pub held_out: Vec<usize>,
    pub folds: Vec<FoldReport>,
    /// Metrics of all held-out predictions pooled.
    pub overall: Metrics,
}

/// Fits `model` on each fold's training rows and predicts its test rows. Each
/// row may be tested by at most one fold.
pub fn cross_validate(
    model: &Regressor,
    x: ArrayView2<f64>,
    y: &[f64],
    folds: &[Fold],
) -> Result<CvResult, StatsError> {
    let n = x.nrows();
    if y.len() != n {
        return Err(StatsError::LengthMismatch {
            what: "y",
            expected: n,
            got: y.len(),
        });
    }
    let mut predicted = vec![f64::NAN; n];
    let mut tested = vec![false; n];
    let mut reports = Vec::with_capacity(folds.len());
    for fold in folds {
        for &r in fold.train.iter().chain(&fold.test) {
            if r >= n {
                return Err(StatsError::Invalid(format!(
                    "fold row {r} out of range 0..{n}"
                )));
            }
        }
        if fold.test.iter().any(|r| fold.train.contains(r)) {
            return Err(StatsError::Invalid(
                "a fold trains and tests on the same row".into(),
            ));
        }
        let ytr: Vec<f64> = fold.train.iter().map(|&r| y[r]).collect();
        let fitted = model.fit(x.select(Axis(0), &fold.train).view(), &ytr)?;
        let pred = fitted.predict(x.select(Axis(0), &fold.test).view());
        for (&r, &p) in fold.test.iter().zip(&pred) {
            if std::mem::replace(&mut tested[r], true) {
                return Err(StatsError::Invalid(format!(
                    "row {r} is tested by more than one fold"
                )));
            }
            predicted[r] = p;
        }
        let yte: Vec<f64> = fold.test.iter().map(|&r| y[r]).collect();
        reports.push(FoldReport {
            test: fold.test.clone(),
            n_train: fold.train.len(),
            alpha: fitted.penalty(),
            metrics: Metrics::compute(&yte, &pred),
        });
    }
    let held_out: Vec<usize> = (0..n).filter(|&r| tested[r]).collect();
    let (yh, ph): (Vec<f64>, Vec<f64>) = held_out.iter().map(|&r| (y[r], predicted[r])).unzip();
    Ok(CvResult {
        predicted,
        held_out,
        folds: reports,
        overall: Metrics::compute(&yh, &ph),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fit::folds::{hold_out_below, k_fold, leave_one_group_out, leave_one_out};
    use crate::fit::regressors::{InnerCv, RidgeCv};
    use crate::math::rng::SplitMix64;
    use ndarray::Array2;

    /// y = 2x + N(0, 1) on x ~ U(0, 10): the held-out predictions rank the rows
    /// almost exactly as the truth does, under every scheme.
    #[test]
    fn held_out_ranking_of_a_linear_law_is_high() {
        let mut rng = SplitMix64::new(77);
        let xs: Vec<f64> = (0..40).map(|_| 10.0 * rng.unit()).collect();
        let y: Vec<f64> = xs.iter().map(|v| 2.0 * v + rng.normal()).collect();
        let x = Array2::from_shape_vec((40, 1), xs.clone()).unwrap();
        let truth: Vec<f64> = xs.iter().map(|v| 2.0 * v).collect();
        let groups: Vec<usize> = (0..40).map(|i| i % 6).collect();
        let ridge_cv = Regressor::RidgeCv(
            RidgeCv::new(&[0.01, 0.1, 1.0, 10.0], InnerCv::LeaveOneOut).unwrap(),
        );
        for (model, folds) in [
            (Regressor::Ols, leave_one_out(40)),
            (Regressor::Ols, k_fold(40, 5, 3).unwrap()),
            (ridge_cv, leave_one_group_out(&groups)),
        ] {
            let cv = cross_validate(&model, x.view(), &y, &folds).unwrap();
            assert_eq!(cv.held_out.len(), 40);
            assert!(
                cv.overall.spearman > 0.9 && cv.overall.r2 > 0.9,
                "{model:?}: {:?}",
                cv.overall
            );
            let rho = stats::spearman(&cv.predicted, &truth);
            eprintln!(
                "{model:?}: held-out rho vs truth {rho}, vs noisy y {}",
                cv.overall.spearman
            );
            assert!(rho > 0.99, "{rho}");
        }
        let base = cross_validate(&Regressor::Mean, x.view(), &y, &leave_one_out(40)).unwrap();
        assert!(base.overall.r2 < 0.0);
    }

    /// Nothing about the held-out rows reaches the fit: changing their y (even
    /// to 1e6) leaves every prediction and the chosen alpha bit-identical, and an
    /// extreme x in one held-out row leaves the other held-out predictions
    /// unchanged. A scaler fitted on all rows would move them by far more than 1.
    #[test]
    fn scaler_and_penalty_choice_never_see_the_held_out_fold() {
        let xs: Vec<f64> = (0..12)
            .map(|i| i as f64 + 0.1 * ((i * 7) % 5) as f64)
            .collect();
        let y: Vec<f64> = xs
            .iter()
            .enumerate()
            .map(|(i, v)| 2.0 * v + [0.3, -0.4, 0.1][i % 3])
            .collect();
        let fold = hold_out_below(&xs, 8.0).unwrap();
        assert_eq!(fold.test, vec![8, 9, 10, 11]);
        let model = Regressor::RidgeCv(
            RidgeCv::new(&[0.1, 1.0, 10.0, 100.0], InnerCv::LeaveOneOut).unwrap(),
        );
        let x = Array2::from_shape_vec((12, 1), xs.clone()).unwrap();
        let a = cross_validate(&model, x.view(), &y, std::slice::from_ref(&fold)).unwrap();
        let mut y2 = y.clone();
        for &r in &fold.test {
            y2[r] = 1e6;
        }
        let b = cross_validate(&model, x.view(), &y2, std::slice::from_ref(&fold)).unwrap();
        let bits = |v: &[f64]| v.iter().map(|p| p.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.predicted), bits(&b.predicted));
        assert_eq!(a.folds[0].alpha, b.folds[0].alpha);
        let mut x3 = x.clone();
        x3[[11, 0]] = 1e4;
        let c = cross_validate(&model, x3.view(), &y, std::slice::from_ref(&fold)).unwrap();
        assert_eq!(bits(&a.predicted[..11]), bits(&c.predicted[..11]));
        // What leakage would give: scaler on all 12 rows of x3, ridge closed form on the training rows.
        let alpha = a.folds[0].alpha.unwrap();
        let col: Vec<f64> = x3.column(0).to_vec();
        let m = col.iter().sum::<f64>() / 12.0;
        let sd = (col.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 12.0).sqrt();
        let z: Vec<f64> = fold.train.iter().map(|&r| (col[r] - m) / sd).collect();
        let yt: Vec<f64> = fold.train.iter().map(|&r| y[r]).collect();
        let (zm, ym) = (z.iter().sum::<f64>() / 8.0, yt.iter().sum::<f64>() / 8.0);
        let slope = z
            .iter()
            .zip(&yt)
            .map(|(a, b)| (a - zm) * (b - ym))
            .sum::<f64>()
            / (z.iter().map(|a| (a - zm).powi(2)).sum::<f64>() + alpha);
        let leaky = ym + slope * ((col[8] - m) / sd - zm);
        assert!(
            (leaky - a.predicted[8]).abs() > 1.0,
            "leaky {leaky} vs honest {}",
            a.predicted[8]
        );
        assert!((a.predicted[8] - 2.0 * xs[8]).abs() < 1.0);
    }
}
