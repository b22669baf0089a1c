//! Shards: a study's feature work split so that a cluster can spread it.
//! A shard is one model of the study (index = its place in the study's
//! model list after revision patterns are expanded). `lossy shard` computes
//! one, over the main corpus and every probe set, into the feature cache
//! (`features::cache`) and writes a small *shard record* beside it; `lossy
//! assemble` builds the report from the records and the cache alone, running
//! no model.
//!
//! A record lives in `$LOSSY_CACHE/shards/<study name>/<model>.json` and
//! says which study file (its sha256), corpus, reference points and feature
//! code produced which cache entry. The assembly refuses, naming them, shards
//! that are missing (no record, or a cache entry that is absent or damaged)
//! and shards whose study, corpus, reference points or feature code differ
//! from its own (a study edited between submission and assembly): it never
//! mixes numbers of two studies. It does not hash model weights again (that
//! is what makes it cheap): a local model folder rewritten after its shard
//! ran keeps the shard's features, as the record's `sha256` says.
//!
//! Records and cache entries are written by atomic rename (lossy-base's `io::atomic`),
//! so shards running at once on several machines never tear each other's
//! files; the shared filesystem must make a rename atomic and visible to the
//! other machines once the writer exits (NFS, Lustre and GPFS do).

use super::probe_sets::{ProbeData, ProbeFeatures};
use super::shard_probes::{self, ProbeShard, ShardSets};
use super::{Network, Progress, RunError, RunOptions};
use crate::corpus::Corpus;
use crate::features::cache::FeatureCache;
use crate::features::estimator::Estimator;
use crate::features::{ModelFeatures, ModelRow};
use crate::report::ModelRecord;
use crate::study::Study;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The format of a shard record.
const FORMAT: u32 = 1;

/// Which shard to compute.
#[derive(Clone, Debug)]
pub enum ShardTarget {
    /// The model with this name.
    Model(String),
    /// The model at this 0-based place (a Slurm array task id).
    Index(usize),
}

/// What a finished shard wrote next to its cache entry.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardRecord {
    pub format: u32,
    pub study: String,
    pub study_sha256: String,
    pub index: usize,
    pub model: String,
    pub corpus_sha256: String,
    pub reference_points_sha256: Option<String>,
    pub lossy_version: String,
    /// The hash of the feature code (`LOSSY_FEATURE_CODE`) that computed it.
    pub feature_code: String,
    /// The model as the run's manifest records it (its cache key included).
    pub record: ModelRecord,
    /// The model over each of the study's probe sets (none in records of
    /// lossy versions before shards computed them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<ProbeShard>,
}

#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("the study has no model named `{name}` (models: {models})")]
    NoSuchModel { name: String, models: String },
    #[error("shard index {index} is out of range: the study has {count} models (indices 0 to {})", count.saturating_sub(1))]
    IndexOutOfRange { index: usize, count: usize },
    #[error("study file {path} has changed since the jobs were submitted (sha256 {actual}, submitted {expected}); write and submit the jobs again")]
    StudyEdited {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("{} of {count} shards are missing in {dir}: {}; compute them with `lossy shard STUDY --index I` or resubmit those array tasks (`sbatch --array={} shards.sbatch`)", missing.len(), missing.join(", "), indices.join(","))]
    Missing {
        dir: PathBuf,
        count: usize,
        missing: Vec<String>,
        indices: Vec<String>,
    },
    #[error("{} shards in {dir} were computed for another version of the study, its corpus or lossy: {}; compute them again (`lossy shard STUDY --index I`)", stale.len(), stale.join("; "))]
    Stale { dir: PathBuf, stale: Vec<String> },
    #[error("shard record {path} is not a lossy shard record")]
    BadRecord {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("the feature cache did not keep the entry of model `{model}` ({path}); is the cache folder writable?")]
    NotCached { model: String, path: PathBuf },
    #[error("reading or writing shard record {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ShardError {
    /// Whether the input is at fault (exit 2) rather than the machine (exit 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, ShardError::Io { .. } | ShardError::NotCached { .. })
    }
}

/// The folder of a study's shard records in the feature cache `cache`.
pub fn records_dir(cache: &Path, study: &str) -> PathBuf {
    cache.join("shards").join(study)
}

/// A model's record file: its name when that is a safe file name, else the
/// name with other characters replaced and a short hash of it appended.
fn record_path(dir: &Path, model: &str) -> PathBuf {
    let safe: String = model
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
            _ => '_',
        })
        .collect();
    let stem = if safe == model && !model.starts_with('.') {
        safe
    } else {
        let h = crate::io::hash::sha256_hex(model.as_bytes());
        format!("{safe}-{}", &h[..12])
    };
    dir.join(format!("{stem}.json"))
}

