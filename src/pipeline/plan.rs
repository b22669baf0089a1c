//! `lossy plan`: what a study will cost, before running any model. Each
//! model is resolved (hub revisions pinned to commits, over the network if
//! allowed, from the cache otherwise) and only its config and tokenizer are
//! read: architecture, layers, width, parameters, the corpus's tokens under
//! its tokenizer, FLOPs (2 × non-embedding parameters per token), peak
//! memory and time. Models that cannot be resolved (no network and nothing
//! cached) are listed with the reason instead of stopping the plan.
//!
//! Estimates: peak memory = weights in the compute precision + one batch of
//! activations (hidden, MLP and attention-score buffers) + the estimator's
//! reference points (+ the estimator's queue of probed rows off the CPU)
//! + the corpus (text and token ids) + the feature state,
//! sized exactly from the tokenized corpus ([`crate::features::memory`]):
//! label tables and every layer's accumulators (and bootstrap block sums);
//! the memory budget (`features.memory`, [`crate::features::budget`]) sets
//! the passes over the corpus (layer groups), and the peak is that of the
//! widest group; time = FLOPs × the passes' share of a full forward pass
//! ([`crate::features::budget::forward_cost`]) / an assumed throughput (`gflops`, by
//! default 15 GFLOP/s per CPU core, which is what lossy's forward pass
//! reaches on AVX-512 CPUs; see `reports/bench/engine.md`). Estimator time is
//! not included.
//!
//! Probe sets (`preference`, `probes`) are read and tokenized per model as
//! the run does ([`super::probe_sets`]): each is one pass over every layer
//! after the main corpus, sized the same way (its own sequence length, text
//! and exact feature state); a model's peak is the largest of its passes,
//! its time their sum.

use super::locate::locate;
use super::probe_sets::{load_one, ProbeData};
use super::{Network, Progress, RunError, RunOptions};
use crate::corpus::chat::ChatTemplate;
use crate::corpus::preference::TemplateUse;
use crate::corpus::probe::{ProbeKind, ProbeSet, ProbeSource};
use crate::corpus::Corpus;
use crate::features::budget::{self, Budget, MemoryNeed};
use crate::features::memory::{state_size, StateSize};
use crate::features::preference::preference_state_size;
use crate::models::config::ModelConfig;
use crate::models::gguf::{self, GgufFile};
use crate::models::tokenizer::Tokenizer;
use crate::models::{ModelEntry, ModelError, Precision};
use crate::study::Study;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub study: String,
    pub corpus_documents: Option<usize>,
    pub corpus_sha256: Option<String>,
    /// Why the corpus could not be read (tokens and FLOPs are then unknown).
    pub corpus_unresolved: Option<String>,
    pub assumed_gflops: f64,
    /// The memory budget of each model's pass (`features.memory`, else a
    /// share of the memory available; none where that is unknown).
    pub memory_budget: Option<Budget>,
    pub models: Vec<ModelPlan>,
    /// Forward FLOPs and time of every model over the corpus and the probe sets.
    pub total_flops: f64,
    pub total_seconds: f64,
    /// The study's further probe sets (`preference`, `probes`), as read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub probe_sets: Vec<ProbeSetInfo>,
}

/// A probe set as read for the plan (the same for every model).
#[derive(Clone, Debug, Serialize)]
pub struct ProbeSetInfo {
    pub name: String,
    pub kind: ProbeKind,
    /// Documents (a text set) or pairs (a preference set).
    pub items: Option<usize>,
    pub sha256: Option<String>,
    /// Why it could not be read (its tokens are then unknown).
    pub unresolved: Option<String>,
}

