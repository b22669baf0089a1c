//! Regressors for the fit stage: intercept-only baseline, OLS (linfa-linear),
//! ridge, and ridge with the penalty chosen by inner cross-validation.
//!
//! Ridge (`Ridge { alpha }`) is sklearn's `make_pipeline(StandardScaler(),
//! Ridge(alpha))`: each feature is standardised with the TRAINING rows' mean and
//! population standard deviation (ddof = 0; a constant column gets scale 1, as
//! `StandardScaler`), then the coefficients b on the standardised features Z minimise
//! `Σᵢ (yᵢ − b₀ − zᵢ·b)² + alpha · ‖b‖²`
//! (a plain, not 1/n-scaled, residual sum; the intercept b₀ = ȳ is unpenalised),
//! solved in closed form `b = (ZᵀZ + alpha·I)⁻¹ Zᵀ(y − ȳ)` by Cholesky.
//! linfa-elasticnet (l1_ratio 0) was not used: it is coordinate descent with a
//! 1/(2n) loss scaling and a tolerance, so it cannot match sklearn to 1e-9.
//!
//! `RidgeCv { alphas, inner }` picks alpha by an inner cross-validation run on
//! the training rows it is given only (a fresh scaler per inner fold), by the
//! mean over inner folds of the mean squared error, ties to the earliest alpha
//! listed (sklearn's `GridSearchCV(..., scoring="neg_mean_squared_error")`), then
//! refits on all of those rows with the chosen alpha.

use super::stats::{cholesky_solve, StatsError};
use super::validate::{k_fold, leave_one_out, Fold};
use linfa::prelude::*;
use linfa_linear::LinearRegression;
use ndarray::{Array1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// Inner validation for [`Regressor::RidgeCv`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum InnerCv {
    LeaveOneOut,
    KFold { k: usize, seed: u64 },
}

/// A regression method. `fit` returns a [`Fitted`] model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Regressor {
    /// Baseline: predict the training mean.
    Mean,
    /// Ordinary least squares with an intercept (linfa-linear).
    Ols,
    /// Ridge on standardised features (see the module docs).
    Ridge { alpha: f64 },
    /// Ridge with alpha chosen from `alphas` by inner CV on the training rows.
    RidgeCv { alphas: Vec<f64>, inner: InnerCv },
}

/// Per-feature standardisation fitted on training rows: z = (x − mean) / scale.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scaler {
    pub mean: Vec<f64>,
    /// Population standard deviation; 1 where it is 0.
    pub scale: Vec<f64>,
}

impl Scaler {
    pub fn fit(x: ArrayView2<f64>) -> Self {
        let n = x.nrows() as f64;
        let mean: Vec<f64> = x.columns().into_iter().map(|c| c.sum() / n).collect();
        let scale: Vec<f64> = x
            .columns()
            .into_iter()
            .zip(&mean)
            .map(|(c, m)| {
                let sd = (c.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n).sqrt();
                if sd == 0.0 {
                    1.0
                } else {
                    sd
                }
            })
            .collect();
        Scaler { mean, scale }
    }

    pub fn transform_row(&self, row: &[f64]) -> Vec<f64> {
        row.iter()
            .zip(&self.mean)
            .zip(&self.scale)
            .map(|((v, m), s)| (v - m) / s)
            .collect()
    }
}

/// A fitted linear model: ŷ = intercept + x·coefficients (original units).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fitted {
    pub intercept: f64,
    pub coefficients: Vec<f64>,
    /// Ridge models: the training scaler, and the coefficients and intercept
    /// on the standardised features (sklearn's `Ridge.coef_`, `.intercept_`).
    pub scaler: Option<Scaler>,
    pub standardised: Option<(f64, Vec<f64>)>,
    /// Ridge models: the penalty used.
    pub alpha: Option<f64>,
    /// RidgeCv: the inner-CV mean squared error of each candidate alpha.
    pub inner_mse: Option<Vec<f64>>,
}

impl Fitted {
    pub fn predict_row(&self, row: &[f64]) -> f64 {
        match (&self.scaler, &self.standardised) {
            (Some(s), Some((b0, b))) => {
                b0 + s
                    .transform_row(row)
                    .iter()
                    .zip(b)
                    .map(|(z, c)| z * c)
                    .sum::<f64>()
            }
            _ => {
                self.intercept
                    + row
                        .iter()
                        .zip(&self.coefficients)
                        .map(|(v, c)| v * c)
                        .sum::<f64>()
            }
        }
    }

    pub fn predict(&self, x: ArrayView2<f64>) -> Vec<f64> {
        x.rows()
            .into_iter()
            .map(|r| self.predict_row(&r.to_vec()))
            .collect()
    }
}

