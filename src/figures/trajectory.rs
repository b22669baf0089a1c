//! The information plane of checkpoint series: each series (a family whose members have an
//! order, such as training steps) is joined in order, and every checkpoint is coloured by
//! its step (viridis) and shaped by its series. Points without a step keep listing order.

use std::path::{Path, PathBuf};

use super::axes::{extent, padded, PAD};
use super::chart::{Chart, ChartPoint};
use super::colormap::viridis;
use super::error::FigureError;
use super::legend::{capped, Entry, Swatch, MAX_ENTRIES};
use super::markers::{assign, Groups, Marker};
use super::output::build_and_write;
use super::plane::{on_plane, MAX_LABELLED};
use super::series::Polyline;
use super::style::UNGROUPED;
use super::FigureOptions;

/// One checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct TrajectoryPoint {
    pub label: String,
    /// The series (family) it belongs to.
    pub series: String,
    /// Training step (or any order key); `None`: listing order.
    pub step: Option<f64>,
    pub complexity: f64,
    pub expressivity: f64,
}

/// Indices of each series' points in order: by step when every point of the series has a
/// finite one, else as listed. Series keep their order of first appearance.
pub(crate) fn ordered_series(points: &[TrajectoryPoint]) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, p) in points.iter().enumerate() {
        match out.iter_mut().find(|(s, _)| *s == p.series) {
            Some((_, v)) => v.push(i),
            None => out.push((p.series.clone(), vec![i])),
        }
    }
    for (_, idx) in &mut out {
        if idx
            .iter()
            .all(|&i| points[i].step.is_some_and(f64::is_finite))
        {
            idx.sort_by(|&a, &b| {
                points[a]
                    .step
                    .partial_cmp(&points[b].step)
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        }
    }
    out
}

fn step_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.3}")
    }
}

/// How steps become colours: on the common step range (linear, or log(1 + step) when
/// positive steps span two decades or more, as log-spaced checkpoints do, so that the
/// early checkpoints stay apart), or by rank within each series when a step is missing.
struct StepScale {
    /// Every point has a finite step.
    all_stepped: bool,
    steps: Option<(f64, f64)>,
    log_scale: bool,
}

impl StepScale {
    fn new(points: &[TrajectoryPoint]) -> Self {
        let steps = extent(points.iter().filter_map(|p| p.step));
        let all_stepped = points.iter().all(|p| p.step.is_some_and(f64::is_finite));
        let smallest_positive = points
            .iter()
            .filter_map(|p| p.step)
            .filter(|&s| s > 0.0)
            .fold(f64::INFINITY, f64::min);
        let log_scale = all_stepped
            && steps.is_some_and(|(lo, hi)| lo >= 0.0 && hi >= 100.0 * smallest_positive);
        Self {
            all_stepped,
            steps,
            log_scale,
        }
    }

    fn scale(&self, s: f64) -> f64 {
        if self.log_scale {
            s.ln_1p()
        } else {
            s
        }
    }

    /// Position of each point in [0, 1]: its step on the common range, or its rank in
    /// its series.
    fn positions(&self, points: &[TrajectoryPoint], series: &[(String, Vec<usize>)]) -> Vec<f64> {
        let mut t = vec![0.0; points.len()];
        for (_, idx) in series {
            for (k, &i) in idx.iter().enumerate() {
                t[i] = match (self.all_stepped, self.steps, points[i].step) {
                    (true, Some((lo, hi)), Some(s)) if hi > lo => {
                        (self.scale(s) - self.scale(lo)) / (self.scale(hi) - self.scale(lo))
                    }
                    _ => k as f64 / (idx.len().max(2) - 1) as f64,
                };
            }
        }
        t
    }