/// One model over one probe set: run after the main corpus, in one pass
/// over every layer (the memory budget's layer groups are the main
/// corpus's only), holding the model, the set and its feature state.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeSetPlan {
    pub name: String,
    /// Sequences run: documents, or two per kept pair.
    pub sequences: Option<usize>,
    pub tokens: Option<usize>,
    pub flops: Option<f64>,
    pub peak_memory_bytes: Option<u64>,
    /// The set's label plan and every layer's state, in `peak_memory_bytes`.
    pub feature_state: Option<StateSize>,
    pub seconds: Option<f64>,
    /// Why the rest is missing (the set or the model did not resolve, …).
    pub unresolved: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModelPlan {
    pub name: String,
    /// A checkpoint series member's family and step (from its folder or
    /// revision name, or `step:`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<f64>,
    /// `org/name@revision` for hub models, the path for local ones.
    pub source: String,
    pub commit: Option<String>,
    /// Why the rest is missing (no network and nothing cached, …).
    pub unresolved: Option<String>,
    pub architecture: Option<String>,
    pub layers: Option<usize>,
    pub d: Option<usize>,
    pub non_embedding_params: Option<usize>,
    /// Tokens and forward FLOPs over the main corpus (the probe sets':
    /// `probe_sets`).
    pub tokens: Option<usize>,
    pub flops: Option<f64>,
    /// The model's peak: the largest of its passes over the corpus and over
    /// each probe set.
    pub peak_memory_bytes: Option<u64>,
    /// The feature stage's state (label tables, per-layer accumulators),
    /// included in `peak_memory_bytes`; known when the corpus is.
    pub feature_state: Option<StateSize>,
    /// Fixed and per-layer bytes of the pass, as the budget sees them.
    pub memory_need: Option<MemoryNeed>,
    /// Passes over the corpus the memory budget asks for (layer groups,
    /// `[start, end)` hidden-state indices), included in `peak_memory_bytes`
    /// and `seconds`.
    pub passes: Option<usize>,
    pub layer_groups: Option<Vec<std::ops::Range<usize>>>,
    /// Why the budget cannot hold even one layer (the run would stop).
    pub budget_error: Option<String>,
    /// Forward time over the corpus (all its passes) and the probe sets.
    pub seconds: Option<f64>,
    /// Each probe set of the study, in order (none without probe sets).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub probe_sets: Vec<ProbeSetPlan>,
    /// Whether the feature cache already holds this model's features (known
    /// when its weights are on disk).
    pub cached: Option<bool>,
}

/// What every model's plan is made from.
struct Inputs<'a> {
    study: &'a Study,
    corpus: Option<&'a Corpus>,
    probes: &'a [Result<ProbeData, String>],
    gflops: f64,
    budget: Option<&'a Budget>,
    cache: Option<&'a crate::features::cache::FeatureCache>,
    reference_points: Option<&'a str>,
}

pub fn plan(
    study: &Study,
    options: &RunOptions,
    gflops: Option<f64>,
    progress: &mut dyn Progress,
) -> Result<Plan, RunError> {
    let network = Network::new(options);
    let expanded = super::expand_revisions(study, &network, progress)?;
    let study = &expanded;
    let (corpus, corpus_unresolved) = match super::load_corpus(study, &network, progress) {
        Ok(c) => (Some(c), None),
        Err(e) => (None, Some(chain(&e))),
    };
    let probes: Vec<Result<ProbeData, String>> = study
        .probes
        .iter()
        .map(|p| load_one(p, &network).map_err(|e| chain(&e)))
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let assumed_gflops = gflops.unwrap_or(15.0 * cores);
    let cache = options
        .feature_cache
        .clone()
        .map(crate::features::cache::FeatureCache::new);
    let reference_points = super::cache_key::reference_points_sha256(study)?;
    let budget = Budget::resolve(study.features.memory, &study.file);
    let inputs = Inputs {
        study,
        corpus: corpus.as_ref(),
        probes: &probes,
        gflops: assumed_gflops,
        budget: budget.as_ref(),
        cache: cache.as_ref(),
        reference_points: reference_points.as_deref(),
    };
    let models = study
        .models
        .iter()
        .map(|entry| model_plan(&inputs, entry, &network, progress))
        .collect::<Result<Vec<_>, _>>()?;
    let mut total_flops: f64 = models.iter().filter_map(|m| m.flops).sum();
    let mut total_seconds = models
        .iter()
        .filter_map(|m| Some(m.flops? * budget::forward_cost(m.layer_groups.as_ref()?)))
        .sum::<f64>()
        / (assumed_gflops * 1e9);
    let probe_flops: Vec<f64> = models
        .iter()
        .flat_map(|m| m.probe_sets.iter().filter_map(|p| p.flops))
        .collect();
    if !probe_flops.is_empty() {
        // one full forward pass per set
        total_flops += probe_flops.iter().sum::<f64>();
        total_seconds += probe_flops.iter().sum::<f64>() / (assumed_gflops * 1e9);
    }
    Ok(Plan {
        study: study.name.clone(),
        corpus_documents: corpus.as_ref().map(|c| c.documents.len()),
        corpus_sha256: corpus.as_ref().map(|c| c.sha256.clone()),
        corpus_unresolved,
        assumed_gflops,
        total_seconds,
        total_flops,
        memory_budget: budget,
        models,
        probe_sets: study
            .probes
            .iter()
            .zip(&probes)
            .map(|(p, d)| probe_set_info(p, d))
            .collect(),
    })
}

