//! The study's further probe sets (the `preference` set and named `probes`),
//! after the main corpus: every set is read before any model runs (so a bad
//! row stops the run at once), then each model is run over each set, with
//! the feature cache keyed by the model, the set's content and settings,
//! the model's chat template (preference sets) and the feature settings. A
//! model is loaded only when one of its sets is not cached.

use super::cache_key::reference_points_sha256;
use super::locate::locate;
use super::probe::estimator_for;
use super::{Network, Progress, RunError};
use crate::corpus::chat::ChatTemplate;
use crate::corpus::preference::{PreferenceSet, TemplateUse};
use crate::corpus::probe::{ProbeSet, ProbeSource};
use crate::corpus::{Corpus, CorpusError};
use crate::features::cache::{self, CachedModel, FeatureCache};
use crate::features::estimator::Estimator;
use crate::features::{self, ModelFeatures};
use crate::models::{tokenizer::Tokenizer, Model, ModelEntry, ModelFiles};
use crate::study::Study;

/// The manifest's records of a probe set (the report owns the manifest).
pub use crate::report::manifest::{ProbeModelRecord, ProbeRecord};

/// A probe set's data, read once for every model.
pub enum ProbeData {
    Text(Corpus),
    Preference(PreferenceSet),
}

impl ProbeData {
    /// The sha256 of the set's data.
    pub fn sha256(&self) -> &str {
        match self {
            ProbeData::Text(c) => &c.sha256,
            ProbeData::Preference(s) => &s.sha256,
        }
    }
}

/// Reads every probe set (fetching hub datasets' shards).
pub(crate) fn load_all(
    study: &Study,
    network: &Network,
    progress: &mut dyn Progress,
) -> Result<Vec<ProbeData>, RunError> {
    let mut out = Vec::new();
    for p in &study.probes {
        let data = load_one(p, network)?;
        let (n, what, sha) = match &data {
            ProbeData::Text(c) => (c.documents.len(), "documents", &c.sha256),
            ProbeData::Preference(s) => (s.pairs.len(), "pairs", &s.sha256),
        };
        progress.line(&format!(
            "probe set {}: {n} {what} (sha256 {})",
            p.label(),
            &sha[..12]
        ));
        out.push(data);
    }
    Ok(out)
}

/// Reads one probe set (fetching a hub dataset's shards).
pub(crate) fn load_one(p: &ProbeSet, network: &Network) -> Result<ProbeData, RunError> {
    let hub_needed = match &p.source {
        ProbeSource::Text(s) => s.dataset.is_some(),
        ProbeSource::Preference(s) => s.dataset.is_some(),
    };
    let hub = if hub_needed {
        Some(network.hub()?)
    } else {
        None
    };
    let wrap = |e: CorpusError| RunError::ProbeSet {
        probe: p.label(),
        source: Box::new(RunError::Corpus(e)),
    };
    Ok(match &p.source {
        ProbeSource::Text(s) => ProbeData::Text(Corpus::fetch_and_load(s, hub).map_err(wrap)?),
        ProbeSource::Preference(s) => {
            ProbeData::Preference(PreferenceSet::fetch_and_load(s, hub).map_err(wrap)?)
        }
    })
}

/// Per probe set, per model (study order): the features, and the records.
pub struct ProbeFeatures {
    pub features: Vec<Vec<ModelFeatures>>,
    pub records: Vec<ProbeRecord>,
}

/// Each probe set's record, before any model's.
pub(crate) fn records(study: &Study, data: &[ProbeData]) -> Vec<ProbeRecord> {
    study
        .probes
        .iter()
        .zip(data)
        .map(|(p, d)| ProbeRecord {
            name: p.label(),
            kind: p.kind(),
            columns: features::probe_table::columns(p, &study.features),
            corpus: match (d, &p.source) {
                (ProbeData::Text(c), ProbeSource::Text(s)) => Some(c.record(s)),
                _ => None,
            },
            preference: match (d, &p.source) {
                (ProbeData::Preference(c), ProbeSource::Preference(s)) => Some(c.record(s)),
                _ => None,
            },
            models: Vec::new(),
        })
        .collect()
}

