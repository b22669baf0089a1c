//! Stage 2, corpus: the probing texts. Reads local `.txt` files (documents
//! separated by blank lines), `.jsonl` files (one JSON object per line,
//! text in a chosen field) and `.parquet` files (a text column), or a hub
//! dataset's parquet shards ([`dataset`]); selects documents deterministically
//! (the first `max_documents` in file order, or a seeded sample of them kept in
//! file order) and tokenizes them per model, truncating each document at
//! `max_tokens` (no packing).

pub mod chat;
pub mod dataset;
pub mod nested;
pub mod preference;
pub mod probe;

use crate::io::hash::PartsHasher;
use crate::models::tokenizer::Tokenizer;
use crate::models::ModelError;
pub use dataset::{DatasetError, DatasetRecord, DatasetSource};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Checked corpus settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CorpusSettings {
    /// Local files (.txt, .jsonl, .parquet); empty when `dataset` is given.
    pub paths: Vec<PathBuf>,
    /// A hub dataset instead of local files.
    pub dataset: Option<DatasetSource>,
    /// The field holding the text in `.jsonl` files.
    pub text_field: String,
    /// Use at most this many documents (all if absent).
    pub max_documents: Option<usize>,
    /// Draw the `max_documents` at random with this seed (in their original
    /// order) instead of taking the first ones.
    pub sample_seed: Option<u64>,
    /// Truncate each document to this many tokens.
    pub max_tokens: usize,
    /// Let the tokenizer add its special tokens (e.g. BOS), as HF does by default.
    pub add_special_tokens: bool,
}

impl Default for CorpusSettings {
    fn default() -> Self {
        Self {
            paths: vec![],
            dataset: None,
            text_field: "text".into(),
            max_documents: None,
            sample_seed: None,
            max_tokens: 512,
            add_special_tokens: true,
        }
    }
}

