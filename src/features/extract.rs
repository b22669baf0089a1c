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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};

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
    /// Seconds so far in the forward pass and in the estimator; with the
    /// two overlapped they add up to more than the wall time.
    pub forward_seconds: f64,
    pub estimating_seconds: f64,
    /// Wall seconds since the pass began.
    pub seconds: f64,
}

/// One layer's probed rows of one batch: all the estimator needs of it.
struct LayerRows {
    layer: usize,
    /// The plan's index of the batch's first row.
    first: usize,
    /// `[rows, d]` hidden states at the probed positions.
    z: Vec<f32>,
    /// (document, position) of each row.
    row_of: Vec<(usize, usize)>,
}

/// The estimator's side of a pass: reduces each layer's rows into that
/// layer's accumulators (and the bootstrap's block sums).
struct Reducer<'a, 'e, 'l> {
    plan: &'a LabelPlan,
    /// The first layer of this pass's group (`accs[i]` is layer `first_layer + i`).
    first_layer: usize,
    accs: &'a mut [Accumulator<'e>],
    /// Per-block sums for the bootstrap, one per layer (empty when off).
    boot: &'a mut [BlockAccumulator<'l>],
    /// Number of bootstrap blocks (unit u is in block u mod K).
    blocks: usize,
    /// The bootstrap's resampling unit of each document (itself, or its pair).
    unit: fn(usize) -> usize,
    est: &'e Estimator,
    /// Projection buffers, reused for every layer and batch.
    projected: Projected,
    /// Nanoseconds spent reducing, shared with the pass's progress.
    busy: &'a AtomicU64,
}

/// Where the forward pass hands each layer's rows: to the estimator on the
/// same thread, or through a bounded queue to the estimator's own thread.
enum Route<'r, 'a, 'e, 'l> {
    Inline(&'r mut Reducer<'a, 'e, 'l>),
    Queue(SyncSender<LayerRows>),
}

impl<'a, 'e, 'l> Route<'_, 'a, 'e, 'l> {
    /// This route for one batch's sink.
    fn reborrow(&mut self) -> Route<'_, 'a, 'e, 'l> {
        match self {
            Route::Inline(reducer) => Route::Inline(reducer),
            Route::Queue(tx) => Route::Queue(tx.clone()),
        }
    }

    /// Hands one layer's rows over; `false` when the estimator's thread has
    /// stopped (on an error, which it returns).
    fn hand(&mut self, rows: LayerRows) -> Result<bool, FeatureError> {
        match self {
            Route::Inline(reducer) => reducer.reduce(&rows).map(|()| true),
            Route::Queue(tx) => Ok(tx.send(rows).is_ok()),
        }
    }
}

/// The forward pass's side: gathers each layer's probed rows, scores the
/// last layer as LM loss, and routes the rows to the estimator.
struct Sink<'r, 'a, 'e, 'l> {
    plan: &'r LabelPlan,
    /// The layers this pass reduces; the forward pass stops after the last.
    layers: std::ops::Range<usize>,
    /// Documents of this batch (indices into the corpus) and their first row.
    docs: &'r [(usize, usize)],
    d: usize,
    route: Route<'r, 'a, 'e, 'l>,
    /// Time the forward pass spent handing rows over (reducing them itself,
    /// or waiting for room in the queue).
    handing: std::time::Duration,
    /// The estimator's thread has stopped (on an error it returns).
    stopped: bool,
    error: Option<FeatureError>,
    /// Scores the last layer's rows as LM loss (none for a preference pass,
    /// whose last row has no next token).
    lm: Option<LossHook<'r>>,
}

/// What the sink needs to score the last layer's rows.
struct LossHook<'a> {
    model: &'a Model,
    convention: crate::models::HiddenStates,
    docs: &'a [Vec<u32>],
    loss: &'a mut LmLoss,
}

