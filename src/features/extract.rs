//! Runs one model over the tokenized corpus and reduces every layer to
//! soft-entropy estimates as it is produced: memory is one batch of hidden
//! states plus the accumulators, never all activations.

use super::estimator::bootstrap::poisson_weight;
use super::estimator::labels::{ngram_plan, Direction, LabelPlan, NgramConfig};
use super::estimator::projection::Projected;
use super::estimator::{accumulator::AccumulateError, Accumulator, Estimate, Estimator};
use super::FeatureSettings;
use crate::models::{LayerSink, Model, ModelError};
use candle_core::Tensor;
use std::ops::ControlFlow;

#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error("no estimator positions: every document is shorter than {needed} tokens under this model's tokenizer")]
    NoPositions { needed: usize },
    #[error("layer {layer}, document {document}, token {position}")]
    BadHiddenState {
        layer: usize,
        document: usize,
        position: usize,
        source: AccumulateError,
    },
    #[error("layer {layer}")]
    Accumulate {
        layer: usize,
        source: AccumulateError,
    },
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("reading hidden states")]
    Tensor(#[from] candle_core::Error),
}

/// One model's per-layer estimates (index 0 = embeddings).
#[derive(Clone, Debug)]
pub struct ModelFeatures {
    pub layers: Vec<Estimate>,
    /// Bootstrap replicates: `replicates[b][layer]` (empty when off).
    pub replicates: Vec<Vec<Estimate>>,
    /// Estimator rows (token positions) per layer.
    pub rows: usize,
    pub documents: usize,
    pub tokens: usize,
}

/// Feeds each layer's rows to that layer's accumulator.
struct Sink<'a, 'e> {
    plan: &'a LabelPlan,
    /// Documents of this batch (indices into the corpus) and their first row.
    docs: Vec<(usize, usize)>,
    accs: &'a mut [Accumulator<'e>],
    /// Bootstrap accumulators, `boot[layer][replicate]`.
    boot: &'a mut [Vec<Accumulator<'e>>],
    bootstrap_seed: u64,
    /// The bootstrap's resampling unit of each document (itself, or its pair).
    unit: fn(usize) -> usize,
    est: &'e Estimator,
    /// Projection buffers, reused for every layer and batch.
    projected: Projected,
    d: usize,
    error: Option<FeatureError>,
}

