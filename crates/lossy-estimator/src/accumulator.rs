//! The streaming soft-entropy accumulator.
//!
//! Each batch of embeddings is projected onto the reference points in f32
//! (cosines, as the reference does), turned into soft bin assignments by a
//! softmax computed in f64, and only sums are kept: one m-vector of totals,
//! and per label set one m-vector and a count per label value. Any split into
//! batches therefore gives the full-batch result.
//!
//! Labels arrive as dense ids (see [`super::labels`]), so the hot loop does no
//! hashing. When label counts are known in advance (a tokenize-only
//! pre-pass), labels seen once never get a vector: their conditional entropy
//! is that row's own entropy, folded in at once.

use super::projection::Projected;
use super::Estimator;
use rayon::prelude::*;

/// Marks a row that has no label in a set (e.g. too close to a document end).
pub const NO_LABEL: u32 = u32::MAX;

const UNASSIGNED: u32 = u32::MAX;
const SINGLETON: u32 = u32::MAX - 1;

/// One label set as the accumulator sees it.
#[derive(Clone, Debug)]
pub struct LabelSpec {
    pub name: String,
    /// Number of distinct ids (ids are `0..n_ids`).
    pub n_ids: usize,
    /// Exact count of each id over everything that will be accumulated, if
    /// known. Enables the singleton shortcut and exact preallocation.
    pub counts: Option<Vec<u64>>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AccumulateError {
    #[error("embedding row {row} is all zeros: it has no direction")]
    ZeroRow { row: usize },
    #[error("embedding row {row} has a non-finite value (NaN or infinity)")]
    NonFinite { row: usize },
    #[error("{len} embedding values do not form rows of width d = {d}")]
    Ragged { len: usize, d: usize },
    #[error("label set {name:?} has {got} labels for {rows} rows")]
    LabelCount {
        name: String,
        got: usize,
        rows: usize,
    },
    #[error("label set {name:?} has id {id}, but only {n_ids} ids were declared")]
    LabelId { name: String, id: u32, n_ids: usize },
    #[error("expected {want} label sets, got {got}")]
    SetCount { want: usize, got: usize },
}

struct SetState {
    name: String,
    n_ids: usize,
    /// id → slot, or UNASSIGNED / SINGLETON.
    slot_of: Vec<u32>,
    /// slots × m sums of soft assignments.
    sums: Vec<f64>,
    /// Weight (count) per slot.
    weights: Vec<f64>,
    /// Σ weight · h(row) over rows whose label occurs once overall.
    singleton_h: f64,
    /// Sum of assignments (and weight) of rows *without* a label in this set;
    /// the set's own total is the accumulator's total minus this.
    missing: Vec<f64>,
    missing_weight: f64,
    /// Rows folded in as singletons (each is its own distinct label).
    singleton_rows: usize,
}

/// Rows ahead whose sums the accumulation prefetches: the slots are
/// scattered over a state far larger than L2, so each row's first touch
/// would otherwise wait on memory.
const PREFETCH_ROWS: usize = 8;

impl SetState {
    /// Adds one batch's rows to this set's sums, with the additions
    /// vectorised for the widest vectors the CPU has (element-wise sums:
    /// the same bits on every path).
    fn accumulate(&mut self, batch: &Projected, ids: &[u32], w: &impl Fn(usize) -> f64, m: usize) {
        lossy_base::math::simd::by_cpu!(
            avx512: self.accumulate_avx512(batch, ids, w, m),
            avx2: self.accumulate_avx2(batch, ids, w, m),
            plain: self.accumulate_rows(batch, ids, w, m),
        )
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn accumulate_avx512(
        &mut self,
        batch: &Projected,
        ids: &[u32],
        w: &impl Fn(usize) -> f64,
        m: usize,
    ) {
        self.accumulate_rows(batch, ids, w, m)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn accumulate_avx2(
        &mut self,
        batch: &Projected,
        ids: &[u32],
        w: &impl Fn(usize) -> f64,
        m: usize,
    ) {
        self.accumulate_rows(batch, ids, w, m)
    }

    #[inline(always)]
    fn accumulate_rows(
        &mut self,
        batch: &Projected,
        ids: &[u32],
        w: &impl Fn(usize) -> f64,
        m: usize,
    ) {
        for (r, &id) in ids.iter().enumerate() {
            if let Some(&ahead) = ids.get(r + PREFETCH_ROWS) {
                self.prefetch(ahead, m);
            }
            let wr = w(r);
            if wr == 0.0 {
                continue;
            }
            let p = batch.row(r, m);
            if id == NO_LABEL {
                add_scaled(&mut self.missing, p, wr);
                self.missing_weight += wr;
                continue;
            }
            let slot = match self.slot_of[id as usize] {
                SINGLETON => {
                    self.singleton_h += wr * batch.row_entropy[r];
                    self.singleton_rows += 1;
                    continue;
                }
                UNASSIGNED => {
                    let slot = self.weights.len() as u32;
                    self.slot_of[id as usize] = slot;
                    self.weights.push(0.0);
                    self.sums.resize(self.sums.len() + m, 0.0);
                    slot
                }
                slot => slot,
            } as usize;
            add_scaled(&mut self.sums[slot * m..(slot + 1) * m], p, wr);
            self.weights[slot] += wr;
        }
    }

    /// Asks for the sums of label `id`'s slot, if it has one.
    #[inline(always)]
    fn prefetch(&self, id: u32, m: usize) {
        #[cfg(target_arch = "x86_64")]
        if let Some(&slot) = self.slot_of.get(id as usize) {
            // Unassigned labels and singletons have no sums.
            if (slot as usize) < self.weights.len() {
                let sums = self.sums[slot as usize * m..].as_ptr().cast::<i8>();
                for byte in (0..m * std::mem::size_of::<f64>()).step_by(64) {
                    // SAFETY: the address is inside this slot's sums, and a
                    // prefetch is only a hint: it never faults.
                    unsafe {
                        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                        _mm_prefetch::<_MM_HINT_T0>(sums.add(byte));
                    }
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (id, m);
    }
}

/// Accumulated sums for one estimator (one layer) and any number of label sets.
pub struct Accumulator<'e> {
    est: &'e Estimator,
    total: Vec<f64>,
    weight: f64,
    sets: Vec<SetState>,
    /// Projection buffers reused by [`Accumulator::update`].
    scratch: Projected,
}

/// Entropy and mutual information for one label set.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SetResult {
    pub name: String,
    /// H(Z) over the rows that carry a label in this set.
    pub entropy: f64,
    /// Σ_x (n_x / N) H(Z | X = x).
    pub conditional_entropy: f64,
    /// I(X; Z) = H(Z) − H(Z | X).
    pub mutual_information: f64,
    /// I(X; Z) / H(Z).
    pub regularity: f64,
    /// Rows (weight) that carry a label.
    pub rows: f64,
    /// Distinct labels seen.
    pub distinct: usize,
}

impl SetResult {
    /// The set's estimates from H(Z), the weighted sum of its per-label
    /// entropies Σ_x n_x H(Z | X = x), its rows N and distinct labels.
    pub fn from_sums(name: &str, entropy: f64, cond: f64, n: f64, distinct: usize) -> Self {
        let conditional_entropy = if n > 0.0 { cond / n } else { f64::NAN };
        let mutual_information = entropy - conditional_entropy;
        SetResult {
            name: name.to_string(),
            entropy,
            conditional_entropy,
            mutual_information,
            regularity: if entropy > 0.0 {
                mutual_information / entropy
            } else {
                f64::NAN
            },
            rows: n,
            distinct,
        }
    }
}

/// What an accumulator estimates.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Estimate {
    /// H(Z) over every accumulated row.
    pub entropy: f64,
    pub rows: f64,
    pub sets: Vec<SetResult>,
}

/// Efficiency-normalised entropy of a vector of sums: normalise, then
/// −Σ p ln max(p, 1e-9) / ln m.
pub fn entropy_of_sums(sums: &[f64]) -> f64 {
    let total: f64 = sums.iter().sum();
    let ln_m = (sums.len() as f64).ln();
    -sums
        .iter()
        .map(|&s| {
            let p = s / total;
            p * p.max(1e-9).ln()
        })
        .sum::<f64>()
        / ln_m
}

impl<'e> Accumulator<'e> {
    pub fn new(est: &'e Estimator, specs: &[LabelSpec]) -> Self {
        let m = est.m;
        let sets = specs
            .par_iter()
            .map(|spec| {
                let mut slot_of = vec![UNASSIGNED; spec.n_ids];
                let mut slots = 0usize;
                if let Some(counts) = &spec.counts {
                    for (id, &c) in counts.iter().enumerate() {
                        slot_of[id] = if c == 1 {
                            SINGLETON
                        } else if c >= 2 {
                            slots += 1;
                            (slots - 1) as u32
                        } else {
                            UNASSIGNED
                        };
                    }
                }
                SetState {
                    name: spec.name.clone(),
                    n_ids: spec.n_ids,
                    slot_of,
                    sums: zeroed_writable(slots * m),
                    weights: vec![0.0; slots],
                    singleton_h: 0.0,
                    missing: vec![0.0; m],
                    missing_weight: 0.0,
                    singleton_rows: 0,
                }
            })
            .collect();
        Self {
            est,
            total: vec![0.0; m],
            weight: 0.0,
            sets,
            scratch: Projected::default(),
        }
    }

    /// Which rows of a batch need their own entropy for these labels: those
    /// whose label occurs once overall in some set. One lookup per row and
    /// set, the sets in parallel (the lookups are cache misses).
    pub fn row_entropy_mask(&self, labels: &[&[u32]], rows: usize) -> Vec<bool> {
        let singleton = |s: &SetState, id: u32| {
            id != NO_LABEL && (id as usize) < s.n_ids && s.slot_of[id as usize] == SINGLETON
        };
        self.sets
            .par_iter()
            .zip(labels.par_iter())
            .map(|(s, l)| l.iter().map(|&id| singleton(s, id)).collect::<Vec<_>>())
            .reduce(
                || vec![false; rows],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(a, b)| *a |= b);
                    a
                },
            )
    }

