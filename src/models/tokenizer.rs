//! Tokenizers: a model's `tokenizer.json`, loaded with the `tokenizers` crate,
//! or the tokenizer inside a `.gguf` file ([`super::gguf_tokenizer`]).

use super::ModelError;
use std::path::{Path, PathBuf};

pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    path: PathBuf,
}

impl Tokenizer {
    pub fn from_file(path: &Path) -> Result<Self, ModelError> {
        if super::gguf::is_gguf(path) {
            return Ok(Self {
                inner: super::gguf_tokenizer::from_file(path)?,
                path: path.into(),
            });
        }
        let inner = tokenizers::Tokenizer::from_file(path).map_err(|e| ModelError::Tokenizer {
            path: path.into(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            inner,
            path: path.into(),
        })
    }

    /// Token ids of `text`; `special` adds the tokenizer's own special tokens
    /// (e.g. BOS) as its post-processor defines, like HF's default.
    pub fn encode(&self, text: &str, special: bool) -> Result<Vec<u32>, ModelError> {
        let enc = self
            .inner
            .encode(text, special)
            .map_err(|e| ModelError::Tokenizer {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
        Ok(enc.get_ids().to_vec())
    }

    pub fn decode(&self, ids: &[u32]) -> Result<String, ModelError> {
        self.inner
            .decode(ids, false)
            .map_err(|e| ModelError::Tokenizer {
                path: self.path.clone(),
                reason: e.to_string(),
            })
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
}
