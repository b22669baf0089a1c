//! Does a feature add anything to what a sceptic already has? The fit's
//! features are compared, under the fit's own method and folds, with the
//! baselines (`fit.baselines`; by default every one the data supports:
//! `log_params`, `bits_per_byte`, and `log_step` within checkpoint series):
//!
//! - the intercept only; each baseline alone; all baselines together;
//! - the features alone; all baselines plus the features;
//! - the best single baseline (highest held-out R²) plus the features, and
//!   the held-out gain of adding the features to it: per held-out model,
//!   the reduction in absolute error, its mean with a 95% Student t interval
//!   and a sign-flip permutation p-value ([`super::paired`]).
//!
//! Each predictor set is also fitted on every scored model and used to rank
//! the withheld (`unreleased`) models, so the report can say whether the
//! feature ranks them better than each baseline does.

use super::folds::Fold;
use super::paired::{paired_interval, sign_flip_test, PairedInterval};
use super::regressors::{Fit, Predict, Regressor};
use super::validate::{cross_validate, Metrics};
use super::{FitError, FitInput, FitSettings};
use crate::math::stats::spearman;
use ndarray::Array2;
use serde::Serialize;

/// How a predictor set ranks the withheld models (fitted on all scored ones).
#[derive(Clone, Debug, Serialize)]
pub struct WithheldFit {
    pub n: usize,
    /// Spearman ρ of predicted against withheld scores (NaN below 3 models).
    pub spearman: f64,
    pub mae: f64,
}

/// One predictor set under the fit's folds.
#[derive(Clone, Debug, Serialize)]
pub struct PredictorSet {
    /// What the row is: `intercept only`, a baseline's name, `baselines`,
    /// `features`, `baselines + features`, `<best> + features`.
    pub label: String,
    pub predictors: Vec<String>,
    pub metrics: Metrics,
    pub withheld: Option<WithheldFit>,
}

/// The held-out gain of adding the features to the best baseline.
#[derive(Clone, Debug, Serialize)]
pub struct Gain {
    pub baseline: String,
    pub r2_baseline: f64,
    pub r2_with_features: f64,
    pub mae_baseline: f64,
    pub mae_with_features: f64,
    /// Per held-out model |error of the baseline| − |error with the
    /// features added| (positive: the features help): mean and t interval.
    pub abs_error_reduction: PairedInterval,
    /// Two-sided sign-flip p-value of a zero mean reduction.
    pub p_value: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct BaselineReport {
    /// The baselines compared (resolved from `fit.baselines` or the default).
    pub baselines: Vec<String>,
    pub sets: Vec<PredictorSet>,
    pub gain: Option<Gain>,
}

/// A predictor: baseline column j or fit feature j.
#[derive(Clone, Copy)]
enum Source {
    Baseline(usize),
    Feature(usize),
}

struct Ctx<'a> {
    input: &'a FitInput<'a>,
    scored: &'a [usize],
    unscored: &'a [usize],
    ys: &'a [f64],
    folds: &'a [Fold],
    settings: &'a FitSettings,
}

impl Ctx<'_> {
    fn value(&self, i: usize, s: Source) -> f64 {
        match s {
            Source::Baseline(j) => self.input.baselines[j].1[i],
            Source::Feature(j) => self.input.x[i][j],
        }
    }

    /// The predictors' names.
    fn names(&self, set: &[Source]) -> Vec<String> {
        set.iter()
            .map(|&s| match s {
                Source::Baseline(j) => self.input.baselines[j].0.clone(),
                Source::Feature(j) => self.settings.features[j].clone(),
            })
            .collect()
    }

    fn matrix(&self, rows: &[usize], set: &[Source]) -> Array2<f64> {
        Array2::from_shape_fn((rows.len(), set.len()), |(r, c)| {
            self.value(rows[r], set[c])
        })
    }

    /// Held-out predictions and metrics, and the withheld ranking; `None`
    /// when the set has too many predictors for the scored models.
    fn run(
        &self,
        set: &[Source],
    ) -> Result<Option<(Vec<f64>, Metrics, Option<WithheldFit>)>, FitError> {
        if self.scored.len() < set.len() + 3 {
            return Ok(None);
        }
        let (model, xs) = if set.is_empty() {
            (
                Regressor::Mean,
                self.matrix(self.scored, &[Source::Feature(0)]),
            )
        } else {
            (self.settings.regressor(), self.matrix(self.scored, set))
        };
        let cv = cross_validate(&model, xs.view(), self.ys, self.folds)?;
        let known: Vec<(usize, f64)> = self
            .unscored
            .iter()
            .filter_map(|&i| Some((i, self.input.withheld?[i])).filter(|(_, a)| a.is_finite()))
            .collect();
        let withheld = if known.is_empty() || set.is_empty() {
            None
        } else {
            let full = model.fit(xs.view(), self.ys)?;
            let rows: Vec<usize> = known.iter().map(|&(i, _)| i).collect();
            let p = full.predict(self.matrix(&rows, set).view());
            let a: Vec<f64> = known.iter().map(|&(_, a)| a).collect();
            Some(WithheldFit {
                n: a.len(),
                spearman: if a.len() >= 3 {
                    spearman(&p, &a)
                } else {
                    f64::NAN
                },
                mae: p.iter().zip(&a).map(|(p, a)| (p - a).abs()).sum::<f64>() / a.len() as f64,
            })
        };
        Ok(Some((cv.predicted, cv.overall, withheld)))
    }
}

