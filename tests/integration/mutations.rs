//! Deterministic random mutation of every file lossy parses (a stable-Rust
//! stand-in for cargo-fuzz, which needs nightly): the study parser and
//! checker, GGUF headers, safetensors files, `config.json`, `.npy` headers,
//! tokenizer.json, CSV score tables and lm-eval result files. Each valid seed
//! file is mutated (bytes flipped, set to extremes, inserted, deleted,
//! duplicated, the file cut) by a seeded SplitMix64 stream, and parsed; any
//! panic fails the test with the seed that reproduces it. Errors are the
//! expected outcome and are not inspected here (fault_table.rs checks their
//! wording).
//!
//! `cargo test --test integration mutations` runs 300 mutants per target
//! (CI); `LOSSY_MUTANTS=20000 cargo test --release --test integration
//! mutations` runs a longer campaign, and `LOSSY_MUTANT_SEED=N` starts
//! from another seed.

use super::support::{root, splitmix64};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

fn mutants() -> u64 {
    std::env::var("LOSSY_MUTANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

fn first_seed() -> u64 {
    std::env::var("LOSSY_MUTANT_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A deterministic stream of u64s.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = splitmix64(self.0);
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// 1 to 4 mutations of `seed`, chosen by `rng`.
fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len());
        match rng.below(7) {
            0 if !b.is_empty() => b[at] ^= 1 << rng.below(8),
            1 if !b.is_empty() => b[at] = [0x00, 0xff, 0x7f, 0x80][rng.below(4)],
            2 if b.len() >= at + 8 => {
                // A length or count field set to an extreme.
                let v = [u64::MAX, 1 << 60, 1 << 32, 0][rng.below(4)];
                b[at..at + 8].copy_from_slice(&v.to_le_bytes());
            }
            3 => b.insert(at, rng.next() as u8),
            4 if !b.is_empty() => {
                b.remove(at);
            }
            5 => b.truncate(at),
            _ => {
                let len = rng.below(16).min(b.len() - at.min(b.len()));
                let piece = b[at..at + len].to_vec();
                b.splice(at..at, piece);
            }
        }
    }
    b
}

/// Parses `mutants()` mutants of `seed` written to `dir/name` with `parse`;
/// panics name the target and the reproducing seed.
fn campaign(target: &str, seed: &[u8], dir: &Path, name: &str, parse: impl Fn(&Path)) {
    let path = dir.join(name);
    let mut failures = Vec::new();
    for i in 0..mutants() {
        let s = first_seed() + i;
        let mut rng = Rng(splitmix64(s ^ 0x5eed));
        let bytes = mutate(seed, &mut rng);
        std::fs::write(&path, &bytes).unwrap();
        if catch_unwind(AssertUnwindSafe(|| parse(&path))).is_err() {
            let keep = dir.join(format!("panic-{target}-{s}"));
            std::fs::write(&keep, &bytes).unwrap();
            failures.push(format!(
                "{target}: seed {s} panics (LOSSY_MUTANT_SEED={s} LOSSY_MUTANTS=1)"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn tiny(file: &str) -> Vec<u8> {
    std::fs::read(root().join("data/tiny-llama/tiny-a").join(file)).unwrap()
}

#[test]
fn study_files() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("c.txt"), "hello\n").unwrap();
    std::fs::write(tmp.path().join("s.csv"), "model,loss\ntiny-a,1\n").unwrap();
    let seed = format!(
        "version: 1\nname: m\nmodels:\n  - path: {}\n    precision: f32\n  - id: org/name\n    revisions: [step1, step2]\ncorpus:\n  path: c.txt\n  max_tokens: 16\nfeatures:\n  bins: 8\n  orders: [1, 2]\n  bootstrap: 4\nscores:\n  csv: s.csv\nfit:\n  target: loss\n  validation: k-fold\n  folds: 2\nfigures:\n  formats: [svg]\n  dpi: 100\n",
        root().join("data/tiny-llama/tiny-a").display()
    );
    campaign("study", seed.as_bytes(), tmp.path(), "study.yaml", |p| {
        let _ = lossy::study::load(p);
    });
}

#[test]
fn gguf_headers() {
    let tmp = tempfile::tempdir().unwrap();
    let gguf = tmp.path().join("seed.gguf");
    super::gguf::write_gguf(&root().join("data/tiny-llama/tiny-a"), "llama", &gguf);
    let bytes = std::fs::read(&gguf).unwrap();
    // Mutate the header region (metadata and tensor directory), keep the data.
    let header_len = bytes.len().min(16 * 1024);
    let (head, data) = bytes.split_at(header_len);
    let dir = tmp.path().to_path_buf();
    let path = dir.join("m.gguf");
    let mut failures = Vec::new();
    for i in 0..mutants() {
        let s = first_seed() + i;
        let mut rng = Rng(splitmix64(s ^ 0x6066));
        let mut b = mutate(head, &mut rng);
        b.extend_from_slice(data);
        std::fs::write(&path, &b).unwrap();
        let parse = || {
            if let Ok(g) = lossy::models::gguf::GgufFile::open(&path) {
                let _ = lossy::models::config::ModelConfig::from_gguf(&g);
            }
            if let Ok(t) = lossy::models::tokenizer::Tokenizer::from_file(&path) {
                let _ = t.encode("the cat sat on the mat", true);
            }
            if let Ok(files) = lossy::models::ModelFiles::locate(&path) {
                let _ = lossy::models::Model::load(files, &candle_core::Device::Cpu);
            }
        };
        if catch_unwind(AssertUnwindSafe(parse)).is_err() {
            std::fs::write(dir.join(format!("panic-gguf-{s}")), &b).unwrap();
            failures.push(format!("gguf: seed {s} panics"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn model_folders() {
    use lossy::models::{Model, ModelFiles};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::write(dir.join(f), tiny(f)).unwrap();
    }
    let load = |_: &Path| {
        if let Ok(files) = ModelFiles::locate(&dir) {
            let _ = Model::load(files, &candle_core::Device::Cpu);
        }
    };
    // The safetensors header (and the start of the data) is what is parsed.
    let st = tiny("model.safetensors");
    let n = 8 + u64::from_le_bytes(st[..8].try_into().unwrap()) as usize;
    let mut failures = Vec::new();
    for i in 0..mutants() / 3 {
        let s = first_seed() + i;
        let mut rng = Rng(splitmix64(s ^ 0x5afe));
        let mut b = mutate(&st[..n], &mut rng);
        b.extend_from_slice(&st[n..]);
        std::fs::write(dir.join("model.safetensors"), &b).unwrap();
        if catch_unwind(AssertUnwindSafe(|| load(&dir))).is_err() {
            failures.push(format!("safetensors: seed {s} panics"));
        }
    }
    std::fs::write(dir.join("model.safetensors"), &st).unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    campaign("config", &tiny("config.json"), &dir, "config.json", |p| {
        let _ = lossy::models::config::ModelConfig::from_file(p);
    });
    std::fs::write(dir.join("config.json"), tiny("config.json")).unwrap();
    campaign(
        "tokenizer",
        &tiny("tokenizer.json"),
        &dir,
        "tokenizer.json",
        |p| {
            if let Ok(t) = lossy::models::tokenizer::Tokenizer::from_file(p) {
                let _ = t.encode("the cat sat on the mat", true);
            }
        },
    );
}

#[test]
fn npy_headers() {
    let tmp = tempfile::tempdir().unwrap();
    let seed = tiny("hidden_states_0.npy");
    campaign(
        "npy",
        &seed[..seed.len().min(512)],
        tmp.path(),
        "z.npy",
        |p| {
            let _ = lossy::io::npy::read(p);
            if let Ok(r) = lossy::io::npy::RowReader::open(p) {
                let _ = r.map();
            }
        },
    );
}

#[test]
fn score_files() {
    let tmp = tempfile::tempdir().unwrap();
    campaign(
        "csv",
        b"model,loss,step\ntiny-a,1.5,10\ntiny-b,2.0,20\n",
        tmp.path(),
        "s.csv",
        |p| {
            let _ = lossy::table::Table::read(p);
        },
    );
    let lm_eval = std::fs::read(
        root().join("tests/fixtures/lm_eval/pythia-160m__zero-shot__160m_step143000.json"),
    )
    .unwrap();
    campaign("lm-eval", &lm_eval, tmp.path(), "r.json", |p| {
        let _ = lossy::scores::lm_eval::parse_file(p);
    });
}