/// One model's row: resolved (and sized) or the reason it is not.
fn model_plan(
    inputs: &Inputs,
    entry: &ModelEntry,
    network: &Network,
    progress: &mut dyn Progress,
) -> Result<ModelPlan, RunError> {
    let source = match (&entry.path, &entry.id) {
        (Some(p), _) => p.display().to_string(),
        (None, Some(id)) => format!("{id}@{}", entry.revision.as_deref().unwrap_or("main")),
        (None, None) => String::new(),
    };
    let mut row = ModelPlan {
        name: entry.name.clone(),
        family: entry.family.clone(),
        step: entry.step,
        source,
        commit: None,
        unresolved: None,
        architecture: None,
        layers: None,
        d: None,
        non_embedding_params: None,
        tokens: None,
        flops: None,
        peak_memory_bytes: None,
        feature_state: None,
        memory_need: None,
        passes: None,
        layer_groups: None,
        budget_error: None,
        seconds: None,
        probe_sets: Vec::new(),
        cached: None,
    };
    let located = match locate(entry, network, false, progress) {
        Ok(located) => located,
        Err(RunError::Fetch { source, .. }) => {
            row.unresolved = Some(chain(&source));
            return Ok(row);
        }
        Err(e) => {
            row.unresolved = Some(chain(&e));
            return Ok(row);
        }
    };
    row.commit = located.commit;
    let incomplete = match &entry.root {
        Some(root) => crate::models::completeness::check(&located.dir, Some(root))
            .err()
            .map(|why| format!("checkpoint not complete yet: {why}")),
        None => None,
    };
    if let Some(why) = incomplete {
        row.unresolved = Some(why);
    } else if let Err(source) = read(&located.dir, entry.root.as_deref()) {
        // A config or tokenizer `run` would refuse is refused here too.
        return Err(RunError::Model {
            name: entry.name.clone(),
            source,
        });
    } else if let Err(e) = fill(&mut row, entry, &located.dir, inputs) {
        row.unresolved = Some(e);
    }
    if let (Some(cache), Some(corpus), Ok(files)) = (
        inputs.cache,
        inputs.corpus,
        crate::models::ModelFiles::locate_with_root(&located.dir, entry.root.as_deref()),
    ) {
        let inputs = super::cache_key::cache_inputs(
            inputs.study,
            entry,
            corpus,
            &files.sha256,
            inputs.reference_points,
        );
        row.cached = Some(cache.get(&crate::features::cache::key(&inputs)).is_some());
    }
    Ok(row)
}

fn fill(
    row: &mut ModelPlan,
    entry: &ModelEntry,
    dir: &Path,
    inputs: &Inputs,
) -> Result<(), String> {
    let study = inputs.study;
    let (config, tokenizer) = read(dir, entry.root.as_deref()).map_err(|e| e.to_string())?;
    let params = config.non_embedding_params();
    row.architecture = Some(config.model_type.clone());
    row.layers = Some(config.num_layers);
    row.d = Some(config.hidden_size);
    row.non_embedding_params = Some(params);
    row.peak_memory_bytes = Some(model_bytes(&config, entry.precision, dir, study));
    if let Some(corpus) = inputs.corpus {
        let docs = corpus
            .tokenize(&tokenizer, &study.corpus)
            .map_err(|e| e.to_string())?;
        let tokens: usize = docs.iter().map(Vec::len).sum();
        let state = state_size(&docs, &study.features, config.num_layers);
        let need = memory_need(
            &config,
            entry.precision,
            dir,
            study,
            (corpus, tokens),
            &state,
        );
        let flops = 2.0 * params as f64 * tokens as f64;
        row.tokens = Some(tokens);
        row.flops = Some(flops);
        row.feature_state = Some(state);
        row.memory_need = Some(need);
        // A budget too small for one layer: the peak of one pass, no passes.
        row.peak_memory_bytes = Some(need.peak(need.layers));
        match budget::schedule(&entry.name, &need, inputs.budget) {
            Ok(s) => {
                let widest = s
                    .groups
                    .iter()
                    .map(|g| g.len())
                    .max()
                    .unwrap_or(need.layers);
                row.peak_memory_bytes = Some(need.peak(widest));
                row.passes = Some(s.groups.len());
                row.seconds = Some(flops * budget::forward_cost(&s.groups) / (inputs.gflops * 1e9));
                row.layer_groups = Some(s.groups);
            }
            Err(e) => row.budget_error = Some(e.to_string()),
        }
    }
    let model = SizedModel {
        config: &config,
        tokenizer: &tokenizer,
        tokenizer_file: tokenizer_file(dir, entry.root.as_deref()),
        entry,
        dir,
    };
    for (probe, data) in study.probes.iter().zip(inputs.probes) {
        let p = probe_set_plan(probe, data, &model, inputs);
        row.peak_memory_bytes = row.peak_memory_bytes.max(p.peak_memory_bytes);
        if let (Some(s), Some(more)) = (row.seconds, p.seconds) {
            row.seconds = Some(s + more);
        }
        row.probe_sets.push(p);
    }
    Ok(())
}

