//! Layer groups: the estimates of some contiguous layers of one model, from
//! one pass over the corpus, and their exact merge into the model's
//! [`ModelFeatures`].
//!
//! A layer's estimate depends only on that layer's hidden states, the label
//! plan and the batches' order, all the same in every pass, so the merged
//! result is bit-identical to a single pass over all layers. The groups
//! are what a memory budget splits a model into, and each is a unit of work
//! of its own: the feature cache stores one entry per group, so groups
//! computed in different processes or on different machines merge the same
//! way. (This module is a leaf: the extractor that computes a group, the
//! budget that sizes one and the cache that stores one all import it.)

use super::estimator::Estimate;
use super::lm_loss::LmLoss;
use super::ModelFeatures;
use std::ops::Range;

/// The estimates of layers `layers` of one model.
#[derive(Clone, Debug)]
pub struct LayerGroup {
    /// Hidden-state indices (0 = embeddings), contiguous.
    pub layers: Range<usize>,
    /// One estimate per layer of `layers`.
    pub estimates: Vec<Estimate>,
    /// Bootstrap replicates: `replicates[b][i]` for layer `layers.start + i`.
    pub replicates: Vec<Vec<Estimate>>,
    /// The LM loss: scored by the group that holds the last layer only.
    pub loss: Option<LmLoss>,
    pub rows: usize,
    pub documents: usize,
    pub tokens: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("no layer group holds layer {layer} (of {total})")]
    Missing { layer: usize, total: usize },
    #[error("layer group {}..{} overlaps the groups before it", .group.start, .group.end)]
    Overlap { group: Range<usize> },
    #[error("layer group {}..{} was computed over other positions or replicates than the first group", .group.start, .group.end)]
    Mismatch { group: Range<usize> },
}

/// One model's features from groups covering layers `0..total` exactly
/// once (in any order).
pub fn merge(mut groups: Vec<LayerGroup>, total: usize) -> Result<ModelFeatures, MergeError> {
    groups.sort_by_key(|g| g.layers.start);
    let mut next = 0;
    for g in &groups {
        if g.layers.start > next {
            return Err(MergeError::Missing { layer: next, total });
        }
        if g.layers.start < next || g.estimates.len() != g.layers.len() {
            return Err(MergeError::Overlap {
                group: g.layers.clone(),
            });
        }
        next = g.layers.end;
    }
    if next != total || groups.is_empty() {
        return Err(MergeError::Missing { layer: next, total });
    }
    let first = &groups[0];
    let (rows, documents, tokens, reps) = (
        first.rows,
        first.documents,
        first.tokens,
        first.replicates.len(),
    );
    if let Some(g) = groups.iter().find(|g| {
        (g.rows, g.documents, g.tokens, g.replicates.len()) != (rows, documents, tokens, reps)
            || g.replicates.iter().any(|r| r.len() != g.layers.len())
    }) {
        return Err(MergeError::Mismatch {
            group: g.layers.clone(),
        });
    }
    let loss = groups.last().and_then(|g| g.loss).unwrap_or_default();
    let mut layers = Vec::with_capacity(total);
    let mut replicates = vec![Vec::with_capacity(total); reps];
    for g in groups {
        layers.extend(g.estimates);
        for (b, r) in g.replicates.into_iter().enumerate() {
            replicates[b].extend(r);
        }
    }
    Ok(ModelFeatures {
        layers,
        replicates,
        rows,
        documents,
        tokens,
        loss,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(layers: Range<usize>, reps: usize) -> LayerGroup {
        let est = |x: usize| Estimate {
            entropy: x as f64,
            rows: 3.0,
            sets: Vec::new(),
        };
        LayerGroup {
            estimates: layers.clone().map(est).collect(),
            replicates: (0..reps)
                .map(|b| layers.clone().map(|l| est(100 * (b + 1) + l)).collect())
                .collect(),
            loss: None,
            layers,
            rows: 3,
            documents: 2,
            tokens: 9,
        }
    }

    #[test]
    fn groups_merge_in_layer_order_whatever_order_they_come_in() {
        let mut last = group(4..6, 2);
        last.loss = Some(LmLoss {
            nll: 1.5,
            tokens: 3,
            bytes: 10,
        });
        let m = merge(vec![last, group(0..2, 2), group(2..4, 2)], 6).unwrap();
        let entropies: Vec<f64> = m.layers.iter().map(|e| e.entropy).collect();
        assert_eq!(entropies, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(m.replicates.len(), 2);
        assert_eq!(m.replicates[1][5].entropy, 205.0);
        assert_eq!(m.loss.nll, 1.5);
    }

    #[test]
    fn gaps_overlaps_and_mismatches_are_errors() {
        let gap = merge(vec![group(0..2, 0), group(3..6, 0)], 6);
        assert!(matches!(gap, Err(MergeError::Missing { layer: 2, .. })));
        let short = merge(vec![group(0..2, 0)], 6);
        assert!(matches!(short, Err(MergeError::Missing { layer: 2, .. })));
        let overlap = merge(vec![group(0..3, 0), group(2..6, 0)], 6);
        assert!(matches!(overlap, Err(MergeError::Overlap { .. })));
        let reps = merge(vec![group(0..3, 1), group(3..6, 2)], 6);
        assert!(matches!(reps, Err(MergeError::Mismatch { .. })));
        assert!(merge(Vec::new(), 1).is_err());
    }
}