/// Runs every model over every probe set (or takes it from the cache).
pub(crate) fn probe_sets(
    study: &Study,
    data: &[ProbeData],
    network: &Network,
    cache: Option<&FeatureCache>,
    estimators: &mut Vec<Estimator>,
    progress: &mut dyn Progress,
) -> Result<ProbeFeatures, RunError> {
    let mut out = ProbeFeatures {
        features: vec![Vec::new(); data.len()],
        records: records(study, data),
    };
    let reference_points = reference_points_sha256(study)?;
    let device = study.features.device.open()?;
    for entry in &study.models {
        let located = locate(entry, network, true, progress)?;
        let files = ModelFiles::locate_with_root(&located.dir, entry.root.as_deref()).map_err(
            |source| RunError::Model {
                name: entry.name.clone(),
                source,
            },
        )?;
        let mut loaded: Option<(Model, Tokenizer)> = None;
        for (i, (probe, d)) in study.probes.iter().zip(data).enumerate() {
            let wrap = |e: RunError| RunError::ProbeSet {
                probe: probe.label(),
                source: Box::new(e),
            };
            let (feats, record) = one(
                study,
                entry,
                &files,
                probe,
                d,
                reference_points.as_deref(),
                cache,
                (&device, &mut loaded),
                estimators,
            )
            .map_err(wrap)?;
            progress.line(&format!(
                "  {}: probe set {}: {} positions{}",
                entry.name,
                probe.label(),
                feats.rows,
                if record.from_cache { " (cached)" } else { "" }
            ));
            out.features[i].push(feats);
            out.records[i].models.push(record);
        }
    }
    Ok(out)
}

/// The model's own chat template, for a preference set that asks for it.
fn chat_template(
    probe: &ProbeSet,
    files: &ModelFiles,
    name: &str,
) -> Result<Option<ChatTemplate>, RunError> {
    match &probe.source {
        ProbeSource::Preference(s) if s.chat_template == TemplateUse::Auto => {
            ChatTemplate::for_tokenizer(&files.tokenizer).map_err(|e| RunError::Tokenize {
                name: name.to_string(),
                source: CorpusError::Chat(e),
            })
        }
        _ => Ok(None),
    }
}

/// The model and its tokenizer, loaded on the first probe set that needs
/// them and kept for the next.
fn load_once<'a>(
    entry: &ModelEntry,
    files: &ModelFiles,
    device: &candle_core::Device,
    loaded: &'a mut Option<(Model, Tokenizer)>,
) -> Result<&'a (Model, Tokenizer), RunError> {
    if let Some(pair) = loaded {
        return Ok(pair);
    }
    let model_err = |source| RunError::Model {
        name: entry.name.clone(),
        source,
    };
    let tokenizer = Tokenizer::from_file(&files.tokenizer).map_err(model_err)?;
    let model = Model::load_as(files.clone(), device, entry.precision).map_err(model_err)?;
    Ok(loaded.insert((model, tokenizer)))
}

