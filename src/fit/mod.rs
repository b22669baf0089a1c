//! Stage 5, fit: link model-level representation features to a benchmark
//! score, honestly. [`study_fit`] runs what a study asks for: held-out
//! predictions under a chosen validation scheme (leave-one-out,
//! leave-one-family-out, seeded k-fold), an intercept-only baseline under the
//! same folds, correlations with permutation p-values (Spearman, and partial
//! Spearman controlling for log parameters, as the paper reports), and
//! jackknife+ intervals for models that have no score yet, ranked.
//!
//! - [`crate::math::stats`] (a shared leaf): correlations, permutation tests,
//!   metrics; [`error`]: what a fit on bad data returns;
//! - [`params`]: hyper-parameters, checked when the study is;
//! - [`folds`]: fold schemes;
//! - [`validate`]: cross-validation over the folds;
//! - [`regressors`]: OLS (linfa), ridge, ridge with inner-CV penalty, fitted in
//!   fold, each to a typed model behind one `Predict` trait;
//! - [`intervals`]: jackknife+ prediction intervals;
//! - [`baselines`]: the features against the baselines a sceptic tries first
//!   (log parameters, the model's own loss in bits per byte, training step),
//!   with the paired held-out gain ([`paired`]);
//! - [`within_family`]: correlations within each family and pooled within
//!   families.
//! - [`multitest`]: Benjamini–Hochberg adjusted p-values.

pub mod agreement;
pub mod baselines;
pub mod error;
pub mod folds;
pub mod intervals;
pub mod multitest;
pub mod paired;
pub mod params;
pub mod regressors;
pub mod study_fit;
pub mod validate;
pub mod within_family;

