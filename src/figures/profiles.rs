//! Per-layer profiles: H(Z), complexity, expressivity and optimality against relative depth
//! (layer / L), one line per model, as small multiples: H(Z) once, then one row of panels
//! per n-gram order (entropies and informations normalised by ln m, as everywhere). Few
//! models get a colour (and markers) each; many are coloured by family.

use std::path::{Path, PathBuf};

use super::axes::{extent, padded, PAD};
use super::chart::{Chart, ChartPoint};
use super::error::FigureError;
use super::legend::{capped, Entry, Swatch, MAX_ENTRIES};
use super::markers::{by_model_or_group, MAX_COLOURED_MODELS};
use super::output::{figure_name, write_figure};
use super::panels::Panels;
use super::series::Polyline;
use super::FigureOptions;

/// The per-layer values of one n-gram order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderProfile {
    pub order: usize,
    pub complexity: Vec<f64>,
    pub expressivity: Vec<f64>,
    pub optimality: Vec<f64>,
}

/// One model's layers: relative depth and values (NaN where missing).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerProfile {
    pub label: String,
    pub group: Option<String>,
    /// Layer / L for layers 0..L.
    pub depth: Vec<f64>,
    pub entropy: Vec<f64>,
    pub orders: Vec<OrderProfile>,
}

pub(crate) const DEPTH_LABEL: &str = "layer / L";

fn order_name(n: usize) -> &'static str {
    match n {
        1 => "unigram",
        2 => "bigram",
        3 => "trigram",
        4 => "4-gram",
        _ => "n-gram",
    }
}

/// What a panel shows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Quantity {
    Entropy,
    Complexity(usize),
    Expressivity(usize),
    Optimality(usize),
}

impl Quantity {
    fn pick(self, p: &LayerProfile) -> Option<&Vec<f64>> {
        let find = |n: usize| p.orders.iter().find(|o| o.order == n);
        match self {
            Quantity::Entropy => Some(&p.entropy),
            Quantity::Complexity(n) => find(n).map(|o| &o.complexity),
            Quantity::Expressivity(n) => find(n).map(|o| &o.expressivity),
            Quantity::Optimality(n) => find(n).map(|o| &o.optimality),
        }
    }

    /// Panel title and y label.
    fn text(self) -> (String, String) {
        match self {
            Quantity::Entropy => ("entropy H(Z)".into(), String::new()),
            Quantity::Complexity(n) => (
                format!("complexity I(X;Z), {}", order_name(n)),
                String::new(),
            ),
            Quantity::Expressivity(n) => (
                format!("expressivity I(Y;Z), {}", order_name(n)),
                String::new(),
            ),
            Quantity::Optimality(n) => (format!("optimality, {}", order_name(n)), String::new()),
        }
    }
}

/// The grid's cells: with four columns, one row per order (complexity, expressivity,
/// optimality) and H(Z) once at the end of the first row, so each column holds one
/// quantity; with fewer columns, H(Z) first and the rest in order.
fn panels_spec(orders: &[usize], columns: usize) -> Vec<Option<Quantity>> {
    let per_order = |n| {
        [
            Quantity::Complexity(n),
            Quantity::Expressivity(n),
            Quantity::Optimality(n),
        ]
        .map(Some)
    };
    if columns == 4 {
        let mut out = Vec::new();
        for (i, &n) in orders.iter().enumerate() {
            out.extend(per_order(n));
            out.push(if i == 0 {
                Some(Quantity::Entropy)
            } else {
                None
            });
        }
        if orders.is_empty() {
            out.push(Some(Quantity::Entropy));
        }
        out
    } else {
        let mut out = vec![Some(Quantity::Entropy)];
        for &n in orders {
            out.extend(per_order(n));
        }
        out
    }
}

