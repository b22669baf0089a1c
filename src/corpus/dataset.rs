//! A probing corpus from a Hugging Face dataset: the parquet files of one
//! config and split, as the hub's parquet conversion (`refs/convert/parquet`)
//! publishes them, pinned to that branch's commit and cached like any hub
//! file. Shards are taken in name order, and only as many as `max_documents`
//! needs, so "the first N documents" is the same selection on every machine.

use crate::hub::{Hub, HubError, RepoRef};
use crate::table::Table;
use serde::Serialize;
use std::path::PathBuf;

/// Where the hub publishes every dataset as parquet.
pub const PARQUET_REVISION: &str = "refs/convert/parquet";

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatasetSource {
    pub id: String,
    pub config: String,
    pub split: String,
    /// A commit of the parquet branch, or the branch itself.
    pub revision: String,
}

/// What was fetched, for the corpus record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatasetRecord {
    #[serde(flatten)]
    pub source: DatasetSource,
    pub sha: String,
    pub files: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error("dataset {id}: no parquet files for config `{config}` and split `{split}` at {sha} (files under: {available})")]
    NoFiles {
        id: String,
        config: String,
        split: String,
        sha: String,
        available: String,
    },
    #[error(transparent)]
    Table(#[from] crate::table::TableError),
}

/// Downloads the shards that hold the first `max_documents` rows (all of
/// them when `None`) and returns their local paths in order.
pub fn fetch(
    hub: &Hub,
    source: &DatasetSource,
    max_documents: Option<usize>,
) -> Result<(Vec<PathBuf>, DatasetRecord), DatasetError> {
    let repo = RepoRef::dataset(&source.id);
    let resolved = hub.resolve(&repo, &source.revision)?;
    let wanted = |f: &&String| {
        let Some(rest) = f.strip_prefix(&format!("{}/", source.config)) else {
            return false;
        };
        let folder = rest.rsplit_once('/').map_or("", |(d, _)| d);
        f.ends_with(".parquet")
            && (folder == source.split || folder == format!("partial-{}", source.split))
    };
    let mut shards: Vec<String> = resolved.files.iter().filter(wanted).cloned().collect();
    shards.sort();
    if shards.is_empty() {
        let mut folders: Vec<String> = resolved
            .files
            .iter()
            .filter_map(|f| f.rsplit_once('/').map(|(d, _)| d.to_string()))
            .collect();
        folders.dedup();
        return Err(DatasetError::NoFiles {
            id: source.id.clone(),
            config: source.config.clone(),
            split: source.split.clone(),
            sha: resolved.sha,
            available: folders.join(", "),
        });
    }
    let mut paths = Vec::new();
    let mut files = Vec::new();
    let mut rows = 0usize;
    for name in shards {
        if max_documents.is_some_and(|n| rows >= n) {
            break;
        }
        let path = hub.file(&repo, &resolved.sha, &name)?;
        rows += Table::parquet_rows(&path)?;
        paths.push(path);
        files.push(name);
    }
    Ok((
        paths,
        DatasetRecord {
            source: source.clone(),
            sha: resolved.sha,
            files,
        },
    ))
}
