//! Shared helpers: fixture paths, the deterministic data recipe of
//! `scripts/estimator_fixtures.py`, and running the built `lossy` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    root().join("tests").join("fixtures")
}

/// Runs the real `lossy` binary with `args` in `cwd`, with a feature cache
/// of its own in `cwd/.lossy-cache`.
pub fn lossy(cwd: &Path, args: &[&str]) -> Output {
    lossy_with_cache(cwd, &cwd.join(".lossy-cache"), args)
}

/// Runs the real `lossy` binary with `args` in `cwd` and its caches in
/// `cache` (for a `cwd` that must stay untouched, like the repository).
pub fn lossy_with_cache(cwd: &Path, cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lossy"))
        .args(args)
        .current_dir(cwd)
        .env("LOSSY_CACHE", cache)
        .output()
        .expect("run lossy")
}

/// Runs the real `lossy` binary with `args` in `dir` against a local hub at
/// `endpoint` (`HF_TOKEN` set to `token`, if any), with every cache in
/// `dir`: whether it succeeded, its stdout and its stderr.
pub fn lossy_on_hub(
    dir: &Path,
    endpoint: &str,
    token: Option<&str>,
    args: &[&str],
) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lossy"));
    if let Some(t) = token {
        cmd.env("HF_TOKEN", t);
    }
    let out = cmd
        .args(args)
        .current_dir(dir)
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HUB_CACHE", dir.join("hub"))
        .env("HF_HOME", dir.join("hf-home"))
        .env("LOSSY_CACHE", dir.join(".lossy-cache"))
        .env_remove("HF_HUB_OFFLINE")
        .output()
        .expect("run lossy");
    let (o, e) = text(&out);
    (out.status.success(), o, e)
}

/// The `input_ids` of a sequence in a `reference.json` (transformers' tokens).
pub fn input_ids(seq: &serde_json::Value) -> Vec<u32> {
    seq["input_ids"]
        .as_array()
        .expect("input_ids")
        .iter()
        .map(|v| v.as_u64().expect("a token id") as u32)
        .collect()
}

pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// SplitMix64's mixer, as in the fixture script.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// unit(stream, k) = (splitmix64(splitmix64(stream) + k) >> 40) / 2^24.
pub fn unit(stream: u64, k: u64) -> f64 {
    (splitmix64(splitmix64(stream).wrapping_add(k)) >> 40) as f64 / (1u64 << 24) as f64
}

/// Every file below `dir`, recursively.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_below(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Copies every file below `from` to the same place below `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    for f in files_below(from) {
        let target = to.join(f.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&f, target).unwrap();
    }
}
