//! A preference probe set: rows of a prompt, a chosen and a rejected
//! completion, from `.jsonl` or `.parquet` files (local, or a hub dataset's
//! parquet conversion, as [`super::dataset`] fetches corpora).
//!
//! Each of the three fields is a plain string or a chat message list
//! (`[{role, content}, …]`), as in the Tulu 3 and UltraFeedback preference
//! layouts:
//! - all strings: the prompt and the completion are joined as they are;
//! - `chosen`/`rejected` lists ending in the assistant's turn: the
//!   conversation is the list itself when it has more than that turn (the
//!   `prompt` string only repeats its first user turn), else the prompt (a
//!   string becomes one user turn, a list is taken as is) then that turn.
//!
//! Per model, a conversation is rendered with the model's chat template
//! ([`super::chat`]) when its tokenizer has one, else as plain text
//! ([`super::chat::plain`]). The prompt and the completion are tokenized
//! separately and joined (the prompt with the tokenizer's special tokens,
//! the completion without), as preference training code such as TRL's DPO
//! does, so the boundary between them is exact.

use super::chat::{self, ChatError, ChatTemplate, Message};
use super::dataset::{DatasetRecord, DatasetSource};
use super::CorpusError;
use crate::io::hash::PartsHasher;
use crate::models::tokenizer::Tokenizer;
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// How conversations given as message lists are turned into text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateUse {
    /// The model's chat template when its tokenizer config has one, else plain.
    #[default]
    Auto,
    /// Always the plain rendering.
    Plain,
}

/// Checked settings of a preference probe set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PreferenceSettings {
    /// Local `.jsonl` / `.parquet` files; empty when `dataset` is given.
    pub paths: Vec<PathBuf>,
    pub dataset: Option<DatasetSource>,
    pub prompt_field: String,
    pub chosen_field: String,
    pub rejected_field: String,
    /// Use at most this many pairs (all if absent).
    pub max_pairs: Option<usize>,
    /// Draw the `max_pairs` at random with this seed (kept in file order).
    pub sample_seed: Option<u64>,
    /// Truncate each sequence (prompt + completion) to this many tokens.
    pub max_tokens: usize,
    /// Let the tokenizer add its special tokens to a plain-text prompt.
    pub add_special_tokens: bool,
    /// Label the prompt's tokens too (default: completion tokens only).
    pub include_prompt: bool,
    pub chat_template: TemplateUse,
}

impl Default for PreferenceSettings {
    fn default() -> Self {
        Self {
            paths: vec![],
            dataset: None,
            prompt_field: "prompt".into(),
            chosen_field: "chosen".into(),
            rejected_field: "rejected".into(),
            max_pairs: None,
            sample_seed: None,
            max_tokens: 512,
            add_special_tokens: true,
            include_prompt: false,
            chat_template: TemplateUse::Auto,
        }
    }
}

/// A prompt or a completion: plain text or chat messages.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Turns {
    Text(String),
    Messages(Vec<Message>),
}

/// One preference row.
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    /// The file and 1-based row (line of a `.jsonl`, row of a `.parquet`).
    pub file: PathBuf,
    pub row: usize,
    pub prompt: Turns,
    pub chosen: Turns,
    pub rejected: Turns,
}

