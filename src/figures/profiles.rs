//! Per-layer profiles: H(Z), complexity, expressivity and optimality against relative depth
//! (layer / L), one line per model, as small multiples: H(Z) once, then one row of panels
//! per n-gram order (entropies and informations normalised by ln m, as everywhere), and
//! one panel of preference information I(Z; preference) per preference probe set the
//! study has (none without one). Few models get a colour (and markers) each; many are
//! coloured by family.

use std::path::{Path, PathBuf};

use super::axes::{extent, padded, PAD};
use super::chart::{Chart, ChartPoint};
use super::error::FigureError;
use super::legend::{capped, Entry, Swatch, MAX_ENTRIES};
use super::markers::{by_model_or_group, Groups, Marker, MAX_COLOURED_MODELS};
use super::output::build_and_write;
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
    /// Preference information per layer, one entry per preference probe set (empty
    /// without one).
    pub preference: Vec<PreferenceProfile>,
}

/// One preference probe set's per-layer values.
#[derive(Debug, Clone, PartialEq)]
pub struct PreferenceProfile {
    /// The set's column: `preference`, or `preference_<name>` for a named set.
    pub column: String,
    pub values: Vec<f64>,
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
enum Quantity<'a> {
    Entropy,
    Complexity(usize),
    Expressivity(usize),
    Optimality(usize),
    /// A preference probe set, by its column.
    Preference(&'a str),
}

impl Quantity<'_> {
    fn pick(self, p: &LayerProfile) -> Option<&Vec<f64>> {
        let find = |n: usize| p.orders.iter().find(|o| o.order == n);
        match self {
            Quantity::Entropy => Some(&p.entropy),
            Quantity::Complexity(n) => find(n).map(|o| &o.complexity),
            Quantity::Expressivity(n) => find(n).map(|o| &o.expressivity),
            Quantity::Optimality(n) => find(n).map(|o| &o.optimality),
            Quantity::Preference(c) => p
                .preference
                .iter()
                .find(|s| s.column == c)
                .map(|s| &s.values),
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
            Quantity::Preference(c) => match c.strip_prefix("preference_") {
                Some(set) => (format!("preference I(Z;P), {set}"), String::new()),
                None => ("preference I(Z;P)".into(), String::new()),
            },
        }
    }
}

/// The preference sets' columns over all profiles, in order of first appearance.
fn preference_columns(profiles: &[LayerProfile]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for s in profiles.iter().flat_map(|p| &p.preference) {
        if !out.contains(&s.column.as_str()) {
            out.push(&s.column);
        }
    }
    out
}

/// The grid's cells: with four columns, one row per order (complexity, expressivity,
/// optimality) and, in the last column, H(Z) in the first row and each preference set
/// below it (in rows of their own past the orders), so each of the first three columns
/// holds one quantity and the last those of no order; with fewer columns, H(Z) first,
/// the orders in order, then the preference sets.
fn panels_spec<'a>(
    orders: &[usize],
    sets: &[&'a str],
    columns: usize,
) -> Vec<Option<Quantity<'a>>> {
    let per_order = |n| {
        [
            Quantity::Complexity(n),
            Quantity::Expressivity(n),
            Quantity::Optimality(n),
        ]
        .map(Some)
    };
    let unordered: Vec<Quantity> = std::iter::once(Quantity::Entropy)
        .chain(sets.iter().map(|c| Quantity::Preference(c)))
        .collect();
    if columns == 4 && !orders.is_empty() {
        let mut out = Vec::new();
        for row in 0..orders.len().max(unordered.len()) {
            match orders.get(row) {
                Some(&n) => out.extend(per_order(n)),
                None => out.extend([None; 3]),
            }
            out.push(unordered.get(row).copied());
        }
        out
    } else if columns == 4 {
        unordered.into_iter().map(Some).collect()
    } else {
        let mut out = vec![Some(Quantity::Entropy)];
        for &n in orders {
            out.extend(per_order(n));
        }
        out.extend(unordered[1..].iter().copied().map(Some));
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
    let sets = preference_columns(profiles);
    let mut charts: Vec<Option<Chart>> = panels_spec(orders, &sets, columns)
        .into_iter()
        .map(|q| q.and_then(|q| quantity_chart(q, profiles, &markers, few)))
        .collect();
    while charts.last().is_some_and(Option::is_none) {
        charts.pop();
    }
    if charts.iter().all(Option::is_none) {
        return None;
    }
    let columns = columns.min(charts.len());
    Some(Panels {
        title: title.to_string(),
        charts,
        columns,
        aspect: 1.0,
        legend: legend(&markers, few),
    })
}

