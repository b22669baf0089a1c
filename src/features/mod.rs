//! Stage 3, features: per-layer compression features of each model's hidden
//! states over the corpus, computed by streaming every layer through the
//! soft-entropy [`estimator`] as the forward pass produces it.
//!
//! Per layer and n-gram order n (column suffix `_n` for n > 1):
//! - `entropy`: H(Z) over the layer's estimator rows;
//! - `complexity` = I(X_n; Z), X_n the input n-gram ending at the position;
//! - `expressivity` = I(Y_n; Z), Y_n the output n-gram starting after it;
//! - `optimality` = expressivity / complexity (1 on the IB bound);
//! - `complexity_null`, `expressivity_null`: the same MI with labels shuffled
//!   across positions, i.e. the estimator's bias at this token budget.
//!
//! With `bootstrap: B`, every model-level value also gets a 95% interval
//! (`_lo`, `_hi`): the 2.5–97.5% range of B Poisson-bootstrap replicates
//! that reweight whole blocks of documents (`bootstrap_blocks`, see
//! [`estimator::blocks`]), re-centred on the estimate (resampling
//! duplicates rows, which shifts MI upward). It shows how much the value
//! moves with the choice of documents at this token budget, not its bias.
//!
//! Beside them, per model, the baselines a sceptic tries first: the model's
//! own LM loss over the same positions ([`lm_loss`]: `loss`,
//! `bits_per_byte`), `params_total`, and training progress from the study.
//!
//! A model's features are the unweighted means over transformer layers 1..L
//! (the embedding layer 0 is excluded); its `optimality` is the ratio of the
//! mean expressivity to the mean complexity, and `optimality_layer_mean` the
//! other convention, the mean of the per-layer ratios (model level only).

pub mod budget;
pub mod cache;
/// The soft-entropy estimator (crate `lossy-estimator`).
pub use lossy_estimator as estimator;
mod extract;
pub mod groups;
pub mod lm_loss;
pub mod memory;
pub mod preference;
pub mod probe_table;
mod table;
pub use estimator::Estimate;

pub use extract::{
    extract, extract_layers, extract_observed, extract_passes, FeatureError, ModelFeatures,
    Overlap, PassProgress, PassTally, QUEUE_LAYERS,
};
pub use table::{layer_table, model_table, ModelRow};

use crate::models::{DeviceSpec, HiddenStates};
use estimator::labels::PositionPolicy;
use estimator::EstimatorParams;
use serde::Serialize;

/// Checked feature settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeatureSettings {
    /// n-gram orders (1..=4), sorted.
    pub orders: Vec<usize>,
    pub positions: PositionPolicy,
    pub estimator: EstimatorParams,
    /// Pool labels seen fewer times than this into one label.
    pub min_count: u64,
    /// Report a shuffled-label null beside each MI.
    pub null: bool,
    /// Documents per forward pass.
    pub batch_size: usize,
    pub hidden_states: HiddenStates,
    /// Where the models compute (`cpu` unless the study says otherwise). Not
    /// serialized for the CPU, so CPU studies keep their cache keys and
    /// manifests; a GPU's numbers differ in the last bits, so its features
    /// are cached apart.
    #[serde(skip_serializing_if = "DeviceSpec::is_cpu")]
    pub device: DeviceSpec,
    /// Bootstrap replicates over documents for model-level intervals (0 = off).
    pub bootstrap: usize,
    pub bootstrap_seed: u64,
    /// Document blocks the bootstrap resamples (document i is in block
    /// i mod K); `None` = [`DEFAULT_BOOTSTRAP_BLOCKS`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap_blocks: Option<usize>,
    /// `features.memory`: the bytes a model's pass may use ([`budget`]);
    /// `None` = a share of the memory available when the run starts. It
    /// decides how many passes a model takes, never a number, so it is left
    /// out of the feature cache's key ([`Self::cache_json`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
}

