//! Held-out predictions against the actual scores: one point per model (coloured by
//! family), the identity line, and R² and MAE of the held-out predictions.

use std::path::{Path, PathBuf};

use super::axes::{extent, padded, PAD};
use super::chart::{chart_points, Chart, Plotted, RefLine};
use super::error::FigureError;
use super::legend::{capped, Entry, Swatch, MAX_ENTRIES};
use super::output::build_and_write;
use super::plane::MAX_LABELLED;
use super::style::REFERENCE;
use super::FigureOptions;

/// One model's held-out prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub label: String,
    pub group: Option<String>,
    pub actual: f64,
    pub predicted: f64,
}

pub(crate) const IDENTITY_LABEL: &str = "identity (predicted = actual)";

/// `v` with `digits` significant digits (plain notation).
pub(crate) fn significant(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let decimals = (digits as i32 - 1 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    format!("{v:.decimals$}").replace('-', "\u{2212}")
}

/// The metrics line: R² and MAE of the held-out predictions.
pub(crate) fn metrics_text(actual: &[f64], predicted: &[f64]) -> String {
    let r2 = crate::fit::stats::r2(actual, predicted);
    let mae = crate::fit::stats::mae(actual, predicted);
    format!(
        "held out: R² = {}, MAE = {}, n = {}",
        if r2.is_finite() {
            format!("{r2:.2}").replace('-', "\u{2212}")
        } else {
            "n/a".into()
        },
        significant(mae, 3),
        actual.len()
    )
}

pub(crate) fn predicted_chart(points: &[Prediction], target: &str, title: &str) -> Option<Chart> {
    let kept: Vec<&Prediction> = points
        .iter()
        .filter(|p| p.actual.is_finite() && p.predicted.is_finite())
        .collect();
    let range = padded(
        extent(kept.iter().flat_map(|p| [p.actual, p.predicted]))?,
        PAD,
    );
    let plotted: Vec<Plotted> = kept
        .iter()
        .map(|p| Plotted {
            x: p.actual,
            y: p.predicted,
            group: p.group.as_deref(),
            label: &p.label,
        })
        .collect();
    let (groups, chart_points) = chart_points(&plotted, MAX_LABELLED);
    let actual: Vec<f64> = kept.iter().map(|p| p.actual).collect();
    let predicted: Vec<f64> = kept.iter().map(|p| p.predicted).collect();
    let mut legend = vec![Entry {
        swatch: Swatch::None,
        text: metrics_text(&actual, &predicted),
    }];
    let lines: Vec<RefLine> = RefLine::clipped(0.0, 1.0, range, range, REFERENCE, true)
        .into_iter()
        .collect();
    if !lines.is_empty() {
        legend.push(Entry {
            swatch: Swatch::Line {
                colour: REFERENCE,
                dashed: true,
            },
            text: IDENTITY_LABEL.into(),
        });
    }
    legend.extend(capped(
        groups
            .entries
            .iter()
            .map(|(n, m)| Entry {
                swatch: Swatch::Marker(*m),
                text: n.clone(),
            })
            .collect(),
        MAX_ENTRIES,
    ));
    Some(Chart {
        title: title.to_string(),
        x_label: format!("actual {target}"),
        y_label: format!("predicted {target} (held out)"),
        x_range: range,
        y_range: range,
        points: chart_points,
        lines,
        legend,
        ..Chart::default()
    })
}

/// Draws held-out predictions against actual scores; [`FigureError::Empty`] when no pair is finite.
pub fn predicted_vs_actual(
    points: &[Prediction],
    target: &str,
    title: &str,
    out_stem: &Path,
    opts: &FigureOptions,
) -> Result<Vec<PathBuf>, FigureError> {
    build_and_write(out_stem, opts, |_| predicted_chart(points, target, title))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::testing::check_figure;

    fn pred(i: usize, a: f64, p: f64) -> Prediction {
        Prediction {
            label: format!("m{i}"),
            group: Some(["a", "b", "c"][i % 3].into()),
            actual: a,
            predicted: p,
        }
    }

    #[test]
    fn metrics_and_identity() {
        let pts = [
            pred(0, 1.0, 1.5),
            pred(1, 2.0, 2.0),
            pred(2, 3.0, 2.5),
            pred(3, f64::NAN, 1.0),
        ];
        let chart = predicted_chart(&pts, "loss", "t").unwrap();
        assert_eq!(chart.points.len(), 3);
        let text = metrics_text(&[1.0, 2.0, 3.0], &[1.5, 2.0, 2.5]);
        assert_eq!(text, "held out: R² = 0.75, MAE = 0.333, n = 3");
        check_figure(
            &chart,
            "predicted-three",
            &[
                &text,
                IDENTITY_LABEL,
                "actual loss",
                "predicted loss (held out)",
                "m0",
            ],
        );
    }

    #[test]
    fn two_and_fifty_models() {
        let two = [pred(0, 1.0, 1.2), pred(1, 2.0, 1.7)];
        check_figure(
            &predicted_chart(&two, "acc", "t").unwrap(),
            "predicted-two",
            &["m1", "a", "b"],
        );
        let fifty: Vec<_> = (0..50)
            .map(|i| pred(i, i as f64, i as f64 + ((i * 7) % 5) as f64 - 2.0))
            .collect();
        let chart = predicted_chart(&fifty, "acc", "t").unwrap();
        assert!(chart.points.iter().all(|p| p.label.is_none()));
        check_figure(&chart, "predicted-fifty", &["a", "c"]);
    }

    #[test]
    fn significant_digits() {
        assert_eq!(significant(0.0123456, 3), "0.0123");
        assert_eq!(significant(123.456, 3), "123");
        assert_eq!(significant(-1.5, 2), "\u{2212}1.5");
        assert_eq!(significant(f64::NAN, 2), "n/a");
    }
}
