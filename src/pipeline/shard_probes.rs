//! A shard's probe sets: `lossy shard` runs its model over every probe set
//! of the study into the feature cache and lists, in its shard record, each
//! set's data sha256 and cache key; `lossy assemble` reads the sets' features
//! back by those keys, so it runs no model, hashes no weights and fetches
//! nothing (as for the main corpus, [`super::shard`]). A shard whose record
//! lacks a set, or whose set's entry is gone, is missing; one computed over
//! other data is stale.

use super::probe_sets::{self, ProbeData, ProbeFeatures, ProbeModelRecord};
use super::{Network, Progress, RunError};
use crate::features::cache::FeatureCache;
use crate::features::estimator::Estimator;
use crate::features::ModelFeatures;
use crate::study::Study;
use serde::{Deserialize, Serialize};

/// One probe set as a shard computed it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProbeShard {
    /// The set's name (`preference`, or its `probes:` name).
    pub probe: String,
    /// The sha256 of the set's data the shard read.
    pub data_sha256: String,
    /// The model's record over it, with its feature cache key.
    pub record: ProbeModelRecord,
}

/// A model's features over each probe set, in the study's order.
pub(super) type ShardSets = Vec<(ProbeModelRecord, ModelFeatures)>;

/// Runs the shard's one model (`one`) over every probe set into `features`.
pub(super) fn compute(
    one: &Study,
    network: &Network,
    features: &FeatureCache,
    estimators: &mut Vec<Estimator>,
    progress: &mut dyn Progress,
) -> Result<Vec<ProbeShard>, RunError> {
    if one.probes.is_empty() {
        return Ok(vec![]);
    }
    let data = probe_sets::load_all(one, network, progress)?;
    let sets = probe_sets::probe_sets(one, &data, network, Some(features), estimators, progress)?;
    let mut out = Vec::new();
    for (set, d) in sets.records.into_iter().zip(&data) {
        let record = set.models.into_iter().next().expect("one model probed");
        out.push(ProbeShard {
            probe: set.name,
            data_sha256: d.sha256().to_string(),
            record,
        });
    }
    Ok(out)
}

/// The probe sets a shard computed over other data than the study's now.
pub(super) fn stale(shard: &[ProbeShard], study: &Study, data: &[ProbeData]) -> Vec<String> {
    study
        .probes
        .iter()
        .zip(data)
        .filter_map(|(p, d)| {
            let label = p.label();
            let s = shard.iter().find(|s| s.probe == label)?;
            (s.data_sha256 != d.sha256()).then(|| format!("probe set `{label}` over other data"))
        })
        .collect()
}

/// A shard's features over each of the study's probe sets, from the cache,
/// or why it is missing.
pub(super) fn read(
    shard: &[ProbeShard],
    study: &Study,
    features: &FeatureCache,
    warn: &mut dyn FnMut(&str),
) -> Result<ShardSets, String> {
    let mut out = Vec::new();
    for probe in &study.probes {
        let label = probe.label();
        let Some(s) = shard.iter().find(|s| s.probe == label) else {
            return Err(format!(
                "probe set `{label}` not in its record: computed by an earlier lossy"
            ));
        };
        let Some((_, feats)) = features.get_or_warn(&s.record.feature_cache_key, warn) else {
            return Err(format!(
                "probe set `{label}`: cache entry absent or damaged"
            ));
        };
        let mut record = s.record.clone();
        record.from_cache = true;
        out.push((record, feats));
    }
    Ok(out)
}

/// The study's probe-set features and records from each model's shard sets
/// (study order), as a run that computed them would give.
pub(super) fn probe_features(
    study: &Study,
    data: &[ProbeData],
    models: Vec<ShardSets>,
) -> ProbeFeatures {
    let mut out = ProbeFeatures {
        features: vec![Vec::new(); data.len()],
        records: probe_sets::records(study, data),
    };
    for sets in models {
        for (i, (record, feats)) in sets.into_iter().enumerate() {
            out.features[i].push(feats);
            out.records[i].models.push(record);
        }
    }
    out
}
