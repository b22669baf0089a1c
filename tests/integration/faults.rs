//! Hostile input and faults against the real `lossy` binary: the report
//! target (`-o`) is never a user's folder or file, names from a study never
//! escape the hub cache, and leftovers of killed runs are cleaned up.

use super::support::{lossy, root, text};
use std::path::Path;

fn tiny_model() -> String {
    root()
        .join("data/tiny-llama/tiny-a")
        .to_string_lossy()
        .into_owned()
}

/// A one-model study on the tiny Llama fixture with a 6-document corpus.
fn small_study(dir: &Path) -> String {
    let docs: String = (0..6)
        .map(|i| format!("the cat {i} sat on the mat and looked at the dog {i} again\n\n"))
        .collect();
    std::fs::write(dir.join("c.txt"), docs).unwrap();
    let yaml = format!(
        "version: 1\nname: small\nmodels:\n  - path: {}\ncorpus:\n  path: c.txt\n  max_tokens: 16\nfeatures:\n  bins: 8\n  orders: [1]\n",
        tiny_model()
    );
    let p = dir.join("study.yaml");
    std::fs::write(&p, yaml).unwrap();
    p.to_string_lossy().into_owned()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn output_folder_that_is_not_a_report_is_refused_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let study = small_study(tmp.path());
    let papers = tmp.path().join("papers");
    std::fs::create_dir_all(papers.join("sub")).unwrap();
    std::fs::write(papers.join("thesis.tex"), "years of work").unwrap();
    std::fs::write(papers.join("sub/notes.md"), "notes").unwrap();
    let out = lossy(tmp.path(), &["run", &study, "-q", "-o", "papers"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not a lossy report folder"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(papers.join("thesis.tex")).unwrap(),
        "years of work"
    );
    assert_eq!(names(&papers), vec!["sub", "thesis.tex"]);
    assert!(
        !names(tmp.path()).iter().any(|n| n.starts_with('.')),
        "leftovers: {:?}",
        names(tmp.path())
    );
}

#[test]
fn output_file_is_refused_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let study = small_study(tmp.path());
    std::fs::write(tmp.path().join("out.txt"), "mine").unwrap();
    let out = lossy(tmp.path(), &["run", &study, "-q", "-o", "out.txt"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("out.txt")).unwrap(),
        "mine"
    );
    assert!(
        !names(tmp.path()).iter().any(|n| n.starts_with(".out")),
        "{:?}",
        names(tmp.path())
    );
}

#[test]
fn a_report_replaces_an_earlier_report_and_stale_staging_is_cleaned() {
    let tmp = tempfile::tempdir().unwrap();
    let study = small_study(tmp.path());
    let out = lossy(tmp.path(), &["run", &study, "-q", "-o", "rep"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let first = std::fs::read(tmp.path().join("rep/features.csv")).unwrap();
    // What a SIGKILLed run leaves: a staging folder and an old report of a dead process.
    let dead = 4_194_305u32 + 99;
    let partial = tmp.path().join(format!(".rep.partial-{dead}"));
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join("features.csv"), "half").unwrap();
    let out = lossy(tmp.path(), &["run", &study, "-q", "-o", "rep"]);
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(
        std::fs::read(tmp.path().join("rep/features.csv")).unwrap(),
        first
    );
    let visible: Vec<String> = names(tmp.path())
        .into_iter()
        .filter(|n| n.starts_with(".rep"))
        .collect();
    assert!(visible.is_empty(), "leftovers: {visible:?}");
}

#[test]
fn a_killed_commit_gets_its_old_report_back() {
    let tmp = tempfile::tempdir().unwrap();
    let study = small_study(tmp.path());
    let out = lossy(tmp.path(), &["run", &study, "-q", "-o", "rep"]);
    assert!(out.status.success(), "{}", text(&out).1);
    // Killed between the two renames: the report sits at `.rep.old-PID`.
    let dead = 4_194_305u32 + 98;
    let old = tmp.path().join(format!(".rep.old-{dead}"));
    std::fs::rename(tmp.path().join("rep"), &old).unwrap();
    // `plan`-free check: validate does not touch reports; a new run first restores, then replaces.
    let out = lossy(tmp.path(), &["run", &study, "-q", "-o", "rep"]);
    assert!(out.status.success(), "{}", text(&out).1);
    assert!(tmp.path().join("rep/manifest.json").is_file());
    assert!(!old.exists());
}

#[test]
fn revision_with_traversal_is_refused_before_touching_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("c.txt"), "hello world\n").unwrap();
    let hf = tmp.path().join("hf");
    for yaml in [
        "version: 1\nmodels:\n  - id: org/name\n    revision: '../../../../x'\ncorpus:\n  path: c.txt\n",
        "version: 1\nmodels:\n  - id: org/name\n    revisions: [step1, '../x']\ncorpus:\n  path: c.txt\n",
    ] {
        std::fs::write(tmp.path().join("study.yaml"), yaml).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lossy"))
            .args(["run", "study.yaml", "-q", "--offline"])
            .current_dir(tmp.path())
            .env("HF_HUB_CACHE", &hf)
            .env("LOSSY_CACHE", tmp.path().join("lc"))
            .output()
            .unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("study.yaml:") && stderr.contains("revision `"), "{stderr}");
        assert!(!hf.exists() && !tmp.path().join("x").exists());
    }
}

