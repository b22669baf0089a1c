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
//! that reweight whole documents, re-centred on the estimate (resampling
//! duplicates rows, which shifts MI upward). It shows how much the value
//! moves with the choice of documents at this token budget, not its bias.
//!
//! A model's features are the unweighted means over transformer layers 1..L
//! (the embedding layer 0 is excluded); its `optimality` is the ratio of the
//! mean expressivity to the mean complexity.

pub mod cache;
pub mod estimator;
mod extract;
pub mod preference;
pub mod probe_table;
mod table;
pub use estimator::Estimate;

pub use extract::{extract, FeatureError, ModelFeatures};
pub use table::{layer_table, model_table, ModelRow};

use crate::models::HiddenStates;
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
    /// Bootstrap replicates over documents for model-level intervals (0 = off).
    pub bootstrap: usize,
    pub bootstrap_seed: u64,
}

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
            bootstrap: 0,
            bootstrap_seed: 0,
        }
    }
}

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

    /// Model-level feature names a fit may use: the value columns and the
    /// `log_params` baseline.
    pub fn model_feature_names(&self) -> Vec<String> {
        let mut names = self.value_columns();
        names.push("log_params".into());
        names
    }

    pub fn null_seed(&self) -> Option<u64> {
        self.null.then_some(self.estimator.seed ^ NULL_SEED_SALT)
    }
}
