//! The Hugging Face hub: revisions resolved to commit shas, files downloaded
//! into the shared cache layout, and offline use of that cache. Used for
//! score datasets (the Open LLM Leaderboard) and, through the same client,
//! for models and corpora.
//!
//! Everything goes over real HTTP to `HF_ENDPOINT`, so tests point lossy at a
//! server of their own on 127.0.0.1.

mod cache;
mod env;
mod error;
mod http;
pub mod names;

pub use cache::{is_commit_sha, RepoCache};
pub use env::{EnvError, HubEnv, Token};
pub use error::HubError;

use http::Http;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RepoKind {
    Model,
    Dataset,
}

/// A repository on the hub.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoRef {
    pub kind: RepoKind,
    pub id: String,
}

impl RepoRef {
    pub fn model(id: &str) -> Self {
        Self {
            kind: RepoKind::Model,
            id: id.into(),
        }
    }
    pub fn dataset(id: &str) -> Self {
        Self {
            kind: RepoKind::Dataset,
            id: id.into(),
        }
    }
    fn describe(&self) -> String {
        match self.kind {
            RepoKind::Model => format!("model {}", self.id),
            RepoKind::Dataset => format!("dataset {}", self.id),
        }
    }
    fn api_path(&self) -> &'static str {
        match self.kind {
            RepoKind::Model => "models",
            RepoKind::Dataset => "datasets",
        }
    }
    fn file_prefix(&self) -> &'static str {
        match self.kind {
            RepoKind::Model => "",
            RepoKind::Dataset => "datasets/",
        }
    }
}

/// A revision pinned to its commit.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Resolved {
    pub revision: String,
    pub sha: String,
    /// Repository paths at that commit (from the hub; from the snapshot when offline).
    pub files: Vec<String>,
    /// True when the hub could not be asked and the cache answered.
    pub from_cache: bool,
}

pub struct Hub {
    pub env: HubEnv,
    http: Option<Http>,
    /// Set once the hub could not be reached: later calls go straight to the
    /// cache instead of waiting through retries again.
    unreachable: std::sync::Mutex<Option<String>>,
}

impl Hub {
    pub fn new(env: HubEnv) -> Result<Self, HubError> {
        let http = if env.offline {
            None
        } else {
            Some(Http::new(&env)?)
        };
        Ok(Self {
            env,
            http,
            unreachable: std::sync::Mutex::new(None),
        })
    }

    /// From the process environment, offline if `offline` or `HF_HUB_OFFLINE`.
    pub fn from_env(offline: bool) -> Result<Self, HubError> {
        let mut env = HubEnv::from_env()?;
        env.offline |= offline;
        Self::new(env)
    }

    pub fn cache(&self, repo: &RepoRef) -> RepoCache {
        RepoCache::new(&self.env.cache, repo)
    }

    /// Pins `revision` (branch, tag or sha) to its commit. Online, the hub is
    /// asked and the answer cached in `refs/`; when the hub cannot be reached
    /// (or offline) the cached ref answers.
    pub fn resolve(&self, repo: &RepoRef, revision: &str) -> Result<Resolved, HubError> {
        names::check_id(&repo.id)?;
        names::check_revision(revision)?;
        let cache = self.cache(repo);
        let what = format!("{} at revision `{revision}`", repo.describe());
        let from_cache = |err: HubError| -> Result<Resolved, HubError> {
            match cache.ref_sha(revision) {
                Some(sha) => Ok(Resolved {
                    revision: revision.into(),
                    files: cache.snapshot_files(&sha),
                    sha,
                    from_cache: true,
                }),
                None => Err(err),
            }
        };
        let Some(http) = &self.http else {
            return from_cache(HubError::Offline {
                what,
                cache: self.env.cache.clone(),
            });
        };
        if let Some(earlier) = self.unreachable() {
            return from_cache(HubError::Network {
                what,
                detail: format!(
                    "not asked: the hub was unreachable earlier in this run ({})",
                    earlier.rsplit(": ").next().unwrap_or(&earlier)
                ),
                retried: String::new(),
            });
        }
        let url = format!(
            "{}/api/{}/{}/revision/{}",
            self.env.endpoint,
            repo.api_path(),
            repo.id,
            encode(revision)
        );
        let text = match http.get_text(&url, &what) {
            Ok(t) => t,
            Err(e) if e.is_transient() => {
                self.note_unreachable(&e);
                return from_cache(e);
            }
            Err(e) => return Err(e),
        };
        let info: RepoInfo = serde_json::from_str(&text).map_err(|e| HubError::Response {
            what: what.clone(),
            detail: e.to_string(),
        })?;
        if !is_commit_sha(&info.sha) {
            return Err(HubError::Response {
                what,
                detail: format!("`{}` is not a commit sha", info.sha),
            });
        }
        cache.write_ref(revision, &info.sha)?;
        let mut files: Vec<String> = info.siblings.into_iter().map(|s| s.rfilename).collect();
        files.sort();
        Ok(Resolved {
            revision: revision.into(),
            sha: info.sha,
            files,
            from_cache: false,
        })
    }