mod integrity {
    use crate::http_server::HubServer;
    use lossy::hub::{HubError, RepoRef};

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    /// Git's blob id, computed by hand: sha1("blob <len>\0" + content).
    fn git_blob_sha1(body: &[u8]) -> String {
        use sha1::{Digest, Sha1};
        let mut h = Sha1::new();
        h.update(format!("blob {}\0", body.len()).as_bytes());
        h.update(body);
        hex::encode(h.finalize())
    }

    #[test]
    fn small_files_are_checked_against_the_git_blob_sha1() {
        let server = HubServer::start();
        let body = br#"{"model_type": "llama"}"#.to_vec();
        let good = format!("\"{}\"", git_blob_sha1(&body));
        // Cross-check the recipe against git itself on a known blob: `printf 'hello\n' | git hash-object --stdin`.
        assert_eq!(
            git_blob_sha1(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        server.route(
            &format!("/org/m/resolve/{SHA}/config.json"),
            body.clone(),
            &[("etag", &good)],
        );
        let bad = format!("\"{}\"", "0".repeat(40));
        server.route(
            &format!("/org/m/resolve/{SHA}/tokenizer.json"),
            body.clone(),
            &[("etag", &bad)],
        );
        server.route(
            &format!("/org/m/resolve/{SHA}/vocab.txt"),
            body.clone(),
            &[],
        );
        let cache = tempfile::tempdir().unwrap();
        let hub = server.hub(cache.path(), None, false, 0);
        let repo = RepoRef::model("org/m");

        let p = hub.file(&repo, SHA, "config.json").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), body);
        assert!(!hub.cache(&repo).is_unverified(&p));

        let err = hub.file(&repo, SHA, "tokenizer.json").unwrap_err();
        assert!(matches!(err, HubError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("git blob sha1"), "{err}");
        assert!(hub
            .cache(&repo)
            .snapshot_file(SHA, "tokenizer.json")
            .is_none());

        // No ETag: usable now, but not cached as verified: asked again next time,
        // while offline it is served.
        let p = hub.file(&repo, SHA, "vocab.txt").unwrap();
        assert!(hub.cache(&repo).is_unverified(&p));
        let n = server.requests();
        hub.file(&repo, SHA, "vocab.txt").unwrap();
        assert_eq!(
            server.requests(),
            n + 1,
            "an unverified file is fetched again"
        );
        let offline = server.hub(cache.path(), None, true, 0);
        assert_eq!(
            std::fs::read(offline.file(&repo, SHA, "vocab.txt").unwrap()).unwrap(),
            body
        );
        for f in crate::support::files_below(cache.path()) {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                !name.contains("incomplete") && !name.contains(".link-"),
                "{name}"
            );
        }
    }

    #[test]
    fn stale_incomplete_downloads_of_dead_processes_are_removed() {
        let server = HubServer::start();
        let body = vec![3u8; 1000];
        server.file("", "org/m", SHA, "model.safetensors", body.clone());
        let cache = tempfile::tempdir().unwrap();
        let hub = server.hub(cache.path(), None, false, 0);
        let repo = RepoRef::model("org/m");
        let blobs = hub.cache(&repo).incomplete_dir();
        std::fs::create_dir_all(&blobs).unwrap();
        let dead = 4_194_305u32 + 7;
        let mine = std::process::id();
        let stale = blobs.join(format!(".lossy-{dead}-0.incomplete"));
        let live = blobs.join(format!(".lossy-{mine}-999.incomplete"));
        std::fs::write(&stale, "half").unwrap();
        std::fs::write(&live, "in progress").unwrap();
        hub.file(&repo, SHA, "model.safetensors").unwrap();
        assert!(!stale.exists(), "a dead process's download is removed");
        assert!(live.exists(), "a live process's download is kept");
    }
}

