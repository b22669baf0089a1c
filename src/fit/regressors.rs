//! Regressors for the fit stage: the intercept-only baseline ([`Mean`]),
//! ordinary least squares ([`Ols`]), ridge ([`Ridge`]), and ridge with the
//! penalty chosen by inner cross-validation ([`RidgeCv`]).
//!
//! # Parameters, fitting, fitted models
//! Each method is a parameter type that implements [`Fit`]. Fitting returns
//! the method's own model ([`MeanModel`], [`OlsModel`], [`RidgeModel`],
//! [`RidgeCvModel`]), with the method's numbers typed (a ridge model's scaler
//! and standardised coefficients, a ridge-CV model's inner errors), and every
//! model implements the one [`Predict`] trait. [`Regressor`] picks a method at
//! run time (the study's `fit.method`, the intercept-only baseline) and fits
//! to [`Fitted`], which predicts through the model it holds.
//!
//! Hyper-parameters are checked when the parameters are made
//! ([`Ridge::new`], [`RidgeCv::new`], the types of [`super::params`]; the
//! study checker makes those of a study): a parameter value cannot be out of
//! range, so fitting checks only the data (lengths, finite values, enough rows).
//!
//! # linfa
//! linfa-linear is kept for OLS alone, where it earns its place: its
//! least-squares solve is a Householder QR of the design matrix
//! (linfa-linalg), better conditioned than the normal equations, and it is
//! what the statsmodels fixtures and every `fit.json` were checked with.
//! linfa's `Fit`/`Predict`/`ParamGuard` traits are not used, because nothing
//! else here can be linfa's: its ridge (linfa-elasticnet with l1_ratio 0) is
//! coordinate descent with a 1/(2n) loss scaling and a stopping tolerance, so
//! it cannot reproduce sklearn's closed-form ridge (below) to 1e-9, let alone
//! bit for bit; the folds are lossy's own (SplitMix64, reproduced by
//! `scripts/stats_fixtures.py`), not linfa's; and linfa's `ParamGuard` checks
//! parameters again at every fit, where lossy checks them once, with the
//! study. The two traits here have linfa's shape (parameters → `fit` → a
//! model that predicts) on the ndarray view and slice every caller has.
//!
//! # Ridge
//! [`Ridge`] is sklearn's `make_pipeline(StandardScaler(), Ridge(alpha))`: each
//! feature is standardised with the TRAINING rows' mean and population
//! standard deviation (ddof = 0; a constant column gets scale 1, as
//! `StandardScaler`), then the coefficients b on the standardised features Z
//! minimise `Σᵢ (yᵢ − b₀ − zᵢ·b)² + alpha · ‖b‖²` (a plain, not 1/n-scaled,
//! residual sum; the intercept b₀ = ȳ is unpenalised), solved in closed form
//! `b = (ZᵀZ + alpha·I)⁻¹ Zᵀ(y − ȳ)` by Cholesky.
//!
//! [`RidgeCv`] picks alpha by an inner cross-validation run on the training
//! rows it is given only (a fresh scaler per inner fold), by the mean over
//! inner folds of the mean squared error, ties to the earliest alpha listed
//! (sklearn's `GridSearchCV(..., scoring="neg_mean_squared_error")`), then
//! refits on all of those rows with the chosen alpha.

use super::error::StatsError;
use super::folds::{k_fold, leave_one_out, Fold};
use super::params::{Folds, ParamError, Penalty};
use crate::math::stats::cholesky_solve;
use linfa::Dataset;
use linfa_linear::LinearRegression;
use ndarray::{Array1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// A fitted model: ŷ = intercept + x·coefficients.
pub trait Predict {
    /// The intercept, in the features' own units.
    fn intercept(&self) -> f64;
    /// One coefficient per feature, in the features' own units.
    fn coefficients(&self) -> &[f64];

    /// The prediction for one row of features.
    fn predict_row(&self, row: &[f64]) -> f64 {
        self.intercept()
            + row
                .iter()
                .zip(self.coefficients())
                .map(|(v, c)| v * c)
                .sum::<f64>()
    }

    /// One prediction per row of `x`.
    fn predict(&self, x: ArrayView2<f64>) -> Vec<f64> {
        x.rows()
            .into_iter()
            .map(|r| self.predict_row(&r.to_vec()))
            .collect()
    }
}

/// A regression method with checked hyper-parameters.
pub trait Fit {
    type Model: Predict;
    /// Fits on rows `x` (n × k) and targets `y` (n), which must be finite.
    fn fit(&self, x: ArrayView2<f64>, y: &[f64]) -> Result<Self::Model, StatsError>;
}

/// The data checks every fit makes: lengths, finite values, a row at least.
fn check_data(x: ArrayView2<f64>, y: &[f64]) -> Result<(), StatsError> {
    let n = x.nrows();
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
    Ok(())
}

/// ŷ = intercept + x·coefficients, in the features' own units.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Linear {
    pub intercept: f64,
    pub coefficients: Vec<f64>,
}

