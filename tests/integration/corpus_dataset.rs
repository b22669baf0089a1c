//! A probing corpus from a hub dataset served on 127.0.0.1: the parquet
//! conversion branch resolved to its commit, shards read in name order and
//! only as many as `max_documents` needs, and the selection hashed exactly
//! as the same documents from a local file.

use crate::http_server::HubServer;
use lossy::corpus::{Corpus, CorpusSettings, DatasetSource};
use lossy::table::{Table, Values};
use std::path::Path;

const SHA: &str = "cccccccccccccccccccccccccccccccccccccccc";

fn shard(dir: &Path, name: &str, docs: &[&str]) -> Vec<u8> {
    let mut t = Table::default();
    t.push(
        "text",
        Values::Str(docs.iter().map(|d| d.to_string()).collect()),
    );
    t.push("timestamp", Values::Str(vec!["2019".into(); docs.len()]));
    let p = dir.join(name);
    t.write_parquet(&p).unwrap();
    std::fs::read(p).unwrap()
}

#[test]
fn a_dataset_corpus_is_pinned_selected_in_order_and_hashed_like_local_text() {
    let server = HubServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let first = ["one fish", "two fish", "red fish"];
    let second = ["blue fish", "old fish", "new fish", "more fish"];
    let files = [
        "en/partial-validation/0000.parquet",
        "en/partial-validation/0001.parquet",
        "en/train/0000.parquet",
    ];
    server.revision(
        "datasets",
        "lossy-test/c4",
        "refs%2Fconvert%2Fparquet",
        SHA,
        &files,
    );
    server.file(
        "datasets/",
        "lossy-test/c4",
        SHA,
        files[0],
        shard(tmp.path(), "a.parquet", &first),
    );
    server.file(
        "datasets/",
        "lossy-test/c4",
        SHA,
        files[1],
        shard(tmp.path(), "b.parquet", &second),
    );
    let hub = server.hub(&tmp.path().join("hub"), None, false, 0);
    let source = DatasetSource {
        id: "lossy-test/c4".into(),
        config: "en".into(),
        split: "validation".into(),
        revision: "refs/convert/parquet".into(),
    };
    let settings = |n: usize| CorpusSettings {
        dataset: Some(source.clone()),
        max_documents: Some(n),
        ..CorpusSettings::default()
    };

    let two = Corpus::fetch_and_load(&settings(2), Some(&hub)).unwrap();
    assert_eq!(two.documents, vec!["one fish", "two fish"]);
    assert!(
        !server
            .seen()
            .iter()
            .any(|s| s.path.ends_with("0001.parquet")),
        "the second shard is not needed for 2 documents"
    );

    let five = Corpus::fetch_and_load(&settings(5), Some(&hub)).unwrap();
    assert_eq!(
        five.documents,
        vec!["one fish", "two fish", "red fish", "blue fish", "old fish"]
    );
    let record = five.dataset.clone().unwrap();
    assert_eq!((record.sha.as_str(), record.files.len()), (SHA, 2));

    // The same documents from a local file hash the same.
    let local = tmp.path().join("local.jsonl");
    std::fs::write(
        &local,
        five.documents
            .iter()
            .map(|d| format!("{{\"text\": \"{d}\"}}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let from_file = Corpus::load(&CorpusSettings {
        paths: vec![local],
        max_documents: Some(5),
        ..CorpusSettings::default()
    })
    .unwrap();
    assert_eq!(from_file.sha256, five.sha256);

    // A split with no shards names what exists.
    let bad = CorpusSettings {
        dataset: Some(DatasetSource {
            split: "test".into(),
            ..source.clone()
        }),
        ..CorpusSettings::default()
    };
    let err = format!(
        "{:#}",
        anyhow::Error::from(Corpus::fetch_and_load(&bad, Some(&hub)).unwrap_err())
    );
    assert!(
        err.contains("no parquet files for config `en` and split `test`")
            && err.contains("en/partial-validation"),
        "{err}"
    );
}

/// A preference dataset through the hub's parquet conversion, in the
/// Tulu 3 / UltraFeedback layout (`chosen`/`rejected` as message lists):
/// the same reader as a local parquet file, so the pairs and their sha256
/// equal those of the same rows in `.jsonl`; a 20-pair selection takes
/// only the first shard.
#[test]
fn a_hub_preference_dataset_of_message_lists_reads_like_its_jsonl() {
    use lossy::corpus::preference::{PreferenceSet, PreferenceSettings};
    let server = HubServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let fixtures = crate::support::root().join("tests/fixtures/preference");
    let parquet = std::fs::read(fixtures.join("chat.parquet")).unwrap();
    let files = [
        "default/train_prefs/0000.parquet",
        "default/train_prefs/0001.parquet",
    ];
    server.revision(
        "datasets",
        "lossy-test/prefs",
        "refs%2Fconvert%2Fparquet",
        SHA,
        &files,
    );
    for f in files {
        server.file("datasets/", "lossy-test/prefs", SHA, f, parquet.clone());
    }
    let hub = server.hub(&tmp.path().join("hub"), None, false, 0);
    let settings = |n: usize| PreferenceSettings {
        dataset: Some(DatasetSource {
            id: "lossy-test/prefs".into(),
            config: "default".into(),
            split: "train_prefs".into(),
            revision: "refs/convert/parquet".into(),
        }),
        max_pairs: Some(n),
        ..PreferenceSettings::default()
    };
    let local = |n: usize| {
        let s = PreferenceSettings {
            paths: vec![fixtures.join("chat.jsonl")],
            max_pairs: Some(n),
            ..PreferenceSettings::default()
        };
        PreferenceSet::load(&s, &s.paths, None).unwrap()
    };
    let twenty = PreferenceSet::fetch_and_load(&settings(20), Some(&hub)).unwrap();
    assert_eq!(twenty.pairs.len(), 20);
    assert_eq!(twenty.sha256, local(20).sha256);
    let record = twenty.dataset.clone().unwrap();
    assert_eq!((record.sha.as_str(), record.files.len()), (SHA, 1));
    assert!(
        !server
            .seen()
            .iter()
            .any(|s| s.path.ends_with("0001.parquet")),
        "the second shard is not needed for 20 pairs"
    );
    // 60 pairs: all 48 of the first shard, then 12 of the second.
    let sixty = PreferenceSet::fetch_and_load(&settings(60), Some(&hub)).unwrap();
    assert_eq!(sixty.pairs.len(), 60);
    let all = local(48);
    assert_eq!(sixty.pairs[47].chosen, all.pairs[47].chosen);
    assert_eq!(sixty.pairs[59].chosen, all.pairs[11].chosen);
    assert_eq!(sixty.pairs[59].row, 12);
}
