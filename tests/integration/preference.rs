//! Preference information I(Z; preferred vs rejected) against the reference:
//! `scripts/preference_fixtures.py` computes it with the PyPI `soft-entropy`
//! package (numpy backend) on transformers' hidden states of the completion
//! tokens of both sequences of every pair, labelled 1 (chosen) / 0
//! (rejected), as the paper defines it (`tests/fixtures/preference/`).
//! lossy reads the same pairs (`PreferenceSet`), tokenizes them itself
//! (plain strings, and the same pairs as Tulu-style message lists rendered
//! with a ChatML chat template through minijinja, where the reference used
//! transformers' jinja2), and runs `extract_preference` with the reference's
//! W and ε. Token ids and completion starts must agree exactly; per-layer
//! MI and the model mean over layers 1..L to 1e-6 absolute (the reference
//! accumulates in f32, and candle's hidden states differ from torch's in the
//! last bits). Cases: two trained suite models (d = 32, 64).

use super::support::{fixtures, root};
use candle_core::Device;
use lossy::corpus::chat::ChatTemplate;
use lossy::corpus::preference::{PreferenceSet, PreferenceSettings, PreferenceTokens};
use lossy::features::estimator::{Estimator, WSource};
use lossy::features::preference::{extract_preference, layer_values};
use lossy::features::FeatureSettings;
use lossy::io::npy;
use lossy::models::{tokenizer::Tokenizer, Model, ModelFiles};
use serde_json::Value;
use std::path::{Path, PathBuf};

const TOL: f64 = 1e-6;

fn dir() -> PathBuf {
    fixtures().join("preference")
}

fn fixture() -> Value {
    let path = dir().join("case.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run scripts/preference_fixtures.py)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

fn settings(path: PathBuf, pairs: usize) -> PreferenceSettings {
    PreferenceSettings {
        paths: vec![path],
        max_pairs: Some(pairs),
        ..Default::default()
    }
}

/// The reference's estimator: its W (seed 0) and its calibrated ε.
fn estimator(case: &Value) -> Estimator {
    let (m, d) = (
        case["m"].as_u64().unwrap() as usize,
        case["d"].as_u64().unwrap() as usize,
    );
    let w = npy::read(&dir().join(case["w"].as_str().unwrap()))
        .unwrap()
        .to_f32()
        .unwrap();
    let source = WSource::Generated {
        algorithm: "soft-entropy numpy default_rng".into(),
        seed: 0,
    };
    Estimator::from_parts(w, m, d, case["epsilon"].as_f64().unwrap(), source)
}

/// Runs the model over the tokens and compares every layer and the mean.
fn check_mi(case: &Value, model_dir: &Path, tokens: &PreferenceTokens) {
    let name = format!("{} ({})", case["model"], case["kind"]);
    let want_ids: Vec<Vec<u32>> = serde_json::from_value(case["sequences"].clone()).unwrap();
    let want_start: Vec<usize> = serde_json::from_value(case["completion_start"].clone()).unwrap();
    assert_eq!(tokens.sequences, want_ids, "{name}: token ids");
    assert_eq!(
        tokens.completion_start, want_start,
        "{name}: completion starts"
    );
    assert_eq!(tokens.dropped, 0);
    let model = Model::load(ModelFiles::locate(model_dir).unwrap(), &Device::Cpu).unwrap();
    let est = estimator(case);
    let fs = FeatureSettings {
        batch_size: 5, // batches that split pairs
        ..Default::default()
    };
    let got = extract_preference(&model, tokens, false, &fs, &est).unwrap();
    assert_eq!(
        got.rows,
        case["rows"].as_u64().unwrap() as usize,
        "{name}: rows"
    );
    let want = case["layers"].as_array().unwrap();
    assert_eq!(got.layers.len(), want.len(), "{name}: layers");
    let mut worst: f64 = 0.0;
    for (l, (e, w)) in got.layers.iter().zip(want).enumerate() {
        let v = layer_values(e, &fs);
        let (mi, h) = (v[0], e.entropy);
        let (wmi, wh) = (
            w["preference"].as_f64().unwrap(),
            w["entropy"].as_f64().unwrap(),
        );
        assert!(
            (mi - wmi).abs() < TOL,
            "{name}: layer {l}: preference {mi} vs reference {wmi}"
        );
        assert!(
            (h - wh).abs() < TOL,
            "{name}: layer {l}: H(Z) {h} vs reference {wh}"
        );
        assert!(v[1].is_finite(), "{name}: layer {l}: the null is computed");
        worst = worst.max((mi - wmi).abs());
    }
    let mean: f64 = got.layers[1..]
        .iter()
        .map(|e| layer_values(e, &fs)[0])
        .sum::<f64>()
        / (got.layers.len() - 1) as f64;
    let want_mean = case["model_preference"].as_f64().unwrap();
    assert!(
        (mean - want_mean).abs() < TOL,
        "{name}: model mean {mean} vs {want_mean}"
    );
    eprintln!("{name}: max |Δ preference| = {worst:.2e}");
}

#[test]
fn plain_pairs_match_soft_entropy_on_transformers_states() {
    let fx = fixture();
    let pairs = fx["pairs"].as_u64().unwrap() as usize;
    let s = settings(root().join(fx["pairs_file"].as_str().unwrap()), pairs);
    let set = PreferenceSet::load(&s, &s.paths, None).unwrap();
    assert_eq!(set.pairs.len(), pairs);
    let plain: Vec<&Value> = fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "plain")
        .collect();
    assert_eq!(plain.len(), 2);
    for case in plain {
        let model_dir = root().join(case["model"].as_str().unwrap());
        let files = ModelFiles::locate(&model_dir).unwrap();
        let tok = Tokenizer::from_file(&files.tokenizer).unwrap();
        let tokens = set.tokenize(&tok, None, &s).unwrap();
        check_mi(case, &model_dir, &tokens);
    }
}

/// The chat case's model folder, and its tokenizer with the fixture's
/// template in its config (in `tmp`).
fn chat_model(case: &Value, tmp: &Path) -> (PathBuf, Tokenizer, ChatTemplate) {
    let model_dir = root().join(case["model"].as_str().unwrap());
    std::fs::copy(model_dir.join("tokenizer.json"), tmp.join("tokenizer.json")).unwrap();
    let cfg_text = std::fs::read_to_string(model_dir.join("tokenizer_config.json")).unwrap();
    let mut cfg: Value = serde_json::from_str(&cfg_text).unwrap();
    let template = std::fs::read_to_string(dir().join("chat_template.jinja")).unwrap();
    cfg["chat_template"] = Value::String(template);
    std::fs::write(
        tmp.join("tokenizer_config.json"),
        serde_json::to_string(&cfg).unwrap(),
    )
    .unwrap();
    let tokenizer_path = tmp.join("tokenizer.json");
    let chat = ChatTemplate::for_tokenizer(&tokenizer_path)
        .unwrap()
        .expect("the config's template");
    let tok = Tokenizer::from_file(&tokenizer_path).unwrap();
    (model_dir, tok, chat)
}

fn chat_case(fx: &Value) -> &Value {
    fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "chat")
        .expect("a chat case")
}