/// One panel: every profile's values of `q` against depth, or `None` when none is finite.
/// With `few` models each gets markers on its line.
fn quantity_chart(
    q: Quantity,
    profiles: &[LayerProfile],
    markers: &Groups,
    few: bool,
) -> Option<Chart> {
    let (panel_title, y_label) = q.text();
    let series: Vec<(usize, &Vec<f64>)> = profiles
        .iter()
        .enumerate()
        .filter_map(|(i, p)| q.pick(p).map(|v| (i, v)))
        .collect();
    let y = extent(series.iter().flat_map(|(_, v)| v.iter().copied()))?;
    let (mut paths, mut points) = (Vec::new(), Vec::new());
    for (i, values) in series {
        let m = markers.of_point[i];
        let xy: Vec<Option<(f64, f64)>> = profiles[i]
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
    Some(Chart {
        title: panel_title,
        x_label: DEPTH_LABEL.to_string(),
        y_label,
        x_range: padded((0.0, 1.0), 0.04),
        y_range: padded(y, PAD),
        points,
        paths,
        panel: true,
        ..Chart::default()
    })
}

/// The models' (or families') legend; many models are drawn as lines only, so their
/// legend shows lines.
fn legend(markers: &Groups, few: bool) -> Vec<Entry> {
    let swatch = |m: &Marker| {
        if few {
            Swatch::Marker(*m)
        } else {
            Swatch::Line {
                colour: m.colour,
                dashed: false,
            }
        }
    };
    capped(
        markers
            .entries
            .iter()
            .map(|(n, m)| Entry {
                swatch: swatch(m),
                text: n.clone(),
            })
            .collect(),
        MAX_ENTRIES,
    )
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
    build_and_write(out_stem, opts, |width| {
        profiles_figure(profiles, orders, title, width)
    })
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
                    preference: vec![],
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

    /// Without a preference set the grid is the one it always was; each set adds a
    /// panel in the last column (four columns) or at the end (two).
    #[test]
    fn preference_panels_only_with_a_preference_set() {
        use Quantity::*;
        let spec = |sets: &[&'static str], columns| panels_spec(&[1, 2], sets, columns);
        assert_eq!(
            spec(&[], 4),
            [
                Some(Complexity(1)),
                Some(Expressivity(1)),
                Some(Optimality(1)),
                Some(Entropy),
                Some(Complexity(2)),
                Some(Expressivity(2)),
                Some(Optimality(2)),
                None
            ]
        );
        assert_eq!(spec(&[], 2)[0], Some(Entropy));
        assert_eq!(spec(&[], 2).len(), 7);
        assert_eq!(panels_spec(&[], &[], 4), [Some(Entropy)]);
        let two = spec(&["preference", "preference_tulu"], 4);
        assert_eq!(two.len(), 12);
        assert_eq!(two[7], Some(Preference("preference")));
        assert_eq!(two[8..11], [None, None, None]);
        assert_eq!(two[11], Some(Preference("preference_tulu")));
        assert_eq!(
            spec(&["preference"], 2).last(),
            Some(&Some(Preference("preference")))
        );
    }

    #[test]
    fn preference_panels_keep_the_layout_rules() {
        let mut p = profiles(3, 6, &[1, 2]);
        for (m, profile) in p.iter_mut().enumerate() {
            for (column, scale) in [("preference", 3e-4), ("preference_tulu", 2e-6)] {
                profile.preference.push(PreferenceProfile {
                    column: column.to_string(),
                    values: (0..=6)
                        .map(|l| scale * (1.0 + l as f64 + m as f64) / 10.0)
                        .collect(),
                });
            }
        }
        let fig = profiles_figure(&p, &[1, 2], "t", 859.0).unwrap();
        assert_eq!(fig.charts.len(), 12);
        assert_eq!(fig.charts[7].as_ref().unwrap().title, "preference I(Z;P)");
        check_figure(
            &fig,
            "profiles-preference",
            &["preference I(Z;P)", "preference I(Z;P), tulu"],
        );
        let single = profiles_figure(&p, &[1, 2], "t", 420.0).unwrap();
        let opts = FigureOptions {
            width_in: 3.5,
            ..FigureOptions::default()
        };
        check_figure_with(&single, "profiles-preference-single", &["model-2"], &opts);
        use crate::figures::layout_check::{layout_of, violations};
        use crate::figures::FigureStyle;
        for style in [FigureStyle::Paper, FigureStyle::Slides] {
            for (fig, o) in [(&fig, FigureOptions::default()), (&single, opts.clone())] {
                let o = FigureOptions { style, ..o };
                let broken = violations(&layout_of(fig, "profiles-preference", &o));
                assert!(broken.is_empty(), "{style:?}: {broken:?}");
            }
        }
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
