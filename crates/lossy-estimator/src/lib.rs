//! lossy-estimator: the soft-entropy estimator of Conklin (2025), as used by *Learning is
//! Forgetting* (Conklin et al., ICLR 2026): entropy H(Z) of a set of vectors
//! softly binned onto m reference directions, conditional entropies per label,
//! and mutual information I(X; Z) = H(Z) − Σ_x p(x) H(Z | X = x).
//!
//! It matches the reference implementation (`soft-entropy`, numpy backend)
//! given the same reference points, and fixes its known problems: f64 sums,
//! exact label keys, any number of label sets in one pass, an explicit
//! position policy, bounded memory for singleton labels and a shuffled-label
//! null. Pure maths: no file or network access except loading W from `.npy`.
//!
//! - [`calibration`]: the temperature ε.
//! - [`reference_points`]: W, generated reproducibly or loaded.
//! - [`accumulator`]: streaming sums and the estimates.
//! - [`labels`]: n-gram label sets, positions, pooling, nulls.

pub mod accumulator;
pub mod arrays;
mod bessel;
pub mod blocks;
pub mod bootstrap;
mod brent;
pub mod calibration;
pub mod labels;
pub mod projection;
pub mod reference_points;

pub use accumulator::{Accumulator, Estimate, LabelSpec, SetResult, NO_LABEL};
pub use calibration::Calibration;
pub use reference_points::WSource;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Unchecked estimator settings, as written in a study or on the command line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EstimatorParams {
    /// Number of reference points m.
    pub bins: usize,
    /// Seed for generated reference points.
    pub seed: u64,
    pub calibration: Calibration,
    /// Load W from this `.npy` file instead of generating it.
    pub reference_points: Option<PathBuf>,
}

impl Default for EstimatorParams {
    fn default() -> Self {
        Self {
            bins: 100,
            seed: 0,
            calibration: Calibration::FindEps,
            reference_points: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EstimatorError {
    #[error(transparent)]
    Calibration(#[from] calibration::CalibrationError),
    #[error(transparent)]
    ReferencePoints(#[from] reference_points::WError),
    #[error("embeddings must have at least one dimension")]
    ZeroWidth,
    #[error("at most {max} reference points are supported, not {bins}")]
    TooManyBins { bins: usize, max: usize },
}

/// Most reference points W may have (as `features.bins` in a study): W and
/// the per-row projections are m wide, so m is bounded before anything is allocated.
pub const MAX_BINS: usize = 1 << 16;

/// A validated estimator for one width d: W, ε and their provenance.
#[derive(Clone, Debug)]
pub struct Estimator {
    pub m: usize,
    pub d: usize,
    pub epsilon: f64,
    pub calibration: Calibration,
    /// m × d, row-major, unit rows.
    pub w: Vec<f32>,
    pub w_source: WSource,
    /// Wᵀ (d × m, row-major), the projection GEMM's right-hand side, made
    /// on first use: in f32, and widened to f64 for tiny-ε projections.
    wt32: std::sync::OnceLock<Vec<f32>>,
    wt64: std::sync::OnceLock<Vec<f64>>,
}

/// What to record in outputs about an estimator.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EstimatorRecord {
    pub bins: usize,
    pub d: usize,
    pub epsilon: f64,
    pub calibration: Calibration,
    pub reference_points: WSource,
}

impl Estimator {
    pub fn new(params: &EstimatorParams, d: usize) -> Result<Self, EstimatorError> {
        if d == 0 {
            return Err(EstimatorError::ZeroWidth);
        }
        if params.reference_points.is_none() && params.bins > MAX_BINS {
            return Err(EstimatorError::TooManyBins {
                bins: params.bins,
                max: MAX_BINS,
            });
        }
        let (m, w, w_source) = match &params.reference_points {
            Some(path) => reference_points::load(path, d)?,
            None => (
                params.bins,
                reference_points::generate(params.bins, d, params.seed),
                WSource::Generated {
                    algorithm: reference_points::ALGORITHM.into(),
                    seed: params.seed,
                },
            ),
        };
        let epsilon = calibration::epsilon(params.calibration, m, d)?;
        Ok(Self {
            m,
            d,
            epsilon,
            calibration: params.calibration,
            w,
            w_source,
            wt32: Default::default(),
            wt64: Default::default(),
        })
    }

    /// An estimator with explicit W and ε (tests, fixtures).
    pub fn from_parts(w: Vec<f32>, m: usize, d: usize, epsilon: f64, w_source: WSource) -> Self {
        assert_eq!(w.len(), m * d);
        Self {
            m,
            d,
            epsilon,
            calibration: Calibration::FindEps,
            w,
            w_source,
            wt32: Default::default(),
            wt64: Default::default(),
        }
    }

    /// Wᵀ in f32: contiguous columns of W make the GEMM ~20% faster than
    /// reading W with transposed strides.
    pub fn wt32(&self) -> &[f32] {
        self.wt32.get_or_init(|| {
            (0..self.d * self.m)
                .map(|i| self.w[(i % self.m) * self.d + i / self.m])
                .collect()
        })
    }

    pub fn wt64(&self) -> &[f64] {
        self.wt64
            .get_or_init(|| self.wt32().iter().map(|&x| x as f64).collect())
    }

    pub fn record(&self) -> EstimatorRecord {
        EstimatorRecord {
            bins: self.m,
            d: self.d,
            epsilon: self.epsilon,
            calibration: self.calibration,
            reference_points: self.w_source.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