pub(crate) fn profiles_figure(
    profiles: &[LayerProfile],
    orders: &[usize],
    title: &str,
    width_units: f64,
) -> Option<Panels> {
    let labels: Vec<&str> = profiles.iter().map(|p| p.label.as_str()).collect();
    let groups: Vec<Option<&str>> = profiles.iter().map(|p| p.group.as_deref()).collect();
    let markers = by_model_or_group(&labels, &groups);
    let few = profiles.len() <= MAX_COLOURED_MODELS;
    let columns = if width_units >= 560.0 { 4 } else { 2 };
    let mut charts = Vec::new();
    for q in panels_spec(orders, columns) {
        let Some(q) = q else {
            charts.push(None);
            continue;
        };
        let (panel_title, y_label) = q.text();
        let series: Vec<(&LayerProfile, &Vec<f64>)> = profiles
            .iter()
            .filter_map(|p| q.pick(p).map(|v| (p, v)))
            .collect();
        let Some(y) = extent(series.iter().flat_map(|(_, v)| v.iter().copied())) else {
            charts.push(None);
            continue;
        };
        let (mut paths, mut points) = (Vec::new(), Vec::new());
        for (p, values) in &series {
            let i = profiles
                .iter()
                .position(|q| std::ptr::eq(q, *p))
                .unwrap_or(0);
            let m = markers.of_point[i];
            let xy: Vec<Option<(f64, f64)>> = p
                .depth
                .iter()
                .zip(values.iter())
                .map(|(&x, &y)| Some((x, y)))
                .collect();
            if few {
                points.extend(
                    xy.iter()
                        .flatten()
                        .filter(|(x, y)| x.is_finite() && y.is_finite())
                        .map(|&(x, y)| ChartPoint {
                            x,
                            y,
                            marker: m,
                            label: None,
                            size: 0.45,
                        }),
                );
            }
            paths.push(Polyline {
                points: xy,
                colour: m.colour,
                width: if few { 1.5 } else { 1.0 },
                dashed: false,
            });
        }
        charts.push(Some(Chart {
            title: panel_title,
            x_label: DEPTH_LABEL.to_string(),
            y_label,
            x_range: padded((0.0, 1.0), 0.04),
            y_range: padded(y, PAD),
            points,
            paths,
            panel: true,
            ..Chart::default()
        }));
    }
    while charts.last().is_some_and(Option::is_none) {
        charts.pop();
    }
    if charts.iter().all(Option::is_none) {
        return None;
    }
    // Many models are drawn as lines only, so their legend shows lines.
    let swatch = |m: &super::markers::Marker| {
        if few {
            Swatch::Marker(*m)
        } else {
            Swatch::Line {
                colour: m.colour,
                dashed: false,
            }
        }
    };
    let legend = capped(
        markers
            .entries
            .iter()
            .map(|(n, m)| Entry {
                swatch: swatch(m),
                text: n.clone(),
            })
            .collect(),
        MAX_ENTRIES,
    );
    let columns = columns.min(charts.len());
    Some(Panels {
        title: title.to_string(),
        charts,
        columns,
        aspect: 1.0,
        legend,
    })
}

/// Draws the per-layer profiles; returns the files written, or [`FigureError::Empty`] when
/// no value is finite.
pub fn layer_profiles(
    profiles: &[LayerProfile],
    orders: &[usize],
    title: &str,
    out_stem: &Path,
    opts: &FigureOptions,
) -> Result<Vec<PathBuf>, FigureError> {
    let fig = profiles_figure(profiles, orders, title, opts.width_units()).ok_or_else(|| {
        FigureError::Empty {
            name: figure_name(out_stem),
        }
    })?;
    write_figure(&fig, out_stem, opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::testing::{check_figure, check_figure_with};

    fn profiles(n: usize, layers: usize, orders: &[usize]) -> Vec<LayerProfile> {
        (0..n)
            .map(|m| {
                let curve = |a: f64| {
                    (0..=layers)
                        .map(|l| a + 0.3 * (l as f64 / layers as f64) + 0.01 * m as f64)
                        .collect::<Vec<_>>()
                };
                LayerProfile {
                    label: format!("model-{m}"),
                    group: Some(format!("fam{}", m % 4)),
                    depth: (0..=layers).map(|l| l as f64 / layers as f64).collect(),
                    entropy: curve(0.5),
                    orders: orders
                        .iter()
                        .map(|&o| OrderProfile {
                            order: o,
                            complexity: curve(0.3),
                            expressivity: curve(0.1),
                            optimality: curve(0.4),
                        })
                        .collect(),
                }
            })
            .collect()
    }

    #[test]
    fn two_models_two_orders() {
        let fig = profiles_figure(
            &profiles(2, 6, &[1, 2]),
            &[1, 2],
            "Per-layer profiles",
            859.0,
        )
        .unwrap();
        assert_eq!(
            fig.charts.len(),
            7,
            "two rows of four, the last cell empty and dropped"
        );
        assert_eq!(fig.charts[3].as_ref().unwrap().title, "entropy H(Z)");
        assert!(fig.charts[7 - 1].is_some());
        assert_eq!(fig.columns, 4);
        check_figure(
            &fig,
            "profiles-two",
            &[
                "Per-layer profiles",
                "entropy H(Z)",
                "complexity I(X;Z), bigram",
                "optimality, unigram",
                DEPTH_LABEL,
                "model-0",
                "model-1",
            ],
        );
    }

    #[test]
    fn fifty_models_single_column() {
        let p = profiles(50, 24, &[1]);
        let fig = profiles_figure(&p, &[1], "t", 420.0).unwrap();
        assert_eq!(fig.columns, 2);
        assert_eq!(fig.legend.len(), 4, "four families");
        let opts = FigureOptions {
            width_in: 3.5,
            ..FigureOptions::default()
        };
        check_figure_with(&fig, "profiles-fifty", &["fam0", "fam3"], &opts);
    }

    #[test]
    fn missing_values_and_orders() {
        let mut p = profiles(3, 5, &[1]);
        p[0].entropy[3] = f64::NAN;
        p[1].orders.clear();
        let fig = profiles_figure(&p, &[1], "t", 859.0).unwrap();
        assert_eq!(fig.charts.len(), 4);
        check_figure(&fig, "profiles-gaps", &["model-2"]);
        let empty: Vec<LayerProfile> = vec![];
        assert!(profiles_figure(&empty, &[1], "t", 859.0).is_none());
    }
}
