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
        let bad = |reason: String| ModelError::Tokenizer {
            path: path.into(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.into(),
            source,
        })?;
        // The JSON is checked first: `tokenizers` panics (an `expect` in its
        // decoder deserializer) instead of failing on some syntax errors, and
        // (an index at encode time) on a template naming an undeclared token.
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        check_templates(&json).map_err(bad)?;
        let inner: tokenizers::Tokenizer = text.parse().map_err(|e| bad(format!("{e}")))?;
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

/// Every special token a `TemplateProcessing` post-processor places (in
/// `single` or `pair`, at any depth of a `Sequence`) must be declared in its
/// `special_tokens`.
fn check_templates(v: &serde_json::Value) -> Result<(), String> {
    match v {
        serde_json::Value::Object(o) => {
            if o.get("type").and_then(|t| t.as_str()) == Some("TemplateProcessing") {
                let declared = o.get("special_tokens").and_then(|s| s.as_object());
                for piece in ["single", "pair"]
                    .iter()
                    .filter_map(|k| o.get(*k)?.as_array())
                    .flatten()
                {
                    if let Some(id) = piece
                        .get("SpecialToken")
                        .and_then(|t| t.get("id"))
                        .and_then(|i| i.as_str())
                    {
                        if !declared.is_some_and(|d| d.contains_key(id)) {
                            return Err(format!("the post-processor template uses `{id}`, which its `special_tokens` do not declare"));
                        }
                    }
                }
            }
            o.values().try_for_each(check_templates)
        }
        serde_json::Value::Array(a) => a.iter().try_for_each(check_templates),
        _ => Ok(()),
    }
}
