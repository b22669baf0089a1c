//! The fit a study asks for: cross-validated regression of a score on
//! model-level features, an intercept-only baseline under the same folds,
//! correlations (Spearman and partial Spearman controlling for log
//! parameters, with permutation p-values), and predictions with jackknife+
//! intervals for models that have features but no score, ranked.

use super::error::StatsError;
use super::folds::{hold_out_below, k_fold, leave_one_group_out, leave_one_out, Fold};
use super::intervals::jackknife_plus;
use super::params::{Coverage, Folds, Permutations};
use super::regressors::{Fit, Predict, Regressor, RidgeCv};
use super::validate::{cross_validate, Metrics};
use crate::math::stats::{partial_spearman_test, spearman_test};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// The regression method of a study's fit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Ordinary least squares.
    #[default]
    Ols,
    /// Ridge on standardised features, the penalty chosen by inner
    /// leave-one-out over the training fold only (alphas 10^-3 … 10^3).
    RidgeCv,
}

/// How held-out predictions are made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validation {
    #[default]
    LeaveOneOut,
    /// Each family is held out in turn.
    LeaveOneFamilyOut,
    /// k folds after a seeded shuffle.
    KFold,
    /// One split: train on models below a threshold of a column (size,
    /// compute), test on those at or above it.
    HoldOut,
}

/// The split of [`Validation::HoldOut`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HoldOut {
    /// A model-level feature or score column, such as `log_params`.
    pub column: String,
    /// Models with `column >= threshold` are held out.
    pub threshold: f64,
}

/// Checked fit settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FitSettings {
    /// The score column to predict.
    pub target: String,
    /// Model-level feature columns used as predictors.
    pub features: Vec<String>,
    pub method: Method,
    pub validation: Validation,
    /// Folds for k-fold.
    pub folds: Folds,
    /// Seed of k-fold shuffles and permutation tests.
    pub seed: u64,
    /// Coverage of prediction intervals for unscored models (jackknife+).
    pub interval: Coverage,
    /// Permutations per p-value.
    pub permutations: Permutations,
    /// Rank unscored models with the highest predicted score first (false for
    /// scores where lower is better, such as loss).
    pub higher_is_better: bool,
    /// The split, when `validation` is hold-out.
    pub hold_out: Option<HoldOut>,
    /// `fit.baselines`: the columns the features are compared with; `None`
    /// = every baseline the data supports ([`super::baselines`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baselines: Option<Vec<String>>,
    /// `fit.control`: covariates of the partial correlations; `None` = log
    /// parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<Vec<String>>,
}

impl FitSettings {
    pub fn new(target: &str, features: Vec<String>) -> Self {
        Self {
            target: target.into(),
            features,
            method: Method::Ols,
            validation: Validation::LeaveOneOut,
            folds: Folds::default(),
            seed: 0,
            interval: Coverage::default(),
            permutations: Permutations::default(),
            higher_is_better: true,
            hold_out: None,
            baselines: None,
            control: None,
        }
    }