impl LayerSink for Sink<'_, '_, '_, '_> {
    fn layer(&mut self, index: usize, hidden: &Tensor) -> ControlFlow<()> {
        if index < self.layers.start {
            return ControlFlow::Continue(());
        }
        let routed = self.gather(index, hidden).and_then(|rows| {
            let started = std::time::Instant::now();
            let handed = self.route.hand(rows);
            self.handing += started.elapsed();
            handed
        });
        match routed {
            // the layers after this pass's group are not run
            Ok(true) if index + 1 < self.layers.end => ControlFlow::Continue(()),
            Ok(true) => ControlFlow::Break(()),
            Ok(false) => {
                self.stopped = true;
                ControlFlow::Break(())
            }
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

impl Sink<'_, '_, '_, '_> {
    /// The batch's rows at the probed positions of one layer.
    fn gather(&mut self, layer: usize, hidden: &Tensor) -> Result<LayerRows, FeatureError> {
        // packed: each document's run (up to its last position) follows the last
        let (_, d) = hidden.dims2()?;
        debug_assert_eq!(d, self.d);
        let values: Vec<f32> = hidden.flatten_all()?.to_vec1()?;
        let mut z = Vec::new();
        let mut row_of = Vec::new();
        let mut doc_start = 0;
        for &(doc, _) in self.docs {
            let positions = self.plan.positions[doc].clone();
            for pos in positions.clone() {
                let start = (doc_start + pos) * d;
                z.extend_from_slice(&values[start..start + d]);
                row_of.push((doc, pos));
            }
            doc_start += positions.end;
        }
        if let Some(h) = self.lm.as_mut().filter(|h| layer == h.model.num_layers()) {
            lm_loss::score(h.model, h.convention, &z, &row_of, h.docs, h.loss)?;
        }
        let first = self.docs[0].1;
        Ok(LayerRows {
            layer,
            first,
            z,
            row_of,
        })
    }
}

impl Reducer<'_, '_, '_> {
    fn reduce(&mut self, rows: &LayerRows) -> Result<(), FeatureError> {
        let started = std::time::Instant::now();
        let reduced = self.reduce_rows(rows);
        let nanos = started.elapsed().as_nanos() as u64;
        self.busy.fetch_add(nanos, Ordering::Relaxed);
        reduced
    }

    fn reduce_rows(&mut self, rows: &LayerRows) -> Result<(), FeatureError> {
        let LayerRows {
            layer,
            first,
            ref z,
            ref row_of,
        } = *rows;
        let ids = self.plan.id_slices(first..first + row_of.len());
        let slot = layer - self.first_layer;
        let acc = &self.accs[slot];
        let projected = &mut self.projected;
        let need = acc.row_entropy_mask(&ids, row_of.len());
        self.est
            .project_into(z, |r| need.get(r) == Some(&true), projected)
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
                .map(|&(doc, _)| ((self.unit)(doc) % self.blocks) as u32)
                .collect();
            boot.accumulate(projected, &ids, &block_of_row);
        }
        Ok(())
    }
}

/// Whether the estimator runs on a thread of its own beside the forward
/// pass. The results are bit-identical either way: each layer's accumulator
/// sees the same rows in the same order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Overlap {
    /// Layer k of batch b is reduced while the model computes what follows,
    /// through a queue of at most [`QUEUE_LAYERS`] layers' rows.
    On,
    /// The forward pass waits for the estimator after every layer.
    #[default]
    Off,
}

/// Layers' rows that may wait for the estimator when overlapping: this
/// bounds the extra memory to that many layers of one batch's probed rows.
pub const QUEUE_LAYERS: usize = 2;

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
    extract_observed(model, docs, ends, settings, est, Overlap::Off, &mut |_| {})
}

/// [`extract`], overlapping the estimator with the forward pass or not, and
/// calling `observe` after each batch with how far it got.
pub fn extract_observed(
    model: &Model,
    docs: &[Vec<u32>],
    ends: &[Vec<usize>],
    settings: &FeatureSettings,
    est: &Estimator,
    overlap: Overlap,
    observe: &mut dyn FnMut(&PassProgress),
) -> Result<ModelFeatures, FeatureError> {
    let all = 0..model.num_layers() + 1;
    extract_passes(model, docs, ends, settings, est, &[all], overlap, observe)
}

/// [`extract_observed`] in one pass over the corpus per layer group
/// (contiguous, covering every layer: [`super::budget::layer_groups`]),
/// holding only one group's state at a time. Bit-identical to one pass:
/// every pass runs the same batches in the same order. Progress counts
/// the documents and tokens of all passes.
#[allow(clippy::too_many_arguments)]
pub fn extract_passes(
    model: &Model,
    docs: &[Vec<u32>],
    ends: &[Vec<usize>],
    settings: &FeatureSettings,
    est: &Estimator,
    groups: &[std::ops::Range<usize>],
    overlap: Overlap,
    observe: &mut dyn FnMut(&PassProgress),
) -> Result<ModelFeatures, FeatureError> {
    let mut parts = Vec::with_capacity(groups.len());
    let mut tally = PassTally::new(groups.len());
    for group in groups {
        let part = tally.run(observe, |obs| {
            extract_layers(
                model,
                docs,
                ends,
                settings,
                est,
                group.clone(),
                overlap,
                obs,
            )
        })?;
        parts.push(part);
    }
    super::groups::merge(parts, model.num_layers() + 1)
        .map_err(|source| FeatureError::Merge { source })
}