    /// The local path of `name` at a resolved commit, downloading it into the
    /// cache if needed. A cached file costs no request.
    pub fn file(&self, repo: &RepoRef, sha: &str, name: &str) -> Result<PathBuf, HubError> {
        let what = format!(
            "{} file `{name}` at {}",
            repo.describe(),
            sha.get(..12).unwrap_or(sha)
        );
        names::check_id(&repo.id)?;
        names::check_repo_path(name)?;
        if !is_commit_sha(sha) {
            return Err(HubError::Response {
                what,
                detail: "not a commit sha".into(),
            });
        }
        let cache = self.cache(repo);
        if let Some(p) = cache.snapshot_file(sha, name) {
            // An unverified file is fetched again (and verified) whenever the hub can be asked.
            if self.http.is_none() || !cache.is_unverified(&p) {
                return Ok(p);
            }
        }
        let Some(http) = &self.http else {
            return Err(HubError::Offline {
                what,
                cache: self.env.cache.clone(),
            });
        };
        let url = format!(
            "{}/{}{}/resolve/{sha}/{}",
            self.env.endpoint,
            repo.file_prefix(),
            repo.id,
            encode_path(name)
        );
        if let Some(earlier) = self.unreachable() {
            return Err(HubError::Network {
                what,
                detail: format!(
                    "not asked: the hub was unreachable earlier in this run ({})",
                    earlier.rsplit(": ").next().unwrap_or(&earlier)
                ),
                retried: String::new(),
            });
        }
        cache.clean_stale();
        let got = http
            .download(&url, &cache.incomplete_dir(), &what, &progress_line(name))
            .inspect_err(|e| self.note_unreachable(e))?;
        let blob = match got.etag.as_deref() {
            Some(etag) if got.verified && names::etag_blob_name(etag) => etag.to_string(),
            _ => format!("{}{}", cache::UNVERIFIED, got.sha256),
        };
        cache.store(sha, name, &got.temp, &blob).inspect_err(|_| {
            let _ = std::fs::remove_file(&got.temp);
        })
    }
}