    /// The colour key: positions in [0, 1] and their texts.
    fn key(&self) -> Vec<(f64, String)> {
        match (self.all_stepped, self.steps) {
            (true, Some((lo, hi))) if self.log_scale => {
                let mid = (0.5 * (lo.ln_1p() + hi.ln_1p())).exp_m1().round();
                vec![
                    (0.0, format!("step {}", step_text(lo))),
                    (0.5, format!("step {} (log scale)", step_text(mid))),
                    (1.0, format!("step {}", step_text(hi))),
                ]
            }
            (true, Some((lo, hi))) => vec![
                (0.0, format!("step {}", step_text(lo))),
                (1.0, format!("step {}", step_text(hi))),
            ],
            _ => vec![
                (0.0, "first in series".to_string()),
                (1.0, "last in series".to_string()),
            ],
        }
    }
}

fn finite(p: &TrajectoryPoint) -> bool {
    p.complexity.is_finite() && p.expressivity.is_finite()
}

pub(crate) fn trajectory_chart(points: &[TrajectoryPoint], title: &str) -> Option<Chart> {
    let kept: Vec<&TrajectoryPoint> = points.iter().filter(|p| finite(p)).collect();
    let x_range = padded(extent(kept.iter().map(|p| p.complexity))?, PAD);
    let y_data = extent(kept.iter().map(|p| p.expressivity))?;
    let y_range = padded((y_data.0.min(x_range.0), y_data.1.max(x_range.1)), PAD);

    let series = ordered_series(points);
    let scale = StepScale::new(points);
    let t = scale.positions(points, &series);
    let names: Vec<Option<&str>> = series.iter().map(|(s, _)| Some(s.as_str())).collect();
    let shapes = assign(&names);
    let label_points = kept.len() <= MAX_LABELLED;
    let (mut paths, mut chart_points) = (Vec::new(), Vec::new());
    for ((_, idx), m) in series.iter().zip(&shapes.of_point) {
        paths.extend(segments(points, idx, &t));
        for &i in idx.iter().filter(|&&i| finite(&points[i])) {
            let p = &points[i];
            let first_or_last = i == idx[0] || Some(&i) == idx.last();
            chart_points.push(ChartPoint {
                x: p.complexity,
                y: p.expressivity,
                marker: Marker {
                    colour: viridis(t[i]),
                    shape: m.shape,
                },
                label: (label_points && first_or_last && !p.label.trim().is_empty())
                    .then(|| p.label.clone()),
                size: 1.0,
            });
        }
    }
    Some(Chart {
        points: chart_points,
        paths,
        ..on_plane(title, x_range, y_range, legend(&shapes, &scale))
    })
}

/// One segment per consecutive pair of a series' points (`idx`), coloured by the mean
/// of their positions `t`; empty where either point is not finite.
fn segments(points: &[TrajectoryPoint], idx: &[usize], t: &[f64]) -> Vec<Polyline> {
    idx.windows(2)
        .map(|w| {
            let (a, b) = (&points[w[0]], &points[w[1]]);
            let seg = if finite(a) && finite(b) {
                vec![
                    Some((a.complexity, a.expressivity)),
                    Some((b.complexity, b.expressivity)),
                ]
            } else {
                vec![]
            };
            Polyline {
                points: seg,
                colour: viridis(0.5 * (t[w[0]] + t[w[1]])),
                width: 2.0,
                dashed: false,
            }
        })
        .collect()
}

/// The series' shapes (capped), then the step colour key.
fn legend(shapes: &Groups, scale: &StepScale) -> Vec<Entry> {
    let series: Vec<Entry> = shapes
        .entries
        .iter()
        .map(|(name, m)| Entry {
            swatch: Swatch::Marker(Marker {
                colour: UNGROUPED,
                shape: m.shape,
            }),
            text: name.clone(),
        })
        .collect();
    let mut legend = capped(series, MAX_ENTRIES);
    for (v, text) in scale.key() {
        legend.push(Entry {
            swatch: Swatch::Marker(Marker {
                colour: viridis(v),
                shape: super::markers::Shape::Circle,
            }),
            text,
        });
    }
    legend
}

