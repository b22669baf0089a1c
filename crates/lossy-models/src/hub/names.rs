//! Names that come from a study or from the hub and end up in cache paths:
//! repository ids, revisions, repository file paths and ETags. Each is
//! checked before it touches the filesystem, so `revision: ../../x` or a
//! hub listing naming `../../.bashrc` cannot write outside the cache.

use super::error::HubError;

/// A path segment made of letters, digits, `-`, `_` and `.`, not `.`/`..`.
fn plain_segment(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// `org/name` or `name`, as the hub allows them.
pub fn check_id(id: &str) -> Result<(), HubError> {
    let parts: Vec<&str> = id.split('/').collect();
    if id.len() <= 96 && parts.len() <= 2 && parts.iter().all(|p| plain_segment(p)) {
        return Ok(());
    }
    Err(HubError::BadName {
        what: format!("repository id `{id}`"),
        rule:
            "one or two `/`-separated parts of letters, digits, `-`, `_` and `.` (not `.` or `..`)",
    })
}

/// A branch, tag, `refs/...` name or commit sha.
pub fn check_revision(revision: &str) -> Result<(), HubError> {
    if revision.len() <= 255
        && !revision.starts_with('.')
        && revision
            .split('/')
            .all(|p| plain_segment(p) && !p.starts_with('.'))
    {
        return Ok(());
    }
    Err(HubError::BadName {
        what: format!("revision `{revision}`"),
        rule: "a branch, tag or commit sha: `/`-separated parts of letters, digits, `-`, `_` and `.`, none empty or starting with `.`",
    })
}

/// A relative file path inside a repository (no `..`, no absolute path).
pub fn check_repo_path(name: &str) -> Result<(), HubError> {
    let ok = !name.is_empty()
        && name.len() <= 1024
        && !name.starts_with('/')
        && !name.contains(['\\', '\0'])
        && name
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..");
    if ok {
        return Ok(());
    }
    Err(HubError::BadName {
        what: format!("repository file `{}`", name.escape_debug()),
        rule: "a relative path inside the repository, without `.` or `..` parts",
    })
}

/// An ETag usable as a blob name: a sha256 (LFS files) or git sha1 (others).
pub fn etag_blob_name(etag: &str) -> bool {
    matches!(etag.len(), 40 | 64) && etag.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_odd_names_are_refused() {
        for bad in [
            "../../../../x",
            "main/../x",
            "/abs",
            "",
            "a//b",
            ".hidden",
            "a\\b",
        ] {
            assert!(check_revision(bad).is_err(), "{bad}");
        }
        for ok in [
            "main",
            "refs/pr/1",
            "refs/convert/parquet",
            "step1000",
            "v1.0",
        ] {
            assert!(check_revision(ok).is_ok(), "{ok}");
        }
        for bad in ["..", "a/b/c", "a/..", "", "a b", "x\\y"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
        assert!(check_id("HuggingFaceTB/SmolLM2-135M").is_ok());
        for bad in ["../x", "a/../b", "/etc/passwd", "a//b", "a\\b", "./a"] {
            assert!(check_repo_path(bad).is_err(), "{bad}");
        }
        assert!(check_repo_path("data/train-00000-of-00001.parquet").is_ok());
        assert!(etag_blob_name(&"a".repeat(40)) && !etag_blob_name(".."));
    }
}
