//! lossy-models, the model engine: find each model of a study, load its weights and
//! tokenizer, and run a forward pass that hands every layer's hidden states to
//! a consumer as they are produced ([`engine`]).
//!
//! Supported: local Hugging Face-layout folders (`config.json`, weights as
//! `model.safetensors`, sharded safetensors with an index, or
//! `pytorch_model.bin`, and `tokenizer.json`) of the architectures in
//! [`SUPPORTED`] (Llama, Mistral, Qwen2, OLMo, OLMo-2, Gemma, Gemma 2,
//! GPT-NeoX, GPT-2), and single `.gguf` files ([`gguf`]: llama and qwen2,
//! projection weights kept quantized with f32 activations, tokenizer rebuilt
//! from the metadata). [`hub`] is the Hugging Face hub client (HTTP, cache,
//! revisions) that the models, corpora and scores of lossy share.

mod arch;
pub mod completeness;
pub mod config;
mod cpu_attention;
mod cpu_kernel;
mod decoder;
pub mod device;
pub mod engine;
mod error;
mod gated;
pub mod gguf;
pub mod gguf_tokenizer;
pub mod hub;
pub mod hub_source;
pub(crate) mod linear;
mod quantized;
pub mod tokenizer;

pub use arch::SUPPORTED;
pub use device::{DeviceError, DeviceSpec};
pub use engine::{HiddenStates, LayerSink, Model, Precision};
pub use error::ModelError;

use serde::Serialize;
use std::path::{Path, PathBuf};

/// A model as the study names it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelEntry {
    /// Unique name; scores are joined on it.
    pub name: String,
    /// Local Hugging Face-layout folder, or a `.gguf` file; `None` for a
    /// model fetched from the hub by `id` and `revision`.
    pub path: Option<PathBuf>,
    pub family: Option<String>,
    /// Compute precision (f32 by default).
    pub precision: Precision,
    /// Hugging Face hub id (`org/name`): where the model is fetched from
    /// when it has no `path`, and what score sources match on.
    pub id: Option<String>,
    /// The hub revision (branch, tag, checkpoint branch or commit sha).
    pub revision: Option<String>,
    /// Position in a checkpoint series (training step), from `step:`, or
    /// from `revisions:` (the number in `step1000`, else the list position).
    pub step: Option<f64>,
    /// Training tokens seen, from `tokens:` (the `train_tokens` column).
    pub train_tokens: Option<f64>,
    /// Its scores are withheld from the fit (`unreleased: true`): it is
    /// predicted and ranked like a model without scores, and the report
    /// compares the ranking with the withheld scores.
    pub unreleased: bool,
    /// A checkpoint series member's run folder: where `config.json` and
    /// `tokenizer.json` are read from when the checkpoint folder lacks them
    /// (Hugging Face Trainer saves the tokenizer only in the run's root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<PathBuf>,
}

/// Where a model's files are and what they hash to (for manifests).
#[derive(Clone, Debug, Serialize)]
pub struct ModelFiles {
    pub config: PathBuf,
    pub weights: Vec<PathBuf>,
    pub format: WeightFormat,
    pub tokenizer: PathBuf,
    /// sha256 over config, weights and tokenizer (length-prefixed, in order).
    pub sha256: String,
}

/// A model file's sha256, remembered across runs (hashing every weight
/// file on every run cost minutes for a study whose features were cached).
fn file_sha256(path: &Path) -> std::io::Result<String> {
    lossy_base::io::hash::sha256_file_memo(path, &lossy_base::io::cache_dir::default_dir())
}

impl ModelFiles {
    /// Finds the files of a Hugging Face-layout folder, or takes a `.gguf`
    /// file as the whole model (its sha256 is the file's own).
    pub fn locate(dir: &Path) -> Result<Self, ModelError> {
        Self::locate_with_root(dir, None)
    }