/// Refuses a study file whose sha256 is not `expected` (when given).
pub fn check_study_sha256(study: &Study, expected: Option<&str>) -> Result<(), ShardError> {
    match expected {
        Some(e) if !e.eq_ignore_ascii_case(&study.file_sha256) => Err(ShardError::StudyEdited {
            path: study.file.clone(),
            expected: e.to_string(),
            actual: study.file_sha256.clone(),
        }),
        _ => Ok(()),
    }
}

/// The study's models once revision patterns are expanded: the shards, in order.
pub fn shard_models(
    study: &Study,
    options: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<Study, RunError> {
    super::expand_revisions(study, &Network::new(options), progress)
}

/// Computes one shard into the feature cache `cache` (reusing an entry
/// already there) and writes its record. Returns the record.
pub fn compute(
    study: &Study,
    target: &ShardTarget,
    cache: &Path,
    options: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<ShardRecord, RunError> {
    let network = Network::new(options);
    let expanded = super::expand_revisions(study, &network, progress)?;
    let index = find(&expanded, target)?;
    let mut one = expanded.clone();
    one.models = vec![expanded.models[index].clone()];
    let corpus = super::load_corpus(&one, &network, progress)?;
    let features = FeatureCache::new(cache.to_path_buf());
    let mut probed = super::probe::probe_all(&one, &corpus, &network, Some(&features), progress)?;
    let probes =
        shard_probes::compute(&one, &network, &features, &mut probed.estimators, progress)?;
    let record = probed.records.into_iter().next().expect("one model probed");
    let entries = std::iter::once((record.name.clone(), &record.feature_cache_key)).chain(
        probes.iter().map(|p| {
            let what = format!("{} over probe set {}", record.name, p.probe);
            (what, &p.record.feature_cache_key)
        }),
    );
    for (model, key) in entries {
        if features.get(key).is_none() {
            let path = cache.to_path_buf();
            return Err(ShardError::NotCached { model, path }.into());
        }
    }
    let shard = ShardRecord {
        format: FORMAT,
        study: study.name.clone(),
        study_sha256: study.file_sha256.clone(),
        index,
        model: record.name.clone(),
        corpus_sha256: corpus.sha256.clone(),
        reference_points_sha256: super::cache_key::reference_points_sha256(&one)?,
        lossy_version: env!("CARGO_PKG_VERSION").into(),
        feature_code: env!("LOSSY_FEATURE_CODE").into(),
        record,
        probes,
    };
    let path = record_path(&records_dir(cache, &study.name), &shard.model);
    let json = serde_json::to_vec_pretty(&shard).expect("shard record serialises");
    crate::io::atomic::write(&path, &json).map_err(|source| ShardError::Io {
        path: path.clone(),
        source,
    })?;
    progress.line(&format!(
        "shard {index} ({}) of {}: {}",
        shard.model,
        study.name,
        path.display()
    ));
    Ok(shard)
}

fn find(study: &Study, target: &ShardTarget) -> Result<usize, ShardError> {
    let count = study.models.len();
    match target {
        ShardTarget::Index(i) if *i < count => Ok(*i),
        ShardTarget::Index(i) => Err(ShardError::IndexOutOfRange { index: *i, count }),
        ShardTarget::Model(name) => study
            .models
            .iter()
            .position(|m| &m.name == name)
            .ok_or_else(|| ShardError::NoSuchModel {
                name: name.clone(),
                models: study
                    .models
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
    }
}

/// The model rows, records and estimators of every shard of `study`, and
/// its probe sets' features, read from the records and the cache; an error
/// names every missing or stale shard.
pub(super) fn assemble(
    study: &Study,
    corpus: &Corpus,
    probe_data: &[ProbeData],
    cache: &Path,
    progress: &mut dyn Progress,
) -> Result<(super::probe::Probed, ProbeFeatures), RunError> {
    let dir = records_dir(cache, &study.name);
    let inputs = Inputs {
        study,
        corpus,
        probe_data,
        reference_points: super::cache_key::reference_points_sha256(study)?,
        features: FeatureCache::new(cache.to_path_buf()),
    };
    let found = collect(&inputs, &dir, progress)?;
    let mut out = super::probe::Probed {
        rows: vec![],
        records: vec![],
        estimators: vec![],
    };
    let mut sets = Vec::new();
    for (entry, mut record, feats, probes) in found {
        if !out.estimators.iter().any(|e: &Estimator| e.d == record.d) {
            let est = Estimator::new(&study.features.estimator, record.d).map_err(|source| {
                RunError::Estimator {
                    name: entry.name.clone(),
                    source,
                }
            })?;
            out.estimators.push(est);
        }
        record.from_cache = true;
        out.rows.push(ModelRow {
            name: entry.name.clone(),
            family: entry.family.clone(),
            d: record.d,
            params: record.non_embedding_params,
            params_total: record.total_params,
            step: entry.step,
            train_tokens: entry.train_tokens,
            features: feats,
        });
        out.records.push(record);
        sets.push(probes);
    }
    progress.line(&format!(
        "assembled {} shards from {}",
        out.rows.len(),
        dir.display()
    ));
    Ok((out, shard_probes::probe_features(study, probe_data, sets)))
}

/// What the shards are checked against and read from.
struct Inputs<'a> {
    study: &'a Study,
    corpus: &'a Corpus,
    probe_data: &'a [ProbeData],
    reference_points: Option<String>,
    features: FeatureCache,
}

type Found<'a> = (
    &'a crate::models::ModelEntry,
    ModelRecord,
    ModelFeatures,
    ShardSets,
);

/// Why a shard cannot be assembled.
enum Unusable {
    /// Computed for another study, corpus, probe data or build.
    Stale(String),
    /// Its record or a cache entry is absent.
    Missing(String),
}

/// Every model's record and cached features, or an error naming the stale
/// shards (first) or the missing ones.
fn collect<'a>(
    inputs: &Inputs<'a>,
    dir: &Path,
    progress: &mut dyn Progress,
) -> Result<Vec<Found<'a>>, RunError> {
    let study = inputs.study;
    let (mut missing, mut indices, mut stale, mut found) = (vec![], vec![], vec![], vec![]);
    for (i, entry) in study.models.iter().enumerate() {
        let shard = read_record(&record_path(dir, &entry.name))?;
        match check(inputs, i, shard, progress) {
            Ok((record, feats, sets)) => found.push((entry, record, feats, sets)),
            Err(Unusable::Stale(why)) => stale.push(format!("{i} {} ({why})", entry.name)),
            Err(Unusable::Missing(why)) => {
                missing.push(format!("{i} {} ({why})", entry.name));
                indices.push(i.to_string());
            }
        }
    }
    let dir = dir.to_path_buf();
    if !stale.is_empty() {
        return Err(ShardError::Stale { dir, stale }.into());
    }
    if !missing.is_empty() {
        let count = study.models.len();
        return Err(ShardError::Missing {
            dir,
            count,
            missing,
            indices,
        }
        .into());
    }
    Ok(found)
}

