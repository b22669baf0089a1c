//! Document-block bootstrap with memory that does not grow with the number
//! of replicates.
//!
//! Documents are dealt into K blocks (document i goes to block i mod K).
//! While the corpus streams through, each layer keeps the estimator's sums
//! *per block*: a total and a count per block, and per label set one
//! m-vector per (label, block) pair that occurs. A replicate b gives block
//! k the Poisson(1) weight w_bk (a pure function of seed, b and k, see
//! [`super::bootstrap::poisson_weight`]); its sums are Σ_k w_bk · (block k's
//! sums), and its estimate is exactly that of an accumulator fed every row
//! with its block's weight. So the replicate values are computed at the end,
//! one after the other, from one copy of the per-block state, whatever B is.
//!
//! Memory: one m-vector (f32) per distinct (label, block) pair among labels seen
//! at least twice, i.e. Σ_x min(K, blocks containing x). Labels seen once
//! overall need no vector (their conditional entropy is their row's own
//! entropy), exactly as in [`super::accumulator`]. The layout (which pairs
//! occur) is known before the model runs, from the tokenized corpus, and is
//! shared by all layers, so the state is allocated once and exactly.
//!
//! With K at least the number of documents, every document is its own block
//! and this is the per-document Poisson bootstrap.

use super::accumulator::{entropy_of_sums, Estimate, LabelSpec, SetResult, NO_LABEL};
use super::bootstrap::poisson_weight;
use super::projection::Projected;
use rayon::prelude::*;

/// Which (label, block) pairs occur in one label set.
#[derive(Clone, Debug)]
struct SetLayout {
    name: String,
    /// `offsets[id]..offsets[id + 1]` indexes `blocks` (and the slots) of
    /// label `id`; empty for labels seen once.
    offsets: Vec<u64>,
    /// Blocks of each repeated label, ascending.
    blocks: Vec<u32>,
    /// Labels seen exactly once overall.
    singleton: Vec<bool>,
}

impl SetLayout {
    fn slot(&self, id: u32, block: u32) -> Option<usize> {
        let (lo, hi) = (
            self.offsets[id as usize] as usize,
            self.offsets[id as usize + 1] as usize,
        );
        self.blocks[lo..hi]
            .binary_search(&block)
            .ok()
            .map(|i| lo + i)
    }
}

/// The (label, block) layout of every label set, shared by all layers.
#[derive(Clone, Debug)]
pub struct BlockLayout {
    pub blocks: usize,
    sets: Vec<SetLayout>,
}

impl BlockLayout {
    /// `ids[s]` are set s's label ids for every row (in row order),
    /// `block_of_row` each row's block; `specs` give the exact counts.
    pub fn new(blocks: usize, specs: &[LabelSpec], ids: &[&[u32]], block_of_row: &[u32]) -> Self {
        let sets = specs
            .par_iter()
            .zip(ids.par_iter())
            .map(|(spec, ids)| set_layout(spec, ids, block_of_row, blocks))
            .collect();
        Self {
            blocks: blocks.max(1),
            sets,
        }
    }

    /// (label, block) pairs that get an m-vector, over all sets.
    pub fn slots(&self) -> usize {
        self.sets.iter().map(|s| s.blocks.len()).sum()
    }

    /// Bytes of one layer's block state for m reference points.
    pub fn state_bytes(&self, m: usize) -> usize {
        let f = std::mem::size_of::<f64>();
        let k = self.blocks;
        // total and weight per block; per set, the slots' sums and weights,
        // and per block the singleton sum and count, missing sums and weight
        self.slots() * (m * 4 + f) + k * (m + 1) * f + self.sets.len() * k * (m + 3) * f
    }

    /// Bytes of the layout itself (held once).
    pub fn layout_bytes(&self) -> usize {
        self.sets
            .iter()
            .map(|s| s.offsets.len() * 8 + s.blocks.len() * 4 + s.singleton.len())
            .sum()
    }
}

