//! Feature tables: one row per (model, layer), and one per model (means over
//! transformer layers 1..L).

use super::estimator::bootstrap::quantile;
use super::estimator::labels::Direction;
use super::extract::{mi, ModelFeatures};
use super::FeatureSettings;
use crate::table::{Table, Values};

/// The value columns of one layer's estimate, in `settings.value_columns()` order.
pub(super) fn layer_values(e: &super::Estimate, settings: &FeatureSettings) -> Vec<f64> {
    let mut v = vec![e.entropy];
    for &n in &settings.orders {
        let (c, x) = (
            mi(e, n, Direction::Input, false),
            mi(e, n, Direction::Output, false),
        );
        v.extend([c, x, x / c]);
        if settings.null {
            v.extend([
                mi(e, n, Direction::Input, true),
                mi(e, n, Direction::Output, true),
            ]);
        }
    }
    v
}

/// One row per (model, layer): `model`, `layer` (0 = embeddings), `depth`
/// (layer / L), `rows`, then the value columns.
pub fn layer_table(models: &[(&str, &ModelFeatures)], settings: &FeatureSettings) -> Table {
    let names = settings.value_columns();
    let (mut model, mut layer, mut depth, mut rows) = (vec![], vec![], vec![], vec![]);
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for (name, f) in models {
        let last = f.layers.len() - 1;
        for (i, e) in f.layers.iter().enumerate() {
            model.push(name.to_string());
            layer.push(i as i64);
            depth.push(i as f64 / last.max(1) as f64);
            rows.push(f.rows as i64);
            for (col, x) in values.iter_mut().zip(layer_values(e, settings)) {
                col.push(x);
            }
        }
    }
    let mut t = Table::default();
    t.push("model", Values::Str(model))
        .push("layer", Values::Int(layer))
        .push("depth", Values::F64(depth))
        .push("rows", Values::Int(rows));
    for (name, col) in names.iter().zip(values) {
        t.push(name, Values::F64(col));
    }
    t
}

/// Means over transformer layers 1..L of each value column; optimality
/// columns are the ratio of the mean expressivity to the mean complexity.
pub fn model_means(layers: &[super::Estimate], settings: &FeatureSettings) -> Vec<f64> {
    let names = settings.value_columns();
    let blocks = &layers[1..];
    let mut means: Vec<f64> = (0..names.len())
        .map(|j| {
            blocks
                .iter()
                .map(|e| layer_values(e, settings)[j])
                .sum::<f64>()
                / blocks.len() as f64
        })
        .collect();
    for (j, name) in names.iter().enumerate() {
        if let Some(suffix) = name.strip_prefix("optimality") {
            let get = |col: String| names.iter().position(|n| *n == col).map(|k| means[k]);
            if let (Some(x), Some(c)) = (
                get(format!("expressivity{suffix}")),
                get(format!("complexity{suffix}")),
            ) {
                means[j] = x / c;
            }
        }
    }
    means
}

/// One row per model: `model`, `family`, `layers`, `d`, `params`
/// (non-embedding parameters), `log_params` (log10), `documents`, `tokens`,
/// `rows`, then the value columns (means over blocks).
pub fn model_table(models: &[ModelRow], settings: &FeatureSettings) -> Table {
    let names = settings.value_columns();
    let mut t = Table::default();
    t.push(
        "model",
        Values::Str(models.iter().map(|m| m.name.clone()).collect()),
    );
    t.push(
        "family",
        Values::Str(
            models
                .iter()
                .map(|m| m.family.clone().unwrap_or_default())
                .collect(),
        ),
    );
    t.push(
        "layers",
        Values::Int(
            models
                .iter()
                .map(|m| m.features.layers.len() as i64 - 1)
                .collect(),
        ),
    );
    t.push(
        "d",
        Values::Int(models.iter().map(|m| m.d as i64).collect()),
    );
    t.push(
        "params",
        Values::Int(models.iter().map(|m| m.params as i64).collect()),
    );
    t.push(
        "log_params",
        Values::F64(models.iter().map(|m| (m.params as f64).log10()).collect()),
    );
    t.push(
        "documents",
        Values::Int(models.iter().map(|m| m.features.documents as i64).collect()),
    );
    t.push(
        "tokens",
        Values::Int(models.iter().map(|m| m.features.tokens as i64).collect()),
    );
    t.push(
        "rows",
        Values::Int(models.iter().map(|m| m.features.rows as i64).collect()),
    );
    let means: Vec<Vec<f64>> = models
        .iter()
        .map(|m| model_means(&m.features.layers, settings))
        .collect();
    for (j, name) in names.iter().enumerate() {
        t.push(name, Values::F64(means.iter().map(|v| v[j]).collect()));
    }
    if settings.bootstrap > 0 {
        // replicate means: per model, per replicate, per column
        let reps: Vec<Vec<Vec<f64>>> = models
            .iter()
            .map(|m| {
                m.features
                    .replicates
                    .iter()
                    .map(|r| model_means(r, settings))
                    .collect()
            })
            .collect();
        for (j, name) in names.iter().enumerate() {
            // The 2.5–97.5% range of the replicates, re-centred on the
            // estimate: resampling documents with replacement duplicates rows,
            // which shifts MI upward, so raw percentiles would sit beside the
            // estimate. The interval shows sampling variability only; the
            // estimator's own bias is what the `_null` columns show.
            let (mut lo, mut hi) = (Vec::new(), Vec::new());
            for (r, m) in reps.iter().zip(&means) {
                let values: Vec<f64> = r.iter().map(|v| v[j]).filter(|x| x.is_finite()).collect();
                let centre = values.iter().sum::<f64>() / values.len().max(1) as f64;
                lo.push(m[j] + quantile(&values, 0.025) - centre);
                hi.push(m[j] + quantile(&values, 0.975) - centre);
            }
            t.push(&format!("{name}_lo"), Values::F64(lo));
            t.push(&format!("{name}_hi"), Values::F64(hi));
        }
    }
    t
}

/// What the model table needs about each model.
pub struct ModelRow {
    pub name: String,
    pub family: Option<String>,
    pub d: usize,
    /// Non-embedding parameters.
    pub params: usize,
    pub features: ModelFeatures,
}
