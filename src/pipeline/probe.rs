//! The probe stage: each model located (a local folder or GGUF file, or
//! fetched from the hub at a pinned commit), loaded, run over the corpus, and
//! reduced to features. One estimator per hidden width is shared, so models
//! of the same width see the same reference points. Features found in the
//! feature cache (same model content, corpus, settings and code) are reused
//! without loading the model.

use super::{ModelStatus, Network, Phase, Progress, RunError};
use crate::corpus::Corpus;
use crate::features::cache::{self, CachedModel, FeatureCache};
use crate::features::estimator::Estimator;
use crate::features::{self, ModelRow, Overlap};
use crate::models::{hub_source, tokenizer::Tokenizer, Model, ModelEntry, ModelFiles};
use crate::report::{manifest::PhaseSeconds, ModelRecord};
use crate::study::Study;
use std::path::PathBuf;
use std::time::Instant;

pub struct Probed {
    pub rows: Vec<ModelRow>,
    pub records: Vec<ModelRecord>,
    pub estimators: Vec<Estimator>,
}

/// Where a model's files are, and the commit they came from (hub models).
pub struct Located {
    pub dir: PathBuf,
    pub commit: Option<String>,
}

/// A local path as given, or the hub snapshot folder after fetching.
pub fn locate(
    entry: &ModelEntry,
    network: &Network,
    weights: bool,
    progress: &mut dyn Progress,
) -> Result<Located, RunError> {
    if let Some(path) = &entry.path {
        return Ok(Located {
            dir: path.clone(),
            commit: None,
        });
    }
    let id = entry
        .id
        .as_deref()
        .expect("the study checker requires a path or an id");
    let revision = entry.revision.as_deref().unwrap_or("main");
    let fetch_err = |source| RunError::Fetch {
        name: entry.name.clone(),
        source,
    };
    let hub = network.hub().map_err(|e| fetch_err(e.into()))?;
    let fetched = hub_source::fetch(hub, id, revision, weights).map_err(fetch_err)?;
    let how = if fetched.resolved.from_cache {
        " (from the cache: the hub was not asked)"
    } else {
        ""
    };
    progress.line(&format!(
        "{}: {id}@{revision} is commit {}{how}",
        entry.name, fetched.resolved.sha
    ));
    Ok(Located {
        dir: fetched.dir,
        commit: Some(fetched.resolved.sha),
    })
}

/// Whether the estimator runs beside the forward pass: yes where the two
/// use different hardware (a GPU computes while the CPU estimates); on the
/// CPU they share the cores (see reports/bench/end_to_end.md).
/// `LOSSY_OVERLAP=on|off` overrides the choice, for benchmarks; the features
/// are bit-identical either way.
fn overlap_for(device: &crate::models::DeviceSpec) -> Overlap {
    match std::env::var("LOSSY_OVERLAP").as_deref() {
        Ok("on") => Overlap::On,
        Ok("off") => Overlap::Off,
        _ if device.is_cpu() => Overlap::Off,
        _ => Overlap::On,
    }
}