/// The baseline: predict the training mean.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Mean;

/// The fitted baseline: the training mean, and a zero per feature.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeanModel {
    pub linear: Linear,
}

impl Fit for Mean {
    type Model = MeanModel;
    fn fit(&self, x: ArrayView2<f64>, y: &[f64]) -> Result<MeanModel, StatsError> {
        check_data(x, y)?;
        let m = y.iter().sum::<f64>() / y.len() as f64;
        Ok(MeanModel {
            linear: Linear {
                intercept: m,
                coefficients: vec![0.0; x.ncols()],
            },
        })
    }
}

/// Ordinary least squares with an intercept (linfa-linear).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Ols;

/// A fitted OLS model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OlsModel {
    pub linear: Linear,
}

impl Fit for Ols {
    type Model = OlsModel;
    fn fit(&self, x: ArrayView2<f64>, y: &[f64]) -> Result<OlsModel, StatsError> {
        check_data(x, y)?;
        let (n, k) = x.dim();
        if n < k + 1 {
            return Err(StatsError::TooFewRows {
                what: "OLS",
                needed: k + 1,
                have: n,
            });
        }
        let data = Dataset::new(x.to_owned(), Array1::from(y.to_vec()));
        let m =
            linfa::traits::Fit::fit(&LinearRegression::new(), &data).map_err(StatsError::Linfa)?;
        Ok(OlsModel {
            linear: Linear {
                intercept: m.intercept(),
                coefficients: m.params().to_vec(),
            },
        })
    }
}

macro_rules! predict_by_linear {
    ($($t:ty),*) => {$(
        impl Predict for $t {
            fn intercept(&self) -> f64 {
                self.linear.intercept
            }
            fn coefficients(&self) -> &[f64] {
                &self.linear.coefficients
            }
        }
    )*};
}

predict_by_linear!(MeanModel, OlsModel);

/// Ridge on standardised features with penalty `alpha` (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ridge {
    pub alpha: Penalty,
}

impl Ridge {
    pub fn new(alpha: f64) -> Result<Self, ParamError> {
        Ok(Ridge {
            alpha: Penalty::new(alpha)?,
        })
    }
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

/// A fitted ridge model. It predicts on the standardised features, as sklearn
/// does; `linear` is the same model in the features' own units.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RidgeModel {
    /// The penalty used.
    pub alpha: Penalty,
    /// The training rows' scaler.
    pub scaler: Scaler,
    /// The intercept and coefficients on the standardised features
    /// (sklearn's `Ridge.intercept_`, `.coef_`).
    pub standardised: Linear,
    pub linear: Linear,
}

impl Predict for RidgeModel {
    fn intercept(&self) -> f64 {
        self.linear.intercept
    }
    fn coefficients(&self) -> &[f64] {
        &self.linear.coefficients
    }
    fn predict_row(&self, row: &[f64]) -> f64 {
        let s = &self.standardised;
        s.intercept
            + self
                .scaler
                .transform_row(row)
                .iter()
                .zip(&s.coefficients)
                .map(|(z, c)| z * c)
                .sum::<f64>()
    }
}

impl Fit for Ridge {
    type Model = RidgeModel;
    fn fit(&self, x: ArrayView2<f64>, y: &[f64]) -> Result<RidgeModel, StatsError> {
        check_data(x, y)?;
        ridge(x, y, self.alpha)
    }
}

/// Closed-form ridge on standardised features with an unpenalised intercept.
fn ridge(x: ArrayView2<f64>, y: &[f64], alpha: Penalty) -> Result<RidgeModel, StatsError> {
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
        gram[a * k + a] += alpha.get();
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
    Ok(RidgeModel {
        alpha,
        scaler,
        standardised: Linear {
            intercept: ym,
            coefficients: b,
        },
        linear: Linear {
            intercept,
            coefficients,
        },
    })
}

/// Inner validation of [`RidgeCv`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum InnerCv {
    LeaveOneOut,
    KFold { k: Folds, seed: u64 },
}

