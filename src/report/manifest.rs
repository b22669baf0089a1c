//! `manifest.json`: the resolved study, lossy's version and git commit, content
//! hashes of the study, models, corpus and scores, the estimator (W, ε, seeds),
//! timings and the host, so any number in a report can be traced to what
//! produced it.

use crate::corpus::preference::PreferenceRecord;
use crate::corpus::probe::ProbeKind;
use crate::corpus::CorpusRecord;
use crate::features::estimator::EstimatorRecord;
use crate::study::Study;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct ModelRecord {
    pub name: String,
    pub family: Option<String>,
    /// The folder or file the model was loaded from (the hub cache snapshot for hub models).
    pub path: PathBuf,
    /// Hub id, the revision asked for, and the commit it resolved to.
    pub id: Option<String>,
    pub revision: Option<String>,
    pub commit: Option<String>,
    pub architecture: String,
    pub layers: usize,
    pub d: usize,
    pub non_embedding_params: usize,
    /// Every parameter, embeddings included.
    pub total_params: usize,
    /// sha256 over config, weights and tokenizer.
    pub sha256: String,
    pub documents: usize,
    pub tokens: usize,
    pub estimator_rows: usize,
    pub seconds: f64,
    /// Where `seconds` went; forward and estimating are zero when the
    /// features came from the cache.
    #[serde(default)]
    pub phases: PhaseSeconds,
    /// The feature-cache key (see `features::cache`), and whether the
    /// features came from the cache rather than a forward pass in this run.
    pub feature_cache_key: String,
    pub from_cache: bool,
}

/// One model's wall seconds by phase. With the estimator overlapped with
/// the forward pass (`LOSSY_OVERLAP=on`, the default on a GPU) `forward` and
/// `estimating` run at once and add up to more than the pass took.
#[derive(Clone, Copy, Debug, Default, Serialize, serde::Deserialize)]
pub struct PhaseSeconds {
    /// Locating and hashing the model's files.
    pub hashing: f64,
    /// Loading the weights and tokenizing the corpus.
    pub loading: f64,
    /// Inside the model's forward pass.
    pub forward: f64,
    /// Inside the estimator.
    pub estimating: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    pub lossy_version: &'static str,
    /// The commit lossy was built from ("unknown" outside a git checkout).
    pub git_commit: &'static str,
    pub host: super::host::Host,
    pub study_sha256: String,
    pub study: Study,
    pub models: Vec<ModelRecord>,
    /// The corpus the features were computed on (none when they were read from a table).
    pub corpus: Option<CorpusRecord>,
    /// The further probe sets: data hashes, columns, per-model cache keys
    /// (absent for a study without them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<ProbeRecord>,
    /// The table the features were read from (`lossy run --features`).
    pub features_from: Option<FeaturesFrom>,
    /// One estimator per hidden width (W depends on d).
    pub estimators: Vec<EstimatorRecord>,
    pub seeds: Seeds,
    /// Each score source: its hash or hub commit, columns, and what did not match.
    pub scores: Vec<crate::scores::SourceRecord>,
    pub files: Vec<String>,
    pub seconds_total: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Seeds {
    pub reference_points: u64,
    pub null_labels: Option<u64>,
}

/// Where features read from a file came from.
#[derive(Clone, Debug, Serialize)]
pub struct FeaturesFrom {
    pub path: PathBuf,
    pub sha256: String,
    pub layers: Option<PathBuf>,
}

/// What the manifest records about a probe set.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeRecord {
    pub name: String,
    pub kind: ProbeKind,
    /// The columns it added to `features.csv` and `layers.csv`.
    pub columns: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corpus: Option<CorpusRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preference: Option<PreferenceRecord>,
    pub models: Vec<ProbeModelRecord>,
}

/// What the manifest records about one model's run over a probe set.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct ProbeModelRecord {
    pub model: String,
    /// Sequences run (documents, or two per kept pair).
    pub sequences: usize,
    pub tokens: usize,
    pub estimator_rows: usize,
    /// Preference pairs dropped because truncation left a sequence no completion token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_pairs: Option<usize>,
    /// Where the chat template came from (preference sets of message lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_template: Option<PathBuf>,
    pub feature_cache_key: String,
    pub from_cache: bool,
}