/// A resolved model, as a probe set's plan needs it.
struct SizedModel<'a> {
    config: &'a ModelConfig,
    tokenizer: &'a Tokenizer,
    tokenizer_file: PathBuf,
    entry: &'a ModelEntry,
    dir: &'a Path,
}

fn probe_set_info(probe: &ProbeSet, data: &Result<ProbeData, String>) -> ProbeSetInfo {
    let (items, sha256) = match data {
        Ok(ProbeData::Text(c)) => (Some(c.documents.len()), Some(c.sha256.clone())),
        Ok(ProbeData::Preference(s)) => (Some(s.pairs.len()), Some(s.sha256.clone())),
        Err(_) => (None, None),
    };
    ProbeSetInfo {
        name: probe.label(),
        kind: probe.kind(),
        items,
        sha256,
        unresolved: data.as_ref().err().cloned(),
    }
}

/// One model over one probe set: its tokens (rendered and tokenized as the
/// run does), its exact feature state, its peak and its time.
fn probe_set_plan(
    probe: &ProbeSet,
    data: &Result<ProbeData, String>,
    model: &SizedModel,
    inputs: &Inputs,
) -> ProbeSetPlan {
    let mut out = ProbeSetPlan {
        name: probe.label(),
        sequences: None,
        tokens: None,
        flops: None,
        peak_memory_bytes: None,
        feature_state: None,
        seconds: None,
        unresolved: None,
    };
    let sized = match data {
        Ok(d) => probe_set_state(probe, d, model, &inputs.study.features),
        Err(why) => Err(why.clone()),
    };
    let (sequences, tokens, text, state, max_tokens) = match sized {
        Ok(s) => s,
        Err(why) => {
            out.unresolved = Some(why);
            return out;
        }
    };
    let c = model.config;
    let flops = 2.0 * c.non_embedding_params() as f64 * tokens as f64;
    let fixed = model_bytes_at(
        c,
        model.entry.precision,
        model.dir,
        inputs.study,
        max_tokens,
        false,
    );
    out.sequences = Some(sequences);
    out.tokens = Some(tokens);
    out.flops = Some(flops);
    out.peak_memory_bytes = Some(fixed + (text + tokens * 4) as u64 + state.total());
    out.feature_state = Some(state);
    out.seconds = Some(flops / (inputs.gflops * 1e9));
    out
}

/// `(sequences, tokens, text bytes, feature state, longest sequence)` of a
/// probe set under one model's tokenizer (and chat template).
fn probe_set_state(
    probe: &ProbeSet,
    data: &ProbeData,
    model: &SizedModel,
    features: &crate::features::FeatureSettings,
) -> Result<(usize, usize, usize, StateSize, usize), String> {
    let layers = model.config.num_layers;
    match (data, &probe.source) {
        (ProbeData::Text(c), ProbeSource::Text(s)) => {
            let docs = c.tokenize(model.tokenizer, s).map_err(|e| chain(&e))?;
            let tokens = docs.iter().map(Vec::len).sum();
            let text = c.documents.iter().map(String::len).sum();
            let state = state_size(&docs, features, layers);
            Ok((docs.len(), tokens, text, state, s.max_tokens))
        }
        (ProbeData::Preference(set), ProbeSource::Preference(s)) => {
            let template = match s.chat_template {
                TemplateUse::Auto => {
                    ChatTemplate::for_tokenizer(&model.tokenizer_file).map_err(|e| chain(&e))?
                }
                TemplateUse::Plain => None,
            };
            let toks = set
                .tokenize(model.tokenizer, template.as_ref(), s)
                .map_err(|e| chain(&e))?;
            let tokens = toks.sequences.iter().map(Vec::len).sum();
            let state = preference_state_size(&toks, s.include_prompt, features, layers);
            Ok((
                toks.sequences.len(),
                tokens,
                set.text_bytes(),
                state,
                s.max_tokens,
            ))
        }
        _ => unreachable!("probe data is loaded from its own settings"),
    }
}

/// Weights (a GGUF file's own size: its weights stay quantized), one batch
/// of activations and the reference points (bytes).
fn model_bytes(config: &ModelConfig, precision: Precision, dir: &Path, study: &Study) -> u64 {
    let queue = !study.features.device.is_cpu();
    model_bytes_at(
        config,
        precision,
        dir,
        study,
        study.corpus.max_tokens,
        queue,
    )
}