/// Bad input in a preference file: it names the file, row and field.
#[derive(Debug, thiserror::Error)]
pub enum PreferenceError {
    #[error("{path}:{row}: not a JSON object")]
    Json {
        path: PathBuf,
        row: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}:{row}: no field `{field}` (every preference row needs a prompt, a chosen and a rejected completion; set `{key}`)")]
    MissingField {
        path: PathBuf,
        row: usize,
        field: String,
        key: &'static str,
    },
    #[error("{path}:{row}: field `{field}` is empty (a preference pair needs both completions)")]
    Empty {
        path: PathBuf,
        row: usize,
        field: String,
    },
    #[error("{path}:{row}: field `{field}` must be a string or a list of {{role, content}} messages ({what})")]
    Shape {
        path: PathBuf,
        row: usize,
        field: String,
        what: String,
    },
    #[error("{path}:{row}: the chat template does not render field `{field}`")]
    Render {
        path: PathBuf,
        row: usize,
        field: String,
        #[source]
        source: ChatError,
    },
    #[error(transparent)]
    Parquet(#[from] super::nested::NestedError),
    #[error("the preference set has no rows ({})", super::paths_list(.paths))]
    NoRows { paths: Vec<PathBuf> },
}

/// The selected pairs, model-independent.
#[derive(Clone, Debug, PartialEq)]
pub struct PreferenceSet {
    pub pairs: Vec<Pair>,
    /// sha256 over every selected row's fields (JSON, in order).
    pub sha256: String,
    pub dataset: Option<DatasetRecord>,
}

/// What to record about a preference set in outputs.
#[derive(Clone, Debug, Serialize)]
pub struct PreferenceRecord {
    pub paths: Vec<PathBuf>,
    pub dataset: Option<DatasetRecord>,
    pub pairs: usize,
    pub sha256: String,
}

/// One model's token sequences: pair i gives sequences 2i (chosen, label 1)
/// and 2i+1 (rejected, label 0).
#[derive(Clone, Debug, PartialEq)]
pub struct PreferenceTokens {
    pub sequences: Vec<Vec<u32>>,
    /// Index of each sequence's first completion token.
    pub completion_start: Vec<usize>,
    /// Pairs dropped because truncation left one of their sequences no
    /// completion token.
    pub dropped: usize,
}

impl PreferenceSet {
    /// Reads the local files (or the fetched dataset shards) and selects pairs.
    pub fn load(
        settings: &PreferenceSettings,
        paths: &[PathBuf],
        dataset: Option<DatasetRecord>,
    ) -> Result<Self, CorpusError> {
        let limit = match settings.sample_seed {
            Some(_) => usize::MAX,
            None => settings.max_pairs.unwrap_or(usize::MAX),
        };
        let mut pairs = Vec::new();
        for path in paths {
            if pairs.len() >= limit {
                break;
            }
            for value in read_rows(path, settings, limit - pairs.len())? {
                pairs.push(parse_row(path, value.0, &value.1, settings)?);
            }
        }
        if pairs.is_empty() {
            return Err(PreferenceError::NoRows {
                paths: paths.to_vec(),
            }
            .into());
        }
        if let (Some(seed), Some(n)) = (settings.sample_seed, settings.max_pairs) {
            pairs = super::sample(pairs, n, seed);
        }
        let mut h = PartsHasher::new();
        for p in &pairs {
            for t in [&p.prompt, &p.chosen, &p.rejected] {
                h.part(&serde_json::to_vec(t).expect("turns serialise"));
            }
        }
        Ok(Self {
            pairs,
            sha256: h.finish(),
            dataset,
        })
    }

    /// Fetches a hub dataset's shards first when the set is one.
    pub fn fetch_and_load(
        settings: &PreferenceSettings,
        hub: Option<&crate::hub::Hub>,
    ) -> Result<Self, CorpusError> {
        match (&settings.dataset, hub) {
            (Some(ds), Some(hub)) => {
                let needed = settings
                    .max_pairs
                    .filter(|_| settings.sample_seed.is_none());
                let (paths, record) = super::dataset::fetch(hub, ds, needed)?;
                Self::load(settings, &paths, Some(record))
            }
            _ => Self::load(settings, &settings.paths, None),
        }
    }

    pub fn record(&self, settings: &PreferenceSettings) -> PreferenceRecord {
        PreferenceRecord {
            paths: settings.paths.clone(),
            dataset: self.dataset.clone(),
            pairs: self.pairs.len(),
            sha256: self.sha256.clone(),
        }
    }

    /// Bytes of text the selected pairs hold (for the memory plan).
    pub fn text_bytes(&self) -> usize {
        let turns = |t: &Turns| match t {
            Turns::Text(s) => s.len(),
            Turns::Messages(m) => m.iter().map(|m| m.role.len() + m.content.len()).sum(),
        };
        self.pairs
            .iter()
            .map(|p| turns(&p.prompt) + turns(&p.chosen) + turns(&p.rejected))
            .sum()
    }