#[test]
fn chat_pairs_rendered_by_the_template_match_transformers() {
    let fx = fixture();
    let case = chat_case(&fx);
    let tmp = tempfile::tempdir().unwrap();
    let (model_dir, tok, chat) = chat_model(case, tmp.path());
    let pairs = fx["pairs"].as_u64().unwrap() as usize;
    let s = settings(dir().join("chat.jsonl"), pairs);
    let set = PreferenceSet::load(&s, &s.paths, None).unwrap();
    let tokens = set.tokenize(&tok, Some(&chat), &s).unwrap();
    check_mi(case, &model_dir, &tokens);
}

/// The same pairs as Tulu 3 / UltraFeedback store them on the hub: a
/// parquet file whose `chosen`/`rejected` are `list<struct<role, content>>`
/// (written by pyarrow, `scripts/preference_parquet_fixtures.py`, in row
/// groups of 20). lossy reads the same rows (numbers included), the same
/// sha256 and token ids as from the `.jsonl`, and the same preference
/// information as the reference; the first N pairs stop inside a row group.
#[test]
fn chat_pairs_from_parquet_equal_the_jsonl_and_match_transformers() {
    let fx = fixture();
    let case = chat_case(&fx);
    let pairs = fx["pairs"].as_u64().unwrap() as usize;
    let jsonl = settings(dir().join("chat.jsonl"), pairs);
    let parquet = settings(dir().join("chat.parquet"), pairs);
    let a = PreferenceSet::load(&jsonl, &jsonl.paths, None).unwrap();
    let b = PreferenceSet::load(&parquet, &parquet.paths, None).unwrap();
    assert_eq!(a.pairs.len(), pairs);
    assert_eq!(b.pairs.len(), pairs);
    for (x, y) in a.pairs.iter().zip(&b.pairs) {
        assert_eq!(
            (x.row, &x.prompt, &x.chosen, &x.rejected),
            (y.row, &y.prompt, &y.chosen, &y.rejected)
        );
    }
    assert_eq!(a.sha256, b.sha256);
    let tmp = tempfile::tempdir().unwrap();
    let (model_dir, tok, chat) = chat_model(case, tmp.path());
    let tokens = b.tokenize(&tok, Some(&chat), &parquet).unwrap();
    assert_eq!(tokens, a.tokenize(&tok, Some(&chat), &jsonl).unwrap());
    check_mi(case, &model_dir, &tokens);
    // The first 27 pairs: the second row group read in part, the third not.
    for n in [1, 20, 27] {
        let few = |p: &PreferenceSettings| {
            let s = PreferenceSettings {
                max_pairs: Some(n),
                ..p.clone()
            };
            PreferenceSet::load(&s, &s.paths, None).unwrap()
        };
        let (x, y) = (few(&jsonl), few(&parquet));
        assert_eq!(y.pairs.len(), n);
        assert_eq!(x.sha256, y.sha256, "first {n} pairs");
    }
}