/// Checks that every baseline has a value for every scored model.
fn check_values(input: &FitInput, scored: &[usize]) -> Result<(), FitError> {
    for (name, values) in input.baselines {
        if let Some(&i) = scored.iter().find(|&&i| !values[i].is_finite()) {
            return Err(FitError::MissingBaseline {
                baseline: name.clone(),
                model: input.names[i].clone(),
            });
        }
    }
    Ok(())
}

/// The predictor sets of the comparison, labelled, in report order (the
/// best single baseline plus the features comes after, once it is known).
fn plan(nb: usize, bnames: &[String], k: usize) -> Vec<(String, Vec<Source>)> {
    let all_b: Vec<Source> = (0..nb).map(Source::Baseline).collect();
    let feats: Vec<Source> = (0..k).map(Source::Feature).collect();
    let mut plan: Vec<(String, Vec<Source>)> = vec![("intercept only".into(), vec![])];
    plan.extend((0..nb).map(|j| (bnames[j].clone(), vec![Source::Baseline(j)])));
    if nb > 1 {
        plan.push(("baselines".into(), all_b.clone()));
    }
    plan.push(("features".into(), feats.clone()));
    plan.push(("baselines + features".into(), [all_b, feats].concat()));
    plan
}

/// The single baseline with the highest held-out R² so far: its index,
/// R² (−∞ for NaN), held-out predictions and metrics.
type Best = Option<(usize, f64, Vec<f64>, Metrics)>;

/// The comparison (see the module header); `None` without baselines.
pub fn compare_baselines(
    settings: &FitSettings,
    input: &FitInput,
    scored: &[usize],
    unscored: &[usize],
    ys: &[f64],
    folds: &[Fold],
) -> Result<Option<BaselineReport>, FitError> {
    if input.baselines.is_empty() {
        return Ok(None);
    }
    check_values(input, scored)?;
    let ctx = Ctx {
        input,
        scored,
        unscored,
        ys,
        folds,
        settings,
    };
    let nb = input.baselines.len();
    let bnames: Vec<String> = input.baselines.iter().map(|(n, _)| n.clone()).collect();
    let mut sets = Vec::new();
    let mut best: Best = None;
    for (label, set) in plan(nb, &bnames, settings.features.len()) {
        let Some((pred, metrics, withheld)) = ctx.run(&set)? else {
            continue;
        };
        if let [Source::Baseline(j)] = set.as_slice() {
            let r2 = if metrics.r2.is_finite() {
                metrics.r2
            } else {
                f64::NEG_INFINITY
            };
            if best.as_ref().is_none_or(|b| r2 > b.1) {
                best = Some((*j, r2, pred.clone(), metrics.clone()));
            }
        }
        sets.push(PredictorSet {
            label,
            predictors: ctx.names(&set),
            metrics,
            withheld,
        });
    }
    let gain = match best {
        Some(best) => best_plus_features(&ctx, &bnames, best, &mut sets)?,
        None => None,
    };
    Ok(Some(BaselineReport {
        baselines: bnames,
        sets,
        gain,
    }))
}

/// The best single baseline plus the features: its row (after the others,
/// when there is more than one baseline) and the held-out gain over the
/// baseline alone.
fn best_plus_features(
    ctx: &Ctx,
    bnames: &[String],
    (j, _, base_pred, base_metrics): (usize, f64, Vec<f64>, Metrics),
    sets: &mut Vec<PredictorSet>,
) -> Result<Option<Gain>, FitError> {
    let feats = (0..ctx.settings.features.len()).map(Source::Feature);
    let set: Vec<Source> = std::iter::once(Source::Baseline(j)).chain(feats).collect();
    let Some((pred, metrics, withheld)) = ctx.run(&set)? else {
        return Ok(None);
    };
    let gain = gain_of(
        &bnames[j],
        ctx.ys,
        (base_pred.as_slice(), &base_metrics),
        (pred.as_slice(), &metrics),
        ctx.settings,
    );
    // with one baseline this is the `baselines + features` row
    if bnames.len() > 1 {
        sets.push(PredictorSet {
            label: format!("{} + features", bnames[j]),
            predictors: ctx.names(&set),
            metrics,
            withheld,
        });
    }
    Ok(Some(gain))
}

/// The paired held-out gain of `with` over `base` predictions.
fn gain_of(
    baseline: &str,
    ys: &[f64],
    (base, base_metrics): (&[f64], &Metrics),
    (with, with_metrics): (&[f64], &Metrics),
    settings: &FitSettings,
) -> Gain {
    let d: Vec<f64> = (0..ys.len())
        .filter(|&i| base[i].is_finite() && with[i].is_finite())
        .map(|i| (ys[i] - base[i]).abs() - (ys[i] - with[i]).abs())
        .collect();
    Gain {
        baseline: baseline.into(),
        r2_baseline: base_metrics.r2,
        r2_with_features: with_metrics.r2,
        mae_baseline: base_metrics.mae,
        mae_with_features: with_metrics.mae,
        abs_error_reduction: paired_interval(&d, 0.95),
        p_value: sign_flip_test(&d, settings.permutations.get(), settings.seed),
    }
}
