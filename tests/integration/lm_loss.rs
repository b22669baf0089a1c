//! The LM-loss baseline (`loss`, `bits_per_byte`) against HF transformers:
//! reference sums from `scripts/loss_fixtures.py` in
//! `tests/fixtures/loss/loss.json`, over the first documents of
//! `data/corpus/demo.jsonl` truncated to 64 tokens. lossy computes the loss
//! inside the feature pass (`features::extract`), so the test runs that pass.
//! Mean NLL per token agrees to 1e-4 relative; token ids, scored tokens and
//! covered bytes exactly. Models: the tiny Llama fixtures, four
//! architecture fixtures whose LM heads differ (soft-capped, learned
//! positions, untied), and SmolLM2-135M-Instruct Q4_1 (GGUF).

use super::support::root;
use candle_core::Device;
use lossy::features::estimator::Estimator;
use lossy::features::{extract, FeatureSettings};
use lossy::models::{tokenizer::Tokenizer, HiddenStates, Model, ModelFiles};
use serde_json::Value;
use std::path::Path;

const TOL: f64 = 1e-4;

fn fixture() -> Value {
    let path = root().join("tests/fixtures/loss/loss.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/loss_fixtures.py)", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn documents(fx: &Value) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(fx["corpus"].as_str().unwrap())).unwrap();
    text.lines()
        .take(fx["documents"].as_u64().unwrap() as usize)
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Runs the feature pass over the documents and checks the loss against `want`.
fn check(path: &Path, want: &Value, fx: &Value, name: &str) {
    let files = ModelFiles::locate(path).unwrap();
    let tok = Tokenizer::from_file(&files.tokenizer).unwrap();
    let model = Model::load(files, &Device::Cpu).unwrap();
    let max = fx["max_tokens"].as_u64().unwrap() as usize;
    let (mut docs, mut ends) = (vec![], vec![]);
    for text in documents(fx) {
        let (mut ids, mut e) = tok.encode_with_ends(&text, true).unwrap();
        ids.truncate(max);
        e.truncate(max);
        docs.push(ids);
        ends.push(e);
    }
    let want_ids: Vec<Vec<u32>> = serde_json::from_value(want["ids"].clone()).unwrap();
    assert_eq!(docs, want_ids, "{name}: token ids");
    let est = Estimator::new(&Default::default(), model.hidden_size()).unwrap();
    for (convention, batch) in [(HiddenStates::Hf, 8), (HiddenStates::Raw, 1)] {
        let settings = FeatureSettings {
            hidden_states: convention,
            batch_size: batch,
            ..FeatureSettings::default()
        };
        let f = extract(&model, &docs, &ends, &settings, &est).unwrap();
        let loss = f.loss;
        assert_eq!(
            loss.tokens,
            want["tokens"].as_u64().unwrap(),
            "{name}: tokens"
        );
        assert_eq!(loss.bytes, want["bytes"].as_u64().unwrap(), "{name}: bytes");
        let (got, reference) = (loss.per_token(), want["loss"].as_f64().unwrap());
        let rel = (got - reference).abs() / reference.abs();
        assert!(
            rel <= TOL,
            "{name} ({convention:?}): loss {got} vs transformers {reference} ({rel:.1e} relative)"
        );
        let bpb = reference * want["tokens"].as_f64().unwrap()
            / std::f64::consts::LN_2
            / want["bytes"].as_f64().unwrap();
        assert!(
            (loss.bits_per_byte() - bpb).abs() / bpb <= TOL,
            "{name}: bits per byte"
        );
        eprintln!("{name} ({convention:?}): loss {got:.6} vs {reference:.6} ({rel:.1e})");
    }
}

#[test]
fn loss_matches_transformers_on_the_fixture_models() {
    let fx = fixture();
    let cases = fx["cases"].as_object().unwrap();
    let mut n = 0;
    for (name, want) in cases.iter().filter(|(k, _)| !k.starts_with("gguf:")) {
        check(&root().join(name), want, &fx, name);
        n += 1;
    }
    assert_eq!(n, 10, "six tiny Llamas and four architecture fixtures");
}

#[test]
fn loss_matches_transformers_on_smollm2_gguf() {
    let Some(path) = super::gguf::smollm2_path() else {
        return;
    };
    let fx = fixture();
    let want = &fx["cases"]["gguf:SmolLM2-135M-Instruct.Q4_1.gguf"];
    check(&path, want, &fx, "SmolLM2 (GGUF)");
}

/// `params_total` against transformers' `num_parameters()` for the bias-free
/// tiny Llamas (tiny-e, with attention biases, is skipped: like the
/// non-embedding count, `params_total` leaves biases out). The non-embedding
/// formula counts four norm vectors per block and two final ones (LayerNorm
/// weight and bias); an RMSNorm Llama has two and one, so lossy's count is
/// exactly (2 L + 1) d above transformers' (160 of 27,808 for tiny-a).
#[test]
fn params_total_matches_transformers_for_bias_free_models() {
    let mut n = 0;
    for m in ["tiny-a", "tiny-b", "tiny-c", "tiny-d", "tiny-f"] {
        let dir = root().join("data/tiny-llama").join(m);
        let reference: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap())
                .unwrap();
        let c = lossy::models::config::ModelConfig::from_file(&dir.join("config.json")).unwrap();
        assert!(!c.attention_bias, "{m} has no biases");
        let overcount = (2 * c.num_layers + 1) * c.hidden_size;
        assert_eq!(
            (c.total_params() - overcount) as u64,
            reference["num_parameters"].as_u64().unwrap(),
            "{m}"
        );
        n += 1;
    }
    assert_eq!(n, 5);
}
