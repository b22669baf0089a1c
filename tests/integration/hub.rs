//! The hub client against a real HTTP server on 127.0.0.1: revisions pinned
//! to shas, the shared cache layout, zero requests on a warm cache, offline
//! mode, gated repositories, and failures (401, 404, 500, a stall, a body cut
//! short), each with a clear message and no corrupt file left in the cache.

use crate::http_server::{Fault, HubServer};
use lossy::hub::{Hub, HubError, RepoRef};
use std::path::Path;
use std::time::Duration;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const SHA_V1: &str = "89abcdef0123456789abcdef0123456789abcdef";

fn hub(server: &HubServer, cache: &Path, token: Option<&str>, offline: bool) -> Hub {
    server.hub(cache, token, offline, 2)
}

fn serve_model(server: &HubServer) {
    server.revision(
        "models",
        "org/tiny",
        "main",
        SHA,
        &["config.json", "model.safetensors"],
    );
    server.revision("models", "org/tiny", "v1.0", SHA_V1, &["config.json"]);
    server.revision("models", "org/tiny", "step1000", SHA_V1, &["config.json"]);
    server.file(
        "",
        "org/tiny",
        SHA,
        "config.json",
        br#"{"model_type": "llama"}"#.to_vec(),
    );
    server.file("", "org/tiny", SHA, "model.safetensors", vec![7u8; 100_000]);
}

/// No file in the cache may be partial: every blob matches its name (the sha256 ETag).
fn assert_cache_clean(cache: &Path) {
    for p in crate::support::files_below(cache) {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.contains("incomplete") && !name.contains(".tmp"),
            "leftover {}",
            p.display()
        );
        if p.parent().is_some_and(|d| d.ends_with("blobs")) && name.len() == 64 {
            assert_eq!(
                lossy::io::hash::sha256_file(&p).unwrap(),
                name,
                "corrupt blob {}",
                p.display()
            );
        }
    }
}