    /// Projects and accumulates one batch (`rows × d`); `labels[s][r]` is the
    /// id of row r in set s, or [`NO_LABEL`].
    pub fn update(&mut self, z: &[f32], labels: &[&[u32]]) -> Result<(), AccumulateError> {
        let mut projected = std::mem::take(&mut self.scratch);
        let need = self.row_entropy_mask(labels, z.len() / self.est.d.max(1));
        let result = self
            .est
            .project_into(z, |r| need.get(r) == Some(&true), &mut projected)
            .and_then(|()| self.accumulate(&projected, labels, None));
        self.scratch = projected;
        result
    }

    /// Accumulates an already projected batch, optionally with a weight per
    /// row (e.g. Poisson bootstrap weights).
    pub fn accumulate(
        &mut self,
        batch: &Projected,
        labels: &[&[u32]],
        weights: Option<&[f64]>,
    ) -> Result<(), AccumulateError> {
        let m = self.est.m;
        let rows = batch.rows;
        if labels.len() != self.sets.len() {
            return Err(AccumulateError::SetCount {
                want: self.sets.len(),
                got: labels.len(),
            });
        }
        for (s, l) in self.sets.iter().zip(labels) {
            if l.len() != rows {
                return Err(AccumulateError::LabelCount {
                    name: s.name.clone(),
                    got: l.len(),
                    rows,
                });
            }
            if let Some(&id) = l
                .iter()
                .find(|&&id| id != NO_LABEL && id as usize >= s.n_ids)
            {
                return Err(AccumulateError::LabelId {
                    name: s.name.clone(),
                    id,
                    n_ids: s.n_ids,
                });
            }
        }
        let w = |r: usize| weights.map_or(1.0, |w| w[r]);
        let (total, weight) = (&mut self.total, &mut self.weight);
        rayon::join(
            || {
                for r in 0..rows {
                    add_scaled(total, batch.row(r, m), w(r));
                    *weight += w(r);
                }
            },
            || {
                self.sets
                    .par_iter_mut()
                    .zip(labels.par_iter())
                    .for_each(|(set, ids)| set.accumulate(batch, ids, &w, m))
            },
        );
        Ok(())
    }