impl Hub {
    /// The names of a repository's branches and tags (the hub's refs API),
    /// for a checkpoint series given by a revision pattern. There is no
    /// offline answer: the cache knows only the revisions resolved before.
    pub fn refs(&self, repo: &RepoRef) -> Result<Vec<String>, HubError> {
        let what = format!("the branches and tags of {}", repo.describe());
        let Some(http) = &self.http else {
            return Err(HubError::OfflineListing { what });
        };
        let url = format!(
            "{}/api/{}/{}/refs",
            self.env.endpoint,
            repo.api_path(),
            repo.id
        );
        let text = http
            .get_text(&url, &what)
            .inspect_err(|e| self.note_unreachable(e))?;
        let refs: RepoRefs = serde_json::from_str(&text).map_err(|e| HubError::Response {
            what: what.clone(),
            detail: e.to_string(),
        })?;
        let mut names: Vec<String> = refs
            .branches
            .into_iter()
            .chain(refs.tags)
            .map(|r| r.name)
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn unreachable(&self) -> Option<String> {
        self.unreachable.lock().ok().and_then(|u| u.clone())
    }

    /// Remembers a connection failure (not a server error: the server answered).
    fn note_unreachable(&self, e: &HubError) {
        if let HubError::Network { detail, .. } = e {
            if let Ok(mut u) = self.unreachable.lock() {
                u.get_or_insert_with(|| detail.clone());
            }
        }
    }
}

/// A progress line on stderr for downloads over 16 MiB, when stderr is a
/// terminal (redrawn in place at most every 250 ms).
fn progress_line(name: &str) -> impl Fn(u64, Option<u64>) + '_ {
    use std::io::{IsTerminal, Write};
    let show = std::io::stderr().is_terminal();
    let last = std::cell::Cell::new(None::<std::time::Instant>);
    move |done, total| {
        let Some(total) = total.filter(|&t| show && t > 16 << 20) else {
            return;
        };
        let now = std::time::Instant::now();
        if done < total
            && last
                .get()
                .is_some_and(|t| now.duration_since(t).as_millis() < 250)
        {
            return;
        }
        last.set(Some(now));
        let mib = |b: u64| b as f64 / (1 << 20) as f64;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{name}: {:.0} of {:.0} MiB ({:.0}%)",
            mib(done),
            mib(total),
            100.0 * done as f64 / total as f64
        );
        if done >= total {
            let _ = writeln!(err);
        }
    }
}

#[derive(serde::Deserialize)]
struct RepoInfo {
    sha: String,
    #[serde(default)]
    siblings: Vec<Sibling>,
}

/// `/api/models/<id>/refs`: `{"branches": [{"name": ...}], "tags": [...]}`.
#[derive(serde::Deserialize)]
struct RepoRefs {
    #[serde(default)]
    branches: Vec<NamedRef>,
    #[serde(default)]
    tags: Vec<NamedRef>,
}

#[derive(serde::Deserialize)]
struct NamedRef {
    name: String,
}

#[derive(serde::Deserialize)]
struct Sibling {
    rfilename: String,
}

/// Percent-encodes one path segment (a revision such as `refs/convert/parquet`
/// becomes one segment).
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes a repository path, keeping its slashes.
fn encode_path(s: &str) -> String {
    s.split('/').map(encode).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_and_paths_are_encoded_as_the_hub_expects() {
        assert_eq!(encode("refs/convert/parquet"), "refs%2Fconvert%2Fparquet");
        assert_eq!(encode("step1000"), "step1000");
        assert_eq!(
            encode_path("data/train 0.parquet"),
            "data/train%200.parquet"
        );
    }

    #[test]
    fn file_names_cannot_leave_the_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let env = HubEnv::from_vars(|k| {
            (k == "HF_HUB_CACHE").then(|| dir.path().to_string_lossy().into_owned())
        })
        .unwrap();
        let hub = Hub::new(env).unwrap();
        let sha = "a".repeat(40);
        for bad in ["../../etc/passwd", "/abs", "a//b", "a/./b", ""] {
            let err = hub.file(&RepoRef::model("org/m"), &sha, bad).unwrap_err();
            assert!(matches!(err, HubError::BadName { .. }), "{bad}: {err}");
        }
        assert!(
            hub.file(&RepoRef::model("org/m"), "main", "config.json")
                .is_err(),
            "files are fetched by commit only"
        );
    }

    #[test]
    fn offline_resolution_uses_refs_and_names_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let env = HubEnv::from_vars(|k| match k {
            "HF_HUB_CACHE" => Some(dir.path().to_string_lossy().into_owned()),
            "HF_HUB_OFFLINE" => Some("1".into()),
            _ => None,
        })
        .unwrap();
        let hub = Hub::new(env).unwrap();
        let repo = RepoRef::model("org/m");
        let err = hub.resolve(&repo, "main").unwrap_err();
        assert!(
            err.to_string()
                .contains("model org/m at revision `main` is not in the cache"),
            "{err}"
        );
        let sha = "b".repeat(40);
        hub.cache(&repo).write_ref("main", &sha).unwrap();
        let r = hub.resolve(&repo, "main").unwrap();
        assert_eq!(r.sha, sha);
        assert!(r.from_cache);
        let err = hub.file(&repo, &sha, "config.json").unwrap_err();
        assert!(matches!(err, HubError::Offline { .. }), "{err}");
    }
}
