//! The probe stage: each model located (a local folder or GGUF file, or
//! fetched from the hub at a pinned commit), loaded, run over the corpus, and
//! reduced to features. One estimator per hidden width is shared, so models
//! of the same width see the same reference points. Features found in the
//! feature cache (same model content, corpus, settings and code) are reused
//! without loading the model.

use super::cache_key::{cache_inputs, reference_points_sha256};
use super::locate::locate;
use super::{ModelStatus, Network, Phase, Progress, RunError};
use crate::corpus::Corpus;
use crate::features::cache::{self, CachedModel, FeatureCache};
use crate::features::estimator::Estimator;
use crate::features::{self, ModelRow, Overlap};
use crate::models::{tokenizer::Tokenizer, Model, ModelEntry, ModelFiles};
use crate::report::{manifest::PhaseSeconds, ModelRecord};
use crate::study::Study;
use std::time::Instant;

#[derive(Default)]
pub struct Probed {
    pub rows: Vec<ModelRow>,
    pub records: Vec<ModelRecord>,
    pub estimators: Vec<Estimator>,
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

/// A model's line once its features are in: its place in the study, size,
/// tokens, positions and `timing`.
fn summary(
    slot: &Slot,
    facts: &CachedModel,
    feats: &features::ModelFeatures,
    timing: &str,
) -> String {
    format!(
        "[{}/{}] {}: {} layers, d = {}, {} tokens, {} positions, {timing}",
        slot.index + 1,
        slot.models,
        slot.entry.name,
        facts.layers,
        facts.d,
        feats.tokens,
        feats.rows,
    )
}

/// A model's time on its progress line: by phase, or that it came from the
/// cache.
fn timing(
    seconds: f64,
    phases: &PhaseSeconds,
    pass: &features::PassProgress,
    cached: bool,
) -> String {
    let PhaseSeconds {
        hashing,
        loading,
        forward,
        estimating,
    } = phases;
    if cached {
        return format!("{seconds:.1}s, hashing {hashing:.1}s (cached)");
    }
    let rate = pass.tokens as f64 / pass.seconds.max(1e-9);
    format!(
        "{seconds:.1}s (hashing {hashing:.1}s, loading {loading:.1}s, forward {forward:.1}s, estimating {estimating:.1}s; {rate:.0} tok/s)"
    )
}

pub fn probe_all(
    study: &Study,
    corpus: &Corpus,
    network: &Network,
    cache: Option<&FeatureCache>,
    progress: &mut dyn Progress,
) -> Result<Probed, RunError> {
    let device = study.features.device.open()?;
    let mut out = Probed::default();
    let reference_points = reference_points_sha256(study)?;
    let schedules = super::passes::schedule_all(study, corpus, network, cache, progress)?;
    for (i, entry) in study.models.iter().enumerate() {
        let t0 = Instant::now();
        let name = entry.name.clone();
        let slot = Slot {
            entry,
            index: i,
            models: study.models.len(),
        };
        let none = features::PassProgress::default();
        let located = locate(entry, network, true, progress)?;
        progress.model(&slot.status(Phase::Hashing, none));
        let files = ModelFiles::locate_with_root(&located.dir, entry.root.as_deref())
            .map_err(|source| slot.model_err(source))?;
        let hashing = t0.elapsed().as_secs_f64();
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
        let (mut loading, mut pass) = (0.0, none);
        let (facts, feats, sha256) = match hit {
            Some((facts, feats)) => (facts, feats, files.sha256.clone()),
            None => {
                let run = ModelRun {
                    study,
                    corpus,
                    slot: &slot,
                    device: &device,
                    cache,
                    inputs: &inputs,
                    key: &key,
                    groups: schedules[i].as_deref(),
                };
                let computed = compute_model(&run, files, &mut out.estimators, progress)?;
                (loading, pass) = (computed.loading, computed.pass);
                (computed.facts, computed.feats, computed.sha256)
            }
        };
        estimator_for(&mut out.estimators, study, facts.d, &name)?;
        let seconds = t0.elapsed().as_secs_f64();
        progress.model(&slot.status(Phase::Done, pass));
        let phases = PhaseSeconds {
            hashing,
            loading,
            forward: pass.forward_seconds,
            estimating: pass.estimating_seconds,
        };
        let timing = timing(seconds, &phases, &pass, cached);
        progress.line(&summary(&slot, &facts, &feats, &timing));
        let outcome = Outcome {
            facts,
            feats,
            sha256,
            seconds,
            phases,
            key,
            cached,
        };
        let (record, row) = record_and_row(entry, &located, outcome);
        out.records.push(record);
        out.rows.push(row);
    }
    Ok(out)
}

/// A model's place in the study, for progress and errors.
struct Slot<'a> {
    entry: &'a ModelEntry,
    index: usize,
    models: usize,
}

