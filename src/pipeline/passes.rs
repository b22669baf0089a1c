//! Before any model runs: the passes over the corpus (layer groups) each
//! model's feature pass takes under the memory budget
//! ([`crate::features::budget`]), from its config and tokenizer and the
//! tokenized corpus alone. A `features.memory` too small for even one layer
//! of some model stops the run here, before the first model is loaded.
//!
//! [`extract_groups`] then runs a model's groups, each stored in the
//! feature cache as its own entry as soon as its pass ends.
//!
//! Models whose features are cached are skipped (they do not run), and the
//! label-state sizes are computed once per tokenizer, so a family sharing
//! one tokenizer tokenizes the corpus once.

use super::cache_key::cache_inputs;
use super::locate::locate;
use super::{Network, Progress, RunError};
use crate::corpus::Corpus;
use crate::features::budget::{self, Budget};
use crate::features::cache::{self, CachedModel, FeatureCache};
use crate::features::estimator::Estimator;
use crate::features::memory::{state_size, StateSize};
use crate::features::{
    self, FeatureError, FeatureSettings, ModelFeatures, PassProgress, PassTally,
};
use crate::models::{Model, ModelEntry, ModelFiles};
use crate::study::Study;
use std::collections::HashMap;
use std::ops::Range;

/// Each model's layer groups, in study order (`None`: one pass, or the
/// model is cached or could not be read here and the run will say why).
pub fn schedule_all(
    study: &Study,
    corpus: &Corpus,
    network: &Network,
    cache: Option<&FeatureCache>,
    progress: &mut dyn Progress,
) -> Result<Vec<Option<Vec<Range<usize>>>>, RunError> {
    let Some(budget) = Budget::resolve(study.features.memory, &study.file) else {
        return Ok(vec![None; study.models.len()]);
    };
    let reference_points = super::cache_key::reference_points_sha256(study)?;
    let mut states: HashMap<String, (StateSize, usize)> = HashMap::new();
    let mut out = Vec::with_capacity(study.models.len());
    for entry in &study.models {
        let Some(located) = locate(entry, network, false, &mut Quiet).ok() else {
            out.push(None);
            continue;
        };
        let dir = located.dir;
        if let (Some(cache), Ok(files)) = (
            cache,
            ModelFiles::locate_with_root(&dir, entry.root.as_deref()),
        ) {
            let inputs = cache_inputs(
                study,
                entry,
                corpus,
                &files.sha256,
                reference_points.as_deref(),
            );
            if cache.get(&cache::key(&inputs)).is_some() {
                out.push(None);
                continue;
            }
        }
        let Some(groups) =
            model_groups(study, entry, &dir, corpus, &budget, &mut states, progress)?
        else {
            out.push(None);
            continue;
        };
        out.push((groups.len() > 1).then_some(groups));
    }
    Ok(out)
}

/// One model's groups; `None` when its config, tokenizer or corpus cannot
/// be read here (the run reports that when it loads the model).
fn model_groups(
    study: &Study,
    entry: &ModelEntry,
    dir: &std::path::Path,
    corpus: &Corpus,
    budget: &Budget,
    states: &mut HashMap<String, (StateSize, usize)>,
    progress: &mut dyn Progress,
) -> Result<Option<Vec<Range<usize>>>, RunError> {
    let Ok((config, tokenizer)) = super::plan::read(dir, entry.root.as_deref()) else {
        return Ok(None);
    };
    let memo = tokenizer_key(dir, entry);
    let docs = if states.contains_key(&memo) {
        None
    } else {
        match corpus.tokenize(&tokenizer, &study.corpus) {
            Ok(d) => Some(d),
            Err(_) => return Ok(None),
        }
    };
    if let Some(docs) = &docs {
        let tokens = docs.iter().map(Vec::len).sum();
        let state = state_size(docs, &study.features, config.num_layers);
        states.insert(memo.clone(), (state, tokens));
    }
    let (mut state, tokens) = states[&memo].clone();
    state.layers = config.num_layers + 1;
    let need = super::plan::memory_need(
        &config,
        entry.precision,
        dir,
        study,
        (corpus, tokens),
        &state,
    );
    let schedule = budget::schedule(&entry.name, &need, Some(budget))?;
    if let Some(w) = &schedule.warning {
        progress.line(w);
    }
    if schedule.groups.len() > 1 {
        let widest = schedule.groups.iter().map(|g| g.len()).max().unwrap_or(0);
        progress.line(&format!(
            "{}: {} layers in {} passes over the corpus (at most {widest} at a time, predicted peak {}; memory budget {})",
            entry.name,
            need.layers,
            schedule.groups.len(),
            budget::human(need.peak(widest)),
            budget::human(budget.bytes),
        ));
    }
    Ok(Some(schedule.groups))
}

