//! The study file as written (version 1): serde types with every section
//! closed (`deny_unknown_fields`), so typos are caught, and spans on the
//! values that later checks may need to point at.

use crate::features::estimator::labels::PositionPolicy;
use crate::features::estimator::Calibration;
use crate::figures::{ColumnWidth, FigureKind};
use crate::fit::{Method, Validation};
use crate::models::{HiddenStates, Precision};
use serde::Deserialize;
use serde_saphyr::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStudy {
    pub version: Spanned<u32>,
    pub name: Option<Spanned<String>>,
    pub description: Option<String>,
    pub models: Spanned<Vec<RawModel>>,
    pub corpus: RawCorpus,
    #[serde(default)]
    pub features: RawFeatures,
    pub scores: Option<RawScores>,
    pub fit: Option<RawFit>,
    #[serde(default)]
    pub figures: RawFigures,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    pub name: Option<Spanned<String>>,
    pub path: Spanned<String>,
    pub family: Option<String>,
    pub precision: Option<Precision>,
    /// Position in a checkpoint series (e.g. the training step), for trajectory figures.
    pub step: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCorpus {
    pub path: Option<Spanned<String>>,
    pub paths: Option<Vec<Spanned<String>>>,
    pub text_field: Option<String>,
    pub max_documents: Option<Spanned<usize>>,
    pub max_tokens: Option<Spanned<usize>>,
    pub add_special_tokens: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeatures {
    pub orders: Option<Spanned<Vec<usize>>>,
    pub positions: Option<PositionPolicy>,
    pub bins: Option<Spanned<usize>>,
    pub seed: Option<u64>,
    pub calibration: Option<Calibration>,
    pub reference_points: Option<Spanned<String>>,
    pub min_count: Option<u64>,
    pub shuffled_null: Option<bool>,
    pub batch_size: Option<Spanned<usize>>,
    pub hidden_states: Option<HiddenStates>,
    pub bootstrap: Option<usize>,
    pub bootstrap_seed: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScores {
    pub csv: Spanned<String>,
    pub model_column: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFit {
    pub target: Spanned<String>,
    pub features: Option<Spanned<Vec<String>>>,
    pub method: Option<Method>,
    pub validation: Option<Validation>,
    pub folds: Option<Spanned<usize>>,
    pub seed: Option<u64>,
    pub interval: Option<Spanned<f64>>,
    pub permutations: Option<usize>,
    pub higher_is_better: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFigures {
    pub formats: Option<Spanned<Vec<FigureFormatName>>>,
    /// Figure kinds to draw (default: all the data supports).
    pub include: Option<Spanned<Vec<FigureKind>>>,
    pub width: Option<ColumnWidth>,
    pub dpi: Option<Spanned<f64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FigureFormatName {
    Svg,
    Png,
    Pdf,
}
