//! Preference information I(Z; preference): how much a layer's hidden state
//! says about whether the completion it is reading was the preferred one.
//!
//! Estimator rows are the completion tokens of both sequences of every pair
//! (prompt + chosen, prompt + rejected), labelled 1 (preferred) or 0
//! (rejected). Prompt tokens are left out by default: a causal model's
//! states over the shared prompt are the same in both sequences, so they
//! carry no preference information and would only dilute it; with
//! `include_prompt` they are rows too, labelled as their sequence.
//!
//! The null (`preference_null`) swaps the two labels of each pair with
//! probability ½ (seeded): the same sequences and label structure with no
//! relation to which completion was preferred. It measures what the
//! estimator finds from the label being constant along a sequence, which a
//! token-level shuffle would not. The bootstrap resamples whole pairs.

use super::estimator::labels::{LabelColumn, LabelPlan};
use super::estimator::{Estimate, Estimator};
use super::extract::{extract_plan, FeatureError, ModelFeatures, Overlap, Pass};
use super::FeatureSettings;
use crate::corpus::preference::PreferenceTokens;
use crate::math::rng::{mix64, SplitMix64};
use crate::models::Model;

/// The label set's name in every estimate.
pub const SET: &str = "preference";
/// Salt of the null's seed (derived from the feature seed), "pref".
const SALT: u64 = 0x7072_6566;

/// Estimator rows and the preference label set (and its null) over the
/// sequences of [`PreferenceTokens`]: sequence 2i is pair i's chosen one.
pub fn preference_plan(
    tokens: &PreferenceTokens,
    include_prompt: bool,
    null_seed: Option<u64>,
) -> LabelPlan {
    let positions: Vec<_> = tokens
        .sequences
        .iter()
        .zip(&tokens.completion_start)
        .map(|(seq, &start)| if include_prompt { 0 } else { start }..seq.len())
        .collect();
    let labels = |flip: &dyn Fn(usize) -> bool| -> Vec<Option<u8>> {
        let mut out = Vec::new();
        for (s, r) in positions.iter().enumerate() {
            let chosen = (s % 2 == 0) != flip(s / 2);
            out.extend(r.clone().map(|_| Some(chosen as u8)));
        }
        out
    };
    let mut sets = vec![LabelColumn::from_keys(SET, labels(&|_| false))];
    if let Some(seed) = null_seed {
        let pairs = tokens.sequences.len() / 2;
        let mut rng = SplitMix64::new(seed ^ mix64(SALT));
        let flips: Vec<bool> = (0..pairs).map(|_| rng.next_u64() >> 63 == 1).collect();
        let mut null = LabelColumn::from_keys(SET, labels(&|p| flips[p]));
        null.null = true;
        sets.push(null);
    }
    LabelPlan { positions, sets }
}

/// Per-layer estimates of the preference label set for one model.
pub fn extract_preference(
    model: &Model,
    tokens: &PreferenceTokens,
    include_prompt: bool,
    settings: &FeatureSettings,
    est: &Estimator,
) -> Result<ModelFeatures, FeatureError> {
    let plan = preference_plan(
        tokens,
        include_prompt,
        settings.null_seed().map(|s| s ^ SALT),
    );
    if plan.rows() == 0 {
        return Err(FeatureError::NoPositions { needed: 1 });
    }
    let pass = Pass {
        model,
        docs: &tokens.sequences,
        ends: &[],
        plan: &plan,
        unit: pair_of,
        // a completion's last token has no next one
        lm_loss: false,
    };
    // probe sets are small beside the main corpus: the estimator runs inline
    extract_plan(&pass, settings, est, Overlap::Off, &mut |_| {})
}

/// Pair i's two sequences are resampled together (the bootstrap's unit).
fn pair_of(sequence: usize) -> usize {
    sequence / 2
}

/// The state one model's preference pass holds (the label plan, every
/// layer's accumulator and bootstrap sums), exactly, for `lossy plan`.
pub fn preference_state_size(
    tokens: &PreferenceTokens,
    include_prompt: bool,
    settings: &FeatureSettings,
    layers: usize,
) -> super::memory::StateSize {
    let plan = preference_plan(
        tokens,
        include_prompt,
        settings.null_seed().map(|s| s ^ SALT),
    );
    super::memory::plan_state_size(&plan, settings, layers, pair_of)
}

