//! The estimator beside the forward pass (`Overlap::On`, its own thread fed
//! through a bounded queue) gives the same bits as the estimator inline
//! (`Overlap::Off`): every layer's estimates, every bootstrap replicate and
//! the LM loss, whatever the batch size (which changes nothing either, on an
//! f32 fixture and on SmolLM2's quantized GGUF). Compared exactly through `{:?}`,
//! which prints each f64 so that it parses back to the same bits.

use super::support::root;
use candle_core::Device;
use lossy::features::estimator::Estimator;
use lossy::features::{extract_observed, FeatureSettings, ModelFeatures, Overlap};
use lossy::models::{tokenizer::Tokenizer, Model, ModelFiles};
use std::path::Path;

fn documents(tok: &Tokenizer, n: usize, max: usize) -> (Vec<Vec<u32>>, Vec<Vec<usize>>) {
    let text = std::fs::read_to_string(root().join("data/corpus/demo.jsonl")).unwrap();
    let (mut docs, mut ends) = (vec![], vec![]);
    for line in text.lines().take(n) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let (mut ids, mut e) = tok
            .encode_with_ends(v["text"].as_str().unwrap(), true)
            .unwrap();
        ids.truncate(max);
        e.truncate(max);
        docs.push(ids);
        ends.push(e);
    }
    (docs, ends)
}

fn pass(
    model: &Model,
    docs: &[Vec<u32>],
    ends: &[Vec<usize>],
    batch: usize,
    overlap: Overlap,
) -> ModelFeatures {
    let settings = FeatureSettings {
        orders: vec![1, 2],
        batch_size: batch,
        bootstrap: 3,
        ..FeatureSettings::default()
    };
    let est = Estimator::new(&Default::default(), model.hidden_size()).unwrap();
    let mut batches = 0;
    let f = extract_observed(model, docs, ends, &settings, &est, overlap, &mut |p| {
        batches += 1;
        assert!(p.documents <= p.documents_total && p.seconds >= 0.0);
    })
    .unwrap();
    assert_eq!(
        batches,
        docs.len().div_ceil(batch),
        "one progress report per batch"
    );
    f
}

fn bits(f: &ModelFeatures) -> String {
    format!("{:?} {:?} {:?} {}", f.layers, f.replicates, f.loss, f.rows)
}

fn check(path: &Path, n: usize, max: usize) {
    let files = ModelFiles::locate(path).unwrap();
    let tok = Tokenizer::from_file(&files.tokenizer).unwrap();
    let model = Model::load(files, &Device::Cpu).unwrap();
    let (docs, ends) = documents(&tok, n, max);
    let inline = bits(&pass(&model, &docs, &ends, 8, Overlap::Off));
    for batch in [1, 3, 8] {
        let overlapped = bits(&pass(&model, &docs, &ends, batch, Overlap::On));
        assert!(overlapped == inline, "{}: batch {batch}", path.display());
        let alone = bits(&pass(&model, &docs, &ends, batch, Overlap::Off));
        assert!(alone == inline, "{}: batch {batch} inline", path.display());
    }
}

#[test]
fn overlapped_estimator_gives_the_inline_bits_on_a_fixture_model() {
    check(&root().join("data/tiny-llama/tiny-a"), 12, 48);
}

#[test]
fn overlapped_estimator_gives_the_inline_bits_on_smollm2_gguf() {
    let Some(path) = super::gguf::smollm2_path() else {
        return;
    };
    check(&path, 6, 64);
}