/// Ridge with alpha chosen from a non-empty list by inner CV on the training
/// rows (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RidgeCvFields")]
pub struct RidgeCv {
    alphas: Vec<Penalty>,
    pub inner: InnerCv,
}

/// [`RidgeCv`] as written, before its check.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RidgeCvFields {
    alphas: Vec<Penalty>,
    inner: InnerCv,
}

impl TryFrom<RidgeCvFields> for RidgeCv {
    type Error = ParamError;
    fn try_from(f: RidgeCvFields) -> Result<Self, ParamError> {
        if f.alphas.is_empty() {
            return Err(ParamError::NoPenalties);
        }
        Ok(RidgeCv {
            alphas: f.alphas,
            inner: f.inner,
        })
    }
}

impl RidgeCv {
    pub fn new(alphas: &[f64], inner: InnerCv) -> Result<Self, ParamError> {
        let alphas = alphas
            .iter()
            .map(|&a| Penalty::new(a))
            .collect::<Result<_, _>>()?;
        RidgeCv::try_from(RidgeCvFields { alphas, inner })
    }

    /// The study's `ridge-cv`: alphas 10^-3 … 10^3, inner leave-one-out.
    pub fn study_grid() -> Self {
        RidgeCv {
            alphas: Penalty::powers_of_ten(-3..=3),
            inner: InnerCv::LeaveOneOut,
        }
    }

    pub fn alphas(&self) -> &[Penalty] {
        &self.alphas
    }
}

/// A fitted [`RidgeCv`]: the ridge refitted with the chosen alpha.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RidgeCvModel {
    /// The refit on all training rows; `ridge.alpha` is the chosen penalty.
    pub ridge: RidgeModel,
    /// The inner-CV mean squared error of each candidate alpha, in order.
    pub inner_mse: Vec<f64>,
}

impl Predict for RidgeCvModel {
    fn intercept(&self) -> f64 {
        self.ridge.intercept()
    }
    fn coefficients(&self) -> &[f64] {
        self.ridge.coefficients()
    }
    fn predict_row(&self, row: &[f64]) -> f64 {
        self.ridge.predict_row(row)
    }
}

impl Fit for RidgeCv {
    type Model = RidgeCvModel;
    fn fit(&self, x: ArrayView2<f64>, y: &[f64]) -> Result<RidgeCvModel, StatsError> {
        check_data(x, y)?;
        let n = x.nrows();
        let folds = match &self.inner {
            InnerCv::LeaveOneOut if n >= 2 => leave_one_out(n),
            InnerCv::LeaveOneOut => {
                return Err(StatsError::TooFewRows {
                    what: "inner leave-one-out",
                    needed: 2,
                    have: n,
                })
            }
            InnerCv::KFold { k, seed } => k_fold(n, k.get(), *seed)?,
        };
        let mse: Vec<f64> = self
            .alphas
            .iter()
            .map(|&a| inner_mse(x, y, a, &folds))
            .collect::<Result<_, _>>()?;
        let best = (0..mse.len()).fold(0, |b, i| if mse[i] < mse[b] { i } else { b });
        Ok(RidgeCvModel {
            ridge: ridge(x, y, self.alphas[best])?,
            inner_mse: mse,
        })
    }
}

/// Mean over folds of the held-out MSE of ridge with penalty `alpha`.
fn inner_mse(
    x: ArrayView2<f64>,
    y: &[f64],
    alpha: Penalty,
    folds: &[Fold],
) -> Result<f64, StatsError> {
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

/// A method chosen at run time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Regressor {
    /// Baseline: predict the training mean.
    Mean,
    /// Ordinary least squares with an intercept (linfa-linear).
    Ols,
    /// Ridge on standardised features.
    Ridge(Ridge),
    /// Ridge with alpha chosen by inner CV on the training rows.
    RidgeCv(RidgeCv),
}

/// A fitted [`Regressor`]: the method's own model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Fitted {
    Mean(MeanModel),
    Ols(OlsModel),
    Ridge(RidgeModel),
    RidgeCv(RidgeCvModel),
}

impl Fitted {
    fn model(&self) -> &dyn Predict {
        match self {
            Fitted::Mean(m) => m,
            Fitted::Ols(m) => m,
            Fitted::Ridge(m) => m,
            Fitted::RidgeCv(m) => m,
        }
    }

