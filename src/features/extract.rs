//! Runs one model over the tokenized corpus and reduces every layer to
//! soft-entropy estimates as it is produced: memory is one batch of hidden
//! states plus the accumulators, never all activations.

use super::estimator::blocks::{BlockAccumulator, BlockLayout};
use super::estimator::labels::{ngram_plan, Direction, LabelPlan, NgramConfig};
use super::estimator::projection::Projected;
use super::estimator::{accumulator::AccumulateError, Accumulator, Estimate, Estimator};
use super::groups::LayerGroup;
use super::lm_loss::{self, LmLoss};
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
    #[error("layers {}..{} of a model with {total} hidden states (0 = embeddings)", .layers.start, .layers.end)]
    Layers {
        layers: std::ops::Range<usize>,
        total: usize,
    },
    #[error("merging layer groups")]
    Merge {
        #[source]
        source: super::groups::MergeError,
    },
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
    /// The LM loss over the estimator positions ([`super::lm_loss`]).
    pub loss: LmLoss,
}

/// How far one model's pass has got: reported after each batch.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PassProgress {
    /// Documents run (those that give estimator rows) and their total.
    pub documents: usize,
    pub documents_total: usize,
    /// Tokens run through the model (each document up to its last
    /// estimator position) and their total.
    pub tokens: usize,
    pub tokens_total: usize,
    /// Seconds so far in the forward pass and in the estimator.
    pub forward_seconds: f64,
    pub estimating_seconds: f64,
}

/// The progress of several passes as one: documents and tokens of all
/// passes, the passes done so far added to the one under way.
#[derive(Clone, Copy, Debug, Default)]
pub struct PassTally {
    done: PassProgress,
    passes: usize,
}

impl PassTally {
    pub fn new(passes: usize) -> Self {
        Self {
            done: PassProgress::default(),
            passes,
        }
    }

    /// `p`, the pass under way, as progress over all passes.
    pub fn of_all(&self, p: &PassProgress) -> PassProgress {
        PassProgress {
            documents: self.done.documents + p.documents,
            documents_total: p.documents_total * self.passes,
            tokens: self.done.tokens + p.tokens,
            tokens_total: p.tokens_total * self.passes,
            forward_seconds: self.done.forward_seconds + p.forward_seconds,
            estimating_seconds: self.done.estimating_seconds + p.estimating_seconds,
        }
    }

    /// A pass ended at `last`.
    pub fn finish(&mut self, last: &PassProgress) {
        self.done = self.of_all(last);
        self.done.documents_total = 0;
        self.done.tokens_total = 0;
    }
}

/// Feeds each layer's rows to that layer's accumulator.
struct Sink<'a, 'e, 'l> {
    plan: &'a LabelPlan,
    /// The layers this pass reduces (`accs[i]` is layer `layers.start + i`).
    layers: std::ops::Range<usize>,
    /// Documents of this batch (indices into the corpus) and their first row.
    docs: Vec<(usize, usize)>,
    accs: &'a mut [Accumulator<'e>],
    /// Per-block sums for the bootstrap, one per layer (empty when off).
    boot: &'a mut [BlockAccumulator<'l>],
    /// Number of bootstrap blocks (document i is in block i mod K).
    blocks: usize,
    est: &'e Estimator,
    /// Projection buffers, reused for every layer and batch.
    projected: Projected,
    d: usize,
    error: Option<FeatureError>,
    /// Time spent reducing layers (the rest of a pass is the forward pass).
    estimating: std::time::Duration,
    /// Scores the last layer's rows as LM loss.
    lm: LossHook<'a>,
}

/// What the sink needs to score the last layer's rows.
struct LossHook<'a> {
    model: &'a Model,
    convention: crate::models::HiddenStates,
    docs: &'a [Vec<u32>],
    loss: &'a mut LmLoss,
}