/// Names of the preference value columns: `preference` and, with nulls,
/// `preference_null`.
pub fn value_columns(settings: &FeatureSettings) -> Vec<String> {
    let mut cols = vec![SET.to_string()];
    if settings.null {
        cols.push(format!("{SET}_null"));
    }
    cols
}

/// One layer's preference values, in [`value_columns`] order.
pub fn layer_values(e: &Estimate, settings: &FeatureSettings) -> Vec<f64> {
    let find = |name: &str| {
        e.sets
            .iter()
            .find(|s| s.name == name)
            .map_or(f64::NAN, |s| s.mutual_information)
    };
    let mut v = vec![find(SET)];
    if settings.null {
        v.push(find(&format!("{SET}~null")));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> PreferenceTokens {
        PreferenceTokens {
            sequences: vec![
                vec![1, 2, 3, 4],
                vec![1, 2, 5],
                vec![7, 8, 9],
                vec![7, 8, 9, 9, 9],
            ],
            completion_start: vec![2, 2, 1, 1],
            dropped: 0,
        }
    }

    #[test]
    fn completion_tokens_are_labelled_by_their_sequence() {
        let plan = preference_plan(&tokens(), false, None);
        assert_eq!(plan.positions, vec![2..4, 2..3, 1..3, 1..5]);
        let set = &plan.sets[0];
        // chosen rows get the first id seen (0), rejected rows the other
        assert_eq!(set.ids, vec![0, 0, 1, 0, 0, 1, 1, 1, 1]);
        assert_eq!(set.counts, vec![4, 5]);
        let with_prompt = preference_plan(&tokens(), true, None);
        assert_eq!(with_prompt.positions[0], 0..4);
        assert_eq!(with_prompt.rows(), 4 + 3 + 3 + 5);
    }

    #[test]
    fn the_null_swaps_whole_pairs() {
        let plan = preference_plan(&tokens(), false, Some(3));
        let null = &plan.sets[1];
        assert!(null.null);
        assert_eq!(null.display_name(), "preference~null");
        // within each sequence the label stays constant, and the two
        // sequences of a pair still carry different labels
        let rows: Vec<usize> = plan.positions.iter().map(|r| r.len()).collect();
        let mut at = 0;
        let mut seq_label = Vec::new();
        for n in rows {
            let ids = &null.ids[at..at + n];
            assert!(ids.iter().all(|&i| i == ids[0]));
            seq_label.push(ids[0]);
            at += n;
        }
        assert_ne!(seq_label[0], seq_label[1]);
        assert_ne!(seq_label[2], seq_label[3]);
        // some seed swaps some pair
        let swapped = (0..64).any(|seed| {
            let p = preference_plan(&tokens(), false, Some(seed));
            p.sets[1].ids != p.sets[0].ids
        });
        assert!(swapped);
    }

    /// `lossy plan`'s preference state is what the pass allocates: the
    /// accumulator and, with the bootstrap, the block sums over pairs.
    #[test]
    fn preference_state_size_equals_the_allocated_state() {
        use crate::features::estimator::blocks::BlockAccumulator;
        use crate::features::estimator::{Accumulator, WSource};
        use crate::features::extract::block_layout;
        let tokens = tokens();
        for (include_prompt, bootstrap, null) in [(false, 0, false), (true, 5, true)] {
            let settings = FeatureSettings {
                bootstrap,
                bootstrap_blocks: Some(2),
                null,
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
            let size = preference_state_size(&tokens, include_prompt, &settings, 2);
            let plan = preference_plan(
                &tokens,
                include_prompt,
                settings.null_seed().map(|s| s ^ SALT),
            );
            assert_eq!(plan.sets.len(), 1 + null as usize);
            let acc = Accumulator::new(&est, &plan.specs());
            assert_eq!(size.layer_bytes, acc.state_bytes() as u64);
            assert_eq!(size.layers, 3);
            if bootstrap > 0 {
                let layout = block_layout(&plan, 2, pair_of);
                let blocks = BlockAccumulator::new(&layout, m);
                assert_eq!(size.layer_interval_bytes, blocks.state_bytes() as u64);
                assert!(size.layer_interval_bytes > 0);
            } else {
                assert_eq!(size.layer_interval_bytes, 0);
            }
        }
    }
}
