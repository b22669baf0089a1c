//! The Hugging Face cache layout, shared with the Python libraries so an
//! existing `~/.cache/huggingface/hub` is reused and what lossy downloads is
//! reused by them:
//!
//! ```text
//! <cache>/models--org--name/refs/<revision>          the commit sha it pointed to
//!                          /blobs/<etag>              file contents
//!                          /snapshots/<sha>/<path>    symlink to ../../blobs/<etag>
//! ```
//!
//! Files enter `blobs/` by rename from a fully checked temporary file, and the
//! snapshot link is made last, so an interrupted download leaves no file that
//! looks complete.

use super::error::HubError;
use super::RepoRef;
use std::path::{Path, PathBuf};

/// Prefix of blobs whose content no ETag vouched for.
pub const UNVERIFIED: &str = "unverified-";

pub struct RepoCache {
    pub root: PathBuf,
}

impl RepoCache {
    pub fn new(cache: &Path, repo: &RepoRef) -> Self {
        let prefix = match repo.kind {
            super::RepoKind::Model => "models",
            super::RepoKind::Dataset => "datasets",
        };
        Self {
            root: cache.join(format!("{prefix}--{}", repo.id.replace('/', "--"))),
        }
    }

    /// The sha a revision pointed to when last resolved (a sha names itself
    /// when its snapshot exists).
    pub fn ref_sha(&self, revision: &str) -> Option<String> {
        if is_commit_sha(revision) && self.root.join("snapshots").join(revision).is_dir() {
            return Some(revision.to_string());
        }
        let sha = std::fs::read_to_string(self.root.join("refs").join(revision)).ok()?;
        let sha = sha.trim();
        is_commit_sha(sha).then(|| sha.to_string())
    }

    pub fn write_ref(&self, revision: &str, sha: &str) -> Result<(), HubError> {
        if revision == sha {
            return Ok(());
        }
        let path = self.root.join("refs").join(revision);
        lossy_base::io::atomic::write(&path, sha.as_bytes())
            .map_err(|source| HubError::Io { path, source })
    }

    /// The cached file `name` of commit `sha`, if complete.
    pub fn snapshot_file(&self, sha: &str, name: &str) -> Option<PathBuf> {
        let p = self.root.join("snapshots").join(sha).join(name);
        p.is_file().then_some(p)
    }

    /// Files present in a snapshot, as repository paths, sorted.
    pub fn snapshot_files(&self, sha: &str) -> Vec<String> {
        let base = self.root.join("snapshots").join(sha);
        let mut out = Vec::new();
        let mut stack = vec![base.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.is_file() && !is_link_temporary(&e.file_name().to_string_lossy()) {
                    if let Ok(rel) = p.strip_prefix(&base) {
                        out.push(rel.to_string_lossy().replace('\\', "/"));
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// Moves a checked temporary file into `blobs/<etag>` and links it from
    /// the snapshot. Returns the snapshot path.
    pub fn store(
        &self,
        sha: &str,
        name: &str,
        temp: &Path,
        etag: &str,
    ) -> Result<PathBuf, HubError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| HubError::Io { path, source }
        };
        let blobs = self.root.join("blobs");
        std::fs::create_dir_all(&blobs).map_err(io(&blobs))?;
        let blob = blobs.join(etag);
        std::fs::rename(temp, &blob).map_err(io(&blob))?;
        let link = self.root.join("snapshots").join(sha).join(name);
        let parent = link.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        // Made beside the link and renamed over it: a reader in another
        // process sees the old link or the new one, never a missing file.
        let temp_link = link.with_file_name(format!(
            ".{}.link-{}-{}",
            link.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id(),
            unique()
        ));
        link_or_copy(&blob, &temp_link, name).map_err(io(&temp_link))?;
        std::fs::rename(&temp_link, &link)
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&temp_link);
            })
            .map_err(io(&link))?;
        Ok(link)
    }

    /// Whether a snapshot file's blob could not be verified when it was
    /// downloaded (no usable ETag): such a blob is named `unverified-<sha256>`.
    pub fn is_unverified(&self, snapshot_file: &Path) -> bool {
        std::fs::read_link(snapshot_file)
            .ok()
            .and_then(|t| t.file_name().map(|n| n.to_string_lossy().into_owned()))
            .is_some_and(|n| n.starts_with(UNVERIFIED))
    }

    /// Removes `.incomplete` downloads and link temporaries that dead
    /// processes left in `blobs/` (a live process's downloads are kept).
    pub fn clean_stale(&self) {
        let pid_of = |rest: &str| rest.split('-').next()?.parse().ok();
        lossy_base::io::pid::remove_dead_files(&self.incomplete_dir(), ".lossy-", pid_of);
    }

    /// Folder for temporary downloads (inside the repo, so the final rename
    /// never crosses file systems).
    pub fn incomplete_dir(&self) -> PathBuf {
        self.root.join("blobs")
    }
}

#[cfg(unix)]
fn link_or_copy(blob: &Path, link: &Path, name: &str) -> std::io::Result<()> {
    // snapshots/<sha>/<a>/<b> → ../../../blobs/<etag>: one `..` per path segment plus two.
    let depth = name.split('/').count() + 1;
    let mut target = PathBuf::new();
    for _ in 0..depth {
        target.push("..");
    }
    target.push("blobs");
    target.push(blob.file_name().unwrap_or_default());
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn link_or_copy(blob: &Path, link: &Path, _name: &str) -> std::io::Result<()> {
    std::fs::copy(blob, link).map(|_| ())
}

/// `.NAME.link-PID-N`, a link being put in place by [`RepoCache::store`].
fn is_link_temporary(file: &str) -> bool {
    file.starts_with('.') && file.contains(".link-")
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

pub fn is_commit_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::{RepoKind, RepoRef};

    #[test]
    fn layout_matches_python_and_links_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let c = RepoCache::new(
            dir.path(),
            &RepoRef {
                kind: RepoKind::Model,
                id: "org/name".into(),
            },
        );
        assert!(c.root.ends_with("models--org--name"));
        let sha = "a".repeat(40);
        c.write_ref("main", &sha).unwrap();
        assert_eq!(c.ref_sha("main").as_deref(), Some(sha.as_str()));
        assert_eq!(c.ref_sha("v1"), None);
        let tmp = dir.path().join("t");
        std::fs::write(&tmp, b"hello").unwrap();
        let p = c.store(&sha, "sub/dir/file.json", &tmp, "etag1").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"hello");
        assert_eq!(c.snapshot_file(&sha, "sub/dir/file.json"), Some(p));
        assert_eq!(c.snapshot_files(&sha), vec!["sub/dir/file.json"]);
        assert_eq!(
            c.ref_sha(&sha).as_deref(),
            Some(sha.as_str()),
            "a sha with a snapshot names itself"
        );
    }
}
