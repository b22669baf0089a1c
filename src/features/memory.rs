//! Exact sizes of the feature stage's state, from the tokenized corpus alone
//! (no model run): the label plan (one id per row per set, the label counts
//! and the hash tables that intern them), each layer's accumulator (one
//! m-vector per label seen at least twice, per set) and, with the bootstrap,
//! each layer's per-block sums (one m-vector per (label, block) pair).
//!
//! The numbers are those the allocations in [`super::estimator`] make, so
//! `lossy plan` can add them to the model's weights and activations; see
//! `reports/bench/memory.md` for predicted against measured peak RSS.

use super::estimator::labels::{ngram_plan, LabelPlan, NgramConfig};
use super::extract::block_layout;
use super::FeatureSettings;
use serde::Serialize;

/// The feature stage's state for one model (bytes).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StateSize {
    /// Distinct labels per set, by set name (`in1`, `out2~null`, …).
    pub distinct_labels: Vec<(String, usize)>,
    /// The label plan: ids, counts and interning tables (held once).
    pub labels_bytes: u64,
    /// One layer's accumulator.
    pub layer_bytes: u64,
    /// One layer's bootstrap block sums (0 when off), plus the block layout
    /// held once in `labels_bytes`.
    pub layer_interval_bytes: u64,
    /// Layers including the embedding layer.
    pub layers: usize,
}

impl StateSize {
    /// All layers' state plus the label plan.
    pub fn total(&self) -> u64 {
        self.labels_bytes + self.layers as u64 * (self.layer_bytes + self.layer_interval_bytes)
    }
}

/// The label configuration [`super::extract`] uses for these settings.
pub fn ngram_config(settings: &FeatureSettings) -> NgramConfig {
    NgramConfig {
        orders: settings.orders.clone(),
        policy: settings.positions,
        min_count: settings.min_count,
        null_seed: settings.null_seed(),
    }
}

/// State sizes for a model with `layers` transformer layers over `docs`.
pub fn state_size(docs: &[Vec<u32>], settings: &FeatureSettings, layers: usize) -> StateSize {
    let plan = ngram_plan(docs, &ngram_config(settings));
    plan_state_size(&plan, settings, layers, |doc| doc)
}

/// State sizes of any label plan (a probe set's too), whose bootstrap
/// resamples units `unit(sequence)`, as [`super::extract`] runs it.
pub fn plan_state_size(
    plan: &LabelPlan,
    settings: &FeatureSettings,
    layers: usize,
    unit: fn(usize) -> usize,
) -> StateSize {
    let m = settings.estimator.bins;
    let mut size = StateSize {
        distinct_labels: plan
            .sets
            .iter()
            .map(|s| (s.display_name(), s.n_ids()))
            .collect(),
        labels_bytes: label_plan_bytes(plan),
        layer_bytes: layer_bytes(plan, m),
        layer_interval_bytes: 0,
        layers: layers + 1,
    };
    if settings.bootstrap > 0 {
        let layout = block_layout(plan, settings.blocks(), unit);
        size.layer_interval_bytes = layout.state_bytes(m) as u64;
        size.labels_bytes += layout.layout_bytes() as u64;
    }
    size
}

/// One layer's [`super::estimator::Accumulator`]: per set, an m-vector and
/// a weight per label seen at least twice, a slot index per label, and the
/// missing-row sums; plus the layer's total.
pub fn layer_bytes(plan: &LabelPlan, m: usize) -> u64 {
    let f = 8u64;
    let m = m as u64;
    let sets: u64 = plan
        .sets
        .iter()
        .map(|s| {
            let slots = s.counts.iter().filter(|&&c| c >= 2).count() as u64;
            slots * (m + 1) * f + s.n_ids() as u64 * 4 + m * f
        })
        .sum();
    m * f + sets
}

/// The label plan: a u32 id per row and a u64 count per label for every
/// set (nulls are copies), plus the transient interning table of the set
/// being built (a u128 key and u32 id per label, at hashbrown's load factor).
pub fn label_plan_bytes(plan: &LabelPlan) -> u64 {
    let held: u64 = plan
        .sets
        .iter()
        .map(|s| s.ids.len() as u64 * 4 + s.n_ids() as u64 * 8)
        .sum();
    let largest = plan.sets.iter().map(|s| s.n_ids()).max().unwrap_or(0) as u64;
    // 32-byte buckets (u128 key + u32 id, padded), at most 7/8 full,
    // rounded up to a power of two.
    let table = (largest * 8 / 7 + 1).next_power_of_two() * 33;
    held + table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::estimator::blocks::BlockAccumulator;
    use crate::features::estimator::{Accumulator, Estimator, WSource};

    fn docs() -> Vec<Vec<u32>> {
        // Zipf-like tokens over 40 documents of varied length.
        (0..40u32)
            .map(|d| {
                (0..(20 + d * 3) as usize)
                    .map(|i| ((i as u32 * 7 + d * 13) % 97) % (1 + (i as u32 % 23)))
                    .collect()
            })
            .collect()
    }

    /// The sizes are those of the structures the run allocates, exactly.
    #[test]
    fn state_sizes_equal_the_allocated_state() {
        let docs = docs();
        for (orders, bootstrap) in [(vec![1], 0), (vec![1, 2], 5), (vec![1, 2, 3], 3)] {
            let settings = FeatureSettings {
                orders,
                bootstrap,
                bootstrap_blocks: Some(7),
                ..Default::default()
            };
            let m = settings.estimator.bins;
            let est = Estimator::from_parts(
                vec![1.0; m * 4],
                m,
                4,
                0.1,
                WSource::Generated {
                    algorithm: "test".into(),
                    seed: 0,
                },
            );
            let size = state_size(&docs, &settings, 3);
            let plan = ngram_plan(&docs, &ngram_config(&settings));
            let acc = Accumulator::new(&est, &plan.specs());
            assert_eq!(size.layer_bytes, acc.state_bytes() as u64);
            assert_eq!(size.layers, 4);
            if bootstrap > 0 {
                let layout = block_layout(&plan, 7, |doc| doc);
                let blocks = BlockAccumulator::new(&layout, m);
                assert_eq!(size.layer_interval_bytes, blocks.state_bytes() as u64);
                assert!(size.layer_interval_bytes > 0);
            } else {
                assert_eq!(size.layer_interval_bytes, 0);
            }
            let distinct: Vec<usize> = plan.sets.iter().map(|s| s.n_ids()).collect();
            assert_eq!(
                size.distinct_labels.iter().map(|d| d.1).collect::<Vec<_>>(),
                distinct
            );
        }
    }
}
