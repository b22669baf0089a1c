//! What the figures are drawn from ([`FigureData`]: the report tables, scores and fit) and
//! those tables seen as figure inputs: model points, per-layer paths and profiles,
//! checkpoint series, score panels, held-out predictions and the correlation grid. Every
//! value is read from a column of `features`, `layers`, the scores or the fit result.

use crate::corpus::probe::ProbeKind;
use crate::figures as fig;
use crate::fit::{stats, FitResult};
use crate::scores::Scores;
use crate::study::Study;
use crate::table::Table;

/// What the figures are drawn from.
pub struct FigureData<'a> {
    pub study: &'a Study,
    /// One row per model (`features.csv`).
    pub models: &'a Table,
    /// One row per model and layer (`layers.csv`).
    pub layers: &'a Table,
    pub scores: Option<&'a Scores>,
    pub fit: Option<&'a FitResult>,
}

pub(crate) struct View<'a> {
    d: &'a FigureData<'a>,
    names: Vec<String>,
    families: Vec<String>,
}

/// The axis label of a model-level feature column.
pub(crate) fn feature_label(feature: &str) -> String {
    let (base, order) = match feature.rsplit_once('_') {
        Some((b, n)) if n.parse::<usize>().is_ok() => (b, format!(", order {n}")),
        _ => (feature, String::new()),
    };
    let what = match base {
        "optimality" => "optimality I(Y;Z) / I(X;Z)",
        "complexity" => "complexity I(X;Z) (normalised)",
        "expressivity" => "expressivity I(Y;Z) (normalised)",
        "entropy" => "entropy H(Z) (normalised)",
        "log_params" => "log10 non-embedding parameters",
        other => other,
    };
    format!("{what}{order}")
}

impl<'a> View<'a> {
    pub(crate) fn new(d: &'a FigureData<'a>) -> Self {
        let names = d.models.strs("model").unwrap_or_default().to_vec();
        let families = d
            .models
            .strs("family")
            .map(<[String]>::to_vec)
            .unwrap_or_else(|| vec![String::new(); names.len()]);
        Self { d, names, families }
    }

    fn group(&self, model: &str) -> Option<String> {
        let i = self.names.iter().position(|n| n == model)?;
        self.families.get(i).filter(|f| !f.is_empty()).cloned()
    }

    fn model_column(&self, name: &str) -> Vec<f64> {
        self.d
            .models
            .f64s(name)
            .unwrap_or_else(|| vec![f64::NAN; self.names.len()])
    }

    pub(crate) fn plane_points(&self) -> Vec<fig::PlanePoint> {
        let (c, e) = (
            self.model_column("complexity"),
            self.model_column("expressivity"),
        );
        self.names
            .iter()
            .enumerate()
            .map(|(i, n)| fig::PlanePoint {
                label: n.clone(),
                group: self.group(n),
                complexity: c[i],
                expressivity: e[i],
            })
            .collect()
    }

    /// Row indices of each model in the layers table, in model order.
    fn layer_rows(&self) -> Vec<(String, Vec<usize>)> {
        let models = self.d.layers.strs("model").unwrap_or_default();
        let mut out: Vec<(String, Vec<usize>)> = Vec::new();
        for (r, m) in models.iter().enumerate() {
            match out.iter_mut().find(|(n, _)| n == m) {
                Some((_, rows)) => rows.push(r),
                None => out.push((m.clone(), vec![r])),
            }
        }
        out
    }

    fn layer_column(&self, name: &str) -> Vec<f64> {
        self.d
            .layers
            .f64s(name)
            .unwrap_or_else(|| vec![f64::NAN; self.d.layers.rows()])
    }

    pub(crate) fn layer_paths(&self) -> Vec<fig::LayerPath> {
        let (c, e) = (
            self.layer_column("complexity"),
            self.layer_column("expressivity"),
        );
        self.layer_rows()
            .into_iter()
            .map(|(m, rows)| fig::LayerPath {
                group: self.group(&m),
                points: rows.iter().map(|&r| (c[r], e[r])).collect(),
                label: m,
            })
            .collect()
    }

    pub(crate) fn profiles(&self) -> Vec<fig::LayerProfile> {
        let depth = self.layer_column("depth");
        let entropy = self.layer_column("entropy");
        let orders: Vec<(usize, [Vec<f64>; 3])> = self
            .d
            .study
            .features
            .orders
            .iter()
            .map(|&n| {
                let s = crate::features::FeatureSettings::suffix(n);
                (
                    n,
                    ["complexity", "expressivity", "optimality"]
                        .map(|q| self.layer_column(&format!("{q}{s}"))),
                )
            })
            .collect();
        let preference: Vec<(String, Vec<f64>)> = self
            .preference_sets()
            .into_iter()
            .map(|c| {
                let v = self.layer_column(&c);
                (c, v)
            })
            .collect();
        self.layer_rows()
            .into_iter()
            .map(|(m, rows)| {
                let pick = |v: &Vec<f64>| rows.iter().map(|&r| v[r]).collect::<Vec<f64>>();
                fig::LayerProfile {
                    group: self.group(&m),
                    depth: pick(&depth),
                    entropy: pick(&entropy),
                    orders: orders
                        .iter()
                        .map(|(n, [c, e, o])| fig::OrderProfile {
                            order: *n,
                            complexity: pick(c),
                            expressivity: pick(e),
                            optimality: pick(o),
                        })
                        .collect(),
                    preference: preference
                        .iter()
                        .map(|(c, v)| fig::PreferenceProfile {
                            column: c.clone(),
                            values: pick(v),
                        })
                        .collect(),
                    label: m,
                }
            })
            .collect()
    }