/// Shard `i`'s record and features (main corpus and probe sets), or why it
/// cannot be used.
fn check(
    inputs: &Inputs,
    i: usize,
    shard: Option<ShardRecord>,
    progress: &mut dyn Progress,
) -> Result<(ModelRecord, ModelFeatures, ShardSets), Unusable> {
    let Some(shard) = shard else {
        return Err(Unusable::Missing("no record".into()));
    };
    let differs = differences(&shard, inputs, i);
    if !differs.is_empty() {
        return Err(Unusable::Stale(differs.join(", ")));
    }
    let mut warn = |m: &str| progress.line(m);
    let Some((_, feats)) = inputs
        .features
        .get_or_warn(&shard.record.feature_cache_key, &mut warn)
    else {
        return Err(Unusable::Missing("cache entry absent or damaged".into()));
    };
    let sets = shard_probes::read(&shard.probes, inputs.study, &inputs.features, &mut warn)
        .map_err(Unusable::Missing)?;
    Ok((shard.record, feats, sets))
}

fn read_record(path: &Path) -> Result<Option<ShardRecord>, ShardError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ShardError::Io {
                path: path.into(),
                source,
            })
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| ShardError::BadRecord {
            path: path.into(),
            source,
        })
}

/// What differs between a shard and the study being assembled.
fn differences(shard: &ShardRecord, inputs: &Inputs, index: usize) -> Vec<String> {
    let (study, corpus) = (inputs.study, inputs.corpus);
    let short = |s: &str| s.chars().take(12).collect::<String>();
    let mut out = vec![];
    if shard.study_sha256 != study.file_sha256 {
        out.push(format!(
            "study sha256 {} here, {} in the shard",
            short(&study.file_sha256),
            short(&shard.study_sha256)
        ));
    }
    if shard.corpus_sha256 != corpus.sha256 {
        out.push("another corpus".into());
    }
    if shard.reference_points_sha256 != inputs.reference_points {
        out.push("other reference points".into());
    }
    if shard.feature_code != env!("LOSSY_FEATURE_CODE") {
        out.push(format!(
            "computed by another build of lossy ({})",
            shard.lossy_version
        ));
    }
    if shard.format != FORMAT || shard.index != index || shard.model != study.models[index].name {
        out.push(format!("shard {} of another model list", shard.index));
    }
    out.extend(shard_probes::stale(&shard.probes, study, inputs.probe_data));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_files_are_the_model_name_or_a_safe_name_with_a_hash() {
        let d = Path::new("/c");
        assert_eq!(record_path(d, "tiny-a.v2_x"), d.join("tiny-a.v2_x.json"));
        let odd = record_path(d, "org/name");
        let name = odd.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("org_name-") && name.ends_with(".json"));
        assert_ne!(record_path(d, "org/name"), record_path(d, "org_name"));
        assert_ne!(record_path(d, "a/b"), record_path(d, "a:b"));
        assert!(record_path(d, "..").starts_with(d));
        assert_ne!(record_path(d, ".."), d.join("...json"));
    }
}
