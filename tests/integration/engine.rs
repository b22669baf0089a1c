//! Forward-pass parity with HF transformers: the tiny random Llama models in
//! `data/tiny-llama/` (made by `scripts/make_fixture_models.py`) with the
//! hidden states transformers computed for fixed texts. Every layer must
//! match to 1e-4 max abs in f32; a packed batch must equal running each
//! sequence alone.

use super::support::{input_ids, root};
use candle_core::{Device, Tensor};
use lossy::io::npy;
use lossy::models::{tokenizer::Tokenizer, HiddenStates, LayerSink, Model, ModelFiles, Precision};
use serde_json::Value;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

const TOLERANCE: f32 = 1e-4;

/// Every fixture model: the six tiny Llamas (`scripts/make_fixture_models.py`)
/// and one per architecture and weight format (`scripts/make_arch_fixtures.py`).
fn model_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for (base, expected) in [
        (root().join("data/tiny-llama"), 6),
        (root().join("tests/fixtures/arch"), 12),
    ] {
        let found: Vec<PathBuf> = std::fs::read_dir(&base)
            .unwrap_or_else(|e| panic!("{}: {e}", base.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("reference.json").is_file())
            .collect();
        assert!(
            found.len() >= expected,
            "expected {expected} fixture models in {}, found {}",
            base.display(),
            found.len()
        );
        dirs.extend(found);
    }
    dirs.sort();
    dirs
}

/// Collects every layer as a flat f32 vector with its shape.
#[derive(Default)]
struct Collect(Vec<(Vec<usize>, Vec<f32>)>);

impl LayerSink for Collect {
    fn layer(&mut self, index: usize, hidden: &Tensor) -> ControlFlow<()> {
        assert_eq!(index, self.0.len(), "layers arrive in order");
        self.0.push((
            hidden.dims().to_vec(),
            hidden.flatten_all().unwrap().to_vec1().unwrap(),
        ));
        ControlFlow::Continue(())
    }
}

fn reference(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap()).unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn load(dir: &Path) -> Model {
    Model::load(ModelFiles::locate(dir).unwrap(), &Device::Cpu).unwrap()
}

#[test]
fn every_layer_matches_transformers() {
    for dir in model_dirs() {
        let r = reference(&dir);
        let model = load(&dir);
        let tok = Tokenizer::from_file(&dir.join("tokenizer.json")).unwrap();
        for seq in r["sequences"].as_array().unwrap() {
            let ids = input_ids(seq);
            let text = seq["text"].as_str().unwrap();
            assert_eq!(
                tok.encode(text, true).unwrap(),
                ids,
                "{}: tokenizer disagrees with transformers",
                dir.display()
            );
            let want = npy::read(&dir.join(seq["hidden_states_file"].as_str().unwrap())).unwrap();
            let (layers, t, d) = (want.shape[0], want.shape[1], want.shape[2]);
            let want = want.to_f32().unwrap();
            let mut got = Collect::default();
            assert!(model.run(&[&ids], HiddenStates::Hf, &mut got).unwrap());
            assert_eq!(
                got.0.len(),
                layers,
                "{}: number of hidden states",
                dir.display()
            );
            for (l, (shape, values)) in got.0.iter().enumerate() {
                assert_eq!(shape, &vec![t, d], "packed rows");
                let diff = max_abs_diff(values, &want[l * t * d..(l + 1) * t * d]);
                assert!(
                    diff <= TOLERANCE,
                    "{} layer {l}: max abs diff {diff:.2e}",
                    dir.display()
                );
            }
        }
    }
}

#[test]
fn raw_convention_omits_the_final_norm() {
    for dir in model_dirs() {
        let r = reference(&dir);
        let Some(file) = r["last_block_output_0"]["file"].as_str() else {
            continue;
        };
        let want = npy::read(&dir.join(file)).unwrap().to_f32().unwrap();
        let ids: Vec<u32> = input_ids(&r["sequences"][0]);
        let mut got = Collect::default();
        load(&dir)
            .run(&[&ids], HiddenStates::Raw, &mut got)
            .unwrap();
        let diff = max_abs_diff(&got.0.last().unwrap().1, &want);
        assert!(
            diff <= TOLERANCE,
            "{}: raw last block differs by {diff:.2e}",
            dir.display()
        );
    }
}

/// A packed batch gives each sequence the bits it gets alone: its GEMMs and
/// attention have the same shapes either way (no padding).
#[test]
fn packed_batch_equals_each_sequence_alone_bit_for_bit() {
    for dir in model_dirs() {
        let r = reference(&dir);
        let model = load(&dir);
        let seqs: Vec<Vec<u32>> = r["sequences"]
            .as_array()
            .unwrap()
            .iter()
            .map(input_ids)
            .collect();
        assert!(seqs.len() > 1, "{}: one sequence only", dir.display());
        let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        let mut batch = Collect::default();
        model.run(&refs, HiddenStates::Hf, &mut batch).unwrap();
        let d = model.hidden_size();
        let total: usize = seqs.iter().map(Vec::len).sum();
        let mut start = 0;
        for (b, seq) in seqs.iter().enumerate() {
            let mut alone = Collect::default();
            model.run(&[seq], HiddenStates::Hf, &mut alone).unwrap();
            for (l, ((shape, packed), (_, single))) in batch.0.iter().zip(&alone.0).enumerate() {
                assert_eq!(shape, &[total, d], "layer {l}: packed rows, no padding");
                let rows = &packed[start * d..(start + seq.len()) * d];
                assert!(
                    rows == single.as_slice(),
                    "{} layer {l} sequence {b}: batch vs alone differ by {:.2e}",
                    dir.display(),
                    max_abs_diff(rows, single)
                );
            }
            start += seq.len();
        }
    }
}