// The table of bad inputs lives in `fault_table.rs`.
#[path = "fault_table.rs"]
mod table;

#[test]
fn plan_refuses_a_throughput_that_is_not_positive_and_finite() {
    let tmp = tempfile::tempdir().unwrap();
    let study = small_study(tmp.path());
    for bad in ["0", "-1", "nan", "inf"] {
        let arg = format!("--gflops={bad}");
        let out = lossy(tmp.path(), &["plan", &study, &arg]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("--gflops"), "{bad}: {stderr}");
    }
}

/// The hub client against a fault-injecting server on 127.0.0.1: each fault
/// is a clear error or a correct retry, and what was cached before stays
/// cached and intact.
mod http {
    use crate::http_server::{Fault, HubServer};
    use lossy::hub::{Hub, HubError, RepoRef};
    use std::path::Path;
    use std::time::{Duration, Instant};

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
    const CONFIG: &[u8] = br#"{"model_type": "llama"}"#;

    fn weights() -> Vec<u8> {
        (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect()
    }

    fn weights_path() -> String {
        format!("/org/m/resolve/{SHA}/model.safetensors")
    }

    /// A server with `org/m` (config.json and weights), and a hub whose cache
    /// already holds config.json.
    fn cached_config(server: &HubServer, cache: &Path, token: Option<&str>) -> Hub {
        server.revision(
            "models",
            "org/m",
            "main",
            SHA,
            &["config.json", "model.safetensors"],
        );
        server.file("", "org/m", SHA, "config.json", CONFIG.to_vec());
        server.file("", "org/m", SHA, "model.safetensors", weights());
        let hub = server.hub(cache, token, false, 2);
        hub.file(&RepoRef::model("org/m"), SHA, "config.json")
            .unwrap();
        hub
    }

    /// Nothing partial in the cache, every sha256-named blob matches its name,
    /// and the config cached at the start is still served, offline.
    fn assert_cache_intact(server: &HubServer, cache: &Path) {
        for p in crate::support::files_below(cache) {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                !name.contains("incomplete") && !name.contains(".tmp") && !name.contains(".link-"),
                "leftover {}",
                p.display()
            );
            if p.parent().is_some_and(|d| d.ends_with("blobs")) && name.len() == 64 {
                assert_eq!(lossy::io::hash::sha256_file(&p).unwrap(), name);
            }
        }
        let offline = server.hub(cache, None, true, 0);
        let p = offline
            .file(&RepoRef::model("org/m"), SHA, "config.json")
            .unwrap();
        assert_eq!(std::fs::read(p).unwrap(), CONFIG);
    }

    /// A fresh server and cache, with config.json cached (see [`cached_config`]).
    fn started() -> (HubServer, tempfile::TempDir, Hub) {
        let server = HubServer::start();
        let cache = tempfile::tempdir().unwrap();
        let hub = cached_config(&server, cache.path(), None);
        (server, cache, hub)
    }

    /// The weights were not cached.
    fn assert_no_weights(hub: &Hub) {
        assert!(hub
            .cache(&RepoRef::model("org/m"))
            .snapshot_file(SHA, "model.safetensors")
            .is_none());
    }

    fn fetch_weights(hub: &Hub) -> Result<std::path::PathBuf, HubError> {
        hub.file(&RepoRef::model("org/m"), SHA, "model.safetensors")
    }

