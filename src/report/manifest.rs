//! `manifest.json`: the resolved study, lossy's version and git commit, content
//! hashes of the study, models, corpus and scores, the estimator (W, ε, seeds),
//! timings and the host, so any number in a report can be traced to what
//! produced it.

use crate::corpus::CorpusRecord;
use crate::features::estimator::EstimatorRecord;
use crate::study::Study;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Clone, Debug, Serialize)]
pub struct ModelRecord {
    pub name: String,
    pub family: Option<String>,
    pub path: PathBuf,
    pub architecture: String,
    pub layers: usize,
    pub d: usize,
    pub non_embedding_params: usize,
    /// sha256 over config, weights and tokenizer.
    pub sha256: String,
    pub documents: usize,
    pub tokens: usize,
    pub estimator_rows: usize,
    pub seconds: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ScoresRecord {
    pub path: PathBuf,
    pub sha256: String,
    pub unmatched_models: Vec<String>,
    pub unused_rows: Vec<String>,
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
    pub corpus: CorpusRecord,
    /// One estimator per hidden width (W depends on d).
    pub estimators: Vec<EstimatorRecord>,
    pub seeds: Seeds,
    pub scores: Option<ScoresRecord>,
    pub files: Vec<String>,
    pub seconds_total: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Seeds {
    pub reference_points: u64,
    pub null_labels: Option<u64>,
}