    /// The column of each preference probe set of the study (`preference`,
    /// `preference_<name>`), in the study's order; empty without one.
    fn preference_sets(&self) -> Vec<String> {
        self.d
            .study
            .probes
            .iter()
            .filter(|p| p.kind() == ProbeKind::Preference)
            .map(|p| format!("{}{}", crate::features::preference::SET, p.suffix()))
            .collect()
    }

    /// The heatmap's rows: the corpus's value columns, then each preference probe set's
    /// (`preference`, `preference_null`, with its suffix).
    fn grid_features(&self) -> Vec<String> {
        let settings = &self.d.study.features;
        let mut out = settings.value_columns();
        for p in &self.d.study.probes {
            if p.kind() == ProbeKind::Preference {
                out.extend(crate::features::probe_table::columns(p, settings));
            }
        }
        out
    }

    /// Checkpoint series: families with at least two models that declare a `step` (or, when
    /// the figure was asked for by name, any family with at least two models).
    pub(crate) fn trajectory_points(&self, explicit: bool) -> Vec<fig::TrajectoryPoint> {
        let (c, e) = (
            self.model_column("complexity"),
            self.model_column("expressivity"),
        );
        let steps: Vec<Option<f64>> = self
            .names
            .iter()
            .map(|n| {
                self.d
                    .study
                    .models
                    .iter()
                    .find(|m| &m.name == n)
                    .and_then(|m| m.step)
            })
            .collect();
        let count = |fam: &str, need_step: bool| {
            (0..self.names.len())
                .filter(|&j| self.families[j] == fam && (!need_step || steps[j].is_some()))
                .count()
        };
        (0..self.names.len())
            .filter(|&i| {
                let fam = &self.families[i];
                !fam.is_empty()
                    && (if explicit {
                        count(fam, false) >= 2
                    } else {
                        steps[i].is_some() && count(fam, true) >= 2
                    })
            })
            .map(|i| fig::TrajectoryPoint {
                label: self.names[i].clone(),
                series: self.families[i].clone(),
                step: steps[i],
                complexity: c[i],
                expressivity: e[i],
            })
            .collect()
    }

    /// Score columns with at least three finite, not all equal values over the models.
    pub(crate) fn benchmarks(&self) -> Vec<(String, Vec<f64>)> {
        let Some(scores) = self.d.scores else {
            return vec![];
        };
        let mut out: Vec<(String, Vec<f64>)> = Vec::new();
        let target = self.d.fit.map(|f| f.settings.target.clone());
        for b in scores.names() {
            let Some(y) = scores.column_for(&b, &self.names) else {
                continue;
            };
            let finite: Vec<f64> = y.iter().copied().filter(|v| v.is_finite()).collect();
            let varies = finite.iter().any(|v| *v != finite[0]);
            if finite.len() >= 3 && varies {
                out.push((b, y));
            }
        }
        // The fit's target first.
        out.sort_by_key(|(b, _)| Some(b) != target.as_ref());
        out
    }

    /// Features the score figures put on x: the fit's (without log_params), else optimality.
    pub(crate) fn score_features(&self) -> Vec<String> {
        let chosen: Vec<String> = match self.d.fit {
            Some(f) => f
                .settings
                .features
                .iter()
                .filter(|f| *f != "log_params")
                .cloned()
                .collect(),
            None => vec![],
        };
        if chosen.is_empty() {
            vec!["optimality".to_string()]
        } else {
            chosen
        }
    }