/// One model over one probe set.
#[allow(clippy::too_many_arguments)]
fn one(
    study: &Study,
    entry: &ModelEntry,
    files: &ModelFiles,
    probe: &ProbeSet,
    data: &ProbeData,
    reference_points: Option<&str>,
    cache: Option<&FeatureCache>,
    (device, loaded): (&candle_core::Device, &mut Option<(Model, Tokenizer)>),
    estimators: &mut Vec<Estimator>,
) -> Result<(ModelFeatures, ProbeModelRecord), RunError> {
    let name = &entry.name;
    let template = chat_template(probe, files, name)?;
    let inputs = probe_cache_inputs(
        study,
        entry,
        files,
        probe,
        data,
        template.as_ref(),
        reference_points,
    );
    let key = cache::key(&inputs);
    let mut record = ProbeModelRecord {
        model: name.clone(),
        sequences: 0,
        tokens: 0,
        estimator_rows: 0,
        dropped_pairs: None,
        chat_template: template.as_ref().map(|t| t.origin.clone()),
        feature_cache_key: key.clone(),
        from_cache: false,
    };
    let feats = match cache.and_then(|c| c.get(&key)) {
        Some((facts, feats)) => {
            estimator_for(estimators, study, facts.d, name)?;
            record.from_cache = true;
            feats
        }
        None => {
            let (model, tokenizer) = load_once(entry, files, device, loaded)?;
            let est = estimator_for(estimators, study, model.hidden_size(), name)?;
            let feats = compute(
                study,
                name,
                probe,
                data,
                model,
                tokenizer,
                template.as_ref(),
                est,
            )?;
            if let Some(c) = cache {
                let facts = CachedModel {
                    architecture: model.config.model_type.clone(),
                    layers: model.num_layers(),
                    d: model.hidden_size(),
                    non_embedding_params: model.config.non_embedding_params(),
                    total_params: model.config.total_params(),
                };
                // A cache that cannot be written only costs a recomputation.
                let _ = c.put(&key, &inputs, &facts, &feats);
            }
            feats
        }
    };
    if let ProbeData::Preference(set) = data {
        record.dropped_pairs = Some(set.pairs.len().saturating_sub(feats.documents / 2));
    }
    record.sequences = feats.documents;
    record.tokens = feats.tokens;
    record.estimator_rows = feats.rows;
    Ok((feats, record))
}

/// Everything a model's features over a probe set depend on: the model,
/// the set's content and settings, the chat template (preference sets), the
/// feature settings and the reference points.
fn probe_cache_inputs(
    study: &Study,
    entry: &ModelEntry,
    files: &ModelFiles,
    probe: &ProbeSet,
    data: &ProbeData,
    template: Option<&ChatTemplate>,
    reference_points: Option<&str>,
) -> serde_json::Value {
    let (data_sha, settings) = match (data, &probe.source) {
        (ProbeData::Text(c), ProbeSource::Text(s)) => (&c.sha256, serde_json::json!(s)),
        (ProbeData::Preference(c), ProbeSource::Preference(s)) => (&c.sha256, serde_json::json!(s)),
        _ => unreachable!("probe data is loaded from its own settings"),
    };
    serde_json::json!({
        "model_sha256": files.sha256,
        "precision": entry.precision,
        "probe": {
            "kind": probe.kind(),
            "sha256": data_sha,
            "settings": settings,
            "chat_template_sha256": template.map(|t| crate::io::hash::sha256_hex(t.source().as_bytes())),
        },
        "features": study.features,
        "reference_points_sha256": reference_points,
    })
}

/// Runs the loaded model over a probe set (tokenized here).
#[allow(clippy::too_many_arguments)]
fn compute(
    study: &Study,
    name: &str,
    probe: &ProbeSet,
    data: &ProbeData,
    model: &Model,
    tokenizer: &Tokenizer,
    template: Option<&ChatTemplate>,
    est: &Estimator,
) -> Result<ModelFeatures, RunError> {
    let corpus_err = |source| RunError::Tokenize {
        name: name.into(),
        source,
    };
    let features_err = |source| RunError::Features {
        name: name.into(),
        source,
    };
    match (data, &probe.source) {
        (ProbeData::Text(c), ProbeSource::Text(s)) => {
            let docs = c.tokenize(tokenizer, s).map_err(corpus_err)?;
            // no byte ends: a probe set's LM loss is not reported
            features::extract(model, &docs, &[], &study.features, est).map_err(features_err)
        }
        (ProbeData::Preference(c), ProbeSource::Preference(s)) => {
            let tokens = c.tokenize(tokenizer, template, s).map_err(corpus_err)?;
            features::preference::extract_preference(
                model,
                &tokens,
                s.include_prompt,
                &study.features,
                est,
            )
            .map_err(features_err)
        }
        _ => unreachable!("probe data is loaded from its own settings"),
    }
}