/// Draws checkpoint series on the information plane, joined in order and coloured by step.
pub fn trajectory(
    points: &[TrajectoryPoint],
    title: &str,
    out_stem: &Path,
    opts: &FigureOptions,
) -> Result<Vec<PathBuf>, FigureError> {
    build_and_write(out_stem, opts, |_| trajectory_chart(points, title))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::plane::X_LABEL;
    use crate::figures::testing::check_figure;

    fn pt(series: &str, step: Option<f64>, c: f64, e: f64) -> TrajectoryPoint {
        TrajectoryPoint {
            label: format!("{series}@{}", step.unwrap_or(-1.0)),
            series: series.into(),
            step,
            complexity: c,
            expressivity: e,
        }
    }

    #[test]
    fn series_are_ordered_by_step() {
        let p = [
            pt("a", Some(3000.0), 0.5, 0.3),
            pt("a", Some(0.0), 0.2, 0.1),
            pt("b", None, 0.4, 0.2),
            pt("a", Some(1000.0), 0.3, 0.2),
            pt("b", None, 0.45, 0.25),
        ];
        let s = ordered_series(&p);
        assert_eq!(
            s,
            vec![
                ("a".to_string(), vec![1, 3, 0]),
                ("b".to_string(), vec![2, 4])
            ]
        );
        let chart = trajectory_chart(&p, "t").unwrap();
        assert_eq!(chart.paths.len(), 3);
        // b has no steps, so the key reads by position.
        check_figure(
            &chart,
            "trajectory-mixed",
            &["a", "b", "first in series", "last in series", X_LABEL],
        );
    }

    #[test]
    fn steps_colour_the_points() {
        let p: Vec<_> = (0..8)
            .map(|i| {
                pt(
                    "pythia-160m",
                    Some(i as f64 * 1000.0),
                    0.2 + 0.03 * i as f64,
                    0.1 + 0.02 * i as f64,
                )
            })
            .collect();
        let chart = trajectory_chart(&p, "t").unwrap();
        assert_eq!(chart.points[0].marker.colour, viridis(0.0));
        assert_eq!(chart.points[7].marker.colour, viridis(1.0));
        check_figure(
            &chart,
            "trajectory-steps",
            &["step 0", "step 7000", "pythia-160m"],
        );
        assert!(
            !chart.legend.iter().any(|e| e.text.contains("log scale")),
            "one decade: a linear scale"
        );
    }

    /// Log-spaced checkpoints (0, 8, 32, …, 2048) get a log(1 + step) colour scale: step 32
    /// sits at ln 33 / ln 2049 of the way, and the key names the middle step.
    #[test]
    fn log_spaced_steps_are_coloured_on_a_log_scale() {
        let steps = [0.0, 8.0, 32.0, 128.0, 512.0, 2048.0];
        let p: Vec<_> = steps
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                pt(
                    "suite-s",
                    Some(s),
                    0.2 + 0.03 * i as f64,
                    0.1 + 0.02 * i as f64,
                )
            })
            .collect();
        let chart = trajectory_chart(&p, "t").unwrap();
        assert_eq!(
            chart.points[2].marker.colour,
            viridis(33f64.ln() / 2049f64.ln())
        );
        assert_eq!(chart.points[5].marker.colour, viridis(1.0));
        check_figure(
            &chart,
            "trajectory-log-steps",
            &["step 0", "step 44 (log scale)", "step 2048"],
        );
    }

    #[test]
    fn fifty_checkpoints_and_a_gap() {
        let mut p: Vec<_> = (0..50)
            .map(|i| {
                pt(
                    ["s1", "s2"][i % 2],
                    Some(i as f64),
                    0.2 + 0.01 * i as f64,
                    0.1 + 0.006 * i as f64,
                )
            })
            .collect();
        p[10].complexity = f64::NAN;
        let chart = trajectory_chart(&p, "t").unwrap();
        assert_eq!(chart.points.len(), 49);
        assert!(chart.points.iter().all(|p| p.label.is_none()));
        check_figure(
            &chart,
            "trajectory-fifty",
            &["s1", "s2", "step 0", "step 49"],
        );
    }
}