    #[test]
    fn refusals_are_not_retried_and_say_what_to_do() {
        let (server, cache, hub) = started();
        for (code, kind, says) in [
            (401, "unauthorized", "set HF_TOKEN"),
            (403, "unauthorized", "HTTP 403"),
            (404, "not found", "HTTP 404"),
        ] {
            server.faults(&weights_path(), vec![Fault::Status(code)]);
            let n = server.requests();
            let err = fetch_weights(&hub).unwrap_err();
            let msg = err.to_string();
            match kind {
                "unauthorized" => {
                    assert!(matches!(err, HubError::Unauthorized { .. }), "{msg}")
                }
                _ => assert!(matches!(err, HubError::NotFound { .. }), "{msg}"),
            }
            assert!(
                msg.contains(says) && msg.contains("model.safetensors"),
                "{msg}"
            );
            assert_eq!(server.requests(), n + 1, "HTTP {code} is not retried");
            assert_no_weights(&hub);
            assert_cache_intact(&server, cache.path());
        }
    }

    #[test]
    fn server_errors_are_retried_then_succeed_or_give_up() {
        let (server, cache, hub) = started();
        server.faults(&weights_path(), vec![Fault::Status(500)]);
        let n = server.requests();
        let p = fetch_weights(&hub).unwrap();
        assert_eq!(std::fs::read(p).unwrap(), weights());
        assert_eq!(server.requests(), n + 2, "one retry after the 500");
        assert_cache_intact(&server, cache.path());

        let cache2 = tempfile::tempdir().unwrap();
        let hub2 = cached_config(&server, cache2.path(), None);
        server.faults(&weights_path(), vec![Fault::Status(503); 3]);
        let msg = fetch_weights(&hub2).unwrap_err().to_string();
        assert!(
            msg.contains("HTTP 503") && msg.contains("gave up after 3 attempts"),
            "{msg}"
        );
        assert_cache_intact(&server, cache2.path());
    }