#[test]
fn last_token_logits_match_transformers() {
    for dir in model_dirs() {
        let r = reference(&dir);
        let ids: Vec<u32> = input_ids(&r["sequences"][0]);
        let want = npy::read(&dir.join(r["logits_last_0"]["file"].as_str().unwrap()))
            .unwrap()
            .to_f32()
            .unwrap();
        let got = load(&dir).last_logits(&ids).unwrap();
        let diff = max_abs_diff(&got, &want);
        assert!(
            diff <= TOLERANCE,
            "{}: logits differ by {diff:.2e}",
            dir.display()
        );
    }
}

/// bf16 and f16 are approximations: every layer stays within a few percent
/// of the f32 states (relative to each layer's scale).
#[test]
fn half_precisions_track_f32() {
    for dir in model_dirs() {
        let r = reference(&dir);
        let ids: Vec<u32> = input_ids(&r["sequences"][0]);
        let mut full = Collect::default();
        load(&dir)
            .run(&[&ids], HiddenStates::Hf, &mut full)
            .unwrap();
        for precision in [Precision::Bf16, Precision::F16] {
            let model =
                Model::load_as(ModelFiles::locate(&dir).unwrap(), &Device::Cpu, precision).unwrap();
            let mut half = Collect::default();
            model.run(&[&ids], HiddenStates::Hf, &mut half).unwrap();
            for (l, ((_, a), (_, b))) in full.0.iter().zip(&half.0).enumerate() {
                let scale = a.iter().map(|x| x.abs()).fold(0.0, f32::max).max(1e-6);
                let diff = max_abs_diff(a, b) / scale;
                assert!(
                    diff < 0.1,
                    "{} {precision:?} layer {l}: relative diff {diff:.3}",
                    dir.display()
                );
            }
        }
    }
}

#[test]
fn shape_mismatch_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let src = root().join("data/tiny-llama/tiny-a");
    let dir = tmp.path().join("m");
    std::fs::create_dir(&dir).unwrap();
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    let mut cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    cfg["intermediate_size"] = 50.into();
    std::fs::write(dir.join("config.json"), cfg.to_string()).unwrap();
    // The error and its causes, as the CLI prints them.
    let err = Model::load(ModelFiles::locate(&dir).unwrap(), &Device::Cpu)
        .err()
        .map(|e| format!("{:#}", anyhow::Error::new(e)))
        .unwrap();
    assert!(
        err.contains("shape mismatch") && err.contains("mlp"),
        "{err}"
    );
}

#[test]
fn bad_model_folders_get_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let src = &model_dirs()[0];
    let dir = tmp.path().join("m");
    std::fs::create_dir(&dir).unwrap();
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    // truncated weights
    let w = std::fs::read(dir.join("model.safetensors")).unwrap();
    std::fs::write(dir.join("model.safetensors"), &w[..w.len() / 2]).unwrap();
    // The error and its causes, as the CLI prints them.
    let err = Model::load(ModelFiles::locate(&dir).unwrap(), &Device::Cpu)
        .err()
        .map(|e| format!("{:#}", anyhow::Error::new(e)))
        .unwrap();
    assert!(
        err.contains("model.safetensors") && err.contains("truncated"),
        "{err}"
    );
    // unsupported architecture
    std::fs::write(dir.join("model.safetensors"), &w).unwrap();
    let cfg = std::fs::read_to_string(dir.join("config.json"))
        .unwrap()
        .replace("\"llama\"", "\"mamba\"");
    std::fs::write(dir.join("config.json"), cfg).unwrap();
    // The error and its causes, as the CLI prints them.
    let err = Model::load(ModelFiles::locate(&dir).unwrap(), &Device::Cpu)
        .err()
        .map(|e| format!("{:#}", anyhow::Error::new(e)))
        .unwrap();
    assert!(
        err.contains("`mamba`") && err.contains("supported: llama"),
        "{err}"
    );
    // missing tokenizer
    std::fs::copy(src.join("config.json"), dir.join("config.json")).unwrap();
    std::fs::remove_file(dir.join("tokenizer.json")).unwrap();
    let err = ModelFiles::locate(&dir).err().unwrap().to_string();
    assert!(err.contains("has no tokenizer.json"), "{err}");
}

#[test]
fn missing_tensor_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let src = &model_dirs()[0];
    let dir = tmp.path().join("m");
    std::fs::create_dir(&dir).unwrap();
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    // claim one more layer than the weights have
    let mut cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let layers = cfg["num_hidden_layers"].as_u64().unwrap();
    cfg["num_hidden_layers"] = (layers + 1).into();
    std::fs::write(dir.join("config.json"), cfg.to_string()).unwrap();
    // The error and its causes, as the CLI prints them.
    let err = Model::load(ModelFiles::locate(&dir).unwrap(), &Device::Cpu)
        .err()
        .map(|e| format!("{:#}", anyhow::Error::new(e)))
        .unwrap();
    assert!(err.contains(&format!("model.layers.{layers}")), "{err}");
}