    /// Renders and tokenizes every pair for one model.
    pub fn tokenize(
        &self,
        tokenizer: &Tokenizer,
        template: Option<&ChatTemplate>,
        settings: &PreferenceSettings,
    ) -> Result<PreferenceTokens, CorpusError> {
        let template = template.filter(|_| settings.chat_template == TemplateUse::Auto);
        let mut out = PreferenceTokens {
            sequences: Vec::new(),
            completion_start: Vec::new(),
            dropped: 0,
        };
        for pair in &self.pairs {
            let mut both = Vec::with_capacity(2);
            for (field, completion) in [
                (&settings.chosen_field, &pair.chosen),
                (&settings.rejected_field, &pair.rejected),
            ] {
                let (prompt, text, special) =
                    render(pair, completion, template).map_err(|source| {
                        PreferenceError::Render {
                            path: pair.file.clone(),
                            row: pair.row,
                            field: field.clone(),
                            source,
                        }
                    })?;
                let mut ids = tokenizer.encode(&prompt, special && settings.add_special_tokens)?;
                let start = ids.len();
                ids.extend(tokenizer.encode(&text, false)?);
                ids.truncate(settings.max_tokens);
                both.push((ids, start));
            }
            if both.iter().any(|(ids, start)| ids.len() <= *start) {
                out.dropped += 1;
                continue;
            }
            for (ids, start) in both {
                out.sequences.push(ids);
                out.completion_start.push(start);
            }
        }
        Ok(out)
    }
}

/// The prompt text, the completion text and whether the prompt may take the
/// tokenizer's special tokens (a chat template writes its own).
fn render(
    pair: &Pair,
    completion: &Turns,
    template: Option<&ChatTemplate>,
) -> Result<(String, String, bool), ChatError> {
    let conversation = match (&pair.prompt, completion) {
        (Turns::Text(p), Turns::Text(c)) => return Ok((p.clone(), c.clone(), true)),
        (_, Turns::Messages(m)) if m.len() > 1 => m.clone(),
        (prompt, completion) => {
            let mut m = match prompt {
                Turns::Text(p) => vec![Message::new("user", p)],
                Turns::Messages(m) => m.clone(),
            };
            match completion {
                Turns::Text(c) => m.push(Message::new("assistant", c)),
                Turns::Messages(c) => m.extend(c.iter().cloned()),
            }
            m
        }
    };
    let (head, last) = conversation.split_at(conversation.len() - 1);
    match template {
        Some(t) => {
            let prompt = t.render(head, true)?;
            let full = t.render(&conversation, false)?;
            let cut = common_prefix(&prompt, &full);
            Ok((full[..cut].to_string(), full[cut..].to_string(), false))
        }
        None => Ok((chat::plain(head, true), last[0].content.clone(), true)),
    }
}

/// Byte length of the longest common prefix, at a character boundary.
fn common_prefix(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len().min(b.len()), |((i, _), _)| i)
}

/// `(1-based row, JSON object)` of a file's first `limit` rows.
fn read_rows(
    path: &Path,
    settings: &PreferenceSettings,
    limit: usize,
) -> Result<Vec<(usize, Value)>, CorpusError> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    {
        let rows = super::nested::parquet_rows(path, &fields(settings), limit);
        return Ok(rows.map_err(PreferenceError::from)?);
    }
    let text = std::fs::read_to_string(path).map_err(|source| CorpusError::Read {
        path: path.into(),
        source,
    })?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if rows.len() >= limit {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let value = serde_json::from_str(line).map_err(|source| PreferenceError::Json {
            path: path.into(),
            row: i + 1,
            source,
        })?;
        rows.push((i + 1, value));
    }
    Ok(rows)
}

/// The three fields with the study keys that name them.
fn fields(s: &PreferenceSettings) -> [(&str, &'static str); 3] {
    [
        (&s.prompt_field, "prompt_field"),
        (&s.chosen_field, "chosen_field"),
        (&s.rejected_field, "rejected_field"),
    ]
}

fn parse_row(
    path: &Path,
    row: usize,
    value: &Value,
    settings: &PreferenceSettings,
) -> Result<Pair, PreferenceError> {
    let obj = value.as_object().ok_or_else(|| PreferenceError::Shape {
        path: path.into(),
        row,
        field: "(row)".into(),
        what: "the row is not a JSON object".into(),
    })?;
    let mut turns = Vec::with_capacity(3);
    for (i, (field, key)) in fields(settings).into_iter().enumerate() {
        let v = obj.get(field).filter(|v| !v.is_null()).ok_or_else(|| {
            PreferenceError::MissingField {
                path: path.into(),
                row,
                field: field.into(),
                key,
            }
        })?;
        let t = turns_of(v).map_err(|what| PreferenceError::Shape {
            path: path.into(),
            row,
            field: field.into(),
            what,
        })?;
        // A completion must have text; an empty prompt is allowed.
        if i > 0 && is_empty(&t) {
            return Err(PreferenceError::Empty {
                path: path.into(),
                row,
                field: field.into(),
            });
        }
        turns.push(t);
    }
    let [prompt, chosen, rejected]: [Turns; 3] = turns.try_into().expect("three fields");
    Ok(Pair {
        file: path.into(),
        row,
        prompt,
        chosen,
        rejected,
    })
}

fn is_empty(t: &Turns) -> bool {
    match t {
        Turns::Text(s) => s.trim().is_empty(),
        Turns::Messages(m) => m.last().is_none_or(|m| m.content.trim().is_empty()),
    }
}

fn turns_of(v: &Value) -> Result<Turns, String> {
    match v {
        Value::String(s) => Ok(Turns::Text(s.clone())),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let get = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
                match (get("role"), get("content")) {
                    (Some(role), Some(content)) => Ok(Message { role, content }),
                    _ => Err(format!("message {i} has no string `role` and `content`")),
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Turns::Messages),
        other => Err(format!("found {}", json_kind(other))),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