    #[test]
    fn a_rate_limit_is_waited_out_as_the_server_asks() {
        let (server, _cache, hub) = started();
        let after = |s: &str| Fault::StatusWith(429, vec![("retry-after".into(), s.into())]);
        // The client's own backoff is 5 ms: a retry a second later is the server's wish.
        server.faults(&weights_path(), vec![after("1")]);
        let start = Instant::now();
        let p = fetch_weights(&hub).unwrap();
        assert!(
            start.elapsed() >= Duration::from_millis(950),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(std::fs::read(p).unwrap(), weights());

        // An hour is longer than lossy waits: one request, and the message says why.
        let cache2 = tempfile::tempdir().unwrap();
        let hub2 = cached_config(&server, cache2.path(), None);
        server.faults(&weights_path(), vec![after("3600")]);
        let n = server.requests();
        let start = Instant::now();
        let msg = fetch_weights(&hub2).unwrap_err().to_string();
        assert!(start.elapsed() < Duration::from_secs(30));
        assert_eq!(server.requests(), n + 1);
        assert!(
            msg.contains("HTTP 429") && msg.contains("asked to wait 3600 s"),
            "{msg}"
        );
        assert_cache_intact(&server, cache2.path());
    }

    #[test]
    fn redirects_are_followed_and_the_token_stays_with_the_hub() {
        let hub_server = HubServer::start();
        let cdn = HubServer::start();
        let token = "hf_RedirectSecret0123";
        let cache = tempfile::tempdir().unwrap();
        let hub = cached_config(&hub_server, cache.path(), Some(token));
        // LFS files: the hub answers 302 to its CDN, with the sha256 as X-Linked-Etag.
        let body = weights();
        let etag = format!("\"{}\"", lossy::io::hash::sha256_hex(&body));
        hub_server.redirect(
            &weights_path(),
            &format!("{}/cdn/blob-1", cdn.endpoint),
            &[("x-linked-etag", &etag)],
        );
        cdn.route("/cdn/blob-1", body.clone(), &[]);
        let p = fetch_weights(&hub).unwrap();
        assert_eq!(std::fs::read(p).unwrap(), body);
        let bearer = format!("Bearer {token}");
        assert!(hub_server
            .seen()
            .iter()
            .any(|s| s.authorization.as_deref() == Some(bearer.as_str())));
        assert!(!cdn.seen().is_empty());
        assert!(
            cdn.seen().iter().all(|s| s.authorization.is_none()),
            "the token went to another host"
        );
        // A redirect on the same host (a renamed repository) keeps the token.
        let renamed = format!("/org/renamed/resolve/{SHA}/tokenizer.json");
        hub_server.redirect(
            &format!("/org/m/resolve/{SHA}/tokenizer.json"),
            &renamed,
            &[],
        );
        hub_server.file("", "org/renamed", SHA, "tokenizer.json", b"{}".to_vec());
        hub.file(&RepoRef::model("org/m"), SHA, "tokenizer.json")
            .unwrap();
        assert!(hub_server
            .seen()
            .iter()
            .any(|s| s.path == renamed && s.authorization.as_deref() == Some(bearer.as_str())));
        assert_cache_intact(&hub_server, cache.path());
    }

    #[test]
    fn a_body_that_is_not_what_the_etag_says_is_never_cached() {
        let (server, cache, hub) = started();
        let wrong = format!("\"{}\"", lossy::io::hash::sha256_hex(b"other content"));
        server.route(
            &weights_path(),
            weights(),
            &[("x-linked-etag", &wrong), ("etag", &wrong)],
        );
        let err = fetch_weights(&hub).unwrap_err();
        assert!(matches!(err, HubError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("sha256"), "{err}");
        assert_no_weights(&hub);
        assert_cache_intact(&server, cache.path());
    }

    #[test]
    fn a_body_cut_short_or_stalled_is_named_for_what_it_is() {
        let (server, cache, hub) = started();
        server.faults(&weights_path(), vec![Fault::Truncate(5000); 3]);
        let msg = fetch_weights(&hub).unwrap_err().to_string();
        assert!(msg.contains("stopped after 5000 of 100000 bytes"), "{msg}");
        assert_cache_intact(&server, cache.path());
        // Headers and a first part arrive, then nothing for longer than the 1 s timeout.
        server.faults(
            &weights_path(),
            vec![Fault::StallBody(5000, Duration::from_millis(2500)); 3],
        );
        let msg = fetch_weights(&hub).unwrap_err().to_string();
        assert!(
            msg.contains("timed out") && !msg.contains("stopped after"),
            "{msg}"
        );
        assert_cache_intact(&server, cache.path());
        // Once the server behaves, the next run downloads the file whole (this
        // hub, having seen the hub unreachable, asks it no more in this run).
        let p = fetch_weights(&server.hub(cache.path(), None, false, 2)).unwrap();
        assert_eq!(std::fs::read(p).unwrap(), weights());
    }

    #[test]
    fn names_from_the_hub_cannot_leave_the_cache() {
        let server = HubServer::start();
        let tmp = tempfile::tempdir().unwrap();
        let cache = tmp.path().join("hf");
        let hub = cached_config(&server, &cache, None);
        let repo = RepoRef::model("org/m");
        for name in [
            "../../../evil.json",
            "/etc/passwd",
            "a/../../evil.json",
            "a\\..\\evil",
        ] {
            let err = hub.file(&repo, SHA, name).unwrap_err();
            assert!(matches!(err, HubError::BadName { .. }), "{name}: {err}");
        }
        // A commit "sha" that is a path.
        server.revision(
            "models",
            "org/bad",
            "main",
            "../../../../tmp/x",
            &["config.json"],
        );
        let err = hub.resolve(&RepoRef::model("org/bad"), "main").unwrap_err();
        assert!(err.to_string().contains("is not a commit sha"), "{err}");
        // A shard index naming a shard outside the repository.
        let index = serde_json::json!({
            "metadata": {},
            "weight_map": {"model.embed_tokens.weight": "../../../../evil.safetensors"}
        });
        server.revision(
            "models",
            "org/sharded",
            "main",
            SHA,
            &[
                "config.json",
                "tokenizer.json",
                "model.safetensors.index.json",
            ],
        );
        server.file("", "org/sharded", SHA, "config.json", CONFIG.to_vec());
        server.file("", "org/sharded", SHA, "tokenizer.json", b"{}".to_vec());
        server.file(
            "",
            "org/sharded",
            SHA,
            "model.safetensors.index.json",
            index.to_string().into_bytes(),
        );
        let err = lossy::models::hub_source::fetch(&hub, "org/sharded", "main", true)
            .err()
            .expect("a traversing shard name is refused");
        let msg = format!("{:#}", anyhow::Error::new(err));
        assert!(msg.contains("names a file outside the repository"), "{msg}");
        let outside: Vec<String> = crate::support::files_below(tmp.path())
            .into_iter()
            .filter(|p| !p.starts_with(&cache))
            .map(|p| p.display().to_string())
            .collect();
        assert!(outside.is_empty(), "written outside the cache: {outside:?}");
        assert_cache_intact(&server, &cache);
    }
}

/// Real processes killed with SIGKILL mid-run, and two runs racing for one
/// report folder and one feature cache: the finished report is the one an
/// undisturbed run writes, and nothing is left behind.
mod kill {
    use super::{names, tiny_model};
    use crate::support::{files_below, root, text};
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::time::Instant;

    /// Three tiny models on 40 documents: long enough to be killed mid-pass.
    fn study(dir: &Path) {
        let docs: String = (0..40)
            .map(|i| {
                format!(
                    "the cat {i} sat on the mat and the dog {} looked at it for a while\n\n",
                    i * 7 % 13
                )
            })
            .collect();
        std::fs::write(dir.join("c.txt"), docs).unwrap();
        let m = root().join("data/tiny-llama");
        let yaml = format!(
            "version: 1\nname: k\nmodels:\n  - path: {}\n  - path: {}\n  - path: {}\ncorpus:\n  path: c.txt\n  max_tokens: 48\nfeatures:\n  bins: 16\n  orders: [1, 2]\n",
            tiny_model(),
            m.join("tiny-b").display(),
            m.join("tiny-c").display()
        );
        std::fs::write(dir.join("study.yaml"), yaml).unwrap();
    }

    fn spawn(dir: &Path) -> Child {
        Command::new(env!("CARGO_BIN_EXE_lossy"))
            .args(["run", "study.yaml", "-q", "-o", "rep"])
            .current_dir(dir)
            .env("LOSSY_CACHE", dir.join("cache"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// The report's deterministic tables.
    fn tables(dir: &Path) -> Vec<(String, Vec<u8>)> {
        ["features.csv", "layers.csv"]
            .iter()
            .map(|f| {
                (
                    f.to_string(),
                    std::fs::read(dir.join("rep").join(f)).unwrap(),
                )
            })
            .collect()
    }

    fn assert_no_leftovers(dir: &Path) {
        let hidden: Vec<String> = names(dir)
            .into_iter()
            .filter(|n| n.starts_with(".rep"))
            .collect();
        assert!(hidden.is_empty(), "leftovers {hidden:?}");
        for f in files_below(&dir.join("cache"))
            .into_iter()
            .chain(files_below(&dir.join("rep")))
        {
            let n = f.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                !n.contains(".tmp") && !n.contains("partial") && !n.contains("incomplete"),
                "leftover {}",
                f.display()
            );
        }
    }

    #[test]
    fn a_run_killed_at_any_point_resumes_to_the_same_report() {
        let reference = tempfile::tempdir().unwrap();
        study(reference.path());
        let start = Instant::now();
        let out = spawn(reference.path()).wait_with_output().unwrap();
        let took = start.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = tables(reference.path());

        let tmp = tempfile::tempdir().unwrap();
        study(tmp.path());
        let mut killed_running = 0;
        // Kill points as fractions of an undisturbed run; each resumed run is
        // shorter (the models it finished are cached), so the later ones may
        // find the run done: at least one must land mid-run.
        for fraction in [0.1, 0.3, 0.5, 0.7] {
            let mut child = spawn(tmp.path());
            std::thread::sleep(took.mul_f64(fraction));
            if child.try_wait().unwrap().is_none() {
                killed_running += 1;
                let _ = child.kill(); // SIGKILL (it may have finished meanwhile)
            }
            child.wait().unwrap();
        }
        assert!(killed_running >= 1, "no kill landed mid-run");
        let out = spawn(tmp.path()).wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out).1);
        assert_eq!(tables(tmp.path()), want, "the resumed report differs");
        assert_no_leftovers(tmp.path());
    }

    #[test]
    fn two_runs_racing_for_one_report_and_cache_both_finish_cleanly() {
        let reference = tempfile::tempdir().unwrap();
        study(reference.path());
        let out = spawn(reference.path()).wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out).1);
        let want = tables(reference.path());

        let tmp = tempfile::tempdir().unwrap();
        study(tmp.path());
        let (a, b) = (spawn(tmp.path()), spawn(tmp.path()));
        for out in [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()] {
            assert!(out.status.success(), "{}", text(&out).1);
        }
        assert_eq!(tables(tmp.path()), want);
        assert_no_leftovers(tmp.path());
        // A third run over the shared cache the two wrote gives the same report.
        let out = spawn(tmp.path()).wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out).1);
        assert_eq!(tables(tmp.path()), want);
    }
}