/// One pass over the corpus that reduces only `layers` (hidden-state
/// indices, 0 = embeddings) and stops each batch's forward pass after the
/// last of them. The LM loss is scored when the group holds the last layer.
#[allow(clippy::too_many_arguments)]
pub fn extract_layers(
    model: &Model,
    docs: &[Vec<u32>],
    ends: &[Vec<usize>],
    settings: &FeatureSettings,
    est: &Estimator,
    layers: std::ops::Range<usize>,
    overlap: Overlap,
    observe: &mut dyn FnMut(&PassProgress),
) -> Result<LayerGroup, FeatureError> {
    let total = model.num_layers() + 1;
    if layers.is_empty() || layers.end > total {
        return Err(FeatureError::Layers { layers, total });
    }
    let plan = label_plan(docs, settings)?;
    let pass = Pass {
        model,
        docs,
        ends,
        plan: &plan,
        unit: |doc| doc,
        lm_loss: true,
    };
    let f = extract_plan_layers(&pass, settings, est, overlap, layers.clone(), observe)?;
    Ok(LayerGroup {
        loss: (layers.end == total).then_some(f.loss),
        layers,
        estimates: f.layers,
        replicates: f.replicates,
        rows: f.rows,
        documents: f.documents,
        tokens: f.tokens,
    })
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
            seconds: self.done.seconds + p.seconds,
        }
    }

    /// A pass ended at `last`.
    /// Runs one pass (`pass` reports its own progress to the callback it is
    /// given), reporting progress over all passes to `observe`, and counts
    /// the pass as done.
    pub fn run<T>(
        &mut self,
        observe: &mut dyn FnMut(&PassProgress),
        pass: impl FnOnce(&mut dyn FnMut(&PassProgress)) -> Result<T, FeatureError>,
    ) -> Result<T, FeatureError> {
        let mut last = PassProgress::default();
        let out = pass(&mut |p| {
            last = *p;
            observe(&self.of_all(p))
        })?;
        self.finish(&last);
        Ok(out)
    }

    pub fn finish(&mut self, last: &PassProgress) {
        self.done = self.of_all(last);
        self.done.documents_total = 0;
        self.done.tokens_total = 0;
    }
}

/// One model's pass over tokenized documents with a label plan (n-gram or
/// preference labels); `unit` maps a document to its bootstrap resampling
/// unit (itself, or the pair it belongs to).
pub(super) struct Pass<'a> {
    pub model: &'a Model,
    pub docs: &'a [Vec<u32>],
    pub ends: &'a [Vec<usize>],
    pub plan: &'a LabelPlan,
    pub unit: fn(usize) -> usize,
    /// Score the rows' next tokens as LM loss (every row must have one).
    pub lm_loss: bool,
}

/// Per-layer estimates of `pass.plan`'s label sets, and the LM loss.
pub(super) fn extract_plan(
    pass: &Pass,
    settings: &FeatureSettings,
    est: &Estimator,
    overlap: Overlap,
    observe: &mut dyn FnMut(&PassProgress),
) -> Result<ModelFeatures, FeatureError> {
    let all = 0..pass.model.num_layers() + 1;
    extract_plan_layers(pass, settings, est, overlap, all, observe)
}

/// [`extract_plan`] for layers `layers` only (`layers[i]`'s estimates at i).
fn extract_plan_layers(
    pass: &Pass,
    settings: &FeatureSettings,
    est: &Estimator,
    overlap: Overlap,
    layers: std::ops::Range<usize>,
    observe: &mut dyn FnMut(&PassProgress),
) -> Result<ModelFeatures, FeatureError> {
    let Pass {
        model, docs, plan, ..
    } = *pass;
    let specs = plan.specs();
    let mut accs: Vec<Accumulator> = layers
        .clone()
        .map(|_| Accumulator::new(est, &specs))
        .collect();
    let (work, mut loss) = work_list(plan, pass.ends);
    let blocks = settings.blocks();
    let layout = (settings.bootstrap > 0).then(|| block_layout(plan, blocks, pass.unit));
    let mut boot: Vec<BlockAccumulator> = layout
        .iter()
        .flat_map(|l| layers.clone().map(move |_| BlockAccumulator::new(l, est.m)))
        .collect();
    let busy = AtomicU64::new(0);
    let reducer = Reducer {
        plan,
        first_layer: layers.start,
        accs: &mut accs,
        boot: &mut boot,
        blocks,
        unit: pass.unit,
        est,
        projected: Projected::default(),
        busy: &busy,
    };
    let batches = Batches {
        layers: layers.clone(),
        model,
        docs,
        plan,
        work: &work,
        settings,
        lm_loss: pass.lm_loss,
        busy: &busy,
    };
    match overlap {
        Overlap::Off => batches.inline(reducer, &mut loss, observe)?,
        Overlap::On => batches.overlapped(reducer, &mut loss, observe)?,
    }
    Ok(ModelFeatures {
        layers: accs.iter().map(Accumulator::estimate).collect(),
        replicates: (0..settings.bootstrap)
            .map(|b| {
                boot.iter()
                    .map(|l| l.replicate(settings.bootstrap_seed, b))
                    .collect()
            })
            .collect(),
        rows: plan.rows(),
        documents: docs.len(),
        tokens: docs.iter().map(Vec::len).sum(),
        loss,
    })
}

