//! The functional API over in-memory arrays, like the reference's
//! accumulator: embeddings Z (N × d) and named label arrays (N integers, or
//! N × k integer tuples) in, entropy and mutual information out. Used by
//! `lossy estimate`.

use super::labels::LabelColumn;
use super::{accumulator::AccumulateError, Accumulator, Estimator, EstimatorError, EstimatorParams, EstimatorRecord};
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
    #[error("the embeddings are empty (no rows)")]
    Empty,
    #[error("label set `{name}` has {got} rows, but the embeddings have {want}")]
    LabelRows { name: String, got: usize, want: usize },
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
}

/// Estimates H(Z) and I(X;Z) for each label set; `null_seed` adds a
/// shuffled-label null per set.
pub fn estimate_arrays(z: &[f32], d: usize, labels: &[LabelArray], params: &EstimatorParams, null_seed: Option<u64>) -> Result<ArraysReport, ArraysError> {
    if z.is_empty() || d == 0 {
        return Err(ArraysError::Empty);
    }
    let rows = z.len() / d;
    let est = Estimator::new(params, d)?;
    let mut cols = Vec::new();
    for l in labels {
        let got = l.values.len() / l.width.max(1);
        if got != rows || l.values.len() % l.width.max(1) != 0 {
            return Err(ArraysError::LabelRows { name: l.name.clone(), got, want: rows });
        }
        if cols.iter().any(|c: &LabelColumn| c.name == l.name) {
            return Err(ArraysError::DuplicateName(l.name.clone()));
        }
        cols.push(LabelColumn::from_keys(&l.name, l.values.chunks(l.width).map(Some)));
    }
    if let Some(seed) = null_seed {
        let nulls: Vec<_> = cols.iter().map(|c| c.shuffled(seed)).collect();
        cols.extend(nulls);
    }
    let specs: Vec<_> = cols.iter().map(LabelColumn::spec).collect();
    let mut acc = Accumulator::new(&est, &specs);
    const BATCH: usize = 4096;
    for start in (0..rows).step_by(BATCH) {
        let end = (start + BATCH).min(rows);
        let ids: Vec<&[u32]> = cols.iter().map(|c| &c.ids[start..end]).collect();
        acc.update(&z[start * d..end * d], &ids).map_err(|e| match e {
            AccumulateError::NonFinite { row } => AccumulateError::NonFinite { row: row + start },
            AccumulateError::ZeroRow { row } => AccumulateError::ZeroRow { row: row + start },
            other => other,
        })?;
    }
    let e = acc.estimate();
    let (mut mi, mut reg, mut cond, mut distinct, mut null) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for s in &e.sets {
        if let Some(base) = s.name.strip_suffix("~null") {
            null.insert(base.to_string(), s.mutual_information);
            continue;
        }
        mi.insert(s.name.clone(), s.mutual_information);
        reg.insert(s.name.clone(), s.regularity);
        cond.insert(s.name.clone(), s.conditional_entropy);
        distinct.insert(s.name.clone(), s.distinct);
    }
    Ok(ArraysReport {
        epsilon: est.epsilon,
        calibration: est.calibration,
        entropy: e.entropy,
        mutual_information: mi,
        regularity: reg,
        conditional_entropy: cond,
        mutual_information_null: null_seed.map(|_| null),
        distinct_labels: distinct,
        rows,
        d,
        estimator: est.record(),
    })
}