impl Regressor {
    /// Fits on rows `x` (n × k) and targets `y` (n), which must be finite.
    pub fn fit(&self, x: ArrayView2<f64>, y: &[f64]) -> Result<Fitted, StatsError> {
        let (n, k) = x.dim();
        if y.len() != n {
            return Err(StatsError::LengthMismatch {
                what: "y",
                expected: n,
                got: y.len(),
            });
        }
        if x.iter().chain(y).any(|v| !v.is_finite()) {
            return Err(StatsError::NonFinite("training data"));
        }
        if n == 0 {
            return Err(StatsError::TooFewRows {
                what: "a fit",
                needed: 1,
                have: 0,
            });
        }
        match self {
            Regressor::Mean => {
                let m = y.iter().sum::<f64>() / n as f64;
                Ok(Fitted {
                    intercept: m,
                    coefficients: vec![0.0; k],
                    scaler: None,
                    standardised: None,
                    alpha: None,
                    inner_mse: None,
                })
            }
            Regressor::Ols => {
                if n < k + 1 {
                    return Err(StatsError::TooFewRows {
                        what: "OLS",
                        needed: k + 1,
                        have: n,
                    });
                }
                let data = Dataset::new(x.to_owned(), Array1::from(y.to_vec()));
                let m = LinearRegression::new()
                    .fit(&data)
                    .map_err(|e| StatsError::Linfa(e.to_string()))?;
                Ok(Fitted {
                    intercept: m.intercept(),
                    coefficients: m.params().to_vec(),
                    scaler: None,
                    standardised: None,
                    alpha: None,
                    inner_mse: None,
                })
            }
            Regressor::Ridge { alpha } => ridge(x, y, *alpha),
            Regressor::RidgeCv { alphas, inner } => {
                if alphas.is_empty() || alphas.iter().any(|a| a.is_nan() || *a < 0.0) {
                    return Err(StatsError::Invalid(format!(
                        "RidgeCv needs a non-empty list of alphas ≥ 0, got {alphas:?}"
                    )));
                }
                let folds = match inner {
                    InnerCv::LeaveOneOut if n >= 2 => leave_one_out(n),
                    InnerCv::LeaveOneOut => {
                        return Err(StatsError::TooFewRows {
                            what: "inner leave-one-out",
                            needed: 2,
                            have: n,
                        })
                    }
                    InnerCv::KFold { k, seed } => k_fold(n, *k, *seed)?,
                };
                let mse: Vec<f64> = alphas
                    .iter()
                    .map(|&a| inner_mse(x, y, a, &folds))
                    .collect::<Result<_, _>>()?;
                let best = (0..alphas.len()).fold(0, |b, i| if mse[i] < mse[b] { i } else { b });
                let mut fitted = ridge(x, y, alphas[best])?;
                fitted.inner_mse = Some(mse);
                Ok(fitted)
            }
        }
    }
}

/// Mean over folds of the held-out MSE of `Ridge { alpha }`.
fn inner_mse(x: ArrayView2<f64>, y: &[f64], alpha: f64, folds: &[Fold]) -> Result<f64, StatsError> {
    let mut total = 0.0;
    for f in folds {
        let ytr: Vec<f64> = f.train.iter().map(|&r| y[r]).collect();
        let m = ridge(x.select(Axis(0), &f.train).view(), &ytr, alpha)?;
        let pred = m.predict(x.select(Axis(0), &f.test).view());
        total += f
            .test
            .iter()
            .zip(&pred)
            .map(|(&r, p)| (y[r] - p).powi(2))
            .sum::<f64>()
            / f.test.len() as f64;
    }
    Ok(total / folds.len() as f64)
}