/// One model's pass over its work list, batch by batch.
struct Batches<'a> {
    /// The layers this pass reduces.
    layers: std::ops::Range<usize>,
    model: &'a Model,
    docs: &'a [Vec<u32>],
    plan: &'a LabelPlan,
    /// Documents that give rows, with their first row.
    work: &'a [(usize, usize)],
    settings: &'a FeatureSettings,
    /// Score the rows' next tokens as LM loss.
    lm_loss: bool,
    /// Nanoseconds the estimator has been busy (on whichever thread).
    busy: &'a AtomicU64,
}

impl Batches<'_> {
    /// The estimator reduces each layer as the forward pass produces it.
    fn inline(
        &self,
        mut reducer: Reducer,
        loss: &mut LmLoss,
        observe: &mut dyn FnMut(&PassProgress),
    ) -> Result<(), FeatureError> {
        self.batches(Route::Inline(&mut reducer), loss, observe)
    }

    /// The estimator reduces on a thread of its own, fed through a bounded
    /// queue; its error, if any, wins over the forward pass's stop.
    fn overlapped(
        &self,
        mut reducer: Reducer,
        loss: &mut LmLoss,
        observe: &mut dyn FnMut(&PassProgress),
    ) -> Result<(), FeatureError> {
        let (tx, rx) = sync_channel::<LayerRows>(QUEUE_LAYERS);
        std::thread::scope(|scope| {
            let worker = scope.spawn(move || rx.iter().try_for_each(|rows| reducer.reduce(&rows)));
            let forward = self.batches(Route::Queue(tx), loss, observe);
            let estimated = worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            estimated.and(forward)
        })
    }

    fn batches(
        &self,
        mut route: Route,
        loss: &mut LmLoss,
        observe: &mut dyn FnMut(&PassProgress),
    ) -> Result<(), FeatureError> {
        let started = std::time::Instant::now();
        let mut progress = PassProgress {
            documents_total: self.work.len(),
            tokens_total: self
                .work
                .iter()
                .map(|&(doc, _)| self.plan.positions[doc].end)
                .sum(),
            ..PassProgress::default()
        };
        for chunk in self.work.chunks(self.settings.batch_size.max(1)) {
            let running = std::time::Instant::now();
            // Causal attention: tokens after the last estimator position cannot
            // change it, so they are not run.
            let seqs: Vec<&[u32]> = chunk
                .iter()
                .map(|&(doc, _)| &self.docs[doc][..self.plan.positions[doc].end])
                .collect();
            let mut sink = Sink {
                plan: self.plan,
                layers: self.layers.clone(),
                docs: chunk,
                d: self.model.hidden_size(),
                route: route.reborrow(),
                handing: std::time::Duration::ZERO,
                stopped: false,
                error: None,
                lm: self.lm_loss.then_some(LossHook {
                    model: self.model,
                    convention: self.settings.hidden_states,
                    docs: self.docs,
                    loss: &mut *loss,
                }),
            };
            self.model
                .run(&seqs, self.settings.hidden_states, &mut sink)?;
            if let Some(e) = sink.error {
                return Err(e);
            }
            if sink.stopped {
                return Ok(()); // the estimator's thread has the error
            }
            progress.documents += chunk.len();
            progress.tokens += seqs.iter().map(|s| s.len()).sum::<usize>();
            progress.forward_seconds += (running.elapsed() - sink.handing).as_secs_f64();
            progress.estimating_seconds = self.busy.load(Ordering::Relaxed) as f64 * 1e-9;
            progress.seconds = started.elapsed().as_secs_f64();
            observe(&progress);
        }
        Ok(())
    }
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

/// The (label, block) layout of a plan's rows, the document of resampling
/// unit u in block u mod K.
pub(crate) fn block_layout(
    plan: &LabelPlan,
    blocks: usize,
    unit: fn(usize) -> usize,
) -> BlockLayout {
    let block_of_row: Vec<u32> = plan
        .positions
        .iter()
        .enumerate()
        .flat_map(|(doc, r)| std::iter::repeat((unit(doc) % blocks) as u32).take(r.len()))
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
