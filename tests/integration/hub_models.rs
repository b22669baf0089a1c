//! Hub models through the real binary: a study names models by `id` and
//! `revisions`, lossy fetches them from a server on 127.0.0.1 (`HF_ENDPOINT`)
//! into the HF cache, pins each revision to its commit in the manifest, and
//! gets the same features as from the local folder. Offline and pinned-sha
//! reruns make no request.

use crate::http_server::HubServer;
use crate::support::{lossy_on_hub, root};
use std::path::Path;

const SHA_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const SHA_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn serve(server: &HubServer, sha: &str, revision: &str, folder: &str) {
    let files = [
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "model.safetensors",
    ];
    server.revision("models", "lossy-test/tiny", revision, sha, &files);
    for f in files {
        let bytes = std::fs::read(root().join("data/tiny-llama").join(folder).join(f)).unwrap();
        server.file("", "lossy-test/tiny", sha, f, bytes);
    }
}

fn run(dir: &Path, server: &HubServer, args: &[&str]) -> (bool, String, String) {
    run_with_token(dir, server, args, None)
}

fn run_with_token(
    dir: &Path,
    server: &HubServer,
    args: &[&str],
    token: Option<&str>,
) -> (bool, String, String) {
    lossy_on_hub(dir, &server.endpoint, token, args)
}

#[test]
fn a_gated_model_runs_with_a_token_that_appears_in_no_output() {
    let server = HubServer::start();
    let token = "hf_GaTeDsEcReT0987654321";
    let files = ["config.json", "tokenizer.json", "model.safetensors"];
    let body = format!(
        "{{\"sha\": \"{SHA_A}\", \"siblings\": [{}]}}",
        files
            .map(|f| format!("{{\"rfilename\": \"{f}\"}}"))
            .join(", ")
    );
    server.gated_route(
        "/api/models/lossy-test/gated/revision/main",
        body.into_bytes(),
        token,
    );
    for f in files {
        server.gated_route(
            &format!("/lossy-test/gated/resolve/{SHA_A}/{f}"),
            std::fs::read(root().join("data/tiny-llama/tiny-a").join(f)).unwrap(),
            token,
        );
    }
    let ws = tempfile::tempdir().unwrap();
    let d = ws.path();
    std::fs::copy(root().join("data/corpus/demo.txt"), d.join("c.txt")).unwrap();
    std::fs::write(d.join("study.yaml"), "version: 1\nname: gated\nmodels:\n  - id: lossy-test/gated\ncorpus:\n  path: c.txt\n  max_documents: 2\n  max_tokens: 16\nfeatures:\n  bins: 10\n").unwrap();

    let (ok, _, err) = run_with_token(d, &server, &["run", "study.yaml"], None);
    assert!(
        !ok && err.contains("HTTP 401") && err.contains("HF_TOKEN"),
        "{err}"
    );
    let (ok, out, err) = run_with_token(d, &server, &["run", "study.yaml"], Some(token));
    assert!(ok, "{err}");
    assert!(!out.contains(token) && !err.contains(token));
    let written = crate::support::files_below(d);
    assert!(written
        .iter()
        .any(|p| p.ends_with("reports/gated/manifest.json")));
    for p in written {
        let bytes = std::fs::read(&p).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(token),
            "the token is in {}",
            p.display()
        );
    }
}

fn features_row(report: &Path, model: &str) -> String {
    let csv = std::fs::read_to_string(report.join("features.csv")).unwrap();
    let line = csv
        .lines()
        .find(|l| l.starts_with(&format!("{model},")))
        .unwrap_or_else(|| panic!("no row {model} in\n{csv}"));
    line.split_once(',').unwrap().1.to_string()
}

