//! Score sources end to end: the Open LLM Leaderboard fetched as parquet from
//! a server on 127.0.0.1 (real column names, emoji included), the fallback to
//! the shipped snapshot, and lm-eval result files from the Pythia repository.

use crate::http_server::{Fault, HubServer};
use crate::support::fixtures;
use lossy::hub::Hub;
use lossy::scores::leaderboard::Origin;
use lossy::scores::{
    Duplicates, LeaderboardSource, LmEvalSource, ModelKey, Provenance, ScoreSettings, Scores,
    SnapshotUse, Source, SourceKind,
};
use lossy::table::{Table, Values};
use std::path::Path;

const SHA: &str = "fedcba9876543210fedcba9876543210fedcba98";
const SHARD: &str = "data/train-00000-of-00001.parquet";

fn hub(server: &HubServer, cache: &Path, offline: bool) -> Hub {
    server.hub(cache, None, offline, 1)
}

/// The constructed `/rows` fixture as a parquet shard with the real column names.
fn leaderboard_parquet(dir: &Path) -> Vec<u8> {
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            fixtures().join("leaderboard/CONSTRUCTED_contents_rows_subset.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let rows = json["rows"].as_array().unwrap();
    let mut t = Table::default();
    for f in json["features"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        let cells = rows.iter().map(|r| &r["row"][name]);
        let values = match f["type"]["dtype"].as_str().unwrap() {
            "string" => Values::Str(cells.map(|c| c.as_str().unwrap().to_string()).collect()),
            _ => Values::F64(cells.map(|c| c.as_f64().unwrap()).collect()),
        };
        t.push(name, values);
    }
    let path = dir.join("shard.parquet");
    t.write_parquet(&path).unwrap();
    std::fs::read(path).unwrap()
}

fn leaderboard(snapshot: SnapshotUse) -> ScoreSettings {
    let source = LeaderboardSource {
        snapshot,
        ..LeaderboardSource::default()
    };
    ScoreSettings {
        sources: vec![Source {
            kind: SourceKind::Leaderboard(source),
            prefix: String::new(),
            duplicates: Duplicates::Mean,
            model_aliases: vec![],
        }],
    }
}

fn models() -> Vec<ModelKey> {
    let key = |name: &str, id: &str| ModelKey {
        name: name.into(),
        id: Some(id.into()),
        revision: None,
        sha: None,
        path: None,
    };
    vec![
        key("smol", "HuggingFaceTB/SmolLM2-135M"),
        key("pythia", "EleutherAI/pythia-160m"),
        key("mine", "me/unreleased"),
    ]
}

#[test]
fn the_leaderboard_is_fetched_as_parquet_cached_and_joined_by_hub_id() {
    let server = HubServer::start();
    let tmp = tempfile::tempdir().unwrap();
    server.revision(
        "datasets",
        "open-llm-leaderboard/contents",
        "main",
        SHA,
        &["README.md", SHARD],
    );
    server.file(
        "datasets/",
        "open-llm-leaderboard/contents",
        SHA,
        SHARD,
        leaderboard_parquet(tmp.path()),
    );
    let cache = tmp.path().join("hub");
    let h = hub(&server, &cache, false);
    let s = Scores::load(&leaderboard(SnapshotUse::Never), &models(), Some(&h)).unwrap();
    let col = |n: &str| s.column(n).unwrap().to_vec();
    assert_eq!(col("average")[..2], [5.7, 5.73]);
    assert_eq!(col("math_lvl_5")[..2], [1.21, 0.91]);
    assert_eq!(col("mmlu_pro")[..2], [1.05, 1.33]);
    assert_eq!(col("params_b")[..2], [0.1, 0.2]);
    assert!(col("average")[2].is_nan());
    let record = &s.sources[0];
    assert_eq!(record.unmatched_models, vec!["mine"]);
    assert_eq!(
        (record.rows, record.unused_rows),
        (3, 1),
        "Qwen2.5-0.5B is not in the study"
    );
    match &record.provenance {
        Provenance::Leaderboard(Origin::Hub { sha, files, .. }) => assert_eq!(
            (sha.as_str(), files.as_slice()),
            (SHA, &[SHARD.to_string()][..])
        ),
        other => panic!("{other:?}"),
    }
    assert!(cache
        .join("datasets--open-llm-leaderboard--contents/snapshots")
        .join(SHA)
        .join(SHARD)
        .is_file());

    // Offline afterwards: the cached commit and shard answer, with no request.
    let before = server.requests();
    let s = Scores::load(
        &leaderboard(SnapshotUse::Never),
        &models(),
        Some(&hub(&server, &cache, true)),
    )
    .unwrap();
    assert_eq!(s.column("average").unwrap()[1], 5.73);
    assert!(matches!(
        &s.sources[0].provenance,
        Provenance::Leaderboard(Origin::Hub {
            from_cache: true,
            ..
        })
    ));
    assert_eq!(server.requests(), before);
}

#[test]
fn without_the_hub_the_shipped_snapshot_answers_and_says_so() {
    let server = HubServer::start();
    server.faults(
        "/api/datasets/open-llm-leaderboard/contents/revision/main",
        vec![Fault::Status(502), Fault::Status(502)],
    );
    let tmp = tempfile::tempdir().unwrap();
    let s = Scores::load(
        &leaderboard(SnapshotUse::Fallback),
        &models(),
        Some(&hub(&server, tmp.path(), false)),
    )
    .unwrap();
    match &s.sources[0].provenance {
        Provenance::Leaderboard(Origin::Snapshot {
            file,
            reason,
            sha256,
        }) => {
            assert_eq!(
                file,
                "data/scores/open_llm_leaderboard_v2_final_normalized.csv"
            );
            assert!(reason.contains("HTTP 502"), "{reason}");
            assert_eq!(
                sha256,
                &lossy::io::hash::sha256_file(&crate::support::root().join(file)).unwrap()
            );
        }
        other => panic!("{other:?}"),
    }
    // The snapshot's published values (final leaderboard state).
    assert_eq!(s.column("average").unwrap()[..2], [5.7, 5.73]);
    assert!(
        s.column("bbh_raw").is_none(),
        "the snapshot has no raw scores"
    );

    // Offline with an empty cache: the snapshot too; `snapshot: never` refuses instead.
    let off = hub(&server, tmp.path(), true);
    assert!(Scores::load(&leaderboard(SnapshotUse::Fallback), &models(), Some(&off)).is_ok());
    let err = Scores::load(&leaderboard(SnapshotUse::Never), &models(), Some(&off))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not in the cache") && err.contains("offline"),
        "{err}"
    );
}