#[test]
fn branches_tags_and_checkpoints_resolve_to_shas_and_a_warm_cache_costs_no_request() {
    let server = HubServer::start();
    serve_model(&server);
    let cache = tempfile::tempdir().unwrap();
    let h = hub(&server, cache.path(), None, false);
    let repo = RepoRef::model("org/tiny");
    let main = h.resolve(&repo, "main").unwrap();
    assert_eq!(
        (main.sha.as_str(), main.files.len(), main.from_cache),
        (SHA, 2, false)
    );
    assert_eq!(h.resolve(&repo, "v1.0").unwrap().sha, SHA_V1);
    assert_eq!(
        h.resolve(&repo, "step1000").unwrap().sha,
        SHA_V1,
        "a checkpoint branch"
    );
    let weights = h.file(&repo, SHA, "model.safetensors").unwrap();
    assert_eq!(std::fs::read(&weights).unwrap(), vec![7u8; 100_000]);
    // The Python layout: refs, blobs named by ETag, snapshot symlinks.
    let root = cache.path().join("models--org--tiny");
    assert_eq!(
        std::fs::read_to_string(root.join("refs/main")).unwrap(),
        SHA
    );
    assert!(weights.starts_with(root.join("snapshots").join(SHA)));
    assert!(std::fs::symlink_metadata(&weights)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_cache_clean(cache.path());

    let before = server.requests();
    let again = h.file(&repo, SHA, "model.safetensors").unwrap();
    assert_eq!(again, weights);
    assert_eq!(server.requests(), before, "a cached file costs no request");

    // Offline: the refs answer, files come from the cache, and what is missing is named.
    let off = hub(&server, cache.path(), None, true);
    let r = off.resolve(&repo, "main").unwrap();
    assert!(r.from_cache && r.sha == SHA);
    assert_eq!(
        r.files,
        vec!["model.safetensors"],
        "offline, the snapshot lists what is cached"
    );
    assert_eq!(off.file(&repo, SHA, "model.safetensors").unwrap(), weights);
    let err = off.file(&repo, SHA, "config.json").unwrap_err().to_string();
    assert!(
        err.contains("`config.json`")
            && err.contains("not in the cache")
            && err.contains("offline"),
        "{err}"
    );
    assert_eq!(server.requests(), before, "offline makes no request");
}

#[test]
fn failures_have_clear_messages_are_retried_when_transient_and_leave_no_corrupt_file() {
    let server = HubServer::start();
    serve_model(&server);
    let cache = tempfile::tempdir().unwrap();
    let h = hub(&server, cache.path(), None, false);
    let repo = RepoRef::model("org/tiny");

    // 404: not retried.
    let n = server.requests();
    let err = h
        .resolve(&RepoRef::model("org/missing"), "main")
        .unwrap_err();
    assert!(matches!(err, HubError::NotFound { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("model org/missing at revision `main`: not found"),
        "{err}"
    );
    assert_eq!(server.requests(), n + 1);

    // 500 twice, then success: retried.
    let path = format!("/org/tiny/resolve/{SHA}/config.json");
    server.faults(&path, vec![Fault::Status(500), Fault::Status(503)]);
    let p = h.file(&repo, SHA, "config.json").unwrap();
    assert_eq!(std::fs::read(p).unwrap(), br#"{"model_type": "llama"}"#);

    // 500 on every attempt: the message says so.
    let weights = format!("/org/tiny/resolve/{SHA}/model.safetensors");
    server.faults(&weights, vec![Fault::Status(500); 3]);
    let err = h
        .file(&repo, SHA, "model.safetensors")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 500") && err.contains("gave up after 3 attempts"),
        "{err}"
    );
    assert_cache_clean(cache.path());

    // A body cut short, then a stall past the timeout: both retried; the third try succeeds.
    server.faults(
        &weights,
        vec![
            Fault::Truncate(1000),
            Fault::Stall(Duration::from_millis(2500)),
        ],
    );
    let p = h.file(&repo, SHA, "model.safetensors").unwrap();
    assert_eq!(std::fs::read(p).unwrap().len(), 100_000);
    assert_cache_clean(cache.path());

    // Truncated every time: a clear message and nothing in the cache.
    let cache2 = tempfile::tempdir().unwrap();
    let h2 = hub(&server, cache2.path(), None, false);
    server.faults(&weights, vec![Fault::Truncate(1000); 3]);
    let err = h2
        .file(&repo, SHA, "model.safetensors")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("stopped after") && err.contains("of 100000 bytes"),
        "{err}"
    );
    assert!(h2
        .cache(&repo)
        .snapshot_file(SHA, "model.safetensors")
        .is_none());
    assert_cache_clean(cache2.path());

    // A stall on every attempt: a timeout, named as one.
    server.faults(
        "/api/models/org/tiny/revision/main",
        vec![Fault::Stall(Duration::from_millis(2500)); 3],
    );
    let cache3 = tempfile::tempdir().unwrap();
    let err = hub(&server, cache3.path(), None, false)
        .resolve(&repo, "main")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("timed out") && err.contains("LOSSY_HTTP_TIMEOUT"),
        "{err}"
    );
}

#[test]
fn a_gated_repository_needs_the_token_and_the_token_never_shows() {
    let server = HubServer::start();
    let token = "hf_SeCrEtToKeN0123456789";
    let body = format!("{{\"id\": \"org/gated\", \"sha\": \"{SHA}\", \"siblings\": [{{\"rfilename\": \"config.json\"}}]}}");
    server.gated_route(
        "/api/models/org/gated/revision/main",
        body.into_bytes(),
        token,
    );
    server.gated_route(
        &format!("/org/gated/resolve/{SHA}/config.json"),
        b"{}".to_vec(),
        token,
    );
    let cache = tempfile::tempdir().unwrap();
    let repo = RepoRef::model("org/gated");

    let err = hub(&server, cache.path(), None, false)
        .resolve(&repo, "main")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 401") && err.contains("HF_TOKEN"),
        "{err}"
    );
    let err = hub(&server, cache.path(), Some("hf_wrong"), false)
        .resolve(&repo, "main")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the token was refused") && !err.contains("hf_wrong"),
        "{err}"
    );

    let h = hub(&server, cache.path(), Some(token), false);
    let sha = h.resolve(&repo, "main").unwrap().sha;
    h.file(&repo, &sha, "config.json").unwrap();
    assert!(server
        .seen()
        .iter()
        .any(|s| s.authorization.as_deref() == Some(&format!("Bearer {token}"))));
    assert!(
        !format!("{:?}", h.env).contains(token),
        "Debug output hides the token"
    );
    // Nothing lossy wrote to the cache contains the token.
    for entry in crate::support::files_below(cache.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(token),
            "token in {}",
            entry.display()
        );
    }
}
