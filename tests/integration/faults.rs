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

/// Table-driven bad inputs: each exits 2, names the file, says each cause once,
/// and leaves no report or staging folder behind.
#[test]
fn bad_inputs_exit_2_with_one_located_message() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("c.txt"), "hello world\n").unwrap();
    let model = tiny_model();
    let zero_layers = dir.join("zero");
    std::fs::create_dir_all(&zero_layers).unwrap();
    for f in ["tokenizer.json", "model.safetensors"] {
        std::fs::copy(Path::new(&model).join(f), zero_layers.join(f)).unwrap();
    }
    let cfg = std::fs::read_to_string(Path::new(&model).join("config.json")).unwrap();
    let mut cfg: serde_json::Value = serde_json::from_str(&cfg).unwrap();
    cfg["num_hidden_layers"] = 0.into();
    std::fs::write(zero_layers.join("config.json"), cfg.to_string()).unwrap();
    let base = |extra: &str| {
        format!("version: 1\nmodels:\n  - path: {model}\ncorpus:\n  path: c.txt\n{extra}")
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("duplicate key", format!("{}corpus:\n  path: c.txt\n", base("")).into_bytes(), "appears twice"),
        ("not utf-8", b"version: 1\nname: \xff\xfe\n".to_vec(), "study.yaml:2:7: the study file is not UTF-8"),
        ("revision traversal", b"version: 1\nmodels:\n  - id: org/m\n    revision: '../../../../x'\ncorpus:\n  path: c.txt\n".to_vec(), "revision `../../../../x` is not allowed"),
        ("bins huge", base("features:\n  bins: 100000000000\n").into_bytes(), "at most 65536 reference points"),
        ("batch huge", base("features:\n  batch_size: 100000000\n").into_bytes(), "at most 4096 sequences"),
        ("bootstrap huge", base("features:\n  bootstrap: 100000000\n").into_bytes(), "at most 10000 replicates"),
        ("zero layers", format!("version: 1\nmodels:\n  - path: {}\ncorpus:\n  path: c.txt\n", zero_layers.display()).into_bytes(), "`num_hidden_layers` is 0"),
        ("missing corpus", format!("version: 1\nmodels:\n  - path: {model}\ncorpus:\n  path: nope.txt\n").into_bytes(), "nope.txt"),
    ];
    for (what, study, expect) in cases {
        std::fs::write(dir.join("study.yaml"), &study).unwrap();
        let out = lossy(dir, &["run", "study.yaml", "-q", "-o", "rep"]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains(expect), "{what}: {stderr}");
        assert!(
            stderr.contains("study.yaml") || stderr.contains("zero"),
            "{what}: no file named: {stderr}"
        );
        let parts: Vec<&str> = stderr.trim().split(": ").filter(|p| p.len() > 12).collect();
        for (i, p) in parts.iter().enumerate() {
            assert!(
                !parts[i + 1..].contains(p),
                "{what}: `{p}` said twice: {stderr}"
            );
        }
        let left: Vec<String> = names(dir)
            .into_iter()
            .filter(|n| n.starts_with(".rep") || n == "rep")
            .collect();
        assert!(left.is_empty(), "{what}: leftovers {left:?}");
    }
}

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
