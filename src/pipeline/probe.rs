//! The probe stage: each model located (a local folder or GGUF file, or
//! fetched from the hub at a pinned commit), loaded, run over the corpus, and
//! reduced to features. One estimator per hidden width is shared, so models
//! of the same width see the same reference points.

use super::{Network, Progress, RunError};
use crate::corpus::Corpus;
use crate::features::estimator::Estimator;
use crate::features::{self, ModelRow};
use crate::models::{hub_source, tokenizer::Tokenizer, Model, ModelEntry, ModelFiles};
use crate::report::ModelRecord;
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
pub fn locate(entry: &ModelEntry, network: &Network, weights: bool, progress: &mut dyn Progress) -> Result<Located, RunError> {
    if let Some(path) = &entry.path {
        return Ok(Located { dir: path.clone(), commit: None });
    }
    let id = entry.id.as_deref().expect("the study checker requires a path or an id");
    let revision = entry.revision.as_deref().unwrap_or("main");
    let fetch_err = |source| RunError::Fetch { name: entry.name.clone(), source };
    let hub = network.hub().map_err(|e| fetch_err(e.into()))?;
    let fetched = hub_source::fetch(hub, id, revision, weights).map_err(fetch_err)?;
    let how = if fetched.resolved.from_cache { " (from the cache: the hub was not asked)" } else { "" };
    progress.line(&format!("{}: {id}@{revision} is commit {}{how}", entry.name, fetched.resolved.sha));
    Ok(Located { dir: fetched.dir, commit: Some(fetched.resolved.sha) })
}

pub fn probe_all(study: &Study, corpus: &Corpus, network: &Network, progress: &mut dyn Progress) -> Result<Probed, RunError> {
    let device = candle_core::Device::Cpu;
    let mut out = Probed { rows: Vec::new(), records: Vec::new(), estimators: Vec::new() };
    for (i, entry) in study.models.iter().enumerate() {
        let t0 = Instant::now();
        let name = entry.name.clone();
        let model_err = |source| RunError::Model { name: name.clone(), source };
        let located = locate(entry, network, true, progress)?;
        let files = ModelFiles::locate(&located.dir).map_err(model_err)?;
        let tokenizer = Tokenizer::from_file(&files.tokenizer).map_err(model_err)?;
        let model = Model::load_as(files, &device, entry.precision).map_err(model_err)?;
        let docs = corpus.tokenize(&tokenizer, &study.corpus).map_err(|source| RunError::Tokenize { name: name.clone(), source })?;
        let d = model.hidden_size();
        if !out.estimators.iter().any(|e| e.d == d) {
            let est = Estimator::new(&study.features.estimator, d).map_err(|source| RunError::Estimator { name: name.clone(), source })?;
            out.estimators.push(est);
        }
        let est = out.estimators.iter().find(|e| e.d == d).expect("estimator for this width");
        let feats = features::extract(&model, &docs, &study.features, est).map_err(|source| RunError::Features { name: name.clone(), source })?;
        let seconds = t0.elapsed().as_secs_f64();
        progress.line(&format!(
            "[{}/{}] {name}: {} layers, d = {d}, {} tokens, {} positions, {seconds:.1}s",
            i + 1,
            study.models.len(),
            model.num_layers(),
            feats.tokens,
            feats.rows
        ));
        out.records.push(ModelRecord {
            name: name.clone(),
            family: entry.family.clone(),
            path: located.dir.clone(),
            id: entry.id.clone(),
            revision: entry.revision.clone(),
            commit: located.commit.clone(),
            architecture: model.config.model_type.clone(),
            layers: model.num_layers(),
            d,
            non_embedding_params: model.config.non_embedding_params(),
            sha256: model.files.sha256.clone(),
            documents: feats.documents,
            tokens: feats.tokens,
            estimator_rows: feats.rows,
            seconds,
        });
        out.rows.push(ModelRow { name, family: entry.family.clone(), d, params: model.config.non_embedding_params(), features: feats });
    }
    Ok(out)
}