#[test]
fn hub_models_are_fetched_pinned_and_match_local_folders() {
    let server = HubServer::start();
    serve(&server, SHA_A, "main", "tiny-a");
    serve(&server, SHA_B, "step2", "tiny-b");
    let ws = tempfile::tempdir().unwrap();
    let d = ws.path();
    std::fs::copy(root().join("data/corpus/demo.txt"), d.join("c.txt")).unwrap();
    let local = |m: &str| root().join("data/tiny-llama").join(m).display().to_string();
    let study = format!(
        "version: 1\nname: hub\nmodels:\n  - id: lossy-test/tiny\n    revisions: [main, step2]\n  - path: {}\n    name: local-a\n    step: 0\n  - path: {}\n    name: local-b\n    step: 2\ncorpus:\n  path: c.txt\n  max_documents: 4\n  max_tokens: 32\nfeatures:\n  bins: 10\n",
        local("tiny-a"),
        local("tiny-b")
    );
    std::fs::write(d.join("study.yaml"), &study).unwrap();
    // The local copies take the series' steps (main is its first revision,
    // step2 its second), so their step columns match too.
    // No feature cache here: the hub and local copies must each be computed.
    let (ok, _, err) = run(d, &server, &["run", "study.yaml", "--no-cache"]);
    assert!(ok, "{err}");
    assert!(
        err.contains(&format!(
            "tiny@main: lossy-test/tiny@main is commit {SHA_A}"
        )),
        "{err}"
    );
    let report = d.join("reports/hub");
    assert_eq!(
        features_row(&report, "tiny@main")
            .split_once(',')
            .unwrap()
            .1,
        features_row(&report, "local-a").split_once(',').unwrap().1
    );
    assert_eq!(
        features_row(&report, "tiny@step2")
            .split_once(',')
            .unwrap()
            .1,
        features_row(&report, "local-b").split_once(',').unwrap().1
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("manifest.json")).unwrap())
            .unwrap();
    let m = &manifest["models"][1];
    assert_eq!(
        (
            m["id"].as_str(),
            m["revision"].as_str(),
            m["commit"].as_str()
        ),
        (Some("lossy-test/tiny"), Some("step2"), Some(SHA_B))
    );
    assert_eq!(
        manifest["models"][0]["family"], "tiny",
        "a checkpoint series is one family"
    );
    assert!(d
        .join("hub/models--lossy-test--tiny/snapshots")
        .join(SHA_A)
        .join("model.safetensors")
        .is_file());

    // The plan reads configs and tokenizers only, and agrees with the run.
    let (ok, json, err) = run(d, &server, &["plan", "study.yaml", "--json"]);
    assert!(ok, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    let row = &plan["models"][0];
    assert_eq!(
        (
            row["commit"].as_str(),
            row["architecture"].as_str(),
            row["layers"].as_u64()
        ),
        (Some(SHA_A), Some("llama"), Some(2))
    );
    assert_eq!(
        row["tokens"], manifest["models"][0]["tokens"],
        "the plan counts the tokens the run used"
    );
    assert_eq!(
        row["non_embedding_params"],
        manifest["models"][0]["non_embedding_params"]
    );
    assert_eq!(
        row["tokens"], plan["models"][2]["tokens"],
        "hub and local copies of one model"
    );

    // Offline: the cache answers and the server hears nothing.
    let before = server.requests();
    let (ok, _, err) = run(
        d,
        &server,
        &["run", "study.yaml", "--offline", "--output", "offline"],
    );
    assert!(ok, "{err}");
    assert_eq!(server.requests(), before, "offline runs make no request");
    assert_eq!(
        std::fs::read(d.join("offline/features.csv")).unwrap(),
        std::fs::read(report.join("features.csv")).unwrap()
    );

    // Pinned to commit shas and cached: no request either, online.
    let pinned = study.replace(
        "    revisions: [main, step2]\n",
        &format!("    revisions: [{SHA_A}, {SHA_B}]\n"),
    );
    std::fs::write(d.join("pinned.yaml"), pinned).unwrap();
    let (ok, _, err) = run(d, &server, &["run", "pinned.yaml", "--output", "pinned"]);
    assert!(ok, "{err}");
    assert_eq!(server.requests(), before, "cached commits cost no request");

    // Offline with a revision never fetched: the message names it.
    std::fs::write(
        d.join("new.yaml"),
        study.replace("[main, step2]", "[step9]"),
    )
    .unwrap();
    let (ok, _, err) = run(
        d,
        &server,
        &["run", "new.yaml", "--offline", "--output", "new"],
    );
    assert!(!ok);
    assert!(
        err.contains("model lossy-test/tiny at revision `step9` is not in the cache"),
        "{err}"
    );
}