    pub(super) fn regressor(&self) -> Regressor {
        match self.method {
            Method::Ols => Regressor::Ols,
            Method::RidgeCv => Regressor::RidgeCv(RidgeCv::study_grid()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("a fit on {features} feature(s) needs at least {needed} models with a score and finite features; have {have}")]
    TooFewModels {
        features: usize,
        needed: usize,
        have: usize,
    },
    #[error("hold-out validation: {0}")]
    HoldOut(String),
    #[error(transparent)]
    Stats(#[from] StatsError),
    #[error("baseline `{baseline}` has no value for model `{model}`")]
    MissingBaseline { baseline: String, model: String },
}

/// Everything the fit stage needs about the models.
pub struct FitInput<'a> {
    pub names: &'a [String],
    pub families: &'a [String],
    /// `x[i]` = model i's features, in `settings.features` order.
    pub x: &'a [Vec<f64>],
    /// The target score, NaN where a model has none.
    pub y: &'a [f64],
    /// Every model-level feature column, for the correlation table.
    pub columns: &'a [(String, Vec<f64>)],
    /// log10 of non-embedding parameters, the covariate of partial correlations.
    pub log_params: &'a [f64],
    /// The hold-out column's value per model (hold-out validation only).
    pub hold_out: Option<&'a [f64]>,
    /// Scores withheld from the fit (models the study marks `unreleased`),
    /// NaN elsewhere: compared with the predictions, never fitted on.
    pub withheld: Option<&'a [f64]>,
    /// The baselines to compare the features with, per model (empty: no
    /// comparison); see [`super::baselines`].
    pub baselines: &'a [(String, Vec<f64>)],
    /// Covariates of the partial correlations (`fit.control`), per model;
    /// `None` = log parameters.
    pub control: Option<&'a [Vec<f64>]>,
}

/// A feature's correlation with the target within each family and pooled
/// within families ([`super::within_family`]).
#[derive(Clone, Debug, Serialize)]
pub struct WithinFamily {
    pub feature: String,
    pub pooled: super::within_family::Pooled,
    pub families: Vec<super::within_family::FamilyCorrelation>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Correlation {
    pub feature: String,
    pub n: usize,
    pub spearman: f64,
    pub p_value: f64,
    /// Partial Spearman controlling for the fit's `control` covariates
    /// (default log parameters; NaN when they do not vary, and for a
    /// control itself).
    pub partial_spearman: f64,
    pub partial_p_value: f64,
    /// `p_value` adjusted by Benjamini–Hochberg over every p-value of the table (both
    /// columns, every feature; see [`super::multitest`]).
    pub p_adjusted: f64,
    pub partial_p_adjusted: f64,
}

/// One predictor set under the fit's folds: does the study's feature add to
/// the baselines?
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The predictors (empty = intercept only).
    pub features: Vec<String>,
    pub metrics: Metrics,
}

#[derive(Clone, Debug, Serialize)]
pub struct Ranked {
    pub model: String,
    pub predicted: f64,
    pub lower: f64,
    pub upper: f64,
    /// The model's withheld score, NaN when there is none.
    pub actual: f64,
}

/// How the ranking of unreleased models compares with their withheld scores.
#[derive(Clone, Debug, Serialize)]
pub struct WithheldCheck {
    /// Ranked models with a withheld score.
    pub n: usize,
    /// Spearman ρ of predicted against withheld scores (NaN below 3 models).
    pub spearman: f64,
    pub mae: f64,
    /// How many withheld scores fall inside their prediction interval.
    pub covered: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct FitResult {
    pub settings: FitSettings,
    pub intercept: f64,
    pub coefficients: Vec<f64>,
    /// Models with a score and finite features, their scores, held-out
    /// predictions and folds.
    pub models: Vec<String>,
    pub actual: Vec<f64>,
    pub predicted: Vec<f64>,
    pub metrics: Metrics,
    /// The intercept-only baseline under the same folds.
    pub baseline: Metrics,
    /// Held-out metrics of nested predictor sets under the same folds and
    /// method: intercept only, log parameters alone, and log parameters
    /// plus the fit's features (when every scored model has log parameters).
    pub comparisons: Vec<Comparison>,
    pub folds: usize,
    pub correlations: Vec<Correlation>,
    /// Models with features but no score: predictions and intervals, best first.
    pub ranking: Vec<Ranked>,
    /// The ranking checked against withheld scores, when some were withheld.
    pub withheld: Option<WithheldCheck>,
    /// Models left out: a missing feature (and no score either way).
    pub skipped: Vec<String>,
    /// The features against the baselines under the same folds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_comparison: Option<super::baselines::BaselineReport>,
    /// Correlations within families, for each column that varies within some
    /// family of 3 or more scored models (log parameters do not).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub within_family: Vec<WithinFamily>,
}

/// Cross-validates the baseline predictor sets with the fit's method and folds.
fn compare(
    settings: &FitSettings,
    input: &FitInput,
    scored: &[usize],
    ys: &[f64],
    folds: &[Fold],
    mean: &Metrics,
    fit: &Metrics,
) -> Result<Vec<Comparison>, FitError> {
    let mut out = vec![Comparison {
        features: vec![],
        metrics: mean.clone(),
    }];
    let lp: Vec<f64> = scored.iter().map(|&i| input.log_params[i]).collect();
    let varies = lp.iter().any(|&v| (v - lp[0]).abs() > 1e-12);
    if !lp.iter().all(|v| v.is_finite())
        || !varies
        || settings.features.iter().any(|f| f == "log_params")
    {
        out.push(Comparison {
            features: settings.features.clone(),
            metrics: fit.clone(),
        });
        return Ok(out);
    }
    let model = settings.regressor();
    let with_lp = |extra: bool| {
        Array2::from_shape_fn(
            (
                scored.len(),
                1 + if extra { settings.features.len() } else { 0 },
            ),
            |(r, c)| {
                if c == 0 {
                    lp[r]
                } else {
                    input.x[scored[r]][c - 1]
                }
            },
        )
    };
    let alone = cross_validate(&model, with_lp(false).view(), ys, folds)?;
    out.push(Comparison {
        features: vec!["log_params".into()],
        metrics: alone.overall,
    });
    out.push(Comparison {
        features: settings.features.clone(),
        metrics: fit.clone(),
    });
    if scored.len() >= settings.features.len() + 3 {
        let both = cross_validate(&model, with_lp(true).view(), ys, folds)?;
        let mut names = vec!["log_params".to_string()];
        names.extend(settings.features.iter().cloned());
        out.push(Comparison {
            features: names,
            metrics: both.overall,
        });
    }
    Ok(out)
}

fn withheld_check(ranking: &[Ranked]) -> Option<WithheldCheck> {
    let known: Vec<&Ranked> = ranking.iter().filter(|r| r.actual.is_finite()).collect();
    if known.is_empty() {
        return None;
    }
    let (p, a): (Vec<f64>, Vec<f64>) = known.iter().map(|r| (r.predicted, r.actual)).unzip();
    Some(WithheldCheck {
        n: known.len(),
        spearman: if known.len() >= 3 {
            crate::math::stats::spearman(&p, &a)
        } else {
            f64::NAN
        },
        mae: p.iter().zip(&a).map(|(p, a)| (p - a).abs()).sum::<f64>() / known.len() as f64,
        covered: known
            .iter()
            .filter(|r| r.lower <= r.actual && r.actual <= r.upper)
            .count(),
    })
}

/// Which models the fit uses: indices into the [`FitInput`] rows.
struct Rows {
    /// A score and finite features: fitted, cross-validated, correlated.
    scored: Vec<usize>,
    /// Finite features but no score: predicted and ranked.
    unscored: Vec<usize>,
    /// A missing feature: left out (names).
    skipped: Vec<String>,
}

impl Rows {
    fn of(input: &FitInput) -> Self {
        let n = input.names.len();
        let finite_x = |i: usize| input.x[i].iter().all(|v| v.is_finite());
        let (with_x, without_x): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| finite_x(i));
        let (scored, unscored) = with_x.into_iter().partition(|&i| input.y[i].is_finite());
        Rows {
            scored,
            unscored,
            skipped: without_x
                .into_iter()
                .map(|i| input.names[i].clone())
                .collect(),
        }
    }
}

/// The validation folds over the scored models.
fn folds_of(
    settings: &FitSettings,
    input: &FitInput,
    scored: &[usize],
) -> Result<Vec<Fold>, FitError> {
    Ok(match settings.validation {
        Validation::LeaveOneOut => leave_one_out(scored.len()),
        Validation::LeaveOneFamilyOut => leave_one_group_out(
            &scored
                .iter()
                .map(|&i| input.families[i].as_str())
                .collect::<Vec<_>>(),
        ),
        Validation::KFold => k_fold(scored.len(), settings.folds.get(), settings.seed)?,
        Validation::HoldOut => {
            let (Some(split), Some(values)) = (&settings.hold_out, input.hold_out) else {
                return Err(FitError::HoldOut("no column and threshold given".into()));
            };
            let v: Vec<f64> = scored.iter().map(|&i| values[i]).collect();
            if let Some(j) = v.iter().position(|x| !x.is_finite()) {
                return Err(FitError::HoldOut(format!(
                    "model `{}` has no value of `{}`",
                    input.names[scored[j]], split.column
                )));
            }
            vec![hold_out_below(&v, split.threshold).map_err(|e| {
                FitError::HoldOut(format!("`{}` at {}: {e}", split.column, split.threshold))
            })?]
        }
    })
}

/// The models without a score, predicted with jackknife+ intervals and
/// ranked best first.
fn rank_unscored(
    settings: &FitSettings,
    input: &FitInput,
    model: &Regressor,
    (xs, ys): (&Array2<f64>, &[f64]),
    unscored: &[usize],
) -> Result<Vec<Ranked>, FitError> {
    if unscored.is_empty() {
        return Ok(Vec::new());
    }
    let x_new = feature_matrix(input, unscored, settings.features.len());
    let jk = jackknife_plus(model, xs.view(), ys, x_new.view(), settings.interval)?;
    let mut r: Vec<Ranked> = unscored
        .iter()
        .zip(&jk.intervals)
        .map(|(&i, iv)| Ranked {
            model: input.names[i].clone(),
            predicted: iv.point,
            lower: iv.lower,
            upper: iv.upper,
            actual: input.withheld.map_or(f64::NAN, |w| w[i]),
        })
        .collect();
    r.sort_by(|a, b| b.predicted.total_cmp(&a.predicted));
    if !settings.higher_is_better {
        r.reverse();
    }
    Ok(r)
}

/// The fit's features of `rows`, one row each.
fn feature_matrix(input: &FitInput, rows: &[usize], k: usize) -> Array2<f64> {
    Array2::from_shape_fn((rows.len(), k), |(r, c)| input.x[rows[r]][c])
}

pub fn fit_study(settings: &FitSettings, input: &FitInput) -> Result<FitResult, FitError> {
    let k = settings.features.len();
    let Rows {
        scored,
        unscored,
        skipped,
    } = Rows::of(input);
    let needed = k + 2;
    if scored.len() < needed {
        return Err(FitError::TooFewModels {
            features: k,
            needed,
            have: scored.len(),
        });
    }
    let xs = feature_matrix(input, &scored, k);
    let ys: Vec<f64> = scored.iter().map(|&i| input.y[i]).collect();
    let folds = folds_of(settings, input, &scored)?;
    let model = settings.regressor();
    let cv = cross_validate(&model, xs.view(), &ys, &folds)?;
    let baseline = cross_validate(&Regressor::Mean, xs.view(), &ys, &folds)?;
    let full = model.fit(xs.view(), &ys)?;
    let comparisons = compare(
        settings,
        input,
        &scored,
        &ys,
        &folds,
        &baseline.overall,
        &cv.overall,
    )?;
    let ranking = rank_unscored(settings, input, &model, (&xs, &ys), &unscored)?;
    let baseline_comparison =
        super::baselines::compare_baselines(settings, input, &scored, &unscored, &ys, &folds)?;
    let (correlations, within_family) = correlate(settings, input, &scored);
    Ok(FitResult {
        settings: settings.clone(),
        intercept: full.intercept(),
        coefficients: full.coefficients().to_vec(),
        models: scored.iter().map(|&i| input.names[i].clone()).collect(),
        actual: ys,
        predicted: cv.predicted,
        metrics: cv.overall,
        baseline: baseline.overall,
        comparisons,
        folds: folds.len(),
        correlations,
        withheld: withheld_check(&ranking),
        ranking,
        skipped,
        baseline_comparison,
        within_family,
    })
}

/// The covariates of the partial correlations (`fit.control`, or log
/// parameters), per model.
struct Controls<'a> {
    /// One column per covariate, over every model.
    columns: Vec<Vec<f64>>,
    /// Their names: a column of these gets no partial correlation.
    names: Vec<String>,
    /// Whether some covariate varies over the scored models.
    varies: bool,
    /// `fit.control` was set: a model needs every covariate to be correlated.
    explicit: bool,
    input: &'a FitInput<'a>,
}

impl<'a> Controls<'a> {
    fn of(settings: &FitSettings, input: &'a FitInput<'a>, scored: &[usize]) -> Self {
        let columns: Vec<Vec<f64>> = match input.control {
            Some(c) => c.to_vec(),
            None => vec![input.log_params.to_vec()],
        };
        let varies = columns.iter().any(|c| {
            let v: Vec<f64> = scored.iter().map(|&i| c[i]).collect();
            v.iter().any(|&x| (x - v[0]).abs() > 1e-12)
        });
        Controls {
            columns,
            names: settings
                .control
                .clone()
                .unwrap_or_else(|| vec!["log_params".into()]),
            varies,
            explicit: input.control.is_some(),
            input,
        }
    }