impl LayerSink for Sink<'_, '_, '_> {
    fn layer(&mut self, index: usize, hidden: &Tensor) -> ControlFlow<()> {
        if index < self.layers.start {
            return ControlFlow::Continue(());
        }
        let started = std::time::Instant::now();
        let reduced = self.reduce(index, hidden);
        self.estimating += started.elapsed();
        match reduced {
            // the layers after this pass's group are not run
            Ok(()) if index + 1 < self.layers.end => ControlFlow::Continue(()),
            Ok(()) => ControlFlow::Break(()),
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

impl Sink<'_, '_, '_> {
    fn reduce(&mut self, layer: usize, hidden: &Tensor) -> Result<(), FeatureError> {
        // packed: each document's run (up to its last position) follows the last
        let (_, d) = hidden.dims2()?;
        debug_assert_eq!(d, self.d);
        let values: Vec<f32> = hidden.flatten_all()?.to_vec1()?;
        let mut z = Vec::new();
        let mut row_of = Vec::new(); // (document, position) of each gathered row
        let mut doc_start = 0;
        for &(doc, _) in &self.docs {
            let positions = self.plan.positions[doc].clone();
            for pos in positions.clone() {
                let start = (doc_start + pos) * d;
                z.extend_from_slice(&values[start..start + d]);
                row_of.push((doc, pos));
            }
            doc_start += positions.end;
        }
        if layer == self.lm.model.num_layers() {
            let h = &mut self.lm;
            lm_loss::score(h.model, h.convention, &z, &row_of, h.docs, h.loss)?;
        }
        let first = self.docs[0].1;
        let ids = self.plan.id_slices(first..first + row_of.len());
        let slot = layer - self.layers.start;
        let acc = &self.accs[slot];
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
        self.accs[slot]
            .accumulate(projected, &ids, None)
            .map_err(wrap)?;
        if let Some(boot) = self.boot.get_mut(slot) {
            let block_of_row: Vec<u32> = row_of
                .iter()
                .map(|&(doc, _)| (doc % self.blocks) as u32)
                .collect();
            boot.accumulate(projected, &ids, &block_of_row);
        }
        Ok(())
    }
}

/// Per-layer estimates for one model over tokenized documents, and its LM
/// loss; `ends[doc][k]` is the byte where token k of the document ends
/// ([`crate::corpus::Corpus::tokenize_with_ends`]).
pub fn extract(
    model: &Model,
    docs: &[Vec<u32>],
    ends: &[Vec<usize>],
    settings: &FeatureSettings,
    est: &Estimator,
) -> Result<ModelFeatures, FeatureError> {
    extract_observed(model, docs, ends, settings, est, &mut |_| {})
}

/// [`extract`], calling `observe` after each batch with how far it got.
pub fn extract_observed(
    model: &Model,
    docs: &[Vec<u32>],
    ends: &[Vec<usize>],
    settings: &FeatureSettings,
    est: &Estimator,
    observe: &mut dyn FnMut(&PassProgress),
) -> Result<ModelFeatures, FeatureError> {
    let all = 0..model.num_layers() + 1;
    extract_passes(model, docs, ends, settings, est, &[all], observe)
}

/// [`extract_observed`] in one pass over the corpus per layer group
/// (contiguous, covering every layer: [`super::budget::layer_groups`]),
/// holding only one group's state at a time. Bit-identical to one pass:
/// every pass runs the same batches in the same order. Progress counts
/// the documents and tokens of all passes.
pub fn extract_passes(
    model: &Model,
    docs: &[Vec<u32>],
    ends: &[Vec<usize>],
    settings: &FeatureSettings,
    est: &Estimator,
    groups: &[std::ops::Range<usize>],
    observe: &mut dyn FnMut(&PassProgress),
) -> Result<ModelFeatures, FeatureError> {
    let mut parts = Vec::with_capacity(groups.len());
    let mut tally = PassTally::new(groups.len());
    for group in groups {
        let mut last = PassProgress::default();
        let part = extract_layers(model, docs, ends, settings, est, group.clone(), &mut |p| {
            last = *p;
            observe(&tally.of_all(p))
        })?;
        tally.finish(&last);
        parts.push(part);
    }
    super::groups::merge(parts, model.num_layers() + 1)
        .map_err(|source| FeatureError::Merge { source })
}

/// One pass over the corpus that reduces only `layers` (hidden-state
/// indices, 0 = embeddings) and stops each batch's forward pass after the
/// last of them. The LM loss is scored when the group holds the last layer.
pub fn extract_layers(
    model: &Model,
    docs: &[Vec<u32>],
    ends: &[Vec<usize>],
    settings: &FeatureSettings,
    est: &Estimator,
    layers: std::ops::Range<usize>,
    observe: &mut dyn FnMut(&PassProgress),
) -> Result<LayerGroup, FeatureError> {
    let total = model.num_layers() + 1;
    if layers.is_empty() || layers.end > total {
        return Err(FeatureError::Layers { layers, total });
    }
    let plan = label_plan(docs, settings)?;
    let specs = plan.specs();
    let mut accs: Vec<Accumulator> = layers
        .clone()
        .map(|_| Accumulator::new(est, &specs))
        .collect();
    let (work, mut loss) = work_list(&plan, ends);
    let mut progress = PassProgress {
        documents_total: work.len(),
        tokens_total: work.iter().map(|&(doc, _)| plan.positions[doc].end).sum(),
        ..PassProgress::default()
    };
    let blocks = settings.blocks();
    let layout = (settings.bootstrap > 0).then(|| block_layout(&plan, blocks));
    let mut boot: Vec<BlockAccumulator> = layout
        .iter()
        .flat_map(|l| layers.clone().map(move |_| BlockAccumulator::new(l, est.m)))
        .collect();
    for chunk in work.chunks(settings.batch_size.max(1)) {
        let started = std::time::Instant::now();
        // Causal attention: tokens after the last estimator position cannot
        // change it, so they are not run.
        let seqs: Vec<&[u32]> = chunk
            .iter()
            .map(|&(doc, _)| &docs[doc][..plan.positions[doc].end])
            .collect();
        let mut sink = Sink {
            plan: &plan,
            layers: layers.clone(),
            docs: chunk.to_vec(),
            accs: &mut accs,
            boot: &mut boot,
            blocks,
            est,
            projected: Projected::default(),
            d: model.hidden_size(),
            error: None,
            estimating: std::time::Duration::ZERO,
            lm: LossHook {
                model,
                convention: settings.hidden_states,
                docs,
                loss: &mut loss,
            },
        };
        model.run(&seqs, settings.hidden_states, &mut sink)?;
        if let Some(e) = sink.error {
            return Err(e);
        }
        let estimating = sink.estimating.as_secs_f64();
        progress.documents += chunk.len();
        progress.tokens += seqs.iter().map(|s| s.len()).sum::<usize>();
        progress.estimating_seconds += estimating;
        progress.forward_seconds += started.elapsed().as_secs_f64() - estimating;
        observe(&progress);
    }
    Ok(LayerGroup {
        estimates: accs.iter().map(Accumulator::estimate).collect(),
        replicates: (0..settings.bootstrap)
            .map(|b| {
                boot.iter()
                    .map(|l| l.replicate(settings.bootstrap_seed, b))
                    .collect()
            })
            .collect(),
        loss: (layers.end == total).then_some(loss),
        layers,
        rows: plan.rows(),
        documents: docs.len(),
        tokens: docs.iter().map(Vec::len).sum(),
    })
}

/// The estimator's label plan; an error when no document gives a position.
fn label_plan(docs: &[Vec<u32>], settings: &FeatureSettings) -> Result<LabelPlan, FeatureError> {
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
    Ok(plan)
}

/// Documents that give rows, with the index of their first row, and an LM
/// loss holding the bytes those rows' next tokens cover.
fn work_list(plan: &LabelPlan, ends: &[Vec<usize>]) -> (Vec<(usize, usize)>, LmLoss) {
    let mut first_row = 0;
    let mut work = Vec::new();
    let mut loss = LmLoss::default();
    for (i, r) in plan.positions.iter().enumerate() {
        if !r.is_empty() {
            work.push((i, first_row));
            first_row += r.len();
            loss.bytes += ends.get(i).map_or(0, |e| lm_loss::covered_bytes(e, r));
        }
    }
    (work, loss)
}

/// The (label, block) layout of a plan's rows, document i in block i mod K.
pub(crate) fn block_layout(plan: &LabelPlan, blocks: usize) -> BlockLayout {
    let block_of_row: Vec<u32> = plan
        .positions
        .iter()
        .enumerate()
        .flat_map(|(doc, r)| std::iter::repeat((doc % blocks) as u32).take(r.len()))
        .collect();
    let ids: Vec<&[u32]> = plan.sets.iter().map(|s| s.ids.as_slice()).collect();
    BlockLayout::new(blocks, &plan.specs(), &ids, &block_of_row)
}

/// Finds a set's MI by order, direction and null flag.
pub(super) fn mi(e: &Estimate, n: usize, dir: Direction, null: bool) -> f64 {
    let name = format!("{}{n}{}", dir.prefix(), if null { "~null" } else { "" });
    e.sets
        .iter()
        .find(|s| s.name == name)
        .map_or(f64::NAN, |s| s.mutual_information)
}
