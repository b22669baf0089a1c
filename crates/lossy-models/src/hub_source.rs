//! Models from the Hugging Face hub: a revision pinned to its commit, then
//! the files a probe needs downloaded into the shared cache (config,
//! tokenizer, and the weights: the safetensors index and its shards, or one
//! `model.safetensors`, preferred over `pytorch_model.bin`). The snapshot
//! folder that results is an ordinary model folder for [`super::ModelFiles`].

use crate::hub::{Hub, HubError, RepoRef, Resolved};
use std::path::PathBuf;

/// A hub model fetched (or found in the cache).
#[derive(Clone, Debug)]
pub struct Fetched {
    pub dir: PathBuf,
    pub resolved: Resolved,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error("model {id} at {sha}: {reason}")]
    Files {
        id: String,
        sha: String,
        reason: String,
    },
}

/// Files fetched besides the weights, when the repository has them.
const SMALL_FILES: &[&str] = &[
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "generation_config.json",
];

/// Resolves `revision` and fetches what a probe needs. With `weights: false`
/// only the small files come (what `lossy plan` reads).
pub fn fetch(hub: &Hub, id: &str, revision: &str, weights: bool) -> Result<Fetched, FetchError> {
    let repo = RepoRef::model(id);
    // A commit sha whose snapshot already holds what is needed costs no request.
    if crate::hub::is_commit_sha(revision) {
        let dir = hub.cache(&repo).root.join("snapshots").join(revision);
        let complete = if weights {
            super::ModelFiles::locate(&dir).is_ok()
        } else {
            dir.join("config.json").is_file() && dir.join("tokenizer.json").is_file()
        };
        if complete {
            let resolved = Resolved {
                revision: revision.into(),
                sha: revision.into(),
                files: hub.cache(&repo).snapshot_files(revision),
                from_cache: true,
            };
            return Ok(Fetched { dir, resolved });
        }
    }
    let resolved = hub.resolve(&repo, revision)?;
    let names = if weights {
        choose(hub, &repo, &resolved)?
    } else {
        small_files(id, &resolved)?
    };
    for name in &names {
        hub.file(&repo, &resolved.sha, name)?;
    }
    let dir = hub.cache(&repo).root.join("snapshots").join(&resolved.sha);
    Ok(Fetched { dir, resolved })
}

fn small_files(id: &str, r: &Resolved) -> Result<Vec<String>, FetchError> {
    let err = |reason: &str| FetchError::Files {
        id: id.into(),
        sha: r.sha.clone(),
        reason: reason.into(),
    };
    let has = |f: &str| r.files.iter().any(|x| x == f);
    if !has("config.json") {
        return Err(err("the repository has no config.json (GGUF repositories: download the .gguf file and give its `path`)"));
    }
    if !has("tokenizer.json") {
        return Err(err(
            "the repository has no tokenizer.json; lossy needs the fast tokenizer file",
        ));
    }
    Ok(SMALL_FILES
        .iter()
        .filter(|f| has(f))
        .map(|f| f.to_string())
        .collect())
}

/// The small files plus the weights, chosen from the repository listing.
fn choose(hub: &Hub, repo: &RepoRef, r: &Resolved) -> Result<Vec<String>, FetchError> {
    let mut names = small_files(&repo.id, r)?;
    let has = |f: &str| r.files.iter().any(|x| x == f);
    if has("model.safetensors") {
        names.push("model.safetensors".into());
    } else if has("model.safetensors.index.json") {
        let index = hub.file(repo, &r.sha, "model.safetensors.index.json")?;
        names.push("model.safetensors.index.json".into());
        names.extend(shards(&index).map_err(|reason| FetchError::Files {
            id: repo.id.clone(),
            sha: r.sha.clone(),
            reason,
        })?);
    } else if has("pytorch_model.bin") {
        names.push("pytorch_model.bin".into());
    } else {
        return Err(FetchError::Files {
            id: repo.id.clone(),
            sha: r.sha.clone(),
            reason: "no model.safetensors, model.safetensors.index.json or pytorch_model.bin"
                .into(),
        });
    }
    Ok(names)
}

/// The shard files an index names, sorted and deduplicated.
fn shards(index: &std::path::Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(index)
        .map_err(|e| format!("cannot read the safetensors index: {e}"))?;
    super::shard_names(&text)
}