/// The tokenizer's identity: its file's sha256 (a GGUF model's own path).
fn tokenizer_key(dir: &std::path::Path, entry: &ModelEntry) -> String {
    let file = match &entry.root {
        Some(r) if !dir.join("tokenizer.json").is_file() => r.join("tokenizer.json"),
        _ => dir.join("tokenizer.json"),
    };
    crate::io::hash::sha256_file(&file).unwrap_or_else(|_| dir.display().to_string())
}

/// Swallows the lines of a second look at each model (the run prints them).
struct Quiet;

impl Progress for Quiet {
    fn line(&mut self, _: &str) {}
}

/// Where a model's layer groups are stored: the cache, the model's key
/// inputs and its facts.
pub struct GroupStore<'a> {
    pub cache: &'a FeatureCache,
    pub inputs: &'a serde_json::Value,
    pub facts: &'a CachedModel,
}

/// A model's features over `groups` (one pass over the corpus each). With
/// more than one group and a cache, each group is read from its own entry
/// when an earlier or concurrent process computed it (waiting on its lock),
/// else computed and stored at once, so an interrupted model resumes at its
/// next group. Lines for the log go to `notes`.
#[allow(clippy::too_many_arguments)]
pub fn extract_groups(
    model: &Model,
    (docs, ends): (&[Vec<u32>], &[Vec<usize>]),
    settings: &FeatureSettings,
    est: &Estimator,
    groups: &[Range<usize>],
    overlap: features::Overlap,
    store: Option<GroupStore>,
    observe: &mut dyn FnMut(&PassProgress),
    notes: &mut Vec<String>,
) -> Result<ModelFeatures, FeatureError> {
    let Some(store) = store.filter(|_| groups.len() > 1) else {
        return features::extract_passes(
            model, docs, ends, settings, est, groups, overlap, observe,
        );
    };
    let mut tally = PassTally::new(groups.len());
    let mut parts = Vec::with_capacity(groups.len());
    for g in groups {
        let (cache, inputs) = (store.cache, store.inputs);
        let mut warn = |m: &str| notes.push(m.to_string());
        let mut found = cache.get_group(inputs, g.clone(), &mut warn);
        let mut _lock = None;
        if found.is_none() {
            let key = cache::key(&cache::group_inputs(inputs, g));
            _lock = cache.lock(&key, &mut || {}).ok();
            found = cache.get_group(inputs, g.clone(), &mut |_| {});
        }
        if let Some((_, part)) = found {
            notes.push(format!(
                "layers {}..{}: read from the feature cache (layer group entry)",
                g.start, g.end
            ));
            parts.push(part);
            continue;
        }
        let part = tally.run(observe, |obs| {
            features::extract_layers(model, docs, ends, settings, est, g.clone(), overlap, obs)
        })?;
        if let Err(e) = cache.put_group(inputs, store.facts, &part) {
            notes.push(format!(
                "could not write layer group {}..{} to the feature cache ({e})",
                g.start, g.end
            ));
        }
        parts.push(part);
    }
    features::groups::merge(parts, model.num_layers() + 1)
        .map_err(|source| FeatureError::Merge { source })
}
