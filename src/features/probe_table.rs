//! Columns of the further probe sets of a study (a preference set, named
//! probe sets), appended to the layer and model tables that
//! [`super::layer_table`] and [`super::model_table`] build from the main
//! corpus. A probe set's columns are its value columns with its suffix
//! (`preference`, `optimality_tulu`, `preference_tulu`, …); model values are
//! means over transformer layers 1..L, optimality the ratio of the means,
//! and with `bootstrap: B` each gets a `_lo`/`_hi` interval as the main
//! columns do.

use super::estimator::bootstrap::quantile;
use super::estimator::Estimate;
use super::extract::ModelFeatures;
use super::table::model_means;
use super::FeatureSettings;
use crate::corpus::probe::{ProbeKind, ProbeSet};
use crate::table::{Table, Values};

/// A probe set's model-level columns (without bootstrap intervals).
pub fn columns(probe: &ProbeSet, settings: &FeatureSettings) -> Vec<String> {
    let s = probe.suffix();
    value_columns(probe.kind(), settings)
        .into_iter()
        .map(|c| format!("{c}{s}"))
        .collect()
}

/// Value columns of a kind of probe set, before its suffix.
pub fn value_columns(kind: ProbeKind, settings: &FeatureSettings) -> Vec<String> {
    match kind {
        ProbeKind::Text => settings.value_columns(),
        ProbeKind::Preference => super::preference::value_columns(settings),
    }
}

/// Per-kind value computations.
trait KindValues: Sized {
    fn layer_values(self, e: &Estimate, settings: &FeatureSettings) -> Vec<f64>;
    /// Model-level values: means over blocks (optimality: ratio of means).
    fn model_values(self, layers: &[Estimate], settings: &FeatureSettings) -> Vec<f64>;
}

impl KindValues for ProbeKind {
    fn layer_values(self, e: &Estimate, settings: &FeatureSettings) -> Vec<f64> {
        match self {
            ProbeKind::Text => super::table::layer_values(e, settings),
            ProbeKind::Preference => super::preference::layer_values(e, settings),
        }
    }

    fn model_values(self, layers: &[Estimate], settings: &FeatureSettings) -> Vec<f64> {
        match self {
            ProbeKind::Text => model_means(layers, settings),
            ProbeKind::Preference => {
                let blocks = &layers[1..];
                let per: Vec<Vec<f64>> = blocks
                    .iter()
                    .map(|e| self.layer_values(e, settings))
                    .collect();
                (0..value_columns(self, settings).len())
                    .map(|j| per.iter().map(|v| v[j]).sum::<f64>() / per.len() as f64)
                    .collect()
            }
        }
    }
}

/// Appends one probe set's per-layer columns to `table`, whose rows are the
/// same models' layers in the same order (as [`super::layer_table`] made them).
pub fn append_layer_columns(
    table: &mut Table,
    models: &[&ModelFeatures],
    kind: ProbeKind,
    suffix: &str,
    settings: &FeatureSettings,
) {
    let names = value_columns(kind, settings);
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for f in models {
        for e in &f.layers {
            for (c, v) in cols.iter_mut().zip(kind.layer_values(e, settings)) {
                c.push(v);
            }
        }
    }
    for (name, col) in names.iter().zip(cols) {
        table.push(&format!("{name}{suffix}"), Values::F64(col));
    }
}

/// Appends one probe set's model-level columns (and bootstrap intervals).
pub fn append_model_columns(
    table: &mut Table,
    models: &[&ModelFeatures],
    kind: ProbeKind,
    suffix: &str,
    settings: &FeatureSettings,
) {
    let names = value_columns(kind, settings);
    let means: Vec<Vec<f64>> = models
        .iter()
        .map(|f| kind.model_values(&f.layers, settings))
        .collect();
    for (j, name) in names.iter().enumerate() {
        let col = means.iter().map(|v| v[j]).collect();
        table.push(&format!("{name}{suffix}"), Values::F64(col));
    }
    if settings.bootstrap == 0 {
        return;
    }
    for (j, name) in names.iter().enumerate() {
        let (mut lo, mut hi) = (Vec::new(), Vec::new());
        for (f, m) in models.iter().zip(&means) {
            // Re-centred percentiles, as for the main columns (table.rs).
            let values: Vec<f64> = f
                .replicates
                .iter()
                .map(|r| kind.model_values(r, settings)[j])
                .filter(|x| x.is_finite())
                .collect();
            let centre = values.iter().sum::<f64>() / values.len().max(1) as f64;
            lo.push(m[j] + quantile(&values, 0.025) - centre);
            hi.push(m[j] + quantile(&values, 0.975) - centre);
        }
        table.push(&format!("{name}{suffix}_lo"), Values::F64(lo));
        table.push(&format!("{name}{suffix}_hi"), Values::F64(hi));
    }
}