/// [`model_bytes`] for sequences of up to `max_tokens`, with the probed
/// rows' queue (`queue`: the estimator beside the model) or without.
fn model_bytes_at(
    config: &ModelConfig,
    precision: Precision,
    dir: &Path,
    study: &Study,
    max_tokens: usize,
    queue: bool,
) -> u64 {
    let peak = peak_memory_at(config, precision, study, max_tokens, queue);
    if gguf::is_gguf(dir) {
        let file = std::fs::metadata(dir).map_or(0, |m| m.len());
        return peak - weight_bytes(config, precision) + file;
    }
    peak
}

/// What one model's pass needs: the model, the corpus (text and ids) and
/// the label tables are fixed; each layer in flight adds its state.
pub fn memory_need(
    config: &ModelConfig,
    precision: Precision,
    dir: &Path,
    study: &Study,
    (corpus, tokens): (&Corpus, usize),
    state: &StateSize,
) -> MemoryNeed {
    let text: usize = corpus.documents.iter().map(String::len).sum();
    let corpus_bytes = (text + tokens * 4) as u64;
    MemoryNeed {
        fixed: model_bytes(config, precision, dir, study) + corpus_bytes + state.labels_bytes,
        per_layer: state.layer_bytes + state.layer_interval_bytes,
        layers: state.layers,
    }
}

/// Config and tokenizer of a model folder or GGUF file, without touching the weights.
/// A checkpoint without them takes them from its run folder `root`.
pub(super) fn read(
    dir: &Path,
    root: Option<&Path>,
) -> Result<(ModelConfig, Tokenizer), ModelError> {
    if gguf::is_gguf(dir) {
        let file = GgufFile::open(dir)?;
        return Ok((ModelConfig::from_gguf(&file)?, Tokenizer::from_file(dir)?));
    }
    let file = |name: &str| match root {
        Some(r) if !dir.join(name).is_file() => r.join(name),
        _ => dir.join(name),
    };
    Ok((
        ModelConfig::from_file(&file("config.json"))?,
        Tokenizer::from_file(&file("tokenizer.json"))?,
    ))
}

/// The tokenizer file `read` takes (a GGUF model's own file); its folder
/// holds the chat template.
fn tokenizer_file(dir: &Path, root: Option<&Path>) -> PathBuf {
    match root {
        _ if gguf::is_gguf(dir) => dir.to_path_buf(),
        Some(r) if !dir.join("tokenizer.json").is_file() => r.join("tokenizer.json"),
        _ => dir.join("tokenizer.json"),
    }
}

/// Weights in the compute precision (bytes).
fn weight_bytes(c: &ModelConfig, precision: Precision) -> u64 {
    let bytes = match precision {
        Precision::F32 => 4.0,
        _ => 2.0,
    };
    let embeddings = c.vocab_size * c.hidden_size * if c.tie_word_embeddings { 1 } else { 2 };
    ((c.non_embedding_params() + embeddings) as f64 * bytes) as u64
}

/// Weights + one batch of activations + the reference points, + the queue
/// of probed rows when the estimator runs beside the model (bytes).
pub fn peak_memory(c: &ModelConfig, precision: Precision, study: &Study) -> u64 {
    let queue = !study.features.device.is_cpu();
    peak_memory_at(c, precision, study, study.corpus.max_tokens, queue)
}

/// [`peak_memory`] for sequences of up to `max_tokens` (`queue`: with the
/// queue of probed rows).
fn peak_memory_at(
    c: &ModelConfig,
    precision: Precision,
    study: &Study,
    max_tokens: usize,
    queue: bool,
) -> u64 {
    let weights = weight_bytes(c, precision) as f64;
    let (b, t) = (study.features.batch_size as f64, max_tokens as f64);
    let per_token =
        c.hidden_size as f64 * 6.0 + c.intermediate_size as f64 * 3.0 + c.num_heads as f64 * t;
    let activations = b * t * per_token * 4.0;
    let reference_points = (study.features.estimator.bins * c.hidden_size) as f64 * 8.0;
    // the queue's layers, plus the one the estimator holds (see probe.rs)
    let queue = if !queue {
        0.0
    } else {
        (crate::features::QUEUE_LAYERS + 1) as f64 * b * t * c.hidden_size as f64 * 4.0
    };
    (weights + activations + reference_points + queue) as u64
}

/// An error and its causes, `: `-separated (each said once: messages do not
/// repeat their cause).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
