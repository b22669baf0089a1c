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
    #[error(
        "{path}: tensor `{tensor}` is {dtype}; lossy reads float weights (F32, F16, BF16 or F64)"
    )]
    WeightDtype {
        path: PathBuf,
        tensor: String,
        dtype: String,
    },
    #[error("weights of {dir}: {reason}")]
    Weights { dir: PathBuf, reason: String },
    /// Candle could not build the model from the weights (a tensor missing,
    /// of the wrong shape, ...): the cause, without candle's backtrace.
    #[error("weights of {dir}")]
    Load {
        dir: PathBuf,
        #[source]
        source: candle_core::Error,
    },
    /// One tensor of a GGUF file could not be read or converted.
    #[error("{path}: tensor `{tensor}`")]
    Tensor {
        path: PathBuf,
        tensor: String,
        #[source]
        source: candle_core::Error,
    },
    #[error("tokenizer {path}: {reason}")]
    Tokenizer { path: PathBuf, reason: String },
    #[error("forward pass failed")]
    Forward(#[source] candle_core::Error),
    #[error("{tokenizer} gave token id {id}, beyond the model's vocabulary of {vocab} ids (`vocab_size` in {config}); the tokenizer does not belong to these weights")]
    TokenOutOfVocab {
        id: u32,
        vocab: usize,
        tokenizer: PathBuf,
        config: PathBuf,
    },
    #[error("a batch needs at least one token in every sequence")]
    EmptySequence,
    #[error("a sequence of {tokens} tokens is longer than the model's {max} positions; lower `corpus.max_tokens`")]
    TooLong { tokens: usize, max: usize },
    #[error("token id {token} is outside the model's {vocab} logits")]
    TokenOutOfRange { token: u32, vocab: usize },
}

impl From<candle_core::Error> for ModelError {
    fn from(e: candle_core::Error) -> Self {
        ModelError::Forward(bare(e))
    }
}

/// A candle error without the backtrace candle captures (and prints as part
/// of its message) when `RUST_BACKTRACE` is set: lossy's errors say their
/// cause once, with no stack dump.
pub fn bare(e: candle_core::Error) -> candle_core::Error {
    match e {
        candle_core::Error::WithBacktrace { inner, .. } => bare(*inner),
        candle_core::Error::Context { inner, context } => candle_core::Error::Context {
            inner: Box::new(bare(*inner)),
            context,
        },
        e => e,
    }
}
