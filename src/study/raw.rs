//! The study file as written (version 1): serde types with every section
//! closed (`deny_unknown_fields`), so typos are caught, and spans on the
//! values that later checks may need to point at. Counts that must be at
//! least 1 are `NonZeroUsize`, so a 0 is rejected while parsing, at its line
//! and column; counts where 0 means something (`bootstrap: 0`, no intervals)
//! or the least is more than 1 (`bins`, `folds`) are checked in `check`.

use crate::features::estimator::labels::PositionPolicy;
use crate::features::estimator::Calibration;
use crate::figures::{ColumnWidth, FigureFormat, FigureKind, FigureStyle};
use crate::fit::{Method, Validation};
use crate::models::{HiddenStates, Precision};
use crate::scores::{Duplicates, SnapshotUse};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::num::NonZeroUsize;

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
    pub scores: Option<OneOrMany<RawScoreSource>>,
    pub fit: Option<RawFit>,
    #[serde(default)]
    pub figures: RawFigures,
    /// A preference probe set: columns `preference`, `preference_null`.
    pub preference: Option<Spanned<RawProbe>>,
    /// Further named probe sets: columns with the suffix `_<name>`.
    pub probes: Option<Spanned<Vec<Spanned<RawProbe>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    pub name: Option<Spanned<String>>,
    pub id: Option<Spanned<String>>,
    pub revision: Option<Spanned<String>>,
    pub revisions: Option<Spanned<RawRevisions>>,
    pub path: Option<Spanned<String>>,
    /// A checkpoint series on disk: a glob (`runs/exp1/checkpoint-*`) or a run folder.
    pub checkpoints: Option<Spanned<String>>,
    /// Overrides the rule that reads a series member's step from its name.
    pub step_regex: Option<Spanned<String>>,
    pub family: Option<String>,
    pub precision: Option<Precision>,
    /// Position in a checkpoint series (e.g. the training step), for trajectory figures.
    pub step: Option<f64>,
    /// Training tokens seen (a checkpoint's progress), a baseline column.
    pub tokens: Option<f64>,
    /// Withhold this model's scores from the fit: it is predicted and ranked.
    pub unreleased: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCorpus {
    pub dataset: Option<Spanned<RawDataset>>,
    pub path: Option<Spanned<String>>,
    pub paths: Option<Vec<Spanned<String>>>,
    pub text_field: Option<String>,
    pub max_documents: Option<Spanned<NonZeroUsize>>,
    pub sample_seed: Option<Spanned<u64>>,
    pub max_tokens: Option<Spanned<NonZeroUsize>>,
    pub add_special_tokens: Option<bool>,
}

/// A hub dataset as the corpus.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDataset {
    pub id: Spanned<String>,
    pub config: Option<String>,
    pub split: Option<String>,
    pub revision: Option<String>,
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
    pub batch_size: Option<Spanned<NonZeroUsize>>,
    pub hidden_states: Option<HiddenStates>,
    pub device: Option<Spanned<String>>,
    pub bootstrap: Option<usize>,
    pub bootstrap_seed: Option<u64>,
    pub bootstrap_blocks: Option<Spanned<usize>>,
    /// The memory a model's pass may use: `16GiB`, `512MiB` or bytes.
    pub memory: Option<Spanned<RawSize>>,
}

/// A size as written: a number of bytes or text such as `16GiB`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawSize {
    Bytes(u64),
    Text(String),
}

/// One score source: exactly one of `csv`, `parquet`, `lm_eval` or
/// `leaderboard`, with the options that apply to it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScoreSource {
    pub csv: Option<Spanned<String>>,
    pub parquet: Option<Spanned<String>>,
    pub lm_eval: Option<Spanned<String>>,
    pub leaderboard: Option<Spanned<String>>,
    pub model_column: Option<Spanned<String>>,
    pub revision_column: Option<Spanned<String>>,
    pub columns: Option<Spanned<BTreeMap<String, String>>>,
    pub prefix: Option<Spanned<String>>,
    pub duplicates: Option<Duplicates>,
    pub model_aliases: Option<BTreeMap<String, String>>,
    pub dataset: Option<Spanned<String>>,
    pub revision: Option<Spanned<String>>,
    pub snapshot: Option<Spanned<SnapshotUse>>,
}

/// `revisions:` as a list of names, or one glob over the repository's
/// branches and tags (`"step*"`).
#[derive(Debug)]
pub enum RawRevisions {
    List(Vec<String>),
    Pattern(String),
}

impl<'de> Deserialize<'de> for RawRevisions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawRevisions;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of revisions or a pattern such as \"step*\"")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Self::Value, A::Error> {
                Vec::<String>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(RawRevisions::List)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawRevisions::Pattern(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A section that takes one item or a list of them.
#[derive(Debug)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping or a list of mappings")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Self::Value, A::Error> {
                Vec::<T>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(OneOrMany)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|t| OneOrMany(vec![t]))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
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
    pub permutations: Option<Spanned<usize>>,
    pub higher_is_better: Option<bool>,
    pub hold_out: Option<RawHoldOut>,
    /// Baseline columns the features are compared with (default: every
    /// baseline the data supports).
    pub baselines: Option<Spanned<Vec<String>>>,
    /// Covariates of the partial correlations (default: log_params).
    pub control: Option<Spanned<Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHoldOut {
    pub column: Spanned<String>,
    pub threshold: Spanned<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFigures {
    pub formats: Option<Spanned<Vec<FigureFormat>>>,
    /// Figure kinds to draw (default: all the data supports).
    pub include: Option<Spanned<Vec<FigureKind>>>,
    pub width: Option<ColumnWidth>,
    pub dpi: Option<Spanned<f64>>,
    pub style: Option<FigureStyle>,
}

/// A probe set: a text corpus (the keys of `corpus`) or preference pairs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProbe {
    /// The column suffix of a `probes` entry.
    pub name: Option<Spanned<String>>,
    /// `text` (default in `probes`) or `preference`.
    pub kind: Option<Spanned<ProbeKindName>>,
    pub dataset: Option<Spanned<RawDataset>>,
    pub path: Option<Spanned<String>>,
    pub paths: Option<Vec<Spanned<String>>>,
    pub text_field: Option<Spanned<String>>,
    pub max_documents: Option<Spanned<NonZeroUsize>>,
    pub sample_seed: Option<Spanned<u64>>,
    pub max_tokens: Option<Spanned<NonZeroUsize>>,
    pub add_special_tokens: Option<bool>,
    pub prompt_field: Option<Spanned<String>>,
    pub chosen_field: Option<Spanned<String>>,
    pub rejected_field: Option<Spanned<String>>,
    pub max_pairs: Option<Spanned<NonZeroUsize>>,
    pub include_prompt: Option<Spanned<bool>>,
    pub chat_template: Option<Spanned<crate::corpus::preference::TemplateUse>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeKindName {
    Text,
    Preference,
}