    /// Like [`Self::locate`], taking `config.json` and `tokenizer.json` from
    /// `root` (a training run's folder) when `dir` (its checkpoint) lacks them.
    pub fn locate_with_root(dir: &Path, root: Option<&Path>) -> Result<Self, ModelError> {
        if gguf::is_gguf(dir) {
            let sha256 = file_sha256(dir).map_err(|source| ModelError::Io {
                path: dir.into(),
                source,
            })?;
            return Ok(Self {
                config: dir.into(),
                weights: vec![dir.into()],
                format: WeightFormat::Gguf,
                tokenizer: dir.into(),
                sha256,
            });
        }
        let missing = |file: &str| ModelError::MissingFile {
            dir: dir.into(),
            file: file.into(),
        };
        let config =
            with_fallback(dir, root, "config.json").ok_or_else(|| missing("config.json"))?;
        let tokenizer =
            with_fallback(dir, root, "tokenizer.json").ok_or_else(|| missing("tokenizer.json"))?;
        // Sharded or single safetensors preferred over pytorch_model.bin.
        let single = dir.join("model.safetensors");
        let index = dir.join("model.safetensors.index.json");
        let bin = dir.join("pytorch_model.bin");
        let (weights, format) = if single.is_file() {
            (vec![single], WeightFormat::Safetensors)
        } else if index.is_file() {
            (shards_from_index(&index)?, WeightFormat::Safetensors)
        } else if bin.is_file() {
            (vec![bin], WeightFormat::PytorchBin)
        } else {
            return Err(missing(
                "weights (model.safetensors, model.safetensors.index.json or pytorch_model.bin)",
            ));
        };
        let mut hasher = lossy_base::io::hash::PartsHasher::new();
        for f in std::iter::once(&config)
            .chain(&weights)
            .chain(std::iter::once(&tokenizer))
        {
            let h = file_sha256(f).map_err(|source| ModelError::Io {
                path: f.clone(),
                source,
            })?;
            hasher.part(h.as_bytes());
        }
        Ok(Self {
            config,
            weights,
            format,
            tokenizer,
            sha256: hasher.finish(),
        })
    }
}

/// `dir/name`, else `root/name`, whichever is a file first.
fn with_fallback(dir: &Path, root: Option<&Path>, name: &str) -> Option<PathBuf> {
    std::iter::once(dir)
        .chain(root)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightFormat {
    Safetensors,
    PytorchBin,
    /// A single GGUF file (projection weights stay quantized on the CPU).
    Gguf,
}

/// The shard file names a `model.safetensors.index.json` lists, sorted and
/// deduplicated. A name that would leave the model's folder (`..`, an
/// absolute path) is refused: the index may come from the hub.
pub(crate) fn shard_names(index_json: &str) -> Result<Vec<String>, String> {
    let json: serde_json::Value = serde_json::from_str(index_json)
        .map_err(|e| format!("the safetensors index is not JSON: {e}"))?;
    let map = json
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or("the safetensors index has no weight_map")?;
    let mut files: Vec<String> = map
        .values()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    files.sort();
    files.dedup();
    if files.iter().any(|f| f.contains("..") || f.starts_with('/')) {
        return Err("the safetensors index names a file outside the repository".into());
    }
    Ok(files)
}

/// The shard files named by a `model.safetensors.index.json`, in name order.
fn shards_from_index(index: &Path) -> Result<Vec<PathBuf>, ModelError> {
    let text = std::fs::read_to_string(index).map_err(|source| ModelError::Io {
        path: index.into(),
        source,
    })?;
    let bad = |reason: String| ModelError::Corrupt {
        path: index.into(),
        reason,
    };
    let files = shard_names(&text).map_err(bad)?;
    let dir = index.parent().unwrap_or(Path::new("."));
    let paths: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
    if let Some(missing) = paths.iter().find(|p| !p.is_file()) {
        return Err(ModelError::MissingFile {
            dir: dir.into(),
            file: missing
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into(),
        });
    }
    Ok(paths)
}
