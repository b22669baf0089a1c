//! Checkpoint series through the real binary: hub revisions listed by a
//! pattern (the refs API of a server on 127.0.0.1), and `lossy watch`
//! following a training run that writes the trained suite's checkpoints
//! into a folder one by one, one of them half-written for a while.

use crate::http_server::HubServer;
use crate::support::{lossy_on_hub, root, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SHA_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const SHA_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn hub_cmd(dir: &Path, server: &HubServer, args: &[&str]) -> (bool, String, String) {
    lossy_on_hub(dir, &server.endpoint, None, args)
}

#[test]
fn revision_patterns_expand_from_the_refs_api_in_plan() {
    let server = HubServer::start();
    let files = ["config.json", "tokenizer.json", "model.safetensors"];
    for (sha, rev, folder) in [(SHA_A, "step10", "tiny-a"), (SHA_B, "step2", "tiny-b")] {
        server.revision("models", "lossy-test/tiny", rev, sha, &files);
        for f in files {
            let bytes = std::fs::read(root().join("data/tiny-llama").join(folder).join(f)).unwrap();
            server.file("", "lossy-test/tiny", sha, f, bytes);
        }
    }
    let refs = r#"{"branches": [{"name": "main", "ref": "refs/heads/main", "targetCommit": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
        {"name": "step10", "ref": "refs/heads/step10", "targetCommit": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
        {"name": "step2", "ref": "refs/heads/step2", "targetCommit": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}],
        "tags": [{"name": "v1", "ref": "refs/tags/v1", "targetCommit": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}], "converts": []}"#;
    server.route("/api/models/lossy-test/tiny/refs", refs.into(), &[]);
    let ws = tempfile::tempdir().unwrap();
    let d = ws.path();
    std::fs::copy(root().join("data/corpus/demo.txt"), d.join("c.txt")).unwrap();
    let study = "version: 1\nname: series\nmodels:\n  - id: lossy-test/tiny\n    revisions: \"step*\"\ncorpus:\n  path: c.txt\n  max_documents: 2\n  max_tokens: 16\nfeatures:\n  bins: 10\n";
    std::fs::write(d.join("study.yaml"), study).unwrap();
    let (ok, json, err) = hub_cmd(d, &server, &["plan", "study.yaml", "--json"]);
    assert!(ok, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows: Vec<(String, f64, String)> = plan["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_string(),
                m["step"].as_f64().unwrap(),
                m["commit"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    // ordered by step (2 before 10), not by name; `main` and the tag do not match
    assert_eq!(
        rows,
        [
            ("tiny@step2".to_string(), 2.0, SHA_B.to_string()),
            ("tiny@step10".to_string(), 10.0, SHA_A.to_string())
        ]
    );
    assert!(err.contains("matched 2 of 4 branches and tags"), "{err}");

    // A pattern that matches nothing, and a pattern offline: clear messages.
    std::fs::write(d.join("none.yaml"), study.replace("step*", "stage*")).unwrap();
    let (ok, _, err) = hub_cmd(d, &server, &["plan", "none.yaml"]);
    assert!(!ok);
    assert!(
        err.contains(
            "`stage*` matches nothing among the 4 branches and tags of model lossy-test/tiny"
        ),
        "{err}"
    );
    let (ok, _, err) = hub_cmd(d, &server, &["plan", "study.yaml", "--offline"]);
    assert!(!ok);
    assert!(
        err.contains("a revision pattern cannot be expanded from the cache"),
        "{err}"
    );
}

/// The suite's checkpoint files, and where a training run would write them.
fn suite(step: u32) -> PathBuf {
    root().join("data/suite/s").join(format!("step{step}"))
}

/// Writes a checkpoint as a Trainer run would: weights and config in the
/// checkpoint folder, the tokenizer only in the run's root.
fn write_checkpoint(run: &Path, step: u32) {
    let dir = run.join(format!("step{step}"));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["config.json", "model.safetensors"] {
        std::fs::copy(suite(step).join(f), dir.join(f)).unwrap();
    }
}

fn reported(out: &Path) -> Vec<String> {
    let Ok(csv) = std::fs::read_to_string(out.join("features.csv")) else {
        return vec![];
    };
    csv.lines()
        .skip(1)
        .filter_map(|l| l.split(',').next().map(str::to_string))
        .collect()
}

fn wait_for(out: &Path, what: &str, done: impl Fn(&[String]) -> bool) -> Vec<String> {
    let t0 = Instant::now();
    loop {
        let models = reported(out);
        if done(&models) {
            return models;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "timed out waiting for {what}; the report has {models:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn watch_follows_a_run_skipping_a_half_written_checkpoint() {
    let ws = tempfile::tempdir().unwrap();
    let d = ws.path();
    // the same folder names as data/suite, so the lm-eval files name them
    let run = d.join("data/suite/s");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::copy(suite(0).join("tokenizer.json"), run.join("tokenizer.json")).unwrap();
    write_checkpoint(&run, 0);
    write_checkpoint(&run, 8);
    let corpus = root().join("data/corpus/demo.jsonl");
    let lm_eval = root().join("data/suite/lm-eval");
    let study = format!(
        "version: 1\nname: watched\nmodels:\n  - checkpoints: data/suite/s/step*\n    family: suite-s\ncorpus:\n  path: {}\n  max_documents: 8\n  max_tokens: 64\nfeatures:\n  bins: 10\nscores:\n  lm_eval: {}\nfit:\n  target: suite.acc\n  features: [optimality]\n  permutations: 9\nfigures:\n  formats: [svg]\n  include: [trajectory]\n",
        corpus.display(),
        lm_eval.display()
    );
    std::fs::write(d.join("study.yaml"), study).unwrap();
    let out = d.join("out");
    let child = Command::new(env!("CARGO_BIN_EXE_lossy"))
        .args(["watch", "study.yaml", "-o", "out", "--interval", "0.2"])
        .current_dir(d)
        .env("LOSSY_CACHE", d.join(".lossy-cache"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    wait_for(&out, "the first two checkpoints", |m| m.len() == 2);
    // a half-written checkpoint: config there, the weights cut in half
    let half = run.join("step32");
    std::fs::create_dir_all(&half).unwrap();
    std::fs::copy(suite(32).join("config.json"), half.join("config.json")).unwrap();
    let weights = std::fs::read(suite(32).join("model.safetensors")).unwrap();
    std::fs::write(
        half.join("model.safetensors"),
        &weights[..weights.len() / 2],
    )
    .unwrap();
    write_checkpoint(&run, 64);
    let models = wait_for(&out, "step64", |m| m.iter().any(|n| n == "suite-s@step64"));
    assert!(
        !models.iter().any(|n| n == "suite-s@step32"),
        "the half-written checkpoint was read: {models:?}"
    );
    // the run finishes writing it
    std::fs::write(half.join("model.safetensors"), &weights).unwrap();
    let models = wait_for(&out, "step32", |m| m.len() == 4);
    assert_eq!(
        models,
        [
            "suite-s@step0",
            "suite-s@step8",
            "suite-s@step32",
            "suite-s@step64"
        ]
    );

    // Ctrl-C: a clean stop
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("report: out"), "{stdout}");
    assert!(
        stderr.contains("suite-s@step32 is not complete (")
            && stderr.contains("is still being written")
            || stderr.contains("has ") && stderr.contains("suite-s@step32 is not complete"),
        "{stderr}"
    );
    assert!(
        stderr.contains("watch: new checkpoint suite-s@step64 (step 64)"),
        "{stderr}"
    );
    assert!(stderr.contains("watch: stopped"), "{stderr}");
    // the last report has the fit over the four checkpoints, scored by lm-eval
    let fit: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("fit.json")).unwrap()).unwrap();
    assert_eq!(fit["models"].as_array().unwrap().len(), 4);
    // no staging folder is left beside the report
    let left: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".out"))
        .collect();
    assert!(left.is_empty());

    // --once: everything from the feature cache, one report, exit
    let once = Command::new(env!("CARGO_BIN_EXE_lossy"))
        .args(["watch", "study.yaml", "-o", "out2", "--once"])
        .current_dir(d)
        .env("LOSSY_CACHE", d.join(".lossy-cache"))
        .output()
        .unwrap();
    let (_, err) = text(&once);
    assert!(once.status.success(), "{err}");
    assert_eq!(reported(&d.join("out2")), models);
    assert_eq!(
        std::fs::read(d.join("out2/features.csv")).unwrap(),
        std::fs::read(out.join("features.csv")).unwrap()
    );
}

#[test]
fn a_checkpoint_glob_that_matches_nothing_or_twice_one_step_is_invalid() {
    let ws = tempfile::tempdir().unwrap();
    let d = ws.path();
    std::fs::create_dir_all(d.join("run/checkpoint-500")).unwrap();
    std::fs::create_dir_all(d.join("run/checkpoint-0500")).unwrap();
    std::fs::copy(root().join("data/corpus/demo.txt"), d.join("c.txt")).unwrap();
    let study = |models: &str| {
        format!("version: 1\nmodels:\n  - checkpoints: {models}\ncorpus:\n  path: c.txt\n")
    };
    std::fs::write(d.join("none.yaml"), study("run/step*")).unwrap();
    std::fs::write(d.join("twice.yaml"), study("run")).unwrap();
    let o = crate::support::lossy(d, &["validate", "none.yaml"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("none.yaml:3:18: `run/step*` matches nothing"),
        "{err}"
    );
    let o = crate::support::lossy(d, &["validate", "twice.yaml"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("both give step 500 in series `run`"), "{err}");
}

#[test]
fn model_commands_take_hub_ids_through_the_cache() {
    let server = HubServer::start();
    let files = ["config.json", "tokenizer.json", "model.safetensors"];
    server.revision("models", "lossy-test/tiny", "step2", SHA_B, &files);
    for f in files {
        let bytes = std::fs::read(root().join("data/tiny-llama/tiny-b").join(f)).unwrap();
        server.file("", "lossy-test/tiny", SHA_B, f, bytes);
    }
    let ws = tempfile::tempdir().unwrap();
    let d = ws.path();
    let local = root().join("data/tiny-llama/tiny-b").display().to_string();
    let args = |model: &str| {
        [
            "next-token",
            "--model",
            model,
            "--text",
            "hello world",
            "--top",
            "3",
        ]
        .map(String::from)
    };
    let strip = |json: &str| {
        let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
        v.as_object_mut().unwrap().remove("model");
        v
    };
    let (ok, from_hub, err) = hub_cmd(
        d,
        &server,
        &args("lossy-test/tiny@step2").each_ref().map(String::as_str),
    );
    assert!(ok, "{err}");
    assert!(
        err.contains(&format!("lossy-test/tiny@step2 is commit {SHA_B}")),
        "{err}"
    );
    let (ok, from_folder, err) = hub_cmd(d, &server, &args(&local).each_ref().map(String::as_str));
    assert!(ok, "{err}");
    assert_eq!(strip(&from_hub), strip(&from_folder));
    // offline, the cached snapshot answers without a request
    let before = server.requests();
    let mut offline = args("lossy-test/tiny@step2").to_vec();
    offline.push("--offline".into());
    let offline: Vec<&str> = offline.iter().map(String::as_str).collect();
    let (ok, again, err) = hub_cmd(d, &server, &offline);
    assert!(ok, "{err}");
    assert_eq!(server.requests(), before);
    assert_eq!(strip(&again), strip(&from_hub));
    // offline and never fetched: the message says so
    let (ok, _, err) = hub_cmd(
        d,
        &server,
        &[
            "hidden-states",
            "--model",
            "lossy-test/other@main",
            "--text",
            "x",
            "--out",
            "h.npy",
            "--offline",
        ],
    );
    assert!(!ok);
    assert!(err.contains("lossy is offline"), "{err}");
}