    pub(crate) fn score_panels(&self, feature: &str) -> Vec<fig::ScorePanel> {
        let x = self.model_column(feature);
        self.benchmarks()
            .into_iter()
            .map(|(b, y)| {
                let from_fit = self
                    .d
                    .fit
                    .filter(|f| f.settings.target == b)
                    .and_then(|f| f.correlations.iter().find(|c| c.feature == feature));
                let note = match from_fit {
                    Some(c) => Some(fig::RhoNote {
                        rho: c.spearman,
                        p_value: c.p_value,
                    }),
                    None => self.spearman_note(&x, &y),
                };
                let points = self
                    .names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| fig::XyPoint {
                        label: n.clone(),
                        group: self.group(n),
                        x: x[i],
                        y: y[i],
                    })
                    .collect();
                fig::ScorePanel {
                    score: b,
                    points,
                    note,
                }
            })
            .collect()
    }

    /// Spearman's rho of the finite pairs with a permutation p-value (the fit's permutation
    /// count and seed; 999 and 0 without a fit), as the fit stage computes it for its target.
    fn spearman_note(&self, x: &[f64], y: &[f64]) -> Option<fig::RhoNote> {
        let (xs, ys): (Vec<f64>, Vec<f64>) = x
            .iter()
            .zip(y)
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .map(|(a, b)| (*a, *b))
            .unzip();
        if xs.len() < 3 {
            return None;
        }
        let (permutations, seed) = self
            .d
            .fit
            .map_or((999, 0), |f| (f.settings.permutations, f.settings.seed));
        let t = stats::spearman_test(&xs, &ys, permutations, seed);
        Some(fig::RhoNote {
            rho: t.statistic,
            p_value: t.p_value,
        })
    }

    pub(crate) fn predictions(&self, f: &FitResult) -> Vec<fig::Prediction> {
        f.models
            .iter()
            .zip(f.actual.iter().zip(&f.predicted))
            .map(|(m, (&actual, &predicted))| fig::Prediction {
                label: m.clone(),
                group: self.group(m),
                actual,
                predicted,
            })
            .collect()
    }

    /// Features (rows) × Spearman and partial Spearman with each benchmark (columns). The
    /// fit target's values are the fit stage's; other benchmarks get the same tests with the
    /// fit's permutation count and seed (999 and 0 without a fit).
    pub(crate) fn correlation_grid(&self) -> Option<fig::CorrelationGrid> {
        let benchmarks = self.benchmarks();
        if benchmarks.is_empty() {
            return None;
        }
        let features: Vec<String> = self.grid_features();
        let log_params = self.model_column("log_params");
        let (permutations, seed) = self
            .d
            .fit
            .map_or((999, 0), |f| (f.settings.permutations, f.settings.seed));
        let mut grid = fig::CorrelationGrid {
            rows: features.clone(),
            columns: Vec::new(),
            values: vec![Vec::new(); features.len()],
            p_values: vec![Vec::new(); features.len()],
            p_adjusted: Vec::new(),
            groups: Vec::new(),
            stats: Vec::new(),
        };
        for (b, y) in &benchmarks {
            grid.columns
                .extend([format!("ρ {b}"), format!("partial ρ {b}")]);
            grid.groups.extend([b.clone(), b.clone()]);
            grid.stats
                .extend(["ρ".to_string(), "partial ρ".to_string()]);
            let from_fit = self.d.fit.filter(|f| &f.settings.target == b);
            for (r, feature) in features.iter().enumerate() {
                let cell = match from_fit
                    .and_then(|f| f.correlations.iter().find(|c| &c.feature == feature))
                {
                    Some(c) => [
                        (c.spearman, c.p_value),
                        (c.partial_spearman, c.partial_p_value),
                    ],
                    None => {
                        let x = self.model_column(feature);
                        let keep: Vec<usize> = (0..x.len())
                            .filter(|&i| {
                                x[i].is_finite() && y[i].is_finite() && log_params[i].is_finite()
                            })
                            .collect();
                        let (xs, ys, lp): (Vec<f64>, Vec<f64>, Vec<f64>) =
                            keep.iter().fold((vec![], vec![], vec![]), |mut acc, &i| {
                                acc.0.push(x[i]);
                                acc.1.push(y[i]);
                                acc.2.push(log_params[i]);
                                acc
                            });
                        if xs.len() < 3 {
                            [(f64::NAN, f64::NAN); 2]
                        } else {
                            let s = stats::spearman_test(&xs, &ys, permutations, seed);
                            let p =
                                stats::partial_spearman_test(&xs, &ys, &[lp], permutations, seed);
                            [(s.statistic, s.p_value), (p.statistic, p.p_value)]
                        }
                    }
                };
                for (v, p) in cell {
                    grid.values[r].push(v);
                    grid.p_values[r].push(p);
                }
            }
        }
        // Stars: Benjamini–Hochberg over every p-value the figure shows.
        let flat: Vec<f64> = grid.p_values.iter().flatten().copied().collect();
        let adjusted = crate::fit::multitest::benjamini_hochberg(&flat);
        let width = grid.columns.len();
        grid.p_adjusted = adjusted.chunks(width.max(1)).map(<[f64]>::to_vec).collect();
        Some(grid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_labels_name_the_quantity_and_order() {
        assert_eq!(feature_label("optimality"), "optimality I(Y;Z) / I(X;Z)");
        assert_eq!(
            feature_label("complexity_2"),
            "complexity I(X;Z) (normalised), order 2"
        );
        assert_eq!(feature_label("complexity_null"), "complexity_null");
    }
}