fn set_layout(spec: &LabelSpec, ids: &[u32], block_of_row: &[u32], k: usize) -> SetLayout {
    let count = |id: usize| spec.counts.as_ref().map(|c| c[id]);
    let singleton: Vec<bool> = (0..spec.n_ids).map(|id| count(id) == Some(1)).collect();
    let k = k.max(1) as u64;
    let mut pairs: Vec<u64> = ids
        .iter()
        .zip(block_of_row)
        .filter(|(&id, _)| id != NO_LABEL && !singleton[id as usize])
        .map(|(&id, &b)| id as u64 * k + b as u64)
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut offsets = vec![0u64; spec.n_ids + 1];
    for &p in &pairs {
        offsets[(p / k) as usize + 1] += 1;
    }
    for i in 0..spec.n_ids {
        offsets[i + 1] += offsets[i];
    }
    SetLayout {
        name: spec.name.clone(),
        offsets,
        blocks: pairs.iter().map(|&p| (p % k) as u32).collect(),
        singleton,
    }
}

/// One set's per-block sums.
struct BlockSet {
    /// slots × m, in f32: these sums only feed the intervals, where a
    /// relative rounding of ~1e-6 is far below the replicate spread, and
    /// they are most of the interval's memory.
    sums: Vec<f32>,
    weights: Vec<f64>,
    /// Per block: Σ h(row) over singleton rows, and their number.
    singleton_h: Vec<f64>,
    singleton_rows: Vec<u64>,
    /// Per block: sums and count of rows without a label in this set.
    missing: Vec<f64>,
    missing_weight: Vec<f64>,
}

/// Per-block sums for one layer.
pub struct BlockAccumulator<'l> {
    layout: &'l BlockLayout,
    m: usize,
    /// K × m.
    total: Vec<f64>,
    weight: Vec<f64>,
    sets: Vec<BlockSet>,
}

impl<'l> BlockAccumulator<'l> {
    pub fn new(layout: &'l BlockLayout, m: usize) -> Self {
        let k = layout.blocks;
        let sets = layout
            .sets
            .iter()
            .map(|s| BlockSet {
                sums: vec![0.0f32; s.blocks.len() * m],
                weights: vec![0.0; s.blocks.len()],
                singleton_h: vec![0.0; k],
                singleton_rows: vec![0; k],
                missing: vec![0.0; k * m],
                missing_weight: vec![0.0; k],
            })
            .collect();
        Self {
            layout,
            m,
            total: vec![0.0; k * m],
            weight: vec![0.0; k],
            sets,
        }
    }

    /// Adds a projected batch: `labels[s][r]` as for
    /// [`super::Accumulator::accumulate`], `block_of_row[r]` the block of row
    /// r. Rows of labels seen once need `batch.row_entropy`.
    pub fn accumulate(&mut self, batch: &Projected, labels: &[&[u32]], block_of_row: &[u32]) {
        let m = self.m;
        let (total, weight) = (&mut self.total, &mut self.weight);
        let layout = self.layout;
        rayon::join(
            || {
                for (r, &b) in block_of_row.iter().enumerate().take(batch.rows) {
                    add(&mut total[b as usize * m..][..m], batch.row(r, m));
                    weight[b as usize] += 1.0;
                }
            },
            || {
                self.sets
                    .par_iter_mut()
                    .zip(layout.sets.par_iter())
                    .zip(labels.par_iter())
                    .for_each(|((set, lay), ids)| set.accumulate(lay, batch, ids, block_of_row, m))
            },
        );
    }

    /// Bytes held by the sums (equals [`BlockLayout::state_bytes`]).
    pub fn state_bytes(&self) -> usize {
        let f = std::mem::size_of::<f64>();
        (self.total.capacity() + self.weight.capacity()) * f
            + self
                .sets
                .iter()
                .map(|s| {
                    s.sums.capacity() * 4
                        + (s.weights.capacity()
                            + s.singleton_h.capacity()
                            + s.missing.capacity()
                            + s.missing_weight.capacity())
                            * f
                        + s.singleton_rows.capacity() * 8
                })
                .sum::<usize>()
    }

