//! Stage 5, fit: link representation features to a benchmark score with a
//! linfa ordinary-least-squares regression, validated by leave-one-out: each
//! model's score is predicted by a fit that never saw it. Reports the
//! in-sample coefficients, the held-out predictions, and their R² and MAE.

pub mod intervals;
pub mod models;
pub mod stats;
pub mod validate;

use linfa::prelude::*;
use linfa_linear::LinearRegression;
use ndarray::{Array1, Array2};
use serde::Serialize;

/// Checked fit settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FitSettings {
    /// The score column to predict.
    pub target: String,
    /// Model-level feature columns used as predictors.
    pub features: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("a leave-one-out fit on {features} feature(s) needs at least {needed} models with scores and finite features; have {have}")]
    TooFewModels { features: usize, needed: usize, have: usize },
    #[error("linear regression failed: {0}")]
    Linfa(String),
}

/// The outcome of a fit.
#[derive(Clone, Debug, Serialize)]
pub struct FitResult {
    pub target: String,
    pub features: Vec<String>,
    pub validation: &'static str,
    pub intercept: f64,
    pub coefficients: Vec<f64>,
    /// Models used, their actual scores and held-out predictions.
    pub models: Vec<String>,
    pub actual: Vec<f64>,
    pub predicted: Vec<f64>,
    /// R² of the held-out predictions (1 − SSE/SST).
    pub r2: f64,
    /// Mean absolute error of the held-out predictions.
    pub mae: f64,
    /// Models left out because the score or a feature is missing.
    pub skipped: Vec<String>,
}

/// Fits `y ~ x` by OLS and predicts each model leave-one-out.
/// `x[i]` holds model i's features; non-finite rows are skipped and listed.
pub fn fit_loo(settings: &FitSettings, names: &[String], x: &[Vec<f64>], y: &[f64]) -> Result<FitResult, FitError> {
    let k = settings.features.len();
    let keep: Vec<usize> = (0..names.len()).filter(|&i| y[i].is_finite() && x[i].iter().all(|v| v.is_finite())).collect();
    let skipped = (0..names.len()).filter(|i| !keep.contains(i)).map(|i| names[i].clone()).collect();
    let needed = k + 2;
    if keep.len() < needed {
        return Err(FitError::TooFewModels { features: k, needed, have: keep.len() });
    }
    let xs = Array2::from_shape_fn((keep.len(), k), |(r, c)| x[keep[r]][c]);
    let ys = Array1::from_iter(keep.iter().map(|&i| y[i]));
    let full = ols(&xs, &ys)?;
    let mut predicted = Vec::with_capacity(keep.len());
    for held in 0..keep.len() {
        let rows: Vec<usize> = (0..keep.len()).filter(|&r| r != held).collect();
        let model = ols(&xs.select(ndarray::Axis(0), &rows), &ys.select(ndarray::Axis(0), &rows))?;
        predicted.push(model.0 + xs.row(held).dot(&model.1));
    }
    let actual: Vec<f64> = ys.to_vec();
    let (r2, mae) = (r_squared(&actual, &predicted), mean_abs_error(&actual, &predicted));
    Ok(FitResult {
        target: settings.target.clone(),
        features: settings.features.clone(),
        validation: "leave-one-out",
        intercept: full.0,
        coefficients: full.1.to_vec(),
        models: keep.iter().map(|&i| names[i].clone()).collect(),
        actual,
        predicted,
        r2,
        mae,
        skipped,
    })
}

/// (intercept, coefficients) by linfa's OLS.
fn ols(x: &Array2<f64>, y: &Array1<f64>) -> Result<(f64, Array1<f64>), FitError> {
    let data = Dataset::new(x.clone(), y.clone());
    let model = LinearRegression::new().fit(&data).map_err(|e| FitError::Linfa(e.to_string()))?;
    Ok((model.intercept(), model.params().clone()))
}

/// 1 − Σ(y − ŷ)² / Σ(y − ȳ)².
pub fn r_squared(y: &[f64], pred: &[f64]) -> f64 {
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let sse: f64 = y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)).sum();
    let sst: f64 = y.iter().map(|a| (a - mean).powi(2)).sum();
    1.0 - sse / sst
}

pub fn mean_abs_error(y: &[f64], pred: &[f64]) -> f64 {
    y.iter().zip(pred).map(|(a, b)| (a - b).abs()).sum::<f64>() / y.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(k: usize) -> FitSettings {
        FitSettings { target: "y".into(), features: (0..k).map(|i| format!("f{i}")).collect() }
    }

    #[test]
    fn recovers_an_exact_linear_law_out_of_sample() {
        let names: Vec<String> = (0..6).map(|i| format!("m{i}")).collect();
        let x: Vec<Vec<f64>> = (0..6).map(|i| vec![i as f64, (i * i) as f64 % 5.0]).collect();
        let y: Vec<f64> = x.iter().map(|r| 1.5 - 2.0 * r[0] + 0.25 * r[1]).collect();
        let f = fit_loo(&settings(2), &names, &x, &y).unwrap();
        assert!((f.intercept - 1.5).abs() < 1e-9 && (f.coefficients[0] + 2.0).abs() < 1e-9 && (f.coefficients[1] - 0.25).abs() < 1e-9);
        for (a, p) in f.actual.iter().zip(&f.predicted) {
            assert!((a - p).abs() < 1e-9);
        }
        assert!((f.r2 - 1.0).abs() < 1e-12 && f.mae < 1e-9);
    }

    /// Leave-one-out by hand for simple regression: the prediction for the
    /// held-out point uses the slope and intercept of the other points
    /// (closed form ȳ − b x̄, b = Sxy / Sxx), computed independently here.
    #[test]
    fn loo_predictions_match_closed_form_simple_regression() {
        let names: Vec<String> = (0..5).map(|i| format!("m{i}")).collect();
        let xv = [0.3, 1.1, 2.0, 2.2, 4.5];
        let yv = [1.0, 0.4, 2.5, 1.9, 3.3];
        let x: Vec<Vec<f64>> = xv.iter().map(|&v| vec![v]).collect();
        let f = fit_loo(&settings(1), &names, &x, &yv).unwrap();
        for held in 0..5 {
            let (xs, ys): (Vec<f64>, Vec<f64>) = (0..5).filter(|&i| i != held).map(|i| (xv[i], yv[i])).unzip();
            let (mx, my) = (xs.iter().sum::<f64>() / 4.0, ys.iter().sum::<f64>() / 4.0);
            let sxy: f64 = xs.iter().zip(&ys).map(|(a, b)| (a - mx) * (b - my)).sum();
            let sxx: f64 = xs.iter().map(|a| (a - mx).powi(2)).sum();
            let b = sxy / sxx;
            let want = my - b * mx + b * xv[held];
            assert!((f.predicted[held] - want).abs() < 1e-10, "held {held}: {} vs {want}", f.predicted[held]);
        }
        let mae: f64 = yv.iter().zip(&f.predicted).map(|(a, p)| (a - p).abs()).sum::<f64>() / 5.0;
        assert!((f.mae - mae).abs() < 1e-12);
    }

    #[test]
    fn skips_missing_scores_and_needs_enough_models() {
        let names: Vec<String> = (0..4).map(|i| format!("m{i}")).collect();
        let x = vec![vec![1.0], vec![2.0], vec![f64::NAN], vec![4.0]];
        let y = vec![1.0, 2.0, 3.0, f64::NAN];
        let err = fit_loo(&settings(1), &names, &x, &y).unwrap_err();
        assert!(matches!(err, FitError::TooFewModels { have: 2, needed: 3, .. }), "{err}");
    }
}