pub use study_fit::{
    fit_study, FitError, FitInput, FitResult, FitSettings, HoldOut, Method, Validation,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(
        names: &'a [String],
        families: &'a [String],
        x: &'a [Vec<f64>],
        y: &'a [f64],
        cols: &'a [(String, Vec<f64>)],
        lp: &'a [f64],
    ) -> FitInput<'a> {
        FitInput {
            names,
            families,
            x,
            y,
            columns: cols,
            log_params: lp,
            hold_out: None,
            withheld: None,
            baselines: &[],
            control: None,
        }
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("m{i}")).collect()
    }

    #[test]
    fn recovers_an_exact_linear_law_out_of_sample() {
        let names = names(6);
        let fam = vec!["f".to_string(); 6];
        let x: Vec<Vec<f64>> = (0..6)
            .map(|i| vec![i as f64, (i * i) as f64 % 5.0])
            .collect();
        let y: Vec<f64> = x.iter().map(|r| 1.5 - 2.0 * r[0] + 0.25 * r[1]).collect();
        let lp = vec![8.0; 6];
        let s = FitSettings::new("y", vec!["a".into(), "b".into()]);
        let f = fit_study(&s, &input(&names, &fam, &x, &y, &[], &lp)).unwrap();
        assert!(
            (f.intercept - 1.5).abs() < 1e-9
                && (f.coefficients[0] + 2.0).abs() < 1e-9
                && (f.coefficients[1] - 0.25).abs() < 1e-9
        );
        for (a, p) in f.actual.iter().zip(&f.predicted) {
            assert!((a - p).abs() < 1e-9);
        }
        assert!((f.metrics.r2 - 1.0).abs() < 1e-12 && f.metrics.mae < 1e-9);
        assert!(
            f.baseline.r2 < 0.0,
            "the mean cannot predict held-out points: {}",
            f.baseline.r2
        );
    }

    /// Leave-one-out by hand for simple regression: the held-out prediction
    /// uses the slope and intercept of the other points (closed form).
    #[test]
    fn loo_predictions_match_closed_form_simple_regression() {
        let names = names(5);
        let fam = vec!["f".to_string(); 5];
        let xv = [0.3, 1.1, 2.0, 2.2, 4.5];
        let yv = [1.0, 0.4, 2.5, 1.9, 3.3];
        let x: Vec<Vec<f64>> = xv.iter().map(|&v| vec![v]).collect();
        let lp = vec![8.0; 5];
        let f = fit_study(
            &FitSettings::new("y", vec!["a".into()]),
            &input(&names, &fam, &x, &yv, &[], &lp),
        )
        .unwrap();
        for held in 0..5 {
            let (xs, ys): (Vec<f64>, Vec<f64>) = (0..5)
                .filter(|&i| i != held)
                .map(|i| (xv[i], yv[i]))
                .unzip();
            let (mx, my) = (xs.iter().sum::<f64>() / 4.0, ys.iter().sum::<f64>() / 4.0);
            let sxy: f64 = xs.iter().zip(&ys).map(|(a, b)| (a - mx) * (b - my)).sum();
            let sxx: f64 = xs.iter().map(|a| (a - mx).powi(2)).sum();
            let want = my - sxy / sxx * mx + sxy / sxx * xv[held];
            assert!((f.predicted[held] - want).abs() < 1e-10, "held {held}");
        }
    }

    #[test]
    fn unscored_models_are_predicted_and_ranked_with_intervals() {
        let names = names(14);
        let fam: Vec<String> = (0..14).map(|i| format!("f{}", i % 3)).collect();
        let x: Vec<Vec<f64>> = (0..14).map(|i| vec![i as f64]).collect();
        let mut y: Vec<f64> = (0..14)
            .map(|i| 3.0 * i as f64 + if i % 2 == 0 { 0.5 } else { -0.5 })
            .collect();
        y[12] = f64::NAN;
        y[3] = f64::NAN;
        let lp: Vec<f64> = (0..14).map(|i| 8.0 + (i % 4) as f64).collect();
        let cols = vec![(
            "a".to_string(),
            (0..14).map(|i| i as f64).collect::<Vec<_>>(),
        )];
        let mut s = FitSettings::new("y", vec!["a".into()]);
        s.validation = Validation::LeaveOneFamilyOut;
        s.interval = params::Coverage::new(0.8).unwrap();
        let f = fit_study(&s, &input(&names, &fam, &x, &y, &cols, &lp)).unwrap();
        assert_eq!(f.folds, 3);
        assert_eq!(
            f.ranking
                .iter()
                .map(|r| r.model.as_str())
                .collect::<Vec<_>>(),
            vec!["m12", "m3"]
        );
        for r in &f.ranking {
            assert!(r.lower < r.predicted && r.predicted < r.upper, "{r:?}");
        }
        assert!((f.ranking[0].predicted - 36.0).abs() < 1.0);
        let c = &f.correlations[0];
        assert!(
            c.spearman > 0.99 && c.p_value < 0.01 && c.partial_spearman > 0.9,
            "{c:?}"
        );
    }

    /// Withheld scores never enter the fit (the same fit as without them),
    /// and the ranking is checked against them by hand-computed numbers.
    #[test]
    fn withheld_scores_check_the_ranking_without_entering_the_fit() {
        let names = names(8);
        let fam = vec!["f".to_string(); 8];
        let x: Vec<Vec<f64>> = (0..8).map(|i| vec![i as f64]).collect();
        let mut y: Vec<f64> = (0..8)
            .map(|i| 1.0 + 2.0 * i as f64 + if i % 2 == 0 { 0.3 } else { -0.3 })
            .collect();
        let withheld: Vec<f64> = (0..8)
            .map(|i| {
                if i >= 5 {
                    [20.0, 9.0, 12.0][i - 5]
                } else {
                    f64::NAN
                }
            })
            .collect();
        for v in &mut y[5..] {
            *v = f64::NAN;
        }
        let lp = vec![8.0; 8];
        let s = FitSettings::new("y", vec!["a".into()]);
        let plain = fit_study(&s, &input(&names, &fam, &x, &y, &[], &lp)).unwrap();
        assert!(plain.withheld.is_none() && plain.ranking.iter().all(|r| r.actual.is_nan()));
        let mut inp = input(&names, &fam, &x, &y, &[], &lp);
        inp.withheld = Some(&withheld);
        let f = fit_study(&s, &inp).unwrap();
        assert_eq!(
            (f.intercept, &f.coefficients, &f.predicted),
            (plain.intercept, &plain.coefficients, &plain.predicted)
        );
        // Predicted order m7 > m6 > m5; withheld 12, 9, 20: ranks (3,2,1) against (2,1,3).
        assert_eq!(
            f.ranking
                .iter()
                .map(|r| (r.model.as_str(), r.actual))
                .collect::<Vec<_>>(),
            vec![("m7", 12.0), ("m6", 9.0), ("m5", 20.0)]
        );
        let w = f.withheld.unwrap();
        assert_eq!(w.n, 3);
        assert!((w.spearman - (-0.5)).abs() < 1e-12, "{}", w.spearman);
        let mae = f
            .ranking
            .iter()
            .map(|r| (r.predicted - r.actual).abs())
            .sum::<f64>()
            / 3.0;
        assert!((w.mae - mae).abs() < 1e-12);
        assert_eq!(
            w.covered,
            f.ranking
                .iter()
                .filter(|r| r.lower <= r.actual && r.actual <= r.upper)
                .count()
        );
    }

    #[test]
    fn too_few_scored_models_is_an_error() {
        let names = names(4);
        let fam = vec!["f".to_string(); 4];
        let x = vec![vec![1.0], vec![2.0], vec![f64::NAN], vec![4.0]];
        let y = vec![1.0, 2.0, 3.0, f64::NAN];
        let lp = vec![8.0; 4];
        let err = fit_study(
            &FitSettings::new("y", vec!["a".into()]),
            &input(&names, &fam, &x, &y, &[], &lp),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                FitError::TooFewModels {
                    have: 2,
                    needed: 3,
                    ..
                }
            ),
            "{err}"
        );
    }

    /// Hold-out by size: train on the small models only, predict the large
    /// ones; predictions exist for the held-out models alone, and the fit on
    /// the small ones extrapolates an exact law.
    #[test]
    fn hold_out_trains_below_the_threshold_and_tests_above() {
        let names = names(8);
        let fam = vec!["f".to_string(); 8];
        let x: Vec<Vec<f64>> = (0..8).map(|i| vec![i as f64 * 0.5]).collect();
        let y: Vec<f64> = x.iter().map(|r| 2.0 + 3.0 * r[0]).collect();
        let lp: Vec<f64> = (0..8).map(|i| 7.0 + i as f64 * 0.25).collect();
        let mut s = FitSettings::new("y", vec!["a".into()]);
        s.validation = Validation::HoldOut;
        s.hold_out = Some(HoldOut {
            column: "log_params".into(),
            threshold: 8.0,
        });
        let mut inp = input(&names, &fam, &x, &y, &[], &lp);
        inp.hold_out = Some(&lp);
        let f = fit_study(&s, &inp).unwrap();
        assert_eq!(f.folds, 1);
        assert_eq!(f.metrics.n, 4, "models 4..7 have log_params >= 8");
        for i in 0..8 {
            if i < 4 {
                assert!(
                    f.predicted[i].is_nan(),
                    "training model {i} gets no held-out prediction"
                );
            } else {
                assert!((f.predicted[i] - y[i]).abs() < 1e-9);
            }
        }
        s.hold_out = Some(HoldOut {
            column: "log_params".into(),
            threshold: 100.0,
        });
        let err = fit_study(&s, &inp).unwrap_err().to_string();
        assert!(
            err.contains("hold-out validation") && err.contains("0 test rows"),
            "{err}"
        );
    }

    /// The comparison table answers "does the feature add to log parameters?":
    /// with a score made of both, only the joint model predicts well held-out.
    #[test]
    fn comparisons_show_what_a_feature_adds_to_log_parameters() {
        let n = 16;
        let names = names(n);
        let fam = vec!["f".to_string(); n];
        let lp: Vec<f64> = (0..n).map(|i| 8.0 + (i % 4) as f64 * 0.5).collect();
        let feat: Vec<f64> = (0..n).map(|i| ((i * 7) % 5) as f64 / 5.0).collect();
        let y: Vec<f64> = (0..n).map(|i| 2.0 * lp[i] + 3.0 * feat[i]).collect();
        let x: Vec<Vec<f64>> = feat.iter().map(|&v| vec![v]).collect();
        let f = fit_study(
            &FitSettings::new("y", vec!["optimality".into()]),
            &input(&names, &fam, &x, &y, &[], &lp),
        )
        .unwrap();
        let names_of: Vec<Vec<String>> = f.comparisons.iter().map(|c| c.features.clone()).collect();
        assert_eq!(
            names_of,
            vec![
                vec![],
                vec!["log_params".to_string()],
                vec!["optimality".to_string()],
                vec!["log_params".to_string(), "optimality".to_string()]
            ]
        );
        let r2: Vec<f64> = f.comparisons.iter().map(|c| c.metrics.r2).collect();
        assert!(
            (r2[3] - 1.0).abs() < 1e-9,
            "the joint model is exact: {r2:?}"
        );
        assert!(
            r2[1] < 0.9 && r2[2] < 0.9,
            "neither alone explains the score: {r2:?}"
        );
        assert_eq!(f.comparisons[0].metrics, f.baseline);
    }
}
