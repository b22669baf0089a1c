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
/// Then, in `settings.model_only_columns()` order, the mean over layers
/// 1..L of the per-layer optimality (`optimality_layer_mean`).
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
    let per_layer: Vec<Vec<f64>> = blocks.iter().map(|e| layer_values(e, settings)).collect();
    for &n in &settings.orders {
        let name = format!("optimality{}", FeatureSettings::suffix(n));
        let j = names
            .iter()
            .position(|c| *c == name)
            .expect("a value column");
        let sum: f64 = per_layer.iter().map(|v| v[j]).sum();
        means.push(sum / blocks.len() as f64);
    }
    means
}

/// One row per model: `model`, `family`, `layers`, `d`, `params`
/// (non-embedding parameters), `log_params` (log10), the baselines of
/// [`push_baselines`], `documents`, `tokens`, `rows`, then the value columns
/// (means over blocks) and the model-only columns.
pub fn model_table(models: &[ModelRow], settings: &FeatureSettings) -> Table {
    let names = settings.model_value_columns();
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
    push_baselines(&mut t, models);
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
        push_intervals(&mut t, models, settings, &names, &means);
    }
    t
}

/// `<column>_lo` and `_hi` for every value column: the bootstrap
/// replicates' 95% range.
fn push_intervals(
    t: &mut Table,
    models: &[ModelRow],
    settings: &FeatureSettings,
    names: &[String],
    means: &[Vec<f64>],
) {
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
        for (r, m) in reps.iter().zip(means) {
            let values: Vec<f64> = r.iter().map(|v| v[j]).filter(|x| x.is_finite()).collect();
            let centre = values.iter().sum::<f64>() / values.len().max(1) as f64;
            lo.push(m[j] + quantile(&values, 0.025) - centre);
            hi.push(m[j] + quantile(&values, 0.975) - centre);
        }
        t.push(&format!("{name}_lo"), Values::F64(lo));
        t.push(&format!("{name}_hi"), Values::F64(hi));
    }
}

/// The baseline columns a sceptic compares a feature with: `params_total`,
/// `loss` (mean NLL per scored token, nats), `bits_per_byte`, and, when a
/// model of the study gives them, `step`, `log_step` = log2(step + 1) (the
/// scale on which training progress predicts scores) and `train_tokens`
/// (NaN elsewhere).
fn push_baselines(t: &mut Table, models: &[ModelRow]) {
    t.push(
        "params_total",
        Values::Int(models.iter().map(|m| m.params_total as i64).collect()),
    );
    t.push(
        "loss",
        Values::F64(models.iter().map(|m| m.features.loss.per_token()).collect()),
    );
    t.push(
        "bits_per_byte",
        Values::F64(
            models
                .iter()
                .map(|m| m.features.loss.bits_per_byte())
                .collect(),
        ),
    );
    for (name, get) in [
        (
            "step",
            (|m: &ModelRow| m.step) as fn(&ModelRow) -> Option<f64>,
        ),
        ("train_tokens", |m: &ModelRow| m.train_tokens),
    ] {
        if models.iter().any(|m| get(m).is_some()) {
            let v: Vec<f64> = models.iter().map(|m| get(m).unwrap_or(f64::NAN)).collect();
            if name == "step" {
                t.push(name, Values::F64(v.clone()));
                let log = v.iter().map(|s| (s + 1.0).log2()).collect();
                t.push("log_step", Values::F64(log));
            } else {
                t.push(name, Values::F64(v));
            }
        }
    }
}

/// What the model table needs about each model.
pub struct ModelRow {
    pub name: String,
    pub family: Option<String>,
    pub d: usize,
    /// Non-embedding parameters.
    pub params: usize,
    /// Every parameter, embeddings included.
    pub params_total: usize,
    /// Position in a checkpoint series, and training tokens seen (study).
    pub step: Option<f64>,
    pub train_tokens: Option<f64>,
    pub features: ModelFeatures,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::estimator::accumulator::{Estimate, SetResult};

    fn set(name: &str, mi: f64) -> SetResult {
        SetResult {
            name: name.into(),
            entropy: 0.5,
            conditional_entropy: 0.5 - mi,
            mutual_information: mi,
            regularity: mi / 0.5,
            rows: 10.0,
            distinct: 3,
        }
    }

    fn layer(c: f64, x: f64) -> Estimate {
        Estimate {
            entropy: 0.5,
            rows: 10.0,
            sets: vec![set("in1", c), set("out1", x)],
        }
    }

    #[test]
    fn both_optimality_conventions() {
        let settings = FeatureSettings {
            null: false,
            ..FeatureSettings::default()
        };
        // embeddings (ignored), then two blocks: ratios 0.2/0.4 = 0.5 and 0.3/0.1 = 3
        let layers = [layer(9.0, 9.0), layer(0.4, 0.2), layer(0.1, 0.3)];
        let names = settings.model_value_columns();
        let v = model_means(&layers, &settings);
        assert_eq!(names.len(), v.len());
        let get = |n: &str| v[names.iter().position(|c| c == n).unwrap()];
        // ratio of means: 0.25 / 0.25; mean of ratios: (0.5 + 3) / 2
        assert!((get("optimality") - 1.0).abs() < 1e-12);
        assert!((get("optimality_layer_mean") - 1.75).abs() < 1e-12);
        assert!((get("complexity") - 0.25).abs() < 1e-12);
    }
}