pub fn probe_all(
    study: &Study,
    corpus: &Corpus,
    network: &Network,
    cache: Option<&FeatureCache>,
    progress: &mut dyn Progress,
) -> Result<Probed, RunError> {
    let device = study.features.device.open()?;
    let overlap = overlap_for(&study.features.device);
    let mut out = Probed {
        rows: Vec::new(),
        records: Vec::new(),
        estimators: Vec::new(),
    };
    let reference_points = reference_points_sha256(study)?;
    let schedules = super::passes::schedule_all(study, corpus, network, cache, progress)?;
    for (i, entry) in study.models.iter().enumerate() {
        let t0 = Instant::now();
        let name = entry.name.clone();
        let model_err = |source| RunError::Model {
            name: name.clone(),
            source,
        };
        let status = |phase, pass| ModelStatus {
            name: &entry.name,
            index: i,
            models: study.models.len(),
            phase,
            pass,
        };
        let none = features::PassProgress::default();
        let located = locate(entry, network, true, progress)?;
        progress.model(&status(Phase::Hashing, none));
        let files =
            ModelFiles::locate_with_root(&located.dir, entry.root.as_deref()).map_err(model_err)?;
        let hashing = t0.elapsed().as_secs_f64();
        let (mut loading, mut pass) = (0.0, none);
        let inputs = cache_inputs(
            study,
            entry,
            corpus,
            &files.sha256,
            reference_points.as_deref(),
        );
        let key = cache::key(&inputs);
        let (hit, _lock) = cached_or_locked(cache, &key, &name, progress);
        let cached = hit.is_some();
        let (facts, feats, sha256) = match hit {
            Some((facts, feats)) => (facts, feats, files.sha256.clone()),
            None => {
                progress.model(&status(Phase::Loading, none));
                let t1 = Instant::now();
                let tokenizer = Tokenizer::from_file(&files.tokenizer).map_err(model_err)?;
                let model = Model::load_as(files, &device, entry.precision).map_err(model_err)?;
                let (docs, ends) = corpus
                    .tokenize_with_ends(&tokenizer, &study.corpus)
                    .map_err(|source| RunError::Tokenize {
                        name: name.clone(),
                        source,
                    })?;
                let est = estimator_for(&mut out.estimators, study, model.hidden_size(), &name)?;
                loading = t1.elapsed().as_secs_f64();
                progress.model(&status(Phase::Running, none));
                let mut observe = |p: &features::PassProgress| {
                    pass = *p;
                    progress.model(&status(Phase::Running, *p));
                };
                let facts = CachedModel {
                    architecture: model.config.model_type.clone(),
                    layers: model.num_layers(),
                    d: model.hidden_size(),
                    non_embedding_params: model.config.non_embedding_params(),
                    total_params: model.config.total_params(),
                };
                let all = [0..model.num_layers() + 1];
                let groups = schedules[i].as_deref().unwrap_or(&all);
                let store = cache.map(|cache| super::passes::GroupStore {
                    cache,
                    inputs: &inputs,
                    facts: &facts,
                });
                let mut notes = Vec::new();
                let feats = super::passes::extract_groups(
                    &model,
                    (&docs, &ends),
                    &study.features,
                    est,
                    groups,
                    overlap,
                    store,
                    &mut observe,
                    &mut notes,
                );
                for n in notes {
                    progress.line(&format!("{name}: {n}"));
                }
                let feats = feats.map_err(|source| RunError::Features {
                    name: name.clone(),
                    source,
                })?;
                if let Some(c) = cache {
                    if let Err(e) = c.put(&key, &inputs, &facts, &feats) {
                        progress.line(&format!(
                            "{name}: could not write the feature cache ({e}); continuing"
                        ));
                    }
                }
                (facts, feats, model.files.sha256.clone())
            }
        };
        estimator_for(&mut out.estimators, study, facts.d, &name)?;
        let seconds = t0.elapsed().as_secs_f64();
        progress.model(&status(Phase::Done, pass));
        let timing = if cached {
            format!("{seconds:.1}s, hashing {hashing:.1}s (cached)")
        } else {
            format!(
                "{seconds:.1}s (hashing {hashing:.1}s, loading {loading:.1}s, forward {:.1}s, estimating {:.1}s; {:.0} tok/s)",
                pass.forward_seconds,
                pass.estimating_seconds,
                pass.tokens as f64 / pass.seconds.max(1e-9)
            )
        };
        progress.line(&format!(
            "[{}/{}] {name}: {} layers, d = {}, {} tokens, {} positions, {timing}",
            i + 1,
            study.models.len(),
            facts.layers,
            facts.d,
            feats.tokens,
            feats.rows,
        ));
        out.records.push(ModelRecord {
            name: name.clone(),
            family: entry.family.clone(),
            path: located.dir.clone(),
            id: entry.id.clone(),
            revision: entry.revision.clone(),
            commit: located.commit.clone(),
            architecture: facts.architecture.clone(),
            layers: facts.layers,
            d: facts.d,
            non_embedding_params: facts.non_embedding_params,
            total_params: facts.total_params,
            sha256,
            documents: feats.documents,
            tokens: feats.tokens,
            estimator_rows: feats.rows,
            seconds,
            phases: PhaseSeconds {
                hashing,
                loading,
                forward: pass.forward_seconds,
                estimating: pass.estimating_seconds,
            },
            feature_cache_key: key,
            from_cache: cached,
        });
        out.rows.push(ModelRow {
            name,
            family: entry.family.clone(),
            d: facts.d,
            params: facts.non_embedding_params,
            params_total: facts.total_params,
            step: entry.step,
            train_tokens: entry.train_tokens,
            features: feats,
        });
    }
    Ok(out)
}

/// The cached entry, or else the entry's lock, held while this process
/// computes it: a second process on the same cache waits, then reads the
/// entry the first wrote. Without a lock (a file system that refuses one)
/// the model is computed anyway; the atomic rename keeps the entry whole.
fn cached_or_locked(
    cache: Option<&FeatureCache>,
    key: &str,
    name: &str,
    progress: &mut dyn Progress,
) -> (
    Option<(CachedModel, features::ModelFeatures)>,
    Option<cache::EntryLock>,
) {
    let Some(c) = cache else {
        return (None, None);
    };
    if let Some(hit) = c.get_or_warn(key, &mut |m| progress.line(m)) {
        return (Some(hit), None);
    }
    let mut waiting = || {
        progress.line(&format!(
            "{name}: another process is computing these features in the same cache; waiting for it"
        ))
    };
    match c.lock(key, &mut waiting) {
        Ok(lock) => (c.get(key), Some(lock)),
        Err(e) => {
            progress.line(&format!(
                "{name}: could not lock the feature cache entry ({e}); computing it anyway"
            ));
            (None, None)
        }
    }
}

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

/// The estimator for width `d`, made on first need (one per width, shared).
pub(super) fn estimator_for<'a>(
    estimators: &'a mut Vec<Estimator>,
    study: &Study,
    d: usize,
    name: &str,
) -> Result<&'a Estimator, RunError> {
    if let Some(i) = estimators.iter().position(|e| e.d == d) {
        return Ok(&estimators[i]);
    }
    let est =
        Estimator::new(&study.features.estimator, d).map_err(|source| RunError::Estimator {
            name: name.into(),
            source,
        })?;
    estimators.push(est);
    Ok(estimators.last().expect("just pushed"))
}