/// Where the first byte that is not UTF-8 sits (1-based line and column, in characters).
fn not_utf8(path: &Path, bytes: &[u8], e: std::str::Utf8Error) -> CorpusError {
    let good = &bytes[..e.valid_up_to()];
    let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = std::str::from_utf8(&good[line_start..]).map_or(0, |s| s.chars().count()) + 1;
    CorpusError::NotUtf8 {
        path: path.into(),
        line: good.iter().filter(|&&b| b == b'\n').count() + 1,
        column,
        byte: bytes[e.valid_up_to()],
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("cannot read corpus file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: not a JSON object: {reason}")]
    Json {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{path}:{line}: no string field `{field}` (set `corpus.text_field`)")]
    MissingField {
        path: PathBuf,
        line: usize,
        field: String,
    },
    #[error("the corpus has no usable text: every document in {} is empty or blank", paths_list(.paths))]
    Empty { paths: Vec<PathBuf> },
    #[error("corpus dataset")]
    Dataset(#[from] DatasetError),
    #[error("{path}: {reason}")]
    Parquet { path: PathBuf, reason: String },
    #[error(transparent)]
    Table(crate::table::TableError),
    #[error("{path}:{line}:{column}: the corpus file is not UTF-8 (byte 0x{byte:02x}); save it as UTF-8")]
    NotUtf8 {
        path: PathBuf,
        line: usize,
        column: usize,
        byte: u8,
    },
    #[error("tokenizing the corpus")]
    Tokenize(#[from] ModelError),
    #[error("preference set")]
    Preference(#[from] preference::PreferenceError),
    #[error("reading the chat template")]
    Chat(#[from] chat::ChatError),
}

fn paths_list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The selected documents, model-independent.
#[derive(Clone, Debug, PartialEq)]
pub struct Corpus {
    pub documents: Vec<String>,
    /// sha256 over the selected documents' text (length-prefixed, in order).
    pub sha256: String,
    /// Where a hub dataset's documents came from.
    pub dataset: Option<DatasetRecord>,
}

/// What to record about the corpus in outputs.
#[derive(Clone, Debug, Serialize)]
pub struct CorpusRecord {
    pub paths: Vec<PathBuf>,
    /// The hub dataset, its parquet commit and the shards read.
    pub dataset: Option<DatasetRecord>,
    pub documents: usize,
    pub sha256: String,
    pub max_documents: Option<usize>,
    pub sample_seed: Option<u64>,
    pub max_tokens: usize,
}

impl Corpus {
    /// Reads and selects documents from the local files. Blank documents are skipped.
    pub fn load(settings: &CorpusSettings) -> Result<Self, CorpusError> {
        Self::load_from(settings, &settings.paths, None)
    }

    /// Fetches the dataset's shards (if the corpus is a hub dataset), then loads.
    pub fn fetch_and_load(
        settings: &CorpusSettings,
        hub: Option<&crate::hub::Hub>,
    ) -> Result<Self, CorpusError> {
        match (&settings.dataset, hub) {
            (Some(ds), Some(hub)) => {
                // Sampling draws from every document, so it needs every shard.
                let needed = if settings.sample_seed.is_some() {
                    None
                } else {
                    settings.max_documents
                };
                let (paths, record) = dataset::fetch(hub, ds, needed)?;
                Self::load_from(settings, &paths, Some(record))
            }
            _ => Self::load(settings),
        }
    }

    fn load_from(
        settings: &CorpusSettings,
        paths: &[PathBuf],
        dataset: Option<DatasetRecord>,
    ) -> Result<Self, CorpusError> {
        let mut documents = Vec::new();
        let limit = if settings.sample_seed.is_some() {
            usize::MAX
        } else {
            settings.max_documents.unwrap_or(usize::MAX)
        };
        'files: for path in paths {
            for doc in read_documents(path, &settings.text_field)? {
                if documents.len() >= limit {
                    break 'files;
                }
                if !doc.trim().is_empty() {
                    documents.push(doc);
                }
            }
        }
        if documents.is_empty() {
            return Err(CorpusError::Empty {
                paths: paths.to_vec(),
            });
        }
        if let (Some(seed), Some(n)) = (settings.sample_seed, settings.max_documents) {
            documents = sample(documents, n, seed);
        }
        let mut h = PartsHasher::new();
        for d in &documents {
            h.part(d.as_bytes());
        }
        Ok(Self {
            documents,
            sha256: h.finish(),
            dataset,
        })
    }

    pub fn record(&self, settings: &CorpusSettings) -> CorpusRecord {
        CorpusRecord {
            paths: settings.paths.clone(),
            dataset: self.dataset.clone(),
            documents: self.documents.len(),
            sha256: self.sha256.clone(),
            max_documents: settings.max_documents,
            sample_seed: settings.sample_seed,
            max_tokens: settings.max_tokens,
        }
    }

    /// As [`Self::tokenize`], with each kept token's byte end in its document
    /// ([`Tokenizer::encode_with_ends`]), so the text the kept tokens cover
    /// is known after truncation.
    pub fn tokenize_with_ends(
        &self,
        tokenizer: &Tokenizer,
        settings: &CorpusSettings,
    ) -> Result<(Vec<Vec<u32>>, Vec<Vec<usize>>), CorpusError> {
        let (mut ids_out, mut ends_out) = (Vec::new(), Vec::new());
        for doc in &self.documents {
            let (mut ids, mut ends) =
                tokenizer.encode_with_ends(doc, settings.add_special_tokens)?;
            ids.truncate(settings.max_tokens);
            ends.truncate(settings.max_tokens);
            if !ids.is_empty() {
                ids_out.push(ids);
                ends_out.push(ends);
            }
        }
        Ok((ids_out, ends_out))
    }

    /// Token ids of every document under one model's tokenizer, truncated to
    /// `max_tokens`. Documents that tokenize to nothing are dropped.
    pub fn tokenize(
        &self,
        tokenizer: &Tokenizer,
        settings: &CorpusSettings,
    ) -> Result<Vec<Vec<u32>>, CorpusError> {
        let mut out = Vec::with_capacity(self.documents.len());
        for doc in &self.documents {
            let mut ids = tokenizer.encode(doc, settings.add_special_tokens)?;
            ids.truncate(settings.max_tokens);
            if !ids.is_empty() {
                out.push(ids);
            }
        }
        Ok(out)
    }
}

/// The documents of a parquet file: its string column `text_field`.
fn parquet_documents(path: &Path, text_field: &str) -> Result<Vec<String>, CorpusError> {
    let bad = |reason: String| CorpusError::Parquet {
        path: path.into(),
        reason,
    };
    let columns = crate::table::Table::parquet_columns(path).map_err(CorpusError::Table)?;
    let Some(column) = columns.iter().find(|c| c.name == text_field) else {
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        return Err(bad(format!(
            "no text column `{text_field}` (columns: {}); set `corpus.text_field`",
            names.join(", ")
        )));
    };
    let not_text = |kind: &str| {
        bad(format!(
            "column `{text_field}` holds {kind}, not text; set `corpus.text_field` to a string column"
        ))
    };
    if let Some(kind) = column.nested {
        return Err(not_text(&format!("a {kind}")));
    }
    let table = crate::table::Table::read_parquet_columns(path, vec![text_field.to_string()])
        .map_err(CorpusError::Table)?;
    match table.strs(text_field) {
        Some(text) => Ok(text.to_vec()),
        None if table.f64s(text_field).is_some() => Err(not_text("numbers")),
        None => Err(not_text("values that have no text form")),
    }
}

/// The documents of one file, in order.
fn read_documents(path: &Path, text_field: &str) -> Result<Vec<String>, CorpusError> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    {
        return parquet_documents(path, text_field);
    }
    let bytes = std::fs::read(path).map_err(|source| CorpusError::Read {
        path: path.into(),
        source,
    })?;
    let text =
        String::from_utf8(bytes).map_err(|e| not_utf8(path, e.as_bytes(), e.utf8_error()))?;
    let is_jsonl = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"));
    if !is_jsonl {
        return Ok(split_paragraphs(&text));
    }
    let mut docs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| CorpusError::Json {
                path: path.into(),
                line: i + 1,
                reason: e.to_string(),
            })?;
        let field = value.get(text_field).and_then(|v| v.as_str());
        match field {
            Some(s) => docs.push(s.to_string()),
            None => {
                return Err(CorpusError::MissingField {
                    path: path.into(),
                    line: i + 1,
                    field: text_field.into(),
                })
            }
        }
    }
    Ok(docs)
}

/// `n` of `docs` drawn without replacement by a seeded Fisher–Yates shuffle
/// (SplitMix64, as the fit's folds), kept in their original order.
fn sample<T>(docs: Vec<T>, n: usize, seed: u64) -> Vec<T> {
    if n >= docs.len() {
        return docs;
    }
    let mut index: Vec<usize> = (0..docs.len()).collect();
    crate::math::rng::SplitMix64::new(seed).shuffle(&mut index);
    let mut chosen = index[..n].to_vec();
    chosen.sort_unstable();
    let mut keep = vec![false; docs.len()];
    for i in chosen {
        keep[i] = true;
    }
    docs.into_iter()
        .zip(keep)
        .filter_map(|(d, k)| k.then_some(d))
        .collect()
}

/// Splits text into documents at blank lines.
fn split_paragraphs(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                docs.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        docs.push(current.join("\n"));
    }
    docs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(paths: Vec<PathBuf>) -> CorpusSettings {
        CorpusSettings {
            paths,
            ..Default::default()
        }
    }

    #[test]
    fn a_seeded_sample_is_reproducible_ordered_and_seed_dependent() {
        let dir = tempfile::tempdir().unwrap();
        let txt = dir.path().join("a.txt");
        std::fs::write(
            &txt,
            (0..50).map(|i| format!("doc {i}\n\n")).collect::<String>(),
        )
        .unwrap();
        let draw = |seed: u64| {
            Corpus::load(&CorpusSettings {
                max_documents: Some(10),
                sample_seed: Some(seed),
                ..settings(vec![txt.clone()])
            })
            .unwrap()
        };
        let a = draw(7);
        assert_eq!(a.documents.len(), 10);
        assert_eq!(a, draw(7));
        assert_ne!(a.documents, draw(8).documents);
        let idx: Vec<usize> = a
            .documents
            .iter()
            .map(|d| d[4..].parse().unwrap())
            .collect();
        assert!(
            idx.windows(2).all(|w| w[0] < w[1]),
            "file order kept: {idx:?}"
        );
        assert!(
            idx.iter().any(|&i| i >= 10),
            "not just the first ten: {idx:?}"
        );
    }

    #[test]
    fn reads_txt_paragraphs_and_jsonl_fields() {
        let dir = tempfile::tempdir().unwrap();
        let txt = dir.path().join("a.txt");
        std::fs::write(&txt, "one\ntwo\n\n\nthree\n  \n").unwrap();
        let jsonl = dir.path().join("b.jsonl");
        std::fs::write(
            &jsonl,
            "{\"text\": \"four\"}\n\n{\"text\": \"  \"}\n{\"text\": \"five\", \"id\": 3}\n",
        )
        .unwrap();
        let c = Corpus::load(&settings(vec![txt.clone(), jsonl.clone()])).unwrap();
        assert_eq!(c.documents, vec!["one\ntwo", "three", "four", "five"]);
        let limited = Corpus::load(&CorpusSettings {
            max_documents: Some(3),
            ..settings(vec![txt, jsonl])
        })
        .unwrap();
        assert_eq!(limited.documents.len(), 3);
        assert_ne!(limited.sha256, c.sha256);
    }

    #[test]
    fn reports_bad_jsonl_with_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.jsonl");
        std::fs::write(&p, "{\"text\": \"ok\"}\n{\"body\": \"x\"}\n").unwrap();
        let err = Corpus::load(&settings(vec![p.clone()])).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("b.jsonl:2: no string field `text` (set `corpus.text_field`)"),
            "{err}"
        );
        std::fs::write(&p, "{\"text\": \"ok\"}\nnot json\n").unwrap();
        assert!(matches!(
            Corpus::load(&settings(vec![p])),
            Err(CorpusError::Json { line: 2, .. })
        ));
    }

    #[test]
    fn blank_corpus_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("empty.txt");
        std::fs::write(&p, "\n   \n\n").unwrap();
        let err = Corpus::load(&settings(vec![p])).unwrap_err();
        assert!(err.to_string().contains("no usable text"), "{err}");
    }
}
