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

    /// Token ids of `text` as [`Self::encode`] gives them, and for each token
    /// the UTF-8 byte offset in `text` where it ends, as a running maximum of
    /// the tokenizer's offsets (special tokens such as BOS cover no text; a
    /// token whose offsets were trimmed to nothing does not move the end back).
    pub fn encode_with_ends(
        &self,
        text: &str,
        special: bool,
    ) -> Result<(Vec<u32>, Vec<usize>), ModelError> {
        let enc = self
            .inner
            .encode(text, special)
            .map_err(|e| ModelError::Tokenizer {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
        let mut end = 0;
        let ends = enc
            .get_offsets()
            .iter()
            .map(|&(_, e)| {
                end = end.max(e.min(text.len()));
                end
            })
            .collect();
        Ok((enc.get_ids().to_vec(), ends))
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