/// Closed-form ridge on standardised features with an unpenalised intercept.
fn ridge(x: ArrayView2<f64>, y: &[f64], alpha: f64) -> Result<Fitted, StatsError> {
    if !alpha.is_finite() || alpha < 0.0 {
        return Err(StatsError::Invalid(format!(
            "ridge alpha must be finite and ≥ 0, got {alpha}"
        )));
    }
    let (n, k) = x.dim();
    let scaler = Scaler::fit(x);
    let z: Vec<Vec<f64>> = x
        .rows()
        .into_iter()
        .map(|r| scaler.transform_row(&r.to_vec()))
        .collect();
    let ym = y.iter().sum::<f64>() / n as f64;
    let mut gram = vec![0.0; k * k];
    let mut rhs = vec![0.0; k];
    for (zi, yi) in z.iter().zip(y) {
        for a in 0..k {
            rhs[a] += zi[a] * (yi - ym);
            for b in 0..k {
                gram[a * k + b] += zi[a] * zi[b];
            }
        }
    }
    for a in 0..k {
        gram[a * k + a] += alpha;
    }
    let b = if k == 0 {
        vec![]
    } else {
        cholesky_solve(&gram, &rhs).ok_or(StatsError::Singular("ridge normal equations"))?
    };
    let coefficients: Vec<f64> = b.iter().zip(&scaler.scale).map(|(c, s)| c / s).collect();
    let intercept = ym
        - coefficients
            .iter()
            .zip(&scaler.mean)
            .map(|(c, m)| c * m)
            .sum::<f64>();
    Ok(Fitted {
        intercept,
        coefficients,
        scaler: Some(scaler),
        standardised: Some((ym, b)),
        alpha: Some(alpha),
        inner_mse: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    #[test]
    fn mean_baseline_and_ols_recover_a_line() {
        let x = array![[0.0], [1.0], [2.0], [3.0]];
        let y = [1.0, 3.0, 5.0, 7.0];
        let m = Regressor::Mean.fit(x.view(), &y).unwrap();
        assert_eq!(m.predict(array![[10.0]].view()), vec![4.0]);
        let o = Regressor::Ols.fit(x.view(), &y).unwrap();
        assert!((o.intercept - 1.0).abs() < 1e-12 && (o.coefficients[0] - 2.0).abs() < 1e-12);
    }

    /// One feature, by hand: z = (x − x̄)/σ, b = Σz(y−ȳ) / (Σz² + α) = n·σ_xy/σ / (n + α).
    #[test]
    fn ridge_one_feature_closed_form() {
        let xv = [1.0, 2.0, 4.0, 7.0, 8.0];
        let yv = [2.0, 1.0, 5.0, 6.0, 9.0];
        let n = 5.0;
        let (mx, my) = (xv.iter().sum::<f64>() / n, yv.iter().sum::<f64>() / n);
        let sd = (xv.iter().map(|v| (v - mx).powi(2)).sum::<f64>() / n).sqrt();
        let cov = xv
            .iter()
            .zip(&yv)
            .map(|(a, b)| (a - mx) * (b - my))
            .sum::<f64>()
            / n;
        let x = Array2::from_shape_vec((5, 1), xv.to_vec()).unwrap();
        let f = Regressor::Ridge { alpha: 2.0 }.fit(x.view(), &yv).unwrap();
        let b = n * cov / sd / (n + 2.0);
        assert!((f.standardised.as_ref().unwrap().1[0] - b).abs() < 1e-12);
        assert!((f.predict_row(&[3.0]) - (my + b * (3.0 - mx) / sd)).abs() < 1e-12);
        assert!((f.intercept + f.coefficients[0] * 3.0 - f.predict_row(&[3.0])).abs() < 1e-12);
    }

    #[test]
    fn constant_column_gets_scale_one_and_zero_weight() {
        let x = array![[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]];
        let f = Regressor::Ridge { alpha: 1.0 }
            .fit(x.view(), &[1.0, 2.0, 4.0])
            .unwrap();
        assert_eq!(f.scaler.as_ref().unwrap().scale[1], 1.0);
        assert_eq!(f.coefficients[1], 0.0);
    }

    #[test]
    fn ridge_cv_prefers_small_alpha_on_a_clean_law_and_rejects_bad_alphas() {
        let x = Array2::from_shape_fn((12, 1), |(i, _)| i as f64);
        let y: Vec<f64> = (0..12)
            .map(|i| 3.0 * i as f64 + [0.1, -0.1][i % 2])
            .collect();
        let f = Regressor::RidgeCv {
            alphas: vec![100.0, 0.01, 10.0],
            inner: InnerCv::LeaveOneOut,
        }
        .fit(x.view(), &y)
        .unwrap();
        assert_eq!(f.alpha, Some(0.01));
        assert_eq!(f.inner_mse.as_ref().unwrap().len(), 3);
        assert!(Regressor::RidgeCv {
            alphas: vec![],
            inner: InnerCv::LeaveOneOut
        }
        .fit(x.view(), &y)
        .is_err());
        assert!(Regressor::Ridge { alpha: -1.0 }.fit(x.view(), &y).is_err());
    }

    #[test]
    fn regressor_round_trips_through_json() {
        let r = Regressor::RidgeCv {
            alphas: vec![0.1, 1.0],
            inner: InnerCv::KFold { k: 5, seed: 3 },
        };
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Regressor>(&s).unwrap(), r);
    }
}