#[test]
fn lm_eval_result_files_give_task_metric_columns_per_model_and_revision() {
    let dir = fixtures().join("lm_eval");
    let source = Source {
        kind: SourceKind::LmEval(LmEvalSource { path: dir }),
        prefix: String::new(),
        duplicates: Duplicates::Error,
        model_aliases: vec![
            (
                "EleutherAI/pythia-v1.1-160m".into(),
                "EleutherAI/pythia-160m".into(),
            ),
            (
                "EleutherAI/pythia-v1.1-70m-deduped".into(),
                "EleutherAI/pythia-70m-deduped".into(),
            ),
        ],
    };
    let key = |name: &str, id: &str, rev: &str| ModelKey {
        name: name.into(),
        id: Some(id.into()),
        revision: Some(rev.into()),
        sha: None,
        path: None,
    };
    let models = [
        key("p160", "EleutherAI/pythia-160m", "step143000"),
        key("p70d", "EleutherAI/pythia-70m-deduped", "step143000"),
        key("p160-early", "EleutherAI/pythia-160m", "step1000"),
    ];
    let s = Scores::load(
        &ScoreSettings {
            sources: vec![source],
        },
        &models,
        None,
    )
    .unwrap();
    // Values straight from the JSON files.
    assert_eq!(s.column("arc_easy.acc").unwrap()[0], 0.4351851851851852);
    assert_eq!(s.column("arc_easy.acc").unwrap()[1], 0.3846801346801347);
    assert_eq!(
        s.column("arc_easy.acc.5shot").unwrap()[0],
        0.4494949494949495
    );
    assert!(
        s.column("arc_easy.acc.5shot").unwrap()[1].is_nan(),
        "no five-shot file for 70m-deduped"
    );
    assert!(s.column("arc_easy.acc_stderr").is_none());
    assert!(s.column("hendrycksTest-astronomy.acc").is_some());
    assert_eq!(
        s.sources[0].unmatched_models,
        vec!["p160-early"],
        "a checkpoint matches only its own revision"
    );
    assert_eq!(
        s.sources[0].rows, 2,
        "zero- and five-shot files of one model merge into one row"
    );
}