    /// The ridge penalty used (chosen, for ridge-CV); `None` for the others.
    pub fn penalty(&self) -> Option<f64> {
        match self {
            Fitted::Ridge(m) => Some(m.alpha.get()),
            Fitted::RidgeCv(m) => Some(m.ridge.alpha.get()),
            Fitted::Mean(_) | Fitted::Ols(_) => None,
        }
    }
}

impl Predict for Fitted {
    fn intercept(&self) -> f64 {
        self.model().intercept()
    }
    fn coefficients(&self) -> &[f64] {
        self.model().coefficients()
    }
    fn predict_row(&self, row: &[f64]) -> f64 {
        self.model().predict_row(row)
    }
}

impl Fit for Regressor {
    type Model = Fitted;
    fn fit(&self, x: ArrayView2<f64>, y: &[f64]) -> Result<Fitted, StatsError> {
        Ok(match self {
            Regressor::Mean => Fitted::Mean(Mean.fit(x, y)?),
            Regressor::Ols => Fitted::Ols(Ols.fit(x, y)?),
            Regressor::Ridge(r) => Fitted::Ridge(r.fit(x, y)?),
            Regressor::RidgeCv(r) => Fitted::RidgeCv(r.fit(x, y)?),
        })
    }
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
        assert!((o.intercept() - 1.0).abs() < 1e-12 && (o.coefficients()[0] - 2.0).abs() < 1e-12);
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
        let f = Ridge::new(2.0).unwrap().fit(x.view(), &yv).unwrap();
        let b = n * cov / sd / (n + 2.0);
        assert!((f.standardised.coefficients[0] - b).abs() < 1e-12);
        assert!((f.predict_row(&[3.0]) - (my + b * (3.0 - mx) / sd)).abs() < 1e-12);
        assert!((f.intercept() + f.coefficients()[0] * 3.0 - f.predict_row(&[3.0])).abs() < 1e-12);
    }

    #[test]
    fn constant_column_gets_scale_one_and_zero_weight() {
        let x = array![[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]];
        let f = Ridge::new(1.0)
            .unwrap()
            .fit(x.view(), &[1.0, 2.0, 4.0])
            .unwrap();
        assert_eq!(f.scaler.scale[1], 1.0);
        assert_eq!(f.coefficients()[1], 0.0);
    }

    #[test]
    fn ridge_cv_prefers_small_alpha_on_a_clean_law_and_rejects_bad_alphas() {
        let x = Array2::from_shape_fn((12, 1), |(i, _)| i as f64);
        let y: Vec<f64> = (0..12)
            .map(|i| 3.0 * i as f64 + [0.1, -0.1][i % 2])
            .collect();
        let f = RidgeCv::new(&[100.0, 0.01, 10.0], InnerCv::LeaveOneOut)
            .unwrap()
            .fit(x.view(), &y)
            .unwrap();
        assert_eq!(f.ridge.alpha.get(), 0.01);
        assert_eq!(f.inner_mse.len(), 3);
        assert_eq!(
            RidgeCv::new(&[], InnerCv::LeaveOneOut),
            Err(ParamError::NoPenalties)
        );
        assert_eq!(Ridge::new(-1.0), Err(ParamError::Penalty(-1.0)));
        assert!(RidgeCv::new(&[1.0, f64::NAN], InnerCv::LeaveOneOut).is_err());
    }

    /// The study's grid is 10^-3 … 10^3, as `Method::RidgeCv` documents.
    #[test]
    fn study_grid_is_powers_of_ten() {
        let g = RidgeCv::study_grid();
        let a: Vec<f64> = g.alphas().iter().map(|p| p.get()).collect();
        assert_eq!(a, vec![1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0]);
        assert_eq!(g.inner, InnerCv::LeaveOneOut);
    }

    #[test]
    fn regressor_round_trips_through_json() {
        let r = Regressor::RidgeCv(
            RidgeCv::new(
                &[0.1, 1.0],
                InnerCv::KFold {
                    k: Folds::new(5).unwrap(),
                    seed: 3,
                },
            )
            .unwrap(),
        );
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Regressor>(&s).unwrap(), r);
        for bad in [
            r#"{"ridge_cv":{"alphas":[],"inner":"leave_one_out"}}"#,
            r#"{"ridge":{"alpha":-1.0}}"#,
            r#"{"ridge_cv":{"alphas":[1.0],"inner":{"k_fold":{"k":1,"seed":0}}}}"#,
        ] {
            assert!(serde_json::from_str::<Regressor>(bad).is_err(), "{bad}");
        }
    }
}
