//! The functional API over in-memory arrays, like the reference's
//! accumulator: embeddings Z (N × d) and named label arrays (N integers, or
//! N × k integer tuples) in, entropy and mutual information out. Used by
//! `lossy estimate`.

use super::labels::LabelColumn;
use super::{
    accumulator::AccumulateError, Accumulator, Estimator, EstimatorError, EstimatorParams,
    EstimatorRecord, SetResult,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// A named label array: `values` holds N rows of `width` integers.
pub struct LabelArray {
    pub name: String,
    pub values: Vec<i64>,
    pub width: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ArraysError {
    #[error(transparent)]
    Read(#[from] lossy_base::io::npy::NpyError),
    #[error("the embeddings are empty (no rows)")]
    Empty,
    #[error("label set `{name}` has {got} rows, but the embeddings have {want}")]
    LabelRows {
        name: String,
        got: usize,
        want: usize,
    },
    #[error("label set name `{0}` is used twice")]
    DuplicateName(String),
    #[error(transparent)]
    Estimator(#[from] EstimatorError),
    #[error(transparent)]
    Accumulate(#[from] AccumulateError),
}

/// What `lossy estimate` prints.
#[derive(Debug, Serialize)]
pub struct ArraysReport {
    pub epsilon: f64,
    pub calibration: super::Calibration,
    pub entropy: f64,
    pub mutual_information: BTreeMap<String, f64>,
    pub regularity: BTreeMap<String, f64>,
    pub conditional_entropy: BTreeMap<String, f64>,
    /// MI with shuffled labels, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutual_information_null: Option<BTreeMap<String, f64>>,
    pub distinct_labels: BTreeMap<String, usize>,
    pub rows: usize,
    pub d: usize,
    pub estimator: EstimatorRecord,
    /// Labels seen fewer times than this were pooled (1 = none).
    pub min_count: u64,
    /// Bytes of accumulated state (sums per label), excluding the input.
    pub state_bytes: usize,
    /// Wall time of the estimate (projection and accumulation), excluding
    /// reading the labels.
    pub seconds: f64,
}

/// Where embedding rows come from: fills `out` with up to `max_rows` rows
/// (row-major, d wide) and returns how many; 0 at the end.
pub type RowSource<'a> = &'a mut dyn FnMut(usize, &mut Vec<f32>) -> Result<usize, ArraysError>;

/// Where the rows of Z come from.
pub enum Rows<'a> {
    /// A memory-mapped file: batches are read in place; a helper thread
    /// maps each batch's pages ahead and releases them once accumulated.
    Mapped(&'a lossy_base::io::npy::MappedF32),
    /// Rows read batch by batch (arrays larger than memory, f64 files).
    Stream(RowSource<'a>),
}

/// Rows per batch read from the source.
pub const BATCH: usize = 4096;

/// Options of [`estimate_arrays`] beyond the estimator itself.
#[derive(Clone, Debug, Default)]
pub struct ArraysOptions {
    /// Add a shuffled-label null per set, with this seed.
    pub null_seed: Option<u64>,
    /// Pool labels seen fewer times than this (0 or 1 = no pooling).
    pub min_count: u64,
}

/// Each label array as a checked column (one label per row, unique names),
/// rare labels pooled, and a shuffled null per set when asked.
fn label_columns(
    labels: &[LabelArray],
    rows: usize,
    opts: &ArraysOptions,
) -> Result<Vec<LabelColumn>, ArraysError> {
    let mut cols = Vec::new();
    for l in labels {
        let got = l.values.len() / l.width.max(1);
        if got != rows || l.values.len() % l.width.max(1) != 0 {
            return Err(ArraysError::LabelRows {
                name: l.name.clone(),
                got,
                want: rows,
            });
        }
        if cols.iter().any(|c: &LabelColumn| c.name == l.name) {
            return Err(ArraysError::DuplicateName(l.name.clone()));
        }
        let mut col = LabelColumn::from_keys(&l.name, l.values.chunks(l.width).map(Some));
        col.pool_rare(opts.min_count);
        cols.push(col);
    }
    if let Some(seed) = opts.null_seed {
        let nulls: Vec<_> = cols.iter().map(|c| c.shuffled(seed)).collect();
        cols.extend(nulls);
    }
    Ok(cols)
}

/// The sets' results by name; a `~null` set's MI goes under its base name.
#[derive(Default)]
struct SetMaps {
    mi: BTreeMap<String, f64>,
    regularity: BTreeMap<String, f64>,
    conditional: BTreeMap<String, f64>,
    distinct: BTreeMap<String, usize>,
    null: BTreeMap<String, f64>,
}

impl SetMaps {
    fn of(sets: &[SetResult]) -> Self {
        let mut m = SetMaps::default();
        for s in sets {
            if let Some(base) = s.name.strip_suffix("~null") {
                m.null.insert(base.to_string(), s.mutual_information);
                continue;
            }
            m.mi.insert(s.name.clone(), s.mutual_information);
            m.regularity.insert(s.name.clone(), s.regularity);
            m.conditional.insert(s.name.clone(), s.conditional_entropy);
            m.distinct.insert(s.name.clone(), s.distinct);
        }
        m
    }
}

/// Estimates H(Z) and I(X;Z) for each label set over `rows` rows of width d
/// taken from `source` in batches.
pub fn estimate_arrays(
    source: Rows,
    rows: usize,
    d: usize,
    labels: &[LabelArray],
    params: &EstimatorParams,
    opts: &ArraysOptions,
) -> Result<ArraysReport, ArraysError> {
    if rows == 0 || d == 0 {
        return Err(ArraysError::Empty);
    }
    let est = Estimator::new(params, d)?;
    let cols = label_columns(labels, rows, opts)?;
    let started = std::time::Instant::now();
    let specs: Vec<_> = cols.iter().map(LabelColumn::spec).collect();
    let mut acc = Accumulator::new(&est, &specs);
    let mut update = |z: &[f32], start: usize| {
        let ids: Vec<&[u32]> = cols
            .iter()
            .map(|c| &c.ids[start..start + z.len() / d])
            .collect();
        acc.update(z, &ids).map_err(|e| match e {
            AccumulateError::NonFinite { row } => AccumulateError::NonFinite { row: row + start },
            AccumulateError::ZeroRow { row } => AccumulateError::ZeroRow { row: row + start },
            other => other,
        })
    };
    match source {
        Rows::Mapped(m) => {
            m.for_each_batch(rows * d, BATCH * d, |first, batch| update(batch, first / d))?
        }
        Rows::Stream(source) => {
            let mut z = Vec::with_capacity(BATCH * d);
            let mut start = 0;
            loop {
                let n = source(BATCH, &mut z)?;
                if n == 0 {
                    break;
                }
                update(&z, start)?;
                start += n;
            }
        }
    }
    let e = acc.estimate();
    let sets = SetMaps::of(&e.sets);
    Ok(ArraysReport {
        epsilon: est.epsilon,
        calibration: est.calibration,
        entropy: e.entropy,
        mutual_information: sets.mi,
        regularity: sets.regularity,
        conditional_entropy: sets.conditional,
        mutual_information_null: opts.null_seed.map(|_| sets.null),
        distinct_labels: sets.distinct,
        rows,
        d,
        estimator: est.record(),
        min_count: opts.min_count.max(1),
        state_bytes: acc.state_bytes(),
        seconds: started.elapsed().as_secs_f64(),
    })
}
