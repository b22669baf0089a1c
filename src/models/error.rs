//! Errors of the models stage, naming the model file, tensor or setting.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model folder {dir} has no {file}")]
    MissingFile { dir: PathBuf, file: String },
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is corrupt or truncated: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error("model_type `{model_type}` in {path} is not supported; supported: {supported}")]
    Unsupported {
        path: PathBuf,
        model_type: String,
        supported: String,
    },
    #[error("weights of {dir}: {reason}")]
    Weights { dir: PathBuf, reason: String },
    #[error("tokenizer {path}: {reason}")]
    Tokenizer { path: PathBuf, reason: String },
    #[error("forward pass failed")]
    Forward(#[from] candle_core::Error),
    #[error("the tokenizer gave token id {id}, beyond the model's vocabulary of {vocab} ids (config.json `vocab_size`); the tokenizer does not belong to these weights")]
    TokenOutOfVocab { id: u32, vocab: usize },
    #[error("a batch needs at least one token in every sequence")]
    EmptySequence,
    #[error("a sequence of {tokens} tokens is longer than the model's {max} positions; lower `corpus.max_tokens`")]
    TooLong { tokens: usize, max: usize },
    #[error("token id {token} is outside the model's {vocab} logits")]
    TokenOutOfRange { token: u32, vocab: usize },
}
