//! Predicted scores of models that have none (unreleased checkpoints), best first, each
//! with its prediction interval: one row per model, names on the y axis. Where a score
//! was withheld from the fit, it is drawn beside the prediction.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{extent, padded, PAD};
use super::chart::{Chart, ChartPoint};
use super::error::FigureError;
use super::legend::{Entry, Swatch};
use super::markers::{Marker, Shape};
use super::output::{build_and_write, DrawResult, Figure};
use super::series::Interval;
use super::style::{Style, INK, PALETTE};
use super::FigureOptions;

/// One unscored model, as ranked.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedModel {
    pub label: String,
    pub predicted: f64,
    /// Interval bounds (NaN when there is none).
    pub lower: f64,
    pub upper: f64,
    /// The withheld score (NaN when there is none).
    pub withheld: f64,
}

/// A ranking chart, taller with more rows.
pub(crate) struct RankingChart(pub Chart);

impl Figure for RankingChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, st: &Style) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        self.0.draw(root, st)
    }
    fn height_units(&self, width_units: f64) -> f64 {
        // The chart fixes its plot's height: 22 units a row (see `ranking_chart`).
        self.0.natural_height(width_units)
    }
}

/// Logical height of a ranking's row.
const ROW_UNITS: f64 = 22.0;

/// A marker per model at its rank's row (rank 1 at the top, row `n - 1`) for the value
/// `value` picks, where it is finite.
fn row_points(
    models: &[RankedModel],
    marker: Marker,
    value: fn(&RankedModel) -> f64,
) -> Vec<ChartPoint> {
    let n = models.len();
    models
        .iter()
        .enumerate()
        .filter(|(_, m)| value(m).is_finite())
        .map(|(i, m)| ChartPoint {
            x: value(m),
            y: (n - 1 - i) as f64,
            marker,
            label: None,
            size: 1.0,
        })
        .collect()
}

/// `models` in rank order (best first); `interval` is the coverage, e.g. 0.9.
pub(crate) fn ranking_chart(
    models: &[RankedModel],
    target: &str,
    interval: Option<f64>,
    title: &str,
) -> Option<RankingChart> {
    let values = models
        .iter()
        .flat_map(|m| [m.predicted, m.lower, m.upper, m.withheld]);
    let x_range = padded(extent(values)?, PAD);
    let n = models.len();
    // Rank 1 at the top: row i sits at y = n - 1 - i.
    let y = |i: usize| (n - 1 - i) as f64;
    let marker = Marker {
        colour: PALETTE[0],
        shape: Shape::Circle,
    };
    let truth = Marker {
        colour: PALETTE[1],
        shape: Shape::Diamond,
    };
    let mut points = row_points(models, marker, |m| m.predicted);
    let withheld = row_points(models, truth, |m| m.withheld);
    let any_withheld = !withheld.is_empty();
    points.extend(withheld);
    let intervals = models
        .iter()
        .enumerate()
        .map(|(i, m)| Interval {
            from: (m.lower, y(i)),
            to: (m.upper, y(i)),
            colour: INK,
        })
        .collect();
    let mut names: Vec<String> = models
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{}. {}", i + 1, m.label))
        .collect();
    names.reverse();
    let mut legend = vec![Entry {
        swatch: Swatch::Marker(marker),
        text: format!("predicted {target}"),
    }];
    if let Some(c) = interval {
        legend.push(Entry {
            swatch: Swatch::Line {
                colour: INK,
                dashed: false,
            },
            text: format!("{:.0}% jackknife+ interval", 100.0 * c),
        });
    }
    if any_withheld {
        legend.push(Entry {
            swatch: Swatch::Marker(truth),
            text: format!("withheld {target}"),
        });
    }
    Some(RankingChart(Chart {
        title: title.to_string(),
        x_label: format!("predicted {target}"),
        y_label: String::new(),
        x_range,
        y_range: (-0.7, n as f64 - 0.3),
        points,
        legend,
        intervals,
        y_categories: Some(names),
        plot_height: Some((ROW_UNITS * n as f64).max(120.0)),
        ..Chart::default()
    }))
}

/// Draws the ranking of unscored models; [`FigureError::Empty`] when nothing is finite.
pub fn ranking(
    models: &[RankedModel],
    target: &str,
    interval: Option<f64>,
    title: &str,
    out_stem: &Path,
    opts: &FigureOptions,
) -> Result<Vec<PathBuf>, FigureError> {
    build_and_write(out_stem, opts, |_| {
        ranking_chart(models, target, interval, title)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::testing::check_figure;

    fn m(i: usize, p: f64) -> RankedModel {
        RankedModel {
            label: format!("ckpt-{i}"),
            predicted: p,
            lower: p - 0.1,
            upper: p + 0.15,
            withheld: f64::NAN,
        }
    }

    #[test]
    fn two_models_best_on_top() {
        let chart =
            ranking_chart(&[m(0, 0.7), m(1, 0.5)], "accuracy", Some(0.9), "Ranking").unwrap();
        assert_eq!(
            chart.0.y_categories.as_ref().unwrap(),
            &["2. ckpt-1".to_string(), "1. ckpt-0".to_string()]
        );
        check_figure(
            &chart,
            "ranking-two",
            &[
                "1. ckpt-0",
                "2. ckpt-1",
                "90% jackknife+ interval",
                "predicted accuracy",
            ],
        );
        assert!(!chart
            .0
            .legend
            .iter()
            .any(|e| e.text.starts_with("withheld")));
    }

    #[test]
    fn withheld_scores_are_drawn_beside_the_predictions() {
        let mut ms = vec![m(0, 0.7), m(1, 0.5)];
        ms[1].withheld = 0.9;
        let chart = ranking_chart(&ms, "accuracy", Some(0.9), "Ranking").unwrap();
        assert_eq!(chart.0.points.len(), 3);
        assert!(
            chart.0.x_range.1 >= 0.9,
            "the axis reaches the withheld score"
        );
        check_figure(&chart, "ranking-withheld", &["withheld accuracy"]);
    }

    #[test]
    fn fifty_models_grow_the_figure_and_missing_intervals_are_gaps() {
        let mut ms: Vec<_> = (0..50).map(|i| m(i, 1.0 - 0.01 * i as f64)).collect();
        ms[3].lower = f64::NAN;
        ms[4].predicted = f64::NAN;
        let chart = ranking_chart(&ms, "accuracy", None, "t").unwrap();
        assert!(chart.height_units(859.0) > 900.0);
        assert_eq!(chart.0.points.len(), 49);
        check_figure(&chart, "ranking-fifty", &["1. ckpt-0", "50. ckpt-49"]);
        assert!(ranking_chart(
            &[RankedModel {
                label: "x".into(),
                predicted: f64::NAN,
                lower: f64::NAN,
                upper: f64::NAN,
                withheld: f64::NAN
            }],
            "a",
            None,
            "t"
        )
        .is_none());
    }
}