impl<'a> Slot<'a> {
    fn status(&self, phase: Phase, pass: features::PassProgress) -> ModelStatus<'a> {
        ModelStatus {
            name: &self.entry.name,
            index: self.index,
            models: self.models,
            phase,
            pass,
        }
    }

    fn model_err(&self, source: crate::models::ModelError) -> RunError {
        RunError::Model {
            name: self.entry.name.clone(),
            source,
        }
    }
}

/// What computing one model's features needs.
struct ModelRun<'a> {
    study: &'a Study,
    corpus: &'a Corpus,
    slot: &'a Slot<'a>,
    device: &'a candle_core::Device,
    cache: Option<&'a FeatureCache>,
    inputs: &'a serde_json::Value,
    key: &'a str,
    /// The layer groups under the memory budget (`None`: one pass).
    groups: Option<&'a [std::ops::Range<usize>]>,
}

/// A computed model: its facts, features, weights' sha256, and how long
/// loading took and how the pass went.
struct Computed {
    facts: CachedModel,
    feats: features::ModelFeatures,
    sha256: String,
    loading: f64,
    pass: features::PassProgress,
}

/// Loads a model the cache does not hold, runs it over the corpus in its
/// layer groups (each stored in the cache as it ends) and stores it.
fn compute_model(
    run: &ModelRun,
    files: ModelFiles,
    estimators: &mut Vec<Estimator>,
    progress: &mut dyn Progress,
) -> Result<Computed, RunError> {
    let (study, slot) = (run.study, run.slot);
    let name = &slot.entry.name;
    let none = features::PassProgress::default();
    progress.model(&slot.status(Phase::Loading, none));
    let t1 = Instant::now();
    let tokenizer = Tokenizer::from_file(&files.tokenizer).map_err(|e| slot.model_err(e))?;
    let model =
        Model::load_as(files, run.device, slot.entry.precision).map_err(|e| slot.model_err(e))?;
    let (docs, ends) = run
        .corpus
        .tokenize_with_ends(&tokenizer, &study.corpus)
        .map_err(|source| RunError::Tokenize {
            name: name.clone(),
            source,
        })?;
    let est = estimator_for(estimators, study, model.hidden_size(), name)?;
    let loading = t1.elapsed().as_secs_f64();
    progress.model(&slot.status(Phase::Running, none));
    let facts = CachedModel {
        architecture: model.config.model_type.clone(),
        layers: model.num_layers(),
        d: model.hidden_size(),
        non_embedding_params: model.config.non_embedding_params(),
        total_params: model.config.total_params(),
    };
    let all = [0..model.num_layers() + 1];
    let groups = run.groups.unwrap_or(&all);
    let store = run.cache.map(|cache| super::passes::GroupStore {
        cache,
        inputs: run.inputs,
        facts: &facts,
    });
    let mut notes = Vec::new();
    let mut pass = none;
    let mut observe = |p: &features::PassProgress| {
        pass = *p;
        progress.model(&slot.status(Phase::Running, *p));
    };
    let feats = super::passes::extract_groups(
        &model,
        (&docs, &ends),
        &study.features,
        est,
        groups,
        overlap_for(&study.features.device),
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
    if let Some(c) = run.cache {
        if let Err(e) = c.put(run.key, run.inputs, &facts, &feats) {
            progress.line(&format!(
                "{name}: could not write the feature cache ({e}); continuing"
            ));
        }
    }
    Ok(Computed {
        facts,
        feats,
        sha256: model.files.sha256.clone(),
        loading,
        pass,
    })
}

/// One model's features and how they were had.
struct Outcome {
    facts: CachedModel,
    feats: features::ModelFeatures,
    sha256: String,
    seconds: f64,
    phases: PhaseSeconds,
    key: String,
    cached: bool,
}

/// The manifest's record and the feature table's row of one model.
fn record_and_row(
    entry: &ModelEntry,
    located: &super::locate::Located,
    o: Outcome,
) -> (ModelRecord, ModelRow) {
    let record = ModelRecord {
        name: entry.name.clone(),
        family: entry.family.clone(),
        path: located.dir.clone(),
        id: entry.id.clone(),
        revision: entry.revision.clone(),
        commit: located.commit.clone(),
        architecture: o.facts.architecture.clone(),
        layers: o.facts.layers,
        d: o.facts.d,
        non_embedding_params: o.facts.non_embedding_params,
        total_params: o.facts.total_params,
        sha256: o.sha256,
        documents: o.feats.documents,
        tokens: o.feats.tokens,
        estimator_rows: o.feats.rows,
        seconds: o.seconds,
        phases: o.phases,
        feature_cache_key: o.key,
        from_cache: o.cached,
    };
    let row = ModelRow {
        name: entry.name.clone(),
        family: entry.family.clone(),
        d: o.facts.d,
        params: o.facts.non_embedding_params,
        params_total: o.facts.total_params,
        step: entry.step,
        train_tokens: entry.train_tokens,
        features: o.feats,
    };
    (record, row)
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