    /// The estimate of replicate `b` (block weights from `seed`).
    pub fn replicate(&self, seed: u64, b: usize) -> Estimate {
        let w: Vec<f64> = (0..self.layout.blocks)
            .map(|k| poisson_weight(seed, b as u64, k as u64))
            .collect();
        self.weighted(&w)
    }

    /// The estimate with block k's rows weighted by `w[k]`.
    pub fn weighted(&self, w: &[f64]) -> Estimate {
        let m = self.m;
        let total = combine(&self.total, w, m);
        let n: f64 = dot(&self.weight, w);
        let sets = self
            .sets
            .par_iter()
            .zip(&self.layout.sets)
            .map(|(s, lay)| s.result(lay, &total, n, w, m))
            .collect();
        Estimate {
            entropy: entropy_of_sums(&total),
            rows: n,
            sets,
        }
    }
}

impl BlockSet {
    fn accumulate(
        &mut self,
        lay: &SetLayout,
        batch: &Projected,
        ids: &[u32],
        block_of_row: &[u32],
        m: usize,
    ) {
        for (r, (&id, &b)) in ids.iter().zip(block_of_row).enumerate() {
            let p = batch.row(r, m);
            let bu = b as usize;
            if id == NO_LABEL {
                add(&mut self.missing[bu * m..][..m], p);
                self.missing_weight[bu] += 1.0;
            } else if lay.singleton[id as usize] {
                self.singleton_h[bu] += batch.row_entropy[r];
                self.singleton_rows[bu] += 1;
            } else {
                let slot = lay
                    .slot(id, b)
                    .expect("the layout holds every (label, block) pair of the corpus");
                for (d, &x) in self.sums[slot * m..][..m].iter_mut().zip(p) {
                    *d += x as f32;
                }
                self.weights[slot] += 1.0;
            }
        }
    }

    fn result(&self, lay: &SetLayout, total: &[f64], n_all: f64, w: &[f64], m: usize) -> SetResult {
        let missing_weight = dot(&self.missing_weight, w);
        let totals: Vec<f64> = if missing_weight > 0.0 {
            let missing = combine(&self.missing, w, m);
            total.iter().zip(&missing).map(|(t, x)| t - x).collect()
        } else {
            total.to_vec()
        };
        let n = n_all - missing_weight;
        let entropy = entropy_of_sums(&totals);
        let mut cond = dot(&self.singleton_h, w);
        let mut distinct: usize = self
            .singleton_rows
            .iter()
            .zip(w)
            .filter(|(_, &wk)| wk > 0.0)
            .map(|(&c, _)| c as usize)
            .sum();
        let mut sums = vec![0.0; m];
        for id in 0..lay.singleton.len() {
            let (lo, hi) = (lay.offsets[id] as usize, lay.offsets[id + 1] as usize);
            if lo == hi {
                continue;
            }
            sums.iter_mut().for_each(|s| *s = 0.0);
            let mut wt = 0.0;
            for slot in lo..hi {
                let wk = w[lay.blocks[slot] as usize];
                if wk != 0.0 {
                    for (d, &x) in sums.iter_mut().zip(&self.sums[slot * m..][..m]) {
                        *d += wk * x as f64;
                    }
                    wt += wk * self.weights[slot];
                }
            }
            if wt > 0.0 {
                cond += wt * entropy_of_sums(&sums);
                distinct += 1;
            }
        }
        SetResult::from_sums(&lay.name, entropy, cond, n, distinct)
    }
}

/// Σ_k w[k] · x[k·m .. (k+1)·m].
fn combine(x: &[f64], w: &[f64], m: usize) -> Vec<f64> {
    let mut out = vec![0.0; m];
    for (k, &wk) in w.iter().enumerate() {
        if wk != 0.0 {
            add_scaled(&mut out, &x[k * m..][..m], wk);
        }
    }
    out
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[inline(always)]
fn add(dst: &mut [f64], src: &[f64]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += s;
    }
}

#[inline(always)]
fn add_scaled(dst: &mut [f64], src: &[f64], w: f64) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += w * s;
    }
}