/// Blocks the bootstrap resamples unless a study says otherwise.
pub const DEFAULT_BOOTSTRAP_BLOCKS: usize = 10;

impl Default for FeatureSettings {
    fn default() -> Self {
        Self {
            orders: vec![1],
            positions: PositionPolicy::PerOrder,
            estimator: EstimatorParams::default(),
            min_count: 1,
            null: true,
            batch_size: 8,
            hidden_states: HiddenStates::Hf,
            device: DeviceSpec::Cpu,
            bootstrap: 0,
            bootstrap_seed: 0,
            bootstrap_blocks: None,
            memory: None,
        }
    }
}

/// The model-table columns a sceptic tries before any feature: log10
/// non-embedding parameters, the model's own LM loss over the probed
/// positions (nats per token, and bits per byte), every parameter, and
/// training progress from the study (`step`, `tokens:` as `train_tokens`).
pub const BASELINE_COLUMNS: [&str; 7] = [
    "log_params",
    "loss",
    "bits_per_byte",
    "params_total",
    "step",
    "log_step",
    "train_tokens",
];

/// The baselines a fit compares with when `fit.baselines` is not given,
/// each used when every scored model has it and it varies.
pub const DEFAULT_BASELINES: [&str; 3] = ["log_params", "bits_per_byte", "log_step"];

/// Seed offset for the shuffled-label nulls (derived from the estimator seed).
const NULL_SEED_SALT: u64 = 0x6e75_6c6c; // "null"

impl FeatureSettings {
    /// Column suffix for order n.
    pub fn suffix(n: usize) -> String {
        if n == 1 {
            String::new()
        } else {
            format!("_{n}")
        }
    }

    /// Names of the per-layer (and per-model) value columns, in order.
    pub fn value_columns(&self) -> Vec<String> {
        let mut cols = vec!["entropy".to_string()];
        for &n in &self.orders {
            let s = Self::suffix(n);
            cols.extend([
                format!("complexity{s}"),
                format!("expressivity{s}"),
                format!("optimality{s}"),
            ]);
            if self.null {
                cols.extend([
                    format!("complexity_null{s}"),
                    format!("expressivity_null{s}"),
                ]);
            }
        }
        cols
    }

    /// Columns that exist per model only: `optimality_layer_mean{s}`, the
    /// mean over blocks of the per-layer ratios (the convention of a public
    /// port of the reference code), beside `optimality{s}`, the ratio of the
    /// layer means.
    pub fn model_only_columns(&self) -> Vec<String> {
        self.orders
            .iter()
            .map(|&n| format!("optimality_layer_mean{}", Self::suffix(n)))
            .collect()
    }

    /// The per-model value columns: the value columns, then
    /// [`Self::model_only_columns`].
    pub fn model_value_columns(&self) -> Vec<String> {
        let mut cols = self.value_columns();
        cols.extend(self.model_only_columns());
        cols
    }

    /// Model-level feature names a fit may use: the value columns and the
    /// baselines ([`BASELINE_COLUMNS`]).
    pub fn model_feature_names(&self) -> Vec<String> {
        let mut names = self.model_value_columns();
        names.extend(BASELINE_COLUMNS.iter().map(|s| s.to_string()));
        names
    }

    /// Bootstrap blocks K (at least 1).
    pub fn blocks(&self) -> usize {
        self.bootstrap_blocks
            .unwrap_or(DEFAULT_BOOTSTRAP_BLOCKS)
            .max(1)
    }

    /// The settings as the feature cache's key sees them: everything that
    /// can change a number, so not `memory` (layer groups are bit-identical
    /// to one pass).
    pub fn cache_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("settings serialise");
        if let Some(map) = v.as_object_mut() {
            map.remove("memory");
        }
        v
    }

    pub fn null_seed(&self) -> Option<u64> {
        self.null.then_some(self.estimator.seed ^ NULL_SEED_SALT)
    }
}