    /// The scored models with a finite `values` (and every covariate, when set).
    fn rows(&self, scored: &[usize], values: &[f64]) -> Vec<usize> {
        scored
            .iter()
            .copied()
            .filter(|&i| {
                values[i].is_finite()
                    && (!self.explicit || self.columns.iter().all(|c| c[i].is_finite()))
            })
            .collect()
    }
}

/// The correlation table and the within-family correlations of every
/// model-level column with the target, p-values adjusted.
fn correlate(
    settings: &FitSettings,
    input: &FitInput,
    scored: &[usize],
) -> (Vec<Correlation>, Vec<WithinFamily>) {
    let controls = Controls::of(settings, input, scored);
    let mut correlations = Vec::new();
    let mut within_family = Vec::new();
    for (name, values) in input.columns {
        let rows = controls.rows(scored, values);
        if rows.len() < 3 {
            continue;
        }
        correlations.push(correlation(settings, &controls, name, values, &rows));
        if let Some(w) = within_families(settings, input, name, values, &rows) {
            within_family.push(w);
        }
    }
    adjust_correlations(&mut correlations);
    (correlations, within_family)
}

/// Spearman and partial Spearman of one column with the target over `rows`.
fn correlation(
    settings: &FitSettings,
    controls: &Controls,
    name: &str,
    values: &[f64],
    rows: &[usize],
) -> Correlation {
    let (b, seed) = (settings.permutations.get(), settings.seed);
    let (fx, fy): (Vec<f64>, Vec<f64>) = rows
        .iter()
        .map(|&i| (values[i], controls.input.y[i]))
        .unzip();
    let s = spearman_test(&fx, &fy, b, seed);
    let cov: Vec<Vec<f64>> = controls
        .columns
        .iter()
        .map(|c| rows.iter().map(|&i| c[i]).collect())
        .collect();
    let is_control = controls.names.iter().any(|c| c == name);
    let enough = rows.len() >= 3 + cov.len();
    let (partial, partial_p) = if controls.varies && !is_control && enough {
        let p = partial_spearman_test(&fx, &fy, &cov, b, seed);
        (p.statistic, p.p_value)
    } else {
        (f64::NAN, f64::NAN)
    };
    Correlation {
        feature: name.to_string(),
        n: rows.len(),
        spearman: s.statistic,
        p_value: s.p_value,
        partial_spearman: partial,
        partial_p_value: partial_p,
        p_adjusted: f64::NAN,
        partial_p_adjusted: f64::NAN,
    }
}

/// One column's correlations within families, when some family has one.
fn within_families(
    settings: &FitSettings,
    input: &FitInput,
    name: &str,
    values: &[f64],
    rows: &[usize],
) -> Option<WithinFamily> {
    let (fx, fy): (Vec<f64>, Vec<f64>) = rows.iter().map(|&i| (values[i], input.y[i])).unzip();
    let fams: Vec<String> = rows.iter().map(|&i| input.families[i].clone()).collect();
    let families = super::within_family::per_family(&fx, &fy, &fams);
    families
        .iter()
        .any(|c| c.spearman.is_finite())
        .then(|| WithinFamily {
            feature: name.to_string(),
            pooled: super::within_family::pooled_test(
                &fx,
                &fy,
                &fams,
                settings.permutations.get(),
                settings.seed,
            ),
            families,
        })
}

/// Fills the Benjamini–Hochberg adjusted p-values of the table: one family of every
/// Spearman and partial Spearman p-value in it.
fn adjust_correlations(c: &mut [Correlation]) {
    let p: Vec<f64> = c
        .iter()
        .flat_map(|c| [c.p_value, c.partial_p_value])
        .collect();
    let adjusted = super::multitest::benjamini_hochberg(&p);
    for (c, a) in c.iter_mut().zip(adjusted.chunks(2)) {
        c.p_adjusted = a[0];
        c.partial_p_adjusted = a[1];
    }
}
