//! Where a study's model is: a local folder or GGUF file as given, or a hub
//! model fetched (with or without its weights) at a pinned commit. Shared by
//! every stage that reads a model: the probe stage, the layer-group
//! scheduler, the plan, probe sets and watch.

use super::{Network, Progress, RunError};
use crate::models::{hub_source, ModelEntry};
use std::path::PathBuf;

/// Where a model's files are, and the commit they came from (hub models).
pub struct Located {
    pub dir: PathBuf,
    pub commit: Option<String>,
}

/// A local path as given, or the hub snapshot folder after fetching.
pub fn locate(
    entry: &ModelEntry,
    network: &Network,
    weights: bool,
    progress: &mut dyn Progress,
) -> Result<Located, RunError> {
    if let Some(path) = &entry.path {
        return Ok(Located {
            dir: path.clone(),
            commit: None,
        });
    }
    let id = entry
        .id
        .as_deref()
        .expect("the study checker requires a path or an id");
    let revision = entry.revision.as_deref().unwrap_or("main");
    let fetch_err = |source| RunError::Fetch {
        name: entry.name.clone(),
        source,
    };
    let hub = network.hub().map_err(|e| fetch_err(e.into()))?;
    let fetched = hub_source::fetch(hub, id, revision, weights).map_err(fetch_err)?;
    let how = if fetched.resolved.from_cache {
        " (from the cache: the hub was not asked)"
    } else {
        ""
    };
    progress.line(&format!(
        "{}: {id}@{revision} is commit {}{how}",
        entry.name, fetched.resolved.sha
    ));
    Ok(Located {
        dir: fetched.dir,
        commit: Some(fetched.resolved.sha),
    })
}