    /// The current estimates.
    pub fn estimate(&self) -> Estimate {
        let sets = self.sets.par_iter().map(|s| self.set_result(s)).collect();
        Estimate {
            entropy: entropy_of_sums(&self.total),
            rows: self.weight,
            sets,
        }
    }

    fn set_result(&self, s: &SetState) -> SetResult {
        let m = self.est.m;
        let n = self.weight - s.missing_weight;
        let totals: Vec<f64> = if s.missing_weight > 0.0 {
            self.total
                .iter()
                .zip(&s.missing)
                .map(|(t, x)| t - x)
                .collect()
        } else {
            self.total.clone()
        };
        let entropy = entropy_of_sums(&totals);
        let mut cond = s.singleton_h;
        let mut distinct = 0usize;
        for (slot, &wt) in s.weights.iter().enumerate() {
            if wt > 0.0 {
                cond += wt * entropy_of_sums(&s.sums[slot * m..(slot + 1) * m]);
                distinct += 1;
            }
        }
        distinct += s.singleton_rows;
        SetResult::from_sums(&s.name, entropy, cond, n, distinct)
    }

    /// Bytes held by the accumulated state (for memory reports).
    pub fn state_bytes(&self) -> usize {
        let f = std::mem::size_of::<f64>();
        self.total.len() * f
            + self
                .sets
                .iter()
                .map(|s| {
                    s.sums.capacity() * f
                        + s.weights.capacity() * f
                        + s.slot_of.capacity() * 4
                        + s.missing.len() * f
                })
                .sum::<usize>()
    }
}

/// Zeros whose pages are already mapped writable. `vec![0.0; n]` gets
/// untouched zero pages from the allocator; the accumulator's first `+=`
/// on each would read it (mapping the shared zero page) and then write it,
/// a copy-on-write fault that flushes every core's TLB. Writing each page
/// once here, before the threads start, avoids those.
fn zeroed_writable(n: usize) -> Vec<f64> {
    let mut v = vec![0.0; n];
    for i in (0..n).step_by(4096 / std::mem::size_of::<f64>()) {
        // SAFETY: i < n, so the pointer is in bounds and aligned.
        unsafe { std::ptr::write_volatile(v.as_mut_ptr().add(i), 0.0) };
    }
    v
}

#[inline(always)]
fn add_scaled(dst: &mut [f64], src: &[f64], w: f64) {
    if w == 1.0 {
        for (d, s) in dst.iter_mut().zip(src) {
            *d += s;
        }
    } else {
        for (d, s) in dst.iter_mut().zip(src) {
            *d += w * s;
        }
    }
}