impl LayerSink for Sink<'_, '_> {
    fn layer(&mut self, index: usize, hidden: &Tensor) -> ControlFlow<()> {
        match self.reduce(index, hidden) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

impl Sink<'_, '_> {
    fn reduce(&mut self, layer: usize, hidden: &Tensor) -> Result<(), FeatureError> {
        let (_, t, d) = hidden.dims3()?;
        debug_assert_eq!(d, self.d);
        let values: Vec<f32> = hidden.flatten_all()?.to_vec1()?;
        let mut z = Vec::new();
        let mut row_of = Vec::new(); // (document, position) of each gathered row
        for (b, &(doc, _)) in self.docs.iter().enumerate() {
            for pos in self.plan.positions[doc].clone() {
                let start = (b * t + pos) * d;
                z.extend_from_slice(&values[start..start + d]);
                row_of.push((doc, pos));
            }
        }
        let first = self.docs[0].1;
        let ids = self.plan.id_slices(first..first + row_of.len());
        let acc = &self.accs[layer];
        let projected = &mut self.projected;
        let need = acc.row_entropy_mask(&ids, row_of.len());
        self.est
            .project_into(&z, |r| need.get(r) == Some(&true), projected)
            .map_err(|source| match source {
                AccumulateError::NonFinite { row } | AccumulateError::ZeroRow { row } => {
                    let (document, position) = row_of[row];
                    FeatureError::BadHiddenState {
                        layer,
                        document,
                        position,
                        source,
                    }
                }
                source => FeatureError::Accumulate { layer, source },
            })?;
        let wrap = |source| FeatureError::Accumulate { layer, source };
        self.accs[layer]
            .accumulate(projected, &ids, None)
            .map_err(wrap)?;
        for (b, acc) in self.boot[layer].iter_mut().enumerate() {
            let weights: Vec<f64> = row_of
                .iter()
                .map(|&(doc, _)| {
                    poisson_weight(self.bootstrap_seed, b as u64, (self.unit)(doc) as u64)
                })
                .collect();
            acc.accumulate(projected, &ids, Some(&weights))
                .map_err(wrap)?;
        }
        Ok(())
    }
}

/// Per-layer estimates for one model over tokenized documents.
pub fn extract(
    model: &Model,
    docs: &[Vec<u32>],
    settings: &FeatureSettings,
    est: &Estimator,
) -> Result<ModelFeatures, FeatureError> {
    let cfg = NgramConfig {
        orders: settings.orders.clone(),
        policy: settings.positions,
        min_count: settings.min_count,
        null_seed: settings.null_seed(),
    };
    let plan = ngram_plan(docs, &cfg);
    if plan.rows() == 0 {
        let n = match settings.positions {
            super::estimator::labels::PositionPolicy::Shared => {
                *settings.orders.iter().max().unwrap_or(&1)
            }
            _ => *settings.orders.iter().min().unwrap_or(&1),
        };
        return Err(FeatureError::NoPositions { needed: 2 * n });
    }
    extract_plan(model, docs, &plan, settings, est, |doc| doc)
}

/// Per-layer estimates for one model over tokenized documents, with the
/// estimator rows and label sets of `plan` (n-gram or preference labels).
pub(super) fn extract_plan(
    model: &Model,
    docs: &[Vec<u32>],
    plan: &LabelPlan,
    settings: &FeatureSettings,
    est: &Estimator,
    unit: fn(usize) -> usize,
) -> Result<ModelFeatures, FeatureError> {
    let specs = plan.specs();
    let layers = model.num_layers() + 1;
    let mut accs: Vec<Accumulator> = (0..layers).map(|_| Accumulator::new(est, &specs)).collect();
    let mut boot: Vec<Vec<Accumulator>> = (0..layers)
        .map(|_| {
            (0..settings.bootstrap)
                .map(|_| Accumulator::new(est, &specs))
                .collect()
        })
        .collect();
    // Documents that give rows, with the index of their first row.
    let mut first_row = 0;
    let mut work = Vec::new();
    for (i, r) in plan.positions.iter().enumerate() {
        if !r.is_empty() {
            work.push((i, first_row));
            first_row += r.len();
        }
    }
    for chunk in work.chunks(settings.batch_size.max(1)) {
        // Causal attention: tokens after the last estimator position cannot
        // change it, so they are not run.
        let seqs: Vec<&[u32]> = chunk
            .iter()
            .map(|&(doc, _)| &docs[doc][..plan.positions[doc].end])
            .collect();
        let mut sink = Sink {
            plan,
            docs: chunk.to_vec(),
            accs: &mut accs,
            boot: &mut boot,
            bootstrap_seed: settings.bootstrap_seed,
            unit,
            est,
            projected: Projected::default(),
            d: model.hidden_size(),
            error: None,
        };
        model.run(&seqs, settings.hidden_states, &mut sink)?;
        if let Some(e) = sink.error {
            return Err(e);
        }
    }
    Ok(ModelFeatures {
        layers: accs.iter().map(Accumulator::estimate).collect(),
        replicates: (0..settings.bootstrap)
            .map(|b| boot.iter().map(|l| l[b].estimate()).collect())
            .collect(),
        rows: plan.rows(),
        documents: docs.len(),
        tokens: docs.iter().map(Vec::len).sum(),
    })
}

/// Finds a set's MI by order, direction and null flag.
pub(super) fn mi(e: &Estimate, n: usize, dir: Direction, null: bool) -> f64 {
    let name = format!("{}{n}{}", dir.prefix(), if null { "~null" } else { "" });
    e.sets
        .iter()
        .find(|s| s.name == name)
        .map_or(f64::NAN, |s| s.mutual_information)
}
