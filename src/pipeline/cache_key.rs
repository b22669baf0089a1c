//! What identifies a model's features in the feature cache: the inputs its
//! key is hashed from (model content, corpus, settings, reference points).
//! Shared by the probe stage, the layer-group scheduler, the plan and
//! shards, so they all look up the same entry.

use super::RunError;
use crate::corpus::Corpus;
use crate::models::ModelEntry;
use crate::study::Study;

/// Everything a model's features depend on, for the feature-cache key.
pub fn cache_inputs(
    study: &Study,
    entry: &ModelEntry,
    corpus: &Corpus,
    model_sha256: &str,
    reference_points_sha256: Option<&str>,
) -> serde_json::Value {
    serde_json::json!({
        "model_sha256": model_sha256,
        "precision": entry.precision,
        "corpus_sha256": corpus.sha256,
        "max_tokens": study.corpus.max_tokens,
        "add_special_tokens": study.corpus.add_special_tokens,
        "features": study.features.cache_json(),
        "reference_points_sha256": reference_points_sha256,
    })
}

/// The hash of a study's reference-points file, if it names one.
pub fn reference_points_sha256(study: &Study) -> Result<Option<String>, RunError> {
    match &study.features.estimator.reference_points {
        Some(p) => Ok(Some(crate::io::hash::sha256_file(p).map_err(|source| {
            RunError::Io {
                path: p.clone(),
                source,
            }
        })?)),
        None => Ok(None),
    }
}
