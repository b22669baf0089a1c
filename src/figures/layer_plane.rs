//! The information plane per layer: one path per model through its layers, from the
//! embeddings (layer 0, small marker) to the last layer (full marker), with the bound.
//! Up to eight models get a colour each; more are coloured by family, legend capped.

use std::path::{Path, PathBuf};

use super::axes::{extent, padded, PAD};
use super::chart::{Chart, ChartPoint};
use super::error::FigureError;
use super::legend::{capped, Entry, Swatch, MAX_ENTRIES};
use super::markers::by_model_or_group;
use super::output::build_and_write;
use super::plane::on_plane;
use super::series::Polyline;
use super::FigureOptions;

/// One model's layers on the plane.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerPath {
    pub label: String,
    pub group: Option<String>,
    /// (complexity, expressivity) of layer 0, 1, ..., L; non-finite values leave a gap.
    pub points: Vec<(f64, f64)>,
}

/// What the markers mean.
pub(crate) const PATH_NOTE: &str = "small dots: layers 0..L−1; large marker: layer L";

pub(crate) fn layer_plane_chart(paths: &[LayerPath], title: &str) -> Option<Chart> {
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let all: Vec<(f64, f64)> = paths
        .iter()
        .flat_map(|p| p.points.iter().filter(finite).copied())
        .collect();
    let x_range = padded(extent(all.iter().map(|p| p.0))?, PAD);
    let y_data = extent(all.iter().map(|p| p.1))?;
    let y_range = padded((y_data.0.min(x_range.0), y_data.1.max(x_range.1)), PAD);

    let labels: Vec<&str> = paths.iter().map(|p| p.label.as_str()).collect();
    let groups: Vec<Option<&str>> = paths.iter().map(|p| p.group.as_deref()).collect();
    let markers = by_model_or_group(&labels, &groups);
    let small = paths.len() > 20;
    let mut chart_paths = Vec::new();
    let mut points = Vec::new();
    for (path, marker) in paths.iter().zip(&markers.of_point) {
        chart_paths.push(Polyline {
            points: path.points.iter().map(|&p| Some(p)).collect(),
            colour: marker.colour,
            width: if small { 1.0 } else { 1.6 },
            dashed: false,
        });
        let last = path.points.len().saturating_sub(1);
        for (i, p) in path.points.iter().enumerate().filter(|(_, p)| finite(p)) {
            let size = if i == last {
                1.0
            } else if small {
                0.0
            } else {
                0.45
            };
            if size > 0.0 {
                points.push(ChartPoint {
                    x: p.0,
                    y: p.1,
                    marker: *marker,
                    label: None,
                    size,
                });
            }
        }
    }
    let mut legend: Vec<Entry> = markers
        .entries
        .iter()
        .map(|(name, m)| Entry {
            swatch: Swatch::Marker(*m),
            text: name.clone(),
        })
        .collect();
    legend = capped(legend, MAX_ENTRIES);
    legend.push(Entry {
        swatch: Swatch::None,
        text: PATH_NOTE.to_string(),
    });
    Some(Chart {
        points,
        paths: chart_paths,
        ..on_plane(title, x_range, y_range, legend)
    })
}

/// Draws one path per model through its layers on the information plane; returns the files
/// written, or [`FigureError::Empty`] when no layer has finite coordinates.
pub fn information_plane_layers(
    paths: &[LayerPath],
    title: &str,
    out_stem: &Path,
    opts: &FigureOptions,
) -> Result<Vec<PathBuf>, FigureError> {
    build_and_write(out_stem, opts, |_| layer_plane_chart(paths, title))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::plane::{BOUND_LABEL, X_LABEL, Y_LABEL};
    use crate::figures::testing::check_figure;

    pub(crate) fn paths(n: usize, layers: usize) -> Vec<LayerPath> {
        (0..n)
            .map(|m| LayerPath {
                label: format!("model-{m}"),
                group: Some(format!("fam{}", m % 3)),
                points: (0..=layers)
                    .map(|l| {
                        let t = l as f64 / layers as f64;
                        (
                            0.2 + 0.5 * t + 0.01 * m as f64,
                            0.1 + 0.2 * t * t + 0.005 * m as f64,
                        )
                    })
                    .collect(),
            })
            .collect()
    }

    #[test]
    fn two_models_have_a_legend_entry_each() {
        let p = paths(2, 6);
        let chart = layer_plane_chart(&p, "layers").unwrap();
        assert_eq!(chart.paths.len(), 2);
        check_figure(
            &chart,
            "layer-plane-two",
            &[X_LABEL, Y_LABEL, "model-0", "model-1", BOUND_LABEL],
        );
    }

    #[test]
    fn fifty_models_are_coloured_by_family() {
        let p = paths(50, 12);
        let chart = layer_plane_chart(&p, "layers").unwrap();
        check_figure(&chart, "layer-plane-fifty", &["fam0", "fam2"]);
        assert!(chart.legend.len() <= MAX_ENTRIES + 2);
    }

    #[test]
    fn missing_layers_leave_gaps() {
        let mut p = paths(3, 5);
        p[1].points[2] = (f64::NAN, 0.3);
        p[2].points = vec![(f64::NAN, f64::NAN); 6];
        let chart = layer_plane_chart(&p, "gaps").unwrap();
        assert_eq!(super::super::series::runs(&chart.paths[1].points).len(), 2);
        check_figure(&chart, "layer-plane-gaps", &["model-0"]);
        let none = vec![LayerPath {
            label: "x".into(),
            group: None,
            points: vec![(f64::NAN, 1.0)],
        }];
        assert!(layer_plane_chart(&none, "t").is_none());
    }
}
